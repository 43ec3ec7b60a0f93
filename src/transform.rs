//! Target input transformation: what one target receives when its rule matches.
//!
//! A target gets the event itself, or (per its configuration) one of:
//! - `Input`: constant JSON text, sent as is;
//! - `InputPath`: the part of the event a JSONPath selects, as compact JSON;
//! - `InputTransformer`: an `InputTemplate` whose `<name>` placeholders are filled from
//!   `InputPathsMap` (name → JSONPath) and the predefined variables
//!   `aws.events.rule-arn`, `aws.events.rule-name`, `aws.events.event.ingestion-time`,
//!   `aws.events.event` and `aws.events.event.json`.
//!
//! Everything is checked and compiled once, at PutTargets time ([`InputSpec::from_target`]);
//! [`InputSpec::render`] only walks the compiled paths and template parts.
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
//!   an `InputPathsMap` key nor a predefined variable is rejected at PutTargets.
//!
//! Where the documentation is silent, the choices are commented at the place they are made.

use std::borrow::Cow;

use serde_json::{Map, Value};

/// Longest `Input` (TargetInput) and `InputTemplate` (TransformerInput), in characters.
const MAX_INPUT_CHARS: usize = 8192;
/// Longest `InputPath` and `InputPathsMap` value (TargetInputPath), in characters.
const MAX_PATH_CHARS: usize = 256;
/// Longest `InputPathsMap` key (InputTransformerPathKey), in characters.
const MAX_KEY_CHARS: usize = 256;
/// Most `InputPathsMap` entries (TransformerPaths).
const MAX_PATHS: usize = 100;

const RULE_ARN: &str = "aws.events.rule-arn";
const RULE_NAME: &str = "aws.events.rule-name";
const INGESTION_TIME: &str = "aws.events.event.ingestion-time";
const EVENT: &str = "aws.events.event";
const EVENT_JSON: &str = "aws.events.event.json";
const PREDEFINED: [&str; 5] = [RULE_ARN, RULE_NAME, INGESTION_TIME, EVENT, EVENT_JSON];

/// How one target wants its input, validated once at PutTargets time.
#[derive(Debug, Clone, PartialEq)]
pub enum InputSpec {
    Event,
    Constant(String),
    Path(JsonPath),
    Template(Template),
}

/// Context a template may refer to.
pub struct TransformContext<'a> {
    pub rule_arn: &'a str,
    pub rule_name: &'a str,
    pub ingestion_time_ms: i64,
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
            let Value::String(input) = input else {
                return Err(format!("Input for target {id} must be a string."));
            };
            return check_constant(id, input).map(|()| InputSpec::Constant(input.clone()));
        }
        if let Some(path) = member(target, "InputPath") {
            let Value::String(path) = path else {
                return Err(format!("InputPath for target {id} must be a string."));
            };
            if path.chars().count() > MAX_PATH_CHARS {
                return Err(format!(
                    "InputPath for target {id} must be at most {MAX_PATH_CHARS} characters long."
                ));
            }
            return JsonPath::parse(path)
                .map(InputSpec::Path)
                .ok_or_else(|| format!("InputPath for target {id} is not a valid JSON path."));
        }
        if let Some(transformer) = member(target, "InputTransformer") {
            let Value::Object(transformer) = transformer else {
                return Err(format!(
                    "InputTransformer for target {id} must be an object."
                ));
            };
            return Template::from_transformer(id, transformer).map(InputSpec::Template);
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

/// A present, non-null member.
fn member<'a>(target: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    target.get(name).filter(|v| !v.is_null())
}

/// `Input` must be at most 8192 characters of valid JSON.
fn check_constant(id: &str, input: &str) -> Result<(), String> {
    if input.chars().count() > MAX_INPUT_CHARS {
        return Err(format!(
            "Input for target {id} must be at most {MAX_INPUT_CHARS} characters long."
        ));
    }
    // An empty `Input` (the model allows length 0) parses as "no content" in AWS's JSON
    // reader rather than failing; it is sent as the empty text.
    if input.trim().is_empty() {
        return Ok(());
    }
    match serde_json::from_str::<Value>(input) {
        Ok(_) => Ok(()),
        Err(e) => Err(format!(
            "JSON syntax error in input for target {id}: {}",
            jackson_location(input, e.line(), e.column(), e.is_eof())
        )),
    }
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

/// Compact JSON text of a value (object keys keep the event's order).
fn compact(value: &Value) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------
// JSONPath
// ---------------------------------------------------------------------------------------

/// A compiled JSONPath, the subset EventBridge documents: `$`, dot notation (names with
/// letters, digits, dashes, underscores, slashes and other non-separator characters), array
/// indices (`[0]`, and `[-1]` from the end), bracketed names (`['detail-type']`) and the
/// wildcard (`.*`, `[*]`).
#[derive(Debug, Clone, PartialEq)]
pub struct JsonPath {
    text: String,
    steps: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq)]
