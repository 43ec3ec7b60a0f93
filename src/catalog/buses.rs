//! Event buses: the `default` bus every (account, region) has, and the buses users create.
//! Deleting one takes its rules with it and disables the archives it fed.

use serde_json::Value;

use super::{Catalog, RuleKey, bus_rules, storage};
use crate::error::ApiError;
use crate::model::policy::{self, Denial, PutEventsCheck};
use crate::model::{ArchiveState, EventBus, Scope, arn, time::now_ms};

impl Catalog {
    /// Every (account, region) has its `default` bus from the first request on.
    pub fn ensure_default_bus(&self, scope: &Scope) -> Result<(), ApiError> {
        let key = (scope.clone(), "default".to_string());
        if self.read().buses.contains(&key) {
            return Ok(());
        }
        let mut data = self.write();
        if data.buses.contains(&key) {
            return Ok(());
        }
        let now = now_ms();
        let bus = EventBus {
            scope: scope.clone(),
            name: "default".into(),
            description: None,
            kms_key_identifier: None,
            dead_letter_config: None,
            log_config: None,
            tags: Vec::new(),
            creation_time_ms: now,
            last_modified_time_ms: now,
            policy: None,
        };
        data.buses.put(&self.store, key, bus).map_err(storage)
    }

    pub fn create_bus(&self, bus: EventBus) -> Result<EventBus, ApiError> {
        let mut data = self.write();
        let key = (bus.scope.clone(), bus.name.clone());
        if data.buses.contains(&key) {
            return Err(ApiError::already_exists(format!(
                "Event bus {} already exists.",
                bus.name
            )));
        }
        data.buses
            .put(&self.store, key, bus.clone())
            .map_err(storage)?;
        Ok(bus)
    }

    pub fn bus(&self, scope: &Scope, name: &str) -> Result<EventBus, ApiError> {
        self.read()
            .buses
            .get(&(scope.clone(), name.to_string()))
            .cloned()
            .ok_or_else(|| ApiError::bus_not_found(name))
    }

    /// Applies `change` to a bus's settings and stamps its modification time.
    pub fn update_bus(
        &self,
        scope: &Scope,
        name: &str,
        change: impl FnOnce(&mut EventBus),
    ) -> Result<EventBus, ApiError> {
        self.write()
            .buses
            .update(&self.store, &(scope.clone(), name.to_string()), |bus| {
                change(bus);
                bus.last_modified_time_ms = now_ms();
                Ok(())
            })?
            .ok_or_else(|| ApiError::bus_not_found(name))
    }

    /// Every (account, region) that has a bus, in order: what the console lists first.
    pub fn scopes(&self) -> Vec<Scope> {
        let mut scopes: Vec<Scope> = self
            .read()
            .buses
            .iter()
            .map(|((scope, _), _)| scope.clone())
            .collect();
        scopes.dedup();
        scopes
    }

    pub fn buses(&self, scope: &Scope, prefix: Option<&str>) -> Vec<EventBus> {
        self.read()
            .buses
            .in_scope(scope)
            .filter(|bus| prefix.is_none_or(|p| bus.name.starts_with(p)))
            .cloned()
            .collect()
    }

    /// Changes the policy of a bus: `change` gets the current one and returns the next one
    /// (`None`: no policy), or refuses. The bus's LastModifiedTime moves.
    pub fn update_bus_policy(
        &self,
        scope: &Scope,
        name: &str,
        change: impl FnOnce(Option<Value>) -> Result<Option<Value>, ApiError>,
    ) -> Result<(), ApiError> {
        let key = (scope.clone(), name.to_string());
        let updated = self.write().buses.update(&self.store, &key, |bus| {
            bus.policy = change(bus.policy.take())?;
            bus.last_modified_time_ms = now_ms();
            Ok(())
        })?;
        updated
            .map(|_| ())
            .ok_or_else(|| ApiError::bus_not_found(name))
    }

    /// Whether the policy of the bus `name` of `scope` lets `check` put its event there. A bus
    /// that does not exist has no policy, so nothing may put events on it.
    pub fn authorize_put_events(
        &self,
        scope: &Scope,
        name: &str,
        check: &PutEventsCheck<'_>,
    ) -> Result<(), Denial> {
        let data = self.read();
        let bus = data.buses.get(&(scope.clone(), name.to_string()));
        policy::authorize_put_events(bus.and_then(|b| b.policy.as_ref()), check)
    }

    /// Deletes a bus with its rules (and their targets). A missing bus is not an error, as in
    /// AWS. Archives of the bus stay with their events but become DISABLED with a reason:
    /// nothing feeds them any more. (What AWS does here is not recorded; keeping the events
    /// loses nothing, and the state says why no new ones arrive.)
    pub fn delete_bus(&self, scope: &Scope, name: &str) -> Result<(), ApiError> {
        if name == "default" {
            return Err(ApiError::validation("Cannot delete event bus default."));
        }
        let mut data = self.write();
        let removed = data
            .buses
            .remove(&self.store, &(scope.clone(), name.to_string()))
            .map_err(storage)?;
        if removed.is_none() {
            return Ok(());
        }
        let rule_keys: Vec<RuleKey> = bus_rules(&data, scope, name)
            .map(|r| (scope.clone(), name.to_string(), r.rule.name.clone()))
            .collect();
        for key in rule_keys {
            data.rules.remove(&self.store, &key).map_err(storage)?;
        }
        data.reindex(scope, name);
        let bus_arn = arn::event_bus(scope, name);
        let fed: Vec<_> = data
            .archives
            .iter()
            .filter(|(_, entry)| {
                entry.archive.scope == *scope && entry.archive.event_source_arn == bus_arn
            })
            .map(|(key, _)| key.clone())
            .collect();
        for key in fed {
            data.archives.update(&self.store, &key, |entry| {
                entry.archive.state = ArchiveState::Disabled;
                entry.archive.state_reason = Some(format!("Event bus {name} was deleted."));
                Ok(())
            })?;
        }
        Ok(())
    }
}
