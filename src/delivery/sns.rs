//! SNS targets: Publish to the topic (SNS speaks the query protocol: a form-encoded POST).

use bytes::Bytes;

use super::aws_call::{ServiceCall, call};
use super::job::{Delivered, DeliveryJob, Failure};
use super::outbound::Outbound;
use crate::model::arn::ParsedArn;

/// `application/x-www-form-urlencoded` encoding of one value.
fn form_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len() * 3 / 2);
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

pub async fn publish(
    out: &Outbound,
    job: &DeliveryJob,
    arn: &ParsedArn<'_>,
) -> Result<Delivered, Failure> {
    let topic_arn = job.target.arn();
    let body = format!(
        "Action=Publish&Version=2010-03-31&TopicArn={}&Message={}",
        form_encode(topic_arn),
        form_encode(&job.body)
    );
    call(
        out,
        ServiceCall {
            endpoint: "sns",
            signing_name: "sns",
            region: arn.region,
            path: "/",
            headers: vec![(
                "content-type",
                "application/x-www-form-urlencoded; charset=utf-8".to_string(),
            )],
            body: Bytes::from(body),
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::form_encode;

    #[test]
    fn encodes_reserved_characters() {
        assert_eq!(form_encode("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
        assert_eq!(form_encode("arn:aws:sns"), "arn%3Aaws%3Asns");
    }
}
