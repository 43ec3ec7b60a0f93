//! Model constraints (length, pattern, range, required) checked the way AWS checks them,
//! collected into one `N validation error(s) detected: ...` message. The constraints
//! themselves, one per botocore shape, are in `ops/constraints.rs`.

use std::sync::LazyLock;

use regex::Regex;

use crate::error::ApiError;

/// A shape's type in botocore's model, as `service-2.json` spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShapeKind {
    String,
    List,
    Integer,
}

impl ShapeKind {
    pub fn botocore_type(self) -> &'static str {
        match self {
            ShapeKind::String => "string",
            ShapeKind::List => "list",
            ShapeKind::Integer => "integer",
        }
    }
}

/// What botocore's model says of one shape: bounds (of the length for strings and lists, of
/// the value for integers) and pattern, each absent where the model has none. `shape` is the
/// model's name, so a test can compare the two.
pub struct Constraint {
    pub shape: &'static str,
    pub kind: ShapeKind,
    pub min: Option<i64>,
    pub max: Option<i64>,
    pub pattern: Option<ModelPattern>,
}

/// A model `pattern` constraint: the text AWS prints (botocore's, verbatim) and the anchored
/// regex that checks it.
pub struct ModelPattern {
    pub text: &'static str,
    regex: LazyLock<Regex>,
}

impl ModelPattern {
    /// `compile` builds the anchored regex on first use (see `model_pattern!` in
    /// `ops/constraints.rs`).
    pub const fn new(text: &'static str, compile: fn() -> Regex) -> Self {
        ModelPattern {
            text,
            regex: LazyLock::new(compile),
        }
    }

    pub fn is_match(&self, value: &str) -> bool {
        self.regex.is_match(value)
    }
}

/// Collects constraint violations in the order AWS reports them.
#[derive(Default)]
pub struct Validator {
    errors: Vec<String>,
}

impl Validator {
    pub fn new() -> Self {
        Self::default()
    }

    fn fail(&mut self, value: &str, path: &str, constraint: &str) {
        self.errors.push(format!(
            "Value {value} at '{path}' failed to satisfy constraint: {constraint}"
        ));
    }

    /// A required member that is absent.
    pub fn required<T>(&mut self, value: &Option<T>, path: &str) -> bool {
        if value.is_none() {
            self.fail("null", path, "Member must not be null");
            false
        } else {
            true
        }
    }

    /// A string member: pattern first, then length, as AWS lists them.
    pub fn string(&mut self, value: Option<&str>, path: &str, shape: &Constraint) {
        self.string_with(value, path, shape, false);
    }

    /// A string member that may be sensitive: AWS does not echo secrets in its messages.
    pub fn string_with(
        &mut self,
        value: Option<&str>,
        path: &str,
        shape: &Constraint,
        sensitive: bool,
    ) {
        self.string_at(value, || path.to_string(), shape, sensitive);
    }

    /// `string_with` whose member path is only built when the value fails (PutEvents checks
    /// every entry of every request, and nearly all pass).
    pub fn string_at(
        &mut self,
        value: Option<&str>,
        path: impl Fn() -> String,
        shape: &Constraint,
        sensitive: bool,
    ) {
        self.check_string(value, path, shape, shape.pattern.as_ref(), sensitive);
    }

    /// A string member whose length alone is checked, not the pattern its shape has.
    pub fn string_length(&mut self, value: Option<&str>, path: &str, shape: &Constraint) {
        self.check_string(value, || path.to_string(), shape, None, false);
    }

    fn check_string(
        &mut self,
        value: Option<&str>,
        path: impl Fn() -> String,
        shape: &Constraint,
        pattern: Option<&ModelPattern>,
        sensitive: bool,
    ) {
        let Some(value) = value else { return };
        let quoted = || {
            if sensitive {
                "'*** Sensitive Data Redacted ***'".to_string()
            } else {
                format!("'{value}'")
            }
        };
        if let Some(pattern) = pattern
            && !pattern.is_match(value)
        {
            self.fail(
                &quoted(),
                &path(),
                &format!(
                    "Member must satisfy regular expression pattern: {}",
                    pattern.text
                ),
            );
        }
        let len = value.chars().count() as i64;
        if let Some(min) = shape.min
            && len < min
        {
            self.fail(
                &quoted(),
                &path(),
                &format!("Member must have length greater than or equal to {min}"),
            );
        }
        if let Some(max) = shape.max
            && len > max
        {
            self.fail(
                &quoted(),
                &path(),
                &format!("Member must have length less than or equal to {max}"),
            );
        }
    }

    /// An integer member with an inclusive range.
    pub fn integer(&mut self, value: Option<i64>, path: &str, shape: &Constraint) {
        let Some(value) = value else { return };
        if let Some(min) = shape.min
            && value < min
        {
            self.fail(
                &format!("'{value}'"),
                path,
                &format!("Member must have value greater than or equal to {min}"),
            );
        }
        if let Some(max) = shape.max
            && value > max
        {
            self.fail(
                &format!("'{value}'"),
                path,
                &format!("Member must have value less than or equal to {max}"),
            );
        }
    }

    /// An enum member.
    pub fn one_of(&mut self, value: Option<&str>, path: &str, allowed: &[&str]) {
        let Some(value) = value else { return };
        if !allowed.contains(&value) {
            self.fail(
                &format!("'{value}'"),
                path,
                &format!(
                    "Member must satisfy enum value set: [{}]",
                    allowed.join(", ")
                ),
            );
        }
    }

    /// A list member's length, with the value rendered by the caller (AWS prints the Java
    /// `toString` of the list).
    pub fn list_len(&mut self, rendered: &str, len: usize, path: &str, shape: &Constraint) {
        let len = len as i64;
        if let Some(min) = shape.min
            && len < min
        {
            self.fail(
                &format!("'{rendered}'"),
                path,
                &format!("Member must have length greater than or equal to {min}"),
            );
        }
        if let Some(max) = shape.max
            && len > max
        {
            self.fail(
                &format!("'{rendered}'"),
                path,
                &format!("Member must have length less than or equal to {max}"),
            );
        }
    }

    /// A list member's length, without rendering the list.
    pub fn list(&mut self, len: usize, path: &str, shape: &Constraint) {
        self.list_len("[...]", len, path, shape);
    }

    pub fn finish(self) -> Result<(), ApiError> {
        match self.errors.len() {
            0 => Ok(()),
            1 => Err(ApiError::validation(format!(
                "1 validation error detected: {}",
                self.errors[0]
            ))),
            n => Err(ApiError::validation(format!(
                "{n} validation errors detected: {}",
                self.errors.join("; ")
            ))),
        }
    }
}
