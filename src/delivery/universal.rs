//! EventBridge Scheduler's universal targets, `arn:aws:scheduler:::aws-sdk:SERVICE:apiAction`:
//! the schedule's `Input` is the request of that API action, made to the service's endpoint.
//!
//! Made here for the services whose protocol is JSON (the input is the request body as is),
//! for SNS (query protocol, a flat input) and for Lambda's `invoke`. Any other service or
//! action fails in the delivery log with the reason.

use bytes::Bytes;
use serde_json::{Map, Value};

use super::aws_call::{ServiceCall, call, json_headers};
use super::job::{Delivered, DeliveryJob, Failure};
use super::outbound::Outbound;
use crate::model::arn::ParsedArn;

/// A JSON-protocol service: (name in the universal ARN, endpoint variable suffix, signing
/// name, X-Amz-Target prefix, JSON version).
const JSON_SERVICES: [(&str, &str, &str, &str, &str); 6] = [
    ("sqs", "sqs", "sqs", "AmazonSQS", "1.0"),
    ("kinesis", "kinesis", "kinesis", "Kinesis_20131202", "1.1"),
    (
        "firehose",
        "firehose",
        "firehose",
        "Firehose_20150804",
        "1.1",
    ),
    ("sfn", "sfn", "states", "AWSStepFunctions", "1.0"),
    (
        "cloudwatchlogs",
        "cloudwatch_logs",
        "logs",
        "Logs_20140328",
        "1.1",
    ),
    ("eventbridge", "events", "events", "AWSEvents", "1.1"),
];

/// `sendMessage` -> `SendMessage`.
fn operation_name(action: &str) -> String {
    let mut chars = action.chars();
    match chars.next() {
        Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

fn input_object(job: &DeliveryJob) -> Result<Map<String, Value>, Failure> {
    match serde_json::from_str::<Value>(&job.body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(Failure::permanent(
            "the Input of a universal target must be a JSON object of the action's parameters",
        )),
    }
}

pub async fn invoke(
    out: &Outbound,
    job: &DeliveryJob,
    arn: &ParsedArn<'_>,
) -> Result<Delivered, Failure> {
    let target = job.target.arn();
    let mut parts = arn.resource.splitn(3, ':');
    let (Some("aws-sdk"), Some(service), Some(action)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(Failure::permanent(format!(
            "not a universal target ARN: {target}"
        )));
    };
    // The target's region is the schedule's (universal ARNs name none).
    let region = job.rule_scope.region.as_str();
    let operation = operation_name(action);
    if let Some((_, endpoint, signing, prefix, version)) =
        JSON_SERVICES.iter().find(|(name, ..)| *name == service)
    {
        input_object(job)?;
        return call(
            out,
            ServiceCall {
                endpoint,
                signing_name: signing,
                region,
                path: "/",
                headers: json_headers(&format!("{prefix}.{operation}"), version),
                body: Bytes::copy_from_slice(job.body.as_bytes()),
            },
        )
        .await;
    }
    match (service, operation.as_str()) {
        ("sns", _) => sns_query(out, job, region, &operation).await,
        ("lambda", "Invoke") => lambda_invoke(out, job, region).await,
        _ => Err(Failure::permanent(format!(
            "universal target not supported by eventbridge-local: {target} (supported: the JSON \
             services sqs, kinesis, firehose, sfn, cloudwatchlogs and eventbridge, sns, and \
             lambda:invoke)"
        ))),
    }
}

/// An SNS action in the query protocol, from a flat input (strings, numbers, booleans).
async fn sns_query(
    out: &Outbound,
    job: &DeliveryJob,
    region: &str,
    operation: &str,
) -> Result<Delivered, Failure> {
    let mut form = format!("Action={operation}&Version=2010-03-31");
    for (key, value) in input_object(job)? {
        let text = match value {
            Value::String(s) => s,
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            _ => {
                return Err(Failure::permanent(format!(
                    "universal SNS targets take flat parameters; {key} is not"
                )));
            }
        };
        form.push('&');
        form.push_str(&form_encode(&key));
        form.push('=');
        form.push_str(&form_encode(&text));
    }
    call(
        out,
        ServiceCall {
            endpoint: "sns",
            signing_name: "sns",
            region,
            path: "/",
            headers: vec![(
                "content-type",
                "application/x-www-form-urlencoded; charset=utf-8".to_string(),
            )],
            body: Bytes::from(form),
        },
    )
    .await
}

/// Lambda `invoke`: `FunctionName`, `Payload` (the request body), `InvocationType`.
async fn lambda_invoke(
    out: &Outbound,
    job: &DeliveryJob,
    region: &str,
) -> Result<Delivered, Failure> {
    let input = input_object(job)?;
    let Some(function) = input.get("FunctionName").and_then(Value::as_str) else {
        return Err(Failure::permanent("lambda:invoke needs FunctionName"));
    };
    let payload = match input.get("Payload") {
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    };
    let invocation_type = input
        .get("InvocationType")
        .and_then(Value::as_str)
        .unwrap_or("RequestResponse");
    call(
        out,
        ServiceCall {
            endpoint: "lambda",
            signing_name: "lambda",
            region,
            path: &format!(
                "/2015-03-31/functions/{}/invocations",
                form_encode(function)
            ),
            headers: vec![
                ("content-type", "application/json".to_string()),
                ("x-amz-invocation-type", invocation_type.to_string()),
            ],
            body: Bytes::from(payload),
        },
    )
    .await
}

fn form_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_names() {
        assert_eq!(operation_name("sendMessage"), "SendMessage");
        assert_eq!(operation_name("putRecord"), "PutRecord");
    }
}
