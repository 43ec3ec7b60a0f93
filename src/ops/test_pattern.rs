//! TestEventPattern: the same compiled matcher as PutEvents, on an event the caller gives.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::app::App;
use crate::error::ApiError;
use crate::model::Scope;
use crate::ops::rules::compile_pattern;
use crate::validate::Validator;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TestEventPatternRequest {
    event_pattern: Option<String>,
    event: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TestEventPatternResponse {
    result: bool,
}

/// Envelope members AWS requires of the test event. `resources` is listed as mandatory in the
/// API reference, but AWS was observed evaluating events without it, so it is not required.
const REQUIRED_EVENT_FIELDS: [&str; 6] =
    ["id", "account", "source", "time", "region", "detail-type"];

pub async fn test_event_pattern(
    _app: &App,
    _scope: &Scope,
    req: TestEventPatternRequest,
) -> Result<TestEventPatternResponse, ApiError> {
    let mut v = Validator::new();
    v.required(&req.event_pattern, "eventPattern");
    v.required(&req.event, "event");
    let compiled = compile_pattern(&mut v, req.event_pattern.as_deref());
    v.finish()?;
    let pattern = compiled.expect("required")?;
    let event = match serde_json::from_str::<Value>(req.event.as_deref().unwrap_or_default()) {
        Ok(event @ Value::Object(_))
            if REQUIRED_EVENT_FIELDS
                .iter()
                .all(|field| event.get(field).is_some()) =>
        {
            event
        }
        _ => return Err(ApiError::validation("Parameter Event is not valid.")),
    };
    Ok(TestEventPatternResponse {
        result: pattern.matches(&event),
    })
}
