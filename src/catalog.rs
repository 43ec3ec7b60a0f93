//! The resources of every (account, region), in memory for fast routing and written through
//! to the store on every change.
//!
//! Handlers call these methods; each one checks existence and conflicts with AWS's errors.
//! Locks are never held across an `.await`: callers flush the store afterwards.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use serde_json::Value;

use crate::error::{ApiError, ErrorCode};
use crate::model::{
    ARCHIVE_RULE_MANAGER, Archive, EventBus, Replay, Rule, RuleState, Scope, Target,
    archive_rule_name, time::now_ms,
};
use crate::pattern::Pattern;
use crate::rule_index::RuleIndex;
use crate::store::{Collection, Store, StoreError};

/// Re-exported: callers know compiled rules as the catalog's.
pub use crate::rule_index::CompiledRule;

type BusKey = (Scope, String);
type RuleKey = (Scope, String, String);
type NameKey = (Scope, String);

#[derive(Debug, Clone)]
pub struct ArchiveEntry {
    pub archive: Archive,
}

#[derive(Default)]
struct Data {
    buses: BTreeMap<BusKey, EventBus>,
    rules: BTreeMap<RuleKey, Arc<CompiledRule>>,
    archives: BTreeMap<NameKey, ArchiveEntry>,
    replays: BTreeMap<NameKey, Replay>,
    /// Per bus, its rules indexed for routing; rebuilt whenever one of them changes.
    indexes: HashMap<BusKey, Arc<RuleIndex>>,
}

impl Data {
    fn reindex(&mut self, scope: &Scope, bus: &str) {
        let rules: Vec<Arc<CompiledRule>> = bus_rules(self, scope, bus).cloned().collect();
        let key = (scope.clone(), bus.to_string());
        if rules.is_empty() {
            self.indexes.remove(&key);
        } else {
            self.indexes.insert(key, Arc::new(RuleIndex::build(rules)));
        }
    }
}

pub struct Catalog {
    store: Store,
    data: RwLock<Data>,
}

fn store_key(scope: &Scope, names: &[&str]) -> String {
    let mut key = format!("{}\u{1f}{}", scope.account, scope.region);
    for name in names {
        key.push('\u{1f}');
        key.push_str(name);
    }
    key
}

fn storage(err: StoreError) -> ApiError {
    ApiError::storage(err)
}

/// The rules of one bus, in name order.
fn bus_rules<'a>(
    data: &'a Data,
    scope: &Scope,
    bus: &str,
) -> impl Iterator<Item = &'a Arc<CompiledRule>> + 'a {
    let start = (scope.clone(), bus.to_string(), String::new());
    let scope = scope.clone();
    let bus = bus.to_string();
    data.rules
        .range(start..)
        .take_while(move |((s, b, _), _)| *s == scope && *b == bus)
        .map(|(_, rule)| rule)
}

/// What a matched rule asks for.
pub enum RouteAction {
    Archive { uid: u64 },
    Deliver { rule: Arc<CompiledRule> },
}

/// Which rules of a bus an event may go to.
pub enum RuleFilter<'a> {
    /// Live traffic: every enabled rule, archive rules included.
    All,
    /// A replay: the listed rule ARNs (all non-archive rules when `None`), never archives.
    Replay(Option<&'a [String]>),
}

impl Catalog {
    /// Loads every resource from the store, and drops archived events whose archive is gone.
    pub fn load(store: Store) -> Result<Catalog, StoreError> {
        let mut data = Data::default();
        for bus in store.load::<EventBus>(Collection::Buses)? {
            data.buses
                .insert((bus.scope.clone(), bus.name.clone()), bus);
        }
        for rule in store.load::<Rule>(Collection::Rules)? {
            let pattern = match rule.event_pattern.as_deref().map(Pattern::compile) {
                Some(Ok(p)) => Some(p),
                Some(Err(e)) => {
                    tracing::warn!(rule = %rule.name, reason = %e.reason, "stored pattern no longer compiles; rule matches nothing");
                    None
                }
                None => None,
            };
            let key = (rule.scope.clone(), rule.bus_name.clone(), rule.name.clone());
            data.rules
                .insert(key, Arc::new(CompiledRule::new(rule, pattern)));
        }
        let buses: Vec<BusKey> = data
            .rules
            .keys()
            .map(|(s, b, _)| (s.clone(), b.clone()))
            .collect();
        for (scope, bus) in buses {
            data.reindex(&scope, &bus);
        }
        for archive in store.load::<Archive>(Collection::Archives)? {
            data.archives.insert(
                (archive.scope.clone(), archive.name.clone()),
                ArchiveEntry { archive },
            );
        }
        let live: std::collections::HashSet<u64> =
            data.archives.values().map(|a| a.archive.uid).collect();
        store.retain_archives(&live)?;
        for replay in store.load::<Replay>(Collection::Replays)? {
            data.replays
                .insert((replay.scope.clone(), replay.name.clone()), replay);
        }
        Ok(Catalog {
            store,
            data: RwLock::new(data),
        })
    }

