//! Resource-based policies of event buses: the JSON document AWS keeps on a bus (what
//! PutPermission builds and DescribeEventBus shows), its checks, and a pure evaluator of
//! "may this principal put events on this bus".
//!
//! The evaluator follows IAM's rules for one resource-based policy: an explicit `Deny` wins,
//! then any `Allow`, else the request is implicitly denied. A statement applies when its
//! principal, action, resource and every condition match. Identity policies (IAM users and
//! roles) are not emulated: a principal is an account, or a role ARN a target names.

use serde_json::{Map, Value, json};

use super::arn;

/// The only `Version` AWS writes into the policies it builds.
pub const VERSION: &str = "2012-10-17";

/// The one action PutPermission's parameter form grants.
pub const PUT_EVENTS: &str = "events:PutEvents";

/// "The permission policy on the event bus cannot exceed 10 KB in size."
pub const MAX_POLICY_BYTES: usize = 10 * 1024;

/// A condition key's value in a request: known, or not known at the time of the check (an
/// event's source when PutTargets checks a rule's target), which a condition never denies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyValue<'a> {
    Known(&'a str),
    Unknown,
}

/// What is asked: `principal` (an account's root or a role of it) performing `action` on
/// `resource`, with the condition keys in `context` (keys absent there are absent).
#[derive(Debug, Clone)]
pub struct Request<'a> {
    pub principal_account: &'a str,
    pub principal_arn: &'a str,
    pub action: &'a str,
    pub resource: &'a str,
    pub context: Vec<(&'a str, KeyValue<'a>)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// No statement allows it.
    ImplicitDeny,
    /// A `Deny` statement matches.
    ExplicitDeny,
}

/// Evaluates `policy` (none: nothing is allowed) for `request`.
pub fn evaluate(policy: Option<&Value>, request: &Request<'_>) -> Decision {
    let mut allowed = false;
    for statement in policy.map(statements).unwrap_or_default() {
        if !applies(statement, request) {
            continue;
        }
        match statement.get("Effect").and_then(Value::as_str) {
            Some("Deny") => return Decision::ExplicitDeny,
            Some("Allow") => allowed = true,
            _ => {}
        }
    }
    if allowed {
        Decision::Allow
    } else {
        Decision::ImplicitDeny
    }
}

/// A policy's statements: `Statement` is one object or a list of them.
pub fn statements(policy: &Value) -> Vec<&Map<String, Value>> {
    match policy.get("Statement") {
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_object).collect(),
        Some(Value::Object(one)) => vec![one],
        _ => Vec::new(),
    }
}

fn applies(statement: &Map<String, Value>, request: &Request<'_>) -> bool {
    let principal = match (statement.get("Principal"), statement.get("NotPrincipal")) {
        (Some(p), _) => principal_matches(p, request),
        (None, Some(p)) => !principal_matches(p, request),
        (None, None) => false,
    };
    let action = match (statement.get("Action"), statement.get("NotAction")) {
        (Some(a), _) => strings(a).any(|p| glob(p, request.action, true)),
        (None, Some(a)) => !strings(a).any(|p| glob(p, request.action, true)),
        (None, None) => false,
    };
    let resource = match (statement.get("Resource"), statement.get("NotResource")) {
        (Some(r), _) => strings(r).any(|p| glob(p, request.resource, false)),
        (None, Some(r)) => !strings(r).any(|p| glob(p, request.resource, false)),
        (None, None) => false,
    };
    principal
        && action
        && resource
        && statement
            .get("Condition")
            .is_none_or(|c| conditions_hold(c, request))
}

