//! EventBridge Scheduler's resources as they are stored: schedule groups (with their tags) and
//! schedules (with their progress, so that a restart picks up where the last run stopped).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::model::Scope;

/// The group every (account, region) has, which cannot be deleted.
pub const DEFAULT_GROUP: &str = "default";

pub fn group_arn(scope: &Scope, name: &str) -> String {
    format!(
        "arn:aws:scheduler:{}:{}:schedule-group/{name}",
        scope.region, scope.account
    )
}

pub fn schedule_arn(scope: &Scope, group: &str, name: &str) -> String {
    format!(
        "arn:aws:scheduler:{}:{}:schedule/{group}/{name}",
        scope.region, scope.account
    )
}

/// A tag of a schedule group, as the API spells it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    pub key: String,
    pub value: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScheduleGroup {
    pub scope: Scope,
    pub name: String,
    pub creation_ms: i64,
    pub last_modification_ms: i64,
    pub tags: Vec<Tag>,
    /// The `ClientToken` of the CreateScheduleGroup that made it: the same request sent again
    /// is answered as the first was.
    pub client_token: Option<String>,
}

impl ScheduleGroup {
    pub fn arn(&self) -> String {
        group_arn(&self.scope, &self.name)
    }
}

/// `FlexibleTimeWindow`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FlexibleTimeWindow {
    pub mode: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub maximum_window_in_minutes: Option<i64>,
}

impl FlexibleTimeWindow {
    /// The window's width in ms (0 when `OFF`).
    pub fn width_ms(&self) -> i64 {
        match (self.mode.as_str(), self.maximum_window_in_minutes) {
            ("FLEXIBLE", Some(minutes)) => minutes * 60_000,
            _ => 0,
        }
    }
}

/// Where a schedule is in its sequence of invocations. Reset by every UpdateSchedule.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// Set once the first instant has been computed.
    pub started: bool,
    /// The instant of the next invocation, as the expression gives it (`None`: no more).
    pub next_nominal_ms: Option<i64>,
    /// When that invocation is made: the instant itself, or a point of the flexible window
    /// after it.
    pub next_fire_ms: Option<i64>,
    /// The instant of the last invocation made.
    pub last_nominal_ms: Option<i64>,
    pub invocations: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Schedule {
    pub scope: Scope,
    pub group: String,
    pub name: String,
    pub description: Option<String>,
    pub schedule_expression: String,
    pub schedule_expression_timezone: Option<String>,
    pub start_date_ms: Option<i64>,
    pub end_date_ms: Option<i64>,
    /// `ENABLED` or `DISABLED`.
    pub state: String,
    pub kms_key_arn: Option<String>,
    /// The target exactly as the client gave it (with the default RetryPolicy filled in).
    pub target: Map<String, Value>,
    pub flexible_time_window: FlexibleTimeWindow,
    /// `NONE` or `DELETE`.
    pub action_after_completion: String,
    pub creation_ms: i64,
    pub last_modification_ms: i64,
    pub client_token: Option<String>,
    /// Bumped by every UpdateSchedule: the firing service writes progress only for the
    /// version it read, so an update made meanwhile is never overwritten.
    pub version: u64,
    pub progress: Progress,
}

impl Schedule {
    pub fn arn(&self) -> String {
        schedule_arn(&self.scope, &self.group, &self.name)
    }

    pub fn is_enabled(&self) -> bool {
        self.state == "ENABLED"
    }

    /// The key that names the schedule in the store.
    pub fn key(&self) -> ScheduleKey {
        (self.scope.clone(), self.group.clone(), self.name.clone())
    }
}

/// (scope, group, name).
pub type ScheduleKey = (Scope, String, String);
