//! PutRule, DescribeRule, ListRules, DeleteRule, EnableRule, DisableRule.

use serde::{Deserialize, Serialize};

use super::tags::{TagInput, check_tag_members, into_tags};
use super::{Empty, check_bus_name_or_arn, paginate, resolve_bus};
use crate::app::App;
use crate::error::ApiError;
use crate::model::{Rule, RuleState, Scope};
use crate::ops::constraints::{
    EVENT_PATTERN, LIMIT_MAX100, NEXT_TOKEN, ROLE_ARN, RULE_DESCRIPTION, RULE_NAME,
    SCHEDULE_EXPRESSION,
};
use crate::pattern::Pattern;
use crate::schedule::Schedule;
use crate::validate::Validator;

/// Checks an `EventPattern` member and compiles it.
pub fn compile_pattern(
    v: &mut Validator,
    pattern: Option<&str>,
) -> Option<Result<Pattern, ApiError>> {
    let text = pattern?;
    v.string(Some(text), "eventPattern", &EVENT_PATTERN);
    Some(Pattern::compile(text).map_err(ApiError::from))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutRuleRequest {
    name: Option<String>,
    schedule_expression: Option<String>,
    event_pattern: Option<String>,
    state: Option<String>,
    description: Option<String>,
    role_arn: Option<String>,
    tags: Option<Vec<TagInput>>,
    event_bus_name: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutRuleResponse {
    rule_arn: String,
}

pub async fn put_rule(
    app: &App,
    scope: &Scope,
    req: PutRuleRequest,
) -> Result<PutRuleResponse, ApiError> {
    let mut v = Validator::new();
    v.required(&req.name, "name");
    v.string(req.name.as_deref(), "name", &RULE_NAME);
    v.string(
        req.schedule_expression.as_deref(),
        "scheduleExpression",
        &SCHEDULE_EXPRESSION,
    );
    v.one_of(req.state.as_deref(), "state", &RuleState::VALUES);
    v.string(req.description.as_deref(), "description", &RULE_DESCRIPTION);
    v.string(req.role_arn.as_deref(), "roleArn", &ROLE_ARN);
    check_bus_name_or_arn(&mut v, req.event_bus_name.as_deref(), "eventBusName");
    check_tag_members(&mut v, req.tags.as_deref(), "tags");
    let compiled = compile_pattern(&mut v, req.event_pattern.as_deref());
    v.finish()?;
    let pattern = compiled.transpose()?;
    let tags = into_tags(req.tags)?;
    if req.event_pattern.is_none() && req.schedule_expression.is_none() {
        return Err(ApiError::validation(
            "Parameter(s) EventPattern or ScheduleExpression must be specified.",
        ));
    }
    let (bus_scope, bus_name) = resolve_bus(scope, req.event_bus_name.as_deref());
    if let Some(expression) = &req.schedule_expression {
        if bus_name != "default" {
            return Err(ApiError::validation(
                "ScheduleExpression is supported only on the default event bus.",
            ));
        }
        if Schedule::parse(expression).is_none() {
            return Err(ApiError::validation(
                "Parameter ScheduleExpression is not valid.",
            ));
        }
    }
    let rule = app.catalog.put_rule(
        Rule {
            scope: bus_scope.clone(),
            bus_name,
            name: req.name.unwrap_or_default(),
            event_pattern: req.event_pattern,
            schedule_expression: req.schedule_expression,
            state: req
                .state
                .as_deref()
                .and_then(RuleState::parse)
                .unwrap_or(RuleState::Enabled),
            description: req.description,
            role_arn: req.role_arn,
            managed_by: None,
            archive: None,
            tags,
            targets: Vec::new(),
        },
        pattern,
    )?;
    app.store.flush().await.map_err(ApiError::storage)?;
    Ok(PutRuleResponse {
        rule_arn: rule.arn(),
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RuleNameRequest {
    name: Option<String>,
    event_bus_name: Option<String>,
}

impl RuleNameRequest {
    pub fn new(name: Option<String>, event_bus_name: Option<String>) -> Self {
        RuleNameRequest {
            name,
            event_bus_name,
        }
    }

    /// Validates the members and names the rule as (bus scope, bus, rule).
    pub fn into_parts(self, scope: &Scope) -> Result<(Scope, String, String), ApiError> {
        let mut v = Validator::new();
        v.required(&self.name, "name");
        v.string(self.name.as_deref(), "name", &RULE_NAME);
        check_bus_name_or_arn(&mut v, self.event_bus_name.as_deref(), "eventBusName");
        v.finish()?;
        let (bus_scope, bus) = resolve_bus(scope, self.event_bus_name.as_deref());
        Ok((bus_scope, bus, self.name.unwrap_or_default()))
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeRuleResponse {
    name: String,
    arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    event_pattern: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    schedule_expression: Option<String>,
    state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    role_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    managed_by: Option<String>,
    event_bus_name: String,
    created_by: String,
}

pub async fn describe_rule(
    app: &App,
    scope: &Scope,
    req: RuleNameRequest,
) -> Result<DescribeRuleResponse, ApiError> {
    let (bus_scope, bus, name) = req.into_parts(scope)?;
    let compiled = app.catalog.rule(&bus_scope, &bus, &name)?;
    let rule = compiled.rule.clone();
    Ok(DescribeRuleResponse {
        arn: rule.arn(),
        name: rule.name,
        event_pattern: rule.event_pattern,
        schedule_expression: rule.schedule_expression,
        state: rule.state.as_str(),
        description: rule.description,
        role_arn: rule.role_arn,
        managed_by: rule.managed_by,
        event_bus_name: rule.bus_name,
        created_by: rule.scope.account,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListRulesRequest {
    name_prefix: Option<String>,
    event_bus_name: Option<String>,
    next_token: Option<String>,
    limit: Option<i64>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RuleItem {
    name: String,
    arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    event_pattern: Option<String>,
    state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    schedule_expression: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    role_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    managed_by: Option<String>,
    event_bus_name: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListRulesResponse {
    rules: Vec<RuleItem>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

pub async fn list_rules(
    app: &App,
    scope: &Scope,
    req: ListRulesRequest,
) -> Result<ListRulesResponse, ApiError> {
    let mut v = Validator::new();
    v.string(req.name_prefix.as_deref(), "namePrefix", &RULE_NAME);
    check_bus_name_or_arn(&mut v, req.event_bus_name.as_deref(), "eventBusName");
    v.string(req.next_token.as_deref(), "nextToken", &NEXT_TOKEN);
    v.integer(req.limit, "limit", &LIMIT_MAX100);
    v.finish()?;
    let (bus_scope, bus) = resolve_bus(scope, req.event_bus_name.as_deref());
    let rules = app
        .catalog
        .rules(&bus_scope, &bus, req.name_prefix.as_deref())?;
    let (page, next_token) = paginate("ListRules", rules, req.next_token.as_deref(), req.limit)?;
    Ok(ListRulesResponse {
        rules: page
            .into_iter()
            .map(|rule| RuleItem {
                arn: rule.arn(),
                name: rule.name,
                event_pattern: rule.event_pattern,
                state: rule.state.as_str(),
                description: rule.description,
                schedule_expression: rule.schedule_expression,
                role_arn: rule.role_arn,
                managed_by: rule.managed_by,
                event_bus_name: rule.bus_name,
            })
            .collect(),
        next_token,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteRuleRequest {
    name: Option<String>,
    event_bus_name: Option<String>,
    force: Option<bool>,
}

pub async fn delete_rule(
    app: &App,
    scope: &Scope,
    req: DeleteRuleRequest,
) -> Result<Empty, ApiError> {
    let force = req.force.unwrap_or(false);
    let (bus_scope, bus, name) = RuleNameRequest {
        name: req.name,
        event_bus_name: req.event_bus_name,
    }
    .into_parts(scope)?;
    app.catalog.delete_rule(&bus_scope, &bus, &name, force)?;
    app.store.flush().await.map_err(ApiError::storage)?;
    Ok(Empty {})
}

pub async fn enable_rule(
    app: &App,
    scope: &Scope,
    req: RuleNameRequest,
) -> Result<Empty, ApiError> {
    set_state(app, scope, req, RuleState::Enabled).await
}

pub async fn disable_rule(
    app: &App,
    scope: &Scope,
    req: RuleNameRequest,
) -> Result<Empty, ApiError> {
    set_state(app, scope, req, RuleState::Disabled).await
}

async fn set_state(
    app: &App,
    scope: &Scope,
    req: RuleNameRequest,
    state: RuleState,
) -> Result<Empty, ApiError> {
    let (bus_scope, bus, name) = req.into_parts(scope)?;
    app.catalog.set_rule_state(&bus_scope, &bus, &name, state)?;
    app.store.flush().await.map_err(ApiError::storage)?;
    Ok(Empty {})
}