/// The strings of a value that is one string or a list of them.
fn strings(value: &Value) -> impl Iterator<Item = &str> {
    let list: Vec<&str> = match value {
        Value::String(s) => vec![s.as_str()],
        Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    list.into_iter()
}

/// `"*"`, or `{"AWS": ...}` naming the account (its id or root ARN), the principal's own ARN,
/// or `"*"`. Service and federated principals never match a caller of this server.
fn principal_matches(principal: &Value, request: &Request<'_>) -> bool {
    match principal {
        Value::String(s) => s == "*",
        Value::Object(map) => map
            .iter()
            .filter(|(kind, _)| kind.as_str() == "AWS")
            .any(|(_, v)| strings(v).any(|p| aws_principal_matches(p, request))),
        _ => false,
    }
}

fn aws_principal_matches(principal: &str, request: &Request<'_>) -> bool {
    if principal == "*" || principal == request.principal_account {
        return true;
    }
    if principal == request.principal_arn {
        return true;
    }
    arn::parse(principal).is_some_and(|p| {
        p.service == "iam" && p.account == request.principal_account && p.resource == "root"
    })
}

/// Every operator block holds, and within one every key.
fn conditions_hold(condition: &Value, request: &Request<'_>) -> bool {
    let Some(operators) = condition.as_object() else {
        return false;
    };
    operators.iter().all(|(operator, block)| {
        block.as_object().is_some_and(|keys| {
            keys.iter()
                .all(|(key, expected)| condition_holds(operator, key, expected, request))
        })
    })
}

fn condition_holds(operator: &str, key: &str, expected: &Value, request: &Request<'_>) -> bool {
    let (all_values, operator) = match operator.split_once(':') {
        Some(("ForAllValues", rest)) => (true, rest),
        Some(("ForAnyValue", rest)) => (false, rest),
        _ => (false, operator),
    };
    let (operator, if_exists) = match operator.strip_suffix("IfExists") {
        Some(base) => (base, true),
        None => (operator, false),
    };
    let expected: Vec<String> = match expected {
        Value::Array(items) => items.iter().map(text).collect(),
        one => vec![text(one)],
    };
    let value = request
        .context
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| *v);
    match value {
        Some(KeyValue::Unknown) => true,
        None if operator == "Null" => expected.iter().any(|e| e.eq_ignore_ascii_case("true")),
        None => if_exists || all_values || is_negated(operator),
        Some(KeyValue::Known(_)) if operator == "Null" => {
            expected.iter().any(|e| e.eq_ignore_ascii_case("false"))
        }
        Some(KeyValue::Known(actual)) => compare(operator, actual, &expected),
    }
}

/// A JSON value as condition text (`true`, `12` and `"x"` alike).
fn text(value: &Value) -> String {
    value
        .as_str()
        .map_or_else(|| value.to_string(), str::to_string)
}

fn is_negated(operator: &str) -> bool {
    matches!(
        operator,
        "StringNotEquals"
            | "StringNotEqualsIgnoreCase"
            | "StringNotLike"
            | "ArnNotEquals"
            | "ArnNotLike"
    )
}

/// One operator on a present value. An operator this evaluator does not know (numeric and
/// date operators, which no EventBridge key needs) never holds, so its statement never applies.
fn compare(operator: &str, actual: &str, expected: &[String]) -> bool {
    let any = |f: &dyn Fn(&str) -> bool| expected.iter().any(|e| f(e));
    match operator {
        "StringEquals" => any(&|e| e == actual),
        "StringNotEquals" => !any(&|e| e == actual),
        "StringEqualsIgnoreCase" => any(&|e| e.eq_ignore_ascii_case(actual)),
        "StringNotEqualsIgnoreCase" => !any(&|e| e.eq_ignore_ascii_case(actual)),
        "StringLike" => any(&|e| glob(e, actual, false)),
        "StringNotLike" => !any(&|e| glob(e, actual, false)),
        "ArnEquals" | "ArnLike" => any(&|e| arn_like(e, actual)),
        "ArnNotEquals" | "ArnNotLike" => !any(&|e| arn_like(e, actual)),
        "Bool" => any(&|e| e.eq_ignore_ascii_case(actual)),
        _ => false,
    }
}

/// IAM's ARN match: each of the six `:`-separated parts matched on its own, wildcards staying
/// within their part.
fn arn_like(pattern: &str, value: &str) -> bool {
    let p: Vec<&str> = pattern.splitn(6, ':').collect();
    let v: Vec<&str> = value.splitn(6, ':').collect();
    p.len() == 6 && v.len() == 6 && p.iter().zip(&v).all(|(p, v)| glob(p, v, false))
}

/// `*` (any run) and `?` (one character) wildcards.
pub fn glob(pattern: &str, text: &str, ignore_case: bool) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let same = |a: char, b: char| {
        if ignore_case {
            a.eq_ignore_ascii_case(&b)
        } else {
            a == b
        }
    };
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || (p[pi] != '*' && same(p[pi], t[ti]))) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// A put of one event on a bus of another account (or, for a rule's target, another region),
/// as the bus's policy judges it.
#[derive(Debug, Clone)]
pub struct PutEventsCheck<'a> {
    /// The account asking: the caller of PutEvents, or the account of the forwarding rule.
    pub account: &'a str,
    /// Its identity: the account's root, or the role a rule's target names.
    pub principal_arn: &'a str,
    pub bus_arn: &'a str,
    pub source: KeyValue<'a>,
    pub detail_type: KeyValue<'a>,
    /// The rule that forwards the event (`aws:SourceArn`); none for a PutEvents call.
    pub rule_arn: Option<&'a str>,
}

