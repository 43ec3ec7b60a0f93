//! Replays as records: their state and progress. Running them is `crate::replay`'s job.

use super::{Catalog, storage};
use crate::error::ApiError;
use crate::model::{Replay, Scope};

impl Catalog {
    /// Records a new replay; fails when the name is taken or too many replays are active.
    pub fn create_replay(&self, replay: Replay, max_active: usize) -> Result<(), ApiError> {
        let mut data = self.write();
        let key = (replay.scope.clone(), replay.name.clone());
        if data.replays.contains(&key) {
            return Err(ApiError::already_exists(format!(
                "Replay {} already exists.",
                replay.name
            )));
        }
        let active = data
            .replays
            .in_scope(&replay.scope)
            .filter(|r| r.state.is_active())
            .count();
        if active >= max_active {
            return Err(ApiError::limit_exceeded());
        }
        data.replays.put(&self.store, key, replay).map_err(storage)
    }

    pub fn replay(&self, scope: &Scope, name: &str) -> Result<Replay, ApiError> {
        self.read()
            .replays
            .get(&(scope.clone(), name.to_string()))
            .cloned()
            .ok_or_else(|| ApiError::not_found(format!("Replay {name} does not exist.")))
    }

    pub fn replays(&self, scope: &Scope) -> Vec<Replay> {
        self.read().replays.in_scope(scope).cloned().collect()
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
        self.write()
            .replays
            .update(&self.store, &(scope.clone(), name.to_string()), change)?
            .ok_or_else(|| ApiError::not_found(format!("Replay {name} does not exist.")))
    }
}
