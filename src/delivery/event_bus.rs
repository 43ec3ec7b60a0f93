//! Event-bus targets: the event enters another bus of this same server, unchanged.

use serde_json::Value;

use super::BusSink;
use super::job::{DeliveryJob, Failure};
use crate::catalog::Catalog;
use crate::json_doc::Node;
use crate::model::event::Event;
use crate::model::policy::{self, KeyValue, PutEventsCheck};
use crate::model::{Scope, arn};

/// Bus-to-bus hops one event may make; beyond it a rule loop is assumed and the event stops.
const MAX_HOPS: u8 = 8;

/// The event that a delivery of `job` puts on the bus `bus` of `scope`, or why it cannot.
fn event_for(
    catalog: &Catalog,
    job: &DeliveryJob,
    scope: Scope,
    bus: String,
) -> Result<Event, Failure> {
    if job.hops >= MAX_HOPS {
        return Err(Failure::permanent(format!(
            "event {} crossed {MAX_HOPS} buses; stopping a probable rule loop",
            job.event_id
        )));
    }
    // An event-bus target receives the event itself: EventBridge does not apply input
    // transformation to event-bus targets. (Not verified here; the docs list event buses
    // among targets that get the original event.)
    // The text is read (not into a `Value`: the target bus's rules read it again as they
    // route it) to refuse an unreadable one and, across accounts, for the policy check.
    let doc = Node::parse(&job.event)
        .map_err(|e| Failure::permanent(format!("unreadable event: {e}")))?;
    if scope != job.rule_scope {
        authorize(catalog, job, &scope, &bus, &doc)?;
    }
    if catalog.bus(&scope, &bus).is_err() {
        return Err(Failure::permanent(format!(
            "Event bus {bus} does not exist."
        )));
    }
    Ok(match &job.envelope {
        Some(parsed) => Event::from_parts(
            scope,
            bus,
            job.time_ms,
            parsed.clone(),
            job.event.clone(),
            job.hops + 1,
        ),
        None => Event::from_body(scope, bus, job.time_ms, job.event.clone(), job.hops + 1),
    })
}

/// The check of a bus of another account or region: its policy must let the rule's account
/// (or the role the target names) put the event, at every delivery, as PutTargets checked it
/// once. A refusal is not retried; it is reported as a 403 so that a dead-lettered event's
/// `ERROR_CODE` is `NO_PERMISSIONS`.
fn authorize(
    catalog: &Catalog,
    job: &DeliveryJob,
    scope: &Scope,
    bus: &str,
    envelope: &Node<'_>,
) -> Result<(), Failure> {
    let root = policy::root_arn(&job.rule_scope.account);
    let principal = job.target.0.get("RoleArn").and_then(Value::as_str);
    let field = |name: &str| envelope.get(name).and_then(Node::as_str);
    let bus_arn = arn::event_bus(scope, bus);
    let check = PutEventsCheck {
        account: &job.rule_scope.account,
        principal_arn: principal.unwrap_or(&root),
        bus_arn: &bus_arn,
        source: KeyValue::Known(field("source").unwrap_or_default()),
        detail_type: KeyValue::Known(field("detail-type").unwrap_or_default()),
        rule_arn: Some(&job.rule_arn),
    };
    catalog
        .authorize_put_events(scope, bus, &check)
        .map_err(|denial| Failure {
            retryable: false,
            status: Some(403),
            reason: format!("{}: {}", denial.code, denial.message),
        })
}

/// A delivery through the queue (retries, dead-letter queues).
pub async fn put(catalog: &Catalog, sink: &dyn BusSink, job: &DeliveryJob) -> Result<(), Failure> {
    let Some((scope, bus)) = arn::parse_event_bus(job.target.arn()) else {
        return Err(Failure::permanent("not an event bus ARN"));
    };
    let event = event_for(catalog, job, scope, bus)?;
    sink.put_events(vec![event])
        .await
        .map_err(Failure::transient)
}

/// The event to route at once on the target bus when `job` is for an event bus of this
/// server that can take it: bus-to-bus deliveries skip the queue (a replay to a rule whose
/// target is a bus makes one per event). `None` sends the job through the queue, where a
/// failure is reported, retried or dead-lettered.
pub fn inline_event(catalog: &Catalog, job: &DeliveryJob) -> Option<Event> {
    let (scope, bus) = arn::parse_event_bus(job.target.arn())?;
    event_for(catalog, job, scope, bus).ok()
}
