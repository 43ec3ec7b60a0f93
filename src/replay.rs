//! Replays in the background: walk an archive's window in event-time order, one-minute slice
//! by slice, re-inject each event with `replay-name` into the bus for the chosen rules, and
//! advance `EventLastReplayedTime` past every slice routed whole (stored at most every 100 ms
//! while running, exactly at the end), so that a stopped replay resumes there.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use crate::catalog::RuleFilter;
use crate::error::ApiError;
use crate::model::event::{Event, splice_replay_name};
use crate::model::{ReplayState, Scope, arn};
use crate::router::Router;

/// AWS replays archives in one-minute slices of event time.
pub const SLICE_MS: i64 = 60_000;
/// Events re-injected per routing call.
const BATCH: usize = 256;

struct Control {
    cancel: AtomicBool,
    stop: AtomicBool,
    /// Event time of the last event routed (`i64::MIN`: none yet). Every archived event
    /// before it has been routed, so a cancelled or failed replay reports it as
    /// EventLastReplayedTime: a new replay starting there misses nothing.
    last_event_ms: AtomicI64,
}

impl Default for Control {
    fn default() -> Control {
        Control {
            cancel: AtomicBool::new(false),
            stop: AtomicBool::new(false),
            last_event_ms: AtomicI64::new(i64::MIN),
        }
    }
}

impl Control {
    fn last_event_ms(&self) -> Option<i64> {
        Some(self.last_event_ms.load(Ordering::SeqCst)).filter(|t| *t != i64::MIN)
    }

    fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::SeqCst)
    }
}

/// The replays running in this process.
pub struct Replays {
    router: Arc<Router>,
    /// Events per second of each replay; 0 for no cap.
    max_events_per_second: u64,
    /// How long after StartReplay a replay may report COMPLETED at the soonest.
    min_duration_ms: i64,
    running: Mutex<HashMap<(Scope, String), Arc<Control>>>,
}

