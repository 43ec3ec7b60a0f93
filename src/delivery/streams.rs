//! Kinesis and Firehose targets: PutRecord with the payload as base64 data.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use serde_json::{Value, json};

use super::aws_call::{ServiceCall, call, json_headers};
use super::job::{Delivered, DeliveryJob, Failure};
use super::outbound::Outbound;
use crate::model::arn::ParsedArn;
use crate::transform::JsonPath;

/// The partition key: a schedule's `PartitionKey`, or `KinesisParameters.PartitionKeyPath`
/// read from the event, or the event id when there is none (AWS's default).
fn partition_key(job: &DeliveryJob) -> String {
    // A schedule's Kinesis target names its key outright (`KinesisParameters.PartitionKey`).
    if let Some(key) = job.schedule.as_ref().and_then(|s| s.partition_key.clone()) {
        return key;
    }
    let path = job
        .target
        .kinesis_partition_key_path()
        .and_then(JsonPath::parse);
    let Some(path) = path else {
        return job.event_id.clone();
    };
    let event: Value = serde_json::from_str(&job.event).unwrap_or(Value::Null);
    match path.select(&event).as_deref() {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => job.event_id.clone(),
        Some(other) => other.to_string(),
    }
}

pub async fn kinesis_put_record(
    out: &Outbound,
    job: &DeliveryJob,
    arn: &ParsedArn<'_>,
) -> Result<Delivered, Failure> {
    let stream = arn.resource.strip_prefix("stream/").unwrap_or(arn.resource);
    let request = json!({
        "StreamName": stream,
        "Data": STANDARD.encode(job.body.as_bytes()),
        "PartitionKey": partition_key(job),
    });
    call(
        out,
        ServiceCall {
            endpoint: "kinesis",
            signing_name: "kinesis",
            region: arn.region,
            path: "/",
            headers: json_headers("Kinesis_20131202.PutRecord", "1.1"),
            body: Bytes::from(request.to_string()),
        },
    )
    .await
}

pub async fn firehose_put_record(
    out: &Outbound,
    job: &DeliveryJob,
    arn: &ParsedArn<'_>,
) -> Result<Delivered, Failure> {
    let stream = arn
        .resource
        .strip_prefix("deliverystream/")
        .unwrap_or(arn.resource);
    let request = json!({
        "DeliveryStreamName": stream,
        "Record": {"Data": STANDARD.encode(job.body.as_bytes())},
    });
    call(
        out,
        ServiceCall {
            endpoint: "firehose",
            signing_name: "firehose",
            region: arn.region,
            path: "/",
            headers: json_headers("Firehose_20150804.PutRecord", "1.1"),
            body: Bytes::from(request.to_string()),
        },
    )
    .await
}
