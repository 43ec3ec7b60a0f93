use super::*;

const BUS: &str = "arn:aws:events:us-east-1:000000000000:event-bus/orders";
const RULE: &str = "arn:aws:events:eu-west-1:111122223333:rule/forward";

fn check<'a>(account: &'a str, root: &'a str) -> PutEventsCheck<'a> {
    PutEventsCheck {
        account,
        principal_arn: root,
        bus_arn: BUS,
        source: KeyValue::Known("orders"),
        detail_type: KeyValue::Known("Order Placed"),
        rule_arn: None,
    }
}

fn allows(policy: &Value, account: &str) -> bool {
    let root = root_arn(account);
    authorize_put_events(Some(policy), &check(account, &root)).is_ok()
}

fn one(statement: Value) -> Value {
    json!({"Version": VERSION, "Statement": [statement]})
}

#[test]
fn parameter_form_builds_aws_shape() {
    let s = statement("s1", PUT_EVENTS, "111122223333", BUS, None);
    assert_eq!(
        s.to_string(),
        r#"{"Sid":"s1","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"events:PutEvents","Resource":"arn:aws:events:us-east-1:000000000000:event-bus/orders"}"#
    );
    let s = statement(
        "org",
        PUT_EVENTS,
        "*",
        BUS,
        Some(("StringEquals", "aws:PrincipalOrgID", "o-1234567890")),
    );
    assert_eq!(s["Principal"], json!("*"));
    assert_eq!(
        s["Condition"],
        json!({"StringEquals": {"aws:PrincipalOrgID": "o-1234567890"}})
    );
    let keys: Vec<&String> = s.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "Sid",
            "Effect",
            "Principal",
            "Action",
            "Resource",
            "Condition"
        ]
    );
}

#[test]
fn statements_are_added_replaced_by_sid_and_removed() {
    let a = statement("a", PUT_EVENTS, "111122223333", BUS, None);
    let b = statement("b", PUT_EVENTS, "444455556666", BUS, None);
    let policy = with_statement(None, a.clone());
    assert_eq!(policy["Version"], VERSION);
    let policy = with_statement(Some(policy), b);
    let a2 = statement("a", PUT_EVENTS, "*", BUS, None);
    let policy = with_statement(Some(policy), a2.clone());
    let list = policy["Statement"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0], a2, "replaced where it was");
    assert!(without_statement(&policy, "missing").is_none());
    let left = without_statement(&policy, "a").unwrap().unwrap();
    assert_eq!(left["Statement"].as_array().unwrap().len(), 1);
    assert_eq!(without_statement(&left, "b"), Some(None));
}

#[test]
fn a_single_statement_object_is_a_list_of_one() {
    let policy =
        json!({"Version": VERSION, "Statement": statement("a", PUT_EVENTS, "*", BUS, None)});
    assert!(allows(&policy, "999999999999"));
    let policy = with_statement(Some(policy), statement("b", PUT_EVENTS, "*", BUS, None));
    assert_eq!(policy["Statement"].as_array().unwrap().len(), 2);
}

#[test]
fn no_policy_denies_with_iam_wording() {
    let root = root_arn("111122223333");
    let denial = authorize_put_events(None, &check("111122223333", &root)).unwrap_err();
    assert_eq!(denial.code, ACCESS_DENIED);
    assert_eq!(
        denial.message,
        "User: arn:aws:iam::111122223333:root is not authorized to perform: events:PutEvents on resource: arn:aws:events:us-east-1:000000000000:event-bus/orders because no resource-based policy allows the events:PutEvents action"
    );
}

#[test]
fn principals_match_account_root_or_everyone() {
    let by_account = one(statement("s", PUT_EVENTS, "111122223333", BUS, None));
    assert!(allows(&by_account, "111122223333"));
    assert!(!allows(&by_account, "444455556666"));
    let by_id = one(
        json!({"Effect": "Allow", "Principal": {"AWS": ["444455556666", "111122223333"]},
                           "Action": "events:*", "Resource": BUS}),
    );
    assert!(allows(&by_id, "111122223333"));
    let everyone = one(
        json!({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "events:PutEvents", "Resource": "*"}),
    );
    assert!(allows(&everyone, "777777777777"));
    let service = one(
        json!({"Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
                             "Action": "events:PutEvents", "Resource": "*"}),
    );
    assert!(!allows(&service, "111122223333"));
    let role = "arn:aws:iam::111122223333:role/forwarder";
    let by_role = one(
        json!({"Effect": "Allow", "Principal": {"AWS": role}, "Action": "events:PutEvents", "Resource": BUS}),
    );
    assert!(
        !allows(&by_role, "111122223333"),
        "the root is not the role"
    );
    assert!(authorize_put_events(Some(&by_role), &check("111122223333", role)).is_ok());
    let not_principal = one(
        json!({"Effect": "Allow", "NotPrincipal": {"AWS": "111122223333"},
                                   "Action": "events:PutEvents", "Resource": BUS}),
    );
    assert!(!allows(&not_principal, "111122223333"));
    assert!(allows(&not_principal, "444455556666"));
}

