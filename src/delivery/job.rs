//! What travels through the delivery queue (a job), and what one attempt at it comes to.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::invocation::ScheduleInvocation;
use crate::catalog::CompiledRule;
use crate::model::event::Event;
use crate::model::{Scope, Target};

/// One event for one target. Serializable: the deliveries still pending at shutdown are
/// stored and resume at the next start.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeliveryJob {
    /// Identifies the job while it is pending in this process.
    #[serde(skip)]
    pub id: u64,
    pub event_id: String,
    /// What the target receives.
    pub body: Arc<str>,
    /// The event itself (bus-to-bus deliveries forward it whatever the input settings).
    pub event: Arc<str>,
    /// The same, parsed, while in this process (bus-to-bus deliveries route it as is).
    #[serde(skip)]
    pub envelope: Option<Arc<serde_json::Value>>,
    pub time_ms: i64,
    pub rule_arn: String,
    pub rule_scope: Scope,
    pub target: Arc<Target>,
    pub hops: u8,
    pub attempt: u32,
    pub first_attempt_ms: i64,
    /// Set when an EventBridge Scheduler schedule made the job (`rule_arn` is then the
    /// schedule's ARN): what its input, dead letters and stream targets need.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<Arc<ScheduleInvocation>>,
}

impl DeliveryJob {
    /// A delivery of `payload` (the event, or what the target's input transformation made
    /// of it) to `target`, made at `now_ms` on the delivery clock (event age counts from it).
    pub fn new(
        event: &Event,
        event_id: &str,
        rule: &CompiledRule,
        target: Arc<Target>,
        payload: Arc<str>,
        now_ms: i64,
    ) -> DeliveryJob {
        DeliveryJob {
            id: 0,
            event_id: event_id.to_string(),
            body: payload,
            event: event.body.clone(),
            envelope: event.parsed_envelope(),
            time_ms: event.time_ms,
            rule_arn: rule.arn.clone(),
            rule_scope: rule.rule.scope.clone(),
            target,
            hops: event.hops,
            attempt: 1,
            first_attempt_ms: now_ms,
            schedule: None,
        }
    }
}

/// What a target answered to a successful attempt.
#[derive(Debug, Default)]
pub struct Delivered {
    pub status: Option<u16>,
    pub body: bytes::Bytes,
}

/// Why one attempt failed, and whether another may succeed.
#[derive(Debug)]
pub struct Failure {
    pub retryable: bool,
    pub status: Option<u16>,
    pub reason: String,
}

impl Failure {
    pub fn permanent(reason: impl Into<String>) -> Failure {
        Failure {
            retryable: false,
            status: None,
            reason: reason.into(),
        }
    }

    /// A failure that another attempt may not meet (no answer, a busy bus).
    pub fn transient(reason: impl Into<String>) -> Failure {
        Failure {
            retryable: true,
            status: None,
            reason: reason.into(),
        }
    }

    /// Classifies an HTTP answer as AWS does: throttling and server errors are retried.
    pub fn from_status(status: u16, body: &[u8]) -> Failure {
        Failure {
            retryable: status == 429 || status >= 500,
            status: Some(status),
            reason: String::from_utf8_lossy(&body[..body.len().min(512)]).into_owned(),
        }
    }

    /// The target service's own error code when its answer names one (`__type`, `code` or
    /// `Code`), else [`Failure::error_code`]: Scheduler's dead letters carry the former.
    pub fn service_error_code(&self) -> String {
        let named = serde_json::from_str::<serde_json::Value>(&self.reason)
            .ok()
            .and_then(|body| {
                ["__type", "code", "Code"]
                    .iter()
                    .find_map(|k| body.get(*k).and_then(|v| v.as_str()).map(str::to_string))
            })
            .map(|code| code.rsplit('#').next().unwrap_or_default().to_string())
            .filter(|code| !code.is_empty());
        named.unwrap_or_else(|| self.error_code().to_string())
    }

    /// The `ERROR_CODE` attribute of a dead-lettered event.
    pub fn error_code(&self) -> &'static str {
        match self.status {
            None => "SDK_CLIENT_ERROR",
            Some(404) => "RESOURCE_NOT_FOUND",
            Some(401 | 403) => "NO_PERMISSIONS",
            Some(429) => "THROTTLING",
            Some(s) if s >= 500 => "INTERNAL_ERROR",
            Some(_) => "CLIENT_ERROR",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_error_code_from_the_answer() {
        let f = Failure::from_status(
            400,
            br#"{"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"x"}"#,
        );
        assert_eq!(f.service_error_code(), "QueueDoesNotExist");
        assert_eq!(
            Failure::permanent("nope").service_error_code(),
            "SDK_CLIENT_ERROR"
        );
    }
}
