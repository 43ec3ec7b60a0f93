//! Resources as plain structs, as they are stored and as handlers see them.

pub mod arn;
pub mod endpoint;
pub mod event;
pub mod event_source;
pub mod policy;
pub mod tag;
pub mod time;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use tag::Tag;

/// Who is asking and where: every resource lives under (account, region).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Scope {
    pub account: String,
    pub region: String,
}

/// The `ManagedBy` value of the rules that archives create. AWS shows this service principal
/// on `Events-Archive-*` rules.
pub const ARCHIVE_RULE_MANAGER: &str = "prod.vhs.events.aws.internal";

/// The name of the rule that feeds an archive.
pub fn archive_rule_name(archive: &str) -> String {
    format!("Events-Archive-{archive}")
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EventBus {
    pub scope: Scope,
    pub name: String,
    pub description: Option<String>,
    pub kms_key_identifier: Option<String>,
    pub dead_letter_config: Option<Value>,
    pub log_config: Option<Value>,
    #[serde(default, deserialize_with = "tag::lenient")]
    pub tags: Vec<Tag>,
    pub creation_time_ms: i64,
    pub last_modified_time_ms: i64,
    /// The resource-based policy (PutPermission), as the JSON document DescribeEventBus shows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<Value>,
}

impl EventBus {
    pub fn arn(&self) -> String {
        arn::event_bus(&self.scope, &self.name)
    }

    /// The policy as the JSON string of DescribeEventBus and ListEventBuses.
    pub fn policy_text(&self) -> Option<String> {
        self.policy.as_ref().map(Value::to_string)
    }

    /// `DeadLetterConfig.Arn`: the queue of what the bus's targets could not deliver.
    pub fn dead_letter_arn(&self) -> Option<&str> {
        self.dead_letter_config.as_ref()?.get("Arn")?.as_str()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RuleState {
    #[serde(rename = "ENABLED")]
    Enabled,
    #[serde(rename = "DISABLED")]
    Disabled,
    #[serde(rename = "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS")]
    EnabledWithAllCloudtrailManagementEvents,
}

impl RuleState {
    pub const VALUES: [&'static str; 3] = [
        "ENABLED",
        "DISABLED",
        "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS",
    ];

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "ENABLED" => Some(RuleState::Enabled),
            "DISABLED" => Some(RuleState::Disabled),
            "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS" => {
                Some(RuleState::EnabledWithAllCloudtrailManagementEvents)
            }
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        Self::VALUES[self as usize]
    }

    pub fn is_enabled(self) -> bool {
        self != RuleState::Disabled
    }
}

/// A target exactly as the client gave it (all of AWS's members round-trip through
/// ListTargetsByRule), with typed access to what delivery needs.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Target(pub Map<String, Value>);

impl Target {
    pub fn id(&self) -> &str {
        self.0.get("Id").and_then(Value::as_str).unwrap_or_default()
    }

    pub fn arn(&self) -> &str {
        self.0
            .get("Arn")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// A string member of a parameter structure (`SqsParameters.MessageGroupId`).
    fn nested_str(&self, structure: &str, member: &str) -> Option<&str> {
        self.0.get(structure)?.get(member)?.as_str()
    }

    /// `RetryPolicy`, each limit `None` where the target does not set it (AWS's defaults apply).
    pub fn retry_policy(&self) -> RetryPolicy {
        let get = |member| self.0.get("RetryPolicy")?.get(member)?.as_i64();
        RetryPolicy {
            maximum_retry_attempts: get("MaximumRetryAttempts").map(|v| v.max(0) as u32),
            maximum_event_age_secs: get("MaximumEventAgeInSeconds"),
        }
    }

    /// `DeadLetterConfig.Arn`: the queue that receives what could not be delivered.
    pub fn dead_letter_arn(&self) -> Option<&str> {
        self.nested_str("DeadLetterConfig", "Arn")
    }

    /// `SqsParameters.MessageGroupId` (FIFO queues).
    pub fn sqs_message_group_id(&self) -> Option<&str> {
        self.nested_str("SqsParameters", "MessageGroupId")
    }

    /// `KinesisParameters.PartitionKeyPath`.
    pub fn kinesis_partition_key_path(&self) -> Option<&str> {
        self.nested_str("KinesisParameters", "PartitionKeyPath")
    }

    /// `HttpParameters` (API destination targets); empty lists where it is absent.
    pub fn http_parameters(&self) -> TargetHttpParameters {
        let http = self.0.get("HttpParameters");
        let text = |v: &Value| v.as_str().map_or_else(|| v.to_string(), str::to_string);
        let map = |member: &str| -> Vec<(String, String)> {
            http.and_then(|h| h.get(member))
                .and_then(Value::as_object)
                .map(|m| m.iter().map(|(k, v)| (k.clone(), text(v))).collect())
                .unwrap_or_default()
        };
        TargetHttpParameters {
            path_parameter_values: http
                .and_then(|h| h.get("PathParameterValues"))
                .and_then(Value::as_array)
                .map(|a| a.iter().map(text).collect())
                .unwrap_or_default(),
            header_parameters: map("HeaderParameters"),
            query_string_parameters: map("QueryStringParameters"),
        }
    }
}

/// A target's `RetryPolicy` as set on it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RetryPolicy {
    pub maximum_retry_attempts: Option<u32>,
    pub maximum_event_age_secs: Option<i64>,
}

/// A target's `HttpParameters`: values that are not strings come as their JSON text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TargetHttpParameters {
    pub path_parameter_values: Vec<String>,
    pub header_parameters: Vec<(String, String)>,
    pub query_string_parameters: Vec<(String, String)>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Rule {
    pub scope: Scope,
    pub bus_name: String,
    pub name: String,
    pub event_pattern: Option<String>,
    pub schedule_expression: Option<String>,
    pub state: RuleState,
    pub description: Option<String>,
    pub role_arn: Option<String>,
    pub managed_by: Option<String>,
    /// Set on the managed rule that feeds this archive (by archive name).
    pub archive: Option<String>,
    #[serde(default, deserialize_with = "tag::lenient")]
    pub tags: Vec<Tag>,
    pub targets: Vec<Target>,
}

impl Rule {
    pub fn arn(&self) -> String {
        arn::rule(&self.scope, &self.bus_name, &self.name)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ArchiveState {
    #[serde(rename = "ENABLED")]
    Enabled,
    #[serde(rename = "DISABLED")]
    Disabled,
    #[serde(rename = "CREATING")]
    Creating,
    #[serde(rename = "UPDATING")]
    Updating,
    #[serde(rename = "CREATE_FAILED")]
    CreateFailed,
    #[serde(rename = "UPDATE_FAILED")]
    UpdateFailed,
}

impl ArchiveState {
    pub const VALUES: [&'static str; 6] = [
        "ENABLED",
        "DISABLED",
        "CREATING",
        "UPDATING",
        "CREATE_FAILED",
        "UPDATE_FAILED",
    ];

    pub fn as_str(self) -> &'static str {
        Self::VALUES[self as usize]
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Archive {
    pub scope: Scope,
    pub name: String,
    /// Storage id of the archive's events: a re-created archive of the same name starts empty.
    pub uid: u64,
    pub event_source_arn: String,
    pub description: Option<String>,
    pub event_pattern: Option<String>,
    pub retention_days: i64,
    pub kms_key_identifier: Option<String>,
    pub state: ArchiveState,
    pub state_reason: Option<String>,
    pub creation_time_ms: i64,
}

impl Archive {
    pub fn arn(&self) -> String {
        arn::archive(&self.scope, &self.name)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReplayState {
    #[serde(rename = "STARTING")]
    Starting,
    #[serde(rename = "RUNNING")]
    Running,
    #[serde(rename = "CANCELLING")]
    Cancelling,
    #[serde(rename = "COMPLETED")]
    Completed,
    #[serde(rename = "CANCELLED")]
    Cancelled,
    #[serde(rename = "FAILED")]
    Failed,
}

impl ReplayState {
    pub const VALUES: [&'static str; 6] = [
        "STARTING",
        "RUNNING",
        "CANCELLING",
        "COMPLETED",
        "CANCELLED",
        "FAILED",
    ];

    pub fn as_str(self) -> &'static str {
        Self::VALUES[self as usize]
    }

    /// Still to be worked on by a replay worker.
    pub fn is_active(self) -> bool {
        matches!(
            self,
            ReplayState::Starting | ReplayState::Running | ReplayState::Cancelling
        )
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Replay {
    pub scope: Scope,
    pub name: String,
    pub description: Option<String>,
    pub event_source_arn: String,
    pub destination_arn: String,
    pub filter_arns: Option<Vec<String>>,
    pub event_start_ms: i64,
    pub event_end_ms: i64,
    pub event_last_replayed_ms: Option<i64>,
    pub state: ReplayState,
    pub state_reason: Option<String>,
    pub replay_start_ms: i64,
    pub replay_end_ms: Option<i64>,
}

impl Replay {
    pub fn arn(&self) -> String {
        arn::replay(&self.scope, &self.name)
    }
}
