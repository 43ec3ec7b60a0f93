//! API destination targets: one real HTTP request per event, as EventBridge makes it.
//!
//! - URL: the destination's `InvocationEndpoint`, each `*` of its path replaced, in order, by
//!   the target's `HttpParameters.PathParameterValues` (a value starting with `$` is a JSONPath
//!   into the original event); query string = the endpoint's own, then the target's
//!   `QueryStringParameters`, then the connection's `InvocationHttpParameters` ones (the
//!   connection wins on the same key, as the HttpParameters reference says).
//! - Headers: `Content-Type: application/json; charset=utf-8` and
//!   `User-Agent: Amazon/EventBridge/ApiDestinations` unless overridden, then the target's
//!   `HeaderParameters`, the connection's header parameters, and the authorization:
//!   API_KEY `ApiKeyName: ApiKeyValue`; BASIC `Authorization: Basic base64(user:password)`;
//!   OAUTH_CLIENT_CREDENTIALS `Authorization: Bearer <token>`.
//! - Body: the target's payload (the event, or what its input transformation made of it);
//!   the connection's body parameters are merged into it when it is a JSON object. GET and
//!   HEAD requests have no body.
//! - Pacing: `InvocationRateLimitPerSecond` evenly spaced slots per destination; a delivery
//!   waits for its slot (it is never dropped). The waiting holds a delivery worker.
//! - Answers: 2xx succeeds. AWS documents retrying 401, 407, 409, 429 and 5xx and nothing
//!   else; so does this. Requests time out after 5 s, as AWS's do (retried).
//!
//! OAuth tokens: fetched from `AuthorizationEndpoint` with the connection's OAuth `HttpMethod`
//! at the first delivery (one request at a time per connection; the others wait and share
//! it), cached until `expires_in` (refreshed 10 s early), and fetched again once when the
//! endpoint answers 401 or 407. AWS does not document the token request's exact form; here
//! it is the RFC 6749 client-credentials request: the client id and secret as HTTP Basic
//! authorization, the connection's `OAuthHttpParameters` body parameters form-encoded (query
//! parameters for GET) with `grant_type=client_credentials` unless given, its header and query
//! parameters as such. A 4xx answer (but 429) deauthorizes the connection, with the reason in
//! `StateReason`; a 429, 5xx or transport error is retried and changes nothing.

use std::time::{Duration, Instant};

use base64::Engine;
use bytes::Bytes;
use http_body_util::Full;
use serde_json::{Map, Value};

use super::http::HttpOutcome;
use super::job::{Delivered, DeliveryJob, Failure};
use super::outbound::Outbound;
use crate::destinations::{Connection, ConnectionState, HttpParameters, Token};
use crate::model::TargetHttpParameters;
use crate::model::arn::ParsedArn;
use crate::transform::JsonPath;

/// AWS's client timeout for API destinations.
const TIMEOUT: Duration = Duration::from_secs(5);
const USER_AGENT: &str = "Amazon/EventBridge/ApiDestinations";

pub async fn invoke(
    out: &Outbound,
    job: &DeliveryJob,
    _arn: &ParsedArn<'_>,
) -> Result<Delivered, Failure> {
    let target_arn = job.target.arn();
    let destination = out
        .destinations
        .api_destination_by_arn(target_arn)
        .ok_or_else(|| {
            Failure::permanent(format!("API destination {target_arn} does not exist"))
        })?;
    let connection = out
        .destinations
        .connection_by_arn(&destination.connection_arn)
        .ok_or_else(|| {
            Failure::permanent(format!(
                "API destination {} is INACTIVE: its connection {} does not exist",
                destination.name, destination.connection_arn
            ))
        })?;
    if connection.is_deauthorized() {
        return Err(Failure::permanent(format!(
            "API destination {} is INACTIVE: connection {} is {}",
            destination.name,
            connection.name,
            connection.state.as_str()
        )));
    }
    let target_http = job.target.http_parameters();
    let invocation = connection
        .auth
        .invocation_http_parameters
        .clone()
        .unwrap_or_default();

    let url = invocation_url(
        &destination.invocation_endpoint,
        &target_http,
        &invocation,
        &job.event,
    )
    .map_err(Failure::permanent)?;

    let mut headers: Vec<(String, String)> = vec![
        (
            "content-type".into(),
            "application/json; charset=utf-8".into(),
        ),
        ("user-agent".into(), USER_AGENT.into()),
    ];
    for (k, v) in &target_http.header_parameters {
        set(&mut headers, k, v.clone());
    }
    for (k, v) in invocation.headers() {
        set(&mut headers, k, v.to_string());
    }

    let method = destination.http_method.as_str();
    let body = if matches!(method, "GET" | "HEAD") {
        Bytes::new()
    } else {
        Bytes::from(merge_body(&job.body, &invocation))
    };

    let wait = out.destinations.reserve_slot(
        &destination.arn(),
        destination.invocation_rate_limit_per_second,
    );
    if !wait.is_zero() {
        tokio::time::sleep(wait).await;
    }

    let oauth = connection.authorization_type == "OAUTH_CLIENT_CREDENTIALS";
    let mut token = None;
    if oauth {
        token = Some(bearer(out, &connection, None).await?);
    }
    let auth = authorization(&connection, token.as_deref());
    let mut outcome = send(out, method, &url, &headers, auth.as_ref(), body.clone()).await?;
    if oauth
        && matches!(
            outcome,
            HttpOutcome::Response {
                status: 401 | 407,
                ..
            }
        )
    {
        // The token may have been revoked or expired early: one new token, one more try.
        let fresh = bearer(out, &connection, token.as_deref()).await?;
        let auth = authorization(&connection, Some(&fresh));
        outcome = send(out, method, &url, &headers, auth.as_ref(), body).await?;
    }
    classify(outcome)
}

