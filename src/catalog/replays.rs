//! Replays as records: their state and progress. Running them is `crate::replay`'s job.

use super::{Catalog, storage, store_key};
use crate::error::ApiError;
use crate::model::{Replay, Scope};
use crate::store::Collection;

impl Catalog {
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
}