#[test]
fn actions_and_resources_match_with_wildcards() {
    let policy = |action: &str, resource: &str| {
        one(json!({"Effect": "Allow", "Principal": "*", "Action": action, "Resource": resource}))
    };
    assert!(
        allows(&policy("events:put*", BUS), "1"),
        "actions ignore case"
    );
    assert!(allows(&policy("*", "arn:aws:events:*:*:event-bus/*"), "1"));
    assert!(allows(
        &policy(
            "events:PutEvents",
            "arn:aws:events:us-east-1:000000000000:event-bus/ord?rs"
        ),
        "1"
    ));
    assert!(!allows(&policy("events:PutRule", BUS), "1"));
    assert!(!allows(
        &policy(
            "events:PutEvents",
            "arn:aws:events:us-east-1:000000000000:event-bus/other"
        ),
        "1"
    ));
    assert!(!allows(
        &policy(
            "events:PutEvents",
            "arn:aws:events:us-east-1:000000000000:event-bus/Orders"
        ),
        "1"
    ));
    let not_action = one(
        json!({"Effect": "Allow", "Principal": "*", "NotAction": "events:PutRule", "Resource": BUS}),
    );
    assert!(allows(&not_action, "1"));
}

#[test]
fn explicit_deny_wins() {
    let policy = json!({"Version": VERSION, "Statement": [
        {"Sid": "all", "Effect": "Allow", "Principal": "*", "Action": "events:PutEvents", "Resource": BUS},
        {"Sid": "not-them", "Effect": "Deny", "Principal": {"AWS": "444455556666"}, "Action": "events:*", "Resource": "*"},
    ]});
    assert!(allows(&policy, "111122223333"));
    let root = root_arn("444455556666");
    let denial = authorize_put_events(Some(&policy), &check("444455556666", &root)).unwrap_err();
    assert_eq!(denial.code, ACCESS_DENIED);
    assert!(
        denial
            .message
            .ends_with("with an explicit deny in a resource-based policy"),
        "{}",
        denial.message
    );
}

#[test]
fn organization_conditions_do_not_deny() {
    let policy = one(statement(
        "org",
        PUT_EVENTS,
        "*",
        BUS,
        Some(("StringEquals", "aws:PrincipalOrgID", "o-1234567890")),
    ));
    assert!(allows(&policy, "111122223333"));
}

#[test]
fn conditions_on_account_source_and_rule() {
    let on = |condition: Value| {
        one(
            json!({"Effect": "Allow", "Principal": "*", "Action": "events:PutEvents", "Resource": BUS,
                   "Condition": condition}),
        )
    };
    let account =
        on(json!({"StringEquals": {"aws:PrincipalAccount": ["111122223333", "222233334444"]}}));
    assert!(allows(&account, "222233334444"));
    assert!(!allows(&account, "444455556666"));
    let not_account = on(json!({"StringNotEquals": {"aws:principalaccount": "444455556666"}}));
    assert!(allows(&not_account, "111122223333"), "keys ignore case");
    assert!(!allows(&not_account, "444455556666"));

    let root = root_arn("111122223333");
    let source = on(json!({"StringLike": {"events:source": "billing.*"}}));
    let denial = authorize_put_events(Some(&source), &check("111122223333", &root)).unwrap_err();
    assert_eq!(denial.code, NOT_AUTHORIZED_FOR_SOURCE);
    let mut billing = check("111122223333", &root);
    billing.source = KeyValue::Known("billing.invoices");
    assert!(authorize_put_events(Some(&source), &billing).is_ok());
    let mut unknown = check("111122223333", &root);
    unknown.source = KeyValue::Unknown;
    assert!(
        authorize_put_events(Some(&source), &unknown).is_ok(),
        "not known yet: not denied"
    );
    let detail_type = on(json!({"StringEquals": {"events:detail-type": "Invoice Paid"}}));
    let denial =
        authorize_put_events(Some(&detail_type), &check("111122223333", &root)).unwrap_err();
    assert_eq!(denial.code, NOT_AUTHORIZED_FOR_DETAIL_TYPE);

    let from_rule = on(json!({"ArnLike": {"aws:SourceArn": "arn:aws:events:eu-west-*:*:rule/*"}}));
    assert!(
        !allows(&from_rule, "111122223333"),
        "a PutEvents call has no source ARN"
    );
    let mut forwarded = check("111122223333", &root);
    forwarded.rule_arn = Some(RULE);
    assert!(authorize_put_events(Some(&from_rule), &forwarded).is_ok());
    let exact = on(
        json!({"ArnEquals": {"aws:SourceArn": "arn:aws:events:us-east-1:111122223333:rule/forward"}}),
    );
    assert!(authorize_put_events(Some(&exact), &forwarded).is_err());
    let invocation = on(json!({"Bool": {"events:eventBusInvocation": "true"}}));
    assert!(authorize_put_events(Some(&invocation), &forwarded).is_ok());
    assert!(!allows(&invocation, "111122223333"));
}

