//! Tags, and the resources that carry them. In EventBridge only rules and event buses can be
//! tagged (TagResource's documentation: "In EventBridge, rules and event buses can be
//! tagged"); every other ARN (archives, connections, API destinations, replays, endpoints) is
//! refused by TagResource, UntagResource and ListTagsForResource.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use super::{Scope, arn};

/// One tag, stored with its resource and answered in AWS's `{"Key", "Value"}` shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    #[serde(rename = "Key")]
    pub key: String,
    #[serde(rename = "Value")]
    pub value: String,
}

/// Reads a stored tag list, dropping entries that are not tags: earlier versions stored tags
/// as the client sent them, unchecked, and a bad entry must not stop the store from loading.
pub fn lenient<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<Tag>, D::Error> {
    let values = Option::<Vec<Value>>::deserialize(deserializer)?.unwrap_or_default();
    Ok(values
        .into_iter()
        .filter_map(|v| serde_json::from_value(v).ok())
        .collect())
}

/// Adds `tags` to `current`: a new key is appended, an existing key takes the new value in
/// place (TagResource's documented behaviour).
pub fn merge(current: &mut Vec<Tag>, tags: Vec<Tag>) {
    for tag in tags {
        match current.iter_mut().find(|t| t.key == tag.key) {
            Some(slot) => slot.value = tag.value,
            None => current.push(tag),
        }
    }
}

/// A resource that can carry tags, as its ARN names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Taggable {
    Bus {
        scope: Scope,
        name: String,
    },
    Rule {
        scope: Scope,
        bus: String,
        name: String,
    },
}

impl Taggable {
    /// An event bus ARN (`event-bus/NAME`) or a rule ARN (`rule/NAME` on the default bus,
    /// `rule/BUS/NAME` on another, BUS itself possibly containing '/' for partner buses);
    /// `None` for anything else.
    pub fn parse(text: &str) -> Option<Taggable> {
        if let Some((scope, name)) = arn::parse_event_bus(text) {
            return Some(Taggable::Bus { scope, name });
        }
        let (scope, bus, name) = arn::parse_rule(text)?;
        Some(Taggable::Rule { scope, bus, name })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope() -> Scope {
        Scope {
            account: "123456789012".into(),
            region: "eu-west-1".into(),
        }
    }

    #[test]
    fn parses_buses_and_rules() {
        assert_eq!(
            Taggable::parse("arn:aws:events:eu-west-1:123456789012:event-bus/b"),
            Some(Taggable::Bus {
                scope: scope(),
                name: "b".into()
            })
        );
        assert_eq!(
            Taggable::parse("arn:aws:events:eu-west-1:123456789012:rule/r"),
            Some(Taggable::Rule {
                scope: scope(),
                bus: "default".into(),
                name: "r".into()
            })
        );
        assert_eq!(
            Taggable::parse("arn:aws:events:eu-west-1:123456789012:rule/aws.partner/x/y/r"),
            Some(Taggable::Rule {
                scope: scope(),
                bus: "aws.partner/x/y".into(),
                name: "r".into()
            })
        );
    }

    #[test]
    fn refuses_other_resources() {
        for text in [
            "arn:aws:events:eu-west-1:123456789012:archive/a",
            "arn:aws:events:eu-west-1:123456789012:connection/c/1",
            "arn:aws:sqs:eu-west-1:123456789012:rule/q",
            "arn:aws:events:eu-west-1:123456789012:rule/",
            "not-an-arn",
        ] {
            assert_eq!(Taggable::parse(text), None, "{text}");
        }
    }

    #[test]
    fn merge_replaces_in_place_and_appends() {
        let tag = |k: &str, v: &str| Tag {
            key: k.into(),
            value: v.into(),
        };
        let mut tags = vec![tag("a", "1"), tag("b", "2")];
        merge(&mut tags, vec![tag("b", "3"), tag("c", "4")]);
        assert_eq!(tags, vec![tag("a", "1"), tag("b", "3"), tag("c", "4")]);
    }

    #[test]
    fn stored_lists_load_leniently() {
        #[derive(Deserialize)]
        struct Holder {
            #[serde(default, deserialize_with = "lenient")]
            tags: Vec<Tag>,
        }
        let h: Holder =
            serde_json::from_str(r#"{"tags":[{"Key":"k","Value":"v"},"junk",{"Key":1}]}"#).unwrap();
        assert_eq!(h.tags.len(), 1);
        let h: Holder = serde_json::from_str("{}").unwrap();
        assert!(h.tags.is_empty());
    }
}
