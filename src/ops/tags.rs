//! TagResource, UntagResource, ListTagsForResource; and the checks of the `Tags` member that
//! PutRule and CreateEventBus share.
//!
//! Taggable resources are those AWS documents: rules and event buses. Any other ARN,
//! EventBridge's or not, is refused with the ValidationException AWS gives an ARN it cannot
//! use ("Parameter ... is not valid. Reason: Provided Arn is not in correct format.").

use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

use super::Empty;
use crate::app::App;
use crate::error::ApiError;
use crate::model::Scope;
use crate::model::tag::{Tag, Taggable};
use crate::ops::constraints::{ARN, TAG_KEY, TAG_VALUE};
use crate::validate::Validator;

/// A `Tag` as a request carries it, both members checked before use.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TagInput {
    key: Option<String>,
    value: Option<String>,
}

/// The characters AWS documents for tag keys and values: "letters, numbers, spaces
/// representable in UTF-8, and the following characters: . : + = @ _ / -".
static TAG_CHARACTERS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[\p{L}\p{Z}\p{N}_.:/=+@-]*$").expect("tag characters"));

/// The prefix AWS keeps for its own tags; users can neither set nor remove such tags.
const RESERVED_PREFIX: &str = "aws:";

/// Model constraints of a `Tags` member (`tags.N.member.key`, `.value`).
pub fn check_tag_members(v: &mut Validator, tags: Option<&[TagInput]>, path: &str) {
    for (i, tag) in tags.unwrap_or_default().iter().enumerate() {
        let member = |name: &str| format!("{path}.{}.member.{name}", i + 1);
        v.required(&tag.key, &member("key"));
        v.string(tag.key.as_deref(), &member("key"), &TAG_KEY);
        v.required(&tag.value, &member("value"));
        v.string(tag.value.as_deref(), &member("value"), &TAG_VALUE);
    }
}

/// The tags of a request whose members passed `check_tag_members`, checked as AWS documents
/// them. AWS's messages for these refusals are not recorded here; the texts say what is wrong.
pub fn into_tags(tags: Option<Vec<TagInput>>) -> Result<Vec<Tag>, ApiError> {
    let tags: Vec<Tag> = tags
        .unwrap_or_default()
        .into_iter()
        .map(|t| Tag {
            key: t.key.unwrap_or_default(),
            value: t.value.unwrap_or_default(),
        })
        .collect();
    for (i, tag) in tags.iter().enumerate() {
        check_key(&tag.key)?;
        if !TAG_CHARACTERS.is_match(&tag.value) {
            return Err(ApiError::validation(format!(
                "Invalid tag value: {}. Tag values may contain only letters, numbers, spaces and the characters . : + = @ _ / -",
                tag.value
            )));
        }
        if tags[..i].iter().any(|t| t.key == tag.key) {
            return Err(ApiError::validation(
                "Invalid parameter: Duplicated keys are not allowed.",
            ));
        }
    }
    if tags.len() > crate::catalog::MAX_TAGS_PER_RESOURCE {
        return Err(ApiError::validation(format!(
            "A resource can have at most {} tags; the request has {}.",
            crate::catalog::MAX_TAGS_PER_RESOURCE,
            tags.len()
        )));
    }
    Ok(tags)
}

fn check_key(key: &str) -> Result<(), ApiError> {
    if key.starts_with(RESERVED_PREFIX) {
        return Err(ApiError::validation(format!(
            "Invalid tag key: {key}. Tag keys starting with {RESERVED_PREFIX} are reserved for AWS use."
        )));
    }
    if !TAG_CHARACTERS.is_match(key) {
        return Err(ApiError::validation(format!(
            "Invalid tag key: {key}. Tag keys may contain only letters, numbers, spaces and the characters . : + = @ _ / -"
        )));
    }
    Ok(())
}

