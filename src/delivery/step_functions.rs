//! Step Functions targets: StartExecution with the payload as input.

use bytes::Bytes;
use serde_json::json;

use super::aws_call::{ServiceCall, call, json_headers};
use super::job::{Delivered, DeliveryJob, Failure};
use super::outbound::Outbound;
use crate::model::arn::ParsedArn;

pub async fn start_execution(
    out: &Outbound,
    job: &DeliveryJob,
    arn: &ParsedArn<'_>,
) -> Result<Delivered, Failure> {
    let request = json!({
        "stateMachineArn": job.target.arn(),
        "input": &*job.body,
    });
    call(
        out,
        ServiceCall {
            endpoint: "sfn",
            signing_name: "states",
            region: arn.region,
            path: "/",
            headers: json_headers("AWSStepFunctions.StartExecution", "1.0"),
            body: Bytes::from(request.to_string()),
        },
    )
    .await
}
