//! What PutTargets accepts in a target's `Input`, `InputPath` and `InputTransformer`, and
//! AWS's ValidationException text, word for word, for what it refuses.
//!
//! Each check returns the compiled form the target keeps (the `Input` text, a [`JsonPath`],
//! a [`Template`]), so a target is checked and compiled in one pass and nothing is parsed
//! again per event. Which member wins when several are present is decided by the caller,
//! `InputSpec::from_target`.

use serde_json::{Map, Value};

use super::json_path::JsonPath;
use super::predefined::PREDEFINED;
use super::template::{MAX_TEMPLATE_CHARS, Template};

/// Longest `Input` (TargetInput), in characters.
const MAX_INPUT_CHARS: usize = 8192;
/// Longest `InputPath` and `InputPathsMap` value (TargetInputPath), in characters.
const MAX_PATH_CHARS: usize = 256;
/// Longest `InputPathsMap` key (InputTransformerPathKey), in characters.
const MAX_KEY_CHARS: usize = 256;
/// Most `InputPathsMap` entries (TransformerPaths).
const MAX_PATHS: usize = 100;

/// A present, non-null member.
pub(super) fn member<'a>(target: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    target.get(name).filter(|v| !v.is_null())
}

/// `Input` of target `id`: a string of at most 8192 characters of valid JSON, kept as sent.
pub(super) fn constant_input(id: &str, input: &Value) -> Result<String, String> {
    let Value::String(input) = input else {
        return Err(format!("Input for target {id} must be a string."));
    };
    if input.chars().count() > MAX_INPUT_CHARS {
        return Err(format!(
            "Input for target {id} must be at most {MAX_INPUT_CHARS} characters long."
        ));
    }
    // An empty `Input` (the model allows length 0) parses as "no content" in AWS's JSON
    // reader rather than failing; it is sent as the empty text.
    if input.trim().is_empty() {
        return Ok(input.clone());
    }
    match serde_json::from_str::<Value>(input) {
        Ok(_) => Ok(input.clone()),
        Err(e) => Err(format!(
            "JSON syntax error in input for target {id}: {}",
            jackson_location(input, e.line(), e.column(), e.is_eof())
        )),
    }
}

/// `InputPath` of target `id`: a JSON path of at most 256 characters.
pub(super) fn input_path(id: &str, path: &Value) -> Result<JsonPath, String> {
    let Value::String(path) = path else {
        return Err(format!("InputPath for target {id} must be a string."));
    };
    if path.chars().count() > MAX_PATH_CHARS {
        return Err(format!(
            "InputPath for target {id} must be at most {MAX_PATH_CHARS} characters long."
        ));
    }
    JsonPath::parse(path)
        .ok_or_else(|| format!("InputPath for target {id} is not a valid JSON path."))
}

/// `InputTransformer` of target `id`: an object with an optional `InputPathsMap` and an
/// `InputTemplate` of 1 to 8192 characters whose every placeholder is known.
pub(super) fn input_transformer(id: &str, transformer: &Value) -> Result<Template, String> {
    let Value::Object(transformer) = transformer else {
        return Err(format!(
            "InputTransformer for target {id} must be an object."
        ));
    };
    let paths = match member(transformer, "InputPathsMap") {
        None => Vec::new(),
        Some(Value::Object(map)) => compile_paths(id, map)?,
        Some(_) => {
            return Err(format!("InputPathsMap for target {id} must be an object."));
        }
    };
    let template = match member(transformer, "InputTemplate") {
        Some(Value::String(template)) => template,
        Some(_) => return Err(format!("InputTemplate for target {id} must be a string.")),
        None => return Err(format!("InputTemplate for target {id} must be provided.")),
    };
    let length = template.chars().count();
    if length == 0 || length > MAX_TEMPLATE_CHARS {
        return Err(format!(
            "InputTemplate for target {id} must be 1 to {MAX_TEMPLATE_CHARS} characters long."
        ));
    }
    Template::compile(template, paths).map_err(|name| {
        format!("InputTemplate for target {id} contains invalid placeholder {name}.")
    })
}

