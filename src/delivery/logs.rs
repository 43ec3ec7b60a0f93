//! CloudWatch Logs targets: the event written to the log group of the target ARN, in a log
//! stream named after the event id (created first; "already exists" is fine).
//! AWS's own stream naming is not documented in the reference; one stream per event keeps
//! events apart and needs no sequence tokens.

use bytes::Bytes;
use serde_json::json;

use super::aws_call::{ServiceCall, call, json_headers};
use super::job::{Delivered, DeliveryJob, Failure};
use super::outbound::Outbound;
use crate::model::arn::ParsedArn;
use crate::model::time::now_ms;

pub async fn put_log_event(
    out: &Outbound,
    job: &DeliveryJob,
    arn: &ParsedArn<'_>,
) -> Result<Delivered, Failure> {
    // `log-group:NAME` or `log-group:NAME:*`
    let group = arn
        .resource
        .strip_prefix("log-group:")
        .unwrap_or(arn.resource)
        .trim_end_matches(":*");
    let stream = &job.event_id;
    let create = call(
        out,
        ServiceCall {
            endpoint: "cloudwatch_logs",
            signing_name: "logs",
            region: arn.region,
            path: "/",
            headers: json_headers("Logs_20140328.CreateLogStream", "1.1"),
            body: Bytes::from(json!({"logGroupName": group, "logStreamName": stream}).to_string()),
        },
    )
    .await;
    if let Err(failure) = create
        && !failure.reason.contains("ResourceAlreadyExistsException")
    {
        return Err(failure);
    }
    call(
        out,
        ServiceCall {
            endpoint: "cloudwatch_logs",
            signing_name: "logs",
            region: arn.region,
            path: "/",
            headers: json_headers("Logs_20140328.PutLogEvents", "1.1"),
            body: Bytes::from(
                json!({
                    "logGroupName": group,
                    "logStreamName": stream,
                    "logEvents": [{"timestamp": now_ms(), "message": &*job.body}],
                })
                .to_string(),
            ),
        },
    )
    .await
}
