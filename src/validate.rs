//! Model constraints (length, pattern, range, required) checked the way AWS checks them,
//! collected into one `N validation error(s) detected: ...` message.

use std::sync::LazyLock;

use regex::Regex;

use crate::error::ApiError;

/// A model `pattern` constraint: the text AWS prints and the anchored regex that checks it.
pub struct NamePattern {
    pub text: &'static str,
    regex: LazyLock<Regex>,
}

impl NamePattern {
    pub fn is_match(&self, value: &str) -> bool {
        self.regex.is_match(value)
    }
}

macro_rules! model_pattern {
    ($name:ident, $text:literal) => {
        pub static $name: NamePattern = NamePattern {
            text: $text,
            regex: LazyLock::new(|| {
                Regex::new(concat!("^(?:", $text, ")$")).expect("model pattern")
            }),
        };
    };
}

model_pattern!(RESOURCE_NAME, r"[\.\-_A-Za-z0-9]+");
model_pattern!(EVENT_BUS_NAME, r"[/\.\-_A-Za-z0-9]+");
model_pattern!(
    EVENT_BUS_NAME_OR_ARN,
    r"(arn:aws[\w-]*:events:[a-z]+-[a-z]+-[\w-]+:[0-9]{12}:event-bus\/)?[/\.\-_A-Za-z0-9]+"
);
model_pattern!(
    NON_PARTNER_EVENT_BUS_NAME_OR_ARN,
    r"(arn:aws[\w-]*:events:[a-z]+-[a-z]+-[\w-]+:[0-9]{12}:event-bus\/)?[\.\-_A-Za-z0-9]+"
);
model_pattern!(
    EVENT_BUS_ARN,
    r"^arn:aws([a-z]|\-)*:events:([a-z]|\d|\-)*:([0-9]{12})?:.+\/.+$"
);
model_pattern!(
    REPLAY_ARN,
    r"^arn:aws([a-z]|\-)*:events:([a-z]|\d|\-)*:([0-9]{12})?:.+\/[\.\-_A-Za-z0-9]+$"
);
model_pattern!(EVENT_SOURCE_NAME, r"aws\.partner(/[\.\-_A-Za-z0-9]+){2,}");
model_pattern!(KMS_KEY_IDENTIFIER, r"^[a-zA-Z0-9_\-/:]*$");
model_pattern!(ANY_TEXT, r"(?s).*");
model_pattern!(
    AUTH_HEADER_PARAMETER,
    r"^[ \t]*[^\x00-\x1F:\x7F]+([ \t]+[^\x00-\x1F:\x7F]+)*[ \t]*$"
);
model_pattern!(
    HTTPS_ENDPOINT,
    r"^((%[0-9A-Fa-f]{2}|[-()_.!~*';/?:@\x26=+$,A-Za-z0-9])+)([).!';/?:,])?$"
);
model_pattern!(HEADER_KEY, r"^[!#$%&'*+-.^_`|~0-9a-zA-Z]+$");
model_pattern!(
    HEADER_VALUE,
    r"^[ \t]*[\x20-\x7E]+([ \t]+[\x20-\x7E]+)*[ \t]*$"
);
model_pattern!(QUERY_STRING_KEY, r"[^\x00-\x1F\x7F]+");
model_pattern!(QUERY_STRING_VALUE, r"[^\x00-\x09\x0B\x0C\x0E-\x1F\x7F]+");
model_pattern!(
    CONNECTION_ARN,
    r"^arn:aws([a-z]|\-)*:events:([a-z]|\d|\-)*:([0-9]{12})?:connection\/[\.\-_A-Za-z0-9]+\/[\-A-Za-z0-9]+$"
);

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
    pub fn string(
        &mut self,
        value: Option<&str>,
        path: &str,
        min: usize,
        max: usize,
        pattern: Option<&NamePattern>,
    ) {
        self.string_with(value, path, min, max, pattern, false);
    }

    /// A string member that may be sensitive: AWS does not echo secrets in its messages.
    pub fn string_with(
        &mut self,
        value: Option<&str>,
        path: &str,
        min: usize,
        max: usize,
        pattern: Option<&NamePattern>,
        sensitive: bool,
    ) {
        self.string_at(value, || path.to_string(), min, max, pattern, sensitive);
    }

    /// `string_with` whose member path is only built when the value fails (PutEvents checks
    /// every entry of every request, and nearly all pass).
    pub fn string_at(
        &mut self,
        value: Option<&str>,
        path: impl Fn() -> String,
        min: usize,
        max: usize,
        pattern: Option<&NamePattern>,
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
        let len = value.chars().count();
        if len < min {
            self.fail(
                &quoted(),
                &path(),
                &format!("Member must have length greater than or equal to {min}"),
            );
        }
        if len > max {
            self.fail(
                &quoted(),
                &path(),
                &format!("Member must have length less than or equal to {max}"),
            );
        }
    }

    /// An integer member with an inclusive range.
    pub fn integer(&mut self, value: Option<i64>, path: &str, min: Option<i64>, max: Option<i64>) {
        let Some(value) = value else { return };
        if let Some(min) = min
            && value < min
        {
            self.fail(
                &format!("'{value}'"),
                path,
                &format!("Member must have value greater than or equal to {min}"),
            );
        }
        if let Some(max) = max
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
    pub fn list_len(&mut self, rendered: &str, len: usize, path: &str, min: usize, max: usize) {
        if len < min {
            self.fail(
                &format!("'{rendered}'"),
                path,
                &format!("Member must have length greater than or equal to {min}"),
            );
        }
        if len > max {
            self.fail(
                &format!("'{rendered}'"),
                path,
                &format!("Member must have length less than or equal to {max}"),
            );
        }
    }

    /// A list member's maximum length, without rendering the list.
    pub fn list_max(&mut self, len: usize, path: &str, max: usize) {
        self.list_len("[...]", len, path, 0, max);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_error_uses_singular_and_aws_text() {
        let mut v = Validator::new();
        v.string(
            Some("Invalid Name With Spaces!"),
            "name",
            1,
            64,
            Some(&RESOURCE_NAME),
        );
        let err = v.finish().unwrap_err();
        assert_eq!(
            err.message,
            "1 validation error detected: Value 'Invalid Name With Spaces!' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+"
        );
    }

    #[test]
    fn several_errors_are_joined_pattern_before_length() {
        let mut v = Validator::new();
        let long = "x y".repeat(30);
        v.string(Some(&long), "name", 1, 64, Some(&RESOURCE_NAME));
        v.required(&None::<String>, "eventSourceArn");
        let msg = v.finish().unwrap_err().message;
        assert!(msg.starts_with("3 validation errors detected: "), "{msg}");
        let pattern_at = msg.find("regular expression").unwrap();
        let length_at = msg.find("less than or equal to 64").unwrap();
        assert!(pattern_at < length_at);
        assert!(msg.ends_with(
            "Value null at 'eventSourceArn' failed to satisfy constraint: Member must not be null"
        ));
    }

    #[test]
    fn patterns_are_anchored() {
        assert!(RESOURCE_NAME.is_match("my-rule_1.a"));
        assert!(!RESOURCE_NAME.is_match("my rule"));
        assert!(!RESOURCE_NAME.is_match("a/b"));
        assert!(EVENT_BUS_NAME.is_match("aws.partner/x/y"));
        assert!(
            EVENT_BUS_NAME_OR_ARN.is_match("arn:aws:events:us-east-1:123456789012:event-bus/b")
        );
        assert!(!EVENT_BUS_NAME_OR_ARN.is_match("arn:aws:events:us-east-1:1234:event-bus/b"));
        assert!(EVENT_BUS_ARN.is_match("arn:aws:events:us-east-1:123456789012:event-bus/b"));
        assert!(!EVENT_BUS_ARN.is_match("not-an-arn"));
    }
}
