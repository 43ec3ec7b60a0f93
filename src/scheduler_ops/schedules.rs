//! Schedules: CreateSchedule, GetSchedule, UpdateSchedule (a full replacement, as AWS does:
//! what the request leaves out is gone), DeleteSchedule and ListSchedules.
//!
//! AWS's texts for the checks beyond the model's constraints (expression, time zone, window,
//! dates, input) are not recorded here; the messages say plainly what is wrong.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::constraints::{
    CLIENT_TOKEN, DEAD_LETTER_CONFIG_ARN, DESCRIPTION, DETAIL_TYPE, KMS_KEY_ARN, MAX_RESULTS,
    MAXIMUM_EVENT_AGE_IN_SECONDS, MAXIMUM_RETRY_ATTEMPTS, MAXIMUM_WINDOW_IN_MINUTES,
    MESSAGE_GROUP_ID, NAME, NAME_PREFIX, NEXT_TOKEN, ROLE_ARN, SCHEDULE_EXPRESSION,
    SCHEDULE_EXPRESSION_TIMEZONE, SCHEDULE_GROUP_NAME, SOURCE, TARGET_ARN, TARGET_INPUT,
    TARGET_PARTITION_KEY,
};
use super::{Empty, flush};
use crate::app::App;
use crate::error::ApiError;
use crate::model::time::{Epoch, EpochMillis};
use crate::model::{Scope, arn};
use crate::ops::paginate;
use crate::scheduler_fire::{Recurrence, time_zone};
use crate::schedules::{DEFAULT_GROUP, FlexibleTimeWindow, Progress, Schedule};
use crate::validate::Validator;