/// Checks and compiles `InputPathsMap`: at most 100 entries, keys of 1 to 256 characters of
/// `[A-Za-z0-9_-]` that are not predefined names (the API reference: "The keys cannot start
/// with AWS."), values valid JSON paths of at most 256 characters.
fn compile_paths(id: &str, map: &Map<String, Value>) -> Result<Vec<(String, JsonPath)>, String> {
    if map.len() > MAX_PATHS {
        return Err(format!(
            "InputPathsMap for target {id} has more than {MAX_PATHS} entries."
        ));
    }
    let mut paths = Vec::with_capacity(map.len());
    for (key, path) in map {
        if PREDEFINED.contains(&key.as_str()) || key.to_ascii_lowercase().starts_with("aws.") {
            return Err(format!(
                "InputPathsMap for target {id} contains reserved key {key}."
            ));
        }
        let key_ok = !key.is_empty()
            && key.len() <= MAX_KEY_CHARS
            && key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !key_ok {
            return Err(format!(
                "InputPathsMap for target {id} contains invalid key {key}."
            ));
        }
        let Value::String(path) = path else {
            return Err(format!(
                "InputPathsMap for target {id} must map {key} to a string."
            ));
        };
        let compiled = (path.chars().count() <= MAX_PATH_CHARS)
            .then(|| JsonPath::parse(path))
            .flatten()
            .ok_or_else(|| {
                format!("InputPathsMap for target {id} contains invalid path {path} for key {key}.")
            })?;
        paths.push((key.clone(), compiled));
    }
    Ok(paths)
}