    fn read(&self) -> RwLockReadGuard<'_, Data> {
        self.data.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Data> {
        self.data.write().unwrap_or_else(|e| e.into_inner())
    }

    // ---- event buses ----

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

    // ---- rules ----

    fn require_bus(data: &Data, scope: &Scope, bus: &str) -> Result<(), ApiError> {
        if data.buses.contains_key(&(scope.clone(), bus.to_string())) {
            Ok(())
        } else {
            Err(ApiError::bus_not_found(bus))
        }
    }

    fn save_rule(
        &self,
        data: &mut Data,
        rule: Rule,
        pattern: Option<Pattern>,
    ) -> Result<(), ApiError> {
        self.store
            .put(
                Collection::Rules,
                &store_key(&rule.scope, &[&rule.bus_name, &rule.name]),
                &rule,
            )
            .map_err(storage)?;
        let key = (rule.scope.clone(), rule.bus_name.clone(), rule.name.clone());
        data.rules
            .insert(key.clone(), Arc::new(CompiledRule::new(rule, pattern)));
        data.reindex(&key.0, &key.1);
        Ok(())
    }

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
            if rule.tags.is_empty() {
                rule.tags = existing.rule.tags.clone();
            }
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
        self.store
            .remove(Collection::Rules, &store_key(scope, &[bus, name]))
            .map_err(storage)?;
        data.rules.remove(&key);
        data.reindex(scope, bus);
        Ok(())
    }

    /// Applies `change` to a user rule (managed rules refuse with AWS's error).
    fn update_rule(
        &self,
        scope: &Scope,
        bus: &str,
        name: &str,
        change: impl FnOnce(&mut Rule) -> Result<(), ApiError>,
    ) -> Result<Rule, ApiError> {
        let mut data = self.write();
        Self::require_bus(&data, scope, bus)?;
        let key = (scope.clone(), bus.to_string(), name.to_string());
        let existing = data
            .rules
            .get(&key)
            .ok_or_else(|| ApiError::rule_not_found(name, bus))?;
        if existing.rule.managed_by.is_some() {
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
        self.update_rule(scope, bus, name, |rule| {
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
        self.update_rule(scope, bus, name, |rule| {
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

    pub fn remove_targets(
        &self,
        scope: &Scope,
        bus: &str,
        name: &str,
        ids: &[String],
    ) -> Result<(), ApiError> {
        self.update_rule(scope, bus, name, |rule| {
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

    // ---- archives ----

    /// Creates an archive and the managed rule that feeds it.
    pub fn create_archive(
        &self,
        archive: Archive,
        bus_name: &str,
    ) -> Result<ArchiveEntry, ApiError> {
        let mut data = self.write();
        let key = (archive.scope.clone(), archive.name.clone());
        if data.archives.contains_key(&key) {
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
        self.store
            .put(
                Collection::Archives,
                &store_key(&archive.scope, &[&archive.name]),
                &archive,
            )
            .map_err(storage)?;
        self.save_rule(&mut data, rule, Some(pattern))?;
        let entry = ArchiveEntry { archive };
        data.archives.insert(key, entry.clone());
        Ok(entry)
    }

    pub fn archive(&self, scope: &Scope, name: &str) -> Option<ArchiveEntry> {
        self.read()
            .archives
            .get(&(scope.clone(), name.to_string()))
            .cloned()
    }

    pub fn archives(&self, scope: &Scope) -> Vec<ArchiveEntry> {
        self.read()
            .archives
            .iter()
            .filter(|((s, _), _)| s == scope)
            .map(|(_, a)| a.clone())
            .collect()
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
        self.store
            .put(Collection::Archives, &store_key(scope, &[name]), &archive)
            .map_err(storage)?;
        let entry = ArchiveEntry { archive };
        data.archives.insert(key, entry.clone());
        Ok(entry)
    }

    /// Removes an archive and its managed rule; the caller deletes its events.
    pub fn delete_archive(&self, scope: &Scope, name: &str) -> Result<Archive, ApiError> {
        let mut data = self.write();
        let entry = data
            .archives
            .remove(&(scope.clone(), name.to_string()))
            .ok_or_else(|| ApiError::not_found(format!("Archive {name} does not exist.")))?;
        self.store
            .remove(Collection::Archives, &store_key(scope, &[name]))
            .map_err(storage)?;
        let rule_name = archive_rule_name(name);
        let rule_key = data
            .rules
            .iter()
            .find(|((s, _, r), rule)| {
                s == scope && *r == rule_name && rule.rule.archive.as_deref() == Some(name)
            })
            .map(|(k, _)| k.clone());
        if let Some(key) = rule_key {
            self.store
                .remove(Collection::Rules, &store_key(scope, &[&key.1, &key.2]))
                .map_err(storage)?;
            data.rules.remove(&key);
            data.reindex(scope, &key.1);
        }
        Ok(entry.archive)
    }

    // ---- replays ----

    /// Records a new replay; fails when the name is taken or too many replays are active.
    pub fn create_replay(&self, replay: Replay, max_active: usize) -> Result<(), ApiError> {
        let mut data = self.write();
        let key = (replay.scope.clone(), replay.name.clone());
        if data.replays.contains_key(&key) {
            return Err(ApiError::already_exists(format!(
                "Replay {} already exists.",
                replay.name
            )));
        }
        let active = data
            .replays
            .values()
            .filter(|r| r.scope == replay.scope && r.state.is_active())
            .count();
        if active >= max_active {
            return Err(ApiError::limit_exceeded());
        }
        self.store
            .put(
                Collection::Replays,
                &store_key(&replay.scope, &[&replay.name]),
                &replay,
            )
            .map_err(storage)?;
        data.replays.insert(key, replay);
        Ok(())
    }

    pub fn replay(&self, scope: &Scope, name: &str) -> Result<Replay, ApiError> {
        self.read()
            .replays
            .get(&(scope.clone(), name.to_string()))
            .cloned()
            .ok_or_else(|| ApiError::not_found(format!("Replay {name} does not exist.")))
    }

    pub fn replays(&self, scope: &Scope) -> Vec<Replay> {
        self.read()
            .replays
            .iter()
            .filter(|((s, _), _)| s == scope)
            .map(|(_, r)| r.clone())
            .collect()
    }

    pub fn all_replays(&self) -> Vec<Replay> {
        self.read().replays.values().cloned().collect()
    }

    /// Applies `change` to a replay and stores it; returns the new value.
    pub fn update_replay(
        &self,
        scope: &Scope,
        name: &str,
        change: impl FnOnce(&mut Replay) -> Result<(), ApiError>,
    ) -> Result<Replay, ApiError> {
        let mut data = self.write();
        let replay = data
            .replays
            .get_mut(&(scope.clone(), name.to_string()))
            .ok_or_else(|| ApiError::not_found(format!("Replay {name} does not exist.")))?;
        let mut updated = replay.clone();
        change(&mut updated)?;
        self.store
            .put(Collection::Replays, &store_key(scope, &[name]), &updated)
            .map_err(storage)?;
        *replay = updated.clone();
        Ok(updated)
    }

    // ---- routing ----

    /// What an event on `bus` asks for: archive writes and deliveries of the matching enabled
    /// rules. A bus that does not exist routes nowhere (AWS drops such events silently).
    pub fn route(
        &self,
        scope: &Scope,
        bus: &str,
        event: &Value,
        filter: &RuleFilter<'_>,
    ) -> Vec<RouteAction> {
        let data = self.read();
        let mut actions = Vec::new();
        let Some(index) = data.indexes.get(&(scope.clone(), bus.to_string())) else {
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
            let matched = compiled.pattern.as_ref().is_some_and(|p| p.matches(event));
            if !matched {
                continue;
            }
            if let Some(archive_name) = &rule.archive {
                if let Some(entry) = data.archives.get(&(scope.clone(), archive_name.clone())) {
                    actions.push(RouteAction::Archive {
                        uid: entry.archive.uid,
                    });
                }
            } else if !rule.targets.is_empty() {
                actions.push(RouteAction::Deliver {
                    rule: compiled.clone(),
                });
            }
        }
        actions
    }
}

/// AWS allows five targets per rule.
pub const MAX_TARGETS_PER_RULE: usize = 5;

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

/// AWS refuses changes to rules that a service manages for you.
fn managed_rule_error(rule: &Rule) -> ApiError {
    ApiError::new(
        ErrorCode::ManagedRule,
        format!(
            "Rule {} is managed by {} and cannot be modified.",
            rule.name,
            rule.managed_by.as_deref().unwrap_or("AWS")
        ),
    )
}
