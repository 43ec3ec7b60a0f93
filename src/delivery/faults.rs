//! Injected failures (`/_local/faults`): deliveries to a chosen target fail the next N
//! times or for a while, with a chosen error, before any real attempt is made. Retry
//! policies and dead-letter queues can then be tested without a broken endpoint.
//!
//! Checked on every attempt, so the common case (no fault at all) is one atomic load.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use super::job::{DeliveryJob, Failure};
use crate::model::{Scope, arn};

/// The error an injected failure looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum InjectedError {
    /// The target answered this HTTP status (429 and 5xx are retried, as AWS does).
    Status(u16),
    /// The target did not answer in time (retried).
    Timeout,
    /// Nothing listened (retried).
    ConnectionRefused,
}

impl InjectedError {
    fn failure(self) -> Failure {
        const BY: &str = "injected by /_local/faults";
        match self {
            InjectedError::Status(status) => {
                Failure::from_status(status, format!("HTTP {status} ({BY})").as_bytes())
            }
            InjectedError::Timeout => Failure::transient(format!("no answer in time ({BY})")),
            InjectedError::ConnectionRefused => {
                Failure::transient(format!("connection refused ({BY})"))
            }
        }
    }
}

/// Which deliveries a fault hits: a target by ARN, or by rule (name or ARN) and, optionally,
/// target id.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FaultSelector {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_id: Option<String>,
}

impl FaultSelector {
    fn hits(&self, job: &DeliveryJob) -> bool {
        self.target_arn
            .as_deref()
            .is_none_or(|arn| job.target.arn() == arn)
            && self.rule.as_deref().is_none_or(|rule| {
                job.rule_arn == rule || job.rule_arn.rsplit('/').next() == Some(rule)
            })
            && self
                .target_id
                .as_deref()
                .is_none_or(|id| job.target.id() == id)
    }

    /// Whether the fault names something of `scope` (by ARN); a fault by rule name alone
    /// belongs to no scope.
    fn in_scope(&self, scope: &Scope) -> bool {
        let of_scope = |arn: &str| arn::in_scope(arn, scope);
        self.target_arn.as_deref().is_some_and(of_scope)
            || self.rule.as_deref().is_some_and(of_scope)
    }
}

/// One injected fault, as `/_local/faults` shows it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Fault {
    pub id: String,
    #[serde(flatten)]
    pub selector: FaultSelector,
    pub error: InjectedError,
    /// Attempts still to fail; `None`: no count (a duration, or until cleared).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remaining: Option<u64>,
    /// Until when (epoch ms on the server's clock) attempts fail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until_ms: Option<i64>,
    /// Attempts failed so far.
    pub injected: u64,
}

#[derive(Default)]
pub struct Faults {
    any: AtomicBool,
    next_id: AtomicU64,
    list: Mutex<Vec<Fault>>,
}

impl Faults {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Fault>> {
        self.list.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether any fault may be in force (the common case, none, costs one load).
    pub fn active(&self) -> bool {
        self.any.load(Ordering::Relaxed)
    }

    /// Adds a fault; returns it with its id.
    pub fn add(
        &self,
        selector: FaultSelector,
        error: InjectedError,
        count: Option<u64>,
        until_ms: Option<i64>,
    ) -> Fault {
        let id = format!("fault-{}", self.next_id.fetch_add(1, Ordering::Relaxed) + 1);
        let fault = Fault {
            id,
            selector,
            error,
            remaining: count,
            until_ms,
            injected: 0,
        };
        let mut list = self.lock();
        list.push(fault.clone());
        self.any.store(true, Ordering::SeqCst);
        fault
    }

    /// The faults in force at `now_ms`.
    pub fn list(&self, now_ms: i64) -> Vec<Fault> {
        let mut list = self.lock();
        list.retain(|f| live(f, now_ms));
        list.clone()
    }

    /// Removes the fault `id`, or every fault when `None`; returns how many went.
    pub fn clear(&self, id: Option<&str>) -> usize {
        let mut list = self.lock();
        let before = list.len();
        list.retain(|f| id.is_some_and(|id| f.id != id));
        self.any.store(!list.is_empty(), Ordering::SeqCst);
        before - list.len()
    }

    /// Removes the faults of one scope (or all).
    pub fn reset(&self, scope: Option<&Scope>) {
        let mut list = self.lock();
        list.retain(|f| scope.is_some_and(|s| !f.selector.in_scope(s)));
        self.any.store(!list.is_empty(), Ordering::SeqCst);
    }

    /// The failure to inject into this attempt at `job`, if a fault hits it (and counts it).
    pub fn take(&self, job: &DeliveryJob, now_ms: i64) -> Option<Failure> {
        if !self.active() {
            return None;
        }
        let mut list = self.lock();
        list.retain(|f| live(f, now_ms));
        self.any.store(!list.is_empty(), Ordering::SeqCst);
        let fault = list.iter_mut().find(|f| f.selector.hits(job))?;
        fault.injected += 1;
        if let Some(n) = &mut fault.remaining {
            *n -= 1;
        }
        Some(fault.error.failure())
    }
}

fn live(fault: &Fault, now_ms: i64) -> bool {
    fault.remaining.is_none_or(|n| n > 0) && fault.until_ms.is_none_or(|t| now_ms < t)
}