enum Step {
    Key(String),
    Index(i64),
    Wildcard,
}

impl JsonPath {
    /// Compiles a path; `None` when it is not one EventBridge can evaluate. Deep scan (`..`),
    /// slices, unions and filters are not in the documented subset and are refused.
    pub fn parse(text: &str) -> Option<JsonPath> {
        let rest = text.strip_prefix('$')?;
        let chars: Vec<char> = rest.chars().collect();
        let mut steps = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            match chars[i] {
                '.' => {
                    i += 1;
                    let start = i;
                    while i < chars.len() && is_name_char(chars[i]) {
                        i += 1;
                    }
                    if start == i {
                        return None; // `$.`, `$..x`, `$.[0]`
                    }
                    let name: String = chars[start..i].iter().collect();
                    steps.push(if name == "*" {
                        Step::Wildcard
                    } else {
                        Step::Key(name)
                    });
                }
                '[' => {
                    let close = i + chars[i..].iter().position(|c| *c == ']')?;
                    let inner: String = chars[i + 1..close].iter().collect();
                    steps.push(bracket_step(&inner)?);
                    i = close + 1;
                }
                _ => return None,
            }
        }
        Some(JsonPath {
            text: text.to_owned(),
            steps,
        })
    }

    /// The path as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the path is `$`, the whole event.
    pub fn is_root(&self) -> bool {
        self.steps.is_empty()
    }

    /// What the path selects in `root`. A path without wildcards selects one value or nothing;
    /// a path with a wildcard selects the array of everything it reaches (possibly empty), the
    /// way JSONPath evaluators treat indefinite paths.
    pub fn select<'a>(&self, root: &'a Value) -> Option<Cow<'a, Value>> {
        if !self.steps.contains(&Step::Wildcard) {
            let mut current = root;
            for step in &self.steps {
                current = step_one(current, step)?;
            }
            return Some(Cow::Borrowed(current));
        }
        let mut current = vec![root];
        for step in &self.steps {
            let mut next = Vec::new();
            for value in current {
                match step {
                    Step::Wildcard => match value {
                        Value::Object(map) => next.extend(map.values()),
                        Value::Array(items) => next.extend(items.iter()),
                        _ => {}
                    },
                    _ => next.extend(step_one(value, step)),
                }
            }
            current = next;
        }
        Some(Cow::Owned(Value::Array(
            current.into_iter().cloned().collect(),
        )))
    }
}

/// A character of a dot-notation name: anything but the path's own punctuation and spaces.
fn is_name_char(c: char) -> bool {
    !matches!(c, '.' | '[' | ']' | '\'' | '"') && !c.is_whitespace() && !c.is_control()
}

/// The step inside `[...]`: an index, `*`, or a quoted name.
fn bracket_step(inner: &str) -> Option<Step> {
    if inner == "*" {
        return Some(Step::Wildcard);
    }
    for quote in ['\'', '"'] {
        if let Some(name) = inner
            .strip_prefix(quote)
            .and_then(|s| s.strip_suffix(quote))
        {
            if name.is_empty() || name.contains(quote) {
                return None;
            }
            return Some(Step::Key(name.to_owned()));
        }
    }
    let digits = inner.strip_prefix('-').unwrap_or(inner);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    inner.parse().ok().map(Step::Index)
}

