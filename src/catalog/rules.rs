//! Rules and their targets. Every change recompiles the rule and rebuilds its bus's index;
//! rules an archive manages refuse changes from users, as in AWS.

use std::sync::Arc;

use super::{Catalog, CompiledRule, bus_rules, managed_rule_error};
use crate::error::ApiError;
use crate::model::{Rule, RuleState, Scope, Target};
use crate::pattern::Pattern;

impl Catalog {
    /// Creates or updates a rule (targets and tags of an existing rule are kept).
    pub fn put_rule(&self, mut rule: Rule, pattern: Option<Pattern>) -> Result<Rule, ApiError> {
        let mut data = self.write();
        Self::require_bus(&data, &rule.scope, &rule.bus_name)?;
        let key = (rule.scope.clone(), rule.bus_name.clone(), rule.name.clone());
        if let Some(existing) = data.rules.get(&key) {
            if existing.rule.managed_by.is_some() {
                return Err(managed_rule_error(&existing.rule));
            }
            rule.targets = existing.rule.targets.clone();
            // "If you are updating an existing rule, any tags you specify in the PutRule
            // operation are ignored." (PutRule's documentation)
            rule.tags = existing.rule.tags.clone();
        }
        self.save_rule(&mut data, rule.clone(), pattern)?;
        Ok(rule)
    }

    pub fn rule(
        &self,
        scope: &Scope,
        bus: &str,
        name: &str,
    ) -> Result<Arc<CompiledRule>, ApiError> {
        let data = self.read();
        Self::require_bus(&data, scope, bus)?;
        data.rules
            .get(&(scope.clone(), bus.to_string(), name.to_string()))
            .cloned()
            .ok_or_else(|| ApiError::rule_not_found(name, bus))
    }

    pub fn rules(
        &self,
        scope: &Scope,
        bus: &str,
        prefix: Option<&str>,
    ) -> Result<Vec<Rule>, ApiError> {
        let data = self.read();
        Self::require_bus(&data, scope, bus)?;
        Ok(bus_rules(&data, scope, bus)
            .filter(|r| prefix.is_none_or(|p| r.rule.name.starts_with(p)))
            .map(|r| r.rule.clone())
            .collect())
    }

    /// The names of a bus's rules (in name order) that have a target with this ARN.
    pub fn rule_names_by_target(
        &self,
        scope: &Scope,
        bus: &str,
        target_arn: &str,
    ) -> Result<Vec<String>, ApiError> {
        let data = self.read();
        Self::require_bus(&data, scope, bus)?;
        Ok(bus_rules(&data, scope, bus)
            .filter(|r| r.rule.targets.iter().any(|t| t.arn() == target_arn))
            .map(|r| r.rule.name.clone())
            .collect())
    }

    /// Deletes a rule. A missing rule on an existing bus is not an error (AWS's DeleteRule is
    /// idempotent).
    pub fn delete_rule(
        &self,
        scope: &Scope,
        bus: &str,
        name: &str,
        force: bool,
    ) -> Result<(), ApiError> {
        let mut data = self.write();
        Self::require_bus(&data, scope, bus)?;
        let key = (scope.clone(), bus.to_string(), name.to_string());
        let Some(existing) = data.rules.get(&key) else {
            return Ok(());
        };
        if existing.rule.managed_by.is_some() && !force {
            return Err(managed_rule_error(&existing.rule));
        }
        if !existing.rule.targets.is_empty() {
            return Err(ApiError::validation(
                "Rule can't be deleted since it has targets.",
            ));
        }
        self.remove_rule(&mut data, &key)
    }

    /// Applies `change` to a user rule (managed rules refuse with AWS's error unless `force`,
    /// which only the operations with AWS's `Force` member pass).
    fn update_rule(
        &self,
        scope: &Scope,
        bus: &str,
        name: &str,
        force: bool,
        change: impl FnOnce(&mut Rule) -> Result<(), ApiError>,
    ) -> Result<Rule, ApiError> {
        let mut data = self.write();
        Self::require_bus(&data, scope, bus)?;
        let key = (scope.clone(), bus.to_string(), name.to_string());
        let existing = data
            .rules
            .get(&key)
            .ok_or_else(|| ApiError::rule_not_found(name, bus))?;
        if existing.rule.managed_by.is_some() && !force {
            return Err(managed_rule_error(&existing.rule));
        }
        let mut rule = existing.rule.clone();
        let pattern = existing.pattern.clone();
        change(&mut rule)?;
        self.save_rule(&mut data, rule.clone(), pattern)?;
        Ok(rule)
    }

    pub fn set_rule_state(
        &self,
        scope: &Scope,
        bus: &str,
        name: &str,
        state: RuleState,
    ) -> Result<(), ApiError> {
        self.update_rule(scope, bus, name, false, |rule| {
            rule.state = state;
            Ok(())
        })
        .map(|_| ())
    }

    /// Adds or replaces targets by id. AWS allows five targets per rule.
    pub fn put_targets(
        &self,
        scope: &Scope,
        bus: &str,
        name: &str,
        targets: Vec<Target>,
    ) -> Result<(), ApiError> {
        self.update_rule(scope, bus, name, false, |rule| {
            for target in targets {
                match rule.targets.iter_mut().find(|t| t.id() == target.id()) {
                    Some(slot) => *slot = target,
                    None => rule.targets.push(target),
                }
            }
            if rule.targets.len() > MAX_TARGETS_PER_RULE {
                return Err(ApiError::limit_exceeded());
            }
            Ok(())
        })
        .map(|_| ())
    }

    /// Removes targets by id; a managed rule allows it only with `force` (AWS's `Force`).
    pub fn remove_targets(
        &self,
        scope: &Scope,
        bus: &str,
        name: &str,
        ids: &[String],
        force: bool,
    ) -> Result<(), ApiError> {
        self.update_rule(scope, bus, name, force, |rule| {
            rule.targets.retain(|t| !ids.iter().any(|id| id == t.id()));
            Ok(())
        })
        .map(|_| ())
    }

    /// Enabled rules with a ScheduleExpression, in every account and region.
    pub fn scheduled_rules(&self) -> Vec<Arc<CompiledRule>> {
        self.read()
            .rules
            .values()
            .filter(|r| r.rule.schedule_expression.is_some() && r.rule.state.is_enabled())
            .cloned()
            .collect()
    }
}

/// AWS allows five targets per rule.
pub const MAX_TARGETS_PER_RULE: usize = 5;