/// Why a put was refused: AWS's error code (an API error or a PutEvents entry's `ErrorCode`)
/// and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial {
    pub code: &'static str,
    pub message: String,
}

pub const ACCESS_DENIED: &str = "AccessDeniedException";
pub const NOT_AUTHORIZED_FOR_SOURCE: &str = "NotAuthorizedForSourceException";
pub const NOT_AUTHORIZED_FOR_DETAIL_TYPE: &str = "NotAuthorizedForDetailTypeException";

/// The root ARN of an account, as IAM names the account's principal.
pub fn root_arn(account: &str) -> String {
    format!("arn:aws:iam::{account}:root")
}

/// Whether `policy` lets `check` put its event. The condition keys a request has here:
/// `aws:PrincipalAccount`, `aws:PrincipalArn`, `aws:SourceArn` and `aws:SourceAccount` (rule
/// deliveries), `events:source`, `events:detail-type`, `events:eventBusInvocation`.
/// `aws:PrincipalOrgID` is never known (AWS Organizations is not emulated), so a condition
/// on it does not deny.
///
/// A refusal that only a condition on `events:source` (or `events:detail-type`) causes is
/// `NotAuthorizedForSourceException` (`...ForDetailTypeException`), as the PutEvents docs
/// describe those codes; any other is `AccessDeniedException` with IAM's wording. (AWS's
/// exact messages for these per-entry errors are not recorded.)
pub fn authorize_put_events(
    policy: Option<&Value>,
    check: &PutEventsCheck<'_>,
) -> Result<(), Denial> {
    let decision = evaluate(policy, &request(check, check.source, check.detail_type));
    if decision == Decision::Allow {
        return Ok(());
    }
    let denied = |code: &'static str, why: String| {
        Err(Denial {
            code,
            message: format!(
                "User: {} is not authorized to perform: {PUT_EVENTS} on resource: {} {why}",
                check.principal_arn, check.bus_arn
            ),
        })
    };
    if decision == Decision::ImplicitDeny {
        let with = |s, d| evaluate(policy, &request(check, s, d)) == Decision::Allow;
        if with(KeyValue::Unknown, check.detail_type) {
            return denied(
                NOT_AUTHORIZED_FOR_SOURCE,
                "because no resource-based policy allows events with this source".into(),
            );
        }
        if with(check.source, KeyValue::Unknown) {
            return denied(
                NOT_AUTHORIZED_FOR_DETAIL_TYPE,
                "because no resource-based policy allows events with this detail type".into(),
            );
        }
        return denied(
            ACCESS_DENIED,
            format!("because no resource-based policy allows the {PUT_EVENTS} action"),
        );
    }
    denied(
        ACCESS_DENIED,
        "with an explicit deny in a resource-based policy".into(),
    )
}

fn request<'a>(
    check: &PutEventsCheck<'a>,
    source: KeyValue<'a>,
    detail_type: KeyValue<'a>,
) -> Request<'a> {
    let mut context = vec![
        ("aws:PrincipalAccount", KeyValue::Known(check.account)),
        ("aws:PrincipalArn", KeyValue::Known(check.principal_arn)),
        ("aws:PrincipalOrgID", KeyValue::Unknown),
        ("events:source", source),
        ("events:detail-type", detail_type),
    ];
    match check.rule_arn {
        Some(rule) => context.extend([
            ("aws:SourceArn", KeyValue::Known(rule)),
            ("aws:SourceAccount", KeyValue::Known(check.account)),
            ("events:eventBusInvocation", KeyValue::Known("true")),
        ]),
        None => context.push(("events:eventBusInvocation", KeyValue::Known("false"))),
    }
    Request {
        principal_account: check.account,
        principal_arn: check.principal_arn,
        action: PUT_EVENTS,
        resource: check.bus_arn,
        context,
    }
}

/// The statement PutPermission's parameter form makes, keys in AWS's order: a 12-digit
/// principal becomes its account's root ARN, `*` stays a plain `"*"`; the condition becomes
/// `{Type: {Key: Value}}`.
pub fn statement(
    sid: &str,
    action: &str,
    principal: &str,
    resource: &str,
    condition: Option<(&str, &str, &str)>,
) -> Value {
    let principal = if principal == "*" {
        json!("*")
    } else {
        json!({ "AWS": format!("arn:aws:iam::{principal}:root") })
    };
    let mut statement = json!({
        "Sid": sid,
        "Effect": "Allow",
        "Principal": principal,
        "Action": action,
        "Resource": resource,
    });
    if let Some((kind, key, value)) = condition {
        statement["Condition"] = json!({ kind: { key: value } });
    }
    statement
}

