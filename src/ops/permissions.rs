//! PutPermission and RemovePermission (the resource-based policy of a bus), and the checks of
//! that policy where events cross into a bus of another account: PutEvents entries naming
//! such a bus, and PutTargets naming one as a rule's target.
//!
//! What AWS answers is recorded for: statements added one by one (a 12-digit principal becomes
//! `{"AWS":"arn:aws:iam::<account>:root"}`, `*` stays `"*"`, a statement id again replaces its
//! statement, two ids may name one account), a `Policy` document replacing every statement,
//! RemoveAllPermissions leaving no `Policy`, "Statement with the provided id does not exist."
//! for an unknown id (with or without a policy) and "Event bus <name> does not exist.". The
//! other messages below are not recorded; each says where its text comes from.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::Empty;
use crate::app::App;
use crate::error::{ApiError, ErrorCode};
use crate::model::policy::{self, KeyValue, PutEventsCheck};
use crate::model::{Scope, arn};
use crate::ops::constraints::{ACTION, NON_PARTNER_EVENT_BUS_NAME, PRINCIPAL, STATEMENT_ID};
use crate::validate::Validator;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutPermissionRequest {
    event_bus_name: Option<String>,
    action: Option<String>,
    principal: Option<String>,
    statement_id: Option<String>,
    condition: Option<Condition>,
    policy: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Condition {
    #[serde(rename = "Type")]
    kind: Option<String>,
    key: Option<String>,
    value: Option<String>,
}

/// What PutPermission does to a bus's policy.
enum Change {
    /// The `Policy` form: the document replaces the policy.
    Replace(Value),
    /// The parameter form: the statement joins the policy, or replaces its `Sid`'s.
    Add(Value),
}

/// AWS's answer to a policy over 10 KB. (The text is the model's description of
/// PolicyLengthExceededException; AWS's message is not recorded.)
fn too_long() -> ApiError {
    ApiError::new(
        ErrorCode::PolicyLengthExceeded,
        "The event bus policy is too long. For more information, see the limits.",
    )
}

pub async fn put_permission(
    app: &App,
    scope: &Scope,
    req: PutPermissionRequest,
) -> Result<Empty, ApiError> {
    let mut v = Validator::new();
    v.string(
        req.event_bus_name.as_deref(),
        "eventBusName",
        &NON_PARTNER_EVENT_BUS_NAME,
    );
    v.string(req.action.as_deref(), "action", &ACTION);
    v.string(req.principal.as_deref(), "principal", &PRINCIPAL);
    v.string(req.statement_id.as_deref(), "statementId", &STATEMENT_ID);
    if let Some(c) = &req.condition {
        v.required(&c.kind, "condition.type");
        v.required(&c.key, "condition.key");
        v.required(&c.value, "condition.value");
    }
    v.finish()?;
    let bus = req.event_bus_name.as_deref().unwrap_or("default");
    let bus_arn = arn::event_bus(scope, bus);
    let change = match &req.policy {
        Some(text) => {
            let parameters = [
                req.action.is_some(),
                req.principal.is_some(),
                req.statement_id.is_some(),
                req.condition.is_some(),
            ];
            if parameters.contains(&true) {
                // Not recorded: the docs offer `Policy` "instead of" the other parameters.
                return Err(ApiError::validation(
                    "Combination of policy with other arguments is not allowed",
                ));
            }
            Change::Replace(policy::parse_document(text).map_err(ApiError::validation)?)
        }
        None => Change::Add(parameter_statement(&req, &bus_arn)?),
    };
    let apply = move |current: Option<Value>| {
        let next = match change {
            Change::Replace(document) => document,
            Change::Add(statement) => policy::with_statement(current, statement),
        };
        if policy::size(&next) > policy::MAX_POLICY_BYTES {
            return Err(too_long());
        }
        Ok(Some(next))
    };
    app.catalog.update_bus_policy(scope, bus, apply)?;
    app.store.flush().await.map_err(ApiError::storage)?;
    Ok(Empty {})
}

/// The statement of the parameter form. Its refusals are not recorded from AWS; their texts
/// are those other emulators answer (moto, LocalStack), which say what is wrong.
fn parameter_statement(req: &PutPermissionRequest, bus_arn: &str) -> Result<Value, ApiError> {
    let Some(principal) = req.principal.as_deref() else {
        return Err(ApiError::validation(
            "Parameter Principal must be specified.",
        ));
    };
    if req.condition.is_some() && principal != "*" {
        return Err(ApiError::validation(
            "Value of the parameter 'principal' must be '*' when the parameter 'condition' is set.",
        ));
    }
    if req.action.as_deref() != Some(policy::PUT_EVENTS) {
        return Err(ApiError::validation(
            "Provided value in parameter 'action' is not supported.",
        ));
    }
    let Some(sid) = req.statement_id.as_deref() else {
        return Err(ApiError::validation("Parameter StatementId is required."));
    };
    let condition = req.condition.as_ref().map(|c| {
        (
            c.kind.as_deref().unwrap_or_default(),
            c.key.as_deref().unwrap_or_default(),
            c.value.as_deref().unwrap_or_default(),
        )
    });
    Ok(policy::statement(
        sid,
        policy::PUT_EVENTS,
        principal,
        bus_arn,
        condition,
    ))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RemovePermissionRequest {
    statement_id: Option<String>,
    remove_all_permissions: Option<bool>,
    event_bus_name: Option<String>,
}

pub async fn remove_permission(
    app: &App,
    scope: &Scope,
    req: RemovePermissionRequest,
) -> Result<Empty, ApiError> {
    let mut v = Validator::new();
    v.string(req.statement_id.as_deref(), "statementId", &STATEMENT_ID);
    v.string(
        req.event_bus_name.as_deref(),
        "eventBusName",
        &NON_PARTNER_EVENT_BUS_NAME,
    );
    v.finish()?;
    let bus = req.event_bus_name.as_deref().unwrap_or("default");
    let remove_all = req.remove_all_permissions == Some(true);
    if !remove_all && req.statement_id.is_none() {
        // Not recorded; LocalStack's text.
        return Err(ApiError::validation("Parameter StatementId is required."));
    }
    let sid = req.statement_id.unwrap_or_default();
    app.catalog.update_bus_policy(scope, bus, |current| {
        let no_statement = || ApiError::not_found("Statement with the provided id does not exist.");
        match current {
            // AWS refuses RemoveAllPermissions on a bus without a policy; its text is not
            // recorded (this is moto's).
            None if remove_all => Err(ApiError::not_found("EventBus does not have a policy.")),
            None => Err(no_statement()),
            Some(_) if remove_all => Ok(None),
            Some(policy) => policy::without_statement(&policy, &sid).ok_or_else(no_statement),
        }
    })?;
    app.store.flush().await.map_err(ApiError::storage)?;
    Ok(Empty {})
}

/// PutTargets' check of targets that are buses of another account or region: the policy of
/// each must let the rule's account (or the role the target names) put events there, else
/// the whole call is refused with AccessDeniedException, as AWS does (observed in 2026 for a
/// bus of another region of the same account; the text is IAM's usual wording, AWS's exact
/// message is not recorded). A missing rule is reported first, as without such targets.
pub fn check_bus_targets(
    app: &App,
    rule_scope: &Scope,
    bus: &str,
    rule: &str,
    targets: &[Map<String, Value>],
) -> Result<(), ApiError> {
    let foreign: Vec<(&Map<String, Value>, Scope, String)> = targets
        .iter()
        .filter_map(|t| {
            let (scope, name) = arn::parse_event_bus(t.get("Arn")?.as_str()?)?;
            (scope != *rule_scope).then_some((t, scope, name))
        })
        .collect();
    if foreign.is_empty() {
        return Ok(());
    }
    let rule_arn = app.catalog.rule(rule_scope, bus, rule)?.arn.clone();
    let root = policy::root_arn(&rule_scope.account);
    for (target, scope, name) in foreign {
        let principal = target.get("RoleArn").and_then(Value::as_str);
        let bus_arn = arn::event_bus(&scope, &name);
        let check = PutEventsCheck {
            account: &rule_scope.account,
            principal_arn: principal.unwrap_or(&root),
            bus_arn: &bus_arn,
            source: KeyValue::Unknown,
            detail_type: KeyValue::Unknown,
            rule_arn: Some(&rule_arn),
        };
        app.catalog
            .authorize_put_events(&scope, &name, &check)
            .map_err(|denial| ApiError::new(ErrorCode::AccessDenied, denial.message))?;
    }
    Ok(())
}

/// PutEvents' check of an entry for a bus of another account: `Err((code, message))` is the
/// entry's error when the bus's policy does not let the caller's account put it.
pub fn check_put_events_entry(
    app: &App,
    caller: &Scope,
    bus_scope: &Scope,
    bus: &str,
    source: &str,
    detail_type: &str,
) -> Result<(), (&'static str, String)> {
    if bus_scope.account == caller.account {
        return Ok(());
    }
    let root = policy::root_arn(&caller.account);
    let bus_arn = arn::event_bus(bus_scope, bus);
    let check = PutEventsCheck {
        account: &caller.account,
        principal_arn: &root,
        bus_arn: &bus_arn,
        source: KeyValue::Known(source),
        detail_type: KeyValue::Known(detail_type),
        rule_arn: None,
    };
    app.catalog
        .authorize_put_events(bus_scope, bus, &check)
        .map_err(|denial| (denial.code, denial.message))
}
