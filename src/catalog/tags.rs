//! Tags of event buses and rules, stored with the resource itself: they survive restarts with
//! it and go when it is deleted. Rules that a service manages refuse tag changes, as AWS's
//! TagResource and UntagResource do (both list ManagedRuleException).

use super::{Catalog, Data, RuleKey, managed_rule_error};
use crate::error::ApiError;
use crate::model::tag::{self, Tag, Taggable};

/// AWS allows 50 tags per resource.
pub const MAX_TAGS_PER_RESOURCE: usize = 50;

/// Refuses a tag list longer than AWS allows. (AWS's message for it is not recorded here; the
/// code is the ValidationException TagResource answers for invalid input.)
fn check_count(count: usize) -> Result<(), ApiError> {
    if count > MAX_TAGS_PER_RESOURCE {
        return Err(ApiError::validation(format!(
            "A resource can have at most {MAX_TAGS_PER_RESOURCE} tags; this request would leave it with {count}."
        )));
    }
    Ok(())
}

impl Catalog {
    /// The tags of a bus or rule, in the order they were first set.
    pub fn tags(&self, resource: &Taggable) -> Result<Vec<Tag>, ApiError> {
        let data = self.read();
        match resource {
            Taggable::Bus { scope, name } => data
                .buses
                .get(&(scope.clone(), name.clone()))
                .map(|bus| bus.tags.clone())
                .ok_or_else(|| ApiError::bus_not_found(name)),
            Taggable::Rule { scope, bus, name } => {
                Self::require_bus(&data, scope, bus)?;
                data.rules
                    .get(&(scope.clone(), bus.clone(), name.clone()))
                    .map(|rule| rule.rule.tags.clone())
                    .ok_or_else(|| ApiError::rule_not_found(name, bus))
            }
        }
    }

    /// Adds or replaces tags by key.
    pub fn tag_resource(&self, resource: &Taggable, tags: Vec<Tag>) -> Result<(), ApiError> {
        self.change_tags(resource, |current| {
            tag::merge(current, tags);
            check_count(current.len())
        })
    }

    /// Removes the tags with these keys; keys the resource does not have are ignored.
    pub fn untag_resource(&self, resource: &Taggable, keys: &[String]) -> Result<(), ApiError> {
        self.change_tags(resource, |current| {
            current.retain(|t| !keys.contains(&t.key));
            Ok(())
        })
    }

    fn change_tags(
        &self,
        resource: &Taggable,
        change: impl FnOnce(&mut Vec<Tag>) -> Result<(), ApiError>,
    ) -> Result<(), ApiError> {
        let mut data = self.write();
        match resource {
            Taggable::Bus { scope, name } => {
                data.buses
                    .update(&self.store, &(scope.clone(), name.clone()), |bus| {
                        change(&mut bus.tags)
                    })?
                    .ok_or_else(|| ApiError::bus_not_found(name))?;
                Ok(())
            }
            Taggable::Rule { scope, bus, name } => {
                Self::require_bus(&data, scope, bus)?;
                self.change_rule_tags(
                    &mut data,
                    (scope.clone(), bus.clone(), name.clone()),
                    change,
                )
            }
        }
    }

    fn change_rule_tags(
        &self,
        data: &mut Data,
        key: RuleKey,
        change: impl FnOnce(&mut Vec<Tag>) -> Result<(), ApiError>,
    ) -> Result<(), ApiError> {
        let existing = data
            .rules
            .get(&key)
            .ok_or_else(|| ApiError::rule_not_found(&key.2, &key.1))?;
        if existing.rule.managed_by.is_some() {
            return Err(managed_rule_error(&existing.rule));
        }
        let mut rule = existing.rule.clone();
        let pattern = existing.pattern.clone();
        change(&mut rule.tags)?;
        self.save_rule(data, rule, pattern)
    }
}
