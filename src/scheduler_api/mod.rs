//! EventBridge Scheduler's protocol, REST-JSON, on the same port as EventBridge's JSON 1.1:
//! each operation is a method and a path (`POST /schedules/{Name}`, `GET /schedule-groups`,
//! `DELETE /tags/{ResourceArn}`...), its members in the path, the query string and a JSON body.
//! Requests are told apart from EventBridge's by their path (EventBridge's are all `POST /`).
//!
//! Errors are Scheduler's: the status of botocore's model (404 not found, 409 conflict, 400
//! validation), the code in `x-amzn-ErrorType` and `{"Message": ...}` as the body.

use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{Map, Value, json};

use crate::app::App;
use crate::error::{ApiError, ErrorCode};
use crate::protocol::request_scope;

/// Whether a request is for Scheduler (by its path).
pub fn is_scheduler_request(path: &str) -> bool {
    ["/schedules", "/schedule-groups", "/tags"]
        .iter()
        .any(|root| path == *root || path.starts_with(&format!("{root}/")))
}

/// How a query-string parameter becomes a member.
enum QueryKind {
    Text,
    Integer,
    List,
}

/// One operation's route: the member in the path (if any) and the query parameters it reads
/// (query name, member, kind).
struct Route {
    operation: &'static str,
    path_member: Option<(&'static str, String)>,
    query: &'static [(&'static str, &'static str, QueryKind)],
}

const GROUP_NAME: (&str, &str, QueryKind) = ("groupName", "GroupName", QueryKind::Text);
const CLIENT_TOKEN: (&str, &str, QueryKind) = ("clientToken", "ClientToken", QueryKind::Text);
const NAME_PREFIX: (&str, &str, QueryKind) = ("NamePrefix", "NamePrefix", QueryKind::Text);
const NEXT_TOKEN: (&str, &str, QueryKind) = ("NextToken", "NextToken", QueryKind::Text);
const MAX_RESULTS: (&str, &str, QueryKind) = ("MaxResults", "MaxResults", QueryKind::Integer);

/// The operation of (method, path), as botocore's model maps them.
fn route(method: &Method, path: &str) -> Option<Route> {
    let (root, rest) = match path[1..].split_once('/') {
        Some((root, rest)) => (root, Some(percent_decode(rest, false))),
        None => (&path[1..], None),
    };
    let named = |operation, member: &'static str, query| {
        Some(Route {
            operation,
            path_member: Some((member, rest.clone()?)),
            query,
        })
    };
    let listing = |operation, query| Route {
        operation,
        path_member: None,
        query,
    };
    match (root, rest.is_some(), method) {
        ("schedules", true, &Method::POST) => named("CreateSchedule", "Name", &[]),
        ("schedules", true, &Method::GET) => named("GetSchedule", "Name", &[GROUP_NAME]),
        ("schedules", true, &Method::PUT) => named("UpdateSchedule", "Name", &[]),
        ("schedules", true, &Method::DELETE) => {
            named("DeleteSchedule", "Name", &[GROUP_NAME, CLIENT_TOKEN])
        }
        ("schedules", false, &Method::GET) => Some(listing(
            "ListSchedules",
            &[
                ("ScheduleGroup", "GroupName", QueryKind::Text),
                NAME_PREFIX,
                ("State", "State", QueryKind::Text),
                NEXT_TOKEN,
                MAX_RESULTS,
            ],
        )),
        ("schedule-groups", true, &Method::POST) => named("CreateScheduleGroup", "Name", &[]),
        ("schedule-groups", true, &Method::GET) => named("GetScheduleGroup", "Name", &[]),
        ("schedule-groups", true, &Method::DELETE) => {
            named("DeleteScheduleGroup", "Name", &[CLIENT_TOKEN])
        }
        ("schedule-groups", false, &Method::GET) => Some(listing(
            "ListScheduleGroups",
            &[NAME_PREFIX, NEXT_TOKEN, MAX_RESULTS],
        )),
        ("tags", true, &Method::GET) => named("ListTagsForResource", "ResourceArn", &[]),
        ("tags", true, &Method::POST) => named("TagResource", "ResourceArn", &[]),
        ("tags", true, &Method::DELETE) => named(
            "UntagResource",
            "ResourceArn",
            &[("TagKeys", "TagKeys", QueryKind::List)],
        ),
        _ => None,
    }
}

/// Answers one Scheduler request.
pub async fn handle(app: &App, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let started = Instant::now();
    let request_id = uuid::Uuid::new_v4().to_string();
    let scope = request_scope(
        req.headers()
            .get(hyper::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok()),
        &app.config.account_id,
        &app.config.region,
    );
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let route = route(&method, &path);
    let operation = route.as_ref().map_or("-", |r| r.operation);
    let result = match route {
        None => Err(ApiError::new(
            ErrorCode::UnknownOperation,
            format!("No Scheduler operation is {method} {path}."),
        )),
        Some(route) => match input(app, &route, req).await {
            Ok(input) => crate::scheduler_ops::dispatch(app, &scope, route.operation, input).await,
            Err(e) => Err(e),
        },
    };
    let response = match result {
        Ok(body) => json_response(StatusCode::OK, &body, &request_id, None),
        Err(err) => error_response(&err, &request_id),
    };
    tracing::debug!(
        request_id = %request_id,
        operation,
        account = %scope.account,
        region = %scope.region,
        status = response.status().as_u16(),
        micros = started.elapsed().as_micros() as u64,
        "scheduler request"
    );
    response
}

