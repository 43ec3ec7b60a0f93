//! `/_local/clock`: read the server's time; under `--clock manual`, move it.
//!
//! A move forward walks through every instant something waits for on the way (a scheduled
//! rule's next instant, a retry's backoff), in order: the clock stops at each, what is due
//! there runs, and the walk goes on once its consequences have settled (deliveries attempted,
//! failed ones' retries scheduled), so that a retry due within the move happens within it.
//! The answer comes after the last step; then a retention sweep sees the new time.

use std::time::Duration;

use hyper::StatusCode;
use serde_json::{Value, json};

use super::{Answer, LocalError, string_member};
use crate::app::App;
use crate::config::parse_rfc3339_ms;

/// Scheduled events one move may send at most: a move of years over a `rate(1 minute)`
/// rule stops there instead of running for hours.
const MAX_FIRED_PER_MOVE: usize = 100_000;

/// How long a step waits at most for the deliveries it set off (a target that does not
/// answer holds one for the request timeout).
const SETTLE_LIMIT: Duration = Duration::from_secs(15);

/// An instant as RFC 3339 UTC (milliseconds when there are some).
pub fn rfc3339(ms: i64) -> String {
    let nanos = i128::from(ms) * 1_000_000;
    time::OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| ms.to_string())
}

/// `GET /_local/clock`.
pub fn show(app: &App) -> Value {
    json!({
        "now": rfc3339(app.clock.now_ms()),
        "mode": if app.clock.is_manual() { "manual" } else { "real" },
    })
}

/// `POST /_local/clock` with `{"advance": <seconds or ISO-8601 duration>}` or
/// `{"set": "<RFC 3339>"}`.
pub async fn change(app: &App, body: Value) -> Answer {
    if !app.clock.is_manual() {
        return Err(LocalError::new(
            StatusCode::CONFLICT,
            "the server runs on the real clock; start it with --clock manual to move time",
        ));
    }
    let advance = body.get("advance").filter(|v| !v.is_null());
    let set = string_member(&body, "set")?;
    let _moving = app.clock.exclusive().await;
    let now = app.clock.now_ms();
    let target = match (advance, set) {
        (Some(advance), None) => now.saturating_add(duration_ms(advance)?),
        (None, Some(set)) => parse_rfc3339_ms(set).map_err(LocalError::bad_request)?,
        _ => {
            return Err(LocalError::bad_request(
                "give exactly one of advance (seconds, or an ISO-8601 duration such as \"PT1H\") and set (an RFC 3339 time)",
            ));
        }
    };
    let fired = if target >= now {
        advance_to(app, target).await?
    } else {
        // Back in time: nothing fires; scheduled rules count their periods from here.
        app.clock.set(target);
        app.scheduler.forget(None).await;
        0
    };
    let mut answer = show(app);
    answer["fired"] = json!(fired);
    Ok(answer)
}

/// Moves the clock to `target` through every instant due on the way; returns how many
/// scheduled events were sent.
async fn advance_to(app: &App, target: i64) -> Result<usize, LocalError> {
    let mut fired = 0;
    loop {
        settle(app).await;
        let now = app.clock.now_ms();
        let next = [
            app.scheduler.next_due(now).await,
            app.clock.next_deadline(),
            app.firing.next_due(now),
        ]
        .into_iter()
        .flatten()
        .min();
        let Some(step) = next.filter(|at| *at <= target) else {
            break;
        };
        let step = step.max(now);
        app.clock.set(step);
        fired += app.scheduler.fire_due(step).await;
        app.firing.fire_due(step).await;
        if fired > MAX_FIRED_PER_MOVE {
            settle(app).await;
            return Err(LocalError::bad_request(format!(
                "stopped at {}: this move would send more than {MAX_FIRED_PER_MOVE} scheduled events; move the clock in smaller steps or use set on a quieter schedule",
                rfc3339(step)
            )));
        }
    }
    app.clock.set(target);
    fired += app.scheduler.fire_due(target).await;
    app.firing.fire_due(target).await;
    settle(app).await;
    let (catalog, store) = (app.catalog.clone(), app.store.clone());
    let swept = tokio::task::spawn_blocking(move || {
        crate::retention::sweep(&catalog, &store, target);
    })
    .await;
    if let Err(e) = swept {
        tracing::error!(error = %e, "retention sweep panicked");
    }
    Ok(fired)
}

