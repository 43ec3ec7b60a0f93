//! What a delivery made by an EventBridge Scheduler schedule carries besides the payload: the
//! context attributes its `Input` may name, rendered again for each attempt, and the message
//! attributes of its dead letters (which differ from a rule's).

use serde::{Deserialize, Serialize};

/// What a templated target receives when the schedule's target has no `Input`. AWS documents
/// "a default notification" without showing it; an empty JSON object is what every templated
/// target (Lambda and Step Functions want JSON) accepts.
pub const DEFAULT_INPUT: &str = "{}";

/// One invocation of a schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleInvocation {
    pub schedule_arn: String,
    pub group: String,
    pub name: String,
    /// The instant the expression gave, as `<aws.scheduler.scheduled-time>` shows it.
    pub scheduled_time: String,
    pub execution_id: String,
    /// The target's `Input` as set, its context attributes not yet substituted.
    pub input: Option<String>,
    /// `KinesisParameters.PartitionKey` (Kinesis targets).
    pub partition_key: Option<String>,
}

const ATTEMPT_NUMBER: &str = "<aws.scheduler.attempt-number>";

impl ScheduleInvocation {
    /// The payload of attempt `attempt`: `Input` with the context attributes substituted.
    pub fn payload(&self, attempt: u32) -> String {
        match &self.input {
            None => DEFAULT_INPUT.to_string(),
            Some(text) => text
                .replace("<aws.scheduler.schedule-arn>", &self.schedule_arn)
                .replace("<aws.scheduler.scheduled-time>", &self.scheduled_time)
                .replace("<aws.scheduler.execution-id>", &self.execution_id)
                .replace(ATTEMPT_NUMBER, &attempt.to_string()),
        }
    }

    /// Whether the payload changes from one attempt to the next.
    pub fn varies_by_attempt(&self) -> bool {
        self.input
            .as_deref()
            .is_some_and(|i| i.contains(ATTEMPT_NUMBER))
    }

    /// The message attributes of a dead-lettered invocation, as the Scheduler user guide's
    /// dead-letter event shows them (`attempt` is the last attempt's number).
    pub fn dead_letter_attributes(
        &self,
        attempt: u32,
        target_arn: &str,
        error: (String, String),
        exhausted: Option<&'static str>,
    ) -> Vec<(&'static str, String)> {
        let (code, message) = error;
        let mut attributes = vec![("ERROR_CODE", code), ("ERROR_MESSAGE", message)];
        if let Some(condition) = exhausted {
            attributes.push(("EXHAUSTED_RETRY_CONDITION", condition.to_string()));
        }
        attributes.extend([
            ("RETRY_ATTEMPTS", (attempt - 1).to_string()),
            ("TARGET_ARN", target_arn.to_string()),
            ("X-Amz-Scheduler-Attempt", attempt.to_string()),
            ("X-Amz-Scheduler-Group", self.group.clone()),
            ("X-Amz-Scheduler-Schedule", self.name.clone()),
            ("X-Amz-Scheduler-Schedule-Arn", self.schedule_arn.clone()),
        ]);
        attributes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invocation(input: Option<&str>) -> ScheduleInvocation {
        ScheduleInvocation {
            schedule_arn: "arn:aws:scheduler:us-east-1:000000000000:schedule/default/s".into(),
            group: "default".into(),
            name: "s".into(),
            scheduled_time: "2026-11-30T10:00:00Z".into(),
            execution_id: "e-1".into(),
            input: input.map(str::to_string),
            partition_key: None,
        }
    }

    #[test]
    fn substitutes_context_attributes() {
        let inv = invocation(Some(
            r#"{"a":"<aws.scheduler.schedule-arn>","t":"<aws.scheduler.scheduled-time>","e":"<aws.scheduler.execution-id>","n":<aws.scheduler.attempt-number>}"#,
        ));
        assert_eq!(
            inv.payload(3),
            r#"{"a":"arn:aws:scheduler:us-east-1:000000000000:schedule/default/s","t":"2026-11-30T10:00:00Z","e":"e-1","n":3}"#
        );
        assert!(inv.varies_by_attempt());
        assert_eq!(invocation(None).payload(1), "{}");
        assert_eq!(invocation(Some("plain text")).payload(1), "plain text");
    }
}
