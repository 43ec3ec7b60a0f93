//! An event on its way into a bus, and the envelope AWS wraps around a PutEvents entry.
//!
//! Here, below the router and delivery, because both make events: PutEvents and replays put
//! them on a bus, and an event-bus target hands one to another bus.

use std::sync::Arc;

use serde_json::{Map, Value};

use super::Scope;
use super::time::envelope_time;

/// An event on its way into a bus.
#[derive(Debug, Clone)]
pub struct Event {
    /// Scope and name of the bus the event is put on.
    pub scope: Scope,
    pub bus: String,
    /// Event time, ms (archive order and replay windows use it).
    pub time_ms: i64,
    /// The envelope as targets receive it (shared with bus-to-bus deliveries, which route it
    /// again without parsing).
    pub envelope: Arc<Value>,
    /// The envelope serialized once, shared by every archive write and delivery.
    pub body: Arc<str>,
    /// How many bus-to-bus hops brought it here (loops stop at a bound).
    pub hops: u8,
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
        Event {
            scope,
            bus,
            time_ms,
            envelope,
            body,
            hops,
        }
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
}
