//! `GET /_local/deliveries` and `GET /_local/events`: the delivery log and the events each
//! bus received, filtered. With `wait` (seconds, a bound) the call returns as soon as at
//! least `min` records (default 1) match, or at the bound with what there is and
//! `"timedOut": true`: tests wait for what they expect instead of sleeping.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::Notify;

use super::clock::rfc3339;
use super::{Answer, LocalError, Query, scope_of};
use crate::app::App;
use crate::delivery::log::LogFilter;
use crate::recent::{EventFilter, Received};

/// The longest wait a request may ask for.
const MAX_WAIT: Duration = Duration::from_secs(300);

/// `wait` and `min` of a query: the bound, if any, and how many records must match.
fn wait_of(query: &Query) -> Result<(Option<Duration>, usize), LocalError> {
    let wait = query
        .number::<f64>("wait")?
        .map(|secs| {
            if secs.is_finite() && secs >= 0.0 {
                Ok(Duration::from_secs_f64(secs).min(MAX_WAIT))
            } else {
                Err(LocalError::bad_request(
                    "wait must be a number of seconds >= 0",
                ))
            }
        })
        .transpose()?;
    let min = query.number::<usize>("min")?.unwrap_or(1);
    Ok((wait, min))
}

/// Reads `count` until it reaches `min`, woken by `changed`, until `wait` runs out; returns
/// what was read last and whether the wait timed out.
async fn wait_for<T>(
    changed: &Notify,
    wait: Option<Duration>,
    min: usize,
    mut read: impl FnMut() -> (T, usize),
) -> (T, Option<bool>) {
    let Some(wait) = wait else {
        return (read().0, None);
    };
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let notified = changed.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let (found, count) = read();
        if count >= min {
            return (found, Some(false));
        }
        if tokio::time::timeout_at(deadline, notified).await.is_err() {
            return (read().0, Some(true));
        }
    }
}

fn with_timed_out(mut answer: Value, timed_out: Option<bool>) -> Value {
    if let Some(timed_out) = timed_out {
        answer["timedOut"] = json!(timed_out);
    }
    answer
}

/// `?rule=&target=&eventId=&outcome=&source=&detailType=&limit=&wait=&min=`
pub async fn deliveries(app: &App, query: &Query) -> Answer {
    let filter = LogFilter {
        rule: query.first_of(&["rule"]),
        target: query.first_of(&["target"]),
        event_id: query.first_of(&["eventId", "event_id", "id"]),
        outcome: query.first_of(&["outcome"]),
        source: query.first_of(&["source"]),
        detail_type: query.first_of(&["detailType", "detail-type", "detail_type"]),
        limit: query.number("limit")?,
    };
    let (wait, min) = wait_of(query)?;
    let log = &app.delivery.log;
    let (records, timed_out) = wait_for(log.changed(), wait, min, || log.list(&filter)).await;
    Ok(with_timed_out(json!({ "deliveries": records }), timed_out))
}

/// `?bus=&account=&region=&rule=&eventId=&source=&detailType=&limit=&wait=&min=`
pub async fn events(app: &App, query: &Query) -> Answer {
    let account = query.get("account");
    let region = query.get("region");
    let filter = EventFilter {
        // Everything of every account and region unless one is named.
        scope: (account.is_some() || region.is_some()).then(|| scope_of(app, account, region)),
        bus: query
            .first_of(&["bus", "eventBusName"])
            .map(|b| b.rsplit('/').next().unwrap_or_default().to_string()),
        event_id: query.first_of(&["eventId", "event_id", "id"]),
        source: query.first_of(&["source"]),
        detail_type: query.first_of(&["detailType", "detail-type", "detail_type"]),
        rule: query.first_of(&["rule"]),
        limit: query.number("limit")?,
    };
    let (wait, min) = wait_of(query)?;
    let recent = &app.router.recent;
    let (found, timed_out) = wait_for(recent.changed(), wait, min, || recent.list(&filter)).await;
    let events: Vec<Value> = found
        .iter()
        .map(|(scope, bus, r)| received_json(&scope.account, &scope.region, bus, r))
        .collect();
    Ok(with_timed_out(json!({ "events": events }), timed_out))
}

/// One received event as `/_local/events` shows it.
pub fn received_json(account: &str, region: &str, bus: &str, r: &Received) -> Value {
    json!({
        "eventId": r.id(),
        "eventBusName": bus,
        "account": account,
        "region": region,
        "time": rfc3339(r.time_ms),
        "receivedTime": rfc3339(r.received_ms),
        "matchedRules": r.rules.iter().map(|rule| rule.rule.name.as_str()).collect::<Vec<_>>(),
        "event": r.envelope(),
    })
}
