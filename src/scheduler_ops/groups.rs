//! Schedule groups (Create/Get/Delete/ListScheduleGroups) and their tags (TagResource,
//! UntagResource, ListTagsForResource: in Scheduler only schedule groups have tags).

use serde::{Deserialize, Serialize};

use super::constraints::{
    CLIENT_TOKEN, MAX_RESULTS, NEXT_TOKEN, SCHEDULE_GROUP_NAME, SCHEDULE_GROUP_NAME_PREFIX,
    TAG_KEY, TAG_KEY_LIST, TAG_LIST, TAG_RESOURCE_ARN, TAG_VALUE,
};
use super::{Empty, flush};
use crate::app::App;
use crate::error::ApiError;
use crate::model::Scope;
use crate::model::time::{Epoch, now_ms};
use crate::ops::paginate;
use crate::schedules::{DEFAULT_GROUP, ScheduleGroup, Tag, group_not_found};
use crate::validate::Validator;

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GroupDescription {
    arn: String,
    creation_date: Epoch,
    last_modification_date: Epoch,
    name: String,
    /// Deletion is immediate here, so a group is never seen `DELETING`.
    state: &'static str,
}

fn describe(group: &ScheduleGroup) -> GroupDescription {
    GroupDescription {
        arn: group.arn(),
        creation_date: Epoch(group.creation_ms),
        last_modification_date: Epoch(group.last_modification_ms),
        name: group.name.clone(),
        state: "ACTIVE",
    }
}

/// A tag list as the model constrains it.
fn check_tags(v: &mut Validator, tags: &[Tag], path: &str) {
    v.list(tags.len(), path, &TAG_LIST);
    for (i, tag) in tags.iter().enumerate() {
        let at = i + 1;
        v.string(Some(&tag.key), &format!("{path}.{at}.member.key"), &TAG_KEY);
        v.string(
            Some(&tag.value),
            &format!("{path}.{at}.member.value"),
            &TAG_VALUE,
        );
    }
}

