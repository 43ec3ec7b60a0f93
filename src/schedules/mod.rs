//! EventBridge Scheduler's resources: schedule groups and schedules of every (account,
//! region), in memory and written through to the store (a `WriteThroughMap` each), with the
//! not-found and conflict errors of the Scheduler API.
//!
//! Kept apart from [`crate::catalog`]: schedules take no part in routing events; they are
//! read by the firing service (`scheduler_fire`), which is told of every change through
//! [`Schedules::changed`] so that a new or updated schedule is looked at without waiting.
//! Locks are never held across an `.await`: callers flush the store afterwards.

pub mod model;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};

use tokio::sync::Notify;

use crate::error::{ApiError, ErrorCode};
use crate::model::Scope;
use crate::model::time::now_ms;
use crate::store::{Collection, Store, StoreError};
use crate::write_through::{NameKey, WriteThroughMap};
pub use model::{
    DEFAULT_GROUP, FlexibleTimeWindow, Progress, Schedule, ScheduleGroup, ScheduleKey, Tag,
    group_arn, schedule_arn,
};

/// AWS's quota of schedule groups per account and region (the `default` one included).
const MAX_GROUPS: usize = 500;

/// How many DeleteSchedule / DeleteScheduleGroup client tokens are remembered, so that a
/// repeated delete answers as the first did.
const REMEMBERED_DELETE_TOKENS: usize = 1000;

struct Data {
    groups: WriteThroughMap<NameKey, ScheduleGroup>,
    schedules: WriteThroughMap<ScheduleKey, Schedule>,
}

pub struct Schedules {
    store: Store,
    data: RwLock<Data>,
    /// Woken on every change, so the firing service looks again at once.
    pub changed: Arc<Notify>,
    delete_tokens: Mutex<VecDeque<(Scope, String, String)>>,
}

fn storage(err: StoreError) -> ApiError {
    ApiError::storage(err)
}

pub fn schedule_not_found(name: &str) -> ApiError {
    ApiError::not_found(format!("Schedule {name} does not exist."))
}

pub fn group_not_found(name: &str) -> ApiError {
    ApiError::not_found(format!("Schedule group {name} does not exist."))
}

/// A conflict (HTTP 409 `ConflictException` in Scheduler's protocol).
pub fn conflict(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::ConcurrentModification, message)
}

impl Schedules {
    pub fn load(store: Store) -> Result<Schedules, StoreError> {
        let groups =
            WriteThroughMap::load(&store, Collection::ScheduleGroups, |g: ScheduleGroup| {
                ((g.scope.clone(), g.name.clone()), g)
            })?;
        let schedules =
            WriteThroughMap::load(&store, Collection::Schedules, |s: Schedule| (s.key(), s))?;
        Ok(Schedules {
            store,
            data: RwLock::new(Data { groups, schedules }),
            changed: Arc::new(Notify::new()),
            delete_tokens: Mutex::new(VecDeque::new()),
        })
    }

