//! Archived events for the console: `GET /_local/console/api/archive-events` browses an
//! archive by event-time window, a page at a time, with a text search; `GET
//! /_local/console/api/replays` adds to each replay how many events it has replayed.
//!
//! Paging is by cursor, `<event time ms>.<events of that millisecond to skip>`, so that a
//! page costs what it reads whatever its depth in 100,000 events. A search reads at most
//! `MAX_SCANNED` events for one page and says where it stopped.

use serde_json::{Value, json};

use super::super::clock::rfc3339;
use super::super::{Answer, LocalError, Query};
use super::{required, scope};
use crate::app::App;
use crate::model::{Replay, Scope};
use crate::store::Store;

const DEFAULT_PAGE: usize = 50;
const MAX_PAGE: usize = 500;
/// The most events one request reads (a search that finds little stops here).
const MAX_SCANNED: usize = 200_000;

/// Where a page starts: an event time and how many events of that millisecond come before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cursor {
    time_ms: i64,
    skip: usize,
}

impl Cursor {
    fn parse(text: &str) -> Option<Cursor> {
        let (time, skip) = text.split_once('.')?;
        Some(Cursor {
            time_ms: time.parse().ok()?,
            skip: skip.parse().ok()?,
        })
    }

    fn render(self) -> String {
        format!("{}.{}", self.time_ms, self.skip)
    }
}

/// A page of an archive's events.
struct Page {
    events: Vec<(i64, Value)>,
    next: Option<Cursor>,
    scanned: usize,
}

/// Reads one page of `[from_ms, to_ms)` starting at `cursor`, keeping events whose text
/// contains `needle` (lowercase) when there is one.
fn read_page(
    store: &Store,
    uid: u64,
    (from_ms, to_ms): (i64, i64),
    cursor: Option<Cursor>,
    needle: Option<&str>,
    limit: usize,
) -> Result<Page, LocalError> {
    let start = cursor.map_or(from_ms, |c| c.time_ms.max(from_ms));
    let mut skip = cursor
        .filter(|c| c.time_ms >= from_ms)
        .map_or(0, |c| c.skip);
    let mut events = Vec::new();
    let mut scanned = 0;
    // The position after the last event read: (its time, how many of that ms were read).
    let mut position = Cursor {
        time_ms: start,
        skip,
    };
    let mut more = false;
    for item in store.scan_events(uid, start, to_ms) {
        let (time_ms, body) = item.map_err(|e| {
            LocalError::new(hyper::StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
        })?;
        if time_ms == start && skip > 0 {
            skip -= 1;
            continue;
        }
        if events.len() == limit || scanned == MAX_SCANNED {
            more = true;
            break;
        }
        scanned += 1;
        position = if time_ms == position.time_ms {
            Cursor {
                time_ms,
                skip: position.skip + 1,
            }
        } else {
            Cursor { time_ms, skip: 1 }
        };
        let keep = needle.is_none_or(|n| String::from_utf8_lossy(&body).to_lowercase().contains(n));
        if keep {
            let event = serde_json::from_slice(&body)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into()));
            events.push((time_ms, event));
        }
    }
    Ok(Page {
        events,
        next: more.then_some(position),
        scanned,
    })
}

/// A time bound of the query: milliseconds since the epoch.
fn time_of(query: &Query, key: &str, default: i64) -> Result<i64, LocalError> {
    Ok(query.number::<i64>(key)?.unwrap_or(default))
}

/// `?archive=&account=&region=&from=&to=&q=&cursor=&limit=`
pub async fn events(app: &App, query: &Query) -> Answer {
    let scope = scope(app, query);
    let name = required(query, "archive")?;
    let Some(entry) = app.catalog.archive(&scope, name) else {
        return Err(LocalError::not_found(format!(
            "Archive {name} does not exist."
        )));
    };
    let window = (
        time_of(query, "from", i64::MIN)?,
        time_of(query, "to", i64::MAX)?,
    );
    let cursor = match query.get("cursor").filter(|c| !c.is_empty()) {
        Some(text) => Some(
            Cursor::parse(text)
                .ok_or_else(|| LocalError::bad_request(format!("not a cursor: {text:?}")))?,
        ),
        None => None,
    };
    let needle = query
        .get("q")
        .map(str::trim)
        .filter(|q| !q.is_empty())
        .map(str::to_lowercase);
    let limit = query
        .number::<usize>("limit")?
        .unwrap_or(DEFAULT_PAGE)
        .clamp(1, MAX_PAGE);
    let uid = entry.archive.uid;
    let store = app.store.clone();
    let page = tokio::task::spawn_blocking(move || {
        read_page(&store, uid, window, cursor, needle.as_deref(), limit)
    })
    .await
    .map_err(|e| LocalError::new(hyper::StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))??;
    let (count, bytes) = app.store.archive_counts(uid).unwrap_or((0, 0));
    Ok(json!({
        "archive": {
            "name": entry.archive.name,
            "eventCount": count,
            "sizeBytes": bytes,
            "retentionDays": entry.archive.retention_days,
        },
        "events": page
            .events
            .into_iter()
            .map(|(time_ms, event)| json!({"time": rfc3339(time_ms), "timeMs": time_ms, "event": event}))
            .collect::<Vec<_>>(),
        "nextCursor": page.next.map(Cursor::render),
        "scanned": page.scanned,
    }))
}

