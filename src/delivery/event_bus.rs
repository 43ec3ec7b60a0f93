//! Event-bus targets: the event enters another bus of this same server, unchanged.

use std::sync::Arc;

use serde_json::Value;

use super::{DeliveryJob, Failure};
use crate::app::App;
use crate::catalog::RuleFilter;
use crate::model::arn;
use crate::router::{Event, ingest};

/// Bus-to-bus hops one event may make; beyond it a rule loop is assumed and the event stops.
const MAX_HOPS: u8 = 8;

pub async fn put(app: &App, job: &DeliveryJob) -> Result<(), Failure> {
    let Some((scope, bus)) = arn::parse_event_bus(job.target.arn()) else {
        return Err(Failure::permanent("not an event bus ARN"));
    };
    if job.hops >= MAX_HOPS {
        return Err(Failure::permanent(format!(
            "event {} crossed {MAX_HOPS} buses; stopping a probable rule loop",
            job.event_id
        )));
    }
    if app.catalog.bus(&scope, &bus).is_err() {
        return Err(Failure::permanent(format!(
            "Event bus {bus} does not exist."
        )));
    }
    // An event-bus target receives the event itself: EventBridge does not apply input
    // transformation to event-bus targets. (Not verified here; the docs list event buses
    // among targets that get the original event.)
    let envelope = match &job.envelope {
        Some(parsed) => parsed.clone(),
        None => Arc::new(
            serde_json::from_str::<Value>(&job.event)
                .map_err(|e| Failure::permanent(format!("unreadable event: {e}")))?,
        ),
    };
    let event = Event::from_parts(
        scope,
        bus,
        job.time_ms,
        envelope,
        job.event.clone(),
        job.hops + 1,
    );
    ingest(app, &[event], RuleFilter::All)
        .await
        .map_err(|e| Failure {
            retryable: true,
            status: None,
            reason: e.message,
        })
}
