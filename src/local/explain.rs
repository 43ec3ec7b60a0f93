//! `POST /_local/explain`: for every rule of a bus (or one, `"rule"`), whether an event
//! matches it and, if not, the first part of the pattern that failed (field path, what the
//! pattern wanted, what the event had). The event is given (`"event"`: an envelope, or a
//! PutEvents entry with `Source`, `DetailType`, `Detail`), or one the bus received, by id
//! (`"eventId"`, from `/_local/events`).

use serde_json::{Map, Value, json};

use super::waits::received_json;
use super::{Answer, LocalError, scope_of, string_member};
use crate::app::App;
use crate::model::event::envelope;
use crate::model::{Rule, Scope};
use crate::pattern::{Explanation, explain as explain_pattern};
use crate::recent::EventFilter;

pub fn explain(app: &App, body: Value) -> Answer {
    let account = string_member(&body, "account")?;
    let region = string_member(&body, "region")?;
    let scope = scope_of(app, account, region);
    let bus = string_member(&body, "eventBusName")?.map(|b| b.rsplit('/').next().unwrap_or(b));
    let only_rule = string_member(&body, "rule")?;
    let mut answer = Map::new();
    let (scope, bus, event) = match string_member(&body, "eventId")? {
        Some(id) => {
            let filter = EventFilter {
                // The scope only when one was named: ids are unique anyway.
                scope: (account.is_some() || region.is_some()).then(|| scope.clone()),
                bus: bus.map(str::to_string),
                event_id: Some(id.to_string()),
                ..Default::default()
            };
            let (found, _) = app.router.recent.list(&filter);
            let Some((scope, bus, received)) = found.into_iter().next() else {
                return Err(LocalError::not_found(format!(
                    "no event {id} among the events the buses received lately (see /_local/events; --recent-events sets how many are kept)"
                )));
            };
            answer.insert(
                "received".into(),
                received_json(&scope.account, &scope.region, &bus, &received),
            );
            let event = received.envelope();
            (scope, bus, event)
        }
        None => {
            let Some(given) = body.get("event") else {
                return Err(LocalError::bad_request(
                    "give the event (\"event\": {...}) or the id of one the bus received (\"eventId\")",
                ));
            };
            let event = complete_event(app, &scope, given)?;
            (scope, bus.unwrap_or("default").to_string(), event)
        }
    };
    if bus == "default" {
        // Every (account, region) has it, even before its first AWS request.
        app.catalog
            .ensure_default_bus(&scope)
            .map_err(|e| LocalError::bad_request(e.message))?;
    }
    let rules = app
        .catalog
        .rules(&scope, &bus, None)
        .map_err(|e| LocalError::not_found(e.message))?;
    let rules: Vec<&Rule> = rules
        .iter()
        .filter(|r| only_rule.is_none_or(|q| r.name == q || r.arn() == q))
        .collect();
    if let (Some(name), true) = (only_rule, rules.is_empty()) {
        return Err(LocalError::not_found(format!(
            "Rule {name} does not exist on EventBus {bus}."
        )));
    }
    let explained: Vec<Value> = rules.iter().map(|r| explain_rule(r, &event)).collect();
    answer.insert("eventBusName".into(), json!(bus));
    answer.insert("event".into(), event);
    answer.insert("rules".into(), Value::Array(explained));
    Ok(Value::Object(answer))
}

fn explain_rule(rule: &Rule, event: &Value) -> Value {
    let mut out = json!({
        "name": rule.name,
        "arn": rule.arn(),
        "state": rule.state.as_str(),
    });
    let Some(pattern) = rule.event_pattern.as_deref() else {
        out["matches"] = json!(false);
        out["reason"] =
            json!("a scheduled rule (no EventPattern): only its schedule sends it events");
        return out;
    };
    match explain_pattern(pattern, event) {
        Err(e) => {
            out["matches"] = json!(false);
            out["reason"] = json!(format!(
                "the stored pattern no longer compiles: {}",
                e.reason
            ));
        }
        Ok(Explanation::Matches) => {
            out["matches"] = json!(true);
            if !rule.state.is_enabled() {
                out["reason"] = json!("the rule is not enabled: matching events are not delivered");
            } else if rule.targets.is_empty() && rule.archive.is_none() {
                out["reason"] = json!("the rule has no targets: matching events go nowhere");
            }
        }
        Ok(Explanation::Fails(mismatches)) => {
            out["matches"] = json!(false);
            out["reason"] = json!(mismatches[0].reason);
            out["mismatch"] = json!(mismatches[0]);
            if mismatches.len() > 1 {
                // A `$or` pattern: each combination failed somewhere.
                out["alternatives"] = json!(mismatches);
            }
        }
    }
    out
}

/// The envelope an event would have on the bus: a PutEvents entry (`Source`, `DetailType`,
/// `Detail`, ...) is wrapped as PutEvents wraps it; an envelope gets the members it lacks
/// that every event has (version, id, account, time, region, resources, detail).
fn complete_event(app: &App, scope: &Scope, given: &Value) -> Result<Value, LocalError> {
    let Value::Object(given) = given else {
        return Err(LocalError::bad_request("event must be a JSON object"));
    };
    let now = app.clock.now_ms();
    let id = uuid::Uuid::new_v4().to_string();
    if given.contains_key("Source") || given.contains_key("DetailType") {
        let text = |key: &str| given.get(key).and_then(Value::as_str).unwrap_or_default();
        let detail = match given.get("Detail") {
            None | Some(Value::Null) => json!({}),
            Some(Value::String(s)) => serde_json::from_str(s)
                .map_err(|e| LocalError::bad_request(format!("Detail is not JSON: {e}")))?,
            Some(other) => other.clone(),
        };
        let resources = given
            .get("Resources")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let time_ms = given
            .get("Time")
            .and_then(Value::as_f64)
            .map_or(now, |secs| (secs * 1000.0) as i64);
        return Ok(envelope(
            &id,
            text("DetailType"),
            text("Source"),
            &scope.account,
            time_ms,
            &scope.region,
            resources,
            detail,
        ));
    }
    let defaults = envelope(
        &id,
        "",
        "",
        &scope.account,
        now,
        &scope.region,
        Vec::new(),
        json!({}),
    );
    let mut out = Map::new();
    for (key, value) in defaults.as_object().into_iter().flatten() {
        match given.get(key) {
            Some(v) => {
                out.insert(key.clone(), v.clone());
            }
            None if key != "source" && key != "detail-type" => {
                out.insert(key.clone(), value.clone());
            }
            None => {}
        }
    }
    for (key, value) in given {
        out.entry(key.clone()).or_insert_with(|| value.clone());
    }
    Ok(Value::Object(out))
}
