//! ListRuleNamesByTarget: which rules of a bus can invoke a target.

use serde::{Deserialize, Serialize};

use super::{check_bus_name_or_arn, paginate, resolve_bus};
use crate::app::App;
use crate::error::ApiError;
use crate::model::Scope;
use crate::ops::constraints::{LIMIT_MAX100, NEXT_TOKEN, TARGET_ARN};
use crate::validate::Validator;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListRuleNamesByTargetRequest {
    target_arn: Option<String>,
    event_bus_name: Option<String>,
    next_token: Option<String>,
    limit: Option<i64>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListRuleNamesByTargetResponse {
    rule_names: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

/// The rules of the bus (the default bus when absent) with a target whose ARN is exactly
/// `TargetArn`, in name order, in pages.
pub async fn list_rule_names_by_target(
    app: &App,
    scope: &Scope,
    req: ListRuleNamesByTargetRequest,
) -> Result<ListRuleNamesByTargetResponse, ApiError> {
    let mut v = Validator::new();
    v.required(&req.target_arn, "targetArn");
    v.string(req.target_arn.as_deref(), "targetArn", &TARGET_ARN);
    check_bus_name_or_arn(&mut v, req.event_bus_name.as_deref(), "eventBusName");
    v.string(req.next_token.as_deref(), "nextToken", &NEXT_TOKEN);
    v.integer(req.limit, "limit", &LIMIT_MAX100);
    v.finish()?;
    let (bus_scope, bus) = resolve_bus(scope, req.event_bus_name.as_deref());
    let names = app.catalog.rule_names_by_target(
        &bus_scope,
        &bus,
        req.target_arn.as_deref().unwrap_or_default(),
    )?;
    let (rule_names, next_token) = paginate(
        "ListRuleNamesByTarget",
        names,
        req.next_token.as_deref(),
        req.limit,
    )?;
    Ok(ListRuleNamesByTargetResponse {
        rule_names,
        next_token,
    })
}
