//! `--init FILE`: API calls applied at start, so that a docker-compose user gets buses, rules,
//! targets and archives without a script. The file is a JSON array of entries
//! `{"operation": "CreateEventBus", "input": {...}}` (optionally `"service"`: `"events"`, the
//! default, or `"scheduler"`; `"account"`, `"region"`), each input exactly as the AWS API takes
//! it, run through the same dispatch as HTTP requests. The file is applied at every start: what already exists is left as it is
//! (`ResourceAlreadyExistsException` is not an error), `Put*` operations overwrite as they do
//! on AWS, and any other failure stops the start with a message naming the entry.

use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use crate::app::App;
use crate::error::{ApiError, ErrorCode};
use crate::model::Scope;

/// One entry of the file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    operation: String,
    #[serde(default)]
    input: Value,
    #[serde(default)]
    service: Option<String>,
    #[serde(default)]
    account: Option<String>,
    #[serde(default)]
    region: Option<String>,
}

/// What a file did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Applied {
    /// Entries that ran.
    pub applied: usize,
    /// Entries whose resource already existed.
    pub existing: usize,
}

/// Reads and applies `path`; the error is one line for the user, naming the file and entry.
pub async fn apply_file(app: &App, path: &Path) -> Result<Applied, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("--init {}: cannot read it: {e}", path.display()))?;
    apply(app, &text)
        .await
        .map_err(|e| format!("--init {}: {e}", path.display()))
}

/// Applies the entries of `text` in order, stopping at the first that fails.
pub async fn apply(app: &App, text: &str) -> Result<Applied, String> {
    let entries: Value = serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
    let Value::Array(entries) = entries else {
        return Err(
            "must be a JSON array of entries like {\"operation\": \"CreateEventBus\", \"input\": {\"Name\": \"orders\"}}"
                .to_string(),
        );
    };
    let mut done = Applied::default();
    for (index, raw) in entries.into_iter().enumerate() {
        let number = index + 1;
        let label = label(number, &raw);
        let entry: Entry = serde_json::from_value(raw).map_err(|e| {
            format!("{label}: not an entry {{\"operation\", \"input\", \"service\", \"account\", \"region\"}}: {e}")
        })?;
        let scope = scope_of(app, &entry).map_err(|e| format!("{label}: {e}"))?;
        let input = match entry.input {
            Value::Null => Value::Object(Default::default()),
            Value::Object(_) => entry.input,
            _ => return Err(format!("{label}: \"input\" must be a JSON object")),
        };
        let answer = match entry.service.as_deref() {
            None | Some("events") | Some("eventbridge") => {
                let body = serde_json::to_vec(&input).expect("JSON value");
                crate::ops::dispatch(app, &scope, &entry.operation, body.into()).await
            }
            Some("scheduler") => {
                crate::scheduler_ops::dispatch(app, &scope, &entry.operation, input).await
            }
            Some(other) => {
                return Err(format!(
                    "{label}: unknown service {other:?} (use \"events\" or \"scheduler\"; no service means \"events\")"
                ));
            }
        };
        match answer {
            Ok(answer) => {
                failed_entries(&answer).map_err(|e| format!("{label}: {e}"))?;
                tracing::debug!(entry = number, operation = %entry.operation, "init entry applied");
                done.applied += 1;
            }
            Err(e) if already_exists(&e) => {
                tracing::debug!(entry = number, operation = %entry.operation, "init entry already applied");
                done.existing += 1;
            }
            Err(e) => return Err(format!("{label}: {e}")),
        }
    }
    Ok(done)
}

/// EventBridge's ResourceAlreadyExistsException, or Scheduler's ConflictException for a
/// schedule or group that exists (kept as ConcurrentModification, like its other conflicts;
/// its message tells them apart).
fn already_exists(e: &ApiError) -> bool {
    match e.code {
        ErrorCode::ResourceAlreadyExists => true,
        ErrorCode::ConcurrentModification => e.message.ends_with(" already exists."),
        _ => false,
    }
}

/// `entry 3 (PutRule "orders")`: counted from 1, with the operation and the `Name` when the
/// entry has them, so the user finds it in the file.
fn label(number: usize, raw: &Value) -> String {
    let operation = raw.get("operation").and_then(Value::as_str);
    let name = raw
        .get("input")
        .and_then(|i| i.get("Name"))
        .and_then(Value::as_str);
    match (operation, name) {
        (Some(op), Some(name)) => format!("entry {number} ({op} {name:?})"),
        (Some(op), None) => format!("entry {number} ({op})"),
        _ => format!("entry {number}"),
    }
}

/// The (account, region) an entry runs in: the server's defaults unless the entry says.
fn scope_of(app: &App, entry: &Entry) -> Result<Scope, String> {
    let account = entry
        .account
        .clone()
        .unwrap_or_else(|| app.config.account_id.clone());
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "\"account\" must be a 12-digit account id, not {account:?}"
        ));
    }
    let region = entry
        .region
        .clone()
        .unwrap_or_else(|| app.config.region.clone());
    if region.is_empty()
        || !region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(format!(
            "\"region\" must be a region name like us-east-1, not {region:?}"
        ));
    }
    Ok(Scope { account, region })
}

/// PutTargets, RemoveTargets and PutEvents answer 200 with failed entries: in a seed file
/// that is a failure like any other.
fn failed_entries(answer: &Value) -> Result<(), String> {
    let count = answer
        .get("FailedEntryCount")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    if count == 0 {
        return Ok(());
    }
    let reasons: Vec<String> = answer
        .get("FailedEntries")
        .or_else(|| answer.get("Entries"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|e| {
            let code = e.get("ErrorCode")?.as_str()?;
            let message = e.get("ErrorMessage").and_then(Value::as_str).unwrap_or("");
            let id = e.get("TargetId").and_then(Value::as_str);
            Some(match id {
                Some(id) => format!("target {id}: {code}: {message}"),
                None => format!("{code}: {message}"),
            })
        })
        .collect();
    Err(format!("{count} failed entries: {}", reasons.join("; ")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn labels_name_the_entry() {
        let raw = json!({"operation": "PutRule", "input": {"Name": "r1"}});
        assert_eq!(label(3, &raw), "entry 3 (PutRule \"r1\")");
        assert_eq!(
            label(1, &json!({"operation": "PutEvents"})),
            "entry 1 (PutEvents)"
        );
        assert_eq!(label(2, &json!(7)), "entry 2");
    }

    #[test]
    fn failed_entries_are_failures() {
        assert!(failed_entries(&json!({"FailedEntryCount": 0, "FailedEntries": []})).is_ok());
        let answer = json!({"FailedEntryCount": 1, "FailedEntries": [
            {"TargetId": "t1", "ErrorCode": "ValidationException", "ErrorMessage": "bad arn"}]});
        assert_eq!(
            failed_entries(&answer).unwrap_err(),
            "1 failed entries: target t1: ValidationException: bad arn"
        );
    }
}
