//! PutTargets, RemoveTargets, ListTargetsByRule.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{check_bus_name_or_arn, paginate};
use crate::app::App;
use crate::error::{ApiError, ErrorCode};
use crate::model::{Scope, Target, arn};
use crate::ops::constraints::{
    LIMIT_MAX100, MAXIMUM_EVENT_AGE_IN_SECONDS, MAXIMUM_RETRY_ATTEMPTS, NEXT_TOKEN, ROLE_ARN,
    RULE_NAME, TARGET_ARN, TARGET_ID, TARGET_ID_LIST, TARGET_INPUT, TARGET_INPUT_PATH, TARGET_LIST,
};
use crate::ops::rules::RuleNameRequest;
use crate::transform::InputSpec;
use crate::validate::Validator;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutTargetsRequest {
    rule: Option<String>,
    event_bus_name: Option<String>,
    targets: Option<Vec<Map<String, Value>>>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct FailedEntry {
    target_id: String,
    error_code: String,
    error_message: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TargetsResultResponse {
    failed_entry_count: usize,
    failed_entries: Vec<FailedEntry>,
}

fn str_member<'a>(target: &'a Map<String, Value>, name: &str) -> Result<Option<&'a str>, ApiError> {
    match target.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(ApiError::new(
            ErrorCode::Serialization,
            format!("Target member {name} must be a string."),
        )),
    }
}

fn int_member(object: Option<&Value>, name: &str) -> Result<Option<i64>, ApiError> {
    match object.and_then(|o| o.get(name)) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) if n.is_i64() => Ok(n.as_i64()),
        Some(_) => Err(ApiError::new(
            ErrorCode::Serialization,
            format!("Member {name} must be an integer."),
        )),
    }
}

/// Checks one target's members as the model constrains them (`targets.N.member.x` paths).
fn check_target(
    v: &mut Validator,
    index: usize,
    target: &Map<String, Value>,
) -> Result<(), ApiError> {
    let path = |member: &str| format!("targets.{index}.member.{member}");
    let id = str_member(target, "Id")?;
    let arn = str_member(target, "Arn")?;
    v.required(&id, &path("id"));
    v.string(id, &path("id"), &TARGET_ID);
    v.required(&arn, &path("arn"));
    v.string(arn, &path("arn"), &TARGET_ARN);
    v.string(str_member(target, "RoleArn")?, &path("roleArn"), &ROLE_ARN);
    v.string(str_member(target, "Input")?, &path("input"), &TARGET_INPUT);
    v.string(
        str_member(target, "InputPath")?,
        &path("inputPath"),
        &TARGET_INPUT_PATH,
    );
    let retry = target.get("RetryPolicy");
    v.integer(
        int_member(retry, "MaximumRetryAttempts")?,
        &format!("{}.maximumRetryAttempts", path("retryPolicy")),
        &MAXIMUM_RETRY_ATTEMPTS,
    );
    v.integer(
        int_member(retry, "MaximumEventAgeInSeconds")?,
        &format!("{}.maximumEventAgeInSeconds", path("retryPolicy")),
        &MAXIMUM_EVENT_AGE_IN_SECONDS,
    );
    Ok(())
}

pub async fn put_targets(
    app: &App,
    scope: &Scope,
    req: PutTargetsRequest,
) -> Result<TargetsResultResponse, ApiError> {
    let mut v = Validator::new();
    let req_has_targets = v.required(&req.targets, "targets");
    let targets = req.targets.unwrap_or_default();
    if req_has_targets {
        v.list(targets.len(), "targets", &TARGET_LIST);
    }
    for (i, target) in targets.iter().enumerate() {
        check_target(&mut v, i + 1, target)?;
    }
    check_bus_name_or_arn(&mut v, req.event_bus_name.as_deref(), "eventBusName");
    let (bus_scope, bus, rule) = validated_rule(v, req.rule, req.event_bus_name, scope)?;
    for target in &targets {
        let forms = ["Input", "InputPath", "InputTransformer"]
            .iter()
            .filter(|k| target.get(**k).is_some_and(|v| !v.is_null()))
            .count();
        if forms > 1 {
            let id = target.get("Id").and_then(Value::as_str).unwrap_or_default();
            return Err(ApiError::validation(format!(
                "Only one of Input, InputPath, or InputTransformer must be provided for target {id}."
            )));
        }
    }
    for target in &targets {
        InputSpec::from_target(target).map_err(ApiError::validation)?;
    }
    let mut failed_entries = Vec::new();
    let mut accepted = Vec::new();
    for target in targets.into_iter().map(Target) {
        match refusal(&target) {
            Some(error_message) => failed_entries.push(FailedEntry {
                target_id: target.id().to_string(),
                error_code: "ValidationException".to_string(),
                error_message,
            }),
            None => accepted.push(target),
        }
    }
    let maps: Vec<_> = accepted.iter().map(|t| t.0.clone()).collect();
    super::permissions::check_bus_targets(app, &bus_scope, &bus, &rule, &maps)?;
    app.catalog.put_targets(&bus_scope, &bus, &rule, accepted)?;
    app.store.flush().await.map_err(ApiError::storage)?;
    Ok(TargetsResultResponse {
        failed_entry_count: failed_entries.len(),
        failed_entries,
    })
}

