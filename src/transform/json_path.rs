//! The JSONPath subset EventBridge documents, compiled once and evaluated per event.
//!
//! A file of its own because more than input transformation reads events by path: API
//! destinations fill path parameters with it and streams targets take their partition key
//! from it; it depends on nothing else in `transform`.

use std::borrow::Cow;

use serde_json::Value;

/// A compiled JSONPath, the subset EventBridge documents: `$`, dot notation (names with
/// letters, digits, dashes, underscores, slashes and other non-separator characters), array
/// indices (`[0]`, and `[-1]` from the end), bracketed names (`['detail-type']`) and the
/// wildcard (`.*`, `[*]`).
#[derive(Debug, Clone, PartialEq)]
pub struct JsonPath {
    text: String,
    steps: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq)]
enum Step {
    Key(String),
    Index(i64),
    Wildcard,
}

impl JsonPath {
    /// Compiles a path; `None` when it is not one EventBridge can evaluate. Deep scan (`..`),
    /// slices, unions and filters are not in the documented subset and are refused.
    pub fn parse(text: &str) -> Option<JsonPath> {
        let rest = text.strip_prefix('$')?;
        let chars: Vec<char> = rest.chars().collect();
        let mut steps = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            match chars[i] {
                '.' => {
                    i += 1;
                    let start = i;
                    while i < chars.len() && is_name_char(chars[i]) {
                        i += 1;
                    }
                    if start == i {
                        return None; // `$.`, `$..x`, `$.[0]`
                    }
                    let name: String = chars[start..i].iter().collect();
                    steps.push(if name == "*" {
                        Step::Wildcard
                    } else {
                        Step::Key(name)
                    });
                }
                '[' => {
                    let close = i + chars[i..].iter().position(|c| *c == ']')?;
                    let inner: String = chars[i + 1..close].iter().collect();
                    steps.push(bracket_step(&inner)?);
                    i = close + 1;
                }
                _ => return None,
            }
        }
        Some(JsonPath {
            text: text.to_owned(),
            steps,
        })
    }

    /// The path as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the path is `$`, the whole event.
    pub fn is_root(&self) -> bool {
        self.steps.is_empty()
    }

    /// What the path selects in `root`. A path without wildcards selects one value or nothing;
    /// a path with a wildcard selects the array of everything it reaches (possibly empty), the
    /// way JSONPath evaluators treat indefinite paths.
    pub fn select<'a>(&self, root: &'a Value) -> Option<Cow<'a, Value>> {
        if !self.steps.contains(&Step::Wildcard) {
            let mut current = root;
            for step in &self.steps {
                current = step_one(current, step)?;
            }
            return Some(Cow::Borrowed(current));
        }
        let mut current = vec![root];
        for step in &self.steps {
            let mut next = Vec::new();
            for value in current {
                match step {
                    Step::Wildcard => match value {
                        Value::Object(map) => next.extend(map.values()),
                        Value::Array(items) => next.extend(items.iter()),
                        _ => {}
                    },
                    _ => next.extend(step_one(value, step)),
                }
            }
            current = next;
        }
        Some(Cow::Owned(Value::Array(
            current.into_iter().cloned().collect(),
        )))
    }
}

/// A character of a dot-notation name: anything but the path's own punctuation and spaces.
fn is_name_char(c: char) -> bool {
    !matches!(c, '.' | '[' | ']' | '\'' | '"') && !c.is_whitespace() && !c.is_control()
}

/// The step inside `[...]`: an index, `*`, or a quoted name.
fn bracket_step(inner: &str) -> Option<Step> {
    if inner == "*" {
        return Some(Step::Wildcard);
    }
    for quote in ['\'', '"'] {
        if let Some(name) = inner
            .strip_prefix(quote)
            .and_then(|s| s.strip_suffix(quote))
        {
            if name.is_empty() || name.contains(quote) {
                return None;
            }
            return Some(Step::Key(name.to_owned()));
        }
    }
    let digits = inner.strip_prefix('-').unwrap_or(inner);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    inner.parse().ok().map(Step::Index)
}

/// One non-wildcard step: a member of an object or an element of an array.
fn step_one<'a>(value: &'a Value, step: &Step) -> Option<&'a Value> {
    match (step, value) {
        (Step::Key(name), Value::Object(map)) => map.get(name),
        (Step::Index(index), Value::Array(items)) => {
            let index = if *index < 0 {
                items.len().checked_sub(index.unsigned_abs() as usize)?
            } else {
                usize::try_from(*index).ok()?
            };
            items.get(index)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_path_grammar() {
        for ok in [
            "$",
            "$.a",
            "$.a-b_c",
            "$.a/b",
            "$.a[0]",
            "$.a[*]",
            "$.*",
            "$['a b']",
            "$.a[-2].b",
            "$[0]",
        ] {
            assert!(JsonPath::parse(ok).is_some(), "{ok}");
        }
        for bad in [
            "", "detail", "$.", "$..a", "$.a.", "$.a[", "$.a[x]", "$.a[0:2]", "$.a b", "$a",
            "$['a]",
        ] {
            assert!(JsonPath::parse(bad).is_none(), "{bad}");
        }
        assert_eq!(JsonPath::parse("$.a[0]").unwrap().as_str(), "$.a[0]");
    }
}
