//! Delivery to targets: a bounded queue, a pool of workers, retries with backoff, and a log
//! of every attempt (served at `/_local/deliveries`). One file per kind of target.
//!
//! Delivery sits below the router: it knows targets, not rules or buses' routing. The one
//! target that must route again, an event bus, goes back up through [`BusSink`], a trait the
//! router implements, so no file here imports the router.

mod api_destination;
mod aws_call;
mod event_bus;
pub mod faults;
pub mod http;
mod invocation;
mod job;
mod lambda;
pub mod log;
mod logs;
mod outbound;
mod retry;
mod sns;
mod sqs;
mod step_functions;
mod streams;
mod universal;

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;

use tokio::sync::mpsc;

use crate::catalog::Catalog;
use crate::clock::Clock;
use crate::config::Config;
use crate::json_doc::Node;
use crate::model::event::Event;
use crate::model::{Scope, arn};
use crate::store::{Collection, Store};
use faults::Faults;
pub use invocation::{DEFAULT_INPUT, ScheduleInvocation};
pub use job::{Delivered, DeliveryJob, Failure};
use log::{DeliveryLog, DeliveryRecord};
pub use outbound::Outbound;

/// Where event-bus targets put their events: implemented by the router, which lives above
/// delivery. The error is the reason the events could not be routed (the queue retries).
pub trait BusSink: Send + Sync {
    fn put_events(
        &self,
        events: Vec<Event>,
    ) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + '_>>;
}

/// The queue's sending side, the workers' shared state and the delivery log.
pub struct Delivery {
    tx: mpsc::Sender<DeliveryJob>,
    pub outbound: Outbound,
    pub log: DeliveryLog,
    /// Failures injected by `/_local/faults`.
    pub faults: Faults,
    /// Backoff, event age and the log's times are read on it.
    clock: Clock,
    catalog: Arc<Catalog>,
    /// Set once the router exists (it is built on top of this).
    sink: OnceLock<Weak<dyn BusSink>>,
    retry_base: Duration,
    workers: usize,
    /// Every job not finished yet (queued, in flight, or waiting to be retried), so that
    /// shutdown can store them.
    pending: Mutex<HashMap<u64, DeliveryJob>>,
    next_id: AtomicU64,
    /// Set at shutdown: workers take no new job, so what is stored is exactly what was
    /// not attempted (or is waiting for a retry).
    stopping: AtomicBool,
    /// Attempts under way; shutdown waits for them before storing the rest.
    in_flight: AtomicUsize,
    /// Pending jobs that wait for their next attempt's time (not queued, not in flight).
    retry_waiting: Mutex<HashSet<u64>>,
}

/// The receiving side, handed to the workers.
pub struct Queue(mpsc::Receiver<DeliveryJob>);

impl Delivery {
    pub fn new(
        config: &Config,
        outbound: Outbound,
        catalog: Arc<Catalog>,
        clock: Clock,
    ) -> (Arc<Delivery>, Queue) {
        let (tx, rx) = mpsc::channel(config.delivery_queue.max(1));
        let delivery = Delivery {
            tx,
            outbound,
            log: DeliveryLog::new(log::CAPACITY),
            faults: Faults::default(),
            clock,
            catalog,
            sink: OnceLock::new(),
            retry_base: Duration::from_millis(config.retry_base_delay_ms),
            workers: config.delivery_workers.max(1),
            pending: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
            stopping: AtomicBool::new(false),
            in_flight: AtomicUsize::new(0),
            retry_waiting: Mutex::new(HashSet::new()),
        };
        (Arc::new(delivery), Queue(rx))
    }

    /// Where event-bus targets route their events (held weakly: the router owns delivery).
    pub fn set_bus_sink(&self, sink: Weak<dyn BusSink>) {
        if self.sink.set(sink).is_err() {
            tracing::warn!("the bus sink of delivery was already set");
        }
    }

    /// Queues a delivery, waiting for room when the queue is full.
    pub async fn enqueue(&self, mut job: DeliveryJob) {
        if job.id == 0 {
            job.id = self.next_id.fetch_add(1, Ordering::Relaxed);
        }
        self.lock_pending().insert(job.id, job.clone());
        if self.tx.send(job).await.is_err() {
            tracing::warn!("delivery queue closed; the delivery stays pending");
        }
    }

