//! Why an event does not match a pattern: for each `$or` combination, the first field (in
//! the pattern's order) that failed, what the pattern wanted there and what the event had.
//!
//! Pure, like the matcher it explains, and built on it: a field fails when a rule made of
//! that field alone does not match, so the explanation never disagrees with routing.

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::json_doc::Node;

use super::PatternError;
use super::cidr::IpRange;
use super::compile;
use super::matcher::{self, FieldSpec, Matcher};
use super::numeric::Range;

/// The first part of one `$or` combination of a pattern that an event fails.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mismatch {
    /// The field's dotted path (several, comma-separated, for an array-consistency failure).
    pub path: String,
    /// The field's values in the pattern (`exists: false` included).
    pub wanted: Value,
    /// What the event has there: one value, a list when several leaves are there, `null`
    /// when the field is missing (see `present`).
    pub had: Value,
    pub present: bool,
    /// The failure in words.
    pub reason: String,
}

/// How an event fares against a pattern.
#[derive(Debug, Clone, PartialEq)]
pub enum Explanation {
    Matches,
    /// One mismatch per `$or` combination (one when the pattern has no `$or`), in order.
    Fails(Vec<Mismatch>),
}

/// Explains how `event` fares against the pattern `source`.
pub fn explain(source: &str, event: &Value) -> Result<Explanation, PatternError> {
    let event = &Node::from_value(event);
    let subrules = compile::compile(source).map_err(|reason| PatternError { reason })?;
    let mut mismatches = Vec::with_capacity(subrules.len());
    for subrule in &subrules {
        match explain_subrule(subrule, event) {
            None => return Ok(Explanation::Matches),
            Some(m) => mismatches.push(m),
        }
    }
    Ok(Explanation::Fails(mismatches))
}