/// AWS reports a bad `Input` as `JSON syntax error in input for target 1: [Source:
/// (String)"env:dev"; line: 1, column: 4]` (its JSON reader's location text). The reader
/// points just past the offending character, or past the whole bad token when that token is
/// a bare word; `serde_json` points at its first character, hence the adjustment.
fn jackson_location(input: &str, line: usize, column: usize, eof: bool) -> String {
    let line_text = input.split('\n').nth(line.saturating_sub(1)).unwrap_or("");
    let at = column.saturating_sub(1).min(line_text.len());
    let at = (0..=at)
        .rev()
        .find(|i| line_text.is_char_boundary(*i))
        .unwrap_or(0);
    let before = line_text[..at].chars().count();
    let rest = &line_text[at..];
    let column = if eof {
        line_text.chars().count() + 1
    } else if rest.starts_with(|c: char| c.is_alphanumeric() || c == '_' || c == '$') {
        let word = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '$')
            .count();
        before + word + 1
    } else {
        before + 2
    };
    // The reader quotes at most 500 characters of the source.
    let total = input.chars().count();
    let source = if total > 500 {
        let shown: String = input.chars().take(500).collect();
        format!("\"{shown}\"[truncated {} chars]", total - 500)
    } else {
        format!("\"{input}\"")
    };
    format!("[Source: (String){source}; line: {line}, column: {column}]")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn input_error(id: &str, input: Value) -> String {
        constant_input(id, &input).expect_err("invalid Input")
    }

    fn input_path_error(id: &str, path: Value) -> String {
        input_path(id, &path).expect_err("invalid InputPath")
    }

    fn input_transformer_error(transformer: Value) -> String {
        input_transformer("t1", &transformer).expect_err("invalid InputTransformer")
    }

    fn transformer_error(paths: Value, template: &str) -> String {
        input_transformer_error(json!({"InputPathsMap": paths, "InputTemplate": template}))
    }

    #[test]
    fn invalid_placeholder_message() {
        let msg = transformer_error(
            json!({"detail-type": "$.detail-type"}),
            r#""Event of <detail-type> type, with not defined key <notdefinedkey>""#,
        );
        assert_eq!(
            msg,
            "InputTemplate for target t1 contains invalid placeholder notdefinedkey."
        );
    }

    #[test]
    fn html_like_tags_are_invalid_placeholders() {
        // "The characters < and > can't be escaped."
        let msg = transformer_error(json!({}), r#""<b>bold</b>""#);
        assert_eq!(
            msg,
            "InputTemplate for target t1 contains invalid placeholder b."
        );
    }

    #[test]
    fn predefined_names_are_case_sensitive_placeholders() {
        let msg = transformer_error(json!({}), "\"<AWS.events.rule-name>\"");
        assert_eq!(
            msg,
            "InputTemplate for target t1 contains invalid placeholder AWS.events.rule-name."
        );
    }

    #[test]
    fn input_not_json_message() {
        assert_eq!(
            input_error("1", json!("env:dev")),
            r#"JSON syntax error in input for target 1: [Source: (String)"env:dev"; line: 1, column: 4]"#
        );
        assert_eq!(
            input_error("clone", json!("{'db_name':'x'}")),
            r#"JSON syntax error in input for target clone: [Source: (String)"{'db_name':'x'}"; line: 1, column: 3]"#
        );
        assert_eq!(
            input_error("t", json!("{\"a\":1")),
            r#"JSON syntax error in input for target t: [Source: (String)"{"a":1"; line: 1, column: 7]"#
        );
    }

    #[test]
    fn input_not_json_long_source_is_truncated() {
        let input = format!("[{}x", "1,".repeat(300));
        let msg = input_error("t", json!(input));
        assert!(
            msg.contains("\"[truncated 102 chars]; line: 1, column: 603]"),
            "{msg}"
        );
    }

    #[test]
    fn input_too_long_and_wrong_type() {
        let long = format!("\"{}\"", "x".repeat(8191));
        assert_eq!(
            input_error("t", json!(long)),
            "Input for target t must be at most 8192 characters long."
        );
        assert_eq!(
            input_error("t", json!(5)),
            "Input for target t must be a string."
        );
        assert_eq!(constant_input("t", &json!("")), Ok(String::new()));
    }

    #[test]
    fn input_path_messages() {
        assert_eq!(
            input_path_error("t", json!("detail")),
            "InputPath for target t is not a valid JSON path."
        );
        assert_eq!(
            input_path_error("t", json!("$..id")),
            "InputPath for target t is not a valid JSON path."
        );
        let long = format!("$.{}", "a".repeat(255));
        assert_eq!(
            input_path_error("t", json!(long)),
            "InputPath for target t must be at most 256 characters long."
        );
        assert_eq!(
            input_path_error("t", json!(["$"])),
            "InputPath for target t must be a string."
        );
    }

    #[test]
    fn input_paths_map_key_messages() {
        assert_eq!(
            transformer_error(json!({"bad key": "$.a"}), "\"x\""),
            "InputPathsMap for target t1 contains invalid key bad key."
        );
        assert_eq!(
            transformer_error(json!({"": "$.a"}), "\"x\""),
            "InputPathsMap for target t1 contains invalid key ."
        );
        let long = "k".repeat(257);
        assert_eq!(
            transformer_error(json!({long.clone(): "$.a"}), "\"x\""),
            format!("InputPathsMap for target t1 contains invalid key {long}.")
        );
        assert!(
            input_transformer(
                "t1",
                &json!({
            "InputPathsMap": {"k".repeat(256): "$.a", "A-z_09": "$.b"}, "InputTemplate": "\"x\""})
            )
            .is_ok()
        );
    }

    #[test]
    fn input_paths_map_reserved_key_messages() {
        for key in ["aws.events.rule-arn", "aws.events.event", "AWS.custom"] {
            assert_eq!(
                transformer_error(json!({key: "$.a"}), "\"x\""),
                format!("InputPathsMap for target t1 contains reserved key {key}.")
            );
        }
    }

    #[test]
    fn input_paths_map_value_messages() {
        assert_eq!(
            transformer_error(json!({"k": "detail.x"}), "\"<k>\""),
            "InputPathsMap for target t1 contains invalid path detail.x for key k."
        );
        let long = format!("$.{}", "a".repeat(255));
        assert_eq!(
            transformer_error(json!({"k": long.clone()}), "\"<k>\""),
            format!("InputPathsMap for target t1 contains invalid path {long} for key k.")
        );
        assert_eq!(
            transformer_error(json!({"k": 1}), "\"<k>\""),
            "InputPathsMap for target t1 must map k to a string."
        );
    }

    #[test]
    fn input_paths_map_at_most_100_entries() {
        let map =
            |n: usize| Value::Object((0..n).map(|i| (format!("k{i}"), json!("$.a"))).collect());
        assert!(
            input_transformer(
                "t1",
                &json!({"InputPathsMap": map(100), "InputTemplate": "\"x\""})
            )
            .is_ok()
        );
        assert_eq!(
            transformer_error(map(101), "\"x\""),
            "InputPathsMap for target t1 has more than 100 entries."
        );
    }

    #[test]
    fn input_template_messages() {
        assert_eq!(
            input_transformer_error(json!({"InputPathsMap": {}})),
            "InputTemplate for target t1 must be provided."
        );
        assert_eq!(
            transformer_error(json!({}), ""),
            "InputTemplate for target t1 must be 1 to 8192 characters long."
        );
        assert_eq!(
            transformer_error(json!({}), &"x".repeat(8193)),
            "InputTemplate for target t1 must be 1 to 8192 characters long."
        );
        assert_eq!(
            input_transformer_error(json!({"InputTemplate": 3})),
            "InputTemplate for target t1 must be a string."
        );
        assert_eq!(
            input_transformer_error(json!("x")),
            "InputTransformer for target t1 must be an object."
        );
        assert_eq!(
            input_transformer_error(json!({"InputPathsMap": [], "InputTemplate": "1"})),
            "InputPathsMap for target t1 must be an object."
        );
    }
}
