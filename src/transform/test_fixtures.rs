//! Test fixtures shared by the facade's tests and the template's: the documented example
//! event and a rule context. Depends only on `predefined`, so any test module may use it
//! without an import cycle.

use serde_json::{Value, json};

use super::predefined::TransformContext;

const RULE_ARN_VALUE: &str = "arn:aws:events:us-east-2:123456789012:rule/example";
/// 2015-11-11T21:29:55.250Z
const INGESTED_MS: i64 = 1_447_277_395_250;

pub(super) fn ctx() -> TransformContext<'static> {
    TransformContext {
        rule_arn: RULE_ARN_VALUE,
        rule_name: "example",
        ingestion_time_ms: INGESTED_MS,
    }
}

/// The EC2 instance state-change event of "Amazon EventBridge input transformation".
pub(super) fn ec2_event() -> Value {
    json!({
        "version": "0",
        "id": "7bf73129-1428-4cd3-a780-95db273d1602",
        "detail-type": "EC2 Instance State-change Notification",
        "source": "aws.ec2",
        "account": "123456789012",
        "time": "2015-11-11T21:29:54Z",
        "region": "us-east-1",
        "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"],
        "detail": {"instance-id": "i-0123456789", "state": "RUNNING"}
    })
}
