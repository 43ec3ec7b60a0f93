//! Lambda targets: an asynchronous Invoke, as EventBridge makes it.

use bytes::Bytes;

use super::http::HttpOutcome;
use super::{DeliveryJob, Failure};
use crate::app::App;
use crate::model::arn::ParsedArn;

pub async fn invoke(
    app: &App,
    job: &DeliveryJob,
    arn: &ParsedArn<'_>,
) -> Result<Option<u16>, Failure> {
    let endpoint = app.delivery.endpoint("lambda")?;
    // `function:name` or `function:name:qualifier`.
    let mut parts = arn.resource.split(':').skip(1);
    let name = parts.next().unwrap_or_default();
    let query = parts
        .next()
        .map(|q| format!("?Qualifier={q}"))
        .unwrap_or_default();
    let url = format!("{endpoint}/2015-03-31/functions/{name}/invocations{query}");
    let outcome = app
        .delivery
        .client
        .send_signed(
            "POST",
            &url,
            &[
                ("content-type", "application/json".to_string()),
                ("x-amz-invocation-type", "Event".to_string()),
            ],
            Bytes::copy_from_slice(job.body.as_bytes()),
            "lambda",
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