/// One non-wildcard step: a member of an object or an element of an array.
fn step_one<'a>(value: &'a Value, step: &Step) -> Option<&'a Value> {
    match (step, value) {
        (Step::Key(name), Value::Object(map)) => map.get(name),
        (Step::Index(index), Value::Array(items)) => {
            let index = if *index < 0 {
                items.len().checked_sub(index.unsigned_abs() as usize)?
            } else {
                usize::try_from(*index).ok()?
            };
            items.get(index)
        }
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------
// Templates
// ---------------------------------------------------------------------------------------

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
    fn from_transformer(id: &str, transformer: &Map<String, Value>) -> Result<Template, String> {
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
        if length == 0 || length > MAX_INPUT_CHARS {
            return Err(format!(
                "InputTemplate for target {id} must be 1 to {MAX_INPUT_CHARS} characters long."
            ));
        }
        Template::compile(id, template, paths)
    }

    /// Splits the template into text and placeholders, resolving every placeholder.
    fn compile(
        id: &str,
        template: &str,
        paths: Vec<(String, JsonPath)>,
    ) -> Result<Template, String> {
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
                    let source = resolve(name, &paths).ok_or_else(|| {
                        format!(
                            "InputTemplate for target {id} contains invalid placeholder {name}."
                        )
                    })?;
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

    fn render(&self, event: &Value, event_json: &str, ctx: &TransformContext<'_>) -> String {
        // Each path is evaluated at most once, however often its placeholder appears.
        let mut found: Vec<Option<Option<Cow<'_, Value>>>> = vec![None; self.paths.len()];
        let mut out = String::with_capacity(event_json.len().min(MAX_INPUT_CHARS));
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

/// `aws.events.event`: "the original event payload as JSON (without the detail field)". AWS
/// sends its own view of the envelope, recorded as `id, account, detailType, time, source,
/// region, resources, version` (note `detailType`); fields the event lacks are left out.
/// Silent in the docs: `time` is the ingestion time here (in the same form as
/// `aws.events.event.ingestion-time`), as in AWS's recorded output, where it differs from the
/// event's own `time`.
fn event_without_detail(event: &Value, ctx: &TransformContext<'_>) -> Value {
    let mut out = Map::new();
    let field = |name: &str| event.get(name).cloned();
    for (name, value) in [
        ("id", field("id")),
        ("account", field("account")),
        ("detailType", field("detail-type")),
        (
            "time",
            Some(Value::String(iso_instant(ctx.ingestion_time_ms))),
        ),
        ("source", field("source")),
        ("region", field("region")),
        ("resources", field("resources")),
        ("version", field("version")),
    ] {
        if let Some(value) = value {
            out.insert(name.to_owned(), value);
        }
    }
    Value::Object(out)
}

/// An instant as ISO 8601 in UTC. The docs only say "ISO 8601 timestamp"; this is the usual
/// instant form: whole seconds as `2015-11-11T21:29:54Z`, otherwise with milliseconds,
/// `2015-11-11T21:29:54.123Z`.
fn iso_instant(ms: i64) -> String {
    let at = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let format = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    let mut text = at.format(&format).unwrap_or_default();
    let millis = at.millisecond();
    if millis != 0 {
        text.push_str(&format!(".{millis:03}"));
    }
    text.push('Z');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const RULE_ARN_VALUE: &str = "arn:aws:events:us-east-2:123456789012:rule/example";
    /// 2015-11-11T21:29:55.250Z
    const INGESTED_MS: i64 = 1_447_277_395_250;

    fn ctx() -> TransformContext<'static> {
        TransformContext {
            rule_arn: RULE_ARN_VALUE,
            rule_name: "example",
            ingestion_time_ms: INGESTED_MS,
        }
    }

    /// The EC2 instance state-change event of "Amazon EventBridge input transformation".
    fn ec2_event() -> Value {
        json!({
            "version": "0",
            "id": "7bf73129-1428-4cd3-a780-95db273d1602",
            "detail-type": "EC2 Instance State-change Notification",
            "source": "aws.ec2",
            "account": "123456789012",
            "time": "2015-11-11T21:29:54Z",
            "region": "us-east-1",
            "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"],
            "detail": {"instance-id": "i-0123456789", "state": "RUNNING"}
        })
    }

    fn target(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => panic!("target must be an object"),
        }
    }

    fn spec(value: Value) -> InputSpec {
        InputSpec::from_target(&target(value)).expect("valid target")
    }

    fn error(value: Value) -> String {
        InputSpec::from_target(&target(value)).expect_err("invalid target")
    }

    fn render(spec: &InputSpec, event: &Value) -> String {
        spec.render(event, &serde_json::to_string(event).unwrap(), &ctx())
    }

    /// A transformer over the docs' input paths (`timestamp`, `instance`, `state`).
    fn ec2_template(template: &str) -> InputSpec {
        spec(json!({
            "Id": "t1",
            "Arn": "arn:aws:sqs:us-east-1:123456789012:q",
            "InputTransformer": {
                "InputPathsMap": {
                    "timestamp": "$.time",
                    "instance": "$.detail.instance-id",
                    "state": "$.detail.state"
                },
                "InputTemplate": template
            }
        }))
    }

    fn transformer(paths: Value, template: &str) -> InputSpec {
        spec(json!({
            "Id": "t1",
            "InputTransformer": {"InputPathsMap": paths, "InputTemplate": template}
        }))
    }

    fn transformer_error(paths: Value, template: &str) -> String {
        error(json!({
            "Id": "t1",
            "InputTransformer": {"InputPathsMap": paths, "InputTemplate": template}
        }))
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
    fn ingestion_time_whole_seconds_has_no_fraction() {
        assert_eq!(iso_instant(1_447_277_394_000), "2015-11-11T21:29:54Z");
        assert_eq!(iso_instant(1_447_277_394_007), "2015-11-11T21:29:54.007Z");
        assert_eq!(iso_instant(0), "1970-01-01T00:00:00Z");
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

    #[test]
    fn predefined_variables_need_no_input_paths_map() {
        let t = spec(
            json!({"Id": "t1", "InputTransformer": {"InputTemplate": "\"<aws.events.rule-name>\""}}),
        );
        assert_eq!(render(&t, &ec2_event()), "\"example\"");
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

    #[test]
    fn json_path_grammar() {
        for ok in [
            "$",
            "$.a",
            "$.a-b_c",
            "$.a/b",
            "$.a[0]",
            "$.a[*]",
            "$.*",
            "$['a b']",
            "$.a[-2].b",
            "$[0]",
        ] {
            assert!(JsonPath::parse(ok).is_some(), "{ok}");
        }
        for bad in [
            "", "detail", "$.", "$..a", "$.a.", "$.a[", "$.a[x]", "$.a[0:2]", "$.a b", "$a",
            "$['a]",
        ] {
            assert!(JsonPath::parse(bad).is_none(), "{bad}");
        }
        assert_eq!(JsonPath::parse("$.a[0]").unwrap().as_str(), "$.a[0]");
    }

    // --- Validation messages ---

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
            error(json!({"Id": "1", "Input": "env:dev"})),
            r#"JSON syntax error in input for target 1: [Source: (String)"env:dev"; line: 1, column: 4]"#
        );
        assert_eq!(
            error(json!({"Id": "clone", "Input": "{'db_name':'x'}"})),
            r#"JSON syntax error in input for target clone: [Source: (String)"{'db_name':'x'}"; line: 1, column: 3]"#
        );
        assert_eq!(
            error(json!({"Id": "t", "Input": "{\"a\":1"})),
            r#"JSON syntax error in input for target t: [Source: (String)"{"a":1"; line: 1, column: 7]"#
        );
    }

    #[test]
    fn input_not_json_long_source_is_truncated() {
        let input = format!("[{}x", "1,".repeat(300));
        let msg = error(json!({"Id": "t", "Input": input}));
        assert!(
            msg.contains("\"[truncated 102 chars]; line: 1, column: 603]"),
            "{msg}"
        );
    }

    #[test]
    fn input_too_long_and_wrong_type() {
        let long = format!("\"{}\"", "x".repeat(8191));
        assert_eq!(
            error(json!({"Id": "t", "Input": long})),
            "Input for target t must be at most 8192 characters long."
        );
        assert_eq!(
            error(json!({"Id": "t", "Input": 5})),
            "Input for target t must be a string."
        );
        assert_eq!(
            spec(json!({"Id": "t", "Input": ""})),
            InputSpec::Constant(String::new())
        );
    }

    #[test]
    fn input_path_messages() {
        assert_eq!(
            error(json!({"Id": "t", "InputPath": "detail"})),
            "InputPath for target t is not a valid JSON path."
        );
        assert_eq!(
            error(json!({"Id": "t", "InputPath": "$..id"})),
            "InputPath for target t is not a valid JSON path."
        );
        let long = format!("$.{}", "a".repeat(255));
        assert_eq!(
            error(json!({"Id": "t", "InputPath": long})),
            "InputPath for target t must be at most 256 characters long."
        );
        assert_eq!(
            error(json!({"Id": "t", "InputPath": ["$"]})),
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
        assert!(InputSpec::from_target(&target(json!({"Id": "t1", "InputTransformer": {
            "InputPathsMap": {"k".repeat(256): "$.a", "A-z_09": "$.b"}, "InputTemplate": "\"x\""}}))).is_ok());
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
            InputSpec::from_target(&target(json!({"Id": "t1", "InputTransformer": {
            "InputPathsMap": map(100), "InputTemplate": "\"x\""}})))
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
            error(json!({"Id": "t1", "InputTransformer": {"InputPathsMap": {}}})),
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
            error(json!({"Id": "t1", "InputTransformer": {"InputTemplate": 3}})),
            "InputTemplate for target t1 must be a string."
        );
        assert_eq!(
            error(json!({"Id": "t1", "InputTransformer": "x"})),
            "InputTransformer for target t1 must be an object."
        );
        assert_eq!(
            error(
                json!({"Id": "t1", "InputTransformer": {"InputPathsMap": [], "InputTemplate": "1"}})
            ),
            "InputPathsMap for target t1 must be an object."
        );
    }

    #[test]
    fn compiled_once_render_is_stable() {
        let t = ec2_template(r#"{"i": <instance>}"#);
        let again = t.clone();
        assert_eq!(t, again);
        assert_eq!(render(&t, &ec2_event()), render(&again, &ec2_event()));
        assert_eq!(render(&t, &json!({})), r#"{"i": ""}"#);
    }
}