/// The rule or bus a `ResourceARN` names.
fn taggable(resource_arn: Option<String>) -> Result<Taggable, ApiError> {
    let text = resource_arn.unwrap_or_default();
    Taggable::parse(&text).ok_or_else(|| {
        ApiError::validation(format!(
            "Parameter {text} is not valid. Reason: Provided Arn is not in correct format."
        ))
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TagResourceRequest {
    #[serde(rename = "ResourceARN")]
    resource_arn: Option<String>,
    tags: Option<Vec<TagInput>>,
}

pub async fn tag_resource(
    app: &App,
    _scope: &Scope,
    req: TagResourceRequest,
) -> Result<Empty, ApiError> {
    let mut v = Validator::new();
    v.required(&req.resource_arn, "resourceARN");
    v.string(req.resource_arn.as_deref(), "resourceARN", &ARN);
    v.required(&req.tags, "tags");
    check_tag_members(&mut v, req.tags.as_deref(), "tags");
    v.finish()?;
    let resource = taggable(req.resource_arn)?;
    let tags = into_tags(req.tags)?;
    app.catalog.tag_resource(&resource, tags)?;
    app.store.flush().await.map_err(ApiError::storage)?;
    Ok(Empty {})
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UntagResourceRequest {
    #[serde(rename = "ResourceARN")]
    resource_arn: Option<String>,
    tag_keys: Option<Vec<String>>,
}

pub async fn untag_resource(
    app: &App,
    _scope: &Scope,
    req: UntagResourceRequest,
) -> Result<Empty, ApiError> {
    let mut v = Validator::new();
    v.required(&req.resource_arn, "resourceARN");
    v.string(req.resource_arn.as_deref(), "resourceARN", &ARN);
    v.required(&req.tag_keys, "tagKeys");
    let keys = req.tag_keys.unwrap_or_default();
    for (i, key) in keys.iter().enumerate() {
        v.string(Some(key), &format!("tagKeys.{}.member", i + 1), &TAG_KEY);
    }
    v.finish()?;
    let resource = taggable(req.resource_arn)?;
    if let Some(key) = keys.iter().find(|k| k.starts_with(RESERVED_PREFIX)) {
        check_key(key)?;
    }
    app.catalog.untag_resource(&resource, &keys)?;
    app.store.flush().await.map_err(ApiError::storage)?;
    Ok(Empty {})
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListTagsForResourceRequest {
    #[serde(rename = "ResourceARN")]
    resource_arn: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListTagsForResourceResponse {
    tags: Vec<Tag>,
}

pub async fn list_tags_for_resource(
    app: &App,
    _scope: &Scope,
    req: ListTagsForResourceRequest,
) -> Result<ListTagsForResourceResponse, ApiError> {
    let mut v = Validator::new();
    v.required(&req.resource_arn, "resourceARN");
    v.string(req.resource_arn.as_deref(), "resourceARN", &ARN);
    v.finish()?;
    let resource = taggable(req.resource_arn)?;
    Ok(ListTagsForResourceResponse {
        tags: app.catalog.tags(&resource)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(key: &str, value: &str) -> TagInput {
        TagInput {
            key: Some(key.into()),
            value: Some(value.into()),
        }
    }

    #[test]
    fn documented_characters_pass() {
        let tags = into_tags(Some(vec![input("Cost Center/é-1", "a.b:c+d=e@f_g")])).unwrap();
        assert_eq!(tags[0].key, "Cost Center/é-1");
        assert_eq!(into_tags(Some(vec![input("k", "")])).unwrap()[0].value, "");
    }

    #[test]
    fn refusals() {
        for tags in [
            vec![input("aws:x", "v")],
            vec![input("a*b", "v")],
            vec![input("k", "v#")],
            vec![input("k", "1"), input("k", "2")],
            (0..51).map(|i| input(&format!("k{i}"), "v")).collect(),
        ] {
            assert!(into_tags(Some(tags)).is_err());
        }
    }

    #[test]
    fn members_are_checked_with_model_paths() {
        let mut v = Validator::new();
        let tags = [TagInput {
            key: Some(String::new()),
            value: None,
        }];
        check_tag_members(&mut v, Some(&tags), "tags");
        let message = v.finish().unwrap_err().message;
        assert!(
            message.starts_with("2 validation errors detected"),
            "{message}"
        );
        assert!(message.contains("at 'tags.1.member.key'"), "{message}");
        assert!(
            message.contains("Value null at 'tags.1.member.value'"),
            "{message}"
        );
    }
}
