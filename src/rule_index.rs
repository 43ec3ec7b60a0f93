//! The rules of one bus, indexed so that an event is tried only against rules that can match
//! it: each rule is filed under the exact strings one of its fields requires (see
//! `Pattern::index_keys`); rules without such a field are tried on every event.
//!
//! [`CompiledRule`] lives here, below the catalog, because the index is built of them: the
//! catalog keeps and stores them, the index only reads them, so neither imports the other back.

use std::collections::HashMap;
use std::sync::Arc;

use crate::json_doc::Node;
use serde::{Serialize, Serializer};

use crate::model::{Rule, Target};
use crate::pattern::{EventPath, IndexKey, Pattern};
use crate::transform::InputSpec;

/// A rule with its pattern and its targets' input transformations compiled once.
#[derive(Debug)]
pub struct CompiledRule {
    pub rule: Rule,
    pub pattern: Option<Pattern>,
    /// One per target, in the order of `rule.targets`.
    pub inputs: Vec<InputSpec>,
    /// The targets, shared with the deliveries made to them.
    pub targets: Vec<Arc<Target>>,
    /// The rule's ARN, formatted once (routing and every delivery use it).
    pub arn: String,
}

impl CompiledRule {
    pub fn new(rule: Rule, pattern: Option<Pattern>) -> CompiledRule {
        let inputs = rule
            .targets
            .iter()
            .map(|t| {
                InputSpec::from_target(&t.0).unwrap_or_else(|reason| {
                    // Checked at PutTargets; only a stored target from an older version gets here.
                    tracing::warn!(rule = %rule.name, target = %t.id(), %reason, "target input no longer valid; sending the event");
                    InputSpec::Event
                })
            })
            .collect();
        CompiledRule {
            targets: rule.targets.iter().cloned().map(Arc::new).collect(),
            arn: rule.arn(),
            rule,
            pattern,
            inputs,
        }
    }
}

/// Stored as the rule it was compiled from: the rest is compiled again when it is loaded.
impl Serialize for CompiledRule {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.rule.serialize(serializer)
    }
}

/// The rules filed under one path: by exact value, and by prefix (looked up by every
/// prefix length in use).
#[derive(Debug, Default)]
struct PathEntries {
    exact: HashMap<String, Vec<u32>>,
    prefixes: HashMap<String, Vec<u32>>,
    prefix_lengths: Vec<usize>,
}

fn file(map: &mut HashMap<String, Vec<u32>>, key: String, id: u32) {
    let ids = map.entry(key).or_default();
    if ids.last() != Some(&id) {
        ids.push(id);
    }
}

impl PathEntries {
    fn add(&mut self, key: IndexKey, id: u32) {
        match key {
            IndexKey::Exact(value) => file(&mut self.exact, value, id),
            IndexKey::Prefix(prefix) => {
                if !self.prefix_lengths.contains(&prefix.len()) {
                    self.prefix_lengths.push(prefix.len());
                }
                file(&mut self.prefixes, prefix, id);
            }
        }
    }

    fn lookup(&self, value: &str, out: &mut Vec<u32>) {
        if let Some(found) = self.exact.get(value) {
            out.extend_from_slice(found);
        }
        for &len in &self.prefix_lengths {
            if let Some(found) = value.get(..len).and_then(|p| self.prefixes.get(p)) {
                out.extend_from_slice(found);
            }
        }
    }
}

#[derive(Debug, Default)]
pub struct RuleIndex {
    /// In name order; candidates are reported in this order.
    rules: Vec<Arc<CompiledRule>>,
    /// Per indexed path, the rules filed under it.
    paths: Vec<(EventPath, PathEntries)>,
    /// Rules tried on every event.
    always: Vec<u32>,
}

impl RuleIndex {
    /// Builds the index of a bus's rules (given in name order).
    pub fn build(rules: Vec<Arc<CompiledRule>>) -> RuleIndex {
        let mut by_path: HashMap<String, PathEntries> = HashMap::new();
        let mut always = Vec::new();
        for (i, rule) in rules.iter().enumerate() {
            let i = i as u32;
            match rule.pattern.as_ref().and_then(|p| p.index_keys()) {
                Some(keys) => {
                    for (path, key) in keys {
                        by_path.entry(path).or_default().add(key, i);
                    }
                }
                // No pattern matches nothing; it still goes through the normal check.
                None => always.push(i),
            }
        }
        let paths = by_path
            .into_iter()
            .map(|(path, values)| (EventPath::new(&path), values))
            .collect();
        RuleIndex {
            rules,
            paths,
            always,
        }
    }

    /// The rules that may match `event`, in name order (their patterns still decide).
    pub fn candidates(&self, event: &Node<'_>) -> impl Iterator<Item = &Arc<CompiledRule>> {
        let mut ids = self.always.clone();
        for (path, entries) in &self.paths {
            path.for_each_string(event, |s| entries.lookup(s, &mut ids));
        }
        ids.sort_unstable();
        ids.dedup();
        ids.into_iter().map(move |i| &self.rules[i as usize])
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{RuleState, Scope};
    use serde_json::json;

    fn rule(name: &str, pattern: &str) -> Arc<CompiledRule> {
        Arc::new(CompiledRule::new(
            Rule {
                scope: Scope {
                    account: "000000000000".into(),
                    region: "us-east-1".into(),
                },
                bus_name: "b".into(),
                name: name.into(),
                event_pattern: Some(pattern.into()),
                schedule_expression: None,
                state: RuleState::Enabled,
                description: None,
                role_arn: None,
                managed_by: None,
                archive: None,
                tags: Vec::new(),
                targets: Vec::new(),
            },
            Some(Pattern::compile(pattern).unwrap()),
        ))
    }

    #[test]
    fn candidates_are_the_indexed_hits_and_the_unindexed_rules_in_order() {
        let index = RuleIndex::build(vec![
            rule("a", r#"{"detail": {"id": ["1", "2"]}}"#),
            rule("b", r#"{"detail": {"id": [{"suffix": "1"}]}}"#),
            rule("c", r#"{"source": ["s"], "detail": {"id": ["3"]}}"#),
            rule("d", r#"{"source": ["s"]}"#),
            rule(
                "e",
                r#"{"detail": {"id": [{"prefix": "x"}, {"prefix": ""}]}}"#,
            ),
            rule("f", r#"{"detail": {"id": [{"prefix": "zz"}]}}"#),
        ]);
        let names = |event: serde_json::Value| -> Vec<String> {
            index
                .candidates(&Node::from_value(&event))
                .map(|r| r.rule.name.clone())
                .collect()
        };
        assert_eq!(
            names(json!({"source": "s", "detail": {"id": "2"}})),
            ["a", "b", "d", "e"]
        );
        assert_eq!(
            names(json!({"source": "s", "detail": {"id": ["3", "1"]}})),
            ["a", "b", "c", "d", "e"]
        );
        assert_eq!(names(json!({"source": "x", "detail": {"id": 3}})), ["b"]);
        assert_eq!(
            names(json!({"source": "x", "detail": {"id": "zzz"}})),
            ["b", "e", "f"]
        );
    }
}