    /// Removes every schedule and schedule group of `scope` (or all): `/_local/reset`. The
    /// `default` groups come back by themselves at the next use.
    pub fn reset(&self, scope: Option<&Scope>) -> Result<(), ApiError> {
        let ours = |s: &Scope| scope.is_none_or(|x| x == s);
        let mut data = self.write();
        data.schedules
            .remove_where(&self.store, |k| ours(&k.0))
            .map_err(storage)?;
        data.groups
            .remove_where(&self.store, |k| ours(&k.0))
            .map_err(storage)?;
        drop(data);
        self.delete_tokens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|(s, _, _)| !ours(s));
        self.changed.notify_waiters();
        Ok(())
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    fn read(&self) -> RwLockReadGuard<'_, Data> {
        self.data.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Data> {
        self.data.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The `default` group of `scope`, made on first use.
    pub fn ensure_default_group(&self, scope: &Scope) -> Result<(), ApiError> {
        let key = (scope.clone(), DEFAULT_GROUP.to_string());
        if self.read().groups.contains(&key) {
            return Ok(());
        }
        let mut data = self.write();
        if data.groups.contains(&key) {
            return Ok(());
        }
        let now = now_ms();
        let group = ScheduleGroup {
            scope: scope.clone(),
            name: DEFAULT_GROUP.into(),
            creation_ms: now,
            last_modification_ms: now,
            tags: Vec::new(),
            client_token: None,
        };
        data.groups.put(&self.store, key, group).map_err(storage)
    }

    // ------------------------------------------------------------ groups

    /// Creates a group; the same `ClientToken` again answers with the group it made.
    pub fn create_group(&self, group: ScheduleGroup) -> Result<ScheduleGroup, ApiError> {
        let mut data = self.write();
        let key = (group.scope.clone(), group.name.clone());
        if let Some(existing) = data.groups.get(&key) {
            if group.client_token.is_some() && existing.client_token == group.client_token {
                return Ok(existing.clone());
            }
            return Err(conflict(format!(
                "Schedule group {} already exists.",
                group.name
            )));
        }
        if data.groups.in_scope(&group.scope).count() >= MAX_GROUPS {
            return Err(ApiError::limit_exceeded());
        }
        data.groups
            .put(&self.store, key, group.clone())
            .map_err(storage)?;
        Ok(group)
    }

    pub fn group(&self, scope: &Scope, name: &str) -> Result<ScheduleGroup, ApiError> {
        self.read()
            .groups
            .get(&(scope.clone(), name.to_string()))
            .cloned()
            .ok_or_else(|| group_not_found(name))
    }

    /// The groups of `scope`, in name order.
    pub fn groups(&self, scope: &Scope) -> Vec<ScheduleGroup> {
        self.read().groups.in_scope(scope).cloned().collect()
    }

    /// Deletes a group and every schedule in it.
    pub fn delete_group(
        &self,
        scope: &Scope,
        name: &str,
        client_token: Option<&str>,
    ) -> Result<(), ApiError> {
        let mut data = self.write();
        let key = (scope.clone(), name.to_string());
        if !data.groups.contains(&key) {
            if self.remembered_delete(scope, "group", name, client_token) {
                return Ok(());
            }
            return Err(group_not_found(name));
        }
        let doomed: Vec<ScheduleKey> = data
            .schedules
            .iter()
            .filter(|((s, g, _), _)| s == scope && g == name)
            .map(|(k, _)| k.clone())
            .collect();
        for key in doomed {
            data.schedules.remove(&self.store, &key).map_err(storage)?;
        }
        data.groups.remove(&self.store, &key).map_err(storage)?;
        drop(data);
        self.remember_delete(scope, "group", name, client_token);
        self.changed.notify_one();
        Ok(())
    }

    /// Changes a group's tags with `change`.
    pub fn update_group_tags(
        &self,
        scope: &Scope,
        name: &str,
        change: impl FnOnce(&mut Vec<Tag>) -> Result<(), ApiError>,
    ) -> Result<(), ApiError> {
        let mut data = self.write();
        let key = (scope.clone(), name.to_string());
        let updated = data.groups.update(&self.store, &key, |group| {
            change(&mut group.tags)?;
            Ok(())
        })?;
        updated.map(|_| ()).ok_or_else(|| group_not_found(name))
    }

    // ------------------------------------------------------------ schedules

    /// Creates a schedule in an existing group; the same `ClientToken` again answers with the
    /// schedule it made.
    pub fn create_schedule(&self, schedule: Schedule) -> Result<Schedule, ApiError> {
        let mut data = self.write();
        if !data
            .groups
            .contains(&(schedule.scope.clone(), schedule.group.clone()))
        {
            return Err(group_not_found(&schedule.group));
        }
        let key = schedule.key();
        if let Some(existing) = data.schedules.get(&key) {
            if schedule.client_token.is_some() && existing.client_token == schedule.client_token {
                return Ok(existing.clone());
            }
            return Err(conflict(format!(
                "Schedule {} already exists.",
                schedule.name
            )));
        }
        data.schedules
            .put(&self.store, key, schedule.clone())
            .map_err(storage)?;
        drop(data);
        self.changed.notify_one();
        Ok(schedule)
    }

    pub fn schedule(&self, scope: &Scope, group: &str, name: &str) -> Result<Schedule, ApiError> {
        let data = self.read();
        if !data.groups.contains(&(scope.clone(), group.to_string())) {
            return Err(group_not_found(group));
        }
        data.schedules
            .get(&(scope.clone(), group.to_string(), name.to_string()))
            .cloned()
            .ok_or_else(|| schedule_not_found(name))
    }

    /// Replaces a schedule (UpdateSchedule), keeping its creation date; its progress starts
    /// again.
    pub fn replace_schedule(&self, mut schedule: Schedule) -> Result<Schedule, ApiError> {
        let mut data = self.write();
        if !data
            .groups
            .contains(&(schedule.scope.clone(), schedule.group.clone()))
        {
            return Err(group_not_found(&schedule.group));
        }
        let key = schedule.key();
        let Some(existing) = data.schedules.get(&key) else {
            return Err(schedule_not_found(&schedule.name));
        };
        schedule.creation_ms = existing.creation_ms;
        schedule.client_token = existing.client_token.clone();
        schedule.version = existing.version + 1;
        schedule.progress = Progress::default();
        data.schedules
            .put(&self.store, key, schedule.clone())
            .map_err(storage)?;
        drop(data);
        self.changed.notify_one();
        Ok(schedule)
    }

    pub fn delete_schedule(
        &self,
        scope: &Scope,
        group: &str,
        name: &str,
        client_token: Option<&str>,
    ) -> Result<(), ApiError> {
        let mut data = self.write();
        if !data.groups.contains(&(scope.clone(), group.to_string())) {
            return Err(group_not_found(group));
        }
        let key = (scope.clone(), group.to_string(), name.to_string());
        if data
            .schedules
            .remove(&self.store, &key)
            .map_err(storage)?
            .is_none()
        {
            let id = format!("{group}/{name}");
            if self.remembered_delete(scope, "schedule", &id, client_token) {
                return Ok(());
            }
            return Err(schedule_not_found(name));
        }
        drop(data);
        self.remember_delete(scope, "schedule", &format!("{group}/{name}"), client_token);
        self.changed.notify_one();
        Ok(())
    }

    /// The schedules of `scope` (of one group when given), in group then name order.
    pub fn schedules_in(&self, scope: &Scope, group: Option<&str>) -> Vec<Schedule> {
        self.read()
            .schedules
            .in_scope(scope)
            .filter(|s| group.is_none_or(|g| s.group == g))
            .cloned()
            .collect()
    }

    /// Every enabled schedule of every scope (the firing service's view).
    pub fn enabled_schedules(&self) -> Vec<Schedule> {
        self.read()
            .schedules
            .values()
            .filter(|s| s.is_enabled())
            .cloned()
            .collect()
    }

    /// The enabled schedules with an invocation due by `now` (or not started yet), and when
    /// the next invocation of the others is due. Only those are copied: the firing service
    /// asks every second, and most schedules are not due.
    pub fn due(&self, now: i64) -> (Vec<Schedule>, Option<i64>) {
        let data = self.read();
        let mut due = Vec::new();
        let mut next: Option<i64> = None;
        for schedule in data.schedules.values().filter(|s| s.is_enabled()) {
            match schedule.progress.next_fire_ms {
                Some(at) if schedule.progress.started && at > now => {
                    next = Some(next.map_or(at, |n| n.min(at)));
                }
                None if schedule.progress.started => {}
                _ => due.push(schedule.clone()),
            }
        }
        (due, next)
    }

    /// Stores the progress of the schedule `key` if it is still at `version`; false when it
    /// changed or went meanwhile.
    pub fn set_progress(
        &self,
        key: &ScheduleKey,
        version: u64,
        progress: Progress,
    ) -> Result<bool, ApiError> {
        let mut data = self.write();
        match data.schedules.get(key) {
            Some(s) if s.version == version => {}
            _ => return Ok(false),
        }
        data.schedules.update(&self.store, key, |s| {
            s.progress = progress;
            Ok(())
        })?;
        Ok(true)
    }

    /// Removes a completed schedule (`ActionAfterCompletion: DELETE`) if it is still at
    /// `version`.
    pub fn remove_completed(&self, key: &ScheduleKey, version: u64) -> Result<bool, ApiError> {
        let mut data = self.write();
        match data.schedules.get(key) {
            Some(s) if s.version == version => {}
            _ => return Ok(false),
        }
        data.schedules.remove(&self.store, key).map_err(storage)?;
        Ok(true)
    }

    fn remember_delete(&self, scope: &Scope, kind: &str, id: &str, token: Option<&str>) {
        let Some(token) = token else { return };
        let mut tokens = self.delete_tokens.lock().unwrap_or_else(|e| e.into_inner());
        tokens.push_back((scope.clone(), format!("{kind}:{id}"), token.to_string()));
        while tokens.len() > REMEMBERED_DELETE_TOKENS {
            tokens.pop_front();
        }
    }

    fn remembered_delete(&self, scope: &Scope, kind: &str, id: &str, token: Option<&str>) -> bool {
        let Some(token) = token else { return false };
        let what = format!("{kind}:{id}");
        self.delete_tokens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .any(|(s, w, t)| s == scope && *w == what && t == token)
    }
}
