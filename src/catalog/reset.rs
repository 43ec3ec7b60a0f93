//! Removing everything of an (account, region), or of all, without a restart
//! (`/_local/reset`): a test suite isolates its tests this way.

use super::{Catalog, storage};
use crate::error::ApiError;
use crate::model::Scope;

impl Catalog {
    /// Removes the buses, rules (with their targets), archives and replays of `scope` (or
    /// of all); each `default` bus comes back as new. Returns the unique ids of the archives
    /// removed, whose events the caller deletes.
    pub fn reset(&self, scope: Option<&Scope>) -> Result<Vec<u64>, ApiError> {
        let ours = |s: &Scope| scope.is_none_or(|x| x == s);
        let (uids, defaults) = {
            let mut data = self.write();
            data.rules
                .remove_where(&self.store, |k| ours(&k.0))
                .map_err(storage)?;
            data.indexes.retain(|s, _| !ours(s));
            let buses = data
                .buses
                .remove_where(&self.store, |k| ours(&k.0))
                .map_err(storage)?;
            let archives = data
                .archives
                .remove_where(&self.store, |k| ours(&k.0))
                .map_err(storage)?;
            data.replays
                .remove_where(&self.store, |k| ours(&k.0))
                .map_err(storage)?;
            let uids: Vec<u64> = archives.iter().map(|a| a.archive.uid).collect();
            let defaults: Vec<Scope> = buses
                .into_iter()
                .filter(|b| b.name == "default")
                .map(|b| b.scope)
                .collect();
            (uids, defaults)
        };
        for scope in defaults {
            self.ensure_default_bus(&scope)?;
        }
        Ok(uids)
    }
}
