//! One invocation of a schedule as a delivery job: the payload its target's `Input` makes (the
//! context attributes substituted), or for an EventBridge `PutEvents` target the event that
//! `EventBridgeParameters` and the input make, which enters that bus of this server.

use std::sync::Arc;

use serde_json::Value;

use crate::delivery::{DeliveryJob, ScheduleInvocation};
use crate::model::event::envelope;
use crate::model::time::envelope_time;
use crate::model::{Target, arn};
use crate::schedules::Schedule;

fn nested_str<'a>(
    target: &'a serde_json::Map<String, Value>,
    outer: &str,
    inner: &str,
) -> Option<&'a str> {
    target.get(outer)?.get(inner)?.as_str()
}

/// The delivery of the invocation of `schedule` due at `nominal_ms`.
/// `now`: the server's clock when the invocation is made (retries measure age from it).
pub fn job_for(schedule: &Schedule, nominal_ms: i64, now: i64) -> DeliveryJob {
    let execution_id = uuid::Uuid::new_v4().to_string();
    let schedule_arn = schedule.arn();
    let target = &schedule.target;
    let invocation = ScheduleInvocation {
        schedule_arn: schedule_arn.clone(),
        group: schedule.group.clone(),
        name: schedule.name.clone(),
        scheduled_time: envelope_time(nominal_ms),
        execution_id: execution_id.clone(),
        input: target
            .get("Input")
            .and_then(Value::as_str)
            .map(str::to_string),
        partition_key: nested_str(target, "KinesisParameters", "PartitionKey").map(str::to_string),
    };
    let payload = invocation.payload(1);
    let target_arn = target
        .get("Arn")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let (event, parsed): (Arc<str>, _) = match arn::parse_event_bus(target_arn) {
        // PutEvents with the source and detail type of EventBridgeParameters, the input as
        // detail, and the schedule as the event's resource.
        Some(_) => {
            let detail = serde_json::from_str::<Value>(&payload)
                .unwrap_or_else(|_| Value::String(payload.clone()));
            let event = envelope(
                &uuid::Uuid::new_v4().to_string(),
                nested_str(target, "EventBridgeParameters", "DetailType").unwrap_or_default(),
                nested_str(target, "EventBridgeParameters", "Source").unwrap_or_default(),
                &schedule.scope.account,
                now,
                &schedule.scope.region,
                vec![Value::from(schedule_arn.clone())],
                detail,
            );
            (Arc::from(event.to_string()), Some(Arc::new(event)))
        }
        None => (Arc::from(payload.as_str()), None),
    };
    DeliveryJob {
        id: 0,
        event_id: execution_id,
        body: event.clone(),
        event,
        envelope: parsed,
        time_ms: nominal_ms,
        rule_arn: schedule_arn,
        rule_scope: schedule.scope.clone(),
        target: Arc::new(Target(target.clone())),
        hops: 0,
        attempt: 1,
        first_attempt_ms: now,
        schedule: Some(Arc::new(invocation)),
    }
}