fn explain_subrule(fields: &[FieldSpec], event: &Node<'_>) -> Option<Mismatch> {
    for field in fields {
        if !matcher::Rule::new(std::slice::from_ref(field)).matches(event) {
            return Some(field_mismatch(field, event));
        }
    }
    if matcher::Rule::new(fields).matches(event) {
        return None;
    }
    // Every field matches on its own, but not within one element of a shared array.
    let in_arrays: Vec<&FieldSpec> = fields.iter().filter(|f| !f.matchers.is_empty()).collect();
    Some(Mismatch {
        path: in_arrays
            .iter()
            .map(|f| f.path.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        wanted: Value::Object(
            in_arrays
                .iter()
                .map(|f| (f.path.clone(), wanted(f)))
                .collect::<Map<_, _>>(),
        ),
        had: Value::Object(
            in_arrays
                .iter()
                .map(|f| (f.path.clone(), had(&leaves(event, &f.path))))
                .collect::<Map<_, _>>(),
        ),
        present: true,
        reason: "each field matches, but in different elements of the same array: the matches must come from one element".into(),
    })
}

fn leaves<'e, 'j>(event: &'e Node<'j>, path: &str) -> Vec<&'e Node<'j>> {
    matcher::leaves(event, path)
}

fn had(found: &[&Node<'_>]) -> Value {
    match found {
        [] => Value::Null,
        [one] => one.to_value(),
        many => Value::Array(many.iter().map(|v| v.to_value()).collect()),
    }
}

fn field_mismatch(field: &FieldSpec, event: &Node<'_>) -> Mismatch {
    let found = leaves(event, &field.path);
    let present = !found.is_empty();
    let reason = if !present {
        "the event has no value at this path".to_string()
    } else if field.absent && field.matchers.is_empty() {
        "the pattern wants this field absent (exists: false), and the event has it".to_string()
    } else if found.len() == 1 {
        "the event's value matches none of the pattern's values".to_string()
    } else {
        "none of the event's values here matches any of the pattern's values".to_string()
    };
    Mismatch {
        path: field.path.clone(),
        wanted: wanted(field),
        had: had(&found),
        present,
        reason,
    }
}

/// A field's values as a pattern would write them.
fn wanted(field: &FieldSpec) -> Value {
    let mut values: Vec<Value> = field.matchers.iter().map(describe).collect();
    if field.absent {
        values.push(json!({"exists": false}));
    }
    Value::Array(values)
}

fn strings(list: &[String]) -> Value {
    match list {
        [one] => Value::from(one.as_str()),
        many => Value::from(many.to_vec()),
    }
}

fn number(f: f64) -> Value {
    if f.fract() == 0.0 && f.abs() < 9.0e15 {
        Value::from(f as i64)
    } else {
        Value::from(f)
    }
}

fn describe(m: &Matcher) -> Value {
    match m {
        Matcher::Exact(s) | Matcher::ExactIp(s, _) => Value::from(s.as_str()),
        Matcher::Number(lit) => {
            serde_json::from_str(&lit.text).unwrap_or_else(|_| Value::from(lit.text.as_str()))
        }
        Matcher::Bool(b) => Value::from(*b),
        Matcher::Null => Value::Null,
        Matcher::Prefix(p) => json!({"prefix": p}),
        Matcher::Suffix(p) => json!({"suffix": p}),
        Matcher::PrefixIc(p) => json!({"prefix": {"equals-ignore-case": p}}),
        Matcher::SuffixIc(p) => json!({"suffix": {"equals-ignore-case": p}}),
        Matcher::EqualsIc(p) => json!({"equals-ignore-case": p}),
        Matcher::AnythingBut {
            strings: s,
            numbers,
        } => {
            let mut all: Vec<Value> = s.iter().map(|v| Value::from(v.as_str())).collect();
            all.extend(numbers.iter().map(|n| number(*n)));
            match all.len() {
                1 => json!({"anything-but": all[0]}),
                _ => json!({"anything-but": all}),
            }
        }
        Matcher::AnythingButPrefix(ps) => json!({"anything-but": {"prefix": strings(ps)}}),
        Matcher::AnythingButSuffix(ps) => json!({"anything-but": {"suffix": strings(ps)}}),
        Matcher::AnythingButIc(ps) => {
            json!({"anything-but": {"equals-ignore-case": strings(ps)}})
        }
        Matcher::AnythingButWildcard(ws) => {
            let texts: Vec<String> = ws.iter().map(|w| w.text()).collect();
            json!({"anything-but": {"wildcard": strings(&texts)}})
        }
        Matcher::Numeric(range) => json!({"numeric": numeric(range)}),
        Matcher::Exists => json!({"exists": true}),
        Matcher::Cidr(range) => json!({"cidr": cidr(range)}),
        Matcher::Wildcard(w) => json!({"wildcard": w.text()}),
    }
}

fn numeric(r: &Range) -> Value {
    if r.lo == r.hi && !r.lo_open && !r.hi_open {
        return json!(["=", number(r.lo)]);
    }
    let mut out = Vec::new();
    if r.lo.is_finite() {
        out.push(Value::from(if r.lo_open { ">" } else { ">=" }));
        out.push(number(r.lo));
    }
    if r.hi.is_finite() {
        out.push(Value::from(if r.hi_open { "<" } else { "<=" }));
        out.push(number(r.hi));
    }
    Value::Array(out)
}

fn cidr(range: &IpRange) -> String {
    match *range {
        IpRange::V4(lo, hi) => {
            let bits = 32 - (u64::from(hi - lo) + 1).trailing_zeros();
            format!("{}/{bits}", std::net::Ipv4Addr::from(lo))
        }
        IpRange::V6(lo, hi) => {
            let size = (hi - lo).checked_add(1);
            let bits = size.map_or(0, |s| 128 - s.trailing_zeros());
            format!("{}/{bits}", std::net::Ipv6Addr::from(lo))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fails(pattern: &str, event: Value) -> Vec<Mismatch> {
        match explain(pattern, &event).unwrap() {
            Explanation::Fails(m) => m,
            Explanation::Matches => panic!("{pattern} matches {event}"),
        }
    }

    #[test]
    fn names_the_first_failing_field_in_pattern_order() {
        let m = fails(
            r#"{"source": ["a"], "detail": {"state": ["running"], "n": [{"numeric": [">", 5]}]}}"#,
            json!({"source": "a", "detail": {"state": "stopped", "n": 1}}),
        );
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].path, "detail.state");
        assert_eq!(m[0].wanted, json!(["running"]));
        assert_eq!(m[0].had, json!("stopped"));
        assert!(m[0].present);
        let m = fails(
            r#"{"detail": {"n": [{"numeric": [">", 5, "<=", 10.5]}]}}"#,
            json!({"detail": {"n": 1}}),
        );
        assert_eq!(m[0].wanted, json!([{"numeric": [">", 5, "<=", 10.5]}]));
    }

    #[test]
    fn operators_are_written_as_patterns_write_them() {
        let cases = [
            (r#"{"a": [{"prefix": "x"}]}"#, json!([{"prefix": "x"}])),
            (
                r#"{"a": [{"anything-but": ["x", "y"]}]}"#,
                json!([{"anything-but": ["x", "y"]}]),
            ),
            (
                r#"{"a": [{"anything-but": {"prefix": "x"}}]}"#,
                json!([{"anything-but": {"prefix": "x"}}]),
            ),
            (r#"{"a": [{"exists": true}]}"#, json!([{"exists": true}])),
            (r#"{"a": [{"exists": false}]}"#, json!([{"exists": false}])),
            (
                r#"{"a": [{"cidr": "10.0.0.0/24"}]}"#,
                json!([{"cidr": "10.0.0.0/24"}]),
            ),
            (
                r#"{"a": [{"wildcard": "a*b\\*"}]}"#,
                json!([{"wildcard": "a*b\\*"}]),
            ),
            (
                r#"{"a": [{"numeric": ["=", 3]}]}"#,
                json!([{"numeric": ["=", 3]}]),
            ),
            (
                r#"{"a": [{"equals-ignore-case": "X"}]}"#,
                json!([{"equals-ignore-case": "x"}]),
            ),
            (r#"{"a": [1.5, true, null]}"#, json!([1.5, true, null])),
        ];
        for (pattern, wanted) in cases {
            let p = compile::compile(pattern).unwrap();
            assert_eq!(super::wanted(&p[0][0]), wanted, "{pattern}");
        }
    }

    #[test]
    fn missing_present_and_or() {
        let m = fails(
            r#"{"detail": {"x": [{"exists": true}]}}"#,
            json!({"detail": {}}),
        );
        assert_eq!((m[0].present, m[0].had.clone()), (false, Value::Null));
        let m = fails(
            r#"{"detail": {"x": [{"exists": false}]}}"#,
            json!({"detail": {"x": 1}}),
        );
        assert_eq!((m[0].present, m[0].had.clone()), (true, json!(1)));
        let m = fails(
            r#"{"$or": [{"a": ["1"]}, {"b": [{"prefix": "z"}]}]}"#,
            json!({"a": "2", "b": "y"}),
        );
        assert_eq!(m.len(), 2);
        assert_eq!((m[0].path.as_str(), m[1].path.as_str()), ("a", "b"));
        assert_eq!(
            explain(
                r#"{"$or": [{"a": ["1"]}, {"b": ["y"]}]}"#,
                &json!({"b": "y"})
            )
            .unwrap(),
            Explanation::Matches
        );
    }

    #[test]
    fn array_consistency() {
        let m = fails(
            r#"{"items": {"k": ["a"], "v": [1]}}"#,
            json!({"items": [{"k": "a", "v": 2}, {"k": "b", "v": 1}]}),
        );
        assert_eq!(m[0].path, "items.k, items.v");
        assert!(m[0].reason.contains("same array"));
    }
}