/// `?account=&region=`: every replay of the scope, with how many events of its window it
/// has replayed so far and how many the window holds.
pub async fn replays(app: &App, query: &Query) -> Answer {
    let scope = scope(app, query);
    let replays = app.catalog.replays(&scope);
    let mut out = Vec::with_capacity(replays.len());
    for replay in replays {
        let counted = count_replayed(app, &scope, &replay).await;
        let (replayed, in_window) = counted.unwrap_or((0, 0));
        out.push(json!({
            "name": replay.name,
            "state": replay.state,
            "stateReason": replay.state_reason,
            "eventSourceArn": replay.event_source_arn,
            "eventStartTimeMs": replay.event_start_ms,
            "eventEndTimeMs": replay.event_end_ms,
            "eventLastReplayedTimeMs": replay.event_last_replayed_ms,
            "replayStartTimeMs": replay.replay_start_ms,
            "replayEndTimeMs": replay.replay_end_ms,
            "eventsReplayed": replayed,
            "eventsInWindow": in_window,
        }));
    }
    Ok(json!({ "replays": out }))
}

/// (events of the window up to the last replayed time, events of the window), read from
/// the archive (at most `MAX_SCANNED`).
async fn count_replayed(app: &App, scope: &Scope, replay: &Replay) -> Option<(u64, u64)> {
    let name = replay.event_source_arn.rsplit('/').next()?;
    let uid = app.catalog.archive(scope, name)?.archive.uid;
    let store = app.store.clone();
    let (start, end) = (replay.event_start_ms, replay.event_end_ms);
    let done = match replay.state {
        crate::model::ReplayState::Completed => Some(end),
        _ => replay.event_last_replayed_ms,
    };
    tokio::task::spawn_blocking(move || {
        let (mut replayed, mut total) = (0, 0);
        for (time_ms, _) in store
            .scan_events(uid, start, end)
            .take(MAX_SCANNED)
            .flatten()
        {
            total += 1;
            if done.is_some_and(|d| time_ms <= d) {
                replayed += 1;
            }
        }
        (replayed, total)
    })
    .await
    .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::ArchiveWrite;
    use std::sync::Arc;

    #[test]
    fn pages_through_equal_times_and_searches() {
        let store = Store::open(None, 1 << 20).unwrap();
        let writes: Vec<ArchiveWrite> = (0..7)
            .map(|i| ArchiveWrite {
                archive_uid: 9,
                time_ms: 1000 + (i / 3) as i64,
                body: Arc::from(format!(
                    "{{\"n\":{i},\"tag\":\"{}\"}}",
                    if i % 2 == 0 { "Even" } else { "odd" }
                )),
            })
            .collect();
        store.append_events(&writes).unwrap();
        let mut seen = Vec::new();
        let mut cursor = None;
        loop {
            let page = read_page(&store, 9, (i64::MIN, i64::MAX), cursor, None, 2).unwrap();
            seen.extend(page.events.iter().map(|(_, e)| e["n"].as_i64().unwrap()));
            match page.next {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        assert_eq!(seen, [0, 1, 2, 3, 4, 5, 6]);
        let even = read_page(&store, 9, (i64::MIN, i64::MAX), None, Some("even"), 10).unwrap();
        assert_eq!(even.events.len(), 4);
        let window = read_page(&store, 9, (1001, 1002), None, None, 10).unwrap();
        assert_eq!(window.events.len(), 3);
        assert_eq!(
            Cursor::parse("12.3"),
            Some(Cursor {
                time_ms: 12,
                skip: 3
            })
        );
        assert_eq!(Cursor::parse("x"), None);
    }
}
