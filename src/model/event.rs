//! An event on its way into a bus, and the envelope AWS wraps around a PutEvents entry.
//!
//! Here, below the router and delivery, because both make events: PutEvents and replays put
//! them on a bus, and an event-bus target hands one to another bus.

use std::borrow::Cow;
use std::sync::{Arc, OnceLock};

use serde_json::{Map, Value};

use super::Scope;
use super::time::envelope_time;
use crate::json_doc::{Node, Object};

/// An event on its way into a bus.
#[derive(Debug, Clone)]
pub struct Event {
    /// Scope and name of the bus the event is put on.
    pub scope: Scope,
    pub bus: String,
    /// Event time, ms (archive order and replay windows use it).
    pub time_ms: i64,
    /// The envelope's text, written once, shared by every archive write and delivery; rules
    /// read it into a `Node`.
    pub body: Arc<str>,
    /// How many bus-to-bus hops brought it here (loops stop at a bound).
    pub hops: u8,
    /// The envelope as a `Value`, when the maker had one or a reader needed one (input
    /// transformations, event-bus targets): most events are only matched and stored, and
    /// never need it.
    parsed: OnceLock<Arc<Value>>,
}

/// What AWS puts in the envelope of a PutEvents entry (`detail` is the entry's `Detail`, read).
/// `id`, `account` and `region` may be owned: a request's envelopes outlive the locals these
/// come from (they are routed together once all are made).
pub struct EnvelopeParts<'a> {
    pub id: Cow<'a, str>,
    pub detail_type: &'a str,
    pub source: &'a str,
    pub account: Cow<'a, str>,
    pub time_ms: i64,
    pub region: Cow<'a, str>,
    pub resources: &'a [String],
    pub detail: Node<'a>,
}