/// The request's members in one JSON object: the body's, the path's and the query's.
async fn input(app: &App, route: &Route, req: Request<Incoming>) -> Result<Value, ApiError> {
    let query = req.uri().query().unwrap_or_default().to_string();
    let limit = app.config.max_body_bytes;
    let bytes = match Limited::new(req.into_body(), limit).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            return Err(ApiError::validation(format!(
                "Request body is larger than the limit of {limit} bytes, or could not be read."
            )));
        }
    };
    let mut members: Map<String, Value> = if bytes.iter().all(u8::is_ascii_whitespace) {
        Map::new()
    } else {
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(map)) => map,
            Ok(_) => {
                return Err(ApiError::validation(
                    "The request body must be a JSON object.",
                ));
            }
            Err(e) => {
                return Err(ApiError::validation(format!(
                    "The request body is not valid JSON: {e}"
                )));
            }
        }
    };
    if let Some((member, value)) = &route.path_member {
        members.insert(member.to_string(), Value::from(value.as_str()));
    }
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let (key, value) = (percent_decode(key, true), percent_decode(value, true));
        let Some((_, member, kind)) = route.query.iter().find(|(name, ..)| *name == key) else {
            continue;
        };
        match kind {
            QueryKind::Text => {
                members.insert(member.to_string(), Value::from(value));
            }
            QueryKind::Integer => {
                let number: i64 = value.parse().map_err(|_| {
                    ApiError::validation(format!("{member} must be an integer, not '{value}'."))
                })?;
                members.insert(member.to_string(), Value::from(number));
            }
            QueryKind::List => {
                let list = members
                    .entry(member.to_string())
                    .or_insert_with(|| Value::Array(Vec::new()));
                if let Value::Array(items) = list {
                    items.push(Value::from(value));
                }
            }
        }
    }
    Ok(Value::Object(members))
}

/// `%XX` decoding (and `+` as a space in a query string).
fn percent_decode(text: &str, plus_is_space: bool) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = |b: u8| (b as char).to_digit(16);
                match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                    (Some(high), Some(low)) => {
                        out.push((high * 16 + low) as u8);
                        i += 3;
                        continue;
                    }
                    _ => out.push(b'%'),
                }
            }
            b'+' if plus_is_space => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Scheduler's code and status for an error of the one table (`crate::error`): the codes are
/// botocore's `scheduler` model's, and so are their statuses.
fn code_and_status(code: ErrorCode) -> (&'static str, u16) {
    match code {
        ErrorCode::ResourceNotFound => ("ResourceNotFoundException", 404),
        ErrorCode::ResourceAlreadyExists | ErrorCode::ConcurrentModification => {
            ("ConflictException", 409)
        }
        ErrorCode::LimitExceeded => ("ServiceQuotaExceededException", 402),
        ErrorCode::Internal => ("InternalServerException", 500),
        ErrorCode::UnknownOperation => ("UnknownOperationException", 404),
        _ => ("ValidationException", 400),
    }
}

fn json_response(
    status: StatusCode,
    body: &Value,
    request_id: &str,
    error_type: Option<&str>,
) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Ok(id) = HeaderValue::from_str(request_id) {
        headers.insert("x-amzn-requestid", id);
    }
    if let Some(code) = error_type.and_then(|c| HeaderValue::from_str(c).ok()) {
        headers.insert("x-amzn-errortype", code);
    }
    response
}

fn error_response(err: &ApiError, request_id: &str) -> Response<Full<Bytes>> {
    let (code, status) = code_and_status(err.code);
    json_response(
        StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
        &json!({ "Message": err.message }),
        request_id,
        Some(code),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_by_method_and_path() {
        let r = route(&Method::POST, "/schedules/my%2Dschedule").unwrap();
        assert_eq!(r.operation, "CreateSchedule");
        assert_eq!(r.path_member.unwrap().1, "my-schedule");
        let r = route(
            &Method::DELETE,
            "/tags/arn%3Aaws%3Ascheduler%3Aus-east-1%3A000000000000%3Aschedule-group%2Fg",
        )
        .unwrap();
        assert_eq!(r.operation, "UntagResource");
        assert_eq!(
            r.path_member.unwrap().1,
            "arn:aws:scheduler:us-east-1:000000000000:schedule-group/g"
        );
        assert_eq!(
            route(&Method::GET, "/schedule-groups").unwrap().operation,
            "ListScheduleGroups"
        );
        assert!(route(&Method::PATCH, "/schedules/x").is_none());
        assert!(route(&Method::POST, "/schedules").is_none());
        assert!(is_scheduler_request("/schedules"));
        assert!(is_scheduler_request("/tags/arn"));
        assert!(!is_scheduler_request("/"));
        assert!(!is_scheduler_request("/schedulesx"));
    }

    #[test]
    fn decodes_percent_and_plus() {
        assert_eq!(percent_decode("a%20b+c", true), "a b c");
        assert_eq!(percent_decode("a+b", false), "a+b");
        assert_eq!(percent_decode("50%", false), "50%");
        assert_eq!(percent_decode("%4", false), "%4");
    }
}
