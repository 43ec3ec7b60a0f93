//! `InputTransformer` templates: an `InputTemplate` compiled once into literal text and
//! placeholders, then rendered per event.
//!
//! Semantics follow the EventBridge user guide ("Amazon EventBridge input transformation",
//! its "Common issues" list, the input transformer tutorial) and the API reference
//! (`InputTransformer`, `Target`):
//! - A placeholder outside any JSON string in a JSON template takes the value as JSON
//!   (strings get their quotes: `{"instance": <instance>}` → `{"instance": "i-0123"}`;
//!   objects and arrays are inserted as compact JSON).
//! - A placeholder inside a JSON string takes the value's text (`"state <state>"`); an object
//!   or array there loses its internal quotes ("EventBridge removes any internal quotes to
//!   ensure a valid string").
//! - A variable whose path matches nothing "isn't created and won't appear in the output":
//!   inside a string it adds nothing, in a JSON value position it becomes `""` (what AWS
//!   delivered for `{"command": <command>}` with a missing path).
//! - `aws.events.event` / `aws.events.event.json` "can only be used as a value for a JSON
//!   field, as their contents are not escaped": they are always inserted as raw JSON.
//! - The template keeps its own text (whitespace, key order); only placeholders change.
//! - `<` and `>` cannot be escaped: every `<name>` is a placeholder, and one that is neither
//!   an `InputPathsMap` key nor a predefined variable is refused (`Template::compile`
//!   returns its name; the PutTargets checks word the message).
//!
//! Where the documentation is silent, the choices are commented at the place they are made.
//! The tests (the documented examples among them) are in `template_tests.rs`, to keep this
//! file to the code.

use std::borrow::Cow;

use serde_json::Value;

use super::json_path::JsonPath;
use super::predefined::{
    EVENT, EVENT_JSON, INGESTION_TIME, RULE_ARN, RULE_NAME, TransformContext, event_without_detail,
    iso_instant,
};

/// Longest `InputTemplate` (TransformerInput), in characters: checked at PutTargets, and the
/// bound on the first allocation of a rendered payload.
pub(super) const MAX_TEMPLATE_CHARS: usize = 8192;

/// A compiled `InputTransformer`: the template split into literal text and placeholders,
/// each placeholder knowing what it refers to and how its value must be written.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    /// `InputPathsMap`, in the order the client sent it.
    paths: Vec<(String, JsonPath)>,
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Text(String),
    Slot(Source, Context),
}

/// What a placeholder refers to.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Source {
    /// An `InputPathsMap` entry, by position.
    Path(usize),
    RuleArn,
    RuleName,
    IngestionTime,
    Event,
    EventJson,
}

/// Where a placeholder stands, which decides how its value is written.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Context {
    /// Outside any string in a JSON template: the value as JSON.
    Json,
    /// Inside a JSON string (between unescaped `"`): the value's text, escaped for the string.
    Quoted,
    /// Outside any string in a template that is not JSON: the value's plain text.
    Plain,
}

impl Template {
    /// Splits the template into text and placeholders, resolving every placeholder.
    /// `Err` is the first placeholder name that is neither an `InputPathsMap` key nor a
    /// predefined variable.
    pub(super) fn compile(
        template: &str,
        paths: Vec<(String, JsonPath)>,
    ) -> Result<Template, &str> {
        let mut raw: Vec<RawPart> = Vec::new();
        let bytes = template.as_bytes();
        let (mut i, mut text_start, mut in_string) = (0, 0, false);
        while i < bytes.len() {
            if bytes[i] == b'<'
                && let Some(len) = placeholder_len(&bytes[i + 1..])
            {
                raw.push(RawPart::Text(&template[text_start..i]));
                raw.push(RawPart::Slot(&template[i + 1..i + 1 + len], in_string));
                i += len + 2;
                text_start = i;
                continue;
            }
            match (in_string, bytes[i]) {
                (true, b'\\') => i += 1, // skip the escaped character
                (true, b'"') => in_string = false,
                (false, b'"') => in_string = true,
                _ => {}
            }
            i += 1;
        }
        raw.push(RawPart::Text(&template[text_start..]));

        let is_json = is_json_template(template, &raw);
        let mut parts = Vec::with_capacity(raw.len());
        for part in raw {
            match part {
                RawPart::Text("") => {}
                RawPart::Text(text) => parts.push(Part::Text(text.to_owned())),
                RawPart::Slot(name, quoted) => {
                    let source = resolve(name, &paths).ok_or(name)?;
                    let context = match (quoted, is_json) {
                        (true, _) => Context::Quoted,
                        (false, true) => Context::Json,
                        (false, false) => Context::Plain,
                    };
                    parts.push(Part::Slot(source, context));
                }
            }
        }
        Ok(Template { paths, parts })
    }

    /// The payload for one event: `event_json` is the event serialized, `event` the same parsed.
    pub(super) fn render(
        &self,
        event: &Value,
        event_json: &str,
        ctx: &TransformContext<'_>,
    ) -> String {
        // Each path is evaluated at most once, however often its placeholder appears.
        let mut found: Vec<Option<Option<Cow<'_, Value>>>> = vec![None; self.paths.len()];
        let mut out = String::with_capacity(event_json.len().min(MAX_TEMPLATE_CHARS));
        for part in &self.parts {
            let (source, context) = match part {
                Part::Text(text) => {
                    out.push_str(text);
                    continue;
                }
                Part::Slot(source, context) => (*source, *context),
            };
            match source {
                Source::Path(index) => {
                    let value = found[index]
                        .get_or_insert_with(|| self.paths[index].1.select(event))
                        .as_deref();
                    write_value(&mut out, context, value);
                }
                Source::RuleArn => write_text(&mut out, context, ctx.rule_arn),
                Source::RuleName => write_text(&mut out, context, ctx.rule_name),
                Source::IngestionTime => {
                    write_text(&mut out, context, &iso_instant(ctx.ingestion_time_ms));
                }
                // Raw JSON wherever it stands: the docs say these contents are not escaped.
                Source::Event => out.push_str(&compact(&event_without_detail(event, ctx))),
                Source::EventJson => out.push_str(event_json),
            }
        }
        out
    }
}

