//! Archives, each with the managed rule that feeds it; their events live in the store's
//! event log, which the callers write and delete.

use serde_json::Value;

use super::{ArchiveEntry, Catalog, storage};
use crate::error::{ApiError, ErrorCode};
use crate::model::{ARCHIVE_RULE_MANAGER, Archive, Rule, RuleState, Scope, archive_rule_name};
use crate::pattern::Pattern;

impl Catalog {
    /// Creates an archive and the managed rule that feeds it.
    pub fn create_archive(
        &self,
        archive: Archive,
        bus_name: &str,
    ) -> Result<ArchiveEntry, ApiError> {
        let mut data = self.write();
        let key = (archive.scope.clone(), archive.name.clone());
        if data.archives.contains(&key) {
            return Err(ApiError::already_exists(format!(
                "Archive {} already exists.",
                archive.name
            )));
        }
        Self::require_bus(&data, &archive.scope, bus_name)?;
        let rule_pattern = archive_rule_pattern(archive.event_pattern.as_deref())?;
        let pattern = Pattern::compile(&rule_pattern)?;
        let rule = Rule {
            scope: archive.scope.clone(),
            bus_name: bus_name.to_string(),
            name: archive_rule_name(&archive.name),
            event_pattern: Some(rule_pattern),
            schedule_expression: None,
            state: RuleState::Enabled,
            description: None,
            role_arn: None,
            managed_by: Some(ARCHIVE_RULE_MANAGER.to_string()),
            archive: Some(archive.name.clone()),
            tags: Vec::new(),
            targets: Vec::new(),
        };
        let entry = ArchiveEntry { archive };
        data.archives
            .put(&self.store, key, entry.clone())
            .map_err(storage)?;
        self.save_rule(&mut data, rule, Some(pattern))?;
        Ok(entry)
    }

    pub fn archive(&self, scope: &Scope, name: &str) -> Option<ArchiveEntry> {
        self.read()
            .archives
            .get(&(scope.clone(), name.to_string()))
            .cloned()
    }

    pub fn archives(&self, scope: &Scope) -> Vec<ArchiveEntry> {
        self.read().archives.in_scope(scope).cloned().collect()
    }

    pub fn all_archives(&self) -> Vec<ArchiveEntry> {
        self.read().archives.values().cloned().collect()
    }

    /// Changes an archive's description, pattern or retention; a new pattern also becomes the
    /// managed rule's pattern (events already archived stay).
    pub fn update_archive(
        &self,
        scope: &Scope,
        name: &str,
        change: impl FnOnce(&mut Archive),
    ) -> Result<ArchiveEntry, ApiError> {
        let mut data = self.write();
        let key = (scope.clone(), name.to_string());
        let entry = data
            .archives
            .get(&key)
            .ok_or_else(|| ApiError::not_found(format!("Archive {name} does not exist.")))?;
        let mut archive = entry.archive.clone();
        let old_pattern = archive.event_pattern.clone();
        change(&mut archive);
        if archive.event_pattern != old_pattern {
            let rule_pattern = archive_rule_pattern(archive.event_pattern.as_deref())?;
            let compiled = Pattern::compile(&rule_pattern)?;
            let rule_key = data
                .rules
                .iter()
                .find(|((s, _, _), r)| s == scope && r.rule.archive.as_deref() == Some(name))
                .map(|(k, r)| (k.clone(), r.rule.clone()));
            if let Some((_, mut rule)) = rule_key {
                rule.event_pattern = Some(rule_pattern);
                self.save_rule(&mut data, rule, Some(compiled))?;
            }
        }
        let entry = ArchiveEntry { archive };
        data.archives
            .put(&self.store, key, entry.clone())
            .map_err(storage)?;
        Ok(entry)
    }

    /// Removes an archive and its managed rule; the caller deletes its events.
    pub fn delete_archive(&self, scope: &Scope, name: &str) -> Result<Archive, ApiError> {
        let mut data = self.write();
        let entry = data
            .archives
            .remove(&self.store, &(scope.clone(), name.to_string()))
            .map_err(storage)?
            .ok_or_else(|| ApiError::not_found(format!("Archive {name} does not exist.")))?;
        let rule_name = archive_rule_name(name);
        let rule_key = data
            .rules
            .iter()
            .find(|((s, _, r), rule)| {
                s == scope && *r == rule_name && rule.rule.archive.as_deref() == Some(name)
            })
            .map(|(k, _)| k.clone());
        if let Some(key) = rule_key {
            self.remove_rule(&mut data, &key)?;
        }
        Ok(entry.archive)
    }
}

/// The managed archive rule's pattern: the archive's own plus `replay-name` absent, so that
/// replayed events are never archived again.
fn archive_rule_pattern(archive_pattern: Option<&str>) -> Result<String, ApiError> {
    let mut object = match archive_pattern {
        Some(text) => {
            // Validated by the caller already; this only re-reads it as an object.
            match serde_json::from_str::<Value>(text) {
                Ok(Value::Object(map)) => map,
                _ => {
                    return Err(ApiError::new(
                        ErrorCode::InvalidEventPattern,
                        "Event pattern is not valid. Reason: Filter is not an object",
                    ));
                }
            }
        }
        None => serde_json::Map::new(),
    };
    object.insert(
        "replay-name".into(),
        serde_json::json!([{ "exists": false }]),
    );
    Ok(Value::Object(object).to_string())
}
