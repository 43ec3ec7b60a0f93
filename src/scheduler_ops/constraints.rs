//! AWS's model constraints of EventBridge Scheduler, one named value per botocore shape
//! (`botocore/data/scheduler/2021-06-30/service-2.json`), named after the shape; the pattern
//! texts are botocore's verbatim (AWS prints them in its validation messages).
//! `tests/conformance.rs` compares [`ALL`] with the botocore of the conformance venv.

use regex::Regex;

use crate::validate::{Constraint, ModelPattern, ShapeKind};

macro_rules! pattern {
    ($text:literal) => {
        Some(ModelPattern::new($text, || {
            Regex::new(concat!("^(?:", $text, ")$")).expect("model pattern")
        }))
    };
    ($text:literal, $regex:literal) => {
        Some(ModelPattern::new($text, || {
            Regex::new(concat!("^(?:", $regex, ")$")).expect("model pattern")
        }))
    };
}

macro_rules! constraint {
    ($name:ident, $kind:ident, $shape:literal, $min:expr, $max:expr, $pattern:expr) => {
        pub static $name: Constraint = Constraint {
            shape: $shape,
            kind: ShapeKind::$kind,
            min: $min,
            max: $max,
            pattern: $pattern,
        };
    };
}

constraint!(
    NAME,
    String,
    "Name",
    Some(1),
    Some(64),
    pattern!("^[0-9a-zA-Z-_.]+$")
);
constraint!(
    SCHEDULE_GROUP_NAME,
    String,
    "ScheduleGroupName",
    Some(1),
    Some(64),
    pattern!("^[0-9a-zA-Z-_.]+$")
);
constraint!(
    NAME_PREFIX,
    String,
    "NamePrefix",
    Some(1),
    Some(64),
    pattern!("^[0-9a-zA-Z-_.]+$")
);
constraint!(
    SCHEDULE_GROUP_NAME_PREFIX,
    String,
    "ScheduleGroupNamePrefix",
    Some(1),
    Some(64),
    pattern!("^[0-9a-zA-Z-_.]+$")
);
constraint!(
    SCHEDULE_EXPRESSION,
    String,
    "ScheduleExpression",
    Some(1),
    Some(256),
    None
);
constraint!(
    SCHEDULE_EXPRESSION_TIMEZONE,
    String,
    "ScheduleExpressionTimezone",
    Some(1),
    Some(50),
    None
);
constraint!(DESCRIPTION, String, "Description", Some(0), Some(512), None);
constraint!(
    KMS_KEY_ARN,
    String,
    "KmsKeyArn",
    Some(1),
    Some(2048),
    pattern!(r"^arn:aws(-[a-z]+)?:kms:[a-z0-9\-]+:\d{12}:(key|alias)\/[0-9a-zA-Z-_]*$")
);
constraint!(
    CLIENT_TOKEN,
    String,
    "ClientToken",
    Some(1),
    Some(64),
    pattern!("^[a-zA-Z0-9-_]+$")
);
constraint!(TARGET_ARN, String, "TargetArn", Some(1), Some(1600), None);
constraint!(
    ROLE_ARN,
    String,
    "RoleArn",
    Some(1),
    Some(1600),
    pattern!(r"^arn:aws(-[a-z]+)?:iam::\d{12}:role\/[\w+=,.@\/-]+$")
);
constraint!(TARGET_INPUT, String, "TargetInput", Some(1), None, None);
constraint!(
    MAXIMUM_EVENT_AGE_IN_SECONDS,
    Integer,
    "MaximumEventAgeInSeconds",
    Some(60),
    Some(86400),
    None
);
constraint!(
    MAXIMUM_RETRY_ATTEMPTS,
    Integer,
    "MaximumRetryAttempts",
    Some(0),
    Some(185),
    None
);
constraint!(
    DEAD_LETTER_CONFIG_ARN,
    String,
    "DeadLetterConfigArnString",
    Some(1),
    Some(1600),
    pattern!(r"^arn:aws(-[a-z]+)?:sqs:[a-z0-9\-]+:\d{12}:[a-zA-Z0-9\-_]+$")
);
constraint!(
    MESSAGE_GROUP_ID,
    String,
    "MessageGroupId",
    Some(1),
    Some(128),
    None
);
constraint!(
    TARGET_PARTITION_KEY,
    String,
    "TargetPartitionKey",
    Some(1),
    Some(256),
    None
);
constraint!(DETAIL_TYPE, String, "DetailType", Some(1), Some(128), None);
// The model's lookaheads are not Rust regex: this checks an event source starting with one of
// the set's characters, or a JSON path; the handler refuses a source starting with `aws.`
// (the model's negative lookahead) with the same message.
constraint!(
    SOURCE,
    String,
    "Source",
    Some(1),
    Some(256),
    pattern!(
        r"^(?=[/\.\-_A-Za-z0-9]+)((?!aws\.).*)|(\$(\.[\w_-]+(\[(\d+|\*)\])*)*)$",
        r"(?s)[/\.\-_A-Za-z0-9].*|(\$(\.[\w_-]+(\[(\d+|\*)\])*)*)"
    )
);
constraint!(
    MAXIMUM_WINDOW_IN_MINUTES,
    Integer,
    "MaximumWindowInMinutes",
    Some(1),
    Some(1440),
    None
);
constraint!(MAX_RESULTS, Integer, "MaxResults", Some(1), Some(100), None);
constraint!(NEXT_TOKEN, String, "NextToken", Some(1), Some(2048), None);
constraint!(
    TAG_RESOURCE_ARN,
    String,
    "TagResourceArn",
    Some(1),
    Some(1011),
    pattern!(r"^arn:aws(-[a-z]+)?:scheduler:[a-z0-9\-]+:\d{12}:schedule-group\/[0-9a-zA-Z-_.]+$")
);
constraint!(TAG_LIST, List, "TagList", Some(0), Some(200), None);
constraint!(TAG_KEY_LIST, List, "TagKeyList", Some(0), Some(200), None);
constraint!(TAG_KEY, String, "TagKey", Some(1), Some(128), None);
constraint!(TAG_VALUE, String, "TagValue", Some(1), Some(256), None);

/// Every constraint of this file, for the comparison with botocore's model.
pub static ALL: &[&Constraint] = &[
    &NAME,
    &SCHEDULE_GROUP_NAME,
    &NAME_PREFIX,
    &SCHEDULE_GROUP_NAME_PREFIX,
    &SCHEDULE_EXPRESSION,
    &SCHEDULE_EXPRESSION_TIMEZONE,
    &DESCRIPTION,
    &KMS_KEY_ARN,
    &CLIENT_TOKEN,
    &TARGET_ARN,
    &ROLE_ARN,
    &TARGET_INPUT,
    &MAXIMUM_EVENT_AGE_IN_SECONDS,
    &MAXIMUM_RETRY_ATTEMPTS,
    &DEAD_LETTER_CONFIG_ARN,
    &MESSAGE_GROUP_ID,
    &TARGET_PARTITION_KEY,
    &DETAIL_TYPE,
    &SOURCE,
    &MAXIMUM_WINDOW_IN_MINUTES,
    &MAX_RESULTS,
    &NEXT_TOKEN,
    &TAG_RESOURCE_ARN,
    &TAG_LIST,
    &TAG_KEY_LIST,
    &TAG_KEY,
    &TAG_VALUE,
];
