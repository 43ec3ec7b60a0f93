//! One table from operation name to handler (`operations!` below), which is both the dispatch
//! and the list of implemented operations. Handlers take a typed request and return a typed
//! response; they never see HTTP or storage types.

pub mod api_destinations;
pub mod archives;
pub mod bus_settings;
pub mod buses;
pub mod connections;
pub mod constraints;
pub mod endpoints;
pub mod events;
pub mod partner_sources;
pub mod permissions;
pub mod replays;
pub mod rule_names;
pub mod rules;
pub mod tags;
pub mod targets;
pub mod test_pattern;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
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
        to_body(&$handler($app, $scope, request).await?)
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
        ) -> Result<Vec<u8>, ApiError> {
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
    "PutPermission" => permissions::put_permission,
    "RemovePermission" => permissions::remove_permission,
    "UpdateEventBus" => bus_settings::update_event_bus,
    "PutRule" => rules::put_rule,
    "DescribeRule" => rules::describe_rule,
    "ListRules" => rules::list_rules,
    "ListRuleNamesByTarget" => rule_names::list_rule_names_by_target,
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
    "TagResource" => tags::tag_resource,
    "UntagResource" => tags::untag_resource,
    "ListTagsForResource" => tags::list_tags_for_resource,
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
    let answer = dispatch_body(app, scope, operation, body).await?;
    serde_json::from_slice(&answer).map_err(|e| ApiError::internal(e.to_string()))
}

/// The same, answering the response's JSON text (what the server sends).
pub async fn dispatch_body(
    app: &App,
    scope: &Scope,
    operation: &str,
    body: bytes::Bytes,
) -> Result<Vec<u8>, ApiError> {
    if !ALL_OPERATIONS.contains(&operation) {
        // A body that is not JSON is refused first, whatever the operation.
        if let Some(e) = invalid_json(&body) {
            return Err(e);
        }
        return Err(ApiError::new(
            ErrorCode::UnknownOperation,
            format!("Unknown operation AWSEvents.{operation}."),
        ));
    }
    app.catalog.ensure_default_bus(scope)?;
    run_handler(app, scope, operation, &body).await
}

/// AWS's answer to a request body that is not JSON, or `None` when it is JSON. Only asked
/// when the typed parse failed (or the operation is unknown): the typed parse reads the same
/// grammar, so a body it accepts is JSON, and the body is read once on the common path.
pub fn invalid_json(body: &[u8]) -> Option<ApiError> {
    serde_json::from_slice::<serde::de::IgnoredAny>(body)
        .err()
        .map(|e| {
            ApiError::new(
                ErrorCode::Serialization,
                format!("The request body is not valid JSON: {e}"),
            )
        })
}

/// A JSON body into a typed request; a JSON type mismatch is a `SerializationException`.
pub fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        invalid_json(body).unwrap_or_else(|| {
            ApiError::new(
                ErrorCode::Serialization,
                format!("The request does not match the operation's input shape: {e}"),
            )
        })
    })
}

/// A typed response as the JSON text sent back (no `Value` on the way).
pub fn to_body<T: Serialize>(response: &T) -> Result<Vec<u8>, ApiError> {
    serde_json::to_vec(response).map_err(|e| ApiError::internal(e.to_string()))
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

/// Pages through `items` with an opaque token (the operation and an offset), as AWS's List*
/// operations do. A token is only good for the operation that issued it: any other token is
/// refused with AWS's answer to an invalid NextToken.
pub fn paginate<T>(
    operation: &str,
    items: Vec<T>,
    next_token: Option<&str>,
    limit: Option<i64>,
) -> Result<(Vec<T>, Option<String>), ApiError> {
    let start = match next_token {
        None => 0,
        Some(token) => decode_token(operation, token)
            .ok_or_else(|| ApiError::validation("The NextToken provided is invalid."))?,
    };
    let limit = limit.map(|l| l.clamp(1, 100) as usize).unwrap_or(100);
    let total = items.len();
    let page: Vec<T> = items.into_iter().skip(start).take(limit).collect();
    let end = start + page.len();
    let next = (end < total).then(|| encode_token(operation, end));
    Ok((page, next))
}

const TOKEN_VERSION: &str = "ebl2";

fn encode_token(operation: &str, offset: usize) -> String {
    URL_SAFE_NO_PAD.encode(format!("{TOKEN_VERSION}|{operation}|{offset}"))
}

fn decode_token(operation: &str, token: &str) -> Option<usize> {
    let bytes = URL_SAFE_NO_PAD.decode(token).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let mut parts = text.split('|');
    let (version, issuer, offset) = (parts.next()?, parts.next()?, parts.next()?);
    if version != TOKEN_VERSION || issuer != operation || parts.next().is_some() {
        return None;
    }
    offset.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_until_no_token() {
        let items: Vec<u32> = (0..250).collect();
        let (page, next) = paginate("ListRules", items.clone(), None, Some(100)).unwrap();
        assert_eq!(page.len(), 100);
        let (page, next) =
            paginate("ListRules", items.clone(), next.as_deref(), Some(100)).unwrap();
        assert_eq!(page[0], 100);
        let (page, next) = paginate("ListRules", items, next.as_deref(), Some(100)).unwrap();
        assert_eq!(page.len(), 50);
        assert!(next.is_none());
    }

    #[test]
    fn rejects_foreign_tokens() {
        assert!(paginate("ListRules", vec![1], Some("garbage"), None).is_err());
        let (_, token) = paginate("ListRules", vec![1, 2], None, Some(1)).unwrap();
        let token = token.unwrap();
        assert!(paginate("ListRules", vec![1, 2], Some(&token), None).is_ok());
        let err = paginate("ListEventBuses", vec![1, 2], Some(&token), None).unwrap_err();
        assert_eq!(err.message, "The NextToken provided is invalid.");
    }
}