/// The envelope as rules read it, keys in AWS's order; written out (`Event::from_doc`) it is
/// the text `envelope(..)` serializes to, with no `Value` built on the way.
pub fn envelope_doc(parts: EnvelopeParts<'_>) -> Node<'_> {
    let borrowed = |s| Node::String(Cow::Borrowed(s));
    Node::Object(Object::from_distinct(vec![
        (Cow::Borrowed("version"), borrowed("0")),
        (Cow::Borrowed("id"), Node::String(parts.id)),
        (Cow::Borrowed("detail-type"), borrowed(parts.detail_type)),
        (Cow::Borrowed("source"), borrowed(parts.source)),
        (Cow::Borrowed("account"), Node::String(parts.account)),
        (
            Cow::Borrowed("time"),
            Node::String(Cow::Owned(envelope_time(parts.time_ms))),
        ),
        (Cow::Borrowed("region"), Node::String(parts.region)),
        (
            Cow::Borrowed("resources"),
            Node::Array(parts.resources.iter().map(|r| borrowed(r)).collect()),
        ),
        (Cow::Borrowed("detail"), parts.detail),
    ]))
}

/// The envelope AWS builds for a PutEvents entry, keys in AWS's order.
#[allow(clippy::too_many_arguments)]
pub fn envelope(
    id: &str,
    detail_type: &str,
    source: &str,
    account: &str,
    time_ms: i64,
    region: &str,
    resources: Vec<Value>,
    detail: Value,
) -> Value {
    let mut map = Map::with_capacity(9);
    map.insert("version".into(), Value::from("0"));
    map.insert("id".into(), Value::from(id));
    map.insert("detail-type".into(), Value::from(detail_type));
    map.insert("source".into(), Value::from(source));
    map.insert("account".into(), Value::from(account));
    map.insert("time".into(), Value::from(envelope_time(time_ms)));
    map.insert("region".into(), Value::from(region));
    map.insert("resources".into(), Value::Array(resources));
    map.insert("detail".into(), detail);
    Value::Object(map)
}

/// A stored envelope's text with `"replay-name"` inserted after `region`, without parsing it:
/// the envelope's keys are in AWS's order, and the first `,"resources":` with unescaped quotes
/// can only be the top-level key (the strings before it cannot hold an unescaped quote).
/// Replay names are `[.\-_A-Za-z0-9]+`, so nothing needs escaping. `None` if the text is not
/// such an envelope.
pub fn splice_replay_name(stored: &str, replay: &str) -> Option<String> {
    let at = stored.find(",\"resources\":")?;
    let mut out = String::with_capacity(stored.len() + replay.len() + 18);
    out.push_str(&stored[..at]);
    out.push_str(",\"replay-name\":\"");
    out.push_str(replay);
    out.push('"');
    out.push_str(&stored[at..]);
    Some(out)
}

impl Event {
    pub fn new(scope: Scope, bus: String, time_ms: i64, envelope: Value, hops: u8) -> Event {
        // serde_json's own writer: `Value`'s `Display` goes through `fmt::Formatter` a token
        // at a time, a tenth of PutEvents' CPU in a profile.
        let body: Arc<str> =
            Arc::from(serde_json::to_string(&envelope).expect("a Value always serializes"));
        Event::from_parts(scope, bus, time_ms, Arc::new(envelope), body, hops)
    }

    /// An event whose serialized body is already at hand.
    pub fn from_parts(
        scope: Scope,
        bus: String,
        time_ms: i64,
        envelope: Arc<Value>,
        body: Arc<str>,
        hops: u8,
    ) -> Event {
        let event = Event::from_body(scope, bus, time_ms, body, hops);
        let _ = event.parsed.set(envelope);
        event
    }

    /// An event whose envelope is `doc`, written out once here.
    pub fn from_doc(scope: Scope, bus: String, time_ms: i64, doc: &Node<'_>, hops: u8) -> Event {
        let body = serde_json::to_string(doc).expect("a Node always serializes");
        Event::from_body(scope, bus, time_ms, Arc::from(body), hops)
    }

    /// An event known by its text alone (an envelope this server wrote).
    pub fn from_body(scope: Scope, bus: String, time_ms: i64, body: Arc<str>, hops: u8) -> Event {
        Event {
            scope,
            bus,
            time_ms,
            body,
            hops,
            parsed: OnceLock::new(),
        }
    }

    /// The envelope as a `Value`, read from the text the first time it is asked for (a text
    /// that is not JSON, which this server never writes, reads as null).
    pub fn envelope(&self) -> Arc<Value> {
        self.parsed
            .get_or_init(|| Arc::new(serde_json::from_str(&self.body).unwrap_or(Value::Null)))
            .clone()
    }

    /// The envelope as a `Value` if it has been made already.
    pub fn parsed_envelope(&self) -> Option<Arc<Value>> {
        self.parsed.get().cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The envelope with `replay-name` after `region`, as AWS delivers replayed events.
    fn with_replay_name(envelope: Map<String, Value>, replay: &str) -> Value {
        let mut map = Map::with_capacity(envelope.len() + 1);
        for (key, value) in envelope {
            let after_region = key == "region";
            map.insert(key, value);
            if after_region {
                map.insert("replay-name".into(), Value::from(replay));
            }
        }
        Value::Object(map)
    }

    #[test]
    fn envelope_keys_in_aws_order_and_replay_name_after_region() {
        let env = envelope(
            "id-1",
            "t",
            "s",
            "123456789012",
            1_704_164_645_678,
            "eu-west-3",
            vec![],
            serde_json::json!({"a": 1}),
        );
        let keys: Vec<_> = env.as_object().unwrap().keys().cloned().collect();
        assert_eq!(
            keys,
            [
                "version",
                "id",
                "detail-type",
                "source",
                "account",
                "time",
                "region",
                "resources",
                "detail"
            ]
        );
        assert_eq!(env["time"], "2024-01-02T03:04:05Z");
        let replayed = with_replay_name(env.as_object().unwrap().clone(), "r1");
        let keys: Vec<_> = replayed.as_object().unwrap().keys().cloned().collect();
        assert_eq!(
            keys[6..8],
            ["region".to_string(), "replay-name".to_string()]
        );
        assert_eq!(replayed["replay-name"], "r1");
        let spliced = splice_replay_name(&env.to_string(), "r1").unwrap();
        assert_eq!(spliced, replayed.to_string());
        assert_eq!(splice_replay_name("{\"a\":1}", "r1"), None);
    }

    #[test]
    fn envelope_doc_is_the_envelope() {
        let detail_text = r#"{"b": 1.50, "a": ["\u00e9", null], "b": "again"}"#;
        let resources = vec!["arn:aws:s3:::x\"y".to_string()];
        let doc = envelope_doc(EnvelopeParts {
            id: "id-1".into(),
            detail_type: "t\u{1}",
            source: "s",
            account: "123456789012".into(),
            time_ms: 1_704_164_645_678,
            region: "eu-west-3".into(),
            resources: &resources,
            detail: Node::parse(detail_text).unwrap(),
        });
        let value = envelope(
            "id-1",
            "t\u{1}",
            "s",
            "123456789012",
            1_704_164_645_678,
            "eu-west-3",
            vec![Value::from(resources[0].clone())],
            serde_json::from_str(detail_text).unwrap(),
        );
        assert_eq!(doc.to_value(), value);
        let scope = Scope {
            account: "123456789012".into(),
            region: "eu-west-3".into(),
        };
        let event = Event::from_doc(scope, "b".into(), 0, &doc, 0);
        assert_eq!(&*event.body, serde_json::to_string(&value).unwrap());
        assert!(event.parsed_envelope().is_none());
        assert_eq!(*event.envelope(), value);
        assert!(event.parsed_envelope().is_some());
    }
}
