//! UpdateEventBus, and the checks of an event bus's settings (`KmsKeyIdentifier`,
//! `DeadLetterConfig`, `LogConfig`) that CreateEventBus shares.
//!
//! What the settings do here: the dead-letter queue receives the events that a target of the
//! bus could not deliver and that have no queue of their own (see `delivery/retry.rs`); the
//! KMS key and the log configuration are stored and answered, but events are neither
//! encrypted with the key nor logged (there is no KMS or CloudWatch Logs delivery here).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::app::App;
use crate::error::ApiError;
use crate::model::{Scope, arn};
use crate::ops::constraints::{
    EVENT_BUS_DESCRIPTION, EVENT_BUS_NAME, KMS_KEY_IDENTIFIER, RESOURCE_ARN,
};
use crate::validate::Validator;

/// `IncludeDetail` values (botocore's enum).
const INCLUDE_DETAIL: [&str; 2] = ["NONE", "FULL"];
/// `Level` values (botocore's enum).
const LEVEL: [&str; 4] = ["OFF", "ERROR", "INFO", "TRACE"];

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeadLetterConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    arn: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LogConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    include_detail: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    level: Option<String>,
}

/// The settings members of CreateEventBus and UpdateEventBus, checked against the model.
pub fn check_settings(
    v: &mut Validator,
    kms_key_identifier: Option<&str>,
    dead_letter_config: Option<&DeadLetterConfig>,
    log_config: Option<&LogConfig>,
) {
    v.string(kms_key_identifier, "kmsKeyIdentifier", &KMS_KEY_IDENTIFIER);
    if let Some(dlq) = dead_letter_config {
        v.string(dlq.arn.as_deref(), "deadLetterConfig.arn", &RESOURCE_ARN);
    }
    if let Some(log) = log_config {
        v.one_of(
            log.include_detail.as_deref(),
            "logConfig.includeDetail",
            &INCLUDE_DETAIL,
        );
        v.one_of(log.level.as_deref(), "logConfig.level", &LEVEL);
    }
}

/// The queue must be a standard SQS queue of the bus's own region (EventBridge sends to it
/// there). The check is AWS's documented constraint; the message is ours, AWS's exact text
/// for it is not recorded here.
pub fn check_dead_letter_queue(
    bus_scope: &Scope,
    dead_letter_config: Option<&DeadLetterConfig>,
) -> Result<(), ApiError> {
    let Some(queue) = dead_letter_config.and_then(|d| d.arn.as_deref()) else {
        return Ok(());
    };
    let parsed = arn::parse(queue).filter(|p| {
        p.service == "sqs"
            && p.account.len() == 12
            && p.account.bytes().all(|b| b.is_ascii_digit())
            && !p.resource.is_empty()
            && !p.resource.contains([':', '/'])
    });
    let Some(parsed) = parsed else {
        return Err(ApiError::validation(format!(
            "Parameter DeadLetterConfig.Arn is not valid. Reason: {queue} is not an SQS queue ARN."
        )));
    };
    if parsed.region != bus_scope.region || parsed.resource.ends_with(".fifo") {
        return Err(ApiError::validation(format!(
            "Parameter DeadLetterConfig.Arn is not valid. Reason: You must specify a standard dead letter queue in the same region ({}).",
            bus_scope.region
        )));
    }
    Ok(())
}

