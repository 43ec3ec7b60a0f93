//! One `match` from operation name to handler. Handlers take a typed request and return a
//! typed response; they never see HTTP or storage types.

pub mod api_destinations;
pub mod archives;
pub mod buses;
pub mod connections;
pub mod constraints;
pub mod events;
pub mod replays;
pub mod rules;
pub mod targets;
pub mod test_pattern;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::app::App;
use crate::error::{ApiError, ErrorCode};
use crate::model::{Scope, arn};
use crate::ops::constraints::EVENT_BUS_NAME_OR_ARN;
use crate::validate::Validator;

/// Every operation of the EventBridge API (botocore's model, 2015-10-07).
pub const ALL_OPERATIONS: [&str; 57] = [
    "ActivateEventSource",
    "CancelReplay",
    "CreateApiDestination",
    "CreateArchive",
    "CreateConnection",
    "CreateEndpoint",
    "CreateEventBus",
    "CreatePartnerEventSource",
    "DeactivateEventSource",
    "DeauthorizeConnection",
    "DeleteApiDestination",
    "DeleteArchive",
    "DeleteConnection",
    "DeleteEndpoint",
    "DeleteEventBus",
    "DeletePartnerEventSource",
    "DeleteRule",
    "DescribeApiDestination",
    "DescribeArchive",
    "DescribeConnection",
    "DescribeEndpoint",
    "DescribeEventBus",
    "DescribeEventSource",
    "DescribePartnerEventSource",
    "DescribeReplay",
    "DescribeRule",
    "DisableRule",
    "EnableRule",
    "ListApiDestinations",
    "ListArchives",
    "ListConnections",
    "ListEndpoints",
    "ListEventBuses",
    "ListEventSources",
    "ListPartnerEventSourceAccounts",
    "ListPartnerEventSources",
    "ListReplays",
    "ListRuleNamesByTarget",
    "ListRules",
    "ListTagsForResource",
    "ListTargetsByRule",
    "PutEvents",
    "PutPartnerEvents",
    "PutPermission",
    "PutRule",
    "PutTargets",
    "RemovePermission",
    "RemoveTargets",
    "StartReplay",
    "TagResource",
    "TestEventPattern",
    "UntagResource",
    "UpdateApiDestination",
    "UpdateArchive",
    "UpdateConnection",
    "UpdateEndpoint",
    "UpdateEventBus",
];

/// The operations with a handler below; every other one answers UnsupportedOperationException.
pub const IMPLEMENTED: [&str; 35] = [
    "CreateEventBus",
    "DescribeEventBus",
    "ListEventBuses",
    "DeleteEventBus",
    "PutRule",
    "DescribeRule",
    "ListRules",
    "DeleteRule",
    "EnableRule",
    "DisableRule",
    "PutTargets",
    "RemoveTargets",
    "ListTargetsByRule",
    "PutEvents",
    "CreateArchive",
    "DescribeArchive",
    "ListArchives",
    "UpdateArchive",
    "DeleteArchive",
    "StartReplay",
    "DescribeReplay",
    "ListReplays",
    "CancelReplay",
    "TestEventPattern",
    "CreateConnection",
    "DescribeConnection",
    "ListConnections",
    "UpdateConnection",
    "DeleteConnection",
    "DeauthorizeConnection",
    "CreateApiDestination",
    "DescribeApiDestination",
    "ListApiDestinations",
    "UpdateApiDestination",
    "DeleteApiDestination",
];

/// Decodes the body into the operation's typed request, deserializes, runs the handler and
/// encodes its typed response.
macro_rules! handle {
    ($handler:path, $app:expr, $scope:expr, $body:expr) => {{
        let request = parse($body)?;
        to_json(&$handler($app, $scope, request).await?)
    }};
}

