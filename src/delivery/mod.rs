//! Delivery to targets: a bounded queue, a pool of workers, retries with backoff, and a log
//! of every attempt (served at `/_local/deliveries`). One file per kind of target.

mod api_destination;
mod aws_call;
mod event_bus;
pub mod http;
mod lambda;
pub mod log;
mod logs;
mod sns;
mod sqs;
mod step_functions;
mod streams;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::Rng;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use crate::app::App;
use crate::catalog::CompiledRule;
use crate::config::{Config, Endpoints};
use crate::model::time::now_ms;
use crate::model::{Scope, Target, arn};
use crate::router::Event;
use crate::store::{Collection, Store};
use http::HttpClient;
use log::{DeliveryLog, DeliveryRecord};

/// AWS's defaults when a target has no RetryPolicy.
const DEFAULT_MAX_RETRIES: u32 = 185;
const DEFAULT_MAX_AGE_SECS: i64 = 86_400;
/// Backoff never waits longer than this between attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// One event for one target. Serializable: the deliveries still pending at shutdown are
/// stored and resume at the next start.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeliveryJob {
    /// Identifies the job while it is pending in this process.
    #[serde(skip)]
    pub id: u64,
    pub event_id: String,
    /// What the target receives.
    pub body: Arc<str>,
    /// The event itself (bus-to-bus deliveries forward it whatever the input settings).
    pub event: Arc<str>,
    /// The same, parsed, while in this process (bus-to-bus deliveries route it as is).
    #[serde(skip)]
    pub envelope: Option<Arc<serde_json::Value>>,
    pub time_ms: i64,
    pub rule_arn: String,
    pub rule_scope: Scope,
    pub target: Arc<Target>,
    pub hops: u8,
    pub attempt: u32,
    pub first_attempt_ms: i64,
}

impl DeliveryJob {
    /// A delivery of `payload` (the event, or what the target's input transformation made
    /// of it) to `target`.
    pub fn new(
        event: &Event,
        rule: &CompiledRule,
        target: Arc<Target>,
        payload: Arc<str>,
    ) -> DeliveryJob {
        DeliveryJob {
            id: 0,
            event_id: event
                .envelope
                .get("id")
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string(),
            body: payload,
            event: event.body.clone(),
            envelope: Some(event.envelope.clone()),
            time_ms: event.time_ms,
            rule_arn: rule.arn.clone(),
            rule_scope: rule.rule.scope.clone(),
            target,
            hops: event.hops,
            attempt: 1,
            first_attempt_ms: now_ms(),
        }
    }
}

/// What a target answered to a successful attempt.
#[derive(Debug, Default)]
pub struct Delivered {
    pub status: Option<u16>,
    pub body: bytes::Bytes,
}

/// Why one attempt failed, and whether another may succeed.
#[derive(Debug)]
pub struct Failure {
    pub retryable: bool,
    pub status: Option<u16>,
    pub reason: String,
}

impl Failure {
    pub fn permanent(reason: impl Into<String>) -> Failure {
        Failure {
            retryable: false,
            status: None,
            reason: reason.into(),
        }
    }

    /// Classifies an HTTP answer as AWS does: throttling and server errors are retried.
    pub fn from_status(status: u16, body: &[u8]) -> Failure {
        Failure {
            retryable: status == 429 || status >= 500,
            status: Some(status),
            reason: String::from_utf8_lossy(&body[..body.len().min(512)]).into_owned(),
        }
    }

    /// The `ERROR_CODE` attribute of a dead-lettered event.
    fn error_code(&self) -> &'static str {
        match self.status {
            None => "SDK_CLIENT_ERROR",
            Some(404) => "RESOURCE_NOT_FOUND",
            Some(401 | 403) => "NO_PERMISSIONS",
            Some(429) => "THROTTLING",
            Some(s) if s >= 500 => "INTERNAL_ERROR",
            Some(_) => "CLIENT_ERROR",
        }
    }
}

/// The sending side of the queue, shared by request handlers and replays.
pub struct Delivery {
    tx: mpsc::Sender<DeliveryJob>,
    pub client: HttpClient,
    pub endpoints: Endpoints,
    pub log: DeliveryLog,
    retry_base: Duration,
    workers: usize,
    warned_services: Mutex<HashSet<String>>,
    /// Every job not finished yet (queued, in flight, or waiting to be retried), so that
    /// shutdown can store them.
    pending: Mutex<HashMap<u64, DeliveryJob>>,
    next_id: AtomicU64,
    /// Set at shutdown: workers take no new job, so what is stored is exactly what was
    /// not attempted (or is waiting for a retry).
    stopping: std::sync::atomic::AtomicBool,
    /// Attempts under way; shutdown waits for them before storing the rest.
    in_flight: std::sync::atomic::AtomicUsize,
}

