//! CreateApiDestination, DescribeApiDestination, ListApiDestinations, UpdateApiDestination,
//! DeleteApiDestination.
//!
//! An API destination is ACTIVE while its connection exists and is not deauthorized, INACTIVE
//! otherwise (computed when read; deliveries through an INACTIVE one fail with the reason).
//! Without `InvocationRateLimitPerSecond` it gets AWS's default, 300.

use serde::{Deserialize, Serialize};

use super::connections::{check_endpoint, endpoint_scheme};
use super::{Empty, paginate};
use crate::app::App;
use crate::destinations::{
    API_DESTINATION_HTTP_METHODS, ApiDestination, DEFAULT_RATE_LIMIT, api_destination_not_found,
    api_destination_not_found_on_describe, connection_not_found_on_describe, parse_arn,
};
use crate::error::ApiError;
use crate::model::Scope;
use crate::model::time::{Epoch, now_ms};
use crate::ops::constraints::{
    API_DESTINATION_DESCRIPTION, API_DESTINATION_INVOCATION_RATE_LIMIT_PER_SECOND,
    API_DESTINATION_NAME, CONNECTION_ARN, LIMIT_MAX100, NEXT_TOKEN,
};
use crate::validate::Validator;

fn check_name(c: &mut Validator, name: &Option<String>) {
    c.required(name, "name");
    c.string(name.as_deref(), "name", &API_DESTINATION_NAME);
}

fn check_connection_arn(c: &mut Validator, arn: Option<&str>) {
    c.string(arn, "connectionArn", &CONNECTION_ARN);
}

/// The members Create and Update share.
fn check_settings(
    c: &mut Validator,
    description: Option<&str>,
    connection_arn: Option<&str>,
    endpoint: Option<&str>,
    method: Option<&str>,
    rate: Option<i64>,
) {
    c.string(description, "description", &API_DESTINATION_DESCRIPTION);
    check_connection_arn(c, connection_arn);
    check_endpoint(c, endpoint, "invocationEndpoint");
    c.one_of(method, "httpMethod", &API_DESTINATION_HTTP_METHODS);
    c.integer(
        rate,
        "invocationRateLimitPerSecond",
        &API_DESTINATION_INVOCATION_RATE_LIMIT_PER_SECOND,
    );
}

