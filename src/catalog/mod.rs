//! The resources of every (account, region), in memory for fast routing and written through
//! to the store on every change.
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
mod replays;
mod routing;
mod rules;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::error::ApiError;
use crate::model::{Archive, EventBus, Replay, Rule, Scope};
use crate::pattern::Pattern;
use crate::rule_index::RuleIndex;
use crate::store::{Collection, Store, StoreError};

/// Re-exported: callers know compiled rules as the catalog's.
pub use crate::rule_index::CompiledRule;
pub use routing::{RouteAction, RuleFilter};
pub use rules::MAX_TARGETS_PER_RULE;

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

    fn require_bus(data: &Data, scope: &Scope, bus: &str) -> Result<(), ApiError> {
        if data.buses.contains_key(&(scope.clone(), bus.to_string())) {
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
}
