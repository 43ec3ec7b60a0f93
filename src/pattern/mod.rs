//! Event patterns: parse and validate pattern text exactly as Amazon
//! EventBridge does (same rules, same error messages), then match events.
//!
//! ```
//! use eventbridge_local::pattern::Pattern;
//! let p = Pattern::compile(r#"{"source": ["aws.ec2"], "detail": {"state": [{"prefix": "run"}]}}"#).unwrap();
//! let event = serde_json::json!({"source": "aws.ec2", "detail": {"state": "running"}});
//! assert!(p.matches(&event));
//! ```
//!
//! Layout:
//! - `json`: a pull parser over the pattern text that fails like Jackson
//!   (AWS's parser), including the `at [Source: ...; line, column]` suffix;
//! - `compile`: the validation walk (in AWS's order) producing one sub-rule
//!   per `$or` combination;
//! - `matcher`: compiled matchers and the event walk;
//! - `numeric`, `cidr`, `wildcard`: operator internals.
//!
//! Pure: no I/O, no global state. `Pattern` is `Send + Sync`; compile once,
//! match from many threads.
//!
//! Error texts. Parser-located errors end with Jackson's location, e.g.
//! `"source" must be an object or an array\n at [Source: (String)"{...}"; line: 1, column: 45]`,
//! as AWS returns them (checked against four real AWS messages, kept in the
//! corpus). CIDR errors, the wildcard complexity error, the `$or` limit and a
//! bad single `anything-but` number carry no suffix.
//!
//! Doubts (behaviour chosen without an AWS observation):
//! - Errors inside an `anything-but` *list* carry the location suffix twice:
//!   event-ruler catches its own parse exception there and re-throws it with
//!   its message (which already has the suffix).
//! - Numbers: the full double range is accepted; a literal a double cannot
//!   hold exactly is rejected by `numeric`/`anything-but` with
//!   `Cannot compare number : <text>` (current event-ruler). Older AWS docs
//!   limit numbers to ±5e9 with 6 decimals; not enforced here.
//! - More than 1000 `$or` combinations: AWS documents the limit, not the text;
//!   ours is "The event pattern expands into more than 1000 combinations of
//!   $or conditions".
//! - Wildcard complexity: AWS's threshold is unpublished; ours is "more than
//!   10 simultaneously live NFA positions" (see `wildcard.rs`), which rejects
//!   AWS's observed `*:*:*:*:*:event-bus/*`.
//! - CIDR (event-ruler rules): the range starts at the address as written (not
//!   masked), `/32` and `/128` are rejected ("mask bits must be < 32/128").
//! - An exact string that is an IP literal also matches other spellings of
//!   the same address (event-ruler turns it into an IP range).
//! - `exists: false` means "no leaf at this path anywhere in the event"; it is
//!   not evaluated per element of an array of objects.
//! - `{"anything-but": {"prefix": []}}` (empty set) is accepted and matches
//!   any present value; `{"anything-but": []}` is rejected (mixed-type text).
//! - Text after the closing `}` of the pattern is ignored (Jackson streaming).
//! - `exactly` (event-ruler's explicit exact match) is accepted.
//! - Case folding uses per-character Unicode lowercase on both sides.
//! - Rare Jackson texts (NaN, `+1`, odd control characters) follow Jackson
//!   2.12 wording and may differ in detail from AWS's Jackson version.
//! - Error columns follow Jackson 2.17+: errors about one consumed character
//!   (`Unexpected character`, `Unrecognized character escape`, `Illegal
//!   unquoted character`, `Unexpected close marker`) point at that character;
//!   `Unrecognized token`, end-of-input and number-format errors point past it.
//!   Only `{'bad': 'quotation'}` (column 2) is recorded on AWS; the rest follows
//!   Jackson's sources (its LocationOfError1173 test).

mod cidr;
mod compile;
mod explain;
mod json;
mod matcher;
mod numeric;
mod wildcard;

pub use explain::{Explanation, Mismatch, explain};
pub use matcher::{EventPath, IndexKey};
use serde_json::Value;

use crate::json_doc::Node;

/// A compiled event pattern: compile once, match many. Pure: no I/O.
#[derive(Debug, Clone)]
pub struct Pattern {
    rules: Vec<matcher::Rule>,
}

/// Why a pattern is invalid; `reason` is AWS's reason text (the part after
/// "Reason: "), including Jackson's location suffix where AWS has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternError {
    pub reason: String,
}

impl PatternError {
    /// The full AWS message: "Event pattern is not valid. Reason: {reason}"
    pub fn message(&self) -> String {
        format!("Event pattern is not valid. Reason: {}", self.reason)
    }
}

