//! Fuzz target `pattern`: pattern compilation and matching never panic or hang.
//!
//! Input: pattern text, optionally followed by a NUL byte and an event as JSON
//! (`<pattern>\0<event>`). Invalid UTF-8 in the pattern is replaced (U+FFFD).
//! The compiled pattern is matched against the given event (when it parses),
//! an event derived from the pattern itself (so that matching gets past the
//! first field), and `{}`. Also checked, as oracles:
//! - an error's message is "Event pattern is not valid. Reason: {reason}";
//! - rule-index soundness: when `index_keys()` is `Some(keys)` and the pattern
//!   matches, the event holds one of the keys' strings at its path.
//!
//! Run: `cargo fuzz run pattern` from the repository root (see fuzz/README.md).

#![no_main]

use eventbridge_local::pattern::{EventPath, IndexKey, Pattern};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};

/// An event that has a chance to match: the pattern with each value array
/// replaced by a value its first member accepts.
fn event_from_pattern(p: &Value, depth: usize) -> Value {
    if depth > 64 {
        return Value::Null;
    }
    match p {
        Value::Object(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                if k == "$or" {
                    if let Some(Value::Object(first)) = v.as_array().and_then(|a| a.first()) {
                        if let Value::Object(b) =
                            event_from_pattern(&Value::Object(first.clone()), depth + 1)
                        {
                            out.extend(b);
                        }
                    }
                    continue;
                }
                out.insert(k.clone(), event_from_pattern(v, depth + 1));
            }
            Value::Object(out)
        }
        Value::Array(a) => a.first().map(value_for).unwrap_or(Value::Null),
        other => other.clone(),
    }
}

/// A value the match expression `m` (a member of a field's value array) accepts, roughly.
fn value_for(m: &Value) -> Value {
    let Value::Object(op) = m else {
        return m.clone();
    };
    let Some((name, arg)) = op.iter().next() else {
        return Value::Null;
    };
    let s = |v: &Value| match v {
        Value::String(s) => Value::String(s.clone()),
        Value::Object(o) => o.values().next().cloned().unwrap_or(Value::Null),
        other => other.clone(),
    };
    match name.as_str() {
        "prefix" | "suffix" | "equals-ignore-case" | "exactly" => s(arg),
        "wildcard" => match arg {
            Value::String(w) => Value::String(w.replace('*', "")),
            other => other.clone(),
        },
        "cidr" => match arg {
            Value::String(c) => Value::String(c.split('/').next().unwrap_or("").to_string()),
            other => other.clone(),
        },
        "numeric" => arg
            .as_array()
            .and_then(|a| a.iter().find(|x| x.is_number()).cloned())
            .unwrap_or(Value::Null),
        "exists" => Value::String("x".into()),
        _ => Value::String("fuzz".into()),
    }
}

fn check_index(p: &Pattern, event: &Value) {
    let Some(keys) = p.index_keys() else { return };
    let mut found = false;
    for (path, key) in &keys {
        EventPath::new(path).for_each_string(event, |s| {
            found |= match key {
                IndexKey::Exact(x) => s == x,
                IndexKey::Prefix(x) => s.starts_with(x.as_str()),
            }
        });
        if found {
            return;
        }
    }
    panic!("matched, but the event holds none of the index keys {keys:?}: {event}");
}

fuzz_target!(|data: &[u8]| {
    let (pattern, event) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], Some(&data[i + 1..])),
        None => (data, None),
    };
    let text = String::from_utf8_lossy(pattern);
    let p = match Pattern::compile(&text) {
        Ok(p) => p,
        Err(e) => {
            assert_eq!(
                e.message(),
                format!("Event pattern is not valid. Reason: {}", e.reason)
            );
            return;
        }
    };
    assert!(p.combinations() >= 1);
    let mut events = Vec::new();
    if let Some(Ok(v)) = event.map(serde_json::from_slice::<Value>) {
        events.push(v);
    }
    if let Ok(v) = serde_json::from_str::<Value>(&text) {
        events.push(event_from_pattern(&v, 0));
    }
    events.push(Value::Object(Map::new()));
    for e in &events {
        if p.matches(e) {
            check_index(&p, e);
        }
    }
});
