//! One signed call to an AWS service endpoint, classified as AWS classifies target failures.

use bytes::Bytes;

use super::http::HttpOutcome;
use super::job::{Delivered, Failure};
use super::outbound::Outbound;

/// A request to an AWS service that a target lives in.
pub struct ServiceCall<'a> {
    /// Suffix of the SDK endpoint variable (`sqs` for AWS_ENDPOINT_URL_SQS).
    pub endpoint: &'a str,
    /// SigV4 signing name.
    pub signing_name: &'a str,
    pub region: &'a str,
    /// Path after the endpoint, starting with `/`.
    pub path: &'a str,
    pub headers: Vec<(&'a str, String)>,
    pub body: Bytes,
}

/// JSON-protocol headers: `X-Amz-Target` and the JSON content type of that protocol version.
pub fn json_headers<'a>(target: &str, json_version: &str) -> Vec<(&'a str, String)> {
    vec![
        (
            "content-type",
            format!("application/x-amz-json-{json_version}"),
        ),
        ("x-amz-target", target.to_string()),
    ]
}

pub async fn call(out: &Outbound, call: ServiceCall<'_>) -> Result<Delivered, Failure> {
    let endpoint = out.endpoint(call.endpoint)?;
    let url = format!("{endpoint}{}", call.path);
    let outcome = out
        .client
        .send_signed(
            "POST",
            &url,
            &call.headers,
            call.body,
            call.signing_name,
            call.region,
        )
        .await;
    match outcome {
        HttpOutcome::Response { status, body } if (200..300).contains(&status) => Ok(Delivered {
            status: Some(status),
            body,
        }),
        HttpOutcome::Response { status, body } => Err(Failure::from_status(status, &body)),
        HttpOutcome::Transport(reason) => Err(Failure {
            retryable: true,
            status: None,
            reason,
        }),
    }
}