/// A template piece before its placeholder is resolved: text, or a name and whether it
/// stands inside a JSON string.
enum RawPart<'a> {
    Text(&'a str),
    Slot(&'a str, bool),
}

/// The length of the name in a `<name>` starting just after `<`, if one is there. A name is
/// one or more characters other than `<`, `>`, `"` and whitespace; a `<` that does not open
/// such a name (`a < b`, `<>`) is ordinary text.
fn placeholder_len(after_open: &[u8]) -> Option<usize> {
    let len = after_open
        .iter()
        .position(|b| matches!(b, b'<' | b'>' | b'"') || b.is_ascii_whitespace())?;
    (len > 0 && after_open[len] == b'>').then_some(len)
}

/// Whether the template is JSON: with every placeholder replaced by a neutral JSON value
/// (`null` outside strings, nothing inside them) it parses as one JSON value. The docs are
/// silent on templates that are not JSON (`<instance> is in state <status>` in the API
/// reference); there a placeholder outside quotes takes the value's plain text. A template
/// that opens with `{` or `[` is taken for JSON even with a syntax slip (a trailing comma),
/// so its values keep their JSON form.
fn is_json_template(template: &str, raw: &[RawPart<'_>]) -> bool {
    if template.trim_start().starts_with(['{', '[']) {
        return true;
    }
    let mut probe = String::with_capacity(template.len());
    for part in raw {
        match part {
            RawPart::Text(text) => probe.push_str(text),
            RawPart::Slot(_, true) => {}
            RawPart::Slot(_, false) => probe.push_str("null"),
        }
    }
    serde_json::from_str::<Value>(&probe).is_ok()
}

/// What a placeholder name refers to: an `InputPathsMap` key or a predefined variable.
fn resolve(name: &str, paths: &[(String, JsonPath)]) -> Option<Source> {
    if let Some(index) = paths.iter().position(|(key, _)| key == name) {
        return Some(Source::Path(index));
    }
    match name {
        RULE_ARN => Some(Source::RuleArn),
        RULE_NAME => Some(Source::RuleName),
        INGESTION_TIME => Some(Source::IngestionTime),
        EVENT => Some(Source::Event),
        EVENT_JSON => Some(Source::EventJson),
        _ => None,
    }
}

/// Writes an `InputPathsMap` value (or its absence) where its placeholder stands.
fn write_value(out: &mut String, context: Context, value: Option<&Value>) {
    let Some(value) = value else {
        // The variable "isn't created and won't appear in the output". In a JSON value
        // position AWS fills the hole with `""` so the payload stays JSON.
        if context == Context::Json {
            out.push_str("\"\"");
        }
        return;
    };
    match (context, value) {
        (Context::Json, _) => out.push_str(&compact(value)),
        (Context::Quoted, Value::String(s)) => push_escaped(out, s),
        (Context::Quoted, Value::Object(_) | Value::Array(_)) => push_unquoted(out, value),
        (Context::Plain, Value::String(s)) => out.push_str(s),
        // Numbers, booleans and null read the same as text; objects and arrays in plain text
        // keep their JSON form (nothing there asks for quotes to be removed).
        (Context::Quoted | Context::Plain, _) => out.push_str(&compact(value)),
    }
}

/// Writes a predefined text variable (rule ARN, rule name, ingestion time).
fn write_text(out: &mut String, context: Context, text: &str) {
    match context {
        Context::Json => {
            out.push('"');
            push_escaped(out, text);
            out.push('"');
        }
        Context::Quoted => push_escaped(out, text),
        Context::Plain => out.push_str(text),
    }
}

/// `text` escaped as JSON string content (quotes, backslashes, control characters; other
/// characters, non-ASCII included, as they are), without the surrounding quotes. The docs'
/// "The JSON that is passed to the target is minified and escaped": a value with a quote or a
/// newline cannot break the string it is placed in.
fn push_escaped(out: &mut String, text: &str) {
    let quoted = serde_json::to_string(text).unwrap_or_default();
    out.push_str(&quoted[1..quoted.len() - 1]);
}

/// An object or array inside a string: its compact JSON without the quotes around its keys
/// and strings ("EventBridge removes any internal quotes to ensure a valid string"), so
/// `{"key1":"value1"}` reads `{key1:value1}`. The contents stay escaped, so the enclosing
/// string stays valid.
fn push_unquoted(out: &mut String, value: &Value) {
    match value {
        Value::String(s) => push_escaped(out, s),
        Value::Object(map) => {
            out.push('{');
            for (i, (key, value)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                push_escaped(out, key);
                out.push(':');
                push_unquoted(out, value);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                push_unquoted(out, item);
            }
            out.push(']');
        }
        _ => out.push_str(&compact(value)),
    }
}

/// Compact JSON text of a value (object keys keep the event's order).
pub(super) fn compact(value: &Value) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

#[cfg(test)]
#[path = "template_tests.rs"]
mod tests;
