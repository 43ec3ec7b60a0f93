//! Endpoints that are not AWS's, under `/_local/`: health, the delivery log, and the test
//! controls (one file each): the clock, explanations and recent events, waits, injected
//! faults, reset and firing a scheduled rule now; and the health of global endpoints'
//! primary regions (`/_local/endpoints/health`, in place of Route 53). Bodies are JSON both ways; errors answer
//! `{"message": ...}` with a 4xx status.

mod clock;
pub mod console;
mod endpoints;
mod explain;
mod faults;
mod fire;
mod reset;
mod waits;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{Value, json};

use crate::app::App;
use crate::model::Scope;

pub async fn handle(app: &App, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    if console::is_console(&path) {
        return console::handle(app, req).await;
    }
    if method == Method::POST && path == "/_local/endpoints/health" {
        return endpoints::set_health(app, req).await;
    }
    let query = Query::parse(req.uri().query().unwrap_or_default());
    let result = match (&method, path.as_str()) {
        (&Method::GET, "/_local/health") => Ok(json!({
            "status": "ok",
            "version": env!("CARGO_PKG_VERSION"),
            "operations": crate::ops::IMPLEMENTED.as_slice(),
            "schedulerOperations": crate::scheduler_ops::IMPLEMENTED.as_slice(),
        })),
        (&Method::GET, "/_local/deliveries") => waits::deliveries(app, &query).await,
        (&Method::GET, "/_local/events") => waits::events(app, &query).await,
        (&Method::GET, "/_local/clock") => Ok(clock::show(app)),
        (&Method::POST, "/_local/clock") => match body(app, req).await {
            Ok(body) => clock::change(app, body).await,
            Err(e) => Err(e),
        },
        (&Method::POST, "/_local/explain") => match body(app, req).await {
            Ok(body) => explain::explain(app, body),
            Err(e) => Err(e),
        },
        (&Method::GET, "/_local/faults") => Ok(faults::list(app)),
        (&Method::POST, "/_local/faults") => match body(app, req).await {
            Ok(body) => faults::add(app, body),
            Err(e) => Err(e),
        },
        (&Method::DELETE, "/_local/faults") => Ok(faults::clear(app, query.get("id"))),
        (&Method::DELETE, p) if p.starts_with("/_local/faults/") => {
            faults::clear_one(app, &p["/_local/faults/".len()..])
        }
        (&Method::POST, "/_local/reset") => reset::reset(app, &query).await,
        (&Method::POST, "/_local/rules/fire") => match body(app, req).await {
            Ok(body) => fire::fire(app, body).await,
            Err(e) => Err(e),
        },
        _ => Err(LocalError::new(
            StatusCode::NOT_FOUND,
            format!("no such endpoint: {method} {path}"),
        )),
    };
    match result {
        Ok(body) => json(StatusCode::OK, body),
        Err(e) => json(e.status, json!({ "message": e.message })),
    }
}

/// A control's refusal: a status and a message.
#[derive(Debug)]
pub struct LocalError {
    status: StatusCode,
    message: String,
}

impl LocalError {
    fn new(status: StatusCode, message: impl Into<String>) -> LocalError {
        LocalError {
            status,
            message: message.into(),
        }
    }

    fn bad_request(message: impl Into<String>) -> LocalError {
        LocalError::new(StatusCode::BAD_REQUEST, message)
    }

    fn not_found(message: impl Into<String>) -> LocalError {
        LocalError::new(StatusCode::NOT_FOUND, message)
    }
}

type Answer = Result<Value, LocalError>;

/// The request body as JSON (an empty body is `{}`).
async fn body(app: &App, req: Request<Incoming>) -> Result<Value, LocalError> {
    let bytes = match Limited::new(req.into_body(), app.config.max_body_bytes)
        .collect()
        .await
    {
        Ok(collected) => collected.to_bytes(),
        Err(e) => {
            return Err(LocalError::bad_request(format!(
                "cannot read the body: {e}"
            )));
        }
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(value @ Value::Object(_)) => Ok(value),
        Ok(_) => Err(LocalError::bad_request("the body must be a JSON object")),
        Err(e) => Err(LocalError::bad_request(format!(
            "the body is not valid JSON: {e}"
        ))),
    }
}

/// A string member of a JSON body; present but not a string is an error.
fn string_member<'a>(body: &'a Value, key: &str) -> Result<Option<&'a str>, LocalError> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(LocalError::bad_request(format!("{key} must be a string"))),
    }
}

/// The (account, region) a control acts in: `account` and `region` of the body or query,
/// else the server's `--account-id` and `--region`.
fn scope_of(app: &App, account: Option<&str>, region: Option<&str>) -> Scope {
    Scope {
        account: account.unwrap_or(&app.config.account_id).to_string(),
        region: region.unwrap_or(&app.config.region).to_string(),
    }
}

/// A decoded query string, in order.
#[derive(Debug, Default)]
pub struct Query(Vec<(String, String)>);

impl Query {
    fn parse(query: &str) -> Query {
        Query(
            query
                .split('&')
                .filter(|p| !p.is_empty())
                .map(|pair| {
                    let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                    (percent_decode(key), percent_decode(value))
                })
                .collect(),
        )
    }

    /// The last value of `key` (or of one of its spellings).
    fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn first_of(&self, keys: &[&str]) -> Option<String> {
        keys.iter().find_map(|k| self.get(k)).map(str::to_string)
    }

    /// A number parameter; present but not a number is an error.
    fn number<T: std::str::FromStr>(&self, key: &str) -> Result<Option<T>, LocalError> {
        self.get(key)
            .map(|v| {
                v.parse()
                    .map_err(|_| LocalError::bad_request(format!("{key} must be a number: {v:?}")))
            })
            .transpose()
    }
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn json(status: StatusCode, body: Value) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_query() {
        let q = Query::parse("rule=arn%3Aaws%3Aevents&eventId=e1&limit=5&wait=0.5");
        assert_eq!(q.get("rule"), Some("arn:aws:events"));
        assert_eq!(q.get("eventId"), Some("e1"));
        assert_eq!(q.number::<usize>("limit").unwrap(), Some(5));
        assert_eq!(q.number::<f64>("wait").unwrap(), Some(0.5));
        assert!(q.number::<usize>("rule").is_err());
        assert_eq!(percent_decode("a%2"), "a%2");
        assert_eq!(percent_decode("a%20b+c"), "a b c");
        assert_eq!(percent_decode("%41"), "A");
        assert_eq!(percent_decode("%é"), "%é");
    }
}