impl Replays {
    pub fn new(
        router: Arc<Router>,
        max_events_per_second: u64,
        min_duration_ms: u64,
    ) -> Arc<Replays> {
        Arc::new(Replays {
            router,
            max_events_per_second,
            min_duration_ms: min_duration_ms.min(i64::MAX as u64) as i64,
            running: Mutex::new(HashMap::new()),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(Scope, String), Arc<Control>>> {
        self.running.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts the worker of a stored replay.
    pub fn start(self: &Arc<Self>, scope: Scope, name: String) {
        let replays = self.clone();
        let control = Arc::new(Control::default());
        self.lock()
            .insert((scope.clone(), name.clone()), control.clone());
        tokio::spawn(async move {
            let router = &replays.router;
            let pace = Pace::new(replays.max_events_per_second);
            let min_duration = replays.min_duration_ms;
            if let Err(e) = run(router, &scope, &name, &control, pace, min_duration).await {
                tracing::error!(replay = %name, error = %e, "replay failed");
                let last_event = control.last_event_ms();
                let _ = router.catalog.update_replay(&scope, &name, |r| {
                    if last_event.is_some() {
                        r.event_last_replayed_ms = last_event;
                    }
                    r.state = ReplayState::Failed;
                    r.state_reason = Some(e.message.clone());
                    r.replay_end_ms = Some(router.delivery.clock().now_ms());
                    Ok(())
                });
            }
            replays.lock().remove(&(scope, name));
        });
    }

    /// Asks a running replay to stop at the next event; it then becomes CANCELLED.
    pub fn cancel(&self, scope: &Scope, name: &str) {
        if let Some(control) = self.lock().get(&(scope.clone(), name.to_string())) {
            control.cancel.store(true, Ordering::SeqCst);
        }
    }

    /// Server shutdown: workers stop where they are and resume at the next start.
    pub fn stop_all(&self) {
        for control in self.lock().values() {
            control.stop.store(true, Ordering::SeqCst);
        }
    }

    /// Stops the replays of `scope` (or all) and waits, at most `limit`, until their workers
    /// are gone (a reset removes the replays next).
    pub async fn stop_and_wait(&self, scope: Option<&Scope>, limit: std::time::Duration) {
        let ours = |key: &(Scope, String)| scope.is_none_or(|s| key.0 == *s);
        for (key, control) in self.lock().iter() {
            if ours(key) {
                control.stop.store(true, Ordering::SeqCst);
            }
        }
        let deadline = tokio::time::Instant::now() + limit;
        while self.lock().keys().any(ours) && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    }

    /// Restarts the replays that were in progress when the server stopped.
    pub fn resume_all(self: &Arc<Self>) {
        for replay in self.router.catalog.all_replays() {
            if replay.state.is_active() {
                tracing::info!(replay = %replay.name, "resuming replay");
                self.start(replay.scope.clone(), replay.name.clone());
            }
        }
    }
}

async fn run(
    router: &Arc<Router>,
    scope: &Scope,
    name: &str,
    control: &Control,
    mut pace: Pace,
    min_duration_ms: i64,
) -> Result<(), ApiError> {
    let replay = router.catalog.update_replay(scope, name, |r| {
        if r.state == ReplayState::Starting {
            r.state = ReplayState::Running;
        }
        Ok(())
    })?;
    let archive_name = arn::parse_archive(&replay.event_source_arn)
        .map(|(_, n)| n)
        .unwrap_or_default();
    let Some(archive) = router.catalog.archive(scope, &archive_name) else {
        return Err(ApiError::validation(format!(
            "Archive {archive_name} does not exist."
        )));
    };
    let (bus_scope, bus) = arn::parse_event_bus(&replay.destination_arn)
        .ok_or_else(|| ApiError::validation("Destination is not an event bus."))?;
    let target = Arc::new(Destination {
        scope: bus_scope,
        bus,
        filter: replay.filter_arns.clone(),
    });
    let mut pipeline = Pipeline::new(&control.last_event_ms);
    let end = replay.event_end_ms;
    let mut cursor = replay
        .event_last_replayed_ms
        .unwrap_or(replay.event_start_ms);
    let mut progress = Progress::new(cursor);

    while cursor < end {
        if replay_state(router, scope, name) == Some(ReplayState::Cancelling) {
            control.cancel.store(true, Ordering::SeqCst);
        }
        if control.cancel.load(Ordering::SeqCst) || control.stop.load(Ordering::SeqCst) {
            break;
        }
        if router
            .catalog
            .archive(scope, &archive_name)
            .is_none_or(|a| a.archive.uid != archive.archive.uid)
        {
            return Err(ApiError::validation(format!(
                "Archive {archive_name} was deleted during the replay."
            )));
        }
        // Skip empty stretches in one step: jump to the slice of the next archived event.
        let next_event = router
            .store
            .first_event_time(archive.archive.uid, cursor, end);
        let Some(next_time) = next_event else {
            break;
        };
        let slice_start = cursor + (next_time - cursor) / SLICE_MS * SLICE_MS;
        let slice_end = (slice_start + SLICE_MS).min(end);
        let mut batch = Vec::with_capacity(BATCH);
        let mut whole_slice = true;
        for item in router
            .store
            .scan_events(archive.archive.uid, slice_start, slice_end)
        {
            if control.cancel.load(Ordering::Relaxed) || control.stop.load(Ordering::Relaxed) {
                whole_slice = false;
                break;
            }
            let (time_ms, body) = item.map_err(ApiError::storage)?;
            let text = std::str::from_utf8(&body).ok();
            let Some(spliced) = text.and_then(|t| splice_replay_name(t, name)) else {
                tracing::warn!(replay = %name, "skipping an unreadable archived event");
                continue;
            };
            batch.push((time_ms, spliced));
            if batch.len() >= pace.batch_size() {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                pipeline.push(router, &target, full, None).await?;
                pace.done(pipeline.sent).await;
                // Live PutEvents traffic goes first.
                tokio::task::yield_now().await;
            }
        }
        if !whole_slice {
            // The slice was not finished: EventLastReplayedTime stays at its start.
            break;
        }
        // The slice counts as replayed once its last batch (and all before it) are routed.
        pipeline
            .push(router, &target, batch, Some(slice_end))
            .await?;
        pace.done(pipeline.sent).await;
        cursor = slice_end;
        pipeline.reap().await?;
        progress.save_now_and_then(router, scope, name, pipeline.replayed_until)?;
    }
    pipeline.finish().await?;
    progress.save(router, scope, name, pipeline.replayed_until)?;
    if control.stop.load(Ordering::SeqCst) && !control.cancel.load(Ordering::SeqCst) {
        // Server shutdown: the replay resumes from EventLastReplayedTime at the next start.
        router.store.flush().await.map_err(ApiError::storage)?;
        return Ok(());
    }
    if !control.cancelled() {
        let until = replay.replay_start_ms.saturating_add(min_duration_ms);
        hold_until(router, scope, name, control, until).await;
    }
    let cancelled = control.cancelled();
    let last_event = control.last_event_ms();
    router.catalog.update_replay(scope, name, |r| {
        r.state = if cancelled {
            // Where a new replay continues: the last event replayed, or the progress
            // stored before a restart when nothing was replayed since.
            if last_event.is_some() {
                r.event_last_replayed_ms = last_event;
            }
            ReplayState::Cancelled
        } else {
            // A replay that replayed nothing has no EventLastReplayedTime (as on AWS).
            if last_event.is_some() || r.event_last_replayed_ms.is_some() {
                r.event_last_replayed_ms = Some(end);
            }
            ReplayState::Completed
        };
        r.replay_end_ms = Some(router.delivery.clock().now_ms());
        Ok(())
    })?;
    router.store.flush().await.map_err(ApiError::storage)?;
    Ok(())
}

/// Writes EventLastReplayedTime as slices complete, at most every `EVERY` while a replay
/// runs (a replay of many sparse slices would otherwise spend its time storing it), and
/// exactly at the end.
struct Progress {
    saved: i64,
    at: std::time::Instant,
}

impl Progress {
    const EVERY: std::time::Duration = std::time::Duration::from_millis(100);

    fn new(saved: i64) -> Progress {
        let now = std::time::Instant::now();
        Progress {
            saved,
            at: now.checked_sub(Self::EVERY).unwrap_or(now),
        }
    }

    fn save_now_and_then(
        &mut self,
        router: &Router,
        scope: &Scope,
        name: &str,
        until: Option<i64>,
    ) -> Result<(), ApiError> {
        if self.at.elapsed() < Self::EVERY {
            return Ok(());
        }
        self.save(router, scope, name, until)
    }

    fn save(
        &mut self,
        router: &Router,
        scope: &Scope,
        name: &str,
        until: Option<i64>,
    ) -> Result<(), ApiError> {
        self.at = std::time::Instant::now();
        match until {
            Some(until) if until > self.saved => {
                self.saved = until;
                router.catalog.update_replay(scope, name, |r| {
                    r.event_last_replayed_ms = Some(until);
                    Ok(())
                })?;
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

/// Keeps a replay at or under a rate (events per second); no limit when the rate is 0.
struct Pace {
    rate: u64,
    started: tokio::time::Instant,
    sent: u64,
}

impl Pace {
    fn new(rate: u64) -> Pace {
        Pace {
            rate,
            started: tokio::time::Instant::now(),
            sent: 0,
        }
    }

    fn batch_size(&self) -> usize {
        match self.rate {
            0 => BATCH,
            rate => (rate as usize).clamp(1, BATCH),
        }
    }

    /// `sent`: events handed on so far in all.
    async fn done(&mut self, sent: u64) {
        self.sent = sent;
        if self.rate == 0 {
            return;
        }
        let due =
            self.started + std::time::Duration::from_secs_f64(self.sent as f64 / self.rate as f64);
        tokio::time::sleep_until(due).await;
    }
}

/// Where a replay's events go.
struct Destination {
    scope: Scope,
    bus: String,
    filter: Option<Vec<String>>,
}

type BatchTask = tokio::task::JoinHandle<Result<(), ApiError>>;

/// Parses and routes batches of a slice on several tasks at once, so that a replay uses every
/// core: AWS does not promise order within a slice ("Events are not necessarily replayed in
/// the exact same order that they were added to the archive", StartReplay), only slice after
/// slice, which `finish` keeps.
struct Pipeline<'a> {
    /// Batches being routed, oldest first, each with the end of its slice if it is the
    /// slice's last batch.
    running: std::collections::VecDeque<(BatchTask, Option<i64>, Option<i64>)>,
    limit: usize,
    sent: u64,
    /// Every slice before this time has been routed whole.
    replayed_until: Option<i64>,
    /// The replay's [`Control::last_event_ms`], raised as batches finish.
    last_event_ms: &'a AtomicI64,
}

impl<'a> Pipeline<'a> {
    fn new(last_event_ms: &'a AtomicI64) -> Pipeline<'a> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Pipeline {
            running: Default::default(),
            limit: cores.clamp(1, 4),
            sent: 0,
            replayed_until: None,
            last_event_ms,
        }
    }

    async fn push(
        &mut self,
        router: &Arc<Router>,
        target: &Arc<Destination>,
        batch: Vec<(i64, String)>,
        slice_end: Option<i64>,
    ) -> Result<(), ApiError> {
        self.sent += batch.len() as u64;
        let last_time = batch.last().map(|(time, _)| *time);
        if router.has_live_traffic() {
            // Live PutEvents keep a core: this batch is routed here, after the ones under way,
            // in small steps that each give the worker back (a whole batch on each core held
            // live requests for milliseconds).
            self.finish().await?;
            route_in_steps(router, target, batch).await?;
            if let Some(time) = last_time {
                self.last_event_ms.fetch_max(time, Ordering::SeqCst);
            }
            if slice_end.is_some() {
                self.replayed_until = slice_end;
            }
            return Ok(());
        }
        while self.running.len() >= self.limit {
            self.wait_oldest().await?;
        }
        let router = router.clone();
        let target = target.clone();
        let task = tokio::spawn(async move { route_batch(&router, &target, batch).await });
        self.running.push_back((task, slice_end, last_time));
        Ok(())
    }

    async fn wait_oldest(&mut self) -> Result<(), ApiError> {
        let Some((task, slice_end, last_time)) = self.running.pop_front() else {
            return Ok(());
        };
        task.await
            .map_err(|e| ApiError::internal(format!("replay task failed: {e}")))??;
        if let Some(time) = last_time {
            // Batches are taken in scan (event-time) order, oldest first.
            self.last_event_ms.fetch_max(time, Ordering::SeqCst);
        }
        if slice_end.is_some() {
            self.replayed_until = slice_end;
        }
        Ok(())
    }

    /// Takes in the batches already routed, oldest first.
    async fn reap(&mut self) -> Result<(), ApiError> {
        while self
            .running
            .front()
            .is_some_and(|(task, _, _)| task.is_finished())
        {
            self.wait_oldest().await?;
        }
        Ok(())
    }

    async fn finish(&mut self) -> Result<(), ApiError> {
        while !self.running.is_empty() {
            self.wait_oldest().await?;
        }
        Ok(())
    }
}

/// Events routed at a time, between yields, while live traffic runs.
const LIVE_STEP: usize = 16;

async fn route_in_steps(
    router: &Router,
    target: &Destination,
    mut batch: Vec<(i64, String)>,
) -> Result<(), ApiError> {
    while !batch.is_empty() {
        let rest = batch.split_off(batch.len().min(LIVE_STEP));
        route_batch(router, target, batch).await?;
        tokio::task::yield_now().await;
        batch = rest;
    }
    Ok(())
}

async fn route_batch(
    router: &Router,
    target: &Destination,
    batch: Vec<(i64, String)>,
) -> Result<(), ApiError> {
    // The router reads each text for the rules (and skips one that is not JSON).
    let events: Vec<Event> = batch
        .into_iter()
        .map(|(time_ms, text)| {
            Event::from_body(
                target.scope.clone(),
                target.bus.clone(),
                time_ms,
                Arc::from(text),
                0,
            )
        })
        .collect();
    router
        .ingest(&events, RuleFilter::Replay(target.filter.as_deref()))
        .await
}

/// Waits until `until` (ms on the server's clock) unless the replay is cancelled first: a
/// replay that finished its work sooner still looks in progress that long (see
/// `--replay-min-duration-ms`). The wait itself is real time, so that a manual clock
/// standing still does not keep a replay running.
async fn hold_until(router: &Router, scope: &Scope, name: &str, control: &Control, until: i64) {
    let left = until
        .saturating_sub(router.delivery.clock().now_ms())
        .max(0) as u64;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_millis(left);
    loop {
        let now = tokio::time::Instant::now();
        if now >= deadline {
            return;
        }
        if replay_state(router, scope, name) == Some(ReplayState::Cancelling) {
            control.cancel.store(true, Ordering::SeqCst);
        }
        if control.cancelled() || control.stop.load(Ordering::SeqCst) {
            return;
        }
        let step = (deadline - now).min(std::time::Duration::from_millis(20));
        tokio::time::sleep(step).await;
    }
}

fn replay_state(router: &Router, scope: &Scope, name: &str) -> Option<ReplayState> {
    router.catalog.replay(scope, name).ok().map(|r| r.state)
}
