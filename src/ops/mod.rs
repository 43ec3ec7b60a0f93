//! One table from operation name to handler (`operations!` below), which is both the dispatch
//! and the list of implemented operations. Handlers take a typed request and return a typed
//! response; they never see HTTP or storage types.

pub mod api_destinations;
pub mod archives;
pub mod buses;
pub mod connections;
pub mod constraints;
pub mod endpoints;
pub mod events;
pub mod partner_sources;
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

/// Decodes the body into the operation's typed request, deserializes, runs the handler and
/// encodes its typed response.
macro_rules! handle {
    ($handler:path, $app:expr, $scope:expr, $body:expr) => {{
        let request = parse($body)?;
        to_json(&$handler($app, $scope, request).await?)
    }};
}

/// Builds, from one table of operation and handler, both the `match` that dispatches and
/// `IMPLEMENTED` (served at `/_local/health`), so the two cannot disagree.
macro_rules! operations {
    ($($operation:literal => $handler:path,)*) => {
        /// The operations with a handler; every other one answers UnsupportedOperationException.
        pub const IMPLEMENTED: [&str; [$($operation),*].len()] = [$($operation),*];

        async fn run_handler(
            app: &App,
            scope: &Scope,
            operation: &str,
            body: &[u8],
        ) -> Result<Value, ApiError> {
            match operation {
                $($operation => handle!($handler, app, scope, body),)*
                other => Err(ApiError::unsupported(other)),
            }
        }
    };
}

operations! {
    "CreateEventBus" => buses::create_event_bus,
    "DescribeEventBus" => buses::describe_event_bus,
    "ListEventBuses" => buses::list_event_buses,
    "DeleteEventBus" => buses::delete_event_bus,
    "PutRule" => rules::put_rule,
    "DescribeRule" => rules::describe_rule,
    "ListRules" => rules::list_rules,
    "DeleteRule" => rules::delete_rule,
    "EnableRule" => rules::enable_rule,
    "DisableRule" => rules::disable_rule,
    "PutTargets" => targets::put_targets,
    "RemoveTargets" => targets::remove_targets,
    "ListTargetsByRule" => targets::list_targets_by_rule,
    "PutEvents" => events::put_events,
    "CreateArchive" => archives::create_archive,
    "DescribeArchive" => archives::describe_archive,
    "ListArchives" => archives::list_archives,
    "UpdateArchive" => archives::update_archive,
    "DeleteArchive" => archives::delete_archive,
    "StartReplay" => replays::start_replay,
    "DescribeReplay" => replays::describe_replay,
    "ListReplays" => replays::list_replays,
    "CancelReplay" => replays::cancel_replay,
    "TestEventPattern" => test_pattern::test_event_pattern,
    "CreateConnection" => connections::create_connection,
    "DescribeConnection" => connections::describe_connection,
    "ListConnections" => connections::list_connections,
    "UpdateConnection" => connections::update_connection,
    "DeleteConnection" => connections::delete_connection,
    "DeauthorizeConnection" => connections::deauthorize_connection,
    "CreateApiDestination" => api_destinations::create_api_destination,
    "DescribeApiDestination" => api_destinations::describe_api_destination,
    "ListApiDestinations" => api_destinations::list_api_destinations,
    "UpdateApiDestination" => api_destinations::update_api_destination,
    "DeleteApiDestination" => api_destinations::delete_api_destination,
    "CreatePartnerEventSource" => partner_sources::create_partner_event_source,
    "DescribePartnerEventSource" => partner_sources::describe_partner_event_source,
    "ListPartnerEventSources" => partner_sources::list_partner_event_sources,
    "ListPartnerEventSourceAccounts" => partner_sources::list_partner_event_source_accounts,
    "DeletePartnerEventSource" => partner_sources::delete_partner_event_source,
    "ListEventSources" => partner_sources::list_event_sources,
    "DescribeEventSource" => partner_sources::describe_event_source,
    "ActivateEventSource" => partner_sources::activate_event_source,
    "DeactivateEventSource" => partner_sources::deactivate_event_source,
    "PutPartnerEvents" => partner_sources::put_partner_events,
    "CreateEndpoint" => endpoints::create_endpoint,
    "DescribeEndpoint" => endpoints::describe_endpoint,
    "ListEndpoints" => endpoints::list_endpoints,
    "UpdateEndpoint" => endpoints::update_endpoint,
    "DeleteEndpoint" => endpoints::delete_endpoint,
}

pub async fn dispatch(
    app: &App,
    scope: &Scope,
    operation: &str,
    body: bytes::Bytes,
) -> Result<Value, ApiError> {
    if !ALL_OPERATIONS.contains(&operation) {
        return Err(ApiError::new(
            ErrorCode::UnknownOperation,
            format!("Unknown operation AWSEvents.{operation}."),
        ));
    }
    app.catalog.ensure_default_bus(scope)?;
    run_handler(app, scope, operation, &body).await
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