    fn lock_pending(&self) -> std::sync::MutexGuard<'_, HashMap<u64, DeliveryJob>> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn lock_waiting(&self) -> std::sync::MutexGuard<'_, HashSet<u64>> {
        self.retry_waiting.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The clock deliveries run on.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Whether `id` is still to be delivered (a reset drops pending jobs).
    fn is_pending(&self, id: u64) -> bool {
        self.lock_pending().contains_key(&id)
    }

    /// Jobs queued or being attempted now (not those waiting for a retry's time): what a
    /// move of a manual clock waits for before moving on.
    pub fn busy(&self) -> usize {
        let pending = self.lock_pending();
        let waiting = self.lock_waiting();
        pending.keys().filter(|id| !waiting.contains(id)).count()
    }

    /// Drops the pending deliveries of rules in `scope` (or all), the injected faults and
    /// the log's records with them. Attempts under way finish unrecorded.
    pub fn reset(&self, scope: Option<&Scope>) {
        let mut pending = self.lock_pending();
        pending.retain(|_, job| scope.is_some_and(|s| job.rule_scope != *s));
        self.lock_waiting().retain(|id| pending.contains_key(id));
        drop(pending);
        self.faults.reset(scope);
        self.log.clear(scope);
    }

    /// The event that `job` puts on a bus of this server, when it is an event-bus target
    /// that can take it now: the router routes it in the same call instead of queueing it.
    pub fn inline_bus_event(&self, job: &DeliveryJob) -> Option<Event> {
        if self.faults.active() {
            // Through the queue, where injected faults apply.
            return None;
        }
        event_bus::inline_event(&self.catalog, job)
    }

    /// Records a delivery made without the queue (`inline_bus_event`) in the delivery log.
    pub fn record_inline(&self, job: &DeliveryJob) {
        self.log.push(succeeded_record(job, self.clock.now_ms()));
    }

    /// A job reached its final outcome.
    fn finished(&self, id: u64) {
        self.lock_pending().remove(&id);
    }

    /// Stops the workers and waits (at most the request timeout) for the attempts under
    /// way, so that none is both finished now and stored to run again at the next start.
    pub async fn stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        let deadline = tokio::time::Instant::now() + http::REQUEST_TIMEOUT;
        while self.in_flight.load(Ordering::SeqCst) > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Stores every unfinished delivery (at shutdown); returns how many.
    pub fn persist_pending(&self, store: &Store) -> usize {
        let pending = self.lock_pending();
        for (id, job) in pending.iter() {
            if let Err(e) = store.put(Collection::PendingDeliveries, &format!("{id:016x}"), job) {
                tracing::error!(error = %e, "storing a pending delivery failed");
            }
        }
        pending.len()
    }

    /// Queues again the deliveries stored at the last shutdown.
    pub fn resume_pending(self: &Arc<Self>, store: &Store) {
        let jobs: Vec<DeliveryJob> = match store.load(Collection::PendingDeliveries) {
            Ok(jobs) => jobs,
            Err(e) => {
                tracing::error!(error = %e, "reading pending deliveries failed");
                return;
            }
        };
        if jobs.is_empty() {
            return;
        }
        if let Err(e) = store.clear(Collection::PendingDeliveries) {
            tracing::error!(error = %e, "clearing pending deliveries failed");
        }
        tracing::info!(
            count = jobs.len(),
            "resuming deliveries pending at the last shutdown"
        );
        let delivery = self.clone();
        tokio::spawn(async move {
            for job in jobs {
                delivery.enqueue(job).await;
            }
        });
    }

    /// Starts the worker pool on the queue. Workers hold delivery weakly: when the server
    /// drops it, the queue closes and they end.
    pub fn spawn_workers(self: &Arc<Self>, queue: Queue) {
        let rx = Arc::new(tokio::sync::Mutex::new(queue.0));
        for _ in 0..self.workers {
            let weak = Arc::downgrade(self);
            let rx = rx.clone();
            tokio::spawn(async move {
                loop {
                    let job = { rx.lock().await.recv().await };
                    let Some(job) = job else { break };
                    let Some(delivery) = weak.upgrade() else {
                        break;
                    };
                    if delivery.stopping.load(Ordering::SeqCst) {
                        // Still in the pending set: it is stored and runs at the next start.
                        break;
                    }
                    if !delivery.is_pending(job.id) {
                        // Dropped by a reset while it waited in the queue.
                        continue;
                    }
                    delivery.in_flight.fetch_add(1, Ordering::SeqCst);
                    delivery.attempt(job).await;
                    delivery.in_flight.fetch_sub(1, Ordering::SeqCst);
                }
            });
        }
    }

    async fn attempt(self: &Arc<Self>, mut job: DeliveryJob) {
        let started = self.clock.now_ms();
        // A schedule's input may name the attempt number.
        if let Some(invocation) = job.schedule.as_ref().filter(|s| s.varies_by_attempt()) {
            job.body = Arc::from(invocation.payload(job.attempt));
        }
        let injected = self.faults.take(&job, started);
        let was_injected = injected.is_some();
        let result = match injected {
            Some(failure) => Err(failure),
            None => self.deliver(&job).await,
        };
        if !self.is_pending(job.id) {
            // A reset dropped it while it was under way: nothing to record or retry.
            return;
        }
        let mut record = succeeded_record(&job, started);
        record.injected = was_injected;
        record.finished_ms = self.clock.now_ms();
        match result {
            Ok(delivered) => record.status = delivered.status,
            Err(failure) => {
                record.status = failure.status;
                record.error = Some(failure.reason.clone());
                let exhausted = retry::exhausted(&job, self.clock.now_ms());
                if failure.retryable && exhausted.is_none() {
                    record.outcome = "retrying";
                    self.log.push(record);
                    self.schedule_retry(job);
                    return;
                }
                record.outcome = "failed";
                tracing::warn!(
                    event_id = %record.event_id,
                    rule = %record.rule_arn,
                    target = %record.target_arn,
                    attempt = record.attempt,
                    reason = %failure.reason,
                    "delivery failed"
                );
                let bus_queue = self.bus_dead_letter_arn(&job);
                if retry::dead_letter(
                    &self.outbound,
                    &job,
                    &failure,
                    exhausted,
                    bus_queue.as_deref(),
                )
                .await
                {
                    record.outcome = "dead-lettered";
                }
            }
        }
        self.finished(job.id);
        self.log.push(record);
    }

    /// The dead-letter queue of the bus whose rule made `job`, for targets without their own
    /// (read now, so that an UpdateEventBus applies to deliveries already under way).
    fn bus_dead_letter_arn(&self, job: &DeliveryJob) -> Option<String> {
        if job.target.dead_letter_arn().is_some() {
            return None;
        }
        let (scope, bus, _) = arn::parse_rule(&job.rule_arn)?;
        let bus = self.catalog.bus(&scope, &bus).ok()?;
        bus.dead_letter_arn().map(str::to_string)
    }

    /// The next attempt after a backoff on the clock, in the background so workers keep
    /// going. The wait is registered before this returns (a manual clock moved right
    /// after sees it).
    fn schedule_retry(self: &Arc<Self>, mut job: DeliveryJob) {
        let delay = retry::backoff(self.retry_base, job.attempt);
        job.attempt += 1;
        self.lock_waiting().insert(job.id);
        let due = self.clock.sleep(delay);
        let delivery = Arc::downgrade(self);
        tokio::spawn(async move {
            let wake = due.await;
            if let Some(delivery) = delivery.upgrade() {
                delivery.lock_waiting().remove(&job.id);
                if delivery.is_pending(job.id) {
                    delivery.enqueue(job).await;
                }
            }
            // Queued: whoever moved the clock may go on.
            drop(wake);
        });
    }

    /// One attempt at one target, by the kind its ARN names.
    async fn deliver(&self, job: &DeliveryJob) -> Result<Delivered, Failure> {
        let out = &self.outbound;
        let target_arn = job.target.arn();
        let Some(parsed) = arn::parse(target_arn) else {
            return Err(Failure::permanent(format!("not an ARN: {target_arn}")));
        };
        match parsed.service {
            "lambda" => lambda::invoke(out, job, &parsed).await,
            "sqs" => sqs::send_message(out, job, &parsed).await,
            "sns" => sns::publish(out, job, &parsed).await,
            "kinesis" => streams::kinesis_put_record(out, job, &parsed).await,
            "firehose" => streams::firehose_put_record(out, job, &parsed).await,
            "states" => step_functions::start_execution(out, job, &parsed).await,
            "logs" => logs::put_log_event(out, job, &parsed).await,
            "events" if parsed.resource.starts_with("api-destination/") => {
                api_destination::invoke(out, job, &parsed).await
            }
            "events" if parsed.resource.starts_with("event-bus/") => {
                let Some(sink) = self.sink.get().and_then(Weak::upgrade) else {
                    return Err(Failure::transient("the server is shutting down"));
                };
                event_bus::put(&self.catalog, sink.as_ref(), job)
                    .await
                    .map(|_| Delivered::default())
            }
            "scheduler" if parsed.resource.starts_with("aws-sdk:") => {
                universal::invoke(out, job, &parsed).await
            }
            _ => Err(Failure::permanent(format!(
                "target type not supported by eventbridge-local: {target_arn}"
            ))),
        }
    }
}

/// The log record of an attempt of `job` started at `started_ms` and finished when it
/// started (callers note a later end, and failures, on it), as a success.
fn succeeded_record(job: &DeliveryJob, started_ms: i64) -> DeliveryRecord {
    // The event's text read once (not into a `Value`) for the two fields the log shows.
    let doc = job
        .envelope
        .is_none()
        .then(|| Node::parse(&job.event).ok())
        .flatten();
    let field = |key: &str| -> String {
        match (&job.envelope, &doc) {
            (Some(envelope), _) => envelope
                .get(key)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string(),
            (None, Some(doc)) => doc.str_field(key).to_string(),
            (None, None) => String::new(),
        }
    };
    DeliveryRecord {
        event_id: job.event_id.clone(),
        rule_arn: job.rule_arn.clone(),
        target_id: job.target.id().to_string(),
        target_arn: job.target.arn().to_string(),
        source: field("source"),
        detail_type: field("detail-type"),
        attempt: job.attempt,
        outcome: "succeeded",
        injected: false,
        status: None,
        error: None,
        started_ms,
        finished_ms: started_ms,
    }
}
