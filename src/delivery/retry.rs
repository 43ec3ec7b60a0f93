//! After a failed attempt: whether the target's `RetryPolicy` allows another, how long to
//! wait for it, and the dead-letter queue once none is left.

use std::time::Duration;

use rand::Rng;

use super::job::{DeliveryJob, Failure};
use super::outbound::Outbound;
use super::sqs;
use crate::model::arn;

/// AWS's defaults when a target has no RetryPolicy.
const DEFAULT_MAX_RETRIES: u32 = 185;
const DEFAULT_MAX_AGE_SECS: i64 = 86_400;
/// Backoff never waits longer than this between attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// Which limit of the retry policy stops further attempts at `now_ms` (the delivery
/// clock), if one does.
pub fn exhausted(job: &DeliveryJob, now_ms: i64) -> Option<&'static str> {
    let policy = job.target.retry_policy();
    let max_retries = policy.maximum_retry_attempts.unwrap_or(DEFAULT_MAX_RETRIES);
    let max_age_secs = policy
        .maximum_event_age_secs
        .unwrap_or(DEFAULT_MAX_AGE_SECS);
    if job.attempt > max_retries {
        Some("MaximumRetryAttempts")
    } else if now_ms - job.first_attempt_ms >= max_age_secs * 1000 {
        Some("MaximumEventAgeInSeconds")
    } else {
        None
    }
}

/// Exponential backoff with full jitter before attempt `attempt + 1`.
pub fn backoff(base: Duration, attempt: u32) -> Duration {
    let exp = base
        .saturating_mul(1u32 << attempt.min(16))
        .min(MAX_BACKOFF);
    exp.mul_f64(rand::thread_rng().gen_range(0.5..=1.0))
}

/// Sends a finally failed event to the target's dead-letter queue, or, when the target has
/// none, to `bus_queue` (its bus's `DeadLetterConfig`), with the message attributes AWS sets.
/// Returns whether it went there.
pub async fn dead_letter(
    out: &Outbound,
    job: &DeliveryJob,
    failure: &Failure,
    exhausted: Option<&'static str>,
    bus_queue: Option<&str>,
) -> bool {
    let Some(dlq_arn) = job.target.dead_letter_arn().or(bus_queue) else {
        return false;
    };
    let Some(parsed) = arn::parse(dlq_arn).filter(|p| p.service == "sqs") else {
        tracing::warn!(dlq = %dlq_arn, "dead-letter queue is not an SQS queue ARN");
        return false;
    };
    // A schedule's dead letter is the payload it sent, with Scheduler's attributes; a rule's
    // is the event, with EventBridge's.
    let (body, attributes) = match &job.schedule {
        Some(invocation) => (
            &job.body,
            invocation.dead_letter_attributes(
                job.attempt,
                job.target.arn(),
                (failure.service_error_code(), failure.reason.clone()),
                exhausted,
            ),
        ),
        None => {
            let mut attributes = vec![
                ("RULE_ARN", job.rule_arn.clone()),
                ("TARGET_ARN", job.target.arn().to_string()),
                ("ERROR_CODE", failure.error_code().to_string()),
                ("ERROR_MESSAGE", failure.reason.clone()),
                ("RETRY_ATTEMPTS", (job.attempt - 1).to_string()),
            ];
            if let Some(condition) = exhausted {
                attributes.push(("EXHAUSTED_RETRY_CONDITION", condition.to_string()));
            }
            (&job.event, attributes)
        }
    };
    match sqs::send(out, &parsed, body, None, &attributes).await {
        Ok(_) => true,
        Err(e) => {
            tracing::warn!(dlq = %dlq_arn, reason = %e.reason, "sending to the dead-letter queue failed");
            false
        }
    }
}