/// The receiving side, handed to the workers.
pub struct Queue(mpsc::Receiver<DeliveryJob>);

impl Delivery {
    pub fn new(config: &Config) -> (Delivery, Queue) {
        let (tx, rx) = mpsc::channel(config.delivery_queue.max(1));
        (
            Delivery {
                tx,
                client: HttpClient::new(),
                endpoints: config.endpoint_table(),
                log: DeliveryLog::new(log::CAPACITY),
                retry_base: Duration::from_millis(config.retry_base_delay_ms),
                workers: config.delivery_workers.max(1),
                warned_services: Mutex::new(HashSet::new()),
                pending: Mutex::new(HashMap::new()),
                next_id: AtomicU64::new(1),
                stopping: Default::default(),
                in_flight: Default::default(),
            },
            Queue(rx),
        )
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

    /// Records a delivery made without the queue (`inline_bus_event`) in the delivery log.
    pub fn record_inline(&self, job: &DeliveryJob) {
        self.log.push(succeeded_record(job, now_ms()));
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
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
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

    /// The endpoint of `service`, or a failure naming the variable to set (logged once).
    pub fn endpoint(&self, service: &str) -> Result<String, Failure> {
        match self.endpoints.get(service) {
            Some(url) => Ok(url.to_string()),
            None => {
                let variable = Endpoints::variable_for(service);
                let mut warned = self
                    .warned_services
                    .lock()
                    .unwrap_or_else(|e| e.into_inner());
                if warned.insert(service.to_string()) {
                    tracing::warn!(
                        "no endpoint for {service} targets: set {variable} (or AWS_ENDPOINT_URL, or --endpoint {service}=URL)"
                    );
                }
                Err(Failure::permanent(format!(
                    "no endpoint configured for {service}: set {variable} or AWS_ENDPOINT_URL"
                )))
            }
        }
    }
}

pub use event_bus::inline_event as inline_bus_event;

/// Queues again the deliveries stored at the last shutdown.
pub fn resume_pending(app: &Arc<App>) {
    let jobs: Vec<DeliveryJob> = match app.store.load(Collection::PendingDeliveries) {
        Ok(jobs) => jobs,
        Err(e) => {
            tracing::error!(error = %e, "reading pending deliveries failed");
            return;
        }
    };
    if jobs.is_empty() {
        return;
    }
    if let Err(e) = app.store.clear(Collection::PendingDeliveries) {
        tracing::error!(error = %e, "clearing pending deliveries failed");
    }
    tracing::info!(
        count = jobs.len(),
        "resuming deliveries pending at the last shutdown"
    );
    let app = app.clone();
    tokio::spawn(async move {
        for job in jobs {
            app.delivery.enqueue(job).await;
        }
    });
}

/// Starts the worker pool on the queue. Workers hold the app weakly: when the app is
/// dropped, the queue closes and they end.
pub fn spawn_workers(app: &Arc<App>, queue: Queue) {
    let rx = Arc::new(tokio::sync::Mutex::new(queue.0));
    for _ in 0..app.delivery.workers {
        let weak = Arc::downgrade(app);
        let rx = rx.clone();
        tokio::spawn(async move {
            loop {
                let job = { rx.lock().await.recv().await };
                let Some(job) = job else { break };
                let Some(app) = weak.upgrade() else { break };
                if app.delivery.stopping.load(Ordering::SeqCst) {
                    // Still in the pending set: it is stored and runs at the next start.
                    break;
                }
                app.delivery.in_flight.fetch_add(1, Ordering::SeqCst);
                attempt(&app, job).await;
                app.delivery.in_flight.fetch_sub(1, Ordering::SeqCst);
            }
        });
    }
}

/// The log record of an attempt of `job` started at `started_ms` and finished now, as a
/// success (callers note failures on it).
fn succeeded_record(job: &DeliveryJob, started_ms: i64) -> DeliveryRecord {
    DeliveryRecord {
        event_id: job.event_id.clone(),
        rule_arn: job.rule_arn.clone(),
        target_id: job.target.id().to_string(),
        target_arn: job.target.arn().to_string(),
        attempt: job.attempt,
        outcome: "succeeded",
        status: None,
        error: None,
        started_ms,
        finished_ms: now_ms(),
    }
}

async fn attempt(app: &Arc<App>, job: DeliveryJob) {
    let started = now_ms();
    let result = deliver(app, &job).await;
    let mut record = succeeded_record(&job, started);
    match result {
        Ok(delivered) => record.status = delivered.status,
        Err(failure) => {
            record.status = failure.status;
            record.error = Some(failure.reason.clone());
            let exhausted = retry_exhausted(&job);
            if failure.retryable && exhausted.is_none() {
                record.outcome = "retrying";
                app.delivery.log.push(record);
                schedule_retry(app, job, app.delivery.retry_base);
                return;
            } else {
                record.outcome = "failed";
                tracing::warn!(
                    event_id = %record.event_id,
                    rule = %record.rule_arn,
                    target = %record.target_arn,
                    attempt = record.attempt,
                    reason = %failure.reason,
                    "delivery failed"
                );
                if dead_letter(app, &job, &failure, exhausted).await {
                    record.outcome = "dead-lettered";
                }
            }
        }
    }
    app.delivery.finished(job.id);
    app.delivery.log.push(record);
}

/// Sends a finally failed event to the target's dead-letter queue, with the message
/// attributes AWS sets. Returns whether it went there.
async fn dead_letter(
    app: &App,
    job: &DeliveryJob,
    failure: &Failure,
    exhausted: Option<&'static str>,
) -> bool {
    let Some(dlq_arn) = job
        .target
        .0
        .get("DeadLetterConfig")
        .and_then(|d| d.get("Arn"))
        .and_then(|a| a.as_str())
    else {
        return false;
    };
    let Some(parsed) = arn::parse(dlq_arn).filter(|p| p.service == "sqs") else {
        tracing::warn!(dlq = %dlq_arn, "dead-letter queue is not an SQS queue ARN");
        return false;
    };
    let mut attributes = vec![
        ("RULE_ARN", job.rule_arn.clone()),
        ("TARGET_ARN", job.target.arn().to_string()),
        ("ERROR_CODE", failure.error_code().to_string()),
        ("ERROR_MESSAGE", failure.reason.clone()),
        ("RETRY_ATTEMPTS", (job.attempt - 1).to_string()),
    ];
    if let Some(condition) = exhausted {
        attributes.push(("EXHAUSTED_RETRY_CONDITION", condition.to_string()));
    }
    match sqs::send(app, &parsed, &job.event, None, &attributes).await {
        Ok(_) => true,
        Err(e) => {
            tracing::warn!(dlq = %dlq_arn, reason = %e.reason, "sending to the dead-letter queue failed");
            false
        }
    }
}

fn retry_policy(target: &Target) -> (u32, i64) {
    let policy = target.0.get("RetryPolicy");
    let get = |k: &str| policy.and_then(|p| p.get(k)).and_then(|v| v.as_i64());
    (
        get("MaximumRetryAttempts").map_or(DEFAULT_MAX_RETRIES, |v| v.max(0) as u32),
        get("MaximumEventAgeInSeconds").unwrap_or(DEFAULT_MAX_AGE_SECS),
    )
}

/// Which limit of the retry policy stops further attempts, if one does.
fn retry_exhausted(job: &DeliveryJob) -> Option<&'static str> {
    let (max_retries, max_age_secs) = retry_policy(&job.target);
    if job.attempt > max_retries {
        Some("MaximumRetryAttempts")
    } else if now_ms() - job.first_attempt_ms >= max_age_secs * 1000 {
        Some("MaximumEventAgeInSeconds")
    } else {
        None
    }
}

/// Exponential backoff with full jitter, in the background so workers keep going.
fn schedule_retry(app: &Arc<App>, mut job: DeliveryJob, base: Duration) {
    let exp = base
        .saturating_mul(1u32 << job.attempt.min(16))
        .min(MAX_BACKOFF);
    let delay = exp.mul_f64(rand::thread_rng().gen_range(0.5..=1.0));
    job.attempt += 1;
    let app = Arc::downgrade(app);
    tokio::spawn(async move {
        tokio::time::sleep(delay).await;
        if let Some(app) = app.upgrade() {
            app.delivery.enqueue(job).await;
        }
    });
}

/// One attempt at one target, by the kind its ARN names.
async fn deliver(app: &App, job: &DeliveryJob) -> Result<Delivered, Failure> {
    let target_arn = job.target.arn();
    let Some(parsed) = arn::parse(target_arn) else {
        return Err(Failure::permanent(format!("not an ARN: {target_arn}")));
    };
    match parsed.service {
        "lambda" => lambda::invoke(app, job, &parsed).await,
        "sqs" => sqs::send_message(app, job, &parsed).await,
        "sns" => sns::publish(app, job, &parsed).await,
        "kinesis" => streams::kinesis_put_record(app, job, &parsed).await,
        "firehose" => streams::firehose_put_record(app, job, &parsed).await,
        "states" => step_functions::start_execution(app, job, &parsed).await,
        "logs" => logs::put_log_event(app, job, &parsed).await,
        "events" if parsed.resource.starts_with("api-destination/") => {
            api_destination::invoke(app, job, &parsed).await
        }
        "events" if parsed.resource.starts_with("event-bus/") => {
            event_bus::put(app, job).await.map(|_| Delivered::default())
        }
        _ => Err(Failure::permanent(format!(
            "target type not supported by eventbridge-local: {target_arn}"
        ))),
    }
}