/// `policy` with `statement` in it: a statement of the same `Sid` is replaced where it is,
/// otherwise it is appended (a bus without a policy gets a new one).
pub fn with_statement(policy: Option<Value>, statement: Value) -> Value {
    let mut policy = policy.unwrap_or_else(|| json!({ "Version": VERSION, "Statement": [] }));
    let sid = statement.get("Sid").cloned();
    if let Some(one @ Value::Object(_)) = policy.get_mut("Statement") {
        *one = Value::Array(vec![one.take()]);
    }
    if !matches!(policy.get("Statement"), Some(Value::Array(_))) {
        policy["Statement"] = json!([]);
    }
    let Some(Value::Array(list)) = policy.get_mut("Statement") else {
        unreachable!("Statement was just made a list");
    };
    match list.iter_mut().find(|s| s.get("Sid") == sid.as_ref()) {
        Some(existing) => *existing = statement,
        None => list.push(statement),
    }
    policy
}

/// `policy` without the statement `sid`: `None` when it has no such statement, `Some(None)`
/// when no statement is left (the bus then has no policy).
pub fn without_statement(policy: &Value, sid: &str) -> Option<Option<Value>> {
    let mut policy = policy.clone();
    let list = match policy.get_mut("Statement")? {
        Value::Array(list) => list,
        one @ Value::Object(_) => {
            *one = Value::Array(vec![one.take()]);
            one.as_array_mut()?
        }
        _ => return None,
    };
    let at = list
        .iter()
        .position(|s| s.get("Sid").and_then(Value::as_str) == Some(sid))?;
    list.remove(at);
    Some((!list.is_empty()).then_some(policy))
}

/// The size AWS limits: the policy as compact JSON.
pub fn size(policy: &Value) -> usize {
    policy.to_string().len()
}

/// Parses and checks a whole policy document (PutPermission's `Policy`). The messages are
/// those of IAM's policy validator, which AWS's resource policies share; EventBridge's own
/// answers to malformed documents are not recorded.
pub fn parse_document(text: &str) -> Result<Value, String> {
    const INVALID_JSON: &str = "This policy contains invalid Json";
    let policy: Value = serde_json::from_str(text).map_err(|_| INVALID_JSON.to_string())?;
    if !policy.is_object() {
        return Err(INVALID_JSON.into());
    }
    if let Some(version) = policy.get("Version")
        && !matches!(version.as_str(), Some("2012-10-17" | "2008-10-17"))
    {
        return Err("The policy must contain a valid version string".into());
    }
    let list: Vec<&Value> = match policy.get("Statement") {
        Some(Value::Array(list)) => list.iter().collect(),
        Some(one @ Value::Object(_)) => vec![one],
        Some(_) => return Err(INVALID_JSON.into()),
        None => return Err("Missing required field Statement".into()),
    };
    let mut sids = Vec::new();
    for statement in list {
        let Some(statement) = statement.as_object() else {
            return Err(INVALID_JSON.into());
        };
        check_statement(statement)?;
        if let Some(sid) = statement.get("Sid").and_then(Value::as_str) {
            if sids.contains(&sid) {
                return Err("Statement IDs (SID) in a single policy must be unique.".into());
            }
            sids.push(sid);
        }
    }
    Ok(policy)
}

fn check_statement(statement: &Map<String, Value>) -> Result<(), String> {
    match statement.get("Effect").and_then(Value::as_str) {
        Some("Allow" | "Deny") => {}
        Some(other) => return Err(format!("Invalid effect: {other}")),
        None => return Err("Missing required field Effect".into()),
    }
    let has = |a: &str, b: &str| statement.contains_key(a) || statement.contains_key(b);
    if !has("Principal", "NotPrincipal") {
        return Err("Missing required field Principal".into());
    }
    if !has("Action", "NotAction") {
        return Err("Policy statement must contain actions.".into());
    }
    if !has("Resource", "NotResource") {
        return Err("Policy statement must contain resources.".into());
    }
    if let Some(condition) = statement.get("Condition")
        && !condition
            .as_object()
            .is_some_and(|ops| ops.values().all(Value::is_object))
    {
        return Err("Syntax errors in policy.".into());
    }
    Ok(())
}

#[cfg(test)]
#[path = "policy_tests.rs"]
mod tests;
