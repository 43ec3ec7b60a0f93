//! The resources of every (account, region), in memory for fast routing and written through
//! to the store on every change (one `WriteThroughMap` per kind).
//!
//! Handlers call these methods; each one checks existence and conflicts with AWS's errors.
//! Locks are never held across an `.await`: callers flush the store afterwards.
//!
//! Why one `Catalog` over one lock, cut into a file per resource: the resources are not
//! independent. Deleting a bus deletes its rules and disables its archives, an archive owns a
//! managed rule, and routing reads rules and archives together; one lock over all of them keeps
//! each such change atomic. The facade (this file) holds the data, its loading and the helpers
//! several resources share; each child file is one resource's `impl Catalog` block and uses only
//! this file (`super::`), never a sibling's items, so no two files import each other.

mod archives;
mod buses;
mod endpoints;
mod partner_sources;
mod replays;
mod reset;
mod routing;
mod rules;
mod tags;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use serde::Serialize;

use crate::error::{ApiError, ErrorCode};
use crate::model::endpoint::Endpoint;
use crate::model::event_source::EventSource;
use crate::model::{Archive, EventBus, Replay, Rule, Scope};
use crate::pattern::Pattern;
use crate::rule_index::RuleIndex;
use crate::store::{Collection, Store, StoreError};
use crate::write_through::{NameKey, WriteThroughMap};

/// Re-exported: callers know compiled rules as the catalog's.
pub use crate::rule_index::CompiledRule;
pub use routing::{RouteAction, RuleFilter};
pub use rules::MAX_TARGETS_PER_RULE;
pub use tags::MAX_TAGS_PER_RESOURCE;

type BusKey = (Scope, String);
type RuleKey = (Scope, String, String);

/// An archive as the catalog keeps it; stored as the archive alone.
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct ArchiveEntry {
    pub archive: Archive,
}

struct Data {
    buses: WriteThroughMap<BusKey, EventBus>,
    rules: WriteThroughMap<RuleKey, Arc<CompiledRule>>,
    archives: WriteThroughMap<NameKey, ArchiveEntry>,
    replays: WriteThroughMap<NameKey, Replay>,
    /// Partner event sources, by customer scope and source name.
    event_sources: WriteThroughMap<NameKey, EventSource>,
    endpoints: WriteThroughMap<NameKey, Endpoint>,
    /// Per scope and bus, its rules indexed for routing; rebuilt whenever one of them
    /// changes. Nested so that routing looks a bus up by reference (no key built per event).
    indexes: HashMap<Scope, HashMap<String, Arc<RuleIndex>>>,
}

impl Data {
    fn reindex(&mut self, scope: &Scope, bus: &str) {
        let rules: Vec<Arc<CompiledRule>> = bus_rules(self, scope, bus).cloned().collect();
        if rules.is_empty() {
            if let Some(buses) = self.indexes.get_mut(scope) {
                buses.remove(bus);
                if buses.is_empty() {
                    self.indexes.remove(scope);
                }
            }
        } else {
            self.indexes
                .entry(scope.clone())
                .or_default()
                .insert(bus.to_string(), Arc::new(RuleIndex::build(rules)));
        }
    }
}

pub struct Catalog {
    store: Store,
    data: RwLock<Data>,
}

fn storage(err: StoreError) -> ApiError {
    ApiError::storage(err)
}

/// AWS refuses changes to rules that a service manages for you (unless forced, where the
/// operation has `Force`).
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
        .range_from(start)
        .take_while(move |((s, b, _), _)| *s == scope && *b == bus)
        .map(|(_, rule)| rule)
}

/// A stored rule, compiled again; a pattern that no longer compiles matches nothing.
fn compile_stored(rule: Rule) -> (RuleKey, Arc<CompiledRule>) {
    let pattern = match rule.event_pattern.as_deref().map(Pattern::compile) {
        Some(Ok(p)) => Some(p),
        Some(Err(e)) => {
            tracing::warn!(rule = %rule.name, reason = %e.reason, "stored pattern no longer compiles; rule matches nothing");
            None
        }
        None => None,
    };
    let key = (rule.scope.clone(), rule.bus_name.clone(), rule.name.clone());
    (key, Arc::new(CompiledRule::new(rule, pattern)))
}

impl Catalog {
    /// Loads every resource from the store, and drops archived events whose archive is gone.
    pub fn load(store: Store) -> Result<Catalog, StoreError> {
        let buses = WriteThroughMap::load(&store, Collection::Buses, |bus: EventBus| {
            ((bus.scope.clone(), bus.name.clone()), bus)
        })?;
        let rules = WriteThroughMap::load(&store, Collection::Rules, compile_stored)?;
        let archives = WriteThroughMap::load(&store, Collection::Archives, |archive: Archive| {
            (
                (archive.scope.clone(), archive.name.clone()),
                ArchiveEntry { archive },
            )
        })?;
        let live: HashSet<u64> = archives.values().map(|a| a.archive.uid).collect();
        store.retain_archives(&live)?;
        let replays = WriteThroughMap::load(&store, Collection::Replays, |replay: Replay| {
            ((replay.scope.clone(), replay.name.clone()), replay)
        })?;
        let event_sources =
            WriteThroughMap::load(&store, Collection::EventSources, |s: EventSource| {
                ((s.scope.clone(), s.name.clone()), s)
            })?;
        let endpoints = WriteThroughMap::load(&store, Collection::Endpoints, |e: Endpoint| {
            ((e.scope.clone(), e.name.clone()), e)
        })?;
        let mut data = Data {
            buses,
            rules,
            archives,
            replays,
            event_sources,
            endpoints,
            indexes: HashMap::new(),
        };
        let buses: Vec<BusKey> = data
            .rules
            .iter()
            .map(|((s, b, _), _)| (s.clone(), b.clone()))
            .collect();
        for (scope, bus) in buses {
            data.reindex(&scope, &bus);
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

    fn require_bus(data: &Data, scope: &Scope, bus: &str) -> Result<(), ApiError> {
        if data.buses.contains(&(scope.clone(), bus.to_string())) {
            Ok(())
        } else {
            Err(ApiError::bus_not_found(bus))
        }
    }

    /// Stores a rule, compiled, and rebuilds its bus's index (rules and archives both change
    /// rules).
    fn save_rule(
        &self,
        data: &mut Data,
        rule: Rule,
        pattern: Option<Pattern>,
    ) -> Result<(), ApiError> {
        let (key, compiled) = (
            (rule.scope.clone(), rule.bus_name.clone(), rule.name.clone()),
            Arc::new(CompiledRule::new(rule, pattern)),
        );
        data.rules
            .put(&self.store, key.clone(), compiled)
            .map_err(storage)?;
        data.reindex(&key.0, &key.1);
        Ok(())
    }

    /// Removes a rule and rebuilds its bus's index.
    fn remove_rule(&self, data: &mut Data, key: &RuleKey) -> Result<(), ApiError> {
        data.rules.remove(&self.store, key).map_err(storage)?;
        data.reindex(&key.0, &key.1);
        Ok(())
    }
}