// ------------------------------------------------------------------ CreateScheduleGroup

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateScheduleGroupRequest {
    name: Option<String>,
    tags: Option<Vec<Tag>>,
    client_token: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateScheduleGroupResponse {
    schedule_group_arn: String,
}

pub async fn create_schedule_group(
    app: &App,
    scope: &Scope,
    req: CreateScheduleGroupRequest,
) -> Result<CreateScheduleGroupResponse, ApiError> {
    let mut v = Validator::new();
    v.required(&req.name, "name");
    v.string(req.name.as_deref(), "name", &SCHEDULE_GROUP_NAME);
    v.string(req.client_token.as_deref(), "clientToken", &CLIENT_TOKEN);
    if let Some(tags) = &req.tags {
        check_tags(&mut v, tags, "tags");
    }
    v.finish()?;
    let now = now_ms();
    let group = app.schedules.create_group(ScheduleGroup {
        scope: scope.clone(),
        name: req.name.unwrap_or_default(),
        creation_ms: now,
        last_modification_ms: now,
        tags: req.tags.unwrap_or_default(),
        client_token: req.client_token,
    })?;
    flush(app).await?;
    Ok(CreateScheduleGroupResponse {
        schedule_group_arn: group.arn(),
    })
}

// ------------------------------------------------------------------ GetScheduleGroup

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetScheduleGroupRequest {
    name: Option<String>,
}

pub async fn get_schedule_group(
    app: &App,
    scope: &Scope,
    req: GetScheduleGroupRequest,
) -> Result<GroupDescription, ApiError> {
    let mut v = Validator::new();
    v.string(req.name.as_deref(), "name", &SCHEDULE_GROUP_NAME);
    v.finish()?;
    let group = app
        .schedules
        .group(scope, req.name.as_deref().unwrap_or_default())?;
    Ok(describe(&group))
}

// ------------------------------------------------------------------ DeleteScheduleGroup

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteScheduleGroupRequest {
    name: Option<String>,
    client_token: Option<String>,
}

pub async fn delete_schedule_group(
    app: &App,
    scope: &Scope,
    req: DeleteScheduleGroupRequest,
) -> Result<Empty, ApiError> {
    let mut v = Validator::new();
    v.string(req.name.as_deref(), "name", &SCHEDULE_GROUP_NAME);
    v.string(req.client_token.as_deref(), "clientToken", &CLIENT_TOKEN);
    v.finish()?;
    let name = req.name.unwrap_or_default();
    if name == DEFAULT_GROUP {
        // AWS's text for this is not recorded here.
        return Err(ApiError::validation(
            "The default schedule group cannot be deleted.",
        ));
    }
    app.schedules
        .delete_group(scope, &name, req.client_token.as_deref())?;
    flush(app).await?;
    Ok(Empty {})
}

// ------------------------------------------------------------------ ListScheduleGroups

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListScheduleGroupsRequest {
    name_prefix: Option<String>,
    next_token: Option<String>,
    max_results: Option<i64>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListScheduleGroupsResponse {
    schedule_groups: Vec<GroupDescription>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

pub async fn list_schedule_groups(
    app: &App,
    scope: &Scope,
    req: ListScheduleGroupsRequest,
) -> Result<ListScheduleGroupsResponse, ApiError> {
    let mut v = Validator::new();
    v.string(
        req.name_prefix.as_deref(),
        "namePrefix",
        &SCHEDULE_GROUP_NAME_PREFIX,
    );
    v.string(req.next_token.as_deref(), "nextToken", &NEXT_TOKEN);
    v.integer(req.max_results, "maxResults", &MAX_RESULTS);
    v.finish()?;
    let groups: Vec<GroupDescription> = app
        .schedules
        .groups(scope)
        .iter()
        .filter(|g| {
            req.name_prefix
                .as_deref()
                .is_none_or(|p| g.name.starts_with(p))
        })
        .map(describe)
        .collect();
    let (page, next_token) = paginate(
        "ListScheduleGroups",
        groups,
        req.next_token.as_deref(),
        req.max_results,
    )?;
    Ok(ListScheduleGroupsResponse {
        schedule_groups: page,
        next_token,
    })
}

// ------------------------------------------------------------------ tags

/// The group a `TagResourceArn` names, in its own account and region.
fn tagged_group(scope: &Scope, arn: &str) -> (Scope, String) {
    let mut parts = arn.splitn(6, ':');
    let (_, _, _, region, account, resource) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next().unwrap_or(&scope.region),
        parts.next().unwrap_or(&scope.account),
        parts.next().unwrap_or_default(),
    );
    let name = resource.strip_prefix("schedule-group/").unwrap_or(resource);
    (
        Scope {
            account: account.to_string(),
            region: region.to_string(),
        },
        name.to_string(),
    )
}

fn check_arn(v: &mut Validator, arn: &Option<String>) {
    v.required(arn, "resourceArn");
    v.string(arn.as_deref(), "resourceArn", &TAG_RESOURCE_ARN);
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TagResourceRequest {
    resource_arn: Option<String>,
    tags: Option<Vec<Tag>>,
}

pub async fn tag_resource(
    app: &App,
    scope: &Scope,
    req: TagResourceRequest,
) -> Result<Empty, ApiError> {
    let mut v = Validator::new();
    check_arn(&mut v, &req.resource_arn);
    v.required(&req.tags, "tags");
    if let Some(tags) = &req.tags {
        check_tags(&mut v, tags, "tags");
    }
    v.finish()?;
    let (owner, name) = tagged_group(scope, req.resource_arn.as_deref().unwrap_or_default());
    app.schedules.ensure_default_group(&owner)?;
    app.schedules.update_group_tags(&owner, &name, |existing| {
        for tag in req.tags.unwrap_or_default() {
            match existing.iter_mut().find(|t| t.key == tag.key) {
                Some(found) => found.value = tag.value,
                None => existing.push(tag),
            }
        }
        Ok(())
    })?;
    flush(app).await?;
    Ok(Empty {})
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UntagResourceRequest {
    resource_arn: Option<String>,
    tag_keys: Option<Vec<String>>,
}

pub async fn untag_resource(
    app: &App,
    scope: &Scope,
    req: UntagResourceRequest,
) -> Result<Empty, ApiError> {
    let mut v = Validator::new();
    check_arn(&mut v, &req.resource_arn);
    v.required(&req.tag_keys, "tagKeys");
    if let Some(keys) = &req.tag_keys {
        v.list(keys.len(), "tagKeys", &TAG_KEY_LIST);
        for (i, key) in keys.iter().enumerate() {
            v.string(Some(key), &format!("tagKeys.{}.member", i + 1), &TAG_KEY);
        }
    }
    v.finish()?;
    let (owner, name) = tagged_group(scope, req.resource_arn.as_deref().unwrap_or_default());
    app.schedules.ensure_default_group(&owner)?;
    let keys = req.tag_keys.unwrap_or_default();
    app.schedules.update_group_tags(&owner, &name, |existing| {
        existing.retain(|t| !keys.contains(&t.key));
        Ok(())
    })?;
    flush(app).await?;
    Ok(Empty {})
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListTagsForResourceRequest {
    resource_arn: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListTagsForResourceResponse {
    tags: Vec<Tag>,
}

pub async fn list_tags_for_resource(
    app: &App,
    scope: &Scope,
    req: ListTagsForResourceRequest,
) -> Result<ListTagsForResourceResponse, ApiError> {
    let mut v = Validator::new();
    check_arn(&mut v, &req.resource_arn);
    v.finish()?;
    let (owner, name) = tagged_group(scope, req.resource_arn.as_deref().unwrap_or_default());
    app.schedules.ensure_default_group(&owner)?;
    let group = app
        .schedules
        .group(&owner, &name)
        .map_err(|_| group_not_found(&name))?;
    Ok(ListTagsForResourceResponse { tags: group.tags })
}