pub async fn dispatch(
    app: &App,
    scope: &Scope,
    operation: &str,
    body: bytes::Bytes,
) -> Result<Value, ApiError> {
    let body = &body[..];
    if !ALL_OPERATIONS.contains(&operation) {
        return Err(ApiError::new(
            ErrorCode::UnknownOperation,
            format!("Unknown operation AWSEvents.{operation}."),
        ));
    }
    app.catalog.ensure_default_bus(scope)?;
    match operation {
        "CreateEventBus" => handle!(buses::create_event_bus, app, scope, body),
        "DescribeEventBus" => handle!(buses::describe_event_bus, app, scope, body),
        "ListEventBuses" => handle!(buses::list_event_buses, app, scope, body),
        "DeleteEventBus" => handle!(buses::delete_event_bus, app, scope, body),
        "PutRule" => handle!(rules::put_rule, app, scope, body),
        "DescribeRule" => handle!(rules::describe_rule, app, scope, body),
        "ListRules" => handle!(rules::list_rules, app, scope, body),
        "DeleteRule" => handle!(rules::delete_rule, app, scope, body),
        "EnableRule" => handle!(rules::enable_rule, app, scope, body),
        "DisableRule" => handle!(rules::disable_rule, app, scope, body),
        "PutTargets" => handle!(targets::put_targets, app, scope, body),
        "RemoveTargets" => handle!(targets::remove_targets, app, scope, body),
        "ListTargetsByRule" => handle!(targets::list_targets_by_rule, app, scope, body),
        "PutEvents" => handle!(events::put_events, app, scope, body),
        "CreateArchive" => handle!(archives::create_archive, app, scope, body),
        "DescribeArchive" => handle!(archives::describe_archive, app, scope, body),
        "ListArchives" => handle!(archives::list_archives, app, scope, body),
        "DeleteArchive" => handle!(archives::delete_archive, app, scope, body),
        "UpdateArchive" => handle!(archives::update_archive, app, scope, body),
        "StartReplay" => handle!(replays::start_replay, app, scope, body),
        "DescribeReplay" => handle!(replays::describe_replay, app, scope, body),
        "ListReplays" => handle!(replays::list_replays, app, scope, body),
        "CancelReplay" => handle!(replays::cancel_replay, app, scope, body),
        "TestEventPattern" => handle!(test_pattern::test_event_pattern, app, scope, body),
        "CreateConnection" => handle!(connections::create_connection, app, scope, body),
        "DescribeConnection" => handle!(connections::describe_connection, app, scope, body),
        "ListConnections" => handle!(connections::list_connections, app, scope, body),
        "UpdateConnection" => handle!(connections::update_connection, app, scope, body),
        "DeleteConnection" => handle!(connections::delete_connection, app, scope, body),
        "DeauthorizeConnection" => {
            handle!(connections::deauthorize_connection, app, scope, body)
        }
        "CreateApiDestination" => {
            handle!(api_destinations::create_api_destination, app, scope, body)
        }
        "DescribeApiDestination" => {
            handle!(api_destinations::describe_api_destination, app, scope, body)
        }
        "ListApiDestinations" => {
            handle!(api_destinations::list_api_destinations, app, scope, body)
        }
        "UpdateApiDestination" => {
            handle!(api_destinations::update_api_destination, app, scope, body)
        }
        "DeleteApiDestination" => {
            handle!(api_destinations::delete_api_destination, app, scope, body)
        }
        other => Err(ApiError::unsupported(other)),
    }
}

/// A JSON body into a typed request; a JSON type mismatch is a `SerializationException`.
pub fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        ApiError::new(
            ErrorCode::Serialization,
            format!("The request does not match the operation's input shape: {e}"),
        )
    })
}

pub fn to_json<T: Serialize>(response: &T) -> Result<Value, ApiError> {
    serde_json::to_value(response).map_err(|e| ApiError::internal(e.to_string()))
}

/// The response of an operation without output.
#[derive(Serialize)]
pub struct Empty {}

/// The bus a request names (by name or ARN; `default` when absent), as (scope, name).
/// An ARN names the bus's own account and region.
pub fn resolve_bus(scope: &Scope, name_or_arn: Option<&str>) -> (Scope, String) {
    match name_or_arn {
        None => (scope.clone(), "default".to_string()),
        Some(text) => match arn::parse_event_bus(text) {
            Some(parsed) => parsed,
            None => (scope.clone(), text.to_string()),
        },
    }
}

/// Checks an `EventBusNameOrArn` member.
pub fn check_bus_name_or_arn(v: &mut Validator, value: Option<&str>, path: &str) {
    v.string(value, path, &EVENT_BUS_NAME_OR_ARN);
}

/// Pages through `items` with an opaque token (the offset), as AWS's List* operations do.
pub fn paginate<T>(
    items: Vec<T>,
    next_token: Option<&str>,
    limit: Option<i64>,
) -> Result<(Vec<T>, Option<String>), ApiError> {
    let start = match next_token {
        None => 0,
        Some(token) => decode_token(token)
            .ok_or_else(|| ApiError::validation("The NextToken provided is invalid."))?,
    };
    let limit = limit.map(|l| l.clamp(1, 100) as usize).unwrap_or(100);
    let total = items.len();
    let page: Vec<T> = items.into_iter().skip(start).take(limit).collect();
    let end = start + page.len();
    let next = (end < total).then(|| encode_token(end));
    Ok((page, next))
}

fn encode_token(offset: usize) -> String {
    format!("ebl1.{offset:x}")
}

fn decode_token(token: &str) -> Option<usize> {
    usize::from_str_radix(token.strip_prefix("ebl1.")?, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_until_no_token() {
        let items: Vec<u32> = (0..250).collect();
        let (page, next) = paginate(items.clone(), None, Some(100)).unwrap();
        assert_eq!(page.len(), 100);
        let (page, next) = paginate(items.clone(), next.as_deref(), Some(100)).unwrap();
        assert_eq!(page[0], 100);
        let (page, next) = paginate(items, next.as_deref(), Some(100)).unwrap();
        assert_eq!(page.len(), 50);
        assert!(next.is_none());
    }

    #[test]
    fn rejects_foreign_tokens() {
        assert!(paginate(vec![1], Some("garbage"), None).is_err());
    }
}
