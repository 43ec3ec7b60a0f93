//! SQS targets: SendMessage in the JSON protocol; FIFO queues get the message group of
//! `SqsParameters` and the event id as deduplication id.

use bytes::Bytes;
use serde_json::json;

use super::http::HttpOutcome;
use super::{DeliveryJob, Failure};
use crate::app::App;
use crate::model::arn::ParsedArn;

pub async fn send_message(
    app: &App,
    job: &DeliveryJob,
    arn: &ParsedArn<'_>,
) -> Result<Option<u16>, Failure> {
    let endpoint = app.delivery.endpoint("sqs")?;
    let queue = arn.resource;
    let mut request = json!({
        "QueueUrl": format!("{endpoint}/{}/{queue}", arn.account),
        "MessageBody": &*job.body,
    });
    if queue.ends_with(".fifo") {
        let group = job
            .target
            .0
            .get("SqsParameters")
            .and_then(|p| p.get("MessageGroupId"))
            .and_then(|g| g.as_str())
            .unwrap_or_default();
        request["MessageGroupId"] = json!(group);
        request["MessageDeduplicationId"] = json!(job.event_id);
    }
    let outcome = app
        .delivery
        .client
        .send_signed(
            "POST",
            &format!("{endpoint}/"),
            &[
                ("content-type", "application/x-amz-json-1.0".to_string()),
                ("x-amz-target", "AmazonSQS.SendMessage".to_string()),
            ],
            Bytes::from(request.to_string()),
            "sqs",
            arn.region,
        )
        .await;
    match outcome {
        HttpOutcome::Response { status, .. } if (200..300).contains(&status) => Ok(Some(status)),
        HttpOutcome::Response { status, body } => Err(Failure::from_status(status, &body)),
        HttpOutcome::Transport(reason) => Err(Failure {
            retryable: true,
            status: None,
            reason,
        }),
    }
}
