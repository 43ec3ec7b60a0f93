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

mod cidr;
mod compile;
mod json;
mod matcher;
mod numeric;
mod wildcard;

use serde_json::Value;

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
        self.rules.iter().any(|r| r.matches(event))
    }

    /// How many `$or` combinations the pattern expanded into (at least 1).
    pub fn combinations(&self) -> usize {
        self.rules.len()
    }
}
