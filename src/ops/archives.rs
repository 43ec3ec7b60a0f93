//! CreateArchive, DescribeArchive, ListArchives, DeleteArchive.

use serde::{Deserialize, Serialize};

use super::{Empty, paginate};
use crate::app::App;
use crate::catalog::ArchiveEntry;
use crate::error::ApiError;
use crate::model::time::{Epoch, now_ms};
use crate::model::{Archive, ArchiveState, Scope, arn};
use crate::ops::constraints::{
    ARCHIVE_DESCRIPTION, ARCHIVE_NAME, EVENT_BUS_ARN, KMS_KEY_IDENTIFIER, LIMIT_MAX100, NEXT_TOKEN,
    RETENTION_DAYS,
};
use crate::ops::rules::compile_pattern;
use crate::validate::Validator;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateArchiveRequest {
    archive_name: Option<String>,
    event_source_arn: Option<String>,
    description: Option<String>,
    event_pattern: Option<String>,
    retention_days: Option<i64>,
    kms_key_identifier: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateArchiveResponse {
    archive_arn: String,
    state: &'static str,
    creation_time: Epoch,
}

fn check_archive_name(v: &mut Validator, name: &Option<String>) {
    v.required(name, "archiveName");
    v.string(name.as_deref(), "archiveName", &ARCHIVE_NAME);
}

/// The members CreateArchive and UpdateArchive share; finishes the validation (constraint
/// errors first, then the pattern's own).
fn check_settings(
    v: &mut Validator,
    description: Option<&str>,
    retention_days: Option<i64>,
    kms_key_identifier: Option<&str>,
    event_pattern: Option<&str>,
) -> Result<(), ApiError> {
    v.string(description, "description", &ARCHIVE_DESCRIPTION);
    v.integer(retention_days, "retentionDays", &RETENTION_DAYS);
    v.string(kms_key_identifier, "kmsKeyIdentifier", &KMS_KEY_IDENTIFIER);
    let compiled = compile_pattern(v, event_pattern);
    std::mem::take(v).finish()?;
    compiled.transpose()?;
    Ok(())
}

pub async fn create_archive(
    app: &App,
    scope: &Scope,
    req: CreateArchiveRequest,
) -> Result<CreateArchiveResponse, ApiError> {
    let mut v = Validator::new();
    check_archive_name(&mut v, &req.archive_name);
    v.required(&req.event_source_arn, "eventSourceArn");
    v.string(
        req.event_source_arn.as_deref(),
        "eventSourceArn",
        &EVENT_BUS_ARN,
    );
    check_settings(
        &mut v,
        req.description.as_deref(),
        req.retention_days,
        req.kms_key_identifier.as_deref(),
        req.event_pattern.as_deref(),
    )?;
    let source_arn = req.event_source_arn.unwrap_or_default();
    let (bus_scope, bus_name) = arn::parse_event_bus(&source_arn).ok_or_else(|| {
        ApiError::validation(format!(
            "Parameter EventSourceArn is not valid. Reason: {source_arn} is not an event bus ARN."
        ))
    })?;
    if bus_scope != *scope {
        // An archive lives in the bus's account and region; AWS refuses foreign buses.
        return Err(ApiError::bus_not_found(&bus_name));
    }
    let archive = Archive {
        scope: scope.clone(),
        name: req.archive_name.unwrap_or_default(),
        uid: app.store.new_id().map_err(ApiError::storage)?,
        event_source_arn: source_arn,
        description: req.description,
        event_pattern: req.event_pattern,
        retention_days: req.retention_days.unwrap_or(0),
        kms_key_identifier: req.kms_key_identifier,
        state: ArchiveState::Enabled,
        state_reason: None,
        creation_time_ms: now_ms(),
    };
    let entry = app.catalog.create_archive(archive, &bus_name)?;
    app.store.flush().await.map_err(ApiError::storage)?;
    Ok(CreateArchiveResponse {
        archive_arn: entry.archive.arn(),
        state: entry.archive.state.as_str(),
        creation_time: Epoch(entry.archive.creation_time_ms),
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ArchiveNameRequest {
    archive_name: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeArchiveResponse {
    archive_arn: String,
    archive_name: String,
    event_source_arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    event_pattern: Option<String>,
    state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    state_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    kms_key_identifier: Option<String>,
    retention_days: i64,
    size_bytes: u64,
    event_count: u64,
    creation_time: Epoch,
}

fn archive_not_found(name: &str) -> ApiError {
    ApiError::not_found(format!("Archive {name} does not exist."))
}

pub async fn describe_archive(
    app: &App,
    scope: &Scope,
    req: ArchiveNameRequest,
) -> Result<DescribeArchiveResponse, ApiError> {
    let mut v = Validator::new();
    check_archive_name(&mut v, &req.archive_name);
    v.finish()?;
    let name = req.archive_name.unwrap_or_default();
    let entry = app
        .catalog
        .archive(scope, &name)
        .ok_or_else(|| archive_not_found(&name))?;
    let (event_count, size_bytes) = app
        .store
        .archive_counts(entry.archive.uid)
        .map_err(ApiError::storage)?;
    let archive = entry.archive;
    Ok(DescribeArchiveResponse {
        archive_arn: archive.arn(),
        archive_name: archive.name,
        event_source_arn: archive.event_source_arn,
        description: archive.description,
        event_pattern: archive.event_pattern,
        state: archive.state.as_str(),
        state_reason: archive.state_reason,
        kms_key_identifier: archive.kms_key_identifier,
        retention_days: archive.retention_days,
        size_bytes,
        event_count,
        creation_time: Epoch(archive.creation_time_ms),
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListArchivesRequest {
    name_prefix: Option<String>,
    event_source_arn: Option<String>,
    state: Option<String>,
    next_token: Option<String>,
    limit: Option<i64>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ArchiveItem {
    archive_name: String,
    event_source_arn: String,
    state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    state_reason: Option<String>,
    retention_days: i64,
    size_bytes: u64,
    event_count: u64,
    creation_time: Epoch,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListArchivesResponse {
    archives: Vec<ArchiveItem>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

pub async fn list_archives(
    app: &App,
    scope: &Scope,
    req: ListArchivesRequest,
) -> Result<ListArchivesResponse, ApiError> {
    let mut v = Validator::new();
    v.string(req.name_prefix.as_deref(), "namePrefix", &ARCHIVE_NAME);
    v.string(
        req.event_source_arn.as_deref(),
        "eventSourceArn",
        &EVENT_BUS_ARN,
    );
    v.one_of(req.state.as_deref(), "state", &ArchiveState::VALUES);
    v.string(req.next_token.as_deref(), "nextToken", &NEXT_TOKEN);
    v.integer(req.limit, "limit", &LIMIT_MAX100);
    v.finish()?;
    // A source bus that does not exist is an error, not an empty list (AWS).
    if let Some((bus_scope, bus)) = req
        .event_source_arn
        .as_deref()
        .and_then(arn::parse_event_bus)
    {
        app.catalog.bus(&bus_scope, &bus)?;
    }
    let archives: Vec<ArchiveEntry> = app
        .catalog
        .archives(scope)
        .into_iter()
        .filter(|e| {
            req.name_prefix
                .as_deref()
                .is_none_or(|p| e.archive.name.starts_with(p))
                && req
                    .event_source_arn
                    .as_deref()
                    .is_none_or(|a| e.archive.event_source_arn == a)
                && req
                    .state
                    .as_deref()
                    .is_none_or(|s| e.archive.state.as_str() == s)
        })
        .collect();
    let (page, next_token) = paginate(
        "ListArchives",
        archives,
        req.next_token.as_deref(),
        req.limit,
    )?;
    Ok(ListArchivesResponse {
        archives: page
            .into_iter()
            .map(|entry| {
                let (event_count, size_bytes) = app
                    .store
                    .archive_counts(entry.archive.uid)
                    .map_err(ApiError::storage)?;
                let a = entry.archive;
                Ok(ArchiveItem {
                    archive_name: a.name,
                    event_source_arn: a.event_source_arn,
                    state: a.state.as_str(),
                    state_reason: a.state_reason,
                    retention_days: a.retention_days,
                    size_bytes,
                    event_count,
                    creation_time: Epoch(a.creation_time_ms),
                })
            })
            .collect::<Result<_, ApiError>>()?,
        next_token,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateArchiveRequest {
    archive_name: Option<String>,
    description: Option<String>,
    event_pattern: Option<String>,
    retention_days: Option<i64>,
    kms_key_identifier: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateArchiveResponse {
    archive_arn: String,
    state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    state_reason: Option<String>,
    creation_time: Epoch,
}

/// AWS goes UPDATING -> ENABLED; the change applies at once here, so the answer is ENABLED.
/// An unknown archive gets ResourceNotFoundException (one AWS recording showed an
/// InternalException instead, which SDKs would retry; the declared error is the useful one).
pub async fn update_archive(
    app: &App,
    scope: &Scope,
    req: UpdateArchiveRequest,
) -> Result<UpdateArchiveResponse, ApiError> {
    let mut v = Validator::new();
    check_archive_name(&mut v, &req.archive_name);
    check_settings(
        &mut v,
        req.description.as_deref(),
        req.retention_days,
        req.kms_key_identifier.as_deref(),
        req.event_pattern.as_deref(),
    )?;
    if req.description.is_none()
        && req.event_pattern.is_none()
        && req.retention_days.is_none()
        && req.kms_key_identifier.is_none()
    {
        return Err(ApiError::validation(
            "At least one of EventPattern, RetentionDays or Description must be provided.",
        ));
    }
    let name = req.archive_name.unwrap_or_default();
    let entry = app.catalog.update_archive(scope, &name, |a| {
        if let Some(d) = req.description {
            a.description = Some(d);
        }
        if let Some(p) = req.event_pattern {
            a.event_pattern = Some(p);
        }
        if let Some(r) = req.retention_days {
            a.retention_days = r;
        }
        if let Some(k) = req.kms_key_identifier {
            a.kms_key_identifier = Some(k);
        }
    })?;
    app.store.flush().await.map_err(ApiError::storage)?;
    Ok(UpdateArchiveResponse {
        archive_arn: entry.archive.arn(),
        state: entry.archive.state.as_str(),
        state_reason: entry.archive.state_reason,
        creation_time: Epoch(entry.archive.creation_time_ms),
    })
}

pub async fn delete_archive(
    app: &App,
    scope: &Scope,
    req: ArchiveNameRequest,
) -> Result<Empty, ApiError> {
    let mut v = Validator::new();
    check_archive_name(&mut v, &req.archive_name);
    v.finish()?;
    let name = req.archive_name.unwrap_or_default();
    let archive = app.catalog.delete_archive(scope, &name)?;
    app.store.flush().await.map_err(ApiError::storage)?;
    // The events go in the background: a large archive should not hold up the answer.
    let store = app.store.clone();
    tokio::task::spawn_blocking(move || {
        if let Err(e) = store.delete_events(archive.uid, None) {
            tracing::error!(archive = %archive.name, error = %e, "deleting archived events failed");
        }
    });
    Ok(Empty {})
}
