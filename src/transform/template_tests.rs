//! Tests of `template.rs`: the documented examples, the predefined variables, and how values
//! are written in each placeholder position. Templates are compiled here as the PutTargets
//! checks compile them, without the checks themselves (those are `validation.rs`'s tests).

use serde_json::{Value, json};

use super::*;
use crate::transform::test_fixtures::{ctx, ec2_event};

fn render(template: &Template, event: &Value) -> String {
    template.render(event, &serde_json::to_string(event).unwrap(), &ctx())
}

/// A transformer over the docs' input paths (`timestamp`, `instance`, `state`).
fn ec2_template(template: &str) -> Template {
    transformer(
        json!({
            "timestamp": "$.time",
            "instance": "$.detail.instance-id",
            "state": "$.detail.state"
        }),
        template,
    )
}

/// `paths` is an `InputPathsMap` object, name to JSON path.
fn transformer(paths: Value, template: &str) -> Template {
    let Value::Object(paths) = paths else {
        panic!("InputPathsMap must be an object");
    };
    let paths = paths
        .into_iter()
        .map(|(key, path)| {
            let path = path.as_str().and_then(JsonPath::parse);
            (key, path.expect("valid JSON path"))
        })
        .collect();
    Template::compile(template, paths).expect("valid template")
}

fn must_be_json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

// --- The documented examples (eb-transform-target-input, "Input transform examples") ---

