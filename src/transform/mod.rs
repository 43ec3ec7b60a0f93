//! Target input transformation: what one target receives when its rule matches.
//!
//! A target gets the event itself, or (per its configuration) one of:
//! - `Input`: constant JSON text, sent as is;
//! - `InputPath`: the part of the event a JSONPath selects, as compact JSON;
//! - `InputTransformer`: an `InputTemplate` whose `<name>` placeholders are filled from
//!   `InputPathsMap` (name → JSONPath) and the predefined `aws.events.*` variables.
//!
//! Everything is checked and compiled once, at PutTargets time ([`InputSpec::from_target`]);
//! [`InputSpec::render`] runs per delivery and only walks the compiled paths and template
//! parts.
//!
//! This file is the facade the router, the catalog and PutTargets use; the work is in files
//! that each use only the ones listed after them, so no two depend on each other:
//! - `validation`: what PutTargets accepts in the three members, with AWS's messages;
//! - `template`: an `InputTemplate` compiled into text and placeholders, and rendered
//!   (the semantics, from AWS's documentation, are in its module doc);
//! - `predefined`: the `aws.events.*` variables and the [`TransformContext`] they read;
//! - `json_path`: the JSONPath subset, shared with delivery (API destination path
//!   parameters, stream partition keys), hence re-exported here.

mod json_path;
mod predefined;
mod template;
#[cfg(test)]
mod test_fixtures;
mod validation;

use serde_json::{Map, Value};

pub use json_path::JsonPath;
pub use predefined::TransformContext;
pub use template::Template;

use template::compact;
use validation::member;

/// How one target wants its input, validated once at PutTargets time.
#[derive(Debug, Clone, PartialEq)]
pub enum InputSpec {
    Event,
    Constant(String),
    Path(JsonPath),
    Template(Template),
}

impl InputSpec {
    /// Reads and validates the target's `Input` / `InputPath` / `InputTransformer` members
    /// (the raw target object as the client sent it). Err(message) = AWS's ValidationException text.
    ///
    /// The caller rejects targets with more than one of the three; should several still
    /// arrive, `Input` wins over `InputPath`, which wins over `InputTransformer`.
    pub fn from_target(target: &Map<String, Value>) -> Result<InputSpec, String> {
        let id = target.get("Id").and_then(Value::as_str).unwrap_or_default();
        if let Some(input) = member(target, "Input") {
            return validation::constant_input(id, input).map(InputSpec::Constant);
        }
        if let Some(path) = member(target, "InputPath") {
            return validation::input_path(id, path).map(InputSpec::Path);
        }
        if let Some(transformer) = member(target, "InputTransformer") {
            return validation::input_transformer(id, transformer).map(InputSpec::Template);
        }
        Ok(InputSpec::Event)
    }

    /// The payload the target receives, as text: `event_json` is the event serialized, `event` the same parsed.
    pub fn render(&self, event: &Value, event_json: &str, ctx: &TransformContext<'_>) -> String {
        match self {
            InputSpec::Event => event_json.to_owned(),
            InputSpec::Constant(text) => text.clone(),
            // `$` is the event itself: send its text unchanged.
            InputSpec::Path(path) if path.is_root() => event_json.to_owned(),
            // Silent in the docs: a path that matches nothing sends JSON `null`, the JSON
            // spelling of "no such part of the event".
            InputSpec::Path(path) => match path.select(event) {
                Some(value) => compact(&value),
                None => "null".to_owned(),
            },
            InputSpec::Template(template) => template.render(event, event_json, ctx),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    use super::test_fixtures::{ctx, ec2_event};

    fn target(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => panic!("target must be an object"),
        }
    }

    fn spec(value: Value) -> InputSpec {
        InputSpec::from_target(&target(value)).expect("valid target")
    }

    fn render(spec: &InputSpec, event: &Value) -> String {
        spec.render(event, &serde_json::to_string(event).unwrap(), &ctx())
    }

    #[test]
    fn predefined_variables_need_no_input_paths_map() {
        let t = spec(
            json!({"Id": "t1", "InputTransformer": {"InputTemplate": "\"<aws.events.rule-name>\""}}),
        );
        assert_eq!(render(&t, &ec2_event()), "\"example\"");
    }

    // --- Input and InputPath ---

    #[test]
    fn no_input_members_sends_event_verbatim() {
        let s = spec(json!({"Id": "t1", "Arn": "arn", "Input": null}));
        assert_eq!(s, InputSpec::Event);
        assert_eq!(s.render(&json!({"a": 1}), "{\"a\":1}", &ctx()), "{\"a\":1}");
    }

    #[test]
    fn constant_input_sent_as_is() {
        let text = "{ \"kind\" : \"tick\",\n \"n\": 1 }";
        let s = spec(json!({"Id": "t1", "Input": text}));
        assert_eq!(s, InputSpec::Constant(text.to_owned()));
        assert_eq!(render(&s, &ec2_event()), text);
    }

    #[test]
    fn input_path_root_is_the_event_text() {
        let s = spec(json!({"Id": "t1", "InputPath": "$"}));
        assert_eq!(
            s.render(&json!({"a": 1}), "{ \"a\": 1 }", &ctx()),
            "{ \"a\": 1 }"
        );
    }

    #[test]
    fn input_path_nested_object() {
        let s = spec(json!({"Id": "t1", "InputPath": "$.detail"}));
        assert_eq!(
            render(&s, &ec2_event()),
            r#"{"instance-id":"i-0123456789","state":"RUNNING"}"#
        );
    }

    #[test]
    fn input_path_string_value_is_json_string() {
        let s = spec(json!({"Id": "t1", "InputPath": "$.detail.state"}));
        assert_eq!(render(&s, &ec2_event()), "\"RUNNING\"");
    }

    #[test]
    fn input_path_array_index() {
        let event = json!({"detail": {"items": [{"sku": "a"}, {"sku": "b"}]}});
        assert_eq!(
            render(
                &spec(json!({"Id": "t", "InputPath": "$.detail.items[0]"})),
                &event
            ),
            r#"{"sku":"a"}"#
        );
        assert_eq!(
            render(
                &spec(json!({"Id": "t", "InputPath": "$.detail.items[-1].sku"})),
                &event
            ),
            "\"b\""
        );
        assert_eq!(
            render(
                &spec(json!({"Id": "t", "InputPath": "$.resources[0]"})),
                &ec2_event()
            ),
            "\"arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111\""
        );
    }

    #[test]
    fn input_path_bracket_notation() {
        let s = spec(json!({"Id": "t1", "InputPath": "$['detail'][\"instance-id\"]"}));
        assert_eq!(render(&s, &ec2_event()), "\"i-0123456789\"");
    }

    #[test]
    fn input_path_missing_sends_null() {
        for path in [
            "$.detail.nope",
            "$.detail.state.deeper",
            "$.resources[5]",
            "$.detail[0]",
        ] {
            let s = spec(json!({"Id": "t1", "InputPath": path}));
            assert_eq!(render(&s, &ec2_event()), "null", "{path}");
        }
    }
}