#[test]
fn absent_keys_follow_iam() {
    let on = |condition: Value| {
        one(
            json!({"Effect": "Allow", "Principal": "*", "Action": "events:PutEvents", "Resource": BUS,
                   "Condition": condition}),
        )
    };
    assert!(!allows(
        &on(json!({"StringEquals": {"aws:SourceArn": "x"}})),
        "1"
    ));
    assert!(allows(
        &on(json!({"StringEqualsIfExists": {"aws:SourceArn": "x"}})),
        "1"
    ));
    assert!(allows(
        &on(json!({"ArnNotLike": {"aws:SourceArn": "x"}})),
        "1"
    ));
    assert!(allows(&on(json!({"Null": {"aws:SourceArn": "true"}})), "1"));
    assert!(!allows(
        &on(json!({"Null": {"aws:SourceArn": "false"}})),
        "1"
    ));
    assert!(!allows(
        &on(json!({"NumericLessThan": {"aws:PrincipalAccount": "5"}})),
        "1"
    ));
    assert!(allows(
        &on(json!({"ForAnyValue:StringEquals": {"aws:PrincipalAccount": ["1", "2"]}})),
        "1"
    ));
}

#[test]
fn glob_wildcards() {
    assert!(glob("a*c", "abbbc", false));
    assert!(glob("a*", "a", false));
    assert!(glob("*", "", false));
    assert!(glob("a?c", "abc", false));
    assert!(!glob("a?c", "ac", false));
    assert!(glob("*b*b", "abxbb", false));
    assert!(!glob("A", "a", false));
    assert!(glob("A", "a", true));
    assert!(arn_like("arn:aws:events:*:*:rule/*", RULE));
    assert!(
        !arn_like("arn:aws:*", RULE),
        "wildcards stay within their part"
    );
}

#[test]
fn documents_are_checked() {
    let ok = one(statement("a", PUT_EVENTS, "*", BUS, None)).to_string();
    assert!(parse_document(&ok).is_ok());
    let err = |text: &str| parse_document(text).unwrap_err();
    assert_eq!(err("not json"), "This policy contains invalid Json");
    assert_eq!(err("[]"), "This policy contains invalid Json");
    assert_eq!(
        err(r#"{"Version":"2012-10-17"}"#),
        "Missing required field Statement"
    );
    assert_eq!(
        err(r#"{"Version":"1999-01-01","Statement":[]}"#),
        "The policy must contain a valid version string"
    );
    let with = |s: Value| json!({"Version": VERSION, "Statement": [s]}).to_string();
    assert_eq!(
        err(&with(
            json!({"Principal": "*", "Action": "a", "Resource": "*"})
        )),
        "Missing required field Effect"
    );
    assert_eq!(
        err(&with(
            json!({"Effect": "Allow", "Action": "a", "Resource": "*"})
        )),
        "Missing required field Principal"
    );
    assert_eq!(
        err(&with(
            json!({"Effect": "Allow", "Principal": "*", "Resource": "*"})
        )),
        "Policy statement must contain actions."
    );
    assert_eq!(
        err(&with(
            json!({"Effect": "Allow", "Principal": "*", "Action": "a"})
        )),
        "Policy statement must contain resources."
    );
    let twice = json!({"Version": VERSION, "Statement": [
        statement("a", PUT_EVENTS, "*", BUS, None), statement("a", PUT_EVENTS, "*", BUS, None)]});
    assert_eq!(
        err(&twice.to_string()),
        "Statement IDs (SID) in a single policy must be unique."
    );
}
