//! Routing: which rules of a bus an event goes to, and what each asks for (an archive write or
//! deliveries). Read-only, under the read lock: it runs for every event that comes in.

use std::sync::Arc;

use super::{Catalog, CompiledRule};
use crate::json_doc::Node;
use crate::model::Scope;

/// What a matched rule asks for.
pub enum RouteAction {
    Archive {
        uid: u64,
        rule: Arc<CompiledRule>,
    },
    Deliver {
        rule: Arc<CompiledRule>,
    },
    /// The rule matched but has no target (nothing to do; `/_local/events` shows it).
    Nothing {
        rule: Arc<CompiledRule>,
    },
}

impl RouteAction {
    /// The rule that matched.
    pub fn rule(&self) -> &Arc<CompiledRule> {
        match self {
            RouteAction::Archive { rule, .. }
            | RouteAction::Deliver { rule }
            | RouteAction::Nothing { rule } => rule,
        }
    }
}

/// Which rules of a bus an event may go to.
pub enum RuleFilter<'a> {
    /// Live traffic: every enabled rule, archive rules included.
    All,
    /// A replay: the listed rule ARNs (all non-archive rules when `None`), never archives.
    Replay(Option<&'a [String]>),
}

impl Catalog {
    /// What an event on `bus` asks for: archive writes and deliveries of the matching enabled
    /// rules. A bus that does not exist routes nowhere (AWS drops such events silently).
    pub fn route(
        &self,
        scope: &Scope,
        bus: &str,
        event: &Node<'_>,
        filter: &RuleFilter<'_>,
    ) -> Vec<RouteAction> {
        let data = self.read();
        let mut actions = Vec::new();
        let Some(index) = data.indexes.get(scope).and_then(|buses| buses.get(bus)) else {
            return actions;
        };
        for compiled in index.candidates(event) {
            let rule = &compiled.rule;
            if !rule.state.is_enabled() {
                continue;
            }
            match filter {
                RuleFilter::All => {}
                RuleFilter::Replay(_) if rule.archive.is_some() => continue,
                RuleFilter::Replay(None) => {}
                RuleFilter::Replay(Some(arns)) => {
                    if !arns.iter().any(|a| *a == compiled.arn) {
                        continue;
                    }
                }
            }
            let matched = compiled
                .pattern
                .as_ref()
                .is_some_and(|p| p.matches_doc(event));
            if !matched {
                continue;
            }
            if let Some(archive_name) = &rule.archive {
                if let Some(entry) = data.archives.get(&(scope.clone(), archive_name.clone())) {
                    actions.push(RouteAction::Archive {
                        uid: entry.archive.uid,
                        rule: compiled.clone(),
                    });
                }
            } else if !rule.targets.is_empty() {
                actions.push(RouteAction::Deliver {
                    rule: compiled.clone(),
                });
            } else {
                actions.push(RouteAction::Nothing {
                    rule: compiled.clone(),
                });
            }
        }
        actions
    }
}