/// Waits until the sleepers woken so far have reacted and no delivery is queued or under
/// way (bounded by [`SETTLE_LIMIT`]).
async fn settle(app: &App) {
    let deadline = tokio::time::Instant::now() + SETTLE_LIMIT;
    loop {
        let _ = tokio::time::timeout_at(deadline, app.clock.settled()).await;
        if app.delivery.busy() == 0 {
            return;
        }
        if tokio::time::Instant::now() >= deadline {
            tracing::warn!(
                busy = app.delivery.busy(),
                "moving the clock on while deliveries are still under way"
            );
            return;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// Seconds (a JSON number) or an ISO-8601 duration (`"PT1H"`, `"P1DT30M"`, `"PT0.5S"`),
/// as milliseconds.
pub fn duration_ms(value: &Value) -> Result<i64, LocalError> {
    let bad = || {
        LocalError::bad_request(format!(
            "not a duration: {value} (give seconds, or an ISO-8601 duration such as \"PT1H\")"
        ))
    };
    let ms = match value {
        Value::Number(n) => n.as_f64().map(|s| s * 1000.0).ok_or_else(bad)?,
        Value::String(s) => iso8601_duration_ms(s).ok_or_else(bad)?,
        _ => return Err(bad()),
    };
    if !(0.0..=9.0e15).contains(&ms) {
        return Err(LocalError::bad_request(format!(
            "a duration must be positive and reasonable: {value}"
        )));
    }
    Ok(ms.round() as i64)
}

/// `PnW`, `PnDTnHnMnS` (fractions allowed on the last figure); years and months have no
/// fixed length and are refused.
fn iso8601_duration_ms(text: &str) -> Option<f64> {
    let rest = text.strip_prefix('P')?;
    let (date, time) = match rest.split_once('T') {
        Some((d, t)) => (d, Some(t)),
        None => (rest, None),
    };
    let mut total = 0.0;
    let mut any = false;
    let mut read = |part: &str, units: &[(char, f64)]| -> Option<()> {
        let mut number = String::new();
        let mut order = 0;
        for c in part.chars() {
            if c.is_ascii_digit() || c == '.' || c == ',' {
                number.push(if c == ',' { '.' } else { c });
                continue;
            }
            let at = units.iter().position(|(u, _)| *u == c)?;
            if at < order || number.is_empty() {
                return None;
            }
            order = at + 1;
            total += number.parse::<f64>().ok()? * units[at].1;
            number.clear();
            any = true;
        }
        number.is_empty().then_some(())
    };
    read(date, &[('W', 604_800_000.0), ('D', 86_400_000.0)])?;
    if let Some(time) = time {
        if time.is_empty() {
            return None;
        }
        read(time, &[('H', 3_600_000.0), ('M', 60_000.0), ('S', 1_000.0)])?;
    }
    any.then_some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        let ms = |v: Value| duration_ms(&v).ok();
        assert_eq!(ms(json!(1.5)), Some(1_500));
        assert_eq!(ms(json!("PT1H")), Some(3_600_000));
        assert_eq!(ms(json!("P1DT30M")), Some(86_400_000 + 1_800_000));
        assert_eq!(ms(json!("PT0.5S")), Some(500));
        assert_eq!(ms(json!("P2W")), Some(2 * 604_800_000));
        assert_eq!(ms(json!("PT1H30M15S")), Some(5_415_000));
        assert_eq!(ms(json!("P1M")), None);
        assert_eq!(ms(json!("PT")), None);
        assert_eq!(ms(json!("P")), None);
        assert_eq!(ms(json!("PT1M1H")), None);
        assert_eq!(ms(json!("1H")), None);
        assert_eq!(ms(json!(-1)), None);
        assert_eq!(ms(json!(true)), None);
    }

    #[test]
    fn formats_rfc3339() {
        assert_eq!(rfc3339(1_704_164_645_000), "2024-01-02T03:04:05Z");
        assert_eq!(rfc3339(1_704_164_645_678), "2024-01-02T03:04:05.678Z");
    }
}
