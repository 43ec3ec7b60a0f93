//! An event in; archive writes and deliveries out.
//!
//! Archive writes are durable before `ingest` returns (one flush per call, not per event);
//! deliveries are only queued, but for those to another bus of this server, which are routed
//! in the same call. The router also counts the PutEvents requests in progress, which
//! replays yield to.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};

use crate::catalog::{Catalog, CompiledRule, RouteAction, RuleFilter};
use crate::delivery::{BusSink, Delivery, DeliveryJob};
use crate::error::ApiError;
use crate::json_doc::Node;
use crate::model::event::Event;
use crate::recent::RecentEvents;
use crate::store::{ArchiveWrite, Store};
use crate::transform::{InputSpec, TransformContext};

/// Routes events on their buses: rules, archives, deliveries.
pub struct Router {
    pub catalog: Arc<Catalog>,
    pub store: Store,
    pub delivery: Arc<Delivery>,
    /// The last events of each bus, with the rules they matched.
    pub recent: Arc<RecentEvents>,
    /// PutEvents requests being handled: while there are some, or were lately, replays route
    /// one small step at a time instead of a batch per core, so that live traffic keeps a core.
    live_put_events: AtomicUsize,
    /// When the last PutEvents request came, in ms since `started`, plus one (0: never).
    last_live_ms: AtomicU64,
    started: std::time::Instant,
}

/// How long after a PutEvents request traffic still counts as live: a light stream (a request
/// every few ms) is rarely in progress at the instant a replay looks, yet its latency is what
/// a replay must not hurt.
const LIVE_WINDOW_MS: u64 = 250;

/// Marks a PutEvents request in progress for as long as it lives.
pub struct LiveTraffic<'a>(&'a Router);

impl Drop for LiveTraffic<'_> {
    fn drop(&mut self) {
        self.0.live_put_events.fetch_sub(1, Ordering::Relaxed);
    }
}

/// One delivery per target of `rule` of the event `id`, each with the payload its input
/// settings make, at `now_ms` on the delivery clock.
fn jobs_for_rule(event: &Event, id: &str, rule: &CompiledRule, now_ms: i64) -> Vec<DeliveryJob> {
    rule.targets
        .iter()
        .zip(&rule.inputs)
        .map(|(target, input)| {
            let payload = match input {
                InputSpec::Event => event.body.clone(),
                other => Arc::from(other.render(
                    &event.envelope(),
                    &event.body,
                    &TransformContext {
                        rule_arn: &rule.arn,
                        rule_name: &rule.rule.name,
                        ingestion_time_ms: now_ms,
                    },
                )),
            };
            DeliveryJob::new(event, id, rule, target.clone(), payload, now_ms)
        })
        .collect()
}

impl Router {
    /// A router over `catalog` and `store`, and the sink of `delivery`'s event-bus targets.
    pub fn new(
        catalog: Arc<Catalog>,
        store: Store,
        delivery: Arc<Delivery>,
        recent: Arc<RecentEvents>,
    ) -> Arc<Router> {
        let router = Arc::new(Router {
            catalog,
            store,
            delivery,
            recent,
            live_put_events: AtomicUsize::new(0),
            last_live_ms: AtomicU64::new(0),
            started: std::time::Instant::now(),
        });
        let sink: Weak<dyn BusSink> = Arc::downgrade(&router) as Weak<dyn BusSink>;
        router.delivery.set_bus_sink(sink);
        router
    }

