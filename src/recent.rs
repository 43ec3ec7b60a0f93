//! The last events each bus received, with the rules each matched when it came in: what
//! `/_local/events` lists and `/_local/explain` can explain again by id.
//!
//! A bounded ring per bus, behind its own mutex, filled by the router once per routed batch
//! (one lock per run of events on the same bus), so that PutEvents pays little for it.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use serde_json::Value;
use tokio::sync::Notify;

use crate::catalog::CompiledRule;
use crate::json_doc::Node;
use crate::model::Scope;
use crate::model::event::Event;

/// One event as its bus received it.
#[derive(Clone)]
pub struct Received {
    /// Order of arrival over all buses.
    pub seq: u64,
    /// The envelope's text (read again when listed: most events are never listed).
    pub body: Arc<str>,
    pub time_ms: i64,
    /// When it came in, on the server's clock.
    pub received_ms: i64,
    /// The enabled rules it matched (archive rules included).
    pub rules: Vec<Arc<CompiledRule>>,
}

impl Received {
    fn field(&self, key: &str) -> String {
        Node::parse(&self.body)
            .map(|doc| doc.str_field(key).to_string())
            .unwrap_or_default()
    }

    pub fn id(&self) -> String {
        self.field("id")
    }

    /// The envelope, parsed.
    pub fn envelope(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

/// Which received events to list.
#[derive(Debug, Default)]
pub struct EventFilter {
    pub scope: Option<Scope>,
    pub bus: Option<String>,
    pub event_id: Option<String>,
    pub source: Option<String>,
    pub detail_type: Option<String>,
    /// A rule (name or ARN) the event matched.
    pub rule: Option<String>,
    pub limit: Option<usize>,
}

impl EventFilter {
    fn accepts(&self, r: &Received) -> bool {
        let wants_fields =
            self.event_id.is_some() || self.source.is_some() || self.detail_type.is_some();
        let doc = wants_fields.then(|| Node::parse(&r.body).ok()).flatten();
        let is = |want: &Option<String>, key: &str| {
            want.as_deref()
                .is_none_or(|q| doc.as_ref().is_some_and(|d| d.str_field(key) == q))
        };
        is(&self.event_id, "id")
            && is(&self.source, "source")
            && is(&self.detail_type, "detail-type")
            && self.rule.as_deref().is_none_or(|q| {
                r.rules
                    .iter()
                    .any(|rule| rule.arn == q || rule.rule.name == q)
            })
    }
}

type Ring = Arc<Mutex<VecDeque<Received>>>;

pub struct RecentEvents {
    capacity: usize,
    buses: RwLock<HashMap<Scope, HashMap<String, Ring>>>,
    seq: AtomicU64,
    changed: Notify,
    /// Set at shutdown: live readers (the console's streams) end instead of waiting.
    closed: std::sync::atomic::AtomicBool,
}

fn lock(ring: &Ring) -> std::sync::MutexGuard<'_, VecDeque<Received>> {
    ring.lock().unwrap_or_else(|e| e.into_inner())
}

impl RecentEvents {
    /// Keeps the newest `capacity` events of each bus (none when 0).
    pub fn new(capacity: usize) -> RecentEvents {
        RecentEvents {
            capacity,
            buses: RwLock::new(HashMap::new()),
            seq: AtomicU64::new(0),
            changed: Notify::new(),
            closed: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Whether events are kept at all.
    pub fn enabled(&self) -> bool {
        self.capacity > 0
    }

    /// Notified whenever events are recorded.
    pub fn changed(&self) -> &Notify {
        &self.changed
    }

    /// Tells live readers to end (the server is shutting down and waits for its
    /// connections).
    pub fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        self.changed.notify_waiters();
    }

    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    fn ring(&self, scope: &Scope, bus: &str) -> Ring {
        if let Some(ring) = self
            .buses
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(scope)
            .and_then(|b| b.get(bus))
        {
            return ring.clone();
        }
        let mut buses = self.buses.write().unwrap_or_else(|e| e.into_inner());
        buses
            .entry(scope.clone())
            .or_default()
            .entry(bus.to_string())
            .or_insert_with(|| Arc::new(Mutex::new(VecDeque::new())))
            .clone()
    }

    /// Records routed events with the rules each matched, at `now_ms`.
    pub fn record(&self, routed: Vec<(&Event, Vec<Arc<CompiledRule>>)>, now_ms: i64) {
        if self.capacity == 0 || routed.is_empty() {
            return;
        }
        let mut current: Option<(&Scope, &str, Ring)> = None;
        for (event, rules) in routed {
            let same = current
                .as_ref()
                .is_some_and(|(s, b, _)| **s == event.scope && *b == event.bus);
            if !same {
                current = Some((
                    &event.scope,
                    &event.bus,
                    self.ring(&event.scope, &event.bus),
                ));
            }
            let Some((_, _, ring)) = &current else {
                continue;
            };
            let mut ring = lock(ring);
            if ring.len() >= self.capacity {
                ring.pop_front();
            }
            ring.push_back(Received {
                seq: self.seq.fetch_add(1, Ordering::Relaxed),
                body: event.body.clone(),
                time_ms: event.time_ms,
                received_ms: now_ms,
                rules,
            });
        }
        self.changed.notify_waiters();
    }

    /// Matching events, newest first (at most `limit`), with their bus, and how many match
    /// in all.
    pub fn list(&self, filter: &EventFilter) -> (Vec<(Scope, String, Received)>, usize) {
        let rings: Vec<(Scope, String, Ring)> = {
            let buses = self.buses.read().unwrap_or_else(|e| e.into_inner());
            buses
                .iter()
                .filter(|(scope, _)| filter.scope.as_ref().is_none_or(|s| s == *scope))
                .flat_map(|(scope, by_name)| {
                    by_name
                        .iter()
                        .filter(|(name, _)| filter.bus.as_deref().is_none_or(|b| b == *name))
                        .map(|(name, ring)| (scope.clone(), name.clone(), ring.clone()))
                })
                .collect()
        };
        let mut found = Vec::new();
        for (scope, bus, ring) in rings {
            for received in lock(&ring).iter().filter(|r| filter.accepts(r)) {
                found.push((scope.clone(), bus.clone(), received.clone()));
            }
        }
        found.sort_by_key(|f| std::cmp::Reverse(f.2.seq));
        let total = found.len();
        found.truncate(filter.limit.unwrap_or(usize::MAX));
        (found, total)
    }

    /// The events of one bus that arrived after `after_seq` (all when `None`), oldest first,
    /// at most the newest `limit`: what a live view adds since it last looked. Walks the
    /// ring from its newest end, so a caught-up reader costs little.
    pub fn since(
        &self,
        scope: &Scope,
        bus: &str,
        after_seq: Option<u64>,
        limit: usize,
    ) -> Vec<Received> {
        let ring = {
            let buses = self.buses.read().unwrap_or_else(|e| e.into_inner());
            match buses.get(scope).and_then(|b| b.get(bus)) {
                Some(ring) => ring.clone(),
                None => return Vec::new(),
            }
        };
        let ring = lock(&ring);
        let mut found: Vec<Received> = ring
            .iter()
            .rev()
            .take_while(|r| after_seq.is_none_or(|after| r.seq > after))
            .take(limit)
            .cloned()
            .collect();
        found.reverse();
        found
    }

    /// Forgets the events of one scope (or all).
    pub fn clear(&self, scope: Option<&Scope>) {
        let mut buses = self.buses.write().unwrap_or_else(|e| e.into_inner());
        match scope {
            None => buses.clear(),
            Some(scope) => {
                buses.remove(scope);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Rule;

    fn event(scope: &Scope, bus: &str, id: &str) -> Event {
        Event::new(
            scope.clone(),
            bus.to_string(),
            0,
            serde_json::json!({"id": id, "source": "s", "detail-type": "d"}),
            0,
        )
    }

    #[test]
    fn bounded_per_bus_newest_first() {
        let scope = Scope {
            account: "000000000000".into(),
            region: "us-east-1".into(),
        };
        let recent = RecentEvents::new(2);
        let (a, b, c, d) = (
            event(&scope, "x", "1"),
            event(&scope, "x", "2"),
            event(&scope, "y", "3"),
            event(&scope, "x", "4"),
        );
        let rule = Arc::new(CompiledRule::new(
            Rule {
                scope: scope.clone(),
                bus_name: "x".into(),
                name: "r".into(),
                event_pattern: None,
                schedule_expression: None,
                state: crate::model::RuleState::Enabled,
                description: None,
                role_arn: None,
                managed_by: None,
                archive: None,
                tags: Vec::new(),
                targets: Vec::new(),
            },
            None,
        ));
        recent.record(
            vec![
                (&a, vec![]),
                (&b, vec![rule.clone()]),
                (&c, vec![]),
                (&d, vec![]),
            ],
            5,
        );
        let ids = |f: &EventFilter| {
            recent
                .list(f)
                .0
                .iter()
                .map(|(_, _, r)| r.id().to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(&EventFilter::default()), ["4", "3", "2"]);
        let on_x = EventFilter {
            bus: Some("x".into()),
            ..Default::default()
        };
        assert_eq!(ids(&on_x), ["4", "2"]);
        let by_rule = EventFilter {
            rule: Some("r".into()),
            ..Default::default()
        };
        assert_eq!(ids(&by_rule), ["2"]);
        let since: Vec<u64> = recent
            .since(&scope, "x", None, 10)
            .iter()
            .map(|r| r.seq)
            .collect();
        assert_eq!(since.len(), 2);
        assert_eq!(recent.since(&scope, "x", Some(since[0]), 10).len(), 1);
        assert_eq!(recent.since(&scope, "x", None, 1)[0].seq, since[1]);
        recent.clear(Some(&scope));
        assert!(ids(&EventFilter::default()).is_empty());
    }
}
