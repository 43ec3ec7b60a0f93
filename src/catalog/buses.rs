//! Event buses: the `default` bus every (account, region) has, and the buses users create.
//! Deleting one takes its rules with it and disables the archives it fed.

use super::{Catalog, RuleKey, bus_rules, storage, store_key};
use crate::error::ApiError;
use crate::model::{EventBus, Scope, time::now_ms};
use crate::store::Collection;

impl Catalog {
    /// Every (account, region) has its `default` bus from the first request on.
    pub fn ensure_default_bus(&self, scope: &Scope) -> Result<(), ApiError> {
        let key = (scope.clone(), "default".to_string());
        if self.read().buses.contains_key(&key) {
            return Ok(());
        }
        let mut data = self.write();
        if data.buses.contains_key(&key) {
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
        };
        self.store
            .put(Collection::Buses, &store_key(scope, &["default"]), &bus)
            .map_err(storage)?;
        data.buses.insert(key, bus);
        Ok(())
    }

    pub fn create_bus(&self, bus: EventBus) -> Result<EventBus, ApiError> {
        let mut data = self.write();
        let key = (bus.scope.clone(), bus.name.clone());
        if data.buses.contains_key(&key) {
            return Err(ApiError::already_exists(format!(
                "Event bus {} already exists.",
                bus.name
            )));
        }
        self.store
            .put(
                Collection::Buses,
                &store_key(&bus.scope, &[&bus.name]),
                &bus,
            )
            .map_err(storage)?;
        data.buses.insert(key, bus.clone());
        Ok(bus)
    }

    pub fn bus(&self, scope: &Scope, name: &str) -> Result<EventBus, ApiError> {
        self.read()
            .buses
            .get(&(scope.clone(), name.to_string()))
            .cloned()
            .ok_or_else(|| ApiError::bus_not_found(name))
    }

    pub fn buses(&self, scope: &Scope, prefix: Option<&str>) -> Vec<EventBus> {
        self.read()
            .buses
            .iter()
            .filter(|((s, name), _)| s == scope && prefix.is_none_or(|p| name.starts_with(p)))
            .map(|(_, bus)| bus.clone())
            .collect()
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
        if data
            .buses
            .remove(&(scope.clone(), name.to_string()))
            .is_none()
        {
            return Ok(());
        }
        self.store
            .remove(Collection::Buses, &store_key(scope, &[name]))
            .map_err(storage)?;
        let rule_keys: Vec<RuleKey> = bus_rules(&data, scope, name)
            .map(|r| (scope.clone(), name.to_string(), r.rule.name.clone()))
            .collect();
        for key in rule_keys {
            self.store
                .remove(Collection::Rules, &store_key(scope, &[name, &key.2]))
                .map_err(storage)?;
            data.rules.remove(&key);
        }
        data.reindex(scope, name);
        let bus_arn = crate::model::arn::event_bus(scope, name);
        for entry in data.archives.values_mut() {
            if entry.archive.scope == *scope && entry.archive.event_source_arn == bus_arn {
                entry.archive.state = crate::model::ArchiveState::Disabled;
                entry.archive.state_reason = Some(format!("Event bus {name} was deleted."));
                self.store
                    .put(
                        Collection::Archives,
                        &store_key(scope, &[&entry.archive.name]),
                        &entry.archive,
                    )
                    .map_err(storage)?;
            }
        }
        Ok(())
    }
}
