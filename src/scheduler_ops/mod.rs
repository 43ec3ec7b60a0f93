//! EventBridge Scheduler's operations: one table from operation name to a typed handler
//! (`operations!` below, which also lists what is implemented), beside [`crate::ops`] for
//! EventBridge. The REST layer (`scheduler_api`) gathers each request's members from the
//! path, the query string and the body into one JSON object; handlers never see HTTP.

pub mod constraints;
mod groups;
mod schedules;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::app::App;
use crate::error::{ApiError, ErrorCode};
use crate::model::Scope;

/// Every operation of botocore's `scheduler` model (2021-06-30).
pub const ALL_OPERATIONS: [&str; 12] = [
    "CreateSchedule",
    "CreateScheduleGroup",
    "DeleteSchedule",
    "DeleteScheduleGroup",
    "GetSchedule",
    "GetScheduleGroup",
    "ListScheduleGroups",
    "ListSchedules",
    "ListTagsForResource",
    "TagResource",
    "UntagResource",
    "UpdateSchedule",
];

macro_rules! operations {
    ($($operation:literal => $handler:path,)*) => {
        /// The operations with a handler.
        pub const IMPLEMENTED: [&str; [$($operation),*].len()] = [$($operation),*];

        async fn run_handler(
            app: &App,
            scope: &Scope,
            operation: &str,
            input: Value,
        ) -> Result<Value, ApiError> {
            match operation {
                $($operation => to_json(&$handler(app, scope, parse(input)?).await?),)*
                other => Err(ApiError::new(
                    ErrorCode::UnknownOperation,
                    format!("Unknown operation {other}."),
                )),
            }
        }
    };
}

operations! {
    "CreateSchedule" => schedules::create_schedule,
    "GetSchedule" => schedules::get_schedule,
    "UpdateSchedule" => schedules::update_schedule,
    "DeleteSchedule" => schedules::delete_schedule,
    "ListSchedules" => schedules::list_schedules,
    "CreateScheduleGroup" => groups::create_schedule_group,
    "GetScheduleGroup" => groups::get_schedule_group,
    "DeleteScheduleGroup" => groups::delete_schedule_group,
    "ListScheduleGroups" => groups::list_schedule_groups,
    "TagResource" => groups::tag_resource,
    "UntagResource" => groups::untag_resource,
    "ListTagsForResource" => groups::list_tags_for_resource,
}

/// Runs one operation for `scope`, whose `default` group always exists.
pub async fn dispatch(
    app: &App,
    scope: &Scope,
    operation: &str,
    input: Value,
) -> Result<Value, ApiError> {
    app.schedules.ensure_default_group(scope)?;
    run_handler(app, scope, operation, input).await
}

/// The request's members into the operation's typed request; a type mismatch is a
/// `ValidationException` (Scheduler has no SerializationException).
fn parse<T: DeserializeOwned>(input: Value) -> Result<T, ApiError> {
    serde_json::from_value(input).map_err(|e| {
        ApiError::validation(format!(
            "The request does not match the operation's input shape: {e}"
        ))
    })
}

fn to_json<T: Serialize>(response: &T) -> Result<Value, ApiError> {
    serde_json::to_value(response).map_err(|e| ApiError::internal(e.to_string()))
}

/// The response of an operation without output.
#[derive(Serialize)]
pub struct Empty {}

/// Makes what the handler changed durable before the answer.
async fn flush(app: &App) -> Result<(), ApiError> {
    app.store.flush().await.map_err(ApiError::storage)
}
