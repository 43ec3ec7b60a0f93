//! AWS's model constraints, one named value per botocore shape
//! (`botocore/data/events/2015-10-07/service-2.json`), named after the shape.
//!
//! Handlers name the shape of a member (`v.string(name, "name", &RULE_NAME)`) instead of
//! repeating its bounds and pattern, so two members of one shape cannot drift apart, and
//! `tests/conformance.rs` compares every value in [`ALL`] with the shape of the same name in
//! the botocore that the conformance venv installs. The pattern texts are botocore's verbatim:
//! AWS prints them in its validation messages.

use regex::Regex;

use crate::validate::{Constraint, ModelPattern, ShapeKind};

/// A pattern whose regex is its own text, anchored; or, with a second literal, a regex that
/// checks what the text means where Rust's regex reads it differently.
macro_rules! model_pattern {
    ($text:literal) => {
        model_pattern!($text, $text)
    };
    ($text:literal, $regex:literal) => {
        ModelPattern::new($text, || {
            Regex::new(concat!("^(?:", $regex, ")$")).expect("model pattern")
        })
    };
}

/// `Some(x)` for a bound the model gives, `None` for one it leaves out.
macro_rules! bound {
    () => {
        None
    };
    ($value:expr) => {
        Some($value)
    };
}

/// One `pub static` per line, and [`ALL`] listing every one of them.
macro_rules! constraints {
    ($(
        $(#[$doc:meta])*
        $name:ident: $kind:ident $shape:literal
            $(min $min:literal)? $(max $max:literal)?
            $(pattern $text:literal $(regex $regex:literal)?)?;
    )*) => {
        $(
            $(#[$doc])*
            pub static $name: Constraint = Constraint {
                shape: $shape,
                kind: ShapeKind::$kind,
                min: bound!($($min)?),
                max: bound!($($max)?),
                pattern: bound!($(model_pattern!($text $(, $regex)?))?),
            };
        )*

        /// Every constraint of this file, for the comparison with botocore's model.
        pub static ALL: &[&Constraint] = &[$(&$name),*];
    };
}

constraints! {
    // Event buses.
    EVENT_BUS_NAME: String "EventBusName" min 1 max 256 pattern r"[/\.\-_A-Za-z0-9]+";
    EVENT_BUS_NAME_OR_ARN: String "EventBusNameOrArn" min 1 max 1600
        pattern r"(arn:aws[\w-]*:events:[a-z]+-[a-z]+-[\w-]+:[0-9]{12}:event-bus\/)?[/\.\-_A-Za-z0-9]+";
    NON_PARTNER_EVENT_BUS_NAME_OR_ARN: String "NonPartnerEventBusNameOrArn" min 1 max 1600
        pattern r"(arn:aws[\w-]*:events:[a-z]+-[a-z]+-[\w-]+:[0-9]{12}:event-bus\/)?[\.\-_A-Za-z0-9]+";
    EVENT_BUS_ARN: String "EventBusArn" min 1 max 1600
        pattern r"^arn:aws([a-z]|\-)*:events:([a-z]|\d|\-)*:([0-9]{12})?:.+\/.+$";
    EVENT_SOURCE_NAME: String "EventSourceName" min 1 max 256
        pattern r"aws\.partner(/[\.\-_A-Za-z0-9]+){2,}";
    EVENT_BUS_DESCRIPTION: String "EventBusDescription" max 512;
    KMS_KEY_IDENTIFIER: String "KmsKeyIdentifier" max 2048 pattern r"^[a-zA-Z0-9_\-/:]*$";

    // Bus policies (PutPermission, RemovePermission).
    NON_PARTNER_EVENT_BUS_NAME: String "NonPartnerEventBusName" min 1 max 256
        pattern r"[\.\-_A-Za-z0-9]+";
    ACTION: String "Action" min 1 max 64 pattern r"events:[a-zA-Z]+";
    PRINCIPAL: String "Principal" min 1 max 12 pattern r"(\d{12}|\*)";
    STATEMENT_ID: String "StatementId" min 1 max 64 pattern r"[a-zA-Z0-9-_]+";

    // Tags (rules and event buses).
    TAG_KEY: String "TagKey" min 1 max 128;
    TAG_VALUE: String "TagValue" min 0 max 256;

    // An event bus's settings.
    /// `DeadLetterConfig.Arn`.
    RESOURCE_ARN: String "ResourceArn" min 1 max 1600;

    // Paging, shared by the List* operations.
    NEXT_TOKEN: String "NextToken" min 1 max 2048;
    LIMIT_MAX100: Integer "LimitMax100" min 1 max 100;

    // Rules.
    RULE_NAME: String "RuleName" min 1 max 64 pattern r"[\.\-_A-Za-z0-9]+";
    RULE_DESCRIPTION: String "RuleDescription" max 512;
    SCHEDULE_EXPRESSION: String "ScheduleExpression" max 256;
    EVENT_PATTERN: String "EventPattern" max 4096;
    ROLE_ARN: String "RoleArn" min 1 max 1600;

    // Targets.
    TARGET_LIST: List "TargetList" min 1 max 100;
    TARGET_ID_LIST: List "TargetIdList" min 1 max 100;
    TARGET_ID: String "TargetId" min 1 max 64 pattern r"[\.\-_A-Za-z0-9]+";
    TARGET_ARN: String "TargetArn" min 1 max 1600;
    TARGET_INPUT: String "TargetInput" max 8192;
    TARGET_INPUT_PATH: String "TargetInputPath" max 256;
    MAXIMUM_RETRY_ATTEMPTS: Integer "MaximumRetryAttempts" min 0 max 185;
    MAXIMUM_EVENT_AGE_IN_SECONDS: Integer "MaximumEventAgeInSeconds" min 60 max 86400;

    // PutEvents.
    PUT_EVENTS_REQUEST_ENTRY_LIST: List "PutEventsRequestEntryList" min 1 max 10;
    TRACE_HEADER: String "TraceHeader" min 1 max 500;
    EVENT_RESOURCE: String "EventResource" max 2048;
    ENDPOINT_ID: String "EndpointId" min 1 max 50 pattern r"^[A-Za-z0-9\-]+[\.][A-Za-z0-9\-]+$";

    // Archives and replays. The descriptions' `.*` is Java's, where AWS accepts any text;
    // Rust's `.` stops at a line break, hence the `(?s)` regex.
    ARCHIVE_NAME: String "ArchiveName" min 1 max 48 pattern r"[\.\-_A-Za-z0-9]+";
    ARCHIVE_DESCRIPTION: String "ArchiveDescription" max 512 pattern r".*" regex r"(?s).*";
    RETENTION_DAYS: Integer "RetentionDays" min 0;
    ARCHIVE_ARN: String "ArchiveArn" min 1 max 1600
        pattern r"^arn:aws([a-z]|\-)*:events:([a-z]|\d|\-)*:([0-9]{12})?:.+\/.+$";
    REPLAY_NAME: String "ReplayName" min 1 max 64 pattern r"[\.\-_A-Za-z0-9]+";
    REPLAY_DESCRIPTION: String "ReplayDescription" max 512 pattern r".*" regex r"(?s).*";
    /// A replay's destination and its filter ARNs.
    ARN: String "Arn" min 1 max 1600;

    // Partner event sources.
    ACCOUNT_ID: String "AccountId" min 12 max 12 pattern r"\d{12}";
    PARTNER_EVENT_SOURCE_NAME_PREFIX: String "PartnerEventSourceNamePrefix" min 1 max 256
        pattern r"aws\.partner/[\.\-_A-Za-z0-9]+/[/\.\-_A-Za-z0-9]*";
    EVENT_SOURCE_NAME_PREFIX: String "EventSourceNamePrefix" min 1 max 256
        pattern r"[/\.\-_A-Za-z0-9]+";
    PUT_PARTNER_EVENTS_REQUEST_ENTRY_LIST: List "PutPartnerEventsRequestEntryList" min 1 max 20;

    // Global endpoints.
    ENDPOINT_NAME: String "EndpointName" min 1 max 64 pattern r"[\.\-_A-Za-z0-9]+";
    ENDPOINT_DESCRIPTION: String "EndpointDescription" max 512 pattern r".*" regex r"(?s).*";
    HEALTH_CHECK: String "HealthCheck" min 1 max 1600
        pattern r"^arn:aws([a-z]|\-)*:route53:::healthcheck/[\-a-z0-9]+$";
    ROUTE: String "Route" min 9 max 20 pattern r"^[\-a-z0-9]+$";
    HOME_REGION: String "HomeRegion" min 9 max 20 pattern r"^[\-a-z0-9]+$";
    ENDPOINT_EVENT_BUS_LIST: List "EndpointEventBusList" min 2 max 2;
    NON_PARTNER_EVENT_BUS_ARN: String "NonPartnerEventBusArn" min 1 max 512
        pattern r"^arn:aws[a-z-]*:events:[a-z]+-[a-z-]+-\d+:\d{12}:event-bus/[\w.-]+$";
    IAM_ROLE_ARN: String "IamRoleArn" min 1 max 256
        pattern r"^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$";

    // Connections.
    CONNECTION_NAME: String "ConnectionName" min 1 max 64 pattern r"[\.\-_A-Za-z0-9]+";
    CONNECTION_DESCRIPTION: String "ConnectionDescription" max 512 pattern r".*" regex r"(?s).*";
    CONNECTION_ARN: String "ConnectionArn" min 1 max 1600
        pattern r"^arn:aws([a-z]|\-)*:events:([a-z]|\d|\-)*:([0-9]{12})?:connection\/[\.\-_A-Za-z0-9]+\/[\-A-Za-z0-9]+$";
    AUTH_HEADER_PARAMETERS: String "AuthHeaderParameters" min 1 max 512
        pattern r"^[ \t]*[^\x00-\x1F:\x7F]+([ \t]+[^\x00-\x1F:\x7F]+)*[ \t]*$";
    AUTH_HEADER_PARAMETERS_SENSITIVE: String "AuthHeaderParametersSensitive" min 1 max 512
        pattern r"^[ \t]*[^\x00-\x1F:\x7F]+([ \t]+[^\x00-\x1F:\x7F]+)*[ \t]*$";
    HTTPS_ENDPOINT: String "HttpsEndpoint" min 1 max 2048
        pattern r"^((%[0-9A-Fa-f]{2}|[-()_.!~*';/?:@\x26=+$,A-Za-z0-9])+)([).!';/?:,])?$";
    CONNECTION_HEADER_PARAMETERS_LIST: List "ConnectionHeaderParametersList" min 0 max 100;
    HEADER_KEY: String "HeaderKey" max 512 pattern r"^[!#$%&'*+-.^_`|~0-9a-zA-Z]+$";
    HEADER_VALUE_SENSITIVE: String "HeaderValueSensitive" max 512
        pattern r"^[ \t]*[\x20-\x7E]+([ \t]+[\x20-\x7E]+)*[ \t]*$";
    CONNECTION_QUERY_STRING_PARAMETERS_LIST: List "ConnectionQueryStringParametersList" min 0 max 100;
    QUERY_STRING_KEY: String "QueryStringKey" max 512 pattern r"[^\x00-\x1F\x7F]+";
    QUERY_STRING_VALUE_SENSITIVE: String "QueryStringValueSensitive" max 512
        pattern r"[^\x00-\x09\x0B\x0C\x0E-\x1F\x7F]+";
    CONNECTION_BODY_PARAMETERS_LIST: List "ConnectionBodyParametersList" min 0 max 100;

    // API destinations.
    API_DESTINATION_NAME: String "ApiDestinationName" min 1 max 64 pattern r"[\.\-_A-Za-z0-9]+";
    API_DESTINATION_DESCRIPTION: String "ApiDestinationDescription" max 512
        pattern r".*" regex r"(?s).*";
    API_DESTINATION_INVOCATION_RATE_LIMIT_PER_SECOND: Integer
        "ApiDestinationInvocationRateLimitPerSecond" min 1;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::Validator;

    fn matches(shape: &Constraint, value: &str) -> bool {
        shape.pattern.as_ref().expect("a pattern").is_match(value)
    }

    #[test]
    fn one_error_uses_singular_and_aws_text() {
        let mut v = Validator::new();
        v.string(Some("Invalid Name With Spaces!"), "name", &RULE_NAME);
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
        v.string(Some(&long), "name", &RULE_NAME);
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
        assert!(matches(&RULE_NAME, "my-rule_1.a"));
        assert!(!matches(&RULE_NAME, "my rule"));
        assert!(!matches(&RULE_NAME, "a/b"));
        assert!(matches(&EVENT_BUS_NAME, "aws.partner/x/y"));
        assert!(matches(
            &EVENT_BUS_NAME_OR_ARN,
            "arn:aws:events:us-east-1:123456789012:event-bus/b"
        ));
        assert!(!matches(
            &EVENT_BUS_NAME_OR_ARN,
            "arn:aws:events:us-east-1:1234:event-bus/b"
        ));
        assert!(matches(
            &EVENT_BUS_ARN,
            "arn:aws:events:us-east-1:123456789012:event-bus/b"
        ));
        assert!(!matches(&EVENT_BUS_ARN, "not-an-arn"));
    }

    #[test]
    fn descriptions_accept_line_breaks() {
        assert!(matches(&ARCHIVE_DESCRIPTION, "two\nlines"));
        assert_eq!(ARCHIVE_DESCRIPTION.pattern.as_ref().unwrap().text, ".*");
    }

    #[test]
    fn every_pattern_compiles_and_every_shape_is_listed_once() {
        let mut shapes: Vec<&str> = ALL.iter().map(|c| c.shape).collect();
        for c in ALL {
            if let Some(p) = &c.pattern {
                p.is_match("");
            }
        }
        let count = shapes.len();
        shapes.sort_unstable();
        shapes.dedup();
        assert_eq!(shapes.len(), count, "a shape is named twice");
    }
}
