//! SQS targets: SendMessage in the JSON protocol; FIFO queues get the message group of
//! `SqsParameters` and the event id as deduplication id. Also the dead-letter queue.

use bytes::Bytes;
use serde_json::{Value, json};

use super::aws_call::{ServiceCall, call, json_headers};
use super::job::{Delivered, DeliveryJob, Failure};
use super::outbound::Outbound;
use crate::model::arn::ParsedArn;

/// Sends `body` to the queue of `arn`, with message attributes (name, string value).
pub async fn send(
    out: &Outbound,
    arn: &ParsedArn<'_>,
    body: &str,
    group_and_dedup: Option<(&str, &str)>,
    attributes: &[(&str, String)],
) -> Result<Delivered, Failure> {
    let endpoint = out.endpoint("sqs")?;
    let queue = arn.resource;
    let mut request = json!({
        "QueueUrl": format!("{endpoint}/{}/{queue}", arn.account),
        "MessageBody": body,
    });
    if let Some((group, dedup)) = group_and_dedup {
        request["MessageGroupId"] = json!(group);
        request["MessageDeduplicationId"] = json!(dedup);
    }
    if !attributes.is_empty() {
        let map: serde_json::Map<String, Value> = attributes
            .iter()
            .map(|(name, value)| {
                (
                    name.to_string(),
                    json!({"DataType": "String", "StringValue": value}),
                )
            })
            .collect();
        request["MessageAttributes"] = Value::Object(map);
    }
    call(
        out,
        ServiceCall {
            endpoint: "sqs",
            signing_name: "sqs",
            region: arn.region,
            path: "/",
            headers: json_headers("AmazonSQS.SendMessage", "1.0"),
            body: Bytes::from(request.to_string()),
        },
    )
    .await
}

pub async fn send_message(
    out: &Outbound,
    job: &DeliveryJob,
    arn: &ParsedArn<'_>,
) -> Result<Delivered, Failure> {
    let fifo = arn.resource.ends_with(".fifo").then(|| {
        let group = job.target.sqs_message_group_id().unwrap_or_default();
        (group, job.event_id.as_str())
    });
    send(out, arn, &job.body, fifo, &[]).await
}
