//! One kind of resource, kept in memory and written through to its store collection: loaded
//! whole at start, read from memory, changed in the store first and in memory second.
//!
//! Why memory in front of the store: routing and delivery read resources on every event, and a
//! sled read (a tree lookup and a JSON decode) costs far more than a map lookup. Why the store
//! first: a change the store refused must not be visible, so memory never shows what a restart
//! would lose. (Durability is the caller's flush, after the lock is released.)
//!
//! The map has no lock of its own: its owner keeps several maps under one lock, because one
//! change can span kinds (deleting a bus deletes its rules) and must be seen whole.

use std::collections::BTreeMap;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::model::Scope;
use crate::store::{Collection, Store, StoreError};

/// A resource named within its (account, region), the key of most kinds.
pub type NameKey = (Scope, String);

/// The key of a resource in memory, which also names its record in the store.
pub trait ResourceKey: Ord + Clone {
    fn scope(&self) -> &Scope;

    /// Account, region and names joined by U+001F, which no name may contain, so that two
    /// keys never collide.
    fn store_key(&self) -> String;
}

fn joined(scope: &Scope, names: &[&str]) -> String {
    let mut key = format!("{}\u{1f}{}", scope.account, scope.region);
    for name in names {
        key.push('\u{1f}');
        key.push_str(name);
    }
    key
}

impl ResourceKey for (Scope, String) {
    fn scope(&self) -> &Scope {
        &self.0
    }

    fn store_key(&self) -> String {
        joined(&self.0, &[&self.1])
    }
}

/// (scope, bus, name): a rule, named within its bus.
impl ResourceKey for (Scope, String, String) {
    fn scope(&self) -> &Scope {
        &self.0
    }

    fn store_key(&self) -> String {
        joined(&self.0, &[&self.1, &self.2])
    }
}

/// The records of one collection in key order; a value is stored as it serializes.
pub struct WriteThroughMap<K, V> {
    collection: Collection,
    entries: BTreeMap<K, V>,
}

impl<K: ResourceKey, V: Serialize> WriteThroughMap<K, V> {
    /// Reads every record of `collection`; `entry` makes each one a key and a value.
    pub fn load<R: DeserializeOwned>(
        store: &Store,
        collection: Collection,
        entry: impl FnMut(R) -> (K, V),
    ) -> Result<Self, StoreError> {
        Ok(WriteThroughMap {
            collection,
            entries: store
                .load::<R>(collection)?
                .into_iter()
                .map(entry)
                .collect(),
        })
    }

    pub fn get(&self, key: &K) -> Option<&V> {
        self.entries.get(key)
    }

    pub fn contains(&self, key: &K) -> bool {
        self.entries.contains_key(key)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.entries.iter()
    }

    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.entries.values()
    }

    /// The entries from `from` on, in key order.
    pub fn range_from(&self, from: K) -> impl Iterator<Item = (&K, &V)> {
        self.entries.range(from..)
    }

    /// The values of one (account, region), in key order.
    pub fn in_scope<'a>(&'a self, scope: &'a Scope) -> impl Iterator<Item = &'a V> + 'a {
        self.entries
            .iter()
            .filter(move |(key, _)| key.scope() == scope)
            .map(|(_, value)| value)
    }

    /// Adds or replaces a value.
    pub fn put(&mut self, store: &Store, key: K, value: V) -> Result<(), StoreError> {
        store.put(self.collection, &key.store_key(), &value)?;
        self.entries.insert(key, value);
        Ok(())
    }

    /// Removes every value whose key `doomed` picks; returns the values removed.
    pub fn remove_where(
        &mut self,
        store: &Store,
        doomed: impl Fn(&K) -> bool,
    ) -> Result<Vec<V>, StoreError> {
        let keys: Vec<K> = self.entries.keys().filter(|k| doomed(k)).cloned().collect();
        let mut removed = Vec::with_capacity(keys.len());
        for key in keys {
            if let Some(value) = self.remove(store, &key)? {
                removed.push(value);
            }
        }
        Ok(removed)
    }

    /// Removes a value; `None` when there was none (and the store is not touched).
    pub fn remove(&mut self, store: &Store, key: &K) -> Result<Option<V>, StoreError> {
        if !self.entries.contains_key(key) {
            return Ok(None);
        }
        store.remove(self.collection, &key.store_key())?;
        Ok(self.entries.remove(key))
    }

    /// Applies `change`, which may refuse, to a copy of a value and puts the result; `None`
    /// when there is no such value (and `change` is not called).
    pub fn update(
        &mut self,
        store: &Store,
        key: &K,
        change: impl FnOnce(&mut V) -> Result<(), ApiError>,
    ) -> Result<Option<V>, ApiError>
    where
        V: Clone,
    {
        let Some(mut value) = self.entries.get(key).cloned() else {
            return Ok(None);
        };
        change(&mut value)?;
        self.put(store, key.clone(), value.clone())
            .map_err(ApiError::storage)?;
        Ok(Some(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(region: &str) -> Scope {
        Scope {
            account: "000000000000".into(),
            region: region.into(),
        }
    }

    fn key(region: &str, name: &str) -> NameKey {
        (scope(region), name.to_string())
    }

    #[test]
    fn writes_reach_the_store_and_a_reload_sees_them() {
        let store = Store::open(None, 1 << 20).unwrap();
        let mut map =
            WriteThroughMap::<NameKey, String>::load(&store, Collection::Buses, |v: String| {
                unreachable!("empty store: {v}")
            })
            .unwrap();
        map.put(&store, key("eu-west-1", "b"), "one".into())
            .unwrap();
        map.put(&store, key("us-east-1", "a"), "two".into())
            .unwrap();
        map.put(&store, key("eu-west-1", "a"), "three".into())
            .unwrap();
        let changed = map
            .update(&store, &key("eu-west-1", "b"), |v| {
                v.push('!');
                Ok(())
            })
            .unwrap();
        assert_eq!(changed.as_deref(), Some("one!"));
        assert!(
            map.update(&store, &key("eu-west-1", "zz"), |_| unreachable!())
                .unwrap()
                .is_none()
        );
        assert_eq!(
            map.remove(&store, &key("us-east-1", "a"))
                .unwrap()
                .as_deref(),
            Some("two")
        );
        assert!(
            map.remove(&store, &key("us-east-1", "a"))
                .unwrap()
                .is_none()
        );

        let eu = scope("eu-west-1");
        let listed: Vec<&String> = map.in_scope(&eu).collect();
        assert_eq!(listed, ["three", "one!"]);

        let reloaded =
            WriteThroughMap::<NameKey, String>::load(&store, Collection::Buses, |v: String| {
                (key("eu-west-1", if v == "three" { "a" } else { "b" }), v)
            })
            .unwrap();
        let values: Vec<&String> = reloaded.values().collect();
        assert_eq!(values, ["three", "one!"]);
    }

    #[test]
    fn a_refused_change_leaves_the_value_as_it_was() {
        let store = Store::open(None, 1 << 20).unwrap();
        let mut map =
            WriteThroughMap::<NameKey, String>::load(&store, Collection::Replays, |v: String| {
                (key("eu-west-1", &v), v)
            })
            .unwrap();
        map.put(&store, key("eu-west-1", "a"), "a".into()).unwrap();
        let refused = map.update(&store, &key("eu-west-1", "a"), |v| {
            v.push('!');
            Err(ApiError::validation("no"))
        });
        assert!(refused.is_err());
        assert_eq!(
            map.get(&key("eu-west-1", "a")).map(String::as_str),
            Some("a")
        );
    }
}
