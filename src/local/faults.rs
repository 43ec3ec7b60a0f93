//! `/_local/faults`: make deliveries to a target fail on purpose.
//!
//! `POST` with the target (`"target": "<ARN>"`, or `"rule": "<name or ARN>"` with an
//! optional `"targetId"`), how long (`"count": N` attempts, and/or `"duration"`: seconds or
//! an ISO-8601 duration on the server's clock; neither: until cleared) and the error
//! (`"error": {"status": 503}`, `"timeout"` or `"connection-refused"`; HTTP 500 by default).
//! `GET` lists them, `DELETE` clears all (or `?id=`), `DELETE /_local/faults/<id>` one.

use serde_json::{Value, json};

use super::clock::{duration_ms, rfc3339};
use super::{Answer, LocalError, string_member};
use crate::app::App;
use crate::delivery::faults::{Fault, FaultSelector, InjectedError};

fn fault_json(fault: &Fault) -> Value {
    let mut out = json!(fault);
    if let Some(until) = fault.until_ms {
        out["until"] = json!(rfc3339(until));
    }
    out
}

pub fn list(app: &App) -> Value {
    let now = app.clock.now_ms();
    let faults: Vec<Value> = app
        .delivery
        .faults
        .list(now)
        .iter()
        .map(fault_json)
        .collect();
    json!({ "faults": faults })
}

pub fn add(app: &App, body: Value) -> Answer {
    let selector = FaultSelector {
        target_arn: string_member(&body, "target")?
            .or(string_member(&body, "targetArn")?)
            .map(str::to_string),
        rule: string_member(&body, "rule")?.map(str::to_string),
        target_id: string_member(&body, "targetId")?.map(str::to_string),
    };
    if selector.target_arn.is_none() && selector.rule.is_none() {
        return Err(LocalError::bad_request(
            "name the target: \"target\" (its ARN), or \"rule\" (name or ARN) with an optional \"targetId\"",
        ));
    }
    let error = injected_error(body.get("error"))?;
    let count = match body.get("count") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_u64()
                .filter(|n| *n > 0)
                .ok_or_else(|| LocalError::bad_request("count must be a whole number > 0"))?,
        ),
    };
    let until = match body.get("duration") {
        None | Some(Value::Null) => None,
        Some(v) => Some(app.clock.now_ms().saturating_add(duration_ms(v)?)),
    };
    let fault = app.delivery.faults.add(selector, error, count, until);
    Ok(fault_json(&fault))
}

fn injected_error(value: Option<&Value>) -> Result<InjectedError, LocalError> {
    let status = |n: u64| {
        u16::try_from(n)
            .ok()
            .filter(|s| (400..=599).contains(s))
            .map(InjectedError::Status)
            .ok_or_else(|| LocalError::bad_request("an injected HTTP status is 400 to 599"))
    };
    match value {
        None | Some(Value::Null) => Ok(InjectedError::Status(500)),
        Some(Value::Number(n)) => status(n.as_u64().unwrap_or(0)),
        Some(Value::String(s)) => match s.as_str() {
            "timeout" => Ok(InjectedError::Timeout),
            "connection-refused" | "connectionRefused" => Ok(InjectedError::ConnectionRefused),
            other => Err(LocalError::bad_request(format!(
                "unknown error {other:?}: give {{\"status\": 503}}, \"timeout\" or \"connection-refused\""
            ))),
        },
        Some(Value::Object(o)) => match o.get("status").and_then(Value::as_u64) {
            Some(n) => status(n),
            None => Err(LocalError::bad_request(
                "error must be {\"status\": <HTTP status>}, \"timeout\" or \"connection-refused\"",
            )),
        },
        Some(_) => Err(LocalError::bad_request(
            "error must be {\"status\": <HTTP status>}, \"timeout\" or \"connection-refused\"",
        )),
    }
}

pub fn clear(app: &App, id: Option<&str>) -> Value {
    json!({ "cleared": app.delivery.faults.clear(id) })
}

pub fn clear_one(app: &App, id: &str) -> Answer {
    match app.delivery.faults.clear(Some(id)) {
        0 => Err(LocalError::not_found(format!("no fault {id}"))),
        n => Ok(json!({ "cleared": n })),
    }
}