/// Why AWS refuses this one target while adding the others of the request (a failed entry,
/// not an exception): an `Arn` that is no ARN, and a FIFO queue without the
/// `SqsParameters` its messages need. Both texts are AWS's. Everything else wrong with a
/// target fails the whole request, as above.
fn refusal(target: &Target) -> Option<String> {
    let target_arn = target.arn();
    let Some(parsed) = arn::parse(target_arn).filter(|p| !p.service.is_empty()) else {
        return Some(format!(
            "Parameter {target_arn} is not valid. Reason: Provided Arn is not in correct format."
        ));
    };
    let has_sqs_parameters = target.0.get("SqsParameters").is_some_and(|p| !p.is_null());
    if parsed.service == "sqs" && parsed.resource.ends_with(".fifo") && !has_sqs_parameters {
        return Some(format!(
            "Parameter(s) SqsParameters must be specified for target: {}.",
            target.id()
        ));
    }
    None
}

/// Finishes validation with the `rule` member and resolves the rule's bus.
fn validated_rule(
    v: Validator,
    rule: Option<String>,
    event_bus_name: Option<String>,
    scope: &Scope,
) -> Result<(Scope, String, String), ApiError> {
    let mut v = v;
    v.required(&rule, "rule");
    v.string(rule.as_deref(), "rule", &RULE_NAME);
    v.finish()?;
    RuleNameRequest::new(rule, event_bus_name).into_parts(scope)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RemoveTargetsRequest {
    rule: Option<String>,
    event_bus_name: Option<String>,
    ids: Option<Vec<String>>,
    force: Option<bool>,
}

pub async fn remove_targets(
    app: &App,
    scope: &Scope,
    req: RemoveTargetsRequest,
) -> Result<TargetsResultResponse, ApiError> {
    let mut v = Validator::new();
    v.required(&req.ids, "ids");
    let ids = req.ids.unwrap_or_default();
    v.list_len(
        &format!("[{}]", ids.join(", ")),
        ids.len(),
        "ids",
        &TARGET_ID_LIST,
    );
    for (i, id) in ids.iter().enumerate() {
        v.string(Some(id), &format!("ids.{}.member", i + 1), &TARGET_ID);
    }
    check_bus_name_or_arn(&mut v, req.event_bus_name.as_deref(), "eventBusName");
    let (bus_scope, bus, rule) = validated_rule(v, req.rule, req.event_bus_name, scope)?;
    let force = req.force.unwrap_or(false);
    app.catalog
        .remove_targets(&bus_scope, &bus, &rule, &ids, force)?;
    app.store.flush().await.map_err(ApiError::storage)?;
    Ok(TargetsResultResponse {
        failed_entry_count: 0,
        failed_entries: Vec::new(),
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListTargetsByRuleRequest {
    rule: Option<String>,
    event_bus_name: Option<String>,
    next_token: Option<String>,
    limit: Option<i64>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListTargetsByRuleResponse {
    targets: Vec<Map<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

pub async fn list_targets_by_rule(
    app: &App,
    scope: &Scope,
    req: ListTargetsByRuleRequest,
) -> Result<ListTargetsByRuleResponse, ApiError> {
    let mut v = Validator::new();
    v.string(req.next_token.as_deref(), "nextToken", &NEXT_TOKEN);
    v.integer(req.limit, "limit", &LIMIT_MAX100);
    check_bus_name_or_arn(&mut v, req.event_bus_name.as_deref(), "eventBusName");
    let (bus_scope, bus, rule) = validated_rule(v, req.rule, req.event_bus_name, scope)?;
    let compiled = app.catalog.rule(&bus_scope, &bus, &rule)?;
    let targets: Vec<Map<String, Value>> =
        compiled.rule.targets.iter().map(|t| t.0.clone()).collect();
    let (page, next_token) = paginate(
        "ListTargetsByRule",
        targets,
        req.next_token.as_deref(),
        req.limit,
    )?;
    Ok(ListTargetsByRuleResponse {
        targets: page,
        next_token,
    })
}