    /// Live PutEvents traffic, which replays yield to.
    pub fn live_traffic(&self) -> LiveTraffic<'_> {
        self.live_put_events.fetch_add(1, Ordering::Relaxed);
        self.last_live_ms.store(
            self.started.elapsed().as_millis() as u64 + 1,
            Ordering::Relaxed,
        );
        LiveTraffic(self)
    }

    /// Whether a PutEvents request is being handled now, or came in the last
    /// `LIVE_WINDOW_MS`.
    pub fn has_live_traffic(&self) -> bool {
        let last = self.last_live_ms.load(Ordering::Relaxed);
        self.live_put_events.load(Ordering::Relaxed) > 0
            || (last > 0 && (self.started.elapsed().as_millis() as u64) < last + LIVE_WINDOW_MS)
    }

    /// Queues `event` for the targets of one rule, matched or not (scheduled rules).
    pub async fn deliver_to_rule(&self, event: &Event, rule: &CompiledRule) {
        let now = self.delivery.clock().now_ms();
        let id = event
            .envelope()
            .get("id")
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string();
        for job in jobs_for_rule(event, &id, rule, now) {
            self.delivery.enqueue(job).await;
        }
    }

    /// Matches each event against its bus's rules, writes the archive copies durably, then
    /// queues the deliveries. Rules read each event's text (an event whose text is not JSON,
    /// which this server never writes, is skipped with a warning).
    pub async fn ingest(&self, events: &[Event], filter: RuleFilter<'_>) -> Result<(), ApiError> {
        let mut docs = Vec::with_capacity(events.len());
        let mut unreadable = Vec::new();
        for (i, event) in events.iter().enumerate() {
            match Node::parse(&event.body) {
                Ok(doc) => docs.push(doc),
                Err(_) => {
                    tracing::warn!(bus = %event.bus, "skipping an event whose text is not JSON");
                    unreadable.push(i);
                }
            }
        }
        if unreadable.is_empty() {
            return self.ingest_read(events, &docs, filter).await;
        }
        let read: Vec<Event> = (0..events.len())
            .filter(|i| !unreadable.contains(i))
            .map(|i| events[i].clone())
            .collect();
        self.ingest_read(&read, &docs, filter).await
    }

    /// The same, for events already read: `docs[i]` is `events[i]`'s envelope (PutEvents
    /// builds both from the request, and nothing is parsed again).
    pub async fn ingest_read(
        &self,
        events: &[Event],
        docs: &[Node<'_>],
        filter: RuleFilter<'_>,
    ) -> Result<(), ApiError> {
        assert_eq!(events.len(), docs.len(), "one document per event");
        let now = self.delivery.clock().now_ms();
        let mut writes = Vec::new();
        let mut jobs = Vec::new();
        let mut routed = Vec::new();
        let recording = self.recent.enabled();
        for (event, doc) in events.iter().zip(docs) {
            let actions = self.catalog.route(&event.scope, &event.bus, doc, &filter);
            if recording {
                routed.push((event, actions.iter().map(|a| a.rule().clone()).collect()));
            }
            for action in actions {
                match action {
                    RouteAction::Archive { uid, .. } => {
                        writes.push(ArchiveWrite {
                            archive_uid: uid,
                            time_ms: event.time_ms,
                            body: event.body.clone(),
                        });
                    }
                    RouteAction::Deliver { rule } => {
                        jobs.extend(jobs_for_rule(event, doc.str_field("id"), &rule, now))
                    }
                    RouteAction::Nothing { .. } => {}
                }
            }
        }
        self.recent.record(routed, now);
        if !writes.is_empty() {
            self.store
                .append_events(&writes)
                .map_err(ApiError::storage)?;
            self.store.flush().await.map_err(ApiError::storage)?;
        }
        // Bus-to-bus deliveries are routed here and now; the rest wait in the queue.
        let mut forwarded = Vec::new();
        let mut forwarded_jobs = Vec::new();
        for job in jobs {
            match self.delivery.inline_bus_event(&job) {
                Some(event) => {
                    forwarded.push(event);
                    forwarded_jobs.push(job);
                }
                None => self.delivery.enqueue(job).await,
            }
        }
        if !forwarded.is_empty() {
            match Box::pin(self.ingest(&forwarded, RuleFilter::All)).await {
                Ok(()) => forwarded_jobs
                    .iter()
                    .for_each(|job| self.delivery.record_inline(job)),
                // The queue retries them.
                Err(_) => {
                    for job in forwarded_jobs {
                        self.delivery.enqueue(job).await;
                    }
                }
            }
        }
        Ok(())
    }
}

impl BusSink for Router {
    fn put_events(
        &self,
        events: Vec<Event>,
    ) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + '_>> {
        Box::pin(async move {
            self.ingest(&events, RuleFilter::All)
                .await
                .map_err(|e| e.message)
        })
    }
}