/// How far in the past a recurring schedule's StartDate may be (moto's text of AWS's check).
const START_DATE_GRACE_MS: i64 = 5 * 60_000;
/// AWS's RetryPolicy when a target sets none (GetSchedule shows it).
const DEFAULT_MAX_AGE_SECS: i64 = 86_400;
const DEFAULT_MAX_RETRIES: i64 = 185;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct FlexibleTimeWindowIn {
    mode: Option<String>,
    maximum_window_in_minutes: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct RetryPolicyIn {
    maximum_event_age_in_seconds: Option<i64>,
    maximum_retry_attempts: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct ArnIn {
    arn: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct SqsIn {
    message_group_id: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct KinesisIn {
    partition_key: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct EventBridgeIn {
    detail_type: Option<String>,
    source: Option<String>,
}

/// The members of `Target` that are checked; the target is stored as the client gave it.
#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct TargetIn {
    arn: Option<String>,
    role_arn: Option<String>,
    input: Option<String>,
    retry_policy: Option<RetryPolicyIn>,
    dead_letter_config: Option<ArnIn>,
    sqs_parameters: Option<SqsIn>,
    kinesis_parameters: Option<KinesisIn>,
    event_bridge_parameters: Option<EventBridgeIn>,
}

/// CreateSchedule's and UpdateSchedule's members (the same shape).
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ScheduleRequest {
    name: Option<String>,
    group_name: Option<String>,
    schedule_expression: Option<String>,
    schedule_expression_timezone: Option<String>,
    start_date: Option<EpochMillis>,
    end_date: Option<EpochMillis>,
    description: Option<String>,
    state: Option<String>,
    kms_key_arn: Option<String>,
    target: Option<Map<String, Value>>,
    flexible_time_window: Option<FlexibleTimeWindowIn>,
    client_token: Option<String>,
    action_after_completion: Option<String>,
}

fn check_target(v: &mut Validator, target: &TargetIn) {
    v.required(&target.arn, "target.arn");
    v.string(target.arn.as_deref(), "target.arn", &TARGET_ARN);
    v.required(&target.role_arn, "target.roleArn");
    v.string(target.role_arn.as_deref(), "target.roleArn", &ROLE_ARN);
    v.string(target.input.as_deref(), "target.input", &TARGET_INPUT);
    if let Some(policy) = &target.retry_policy {
        v.integer(
            policy.maximum_event_age_in_seconds,
            "target.retryPolicy.maximumEventAgeInSeconds",
            &MAXIMUM_EVENT_AGE_IN_SECONDS,
        );
        v.integer(
            policy.maximum_retry_attempts,
            "target.retryPolicy.maximumRetryAttempts",
            &MAXIMUM_RETRY_ATTEMPTS,
        );
    }
    if let Some(dlq) = &target.dead_letter_config {
        v.string(
            dlq.arn.as_deref(),
            "target.deadLetterConfig.arn",
            &DEAD_LETTER_CONFIG_ARN,
        );
    }
    if let Some(sqs) = &target.sqs_parameters {
        v.string(
            sqs.message_group_id.as_deref(),
            "target.sqsParameters.messageGroupId",
            &MESSAGE_GROUP_ID,
        );
    }
    if let Some(kinesis) = &target.kinesis_parameters {
        v.required(
            &kinesis.partition_key,
            "target.kinesisParameters.partitionKey",
        );
        v.string(
            kinesis.partition_key.as_deref(),
            "target.kinesisParameters.partitionKey",
            &TARGET_PARTITION_KEY,
        );
    }
    if let Some(eb) = &target.event_bridge_parameters {
        let path = "target.eventBridgeParameters";
        v.required(&eb.detail_type, &format!("{path}.detailType"));
        v.string(
            eb.detail_type.as_deref(),
            &format!("{path}.detailType"),
            &DETAIL_TYPE,
        );
        v.required(&eb.source, &format!("{path}.source"));
        v.string(eb.source.as_deref(), &format!("{path}.source"), &SOURCE);
    }
}

/// The model's Source pattern refuses sources starting with `aws.` (a lookahead that Rust's
/// regex cannot say; see constraints.rs): the same message, checked apart.
fn check_aws_source(target: &TargetIn) -> Result<(), ApiError> {
    match target
        .event_bridge_parameters
        .as_ref()
        .and_then(|eb| eb.source.as_deref())
    {
        Some(source) if source.starts_with("aws.") => Err(ApiError::validation(format!(
            "1 validation error detected: Value '{source}' at 'target.eventBridgeParameters.source' \
             failed to satisfy constraint: Member must satisfy regular expression pattern: {}",
            SOURCE.pattern.as_ref().map_or("", |p| p.text)
        ))),
        _ => Ok(()),
    }
}

/// A validated request, as the schedule it makes.
/// The schedule a request describes; `now` (the server's clock) bounds its StartDate.
fn build(scope: &Scope, req: ScheduleRequest, now: i64) -> Result<Schedule, ApiError> {
    let target_in: TargetIn = match &req.target {
        Some(map) => serde_json::from_value(Value::Object(map.clone())).map_err(|e| {
            ApiError::validation(format!("The target does not match its shape: {e}"))
        })?,
        None => TargetIn::default(),
    };
    let mut v = Validator::new();
    v.required(&req.flexible_time_window, "flexibleTimeWindow");
    v.required(&req.name, "name");
    v.required(&req.schedule_expression, "scheduleExpression");
    v.required(&req.target, "target");
    v.string(req.name.as_deref(), "name", &NAME);
    v.string(req.group_name.as_deref(), "groupName", &SCHEDULE_GROUP_NAME);
    v.string(
        req.schedule_expression.as_deref(),
        "scheduleExpression",
        &SCHEDULE_EXPRESSION,
    );
    v.string(
        req.schedule_expression_timezone.as_deref(),
        "scheduleExpressionTimezone",
        &SCHEDULE_EXPRESSION_TIMEZONE,
    );
    v.string(req.description.as_deref(), "description", &DESCRIPTION);
    v.one_of(req.state.as_deref(), "state", &["ENABLED", "DISABLED"]);
    v.string(req.kms_key_arn.as_deref(), "kmsKeyArn", &KMS_KEY_ARN);
    v.string(req.client_token.as_deref(), "clientToken", &CLIENT_TOKEN);
    v.one_of(
        req.action_after_completion.as_deref(),
        "actionAfterCompletion",
        &["NONE", "DELETE"],
    );
    if let Some(window) = &req.flexible_time_window {
        v.required(&window.mode, "flexibleTimeWindow.mode");
        v.one_of(
            window.mode.as_deref(),
            "flexibleTimeWindow.mode",
            &["OFF", "FLEXIBLE"],
        );
        v.integer(
            window.maximum_window_in_minutes,
            "flexibleTimeWindow.maximumWindowInMinutes",
            &MAXIMUM_WINDOW_IN_MINUTES,
        );
    }
    if req.target.is_some() {
        check_target(&mut v, &target_in);
    }
    v.finish()?;
    check_aws_source(&target_in)?;

    let expression = req.schedule_expression.unwrap_or_default();
    let Some(recurrence) = Recurrence::parse(&expression) else {
        return Err(ApiError::validation(format!(
            "Invalid Schedule Expression {expression}."
        )));
    };
    if let Some(tz) = &req.schedule_expression_timezone
        && time_zone(tz).is_none()
    {
        return Err(ApiError::validation(format!(
            "Invalid Schedule Expression Timezone {tz}: not an IANA time zone."
        )));
    }
    let window = req.flexible_time_window.unwrap_or(FlexibleTimeWindowIn {
        mode: None,
        maximum_window_in_minutes: None,
    });
    let mode = window.mode.unwrap_or_default();
    match (mode.as_str(), window.maximum_window_in_minutes) {
        ("FLEXIBLE", None) => {
            return Err(ApiError::validation(
                "MaximumWindowInMinutes is required when FlexibleTimeWindow Mode is FLEXIBLE.",
            ));
        }
        ("OFF", Some(_)) => {
            return Err(ApiError::validation(
                "MaximumWindowInMinutes must not be set when FlexibleTimeWindow Mode is OFF.",
            ));
        }
        _ => {}
    }
    let (start, end) = (req.start_date.map(|d| d.0), req.end_date.map(|d| d.0));
    if !recurrence.is_one_time() {
        if start.is_some_and(|s| s < now - START_DATE_GRACE_MS) {
            return Err(ApiError::validation(
                "The StartDate you specify cannot be earlier than 5 minutes ago.",
            ));
        }
        if let (Some(s), Some(e)) = (start, end)
            && e <= s
        {
            return Err(ApiError::validation(
                "The EndDate you specify must be later than the StartDate.",
            ));
        }
    }
    let mut target = req.target.unwrap_or_default();
    check_target_kind(&target_in, &target)?;
    fill_retry_policy(&mut target);
    Ok(Schedule {
        scope: scope.clone(),
        group: req.group_name.unwrap_or_else(|| DEFAULT_GROUP.into()),
        name: req.name.unwrap_or_default(),
        description: req.description,
        schedule_expression: expression,
        schedule_expression_timezone: req.schedule_expression_timezone,
        start_date_ms: start,
        end_date_ms: end,
        state: req.state.unwrap_or_else(|| "ENABLED".into()),
        kms_key_arn: req.kms_key_arn,
        target,
        flexible_time_window: FlexibleTimeWindow {
            mode,
            maximum_window_in_minutes: window.maximum_window_in_minutes,
        },
        action_after_completion: req.action_after_completion.unwrap_or_else(|| "NONE".into()),
        creation_ms: now,
        last_modification_ms: now,
        client_token: req.client_token,
        version: 0,
        progress: Progress::default(),
    })
}

/// What templated targets need beyond the model: JSON input where the service takes JSON,
/// and the event's source and detail type for EventBridge.
fn check_target_kind(target: &TargetIn, raw: &Map<String, Value>) -> Result<(), ApiError> {
    let target_arn = target.arn.as_deref().unwrap_or_default();
    let service = arn::parse(target_arn)
        .map(|p| p.service)
        .unwrap_or_default();
    let is_bus = arn::parse_event_bus(target_arn).is_some();
    let wants_json = matches!(service, "lambda" | "states") || is_bus;
    if wants_json
        && let Some(input) = &target.input
        && serde_json::from_str::<Value>(&blank_context_attributes(input)).is_err()
    {
        return Err(ApiError::validation(format!(
            "The Input of a {service} target must be well-formed JSON."
        )));
    }
    if is_bus && !raw.contains_key("EventBridgeParameters") {
        return Err(ApiError::validation(
            "An EventBridge PutEvents target needs EventBridgeParameters (DetailType and Source).",
        ));
    }
    Ok(())
}

/// The input with its context attributes replaced by a number, so that
/// `{"n": <aws.scheduler.attempt-number>}` reads as the JSON it will be.
fn blank_context_attributes(input: &str) -> String {
    let mut out = input.to_string();
    for attribute in [
        "<aws.scheduler.schedule-arn>",
        "<aws.scheduler.scheduled-time>",
        "<aws.scheduler.execution-id>",
        "<aws.scheduler.attempt-number>",
    ] {
        out = out.replace(attribute, "0");
    }
    out
}

/// AWS's defaults for what `RetryPolicy` leaves out.
fn fill_retry_policy(target: &mut Map<String, Value>) {
    let policy = target.entry("RetryPolicy").or_insert_with(|| json!({}));
    if let Some(policy) = policy.as_object_mut() {
        policy
            .entry("MaximumEventAgeInSeconds")
            .or_insert(json!(DEFAULT_MAX_AGE_SECS));
        policy
            .entry("MaximumRetryAttempts")
            .or_insert(json!(DEFAULT_MAX_RETRIES));
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ScheduleArnResponse {
    schedule_arn: String,
}

pub async fn create_schedule(
    app: &App,
    scope: &Scope,
    req: ScheduleRequest,
) -> Result<ScheduleArnResponse, ApiError> {
    let schedule = app
        .schedules
        .create_schedule(build(scope, req, app.clock.now_ms())?)?;
    flush(app).await?;
    Ok(ScheduleArnResponse {
        schedule_arn: schedule.arn(),
    })
}

pub async fn update_schedule(
    app: &App,
    scope: &Scope,
    req: ScheduleRequest,
) -> Result<ScheduleArnResponse, ApiError> {
    let schedule = app
        .schedules
        .replace_schedule(build(scope, req, app.clock.now_ms())?)?;
    flush(app).await?;
    Ok(ScheduleArnResponse {
        schedule_arn: schedule.arn(),
    })
}

// ------------------------------------------------------------------ GetSchedule

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetScheduleRequest {
    name: Option<String>,
    group_name: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetScheduleResponse {
    action_after_completion: String,
    arn: String,
    creation_date: Epoch,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_date: Option<Epoch>,
    flexible_time_window: FlexibleTimeWindow,
    group_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    kms_key_arn: Option<String>,
    last_modification_date: Epoch,
    name: String,
    schedule_expression: String,
    schedule_expression_timezone: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    start_date: Option<Epoch>,
    state: String,
    target: Map<String, Value>,
}

fn check_name_and_group(name: Option<&str>, group: Option<&str>) -> Result<(), ApiError> {
    let mut v = Validator::new();
    v.string(name, "name", &NAME);
    v.string(group, "groupName", &SCHEDULE_GROUP_NAME);
    v.finish()
}

pub async fn get_schedule(
    app: &App,
    scope: &Scope,
    req: GetScheduleRequest,
) -> Result<GetScheduleResponse, ApiError> {
    check_name_and_group(req.name.as_deref(), req.group_name.as_deref())?;
    let s = app.schedules.schedule(
        scope,
        req.group_name.as_deref().unwrap_or(DEFAULT_GROUP),
        req.name.as_deref().unwrap_or_default(),
    )?;
    Ok(GetScheduleResponse {
        action_after_completion: s.action_after_completion.clone(),
        arn: s.arn(),
        creation_date: Epoch(s.creation_ms),
        description: s.description.clone(),
        end_date: s.end_date_ms.map(Epoch),
        flexible_time_window: s.flexible_time_window.clone(),
        group_name: s.group.clone(),
        kms_key_arn: s.kms_key_arn.clone(),
        last_modification_date: Epoch(s.last_modification_ms),
        name: s.name.clone(),
        schedule_expression: s.schedule_expression.clone(),
        schedule_expression_timezone: s
            .schedule_expression_timezone
            .clone()
            .unwrap_or_else(|| "UTC".into()),
        start_date: s.start_date_ms.map(Epoch),
        state: s.state.clone(),
        target: s.target,
    })
}

// ------------------------------------------------------------------ DeleteSchedule

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteScheduleRequest {
    name: Option<String>,
    group_name: Option<String>,
    client_token: Option<String>,
}

pub async fn delete_schedule(
    app: &App,
    scope: &Scope,
    req: DeleteScheduleRequest,
) -> Result<Empty, ApiError> {
    check_name_and_group(req.name.as_deref(), req.group_name.as_deref())?;
    let mut v = Validator::new();
    v.string(req.client_token.as_deref(), "clientToken", &CLIENT_TOKEN);
    v.finish()?;
    app.schedules.delete_schedule(
        scope,
        req.group_name.as_deref().unwrap_or(DEFAULT_GROUP),
        req.name.as_deref().unwrap_or_default(),
        req.client_token.as_deref(),
    )?;
    flush(app).await?;
    Ok(Empty {})
}

// ------------------------------------------------------------------ ListSchedules

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListSchedulesRequest {
    group_name: Option<String>,
    name_prefix: Option<String>,
    state: Option<String>,
    next_token: Option<String>,
    max_results: Option<i64>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ScheduleSummary {
    arn: String,
    creation_date: Epoch,
    group_name: String,
    last_modification_date: Epoch,
    name: String,
    state: String,
    target: Value,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListSchedulesResponse {
    schedules: Vec<ScheduleSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

pub async fn list_schedules(
    app: &App,
    scope: &Scope,
    req: ListSchedulesRequest,
) -> Result<ListSchedulesResponse, ApiError> {
    let mut v = Validator::new();
    v.string(req.group_name.as_deref(), "groupName", &SCHEDULE_GROUP_NAME);
    v.string(req.name_prefix.as_deref(), "namePrefix", &NAME_PREFIX);
    v.one_of(req.state.as_deref(), "state", &["ENABLED", "DISABLED"]);
    v.string(req.next_token.as_deref(), "nextToken", &NEXT_TOKEN);
    v.integer(req.max_results, "maxResults", &MAX_RESULTS);
    v.finish()?;
    if let Some(group) = &req.group_name {
        app.schedules.group(scope, group)?;
    }
    let summaries: Vec<ScheduleSummary> = app
        .schedules
        .schedules_in(scope, req.group_name.as_deref())
        .into_iter()
        .filter(|s| {
            req.name_prefix
                .as_deref()
                .is_none_or(|p| s.name.starts_with(p))
                && req.state.as_deref().is_none_or(|st| s.state == st)
        })
        .map(|s| ScheduleSummary {
            arn: s.arn(),
            creation_date: Epoch(s.creation_ms),
            group_name: s.group.clone(),
            last_modification_date: Epoch(s.last_modification_ms),
            name: s.name.clone(),
            state: s.state.clone(),
            target: json!({"Arn": s.target.get("Arn").cloned().unwrap_or(Value::Null)}),
        })
        .collect();
    let (page, next_token) = paginate(
        "ListSchedules",
        summaries,
        req.next_token.as_deref(),
        req.max_results,
    )?;
    Ok(ListSchedulesResponse {
        schedules: page,
        next_token,
    })
}