#[test]
fn doc_simple_string() {
    let out = render(
        &ec2_template(r#""instance <instance> is in <state>""#),
        &ec2_event(),
    );
    assert_eq!(out, r#""instance i-0123456789 is in RUNNING""#);
}

#[test]
fn doc_string_with_escaped_quotes() {
    let t = ec2_template(r#""instance \"<instance>\" is in <state>""#);
    assert_eq!(
        render(&t, &ec2_event()),
        r#""instance \"i-0123456789\" is in RUNNING""#
    );
}

#[test]
fn doc_simple_json() {
    let t = ec2_template("{\n  \"instance\" : <instance>,\n  \"state\": <state>\n}");
    assert_eq!(
        render(&t, &ec2_event()),
        "{\n  \"instance\" : \"i-0123456789\",\n  \"state\": \"RUNNING\"\n}"
    );
}

#[test]
fn doc_json_with_strings_and_variables() {
    let t = ec2_template(concat!(
        "{\n \"instance\" : <instance>,\n \"state\": \"<state>\",\n",
        " \"instanceStatus\": \"instance \\\"<instance>\\\" is in <state>\"\n}"
    ));
    assert_eq!(
        render(&t, &ec2_event()),
        concat!(
            "{\n \"instance\" : \"i-0123456789\",\n \"state\": \"RUNNING\",\n",
            " \"instanceStatus\": \"instance \\\"i-0123456789\\\" is in RUNNING\"\n}"
        )
    );
}

#[test]
fn doc_json_with_mix_of_variables_and_static_information() {
    let t = ec2_template(
        "{\n  \"instance\" : <instance>,\n  \"state\": [ 9, <state>, true ],\n  \"Transformed\" : \"Yes\"\n}",
    );
    let out = render(&t, &ec2_event());
    assert_eq!(
        out,
        "{\n  \"instance\" : \"i-0123456789\",\n  \"state\": [ 9, \"RUNNING\", true ],\n  \"Transformed\" : \"Yes\"\n}"
    );
    assert_eq!(must_be_json(&out)["state"], json!([9, "RUNNING", true]));
}

#[test]
fn doc_reserved_variables_in_json() {
    let t = ec2_template(concat!(
        "{\n  \"instance\" : <instance>,\n  \"state\": <state>,\n",
        "  \"ruleArn\" : <aws.events.rule-arn>,\n  \"ruleName\" : <aws.events.rule-name>,\n",
        "  \"originalEvent\" : <aws.events.event>\n}"
    ));
    let out = render(&t, &ec2_event());
    assert!(out.starts_with(concat!(
        "{\n  \"instance\" : \"i-0123456789\",\n  \"state\": \"RUNNING\",\n",
        "  \"ruleArn\" : \"arn:aws:events:us-east-2:123456789012:rule/example\",\n",
        "  \"ruleName\" : \"example\",\n  \"originalEvent\" : {"
    )));
    let parsed = must_be_json(&out);
    assert_eq!(
        parsed["originalEvent"]["id"],
        "7bf73129-1428-4cd3-a780-95db273d1602"
    );
    assert!(parsed["originalEvent"].get("detail").is_none());
}

#[test]
fn doc_reserved_variables_in_string() {
    let t = ec2_template(r#""<aws.events.rule-name> triggered""#);
    assert_eq!(render(&t, &ec2_event()), r#""example triggered""#);
}

#[test]
fn doc_cloudwatch_log_group_template_is_valid_json() {
    // The docs print this example's output without quotes (a log view); the payload itself
    // is the JSON below.
    let t = ec2_template(
        "{\n  \"timestamp\" : <timestamp>,\n  \"message\": \"instance \\\"<instance>\\\" is in <state>\"\n}",
    );
    assert_eq!(
        render(&t, &ec2_event()),
        "{\n  \"timestamp\" : \"2015-11-11T21:29:54Z\",\n  \"message\": \"instance \\\"i-0123456789\\\" is in RUNNING\"\n}"
    );
}

#[test]
fn doc_tutorial_detail_type() {
    let t = transformer(
        json!({"detail-type": "$.detail-type"}),
        r#""This event was of <detail-type> type.""#,
    );
    let event = json!({"detail-type": "customerCreated", "detail": {}});
    assert_eq!(
        render(&t, &event),
        r#""This event was of customerCreated type.""#
    );
}

fn status_event() -> Value {
    json!({"detail": {"instance": "i-0123456789", "status": "running"}})
}

fn status_paths() -> Value {
    json!({"instance": "$.detail.instance", "status": "$.detail.status"})
}

#[test]
fn api_reference_plain_text_template() {
    let t = transformer(status_paths(), "<instance> is in state <status>");
    assert_eq!(
        render(&t, &status_event()),
        "i-0123456789 is in state running"
    );
}

#[test]
fn api_reference_plain_text_with_quotes() {
    let t = transformer(status_paths(), r#"<instance> is in state "<status>""#);
    assert_eq!(
        render(&t, &status_event()),
        r#"i-0123456789 is in state "running""#
    );
}

#[test]
fn api_reference_json_with_variables_in_quotes_or_out() {
    let t = transformer(
        status_paths(),
        r#"{"myInstance": <instance>,"myStatus": "<instance> is in state \"<status>\""}"#,
    );
    assert_eq!(
        render(&t, &status_event()),
        r#"{"myInstance": "i-0123456789","myStatus": "i-0123456789 is in state \"running\""}"#
    );
}

// --- Predefined variables ---

#[test]
fn predefined_rule_arn_and_name() {
    let t = transformer(
        json!({}),
        r#"{"arn": <aws.events.rule-arn>, "name": "<aws.events.rule-name>"}"#,
    );
    assert_eq!(
        render(&t, &ec2_event()),
        r#"{"arn": "arn:aws:events:us-east-2:123456789012:rule/example", "name": "example"}"#
    );
}

#[test]
fn predefined_ingestion_time() {
    let t = transformer(
        json!({}),
        r#"{"at": <aws.events.event.ingestion-time>, "s": "at <aws.events.event.ingestion-time>"}"#,
    );
    assert_eq!(
        render(&t, &ec2_event()),
        r#"{"at": "2015-11-11T21:29:55.250Z", "s": "at 2015-11-11T21:29:55.250Z"}"#
    );
}

#[test]
fn predefined_event_is_envelope_without_detail() {
    let t = transformer(json!({}), r#"{"originalEvent": <aws.events.event>}"#);
    assert_eq!(
        render(&t, &ec2_event()),
        concat!(
            r#"{"originalEvent": {"id":"7bf73129-1428-4cd3-a780-95db273d1602","account":"123456789012","#,
            r#""detailType":"EC2 Instance State-change Notification","time":"2015-11-11T21:29:55.250Z","#,
            r#""source":"aws.ec2","region":"us-east-1","#,
            r#""resources":["arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"],"version":"0"}}"#
        )
    );
}

#[test]
fn predefined_event_json_is_the_event_text_verbatim() {
    let t = transformer(
        json!({}),
        r#"{"originalEventJson": <aws.events.event.json>}"#,
    );
    let event = ec2_event();
    let event_json = serde_json::to_string(&event).unwrap();
    assert_eq!(
        t.render(&event, &event_json, &ctx()),
        format!(r#"{{"originalEventJson": {event_json}}}"#)
    );
}

#[test]
fn predefined_event_json_inside_a_string_is_not_escaped() {
    // "Can only be used as a value for a JSON field, as its contents are not escaped."
    let t = transformer(json!({}), r#""e=<aws.events.event.json>""#);
    let event = json!({"a": "b"});
    assert_eq!(render(&t, &event), r#""e={"a":"b"}""#);
}

// --- Missing paths, objects and arrays, quoting and escaping ---

#[test]
fn missing_path_in_string_template_adds_nothing() {
    let t = transformer(
        json!({"detail-type": "$.detail-type", "command": "$.detail.notinmessage"}),
        r#""Event of <detail-type> type, info extracted from detail <command>""#,
    );
    let event = json!({"detail-type": "core.update", "detail": {"command": "x"}});
    assert_eq!(
        render(&t, &event),
        r#""Event of core.update type, info extracted from detail ""#
    );
}

#[test]
fn missing_path_in_json_value_position_is_empty_string() {
    let t = transformer(
        json!({"detail-type": "$.detail-type", "command": "$.detail.notinmessage"}),
        r#"{"detailType": <detail-type>,  "command": <command>}"#,
    );
    let event = json!({"detail-type": "core.update", "detail": {}});
    assert_eq!(
        render(&t, &event),
        r#"{"detailType": "core.update",  "command": ""}"#
    );
}

#[test]
fn missing_path_in_plain_text_adds_nothing() {
    let t = transformer(json!({"x": "$.nope"}), "value: <x>!");
    assert_eq!(render(&t, &json!({})), "value: !");
}

#[test]
fn object_inside_string_loses_internal_quotes() {
    let t = transformer(json!({"detail": "$.detail"}), r#""Detail is <detail>""#);
    let event = json!({"detail": {"key1": "value1", "n": [1, "two"]}});
    let out = render(&t, &event);
    assert_eq!(out, r#""Detail is {key1:value1,n:[1,two]}""#);
    must_be_json(&out);
}

#[test]
fn object_and_array_in_json_value_position_are_compact_json() {
    let t = transformer(
        json!({"detail": "$.detail", "res": "$.resources"}),
        "{\n  \"detail\": <detail>,\n  \"res\": <res>\n}",
    );
    let event =
        json!({"resources": ["a", "b"], "detail": {"k": {"n": 1.5, "b": false, "z": null}}});
    assert_eq!(
        render(&t, &event),
        "{\n  \"detail\": {\"k\":{\"n\":1.5,\"b\":false,\"z\":null}},\n  \"res\": [\"a\",\"b\"]\n}"
    );
}

#[test]
fn numbers_booleans_and_null_in_each_position() {
    let t = transformer(
        json!({"n": "$.detail.n", "b": "$.detail.b", "z": "$.detail.z"}),
        r#"{"n": <n>, "b": <b>, "z": <z>, "s": "<n> <b> <z>"}"#,
    );
    let event = json!({"detail": {"n": 42, "b": true, "z": null}});
    assert_eq!(
        render(&t, &event),
        r#"{"n": 42, "b": true, "z": null, "s": "42 true null"}"#
    );
}

#[test]
fn value_with_quotes_is_escaped_in_both_positions() {
    let t = transformer(
        json!({"m": "$.detail.m"}),
        r#"{"raw": <m>, "text": "said <m>"}"#,
    );
    let event = json!({"detail": {"m": "he said \"hi\" \\o/"}});
    let out = render(&t, &event);
    assert_eq!(
        out,
        r#"{"raw": "he said \"hi\" \\o/", "text": "said he said \"hi\" \\o/"}"#
    );
    assert_eq!(must_be_json(&out)["text"], "said he said \"hi\" \\o/");
}

#[test]
fn value_with_newline_and_tab_is_escaped() {
    let t = transformer(json!({"m": "$.detail.m"}), r#""line: <m>""#);
    let event = json!({"detail": {"m": "one\ntwo\tthree"}});
    let out = render(&t, &event);
    assert_eq!(out, r#""line: one\ntwo\tthree""#);
    assert_eq!(must_be_json(&out), json!("line: one\ntwo\tthree"));
}

#[test]
fn unicode_values_pass_through_unescaped() {
    let t = transformer(json!({"m": "$.detail.m"}), r#"{"a": <m>, "b": "<m>!"}"#);
    let event = json!({"detail": {"m": "héllo ✓ 日本 😀"}});
    assert_eq!(
        render(&t, &event),
        r#"{"a": "héllo ✓ 日本 😀", "b": "héllo ✓ 日本 😀!"}"#
    );
}

#[test]
fn multi_line_text_output_with_quoted_lines() {
    // The docs' advice for multi-line text: wrap each line in double quotes.
    let t = transformer(
        json!({"severity": "$.detail.severity", "title": "$.detail.title"}),
        "\"<severity> severity finding <title>\"\n\"Details: <title>\"",
    );
    let event = json!({"detail": {"severity": 8, "title": "Port \"22\" open"}});
    assert_eq!(
        render(&t, &event),
        "\"8 severity finding Port \\\"22\\\" open\"\n\"Details: Port \\\"22\\\" open\""
    );
}

#[test]
fn repeated_placeholder_and_template_whitespace_preserved() {
    let t = transformer(json!({"i": "$.detail.instance-id"}), "[ <i> ,\t<i>\n]");
    assert_eq!(
        render(&t, &ec2_event()),
        "[ \"i-0123456789\" ,\t\"i-0123456789\"\n]"
    );
}

#[test]
fn json_object_template_with_syntax_slip_still_quotes_values() {
    let t = transformer(json!({"i": "$.detail.instance-id"}), "{\"a\": <i>,}");
    assert_eq!(render(&t, &ec2_event()), "{\"a\": \"i-0123456789\",}");
}

#[test]
fn lone_placeholder_template_is_json_value() {
    let t = transformer(json!({"d": "$.detail", "s": "$.detail.state"}), "<s>");
    assert_eq!(render(&t, &ec2_event()), "\"RUNNING\"");
    let t = transformer(json!({"d": "$.detail"}), "<d>");
    assert_eq!(
        render(&t, &ec2_event()),
        r#"{"instance-id":"i-0123456789","state":"RUNNING"}"#
    );
}

#[test]
fn special_starting_characters_in_string_template() {
    let t = transformer(
        json!({"detail-type": "$.detail-type"}),
        r#""{[/Check with special starting characters for event of <detail-type> type""#,
    );
    let event = json!({"detail-type": "core.update"});
    assert_eq!(
        render(&t, &event),
        r#""{[/Check with special starting characters for event of core.update type""#
    );
}

#[test]
fn less_than_that_is_not_a_placeholder_is_text() {
    let t = transformer(json!({"n": "$.detail.n"}), r#""a < b, <n> <> c>d""#);
    assert_eq!(
        render(&t, &json!({"detail": {"n": 3}})),
        r#""a < b, 3 <> c>d""#
    );
}

#[test]
fn wildcard_path_in_template_gives_array() {
    let t = transformer(json!({"ids": "$.detail.items[*].id"}), r#"{"ids": <ids>}"#);
    let event = json!({"detail": {"items": [{"id": 1}, {"x": 0}, {"id": 3}]}});
    assert_eq!(render(&t, &event), r#"{"ids": [1,3]}"#);
}

#[test]
fn compiled_once_render_is_stable() {
    let t = ec2_template(r#"{"i": <instance>}"#);
    let again = t.clone();
    assert_eq!(t, again);
    assert_eq!(render(&t, &ec2_event()), render(&again, &ec2_event()));
    assert_eq!(render(&t, &json!({})), r#"{"i": ""}"#);
}