/// The connection must exist in the caller's account and region. AWS's message for a
/// missing connection here is not in the reference; DescribeConnection's is used.
fn require_connection(app: &App, scope: &Scope, arn: &str) -> Result<(), ApiError> {
    let name = parse_arn(arn, "connection")
        .map(|(_, name, _)| name.to_string())
        .unwrap_or_else(|| arn.to_string());
    match app.destinations.connection_by_arn(arn) {
        Some(c) if c.scope == *scope => Ok(()),
        _ => Err(connection_not_found_on_describe(&name)),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateApiDestinationRequest {
    name: Option<String>,
    description: Option<String>,
    connection_arn: Option<String>,
    invocation_endpoint: Option<String>,
    http_method: Option<String>,
    invocation_rate_limit_per_second: Option<i64>,
}

/// The answer of Create and Update.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ApiDestinationStateResponse {
    api_destination_arn: String,
    api_destination_state: &'static str,
    creation_time: Epoch,
    last_modified_time: Epoch,
}

impl ApiDestinationStateResponse {
    fn of(app: &App, d: &ApiDestination) -> Self {
        ApiDestinationStateResponse {
            api_destination_arn: d.arn(),
            api_destination_state: app.destinations.api_destination_state(d),
            creation_time: Epoch(d.creation_time_ms),
            last_modified_time: Epoch(d.last_modified_time_ms),
        }
    }
}

pub async fn create_api_destination(
    app: &App,
    scope: &Scope,
    req: CreateApiDestinationRequest,
) -> Result<ApiDestinationStateResponse, ApiError> {
    let mut c = Validator::new();
    check_name(&mut c, &req.name);
    c.required(&req.connection_arn, "connectionArn");
    c.required(&req.invocation_endpoint, "invocationEndpoint");
    c.required(&req.http_method, "httpMethod");
    check_settings(
        &mut c,
        req.description.as_deref(),
        req.connection_arn.as_deref(),
        req.invocation_endpoint.as_deref(),
        req.http_method.as_deref(),
        req.invocation_rate_limit_per_second,
    );
    c.finish()?;
    let endpoint = req.invocation_endpoint.unwrap_or_default();
    endpoint_scheme(&endpoint, "InvocationEndpoint")?;
    let connection_arn = req.connection_arn.unwrap_or_default();
    require_connection(app, scope, &connection_arn)?;
    let now = now_ms();
    let destination = app.destinations.create_api_destination(ApiDestination {
        scope: scope.clone(),
        name: req.name.unwrap_or_default(),
        uuid: uuid::Uuid::new_v4().to_string(),
        description: req.description,
        connection_arn,
        invocation_endpoint: endpoint,
        http_method: req.http_method.unwrap_or_default(),
        invocation_rate_limit_per_second: req
            .invocation_rate_limit_per_second
            .unwrap_or(DEFAULT_RATE_LIMIT),
        creation_time_ms: now,
        last_modified_time_ms: now,
    })?;
    app.store.flush().await.map_err(ApiError::storage)?;
    Ok(ApiDestinationStateResponse::of(app, &destination))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ApiDestinationNameRequest {
    name: Option<String>,
}

fn named(req: ApiDestinationNameRequest) -> Result<String, ApiError> {
    let mut c = Validator::new();
    check_name(&mut c, &req.name);
    c.finish()?;
    Ok(req.name.unwrap_or_default())
}

/// DescribeApiDestination's answer and, without `Description`, an item of
/// ListApiDestinations.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ApiDestinationView {
    api_destination_arn: String,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    api_destination_state: &'static str,
    connection_arn: String,
    invocation_endpoint: String,
    http_method: String,
    invocation_rate_limit_per_second: i64,
    creation_time: Epoch,
    last_modified_time: Epoch,
}

impl ApiDestinationView {
    fn of(app: &App, d: ApiDestination, with_description: bool) -> Self {
        ApiDestinationView {
            api_destination_arn: d.arn(),
            api_destination_state: app.destinations.api_destination_state(&d),
            name: d.name,
            description: d.description.filter(|_| with_description),
            connection_arn: d.connection_arn,
            invocation_endpoint: d.invocation_endpoint,
            http_method: d.http_method,
            invocation_rate_limit_per_second: d.invocation_rate_limit_per_second,
            creation_time: Epoch(d.creation_time_ms),
            last_modified_time: Epoch(d.last_modified_time_ms),
        }
    }
}

pub async fn describe_api_destination(
    app: &App,
    scope: &Scope,
    req: ApiDestinationNameRequest,
) -> Result<ApiDestinationView, ApiError> {
    let name = named(req)?;
    let d = app
        .destinations
        .api_destination(scope, &name)
        .ok_or_else(|| api_destination_not_found_on_describe(&name))?;
    Ok(ApiDestinationView::of(app, d, true))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListApiDestinationsRequest {
    name_prefix: Option<String>,
    connection_arn: Option<String>,
    next_token: Option<String>,
    limit: Option<i64>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListApiDestinationsResponse {
    api_destinations: Vec<ApiDestinationView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

pub async fn list_api_destinations(
    app: &App,
    scope: &Scope,
    req: ListApiDestinationsRequest,
) -> Result<ListApiDestinationsResponse, ApiError> {
    let mut c = Validator::new();
    c.string(
        req.name_prefix.as_deref(),
        "namePrefix",
        &API_DESTINATION_NAME,
    );
    check_connection_arn(&mut c, req.connection_arn.as_deref());
    c.string(req.next_token.as_deref(), "nextToken", &NEXT_TOKEN);
    c.integer(req.limit, "limit", &LIMIT_MAX100);
    c.finish()?;
    let destinations: Vec<ApiDestination> = app
        .destinations
        .api_destinations(scope)
        .into_iter()
        .filter(|d| {
            req.name_prefix
                .as_deref()
                .is_none_or(|p| d.name.starts_with(p))
                && req
                    .connection_arn
                    .as_deref()
                    .is_none_or(|a| d.connection_arn == a)
        })
        .collect();
    let (page, next_token) = paginate(
        "ListApiDestinations",
        destinations,
        req.next_token.as_deref(),
        req.limit,
    )?;
    Ok(ListApiDestinationsResponse {
        api_destinations: page
            .into_iter()
            .map(|d| ApiDestinationView::of(app, d, false))
            .collect(),
        next_token,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateApiDestinationRequest {
    name: Option<String>,
    description: Option<String>,
    connection_arn: Option<String>,
    invocation_endpoint: Option<String>,
    http_method: Option<String>,
    invocation_rate_limit_per_second: Option<i64>,
}

pub async fn update_api_destination(
    app: &App,
    scope: &Scope,
    req: UpdateApiDestinationRequest,
) -> Result<ApiDestinationStateResponse, ApiError> {
    let mut c = Validator::new();
    check_name(&mut c, &req.name);
    check_settings(
        &mut c,
        req.description.as_deref(),
        req.connection_arn.as_deref(),
        req.invocation_endpoint.as_deref(),
        req.http_method.as_deref(),
        req.invocation_rate_limit_per_second,
    );
    c.finish()?;
    let name = req.name.unwrap_or_default();
    if app.destinations.api_destination(scope, &name).is_none() {
        return Err(api_destination_not_found(&name));
    }
    if let Some(endpoint) = &req.invocation_endpoint {
        endpoint_scheme(endpoint, "InvocationEndpoint")?;
    }
    if let Some(arn) = &req.connection_arn {
        require_connection(app, scope, arn)?;
    }
    let destination = app.destinations.update_api_destination(scope, &name, |d| {
        if let Some(v) = req.description {
            d.description = Some(v);
        }
        if let Some(v) = req.connection_arn {
            d.connection_arn = v;
        }
        if let Some(v) = req.invocation_endpoint {
            d.invocation_endpoint = v;
        }
        if let Some(v) = req.http_method {
            d.http_method = v;
        }
        if let Some(v) = req.invocation_rate_limit_per_second {
            d.invocation_rate_limit_per_second = v;
        }
        d.last_modified_time_ms = now_ms();
    })?;
    app.store.flush().await.map_err(ApiError::storage)?;
    Ok(ApiDestinationStateResponse::of(app, &destination))
}

pub async fn delete_api_destination(
    app: &App,
    scope: &Scope,
    req: ApiDestinationNameRequest,
) -> Result<Empty, ApiError> {
    let name = named(req)?;
    app.destinations.delete_api_destination(scope, &name)?;
    app.store.flush().await.map_err(ApiError::storage)?;
    Ok(Empty {})
}
