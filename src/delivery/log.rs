//! A bounded log of delivery attempts, newest first: what `/_local/deliveries` shows.

use std::collections::VecDeque;
use std::sync::Mutex;

use serde::Serialize;
use tokio::sync::Notify;

use crate::model::Scope;

/// Attempts kept; the oldest go first.
pub const CAPACITY: usize = 10_000;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryRecord {
    pub event_id: String,
    pub rule_arn: String,
    pub target_id: String,
    pub target_arn: String,
    /// The event's `source` and `detail-type`, for filtering.
    pub source: String,
    pub detail_type: String,
    pub attempt: u32,
    /// `succeeded`, `retrying` (this attempt failed, another is scheduled), `failed` or
    /// `dead-lettered`.
    pub outcome: &'static str,
    /// The failure was injected by `/_local/faults`: no real attempt was made.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub injected: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub started_ms: i64,
    pub finished_ms: i64,
}

pub struct DeliveryLog {
    capacity: usize,
    records: Mutex<VecDeque<DeliveryRecord>>,
    /// Woken on every new record (waits at `/_local/deliveries?wait=`).
    changed: Notify,
}

/// Which records to list.
#[derive(Debug, Default)]
pub struct LogFilter {
    pub rule: Option<String>,
    pub target: Option<String>,
    pub event_id: Option<String>,
    pub outcome: Option<String>,
    pub source: Option<String>,
    pub detail_type: Option<String>,
    pub limit: Option<usize>,
}

impl LogFilter {
    fn accepts(&self, r: &DeliveryRecord) -> bool {
        let is = |want: &Option<String>, have: &str| want.as_deref().is_none_or(|q| q == have);
        self.rule
            .as_deref()
            .is_none_or(|q| r.rule_arn == q || r.rule_arn.rsplit('/').next() == Some(q))
            && self
                .target
                .as_deref()
                .is_none_or(|q| r.target_id == q || r.target_arn == q)
            && is(&self.event_id, &r.event_id)
            && is(&self.outcome, r.outcome)
            && is(&self.source, &r.source)
            && is(&self.detail_type, &r.detail_type)
    }
}

impl DeliveryLog {
    pub fn new(capacity: usize) -> DeliveryLog {
        DeliveryLog {
            capacity,
            records: Mutex::new(VecDeque::with_capacity(capacity.min(1024))),
            changed: Notify::new(),
        }
    }

    /// Notified whenever a record is added.
    pub fn changed(&self) -> &Notify {
        &self.changed
    }

    pub fn push(&self, record: DeliveryRecord) {
        let mut records = self.records.lock().unwrap_or_else(|e| e.into_inner());
        if records.len() == self.capacity {
            records.pop_back();
        }
        records.push_front(record);
        drop(records);
        self.changed.notify_waiters();
    }

    /// Forgets the records of rules in `scope` (or all).
    pub fn clear(&self, scope: Option<&Scope>) {
        let mut records = self.records.lock().unwrap_or_else(|e| e.into_inner());
        match scope {
            None => records.clear(),
            Some(scope) => records.retain(|r| !crate::model::arn::in_scope(&r.rule_arn, scope)),
        }
    }

    /// Matching records, newest first (at most `limit`), and how many match in all.
    /// `rule` matches a rule ARN or name, `target` a target id or ARN.
    pub fn list(&self, filter: &LogFilter) -> (Vec<DeliveryRecord>, usize) {
        let records = self.records.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = Vec::new();
        let mut total = 0;
        for r in records.iter().filter(|r| filter.accepts(r)) {
            total += 1;
            if out.len() < filter.limit.unwrap_or(usize::MAX) {
                out.push(r.clone());
            }
        }
        (out, total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(event: &str, rule: &str) -> DeliveryRecord {
        DeliveryRecord {
            event_id: event.into(),
            rule_arn: format!("arn:aws:events:us-east-1:000000000000:rule/{rule}"),
            target_id: "t".into(),
            target_arn: "arn:aws:lambda:us-east-1:000000000000:function:f".into(),
            source: "s".into(),
            detail_type: "d".into(),
            attempt: 1,
            outcome: "succeeded",
            injected: false,
            status: Some(202),
            error: None,
            started_ms: 0,
            finished_ms: 0,
        }
    }

    #[test]
    fn bounded_newest_first_and_filtered() {
        let log = DeliveryLog::new(2);
        log.push(record("e1", "r1"));
        log.push(record("e2", "r2"));
        log.push(record("e3", "r1"));
        let (all, _) = log.list(&LogFilter::default());
        assert_eq!(
            all.iter().map(|r| r.event_id.as_str()).collect::<Vec<_>>(),
            ["e3", "e2"]
        );
        let (r1, _) = log.list(&LogFilter {
            rule: Some("r1".into()),
            ..Default::default()
        });
        assert_eq!(r1.len(), 1);
        assert_eq!(r1[0].event_id, "e3");
        log.clear(Some(&Scope {
            account: "000000000000".into(),
            region: "eu-west-1".into(),
        }));
        assert_eq!(log.list(&LogFilter::default()).1, 2);
        log.clear(Some(&Scope {
            account: "000000000000".into(),
            region: "us-east-1".into(),
        }));
        assert_eq!(log.list(&LogFilter::default()).1, 0);
    }
}
