//! Lambda targets: an asynchronous Invoke, as EventBridge makes it.

use bytes::Bytes;

use super::aws_call::{ServiceCall, call};
use super::job::{Delivered, DeliveryJob, Failure};
use super::outbound::Outbound;
use crate::model::arn::ParsedArn;

pub async fn invoke(
    out: &Outbound,
    job: &DeliveryJob,
    arn: &ParsedArn<'_>,
) -> Result<Delivered, Failure> {
    // `function:name` or `function:name:qualifier`.
    let mut parts = arn.resource.split(':').skip(1);
    let name = parts.next().unwrap_or_default();
    let query = parts
        .next()
        .map(|q| format!("?Qualifier={q}"))
        .unwrap_or_default();
    call(
        out,
        ServiceCall {
            endpoint: "lambda",
            signing_name: "lambda",
            region: arn.region,
            path: &format!("/2015-03-31/functions/{name}/invocations{query}"),
            headers: vec![
                ("content-type", "application/json".to_string()),
                ("x-amz-invocation-type", "Event".to_string()),
            ],
            body: Bytes::copy_from_slice(job.body.as_bytes()),
        },
    )
    .await
}
