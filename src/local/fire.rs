//! `POST /_local/rules/fire` with `{"name": ..., "eventBusName": ...}`: sends a scheduled
//! rule's `Scheduled Event` (time: the clock's now) to its targets at once, for tests that
//! do not want to move the clock.

use hyper::StatusCode;
use serde_json::{Value, json};

use super::clock::rfc3339;
use super::{Answer, LocalError, scope_of, string_member};
use crate::app::App;

pub async fn fire(app: &App, body: Value) -> Answer {
    let Some(name) = string_member(&body, "name")? else {
        return Err(LocalError::bad_request(
            "name (the rule's name) is required",
        ));
    };
    let bus = string_member(&body, "eventBusName")?.unwrap_or("default");
    let bus = bus.rsplit('/').next().unwrap_or(bus);
    let scope = scope_of(
        app,
        string_member(&body, "account")?,
        string_member(&body, "region")?,
    );
    let rule = app
        .catalog
        .rule(&scope, bus, name)
        .map_err(|e| LocalError::not_found(e.message))?;
    if rule.rule.schedule_expression.is_none() {
        return Err(LocalError::bad_request(format!(
            "rule {name} has no ScheduleExpression: only scheduled rules send a Scheduled Event"
        )));
    }
    if !rule.rule.state.is_enabled() {
        return Err(LocalError::new(
            StatusCode::CONFLICT,
            format!("rule {name} is not enabled: a disabled rule's schedule does not fire"),
        ));
    }
    let at = app.clock.now_ms();
    let event_id = app.scheduler.fire(&rule, at).await;
    Ok(json!({
        "eventId": event_id,
        "time": rfc3339(at - at.rem_euclid(1000)),
        "ruleArn": rule.arn,
        "targets": rule.targets.len(),
    }))
}
