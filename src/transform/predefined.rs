//! The predefined variables an `InputTemplate` may name without an `InputPathsMap` entry
//! (`aws.events.rule-arn`, `aws.events.rule-name`, `aws.events.event.ingestion-time`,
//! `aws.events.event`, `aws.events.event.json`), and the [`TransformContext`] their values
//! come from.
//!
//! Apart from the template because two parts need the names: the template resolves
//! placeholders to them, and the PutTargets checks refuse them as `InputPathsMap` keys.

use serde_json::{Map, Value};

pub(super) const RULE_ARN: &str = "aws.events.rule-arn";
pub(super) const RULE_NAME: &str = "aws.events.rule-name";
pub(super) const INGESTION_TIME: &str = "aws.events.event.ingestion-time";
pub(super) const EVENT: &str = "aws.events.event";
pub(super) const EVENT_JSON: &str = "aws.events.event.json";
pub(super) const PREDEFINED: [&str; 5] = [RULE_ARN, RULE_NAME, INGESTION_TIME, EVENT, EVENT_JSON];

/// What the predefined variables read besides the event: the rule that matched and when the
/// event was ingested.
pub struct TransformContext<'a> {
    pub rule_arn: &'a str,
    pub rule_name: &'a str,
    pub ingestion_time_ms: i64,
}

/// `aws.events.event`: "the original event payload as JSON (without the detail field)". AWS
/// sends its own view of the envelope, recorded as `id, account, detailType, time, source,
/// region, resources, version` (note `detailType`); fields the event lacks are left out.
/// Silent in the docs: `time` is the ingestion time here (in the same form as
/// `aws.events.event.ingestion-time`), as in AWS's recorded output, where it differs from the
/// event's own `time`.
pub(super) fn event_without_detail(event: &Value, ctx: &TransformContext<'_>) -> Value {
    let mut out = Map::new();
    let field = |name: &str| event.get(name).cloned();
    for (name, value) in [
        ("id", field("id")),
        ("account", field("account")),
        ("detailType", field("detail-type")),
        (
            "time",
            Some(Value::String(iso_instant(ctx.ingestion_time_ms))),
        ),
        ("source", field("source")),
        ("region", field("region")),
        ("resources", field("resources")),
        ("version", field("version")),
    ] {
        if let Some(value) = value {
            out.insert(name.to_owned(), value);
        }
    }
    Value::Object(out)
}

/// An instant as ISO 8601 in UTC. The docs only say "ISO 8601 timestamp"; this is the usual
/// instant form: whole seconds as `2015-11-11T21:29:54Z`, otherwise with milliseconds,
/// `2015-11-11T21:29:54.123Z`.
pub(super) fn iso_instant(ms: i64) -> String {
    let at = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let format = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    let mut text = at.format(&format).unwrap_or_default();
    let millis = at.millisecond();
    if millis != 0 {
        text.push_str(&format!(".{millis:03}"));
    }
    text.push('Z');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ingestion_time_whole_seconds_has_no_fraction() {
        assert_eq!(iso_instant(1_447_277_394_000), "2015-11-11T21:29:54Z");
        assert_eq!(iso_instant(1_447_277_394_007), "2015-11-11T21:29:54.007Z");
        assert_eq!(iso_instant(0), "1970-01-01T00:00:00Z");
    }
}