/// The authorization header of a connection (`None` when it adds none).
fn authorization(connection: &Connection, token: Option<&str>) -> Option<(String, String)> {
    let auth = &connection.auth;
    match connection.authorization_type.as_str() {
        "API_KEY" => {
            let a = auth.api_key_auth_parameters.as_ref()?;
            Some((a.api_key_name.clone()?, a.api_key_value.clone()?))
        }
        "BASIC" => {
            let b = auth.basic_auth_parameters.as_ref()?;
            Some((
                "authorization".into(),
                basic(b.username.as_deref()?, b.password.as_deref()?),
            ))
        }
        _ => token.map(|t| ("authorization".into(), format!("Bearer {t}"))),
    }
}

fn basic(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

fn classify(outcome: HttpOutcome) -> Result<Delivered, Failure> {
    match outcome {
        HttpOutcome::Response { status, body } if (200..300).contains(&status) => Ok(Delivered {
            status: Some(status),
            body,
        }),
        HttpOutcome::Response { status, body } => Err(Failure {
            retryable: matches!(status, 401 | 407 | 409 | 429) || status >= 500,
            status: Some(status),
            reason: String::from_utf8_lossy(&body[..body.len().min(512)]).into_owned(),
        }),
        HttpOutcome::Transport(reason) => Err(Failure {
            retryable: true,
            status: None,
            reason,
        }),
    }
}

/// One unsigned request with AWS's 5 s timeout. An https:// URL cannot be sent (the client
/// speaks plain HTTP only): a permanent failure that says so.
async fn send(
    out: &Outbound,
    method: &str,
    url: &str,
    headers: &[(String, String)],
    auth: Option<&(String, String)>,
    body: Bytes,
) -> Result<HttpOutcome, Failure> {
    if url.starts_with("https://") {
        return Err(Failure::permanent(format!(
            "eventbridge-local sends plain HTTP only; cannot call {url}"
        )));
    }
    let mut builder = http::Request::builder().method(method).uri(url);
    for (name, value) in headers.iter().chain(auth) {
        builder = builder.header(name.as_str(), value.as_str());
    }
    let request = builder
        .body(Full::new(body))
        .map_err(|e| Failure::permanent(format!("invalid request to {url}: {e}")))?;
    Ok(
        match tokio::time::timeout(TIMEOUT, out.client.send(request)).await {
            Ok(outcome) => outcome,
            Err(_) => HttpOutcome::Transport(format!(
                "no answer from {url} within {} s",
                TIMEOUT.as_secs()
            )),
        },
    )
}

/// Sets a header (names compare case-insensitively) or a query parameter (exactly).
fn set(list: &mut Vec<(String, String)>, key: &str, value: String) {
    let lower = key.to_ascii_lowercase();
    list.retain(|(k, _)| k.to_ascii_lowercase() != lower);
    list.push((lower, value));
}

fn set_exact(list: &mut Vec<(String, String)>, key: &str, value: String) {
    list.retain(|(k, _)| k != key);
    list.push((key.to_string(), value));
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn form(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The URL of one invocation: path wildcards filled, query parameters added.
fn invocation_url(
    endpoint: &str,
    target_http: &TargetHttpParameters,
    invocation: &HttpParameters,
    event: &str,
) -> Result<String, String> {
    let (base, own_query) = match endpoint.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (endpoint, None),
    };
    let path_start = base
        .find("://")
        .map(|i| i + 3)
        .and_then(|i| base[i..].find('/').map(|j| i + j))
        .unwrap_or(base.len());
    let (origin, path) = base.split_at(path_start);
    let values = &target_http.path_parameter_values;
    let wildcards = path.matches('*').count();
    if wildcards > values.len() {
        return Err(format!(
            "InvocationEndpoint {endpoint} has {wildcards} path wildcard(s) but the target's HttpParameters.PathParameterValues gives {}",
            values.len()
        ));
    }
    let mut filled = String::with_capacity(path.len());
    let mut next = values.iter();
    let mut parsed_event: Option<Value> = None;
    for c in path.chars() {
        if c != '*' {
            filled.push(c);
            continue;
        }
        let text = next.next().cloned().unwrap_or_else(|| "null".to_string());
        let text = if text.starts_with('$') {
            let root = parsed_event
                .get_or_insert_with(|| serde_json::from_str(event).unwrap_or(Value::Null));
            resolve(&text, root)?
        } else {
            text
        };
        filled.push_str(&encode(&text));
    }
    let mut query: Vec<(String, String)> = Vec::new();
    for (k, v) in &target_http.query_string_parameters {
        set_exact(&mut query, k, v.clone());
    }
    for (k, v) in invocation.query() {
        set_exact(&mut query, k, v.to_string());
    }
    let mut url = format!("{origin}{filled}");
    let extra = form(&query);
    match (own_query.filter(|q| !q.is_empty()), extra.is_empty()) {
        (Some(q), true) => url = format!("{url}?{q}"),
        (Some(q), false) => url = format!("{url}?{q}&{extra}"),
        (None, false) => url = format!("{url}?{extra}"),
        (None, true) => {}
    }
    Ok(url)
}

/// A JSONPath path parameter, against the original event: a string as is, anything else as
/// its JSON text.
fn resolve(path: &str, event: &Value) -> Result<String, String> {
    let compiled =
        JsonPath::parse(path).ok_or_else(|| format!("path parameter {path} is not a JSONPath"))?;
    match compiled.select(event) {
        Some(v) => Ok(v
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| v.to_string())),
        None => Err(format!(
            "path parameter {path} selects nothing in the event"
        )),
    }
}

/// The payload with the connection's body parameters merged in (they win), when both are
/// there and the payload is a JSON object; otherwise the payload unchanged.
fn merge_body(payload: &str, invocation: &HttpParameters) -> String {
    let params: Vec<(&str, &str)> = invocation.body().collect();
    if params.is_empty() {
        return payload.to_string();
    }
    match serde_json::from_str::<Value>(payload) {
        Ok(Value::Object(mut map)) => {
            for (k, v) in params {
                map.insert(k.to_string(), Value::String(v.to_string()));
            }
            Value::Object(map).to_string()
        }
        _ => payload.to_string(),
    }
}

/// A token for the connection: the cached one, unless it is missing, about to expire, or is
/// `rejected` (the one the endpoint just refused); then a new one.
async fn bearer(
    out: &Outbound,
    connection: &Connection,
    rejected: Option<&str>,
) -> Result<String, Failure> {
    let arn = connection.arn();
    let lock = out.destinations.token_lock(&arn);
    let _guard = lock.lock().await;
    if let Some(token) = out.destinations.token(&arn)
        && Some(token.access_token.as_str()) != rejected
    {
        return Ok(token.access_token);
    }
    let token = fetch_token(out, connection).await?;
    let access = token.access_token.clone();
    out.destinations.store_token(&arn, token);
    out.destinations
        .set_authorization(&arn, ConnectionState::Authorized, None);
    Ok(access)
}

async fn fetch_token(out: &Outbound, connection: &Connection) -> Result<Token, Failure> {
    let Some(oauth) = connection.auth.oauth_parameters.as_ref() else {
        return Err(Failure::permanent(format!(
            "connection {} has no OAuthParameters",
            connection.name
        )));
    };
    let endpoint = oauth.authorization_endpoint.clone().unwrap_or_default();
    let method = oauth
        .http_method
        .as_deref()
        .unwrap_or("POST")
        .to_ascii_uppercase();
    let client = oauth.client_parameters.clone().unwrap_or_default();
    let params = oauth.oauth_http_parameters.clone().unwrap_or_default();

    let mut body: Vec<(String, String)> = params
        .body()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    if !body.iter().any(|(k, _)| k == "grant_type") {
        body.insert(0, ("grant_type".into(), "client_credentials".into()));
    }
    let mut query: Vec<(String, String)> = params
        .query()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let mut headers: Vec<(String, String)> = Vec::new();
    let payload = if method == "GET" {
        query.extend(body);
        Bytes::new()
    } else {
        set(
            &mut headers,
            "content-type",
            "application/x-www-form-urlencoded".into(),
        );
        Bytes::from(form(&body))
    };
    set(&mut headers, "user-agent", USER_AGENT.into());
    set(&mut headers, "accept", "application/json".into());
    for (k, v) in params.headers() {
        set(&mut headers, k, v.to_string());
    }
    let url = if query.is_empty() {
        endpoint.clone()
    } else {
        let sep = if endpoint.contains('?') { '&' } else { '?' };
        format!("{endpoint}{sep}{}", form(&query))
    };
    let auth = (
        "authorization".to_string(),
        basic(
            client.client_id.as_deref().unwrap_or_default(),
            client.client_secret.as_deref().unwrap_or_default(),
        ),
    );
    let outcome = send(out, &method, &url, &headers, Some(&auth), payload).await?;
    let deauthorize = |reason: String| {
        out.destinations.set_authorization(
            &connection.arn(),
            ConnectionState::Deauthorized,
            Some(reason.clone()),
        );
        Failure::permanent(reason)
    };
    match outcome {
        HttpOutcome::Transport(reason) => Err(Failure {
            retryable: true,
            status: None,
            reason: format!("OAuth token request to {endpoint} failed: {reason}"),
        }),
        HttpOutcome::Response { status, .. } if status == 429 || status >= 500 => Err(Failure {
            retryable: true,
            status: Some(status),
            reason: format!("OAuth token request to {endpoint} answered {status}"),
        }),
        HttpOutcome::Response { status, body } if !(200..300).contains(&status) => {
            Err(deauthorize(format!(
                "Failed to obtain an OAuth token: {endpoint} answered {status}: {}",
                String::from_utf8_lossy(&body[..body.len().min(200)])
            )))
        }
        HttpOutcome::Response { body, .. } => {
            let answer: Map<String, Value> = serde_json::from_slice(&body).unwrap_or_default();
            let Some(access_token) = answer.get("access_token").and_then(Value::as_str) else {
                return Err(deauthorize(format!(
                    "Failed to obtain an OAuth token: the answer of {endpoint} has no access_token"
                )));
            };
            let expires_in = answer.get("expires_in").and_then(|v| {
                v.as_u64()
                    .or_else(|| v.as_f64().map(|f| f.max(0.0) as u64))
                    .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
            });
            Ok(Token {
                access_token: access_token.to_string(),
                expires_at: expires_in.map(|s| Instant::now() + Duration::from_secs(s)),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A target's `HttpParameters` as delivery reads them.
    fn target_params(http: Value) -> TargetHttpParameters {
        let target = json!({"Id": "t", "Arn": "a", "HttpParameters": http});
        crate::model::Target(target.as_object().unwrap().clone()).http_parameters()
    }

    #[test]
    fn fills_path_wildcards_and_query() {
        let http = json!({
            "PathParameterValues": ["orders", "$.detail.id"],
            "QueryStringParameters": {"a": "1", "shared": "target"}
        });
        let invocation: HttpParameters = serde_json::from_value(json!({
            "QueryStringParameters": [{"Key": "shared", "Value": "conn"}, {"Key": "sp ace", "Value": "x y"}]
        }))
        .unwrap();
        let event = r#"{"detail":{"id":"a/b 1"}}"#;
        let url = invocation_url(
            "http://h:1/api/*/items/*?fixed=yes",
            &target_params(http),
            &invocation,
            event,
        )
        .unwrap();
        assert_eq!(
            url,
            "http://h:1/api/orders/items/a%2Fb%201?fixed=yes&a=1&shared=conn&sp%20ace=x%20y"
        );
    }

    #[test]
    fn missing_path_values_fail() {
        let none = TargetHttpParameters::default();
        let err = invocation_url("http://h/*", &none, &HttpParameters::default(), "{}");
        assert!(err.is_err());
        let http = json!({"PathParameterValues": ["$.detail.nope"]});
        assert!(
            invocation_url(
                "http://h/*",
                &target_params(http),
                &HttpParameters::default(),
                "{}"
            )
            .is_err()
        );
    }

    #[test]
    fn body_parameters_merge_into_objects_only() {
        let invocation: HttpParameters = serde_json::from_value(json!({
            "BodyParameters": [{"Key": "k", "Value": "v"}]
        }))
        .unwrap();
        assert_eq!(merge_body(r#"{"a":1}"#, &invocation), r#"{"a":1,"k":"v"}"#);
        assert_eq!(merge_body(r#""text""#, &invocation), r#""text""#);
    }

    #[test]
    fn retry_classification_follows_aws() {
        let status = |s: u16| {
            classify(HttpOutcome::Response {
                status: s,
                body: Bytes::new(),
            })
        };
        assert!(status(204).is_ok());
        for s in [401, 407, 409, 429, 500, 503] {
            assert!(status(s).unwrap_err().retryable, "{s}");
        }
        for s in [400, 403, 404, 422] {
            assert!(!status(s).unwrap_err().retryable, "{s}");
        }
    }
}
