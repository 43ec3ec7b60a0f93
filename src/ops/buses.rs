//! CreateEventBus, DescribeEventBus, ListEventBuses, DeleteEventBus.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::bus_settings::{self, DeadLetterConfig, LogConfig};
use super::tags::{TagInput, check_tag_members, into_tags};
use super::{Empty, check_bus_name_or_arn, paginate, resolve_bus};
use crate::app::App;
use crate::error::ApiError;
use crate::model::time::{Epoch, now_ms};
use crate::model::{EventBus, Scope};
use crate::ops::constraints::{
    EVENT_BUS_DESCRIPTION, EVENT_BUS_NAME, EVENT_SOURCE_NAME, LIMIT_MAX100, NEXT_TOKEN,
};
use crate::validate::Validator;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateEventBusRequest {
    name: Option<String>,
    event_source_name: Option<String>,
    description: Option<String>,
    kms_key_identifier: Option<String>,
    dead_letter_config: Option<DeadLetterConfig>,
    log_config: Option<LogConfig>,
    tags: Option<Vec<TagInput>>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateEventBusResponse {
    event_bus_arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    kms_key_identifier: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dead_letter_config: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    log_config: Option<Value>,
}

pub async fn create_event_bus(
    app: &App,
    scope: &Scope,
    req: CreateEventBusRequest,
) -> Result<CreateEventBusResponse, ApiError> {
    let mut v = Validator::new();
    v.required(&req.name, "name");
    v.string(req.name.as_deref(), "name", &EVENT_BUS_NAME);
    v.string(
        req.event_source_name.as_deref(),
        "eventSourceName",
        &EVENT_SOURCE_NAME,
    );
    v.string(
        req.description.as_deref(),
        "description",
        &EVENT_BUS_DESCRIPTION,
    );
    bus_settings::check_settings(
        &mut v,
        req.kms_key_identifier.as_deref(),
        req.dead_letter_config.as_ref(),
        req.log_config.as_ref(),
    );
    check_tag_members(&mut v, req.tags.as_deref(), "tags");
    v.finish()?;
    let name = req.name.unwrap_or_default();
    if let Some(source) = &req.event_source_name
        && *source != name
    {
        // AWS: "the name must exactly match the name of the partner event source".
        return Err(ApiError::validation(format!(
            "Event bus name {name} must match the name of its event source {source}."
        )));
    }
    if name == "default" {
        return Err(ApiError::validation(
            "Event bus name must not be default.".to_string(),
        ));
    }
    if name.contains('/') && req.event_source_name.is_none() {
        // Only partner buses (named after their event source) may contain '/'.
        return Err(ApiError::validation(format!(
            "Event bus name must not contain '/': {name}"
        )));
    }
    bus_settings::check_dead_letter_queue(scope, req.dead_letter_config.as_ref())?;
    let tags = into_tags(req.tags)?;
    let now = now_ms();
    let bus = EventBus {
        scope: scope.clone(),
        name,
        description: req.description,
        kms_key_identifier: req.kms_key_identifier.filter(|k| !k.is_empty()),
        dead_letter_config: bus_settings::stored(req.dead_letter_config),
        log_config: bus_settings::stored(req.log_config),
        tags,
        creation_time_ms: now,
        last_modified_time_ms: now,
        policy: None,
    };
    let bus = if req.event_source_name.is_some() {
        app.catalog.create_partner_bus(bus)?
    } else {
        app.catalog.create_bus(bus)?
    };
    app.store.flush().await.map_err(ApiError::storage)?;
    Ok(CreateEventBusResponse {
        event_bus_arn: bus.arn(),
        description: bus.description,
        kms_key_identifier: bus.kms_key_identifier,
        dead_letter_config: bus.dead_letter_config,
        log_config: bus.log_config,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeEventBusRequest {
    name: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeEventBusResponse {
    name: String,
    arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    kms_key_identifier: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dead_letter_config: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    log_config: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    policy: Option<String>,
    creation_time: Epoch,
    last_modified_time: Epoch,
}

pub async fn describe_event_bus(
    app: &App,
    scope: &Scope,
    req: DescribeEventBusRequest,
) -> Result<DescribeEventBusResponse, ApiError> {
    let mut v = Validator::new();
    check_bus_name_or_arn(&mut v, req.name.as_deref(), "name");
    v.finish()?;
    let (bus_scope, name) = resolve_bus(scope, req.name.as_deref());
    let bus = app.catalog.bus(&bus_scope, &name)?;
    Ok(DescribeEventBusResponse {
        arn: bus.arn(),
        policy: bus.policy_text(),
        name: bus.name,
        description: bus.description,
        kms_key_identifier: bus.kms_key_identifier,
        dead_letter_config: bus.dead_letter_config,
        log_config: bus.log_config,
        creation_time: Epoch(bus.creation_time_ms),
        last_modified_time: Epoch(bus.last_modified_time_ms),
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListEventBusesRequest {
    name_prefix: Option<String>,
    next_token: Option<String>,
    limit: Option<i64>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EventBusItem {
    name: String,
    arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    policy: Option<String>,
    creation_time: Epoch,
    last_modified_time: Epoch,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListEventBusesResponse {
    event_buses: Vec<EventBusItem>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

pub async fn list_event_buses(
    app: &App,
    scope: &Scope,
    req: ListEventBusesRequest,
) -> Result<ListEventBusesResponse, ApiError> {
    let mut v = Validator::new();
    v.string(req.name_prefix.as_deref(), "namePrefix", &EVENT_BUS_NAME);
    v.string(req.next_token.as_deref(), "nextToken", &NEXT_TOKEN);
    v.integer(req.limit, "limit", &LIMIT_MAX100);
    v.finish()?;
    let buses = app.catalog.buses(scope, req.name_prefix.as_deref());
    let (page, next_token) = paginate(
        "ListEventBuses",
        buses,
        req.next_token.as_deref(),
        req.limit,
    )?;
    Ok(ListEventBusesResponse {
        event_buses: page
            .into_iter()
            .map(|bus| EventBusItem {
                arn: bus.arn(),
                policy: bus.policy_text(),
                name: bus.name,
                description: bus.description,
                creation_time: Epoch(bus.creation_time_ms),
                last_modified_time: Epoch(bus.last_modified_time_ms),
            })
            .collect(),
        next_token,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteEventBusRequest {
    name: Option<String>,
}

pub async fn delete_event_bus(
    app: &App,
    scope: &Scope,
    req: DeleteEventBusRequest,
) -> Result<Empty, ApiError> {
    let mut v = Validator::new();
    v.required(&req.name, "name");
    v.string(req.name.as_deref(), "name", &EVENT_BUS_NAME);
    v.finish()?;
    app.catalog
        .delete_bus(scope, req.name.as_deref().unwrap_or_default())?;
    app.store.flush().await.map_err(ApiError::storage)?;
    Ok(Empty {})
}