impl std::fmt::Display for PatternError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for PatternError {}

impl Pattern {
    /// Parses and validates pattern text. The caller checks the API length
    /// limit (4096 characters); any length is accepted here.
    pub fn compile(source: &str) -> Result<Pattern, PatternError> {
        let subrules = compile::compile(source).map_err(|reason| PatternError { reason })?;
        Ok(Pattern {
            rules: subrules.iter().map(|r| matcher::Rule::new(r)).collect(),
        })
    }

    /// Whether the event (the full envelope: version, id, detail-type,
    /// source, account, time, region, resources, detail, ...) matches.
    pub fn matches(&self, event: &Value) -> bool {
        self.matches_doc(&Node::from_value(event))
    }

    /// The same, on an event read into a `Node` (what routing does).
    pub fn matches_doc(&self, event: &Node<'_>) -> bool {
        self.rules.iter().any(|r| r.matches(event))
    }

    /// Where a rule index may file this pattern: `(path, key)` pairs such that the pattern
    /// can only match an event holding, as a string at that path, one of the exact values or
    /// a string with one of the prefixes. `None` when some `$or` combination has no such
    /// field: then it must be tried on every event.
    pub fn index_keys(&self) -> Option<Vec<(String, IndexKey)>> {
        let mut keys = Vec::new();
        for rule in &self.rules {
            let (path, values) = rule.anchor()?;
            keys.extend(values.into_iter().map(|v| (path.to_string(), v)));
        }
        Some(keys)
    }

    /// How many `$or` combinations the pattern expanded into (at least 1).
    pub fn combinations(&self) -> usize {
        self.rules.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn api() {
        assert_send_sync::<Pattern>();
        let p = Pattern::compile(r#"{"detail": {"a": [1]}}"#).unwrap();
        assert!(p.matches(&json!({"detail": {"a": 1.0}})));
        assert!(!p.matches(&json!({"detail": {"a": "1"}})));
        assert_eq!(p.combinations(), 1);
        let e = Pattern::compile(r#"{"a": []}"#).unwrap_err();
        assert_eq!(
            e.message(),
            "Event pattern is not valid. Reason: Empty arrays are not allowed\n at [Source: (String)\"{\"a\": []}\"; line: 1, column: 9]"
        );
        assert_eq!(e.to_string(), e.message());
        let e = Pattern::compile(r#"{"a": [{"cidr": "1.2.3.4"}]}"#).unwrap_err();
        assert_eq!(e.reason, "Malformed CIDR, one '/' required");
    }

    #[test]
    fn index_keys_name_the_most_specific_exact_field() {
        let p = Pattern::compile(r#"{"source": ["a"], "detail": {"id": ["x", "y"]}}"#).unwrap();
        let exact = |v: &str| IndexKey::Exact(v.to_string());
        assert_eq!(
            p.index_keys(),
            Some(vec![
                ("detail.id".to_string(), exact("x")),
                ("detail.id".to_string(), exact("y"))
            ])
        );
        let p = Pattern::compile(r#"{"$or": [{"a": ["1"]}, {"b": [{"suffix": "x"}]}]}"#).unwrap();
        assert_eq!(p.index_keys(), None);
        let p = Pattern::compile(r#"{"a": ["1", {"prefix": "x"}], "b": [1]}"#).unwrap();
        assert_eq!(
            p.index_keys(),
            Some(vec![
                ("a".to_string(), exact("1")),
                ("a".to_string(), IndexKey::Prefix("x".into()))
            ])
        );
        let p = Pattern::compile(r#"{"a": ["1", {"suffix": "x"}]}"#).unwrap();
        assert_eq!(p.index_keys(), None);
        let path = EventPath::new("detail.id");
        let mut seen = Vec::new();
        let event = json!({"detail": {"id": ["x", 1, "z"]}});
        path.for_each_string(&Node::from_value(&event), |s| seen.push(s.to_string()));
        assert_eq!(seen, ["x", "z"]);
    }

    #[test]
    fn or_combinations() {
        let p = Pattern::compile(
            r#"{"$or": [{"a": [1]}, {"b": [1]}], "c": {"$or": [{"d": [1]}, {"e": [1]}, {"f": [1]}]}}"#,
        )
        .unwrap();
        assert_eq!(p.combinations(), 6);
        assert!(p.matches(&json!({"b": 1, "c": {"f": 1}})));
        assert!(!p.matches(&json!({"b": 1, "c": {"g": 1}})));
    }
}