/// A setting as stored with the bus: `None` for an absent one and for a dead-letter config
/// without a queue (which removes the queue).
pub fn stored<T: Serialize>(setting: Option<T>) -> Option<Value> {
    let value = serde_json::to_value(setting?).ok()?;
    match &value {
        Value::Object(members) if members.is_empty() => None,
        _ => Some(value),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateEventBusRequest {
    name: Option<String>,
    kms_key_identifier: Option<String>,
    description: Option<String>,
    dead_letter_config: Option<DeadLetterConfig>,
    log_config: Option<LogConfig>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateEventBusResponse {
    arn: String,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    kms_key_identifier: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dead_letter_config: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    log_config: Option<Value>,
}

/// Changes the settings given; a setting left out keeps its value (an empty `Description`,
/// `KmsKeyIdentifier`, or a `DeadLetterConfig` without `Arn`, removes it). The name is the
/// default bus's when absent, as its model allows.
pub async fn update_event_bus(
    app: &App,
    scope: &Scope,
    req: UpdateEventBusRequest,
) -> Result<UpdateEventBusResponse, ApiError> {
    let mut v = Validator::new();
    v.string(req.name.as_deref(), "name", &EVENT_BUS_NAME);
    v.string(
        req.description.as_deref(),
        "description",
        &EVENT_BUS_DESCRIPTION,
    );
    check_settings(
        &mut v,
        req.kms_key_identifier.as_deref(),
        req.dead_letter_config.as_ref(),
        req.log_config.as_ref(),
    );
    v.finish()?;
    check_dead_letter_queue(scope, req.dead_letter_config.as_ref())?;
    let name = req.name.unwrap_or_else(|| "default".to_string());
    let non_empty = |text: String| (!text.is_empty()).then_some(text);
    let bus = app.catalog.update_bus(scope, &name, |bus| {
        if let Some(description) = req.description {
            bus.description = non_empty(description);
        }
        if let Some(key) = req.kms_key_identifier {
            bus.kms_key_identifier = non_empty(key);
        }
        if let Some(dlq) = req.dead_letter_config {
            bus.dead_letter_config = stored(Some(dlq));
        }
        if let Some(log) = req.log_config {
            bus.log_config = stored(Some(log));
        }
    })?;
    app.store.flush().await.map_err(ApiError::storage)?;
    Ok(UpdateEventBusResponse {
        arn: bus.arn(),
        name: bus.name,
        kms_key_identifier: bus.kms_key_identifier,
        description: bus.description,
        dead_letter_config: bus.dead_letter_config,
        log_config: bus.log_config,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope() -> Scope {
        Scope {
            account: "000000000000".into(),
            region: "us-east-1".into(),
        }
    }

    fn dlq(arn: &str) -> DeadLetterConfig {
        DeadLetterConfig {
            arn: Some(arn.into()),
        }
    }

    #[test]
    fn dead_letter_queue_must_be_a_standard_queue_of_the_region() {
        let ok = dlq("arn:aws:sqs:us-east-1:000000000000:dlq");
        assert!(check_dead_letter_queue(&scope(), Some(&ok)).is_ok());
        for bad in [
            "arn:aws:sqs:eu-west-1:000000000000:dlq",
            "arn:aws:sqs:us-east-1:000000000000:dlq.fifo",
            "arn:aws:sns:us-east-1:000000000000:topic",
            "arn:aws:sqs:us-east-1:0000:dlq",
            "dlq",
        ] {
            assert!(
                check_dead_letter_queue(&scope(), Some(&dlq(bad))).is_err(),
                "{bad}"
            );
        }
        let none = DeadLetterConfig { arn: None };
        assert!(check_dead_letter_queue(&scope(), Some(&none)).is_ok());
    }

    #[test]
    fn log_config_enums_are_checked() {
        let mut v = Validator::new();
        let log = LogConfig {
            include_detail: Some("SOME".into()),
            level: Some("DEBUG".into()),
        };
        check_settings(&mut v, None, None, Some(&log));
        let message = v.finish().unwrap_err().message;
        assert!(message.contains("at 'logConfig.includeDetail' failed to satisfy constraint: Member must satisfy enum value set: [NONE, FULL]"), "{message}");
        assert!(message.contains("at 'logConfig.level' failed to satisfy constraint: Member must satisfy enum value set: [OFF, ERROR, INFO, TRACE]"), "{message}");
    }

    #[test]
    fn an_empty_dead_letter_config_is_no_queue() {
        assert_eq!(stored(Some(DeadLetterConfig { arn: None })), None);
        assert!(stored(Some(dlq("arn:aws:sqs:us-east-1:000000000000:q"))).is_some());
        assert_eq!(stored::<DeadLetterConfig>(None), None);
    }
}
