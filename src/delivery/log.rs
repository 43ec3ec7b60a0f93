//! A bounded log of delivery attempts, newest first: what `/_local/deliveries` shows.

use std::collections::VecDeque;
use std::sync::Mutex;

use serde::Serialize;

/// Attempts kept; the oldest go first.
pub const CAPACITY: usize = 10_000;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryRecord {
    pub event_id: String,
    pub rule_arn: String,
    pub target_id: String,
    pub target_arn: String,
    pub attempt: u32,
    /// `succeeded`, `retrying` (this attempt failed, another is scheduled) or `failed`.
    pub outcome: &'static str,
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
}

/// Which records to list.
#[derive(Debug, Default)]
pub struct LogFilter {
    pub rule: Option<String>,
    pub target: Option<String>,
    pub event_id: Option<String>,
    pub limit: Option<usize>,
}

impl DeliveryLog {
    pub fn new(capacity: usize) -> DeliveryLog {
        DeliveryLog {
            capacity,
            records: Mutex::new(VecDeque::with_capacity(capacity.min(1024))),
        }
    }

    pub fn push(&self, record: DeliveryRecord) {
        let mut records = self.records.lock().unwrap_or_else(|e| e.into_inner());
        if records.len() == self.capacity {
            records.pop_back();
        }
        records.push_front(record);
    }

    /// Matching records, newest first. `rule` matches a rule ARN or name, `target` a target
    /// id or ARN.
    pub fn list(&self, filter: &LogFilter) -> Vec<DeliveryRecord> {
        let records = self.records.lock().unwrap_or_else(|e| e.into_inner());
        records
            .iter()
            .filter(|r| {
                filter
                    .rule
                    .as_deref()
                    .is_none_or(|q| r.rule_arn == q || r.rule_arn.rsplit('/').next() == Some(q))
                    && filter
                        .target
                        .as_deref()
                        .is_none_or(|q| r.target_id == q || r.target_arn == q)
                    && filter.event_id.as_deref().is_none_or(|q| r.event_id == q)
            })
            .take(filter.limit.unwrap_or(usize::MAX))
            .cloned()
            .collect()
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
            attempt: 1,
            outcome: "succeeded",
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
        let all = log.list(&LogFilter::default());
        assert_eq!(
            all.iter().map(|r| r.event_id.as_str()).collect::<Vec<_>>(),
            ["e3", "e2"]
        );
        let r1 = log.list(&LogFilter {
            rule: Some("r1".into()),
            ..Default::default()
        });
        assert_eq!(r1.len(), 1);
        assert_eq!(r1[0].event_id, "e3");
    }
}
