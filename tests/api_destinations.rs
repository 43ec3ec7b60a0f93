//! Connections and API destinations: CRUD and errors over raw HTTP, and deliveries to a little
//! HTTP server in the test that records every request (and plays an OAuth token endpoint).

mod support;

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use clap::Parser;
use eventbridge_local::Config;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use support::{TestServer, eventually};

/// One request the endpoint received.
#[derive(Debug, Clone)]
struct Call {
    method: String,
    /// Path and query.
    uri: String,
    headers: HashMap<String, String>,
    body: String,
    at: Instant,
}

#[derive(Default)]
struct Endpoint {
    calls: Mutex<Vec<Call>>,
    token_requests: Mutex<Vec<Call>>,
    /// Answer 401 to requests bearing this token.
    reject_token: Mutex<Option<String>>,
}

impl Endpoint {
    fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap().clone()
    }

    fn token_requests(&self) -> Vec<Call> {
        self.token_requests.lock().unwrap().clone()
    }

    async fn wait_calls(&self, n: usize) -> Vec<Call> {
        eventually(10, &format!("{n} call(s) to the endpoint"), || {
            let calls = self.calls();
            async move { (calls.len() >= n).then_some(calls) }
        })
        .await
    }
}

/// `/token` answers `{"access_token": "tok-N", "expires_in": 3600}` (N counts token requests);
/// every other path answers 200, or 401 to a rejected bearer token.
async fn start_endpoint(endpoint: Arc<Endpoint>) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                break;
            };
            let endpoint = endpoint.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                    let endpoint = endpoint.clone();
                    async move {
                        let method = req.method().to_string();
                        let uri = req.uri().to_string();
                        let headers = req
                            .headers()
                            .iter()
                            .map(|(k, v)| {
                                (k.as_str().to_string(), v.to_str().unwrap_or("").to_string())
                            })
                            .collect::<HashMap<_, _>>();
                        let body = req.into_body().collect().await.unwrap().to_bytes();
                        let call = Call {
                            method,
                            uri: uri.clone(),
                            headers,
                            body: String::from_utf8_lossy(&body).into_owned(),
                            at: Instant::now(),
                        };
                        let (status, answer) = if uri.starts_with("/token") {
                            let mut requests = endpoint.token_requests.lock().unwrap();
                            requests.push(call);
                            let token = format!("tok-{}", requests.len());
                            (
                                200,
                                json!({"access_token": token, "token_type": "Bearer", "expires_in": 3600})
                                    .to_string(),
                            )
                        } else {
                            let rejected = endpoint.reject_token.lock().unwrap().clone();
                            let bearer = call.headers.get("authorization").cloned();
                            if rejected.is_some_and(|t| bearer == Some(format!("Bearer {t}"))) {
                                (401, String::new())
                            } else {
                                endpoint.calls.lock().unwrap().push(call);
                                (200, "{}".to_string())
                            }
                        };
                        let mut response = Response::new(Full::new(Bytes::from(answer)));
                        *response.status_mut() = hyper::StatusCode::from_u16(status).unwrap();
                        Ok::<_, Infallible>(response)
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

async fn server() -> TestServer {
    let config = Config::parse_from([
        "eventbridge-local",
        "--in-memory",
        "--port",
        "0",
        "--retry-base-delay-ms",
        "10",
    ]);
    TestServer::start_with(config).await
}

async fn ok(server: &TestServer, operation: &str, body: Value) -> Value {
    let reply = server.call(operation, body).await;
    assert_eq!(reply.status, 200, "{operation}: {:?}", reply.body);
    reply.body
}

async fn api_key_connection(server: &TestServer, name: &str) -> String {
    let reply = ok(
        server,
        "CreateConnection",
        json!({
            "Name": name,
            "AuthorizationType": "API_KEY",
            "AuthParameters": {"ApiKeyAuthParameters": {"ApiKeyName": "x-api-key", "ApiKeyValue": "key-secret-1"}}
        }),
    )
    .await;
    reply["ConnectionArn"].as_str().unwrap().to_string()
}

async fn destination(server: &TestServer, name: &str, connection_arn: &str, url: &str) -> String {
    let reply = ok(
        server,
        "CreateApiDestination",
        json!({"Name": name, "ConnectionArn": connection_arn, "InvocationEndpoint": url, "HttpMethod": "POST"}),
    )
    .await;
    reply["ApiDestinationArn"].as_str().unwrap().to_string()
}

async fn rule_to(server: &TestServer, rule: &str, target: Value) {
    ok(
        server,
        "PutRule",
        json!({"Name": rule, "EventPattern": "{\"source\":[\"shop\"]}"}),
    )
    .await;
    let reply = ok(
        server,
        "PutTargets",
        json!({"Rule": rule, "Targets": [target]}),
    )
    .await;
    assert_eq!(reply["FailedEntryCount"], 0, "{reply:?}");
}

async fn put_event(server: &TestServer, detail: Value) {
    let reply = ok(
        server,
        "PutEvents",
        json!({"Entries": [{"Source": "shop", "DetailType": "order", "Detail": detail.to_string()}]}),
    )
    .await;
    assert_eq!(reply["FailedEntryCount"], 0);
}

#[tokio::test]
async fn connection_crud_states_and_errors() {
    let server = server().await;
    let arn = api_key_connection(&server, "conn-a").await;
    let re = regex::Regex::new(
        r"^arn:aws:events:us-east-1:000000000000:connection/conn-a/[0-9a-f-]{36}$",
    )
    .unwrap();
    assert!(re.is_match(&arn), "{arn}");

    let dup = server
        .call(
            "CreateConnection",
            json!({"Name": "conn-a", "AuthorizationType": "API_KEY",
                   "AuthParameters": {"ApiKeyAuthParameters": {"ApiKeyName": "k", "ApiKeyValue": "v"}}}),
        )
        .await;
    assert_eq!(dup.error_type(), "ResourceAlreadyExistsException");

    let described = ok(&server, "DescribeConnection", json!({"Name": "conn-a"})).await;
    assert_eq!(described["ConnectionState"], "AUTHORIZED");
    assert_eq!(described["AuthorizationType"], "API_KEY");
    assert_eq!(
        described["AuthParameters"],
        json!({"ApiKeyAuthParameters": {"ApiKeyName": "x-api-key"}})
    );
    let secret = described["SecretArn"].as_str().unwrap();
    let secret_re = regex::Regex::new(
        r"^arn:aws:secretsmanager:us-east-1:000000000000:secret:events!connection/conn-a/[0-9a-f-]{36}-[A-Za-z0-9]{6}$",
    )
    .unwrap();
    assert!(secret_re.is_match(secret), "{secret}");
    assert!(described["LastAuthorizedTime"].is_number());

    let missing = server
        .call("DescribeConnection", json!({"Name": "nope"}))
        .await;
    assert_eq!(missing.error_type(), "ResourceNotFoundException");
    assert_eq!(
        missing.message(),
        "Failed to describe the connection(s). Connection 'nope' does not exist."
    );

    // API destination on it; deauthorizing makes it INACTIVE, updating authorizes again.
    let dest = destination(&server, "dest-a", &arn, "https://example.com/hook").await;
    assert!(dest.contains(":api-destination/dest-a/"), "{dest}");
    let deauth = ok(&server, "DeauthorizeConnection", json!({"Name": "conn-a"})).await;
    assert_eq!(deauth["ConnectionState"], "DEAUTHORIZED");
    let d = ok(&server, "DescribeApiDestination", json!({"Name": "dest-a"})).await;
    assert_eq!(d["ApiDestinationState"], "INACTIVE");
    let listed = ok(
        &server,
        "ListConnections",
        json!({"ConnectionState": "DEAUTHORIZED"}),
    )
    .await;
    assert_eq!(listed["Connections"].as_array().unwrap().len(), 1);
    let updated = ok(
        &server,
        "UpdateConnection",
        json!({"Name": "conn-a", "Description": "again"}),
    )
    .await;
    assert_eq!(updated["ConnectionState"], "AUTHORIZED");
    let d = ok(&server, "DescribeApiDestination", json!({"Name": "dest-a"})).await;
    assert_eq!(d["ApiDestinationState"], "ACTIVE");
    assert_eq!(d["InvocationRateLimitPerSecond"], 300);
    assert_eq!(d["HttpMethod"], "POST");

    // Switching type needs the new type's parameters; then the old ones are gone.
    let incomplete = server
        .call(
            "UpdateConnection",
            json!({"Name": "conn-a", "AuthorizationType": "BASIC"}),
        )
        .await;
    assert_eq!(incomplete.error_type(), "ValidationException");
    ok(
        &server,
        "UpdateConnection",
        json!({"Name": "conn-a", "AuthorizationType": "BASIC",
               "AuthParameters": {"BasicAuthParameters": {"Username": "u", "Password": "p"}}}),
    )
    .await;
    let described = ok(&server, "DescribeConnection", json!({"Name": "conn-a"})).await;
    assert_eq!(
        described["AuthParameters"],
        json!({"BasicAuthParameters": {"Username": "u"}})
    );
    assert_eq!(described["Description"], "again");

    // Lists, prefixes, pagination.
    api_key_connection(&server, "conn-b").await;
    api_key_connection(&server, "other").await;
    let page = ok(
        &server,
        "ListConnections",
        json!({"NamePrefix": "conn-", "Limit": 1}),
    )
    .await;
    assert_eq!(page["Connections"][0]["Name"], "conn-a");
    let next = ok(
        &server,
        "ListConnections",
        json!({"NamePrefix": "conn-", "Limit": 1, "NextToken": page["NextToken"]}),
    )
    .await;
    assert_eq!(next["Connections"][0]["Name"], "conn-b");
    assert!(next.get("NextToken").is_none());

    let deleted = ok(&server, "DeleteConnection", json!({"Name": "conn-a"})).await;
    assert_eq!(deleted["ConnectionState"], "DELETING");
    let gone = server
        .call("DeleteConnection", json!({"Name": "conn-a"}))
        .await;
    assert_eq!(gone.error_type(), "ResourceNotFoundException");
    let d = ok(&server, "DescribeApiDestination", json!({"Name": "dest-a"})).await;
    assert_eq!(d["ApiDestinationState"], "INACTIVE");
    server.stop().await;
}

#[tokio::test]
async fn api_destination_crud_and_errors() {
    let server = server().await;
    let conn = api_key_connection(&server, "c").await;
    let conn2 = api_key_connection(&server, "c2").await;
    destination(&server, "d1", &conn, "http://127.0.0.1:9/a").await;
    destination(&server, "d2", &conn2, "http://127.0.0.1:9/b").await;
    let dup = server
        .call(
            "CreateApiDestination",
            json!({"Name": "d1", "ConnectionArn": conn, "InvocationEndpoint": "https://x.example", "HttpMethod": "GET"}),
        )
        .await;
    assert_eq!(dup.error_type(), "ResourceAlreadyExistsException");
    assert_eq!(dup.message(), "An api-destination 'd1' already exists.");

    let unknown_connection = server
        .call(
            "CreateApiDestination",
            json!({"Name": "d3", "ConnectionArn": "arn:aws:events:us-east-1:000000000000:connection/ghost/1234-abcd",
                   "InvocationEndpoint": "https://x.example", "HttpMethod": "GET"}),
        )
        .await;
    assert_eq!(unknown_connection.error_type(), "ResourceNotFoundException");

    let bad = server
        .call(
            "CreateApiDestination",
            json!({"Name": "bad name", "ConnectionArn": conn, "InvocationEndpoint": "https://x.example",
                   "HttpMethod": "TRACE", "InvocationRateLimitPerSecond": 0}),
        )
        .await;
    assert_eq!(bad.error_type(), "ValidationException");
    assert_eq!(
        bad.message(),
        "3 validation errors detected: Value 'bad name' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+; Value 'TRACE' at 'httpMethod' failed to satisfy constraint: Member must satisfy enum value set: [POST, GET, HEAD, OPTIONS, PUT, PATCH, DELETE]; Value '0' at 'invocationRateLimitPerSecond' failed to satisfy constraint: Member must have value greater than or equal to 1"
    );
    let ftp = server
        .call(
            "CreateApiDestination",
            json!({"Name": "d4", "ConnectionArn": conn, "InvocationEndpoint": "ftp://x.example/a", "HttpMethod": "GET"}),
        )
        .await;
    assert_eq!(ftp.error_type(), "ValidationException");

    let by_connection = ok(
        &server,
        "ListApiDestinations",
        json!({"ConnectionArn": conn2}),
    )
    .await;
    let items = by_connection["ApiDestinations"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["Name"], "d2");
    assert_eq!(items[0]["ApiDestinationState"], "ACTIVE");

    let updated = ok(
        &server,
        "UpdateApiDestination",
        json!({"Name": "d1", "HttpMethod": "PUT", "InvocationRateLimitPerSecond": 7, "Description": "x"}),
    )
    .await;
    assert_eq!(updated["ApiDestinationState"], "ACTIVE");
    let d = ok(&server, "DescribeApiDestination", json!({"Name": "d1"})).await;
    assert_eq!(
        (
            d["HttpMethod"].as_str(),
            d["InvocationRateLimitPerSecond"].as_i64(),
            d["Description"].as_str()
        ),
        (Some("PUT"), Some(7), Some("x"))
    );

    ok(&server, "DeleteApiDestination", json!({"Name": "d1"})).await;
    let gone = server
        .call("DescribeApiDestination", json!({"Name": "d1"}))
        .await;
    assert_eq!(gone.error_type(), "ResourceNotFoundException");
    assert_eq!(
        gone.message(),
        "Failed to describe the api-destination(s). An api-destination 'd1' does not exist."
    );
    let gone = server
        .call(
            "UpdateApiDestination",
            json!({"Name": "d1", "HttpMethod": "GET"}),
        )
        .await;
    assert_eq!(gone.error_type(), "ResourceNotFoundException");
    server.stop().await;
}

#[tokio::test]
async fn connection_validation_uses_aws_messages() {
    let server = server().await;
    let reply = server
        .call(
            "CreateConnection",
            json!({"Name": "Invalid Name With Spaces!", "AuthorizationType": "INVALID", "AuthParameters": {}}),
        )
        .await;
    assert_eq!(reply.error_type(), "ValidationException");
    assert_eq!(
        reply.message(),
        "2 validation errors detected: Value 'Invalid Name With Spaces!' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+; Value 'INVALID' at 'authorizationType' failed to satisfy constraint: Member must satisfy enum value set: [BASIC, OAUTH_CLIENT_CREDENTIALS, API_KEY]"
    );
    let missing = server
        .call(
            "CreateConnection",
            json!({"Name": "n", "AuthorizationType": "BASIC",
                   "AuthParameters": {"BasicAuthParameters": {"Username": "u"}}}),
        )
        .await;
    assert_eq!(
        missing.message(),
        "1 validation error detected: Value null at 'authParameters.basicAuthParameters.password' failed to satisfy constraint: Member must not be null"
    );
    let wrong_block = server
        .call(
            "CreateConnection",
            json!({"Name": "n", "AuthorizationType": "BASIC",
                   "AuthParameters": {"ApiKeyAuthParameters": {"ApiKeyName": "k", "ApiKeyValue": "v"}}}),
        )
        .await;
    assert_eq!(wrong_block.error_type(), "ValidationException");
    server.stop().await;
}

#[tokio::test]
async fn secrets_never_leave_describe_or_list() {
    let server = server().await;
    ok(
        &server,
        "CreateConnection",
        json!({
            "Name": "oauth",
            "AuthorizationType": "OAUTH_CLIENT_CREDENTIALS",
            "AuthParameters": {
                "OAuthParameters": {
                    "ClientParameters": {"ClientID": "client-1", "ClientSecret": "SECRET-client"},
                    "AuthorizationEndpoint": "http://127.0.0.1:9/token",
                    "HttpMethod": "POST",
                    "OAuthHttpParameters": {"BodyParameters": [{"Key": "audience", "Value": "SECRET-aud", "IsValueSecret": true}]}
                },
                "InvocationHttpParameters": {
                    "HeaderParameters": [{"Key": "x-secret", "Value": "SECRET-header", "IsValueSecret": true},
                                         {"Key": "x-public", "Value": "visible", "IsValueSecret": false}],
                    "QueryStringParameters": [{"Key": "q", "Value": "SECRET-query", "IsValueSecret": true}],
                    "BodyParameters": [{"Key": "b", "Value": "SECRET-body", "IsValueSecret": true}]
                }
            }
        }),
    )
    .await;
    ok(
        &server,
        "CreateConnection",
        json!({"Name": "basic", "AuthorizationType": "BASIC",
               "AuthParameters": {"BasicAuthParameters": {"Username": "user", "Password": "SECRET-password"}}}),
    )
    .await;
    api_key_connection(&server, "key").await;
    let mut seen = String::new();
    for name in ["oauth", "basic", "key"] {
        seen.push_str(
            &ok(&server, "DescribeConnection", json!({"Name": name}))
                .await
                .to_string(),
        );
    }
    seen.push_str(&ok(&server, "ListConnections", json!({})).await.to_string());
    assert!(!seen.contains("SECRET"), "{seen}");
    assert!(!seen.contains("key-secret-1"), "{seen}");
    assert!(seen.contains("visible") && seen.contains("client-1") && seen.contains("\"user\""));
    let oauth = ok(&server, "DescribeConnection", json!({"Name": "oauth"})).await;
    assert_eq!(oauth["ConnectionState"], "AUTHORIZING");
    server.stop().await;
}

#[tokio::test]
async fn api_key_delivery_sends_parameters_path_and_body() {
    let endpoint = Arc::new(Endpoint::default());
    let addr = start_endpoint(endpoint.clone()).await;
    let server = server().await;
    let conn = ok(
        &server,
        "CreateConnection",
        json!({
            "Name": "key",
            "AuthorizationType": "API_KEY",
            "AuthParameters": {
                "ApiKeyAuthParameters": {"ApiKeyName": "x-api-key", "ApiKeyValue": "key-secret-1"},
                "InvocationHttpParameters": {
                    "HeaderParameters": [{"Key": "x-conn", "Value": "c1", "IsValueSecret": true},
                                         {"Key": "x-shared", "Value": "from-connection"}],
                    "QueryStringParameters": [{"Key": "cq", "Value": "v 1"}],
                    "BodyParameters": [{"Key": "added", "Value": "by-connection"}]
                }
            }
        }),
    )
    .await["ConnectionArn"]
        .as_str()
        .unwrap()
        .to_string();
    let dest = destination(
        &server,
        "orders",
        &conn,
        &format!("http://{addr}/orders/*/items/*"),
    )
    .await;
    rule_to(
        &server,
        "r",
        json!({"Id": "t", "Arn": dest, "HttpParameters": {
            "PathParameterValues": ["shop-1", "$.detail.id"],
            "HeaderParameters": {"x-target": "t1", "x-shared": "from-target"},
            "QueryStringParameters": {"tq": "2"}
        }}),
    )
    .await;
    put_event(&server, json!({"id": "o-42", "n": 1})).await;
    let calls = endpoint.wait_calls(1).await;
    let call = &calls[0];
    assert_eq!(call.method, "POST");
    assert_eq!(call.uri, "/orders/shop-1/items/o-42?tq=2&cq=v%201");
    assert_eq!(call.headers["x-api-key"], "key-secret-1");
    assert_eq!(call.headers["x-conn"], "c1");
    assert_eq!(call.headers["x-target"], "t1");
    assert_eq!(call.headers["x-shared"], "from-connection");
    assert_eq!(
        call.headers["content-type"],
        "application/json; charset=utf-8"
    );
    let body: Value = serde_json::from_str(&call.body).unwrap();
    assert_eq!(body["detail"], json!({"id": "o-42", "n": 1}));
    assert_eq!(body["added"], "by-connection");
    assert_eq!(body["source"], "shop");
    server.stop().await;
}

#[tokio::test]
async fn basic_delivery_with_get_has_no_body() {
    let endpoint = Arc::new(Endpoint::default());
    let addr = start_endpoint(endpoint.clone()).await;
    let server = server().await;
    let conn = ok(
        &server,
        "CreateConnection",
        json!({"Name": "basic", "AuthorizationType": "BASIC",
               "AuthParameters": {"BasicAuthParameters": {"Username": "user", "Password": "p@ss w0rd"}}}),
    )
    .await["ConnectionArn"]
        .as_str()
        .unwrap()
        .to_string();
    let dest = ok(
        &server,
        "CreateApiDestination",
        json!({"Name": "ping", "ConnectionArn": conn, "InvocationEndpoint": format!("http://{addr}/ping"), "HttpMethod": "GET"}),
    )
    .await["ApiDestinationArn"]
        .as_str()
        .unwrap()
        .to_string();
    rule_to(&server, "r", json!({"Id": "t", "Arn": dest})).await;
    put_event(&server, json!({"x": 1})).await;
    let calls = endpoint.wait_calls(1).await;
    assert_eq!(calls[0].method, "GET");
    assert_eq!(calls[0].uri, "/ping");
    // base64("user:p@ss w0rd")
    assert_eq!(
        calls[0].headers["authorization"],
        "Basic dXNlcjpwQHNzIHcwcmQ="
    );
    assert_eq!(calls[0].body, "");
    server.stop().await;
}

async fn oauth_setup(server: &TestServer, addr: SocketAddr) {
    let conn = ok(
        server,
        "CreateConnection",
        json!({
            "Name": "oauth",
            "AuthorizationType": "OAUTH_CLIENT_CREDENTIALS",
            "AuthParameters": {"OAuthParameters": {
                "ClientParameters": {"ClientID": "client-1", "ClientSecret": "s3cret"},
                "AuthorizationEndpoint": format!("http://{addr}/token"),
                "HttpMethod": "POST",
                "OAuthHttpParameters": {"BodyParameters": [{"Key": "audience", "Value": "api://x"}]}
            }}
        }),
    )
    .await["ConnectionArn"]
        .as_str()
        .unwrap()
        .to_string();
    let dest = destination(server, "hook", &conn, &format!("http://{addr}/hook")).await;
    rule_to(server, "r", json!({"Id": "t", "Arn": dest})).await;
}

#[tokio::test]
async fn oauth_token_is_fetched_once_and_reused() {
    let endpoint = Arc::new(Endpoint::default());
    let addr = start_endpoint(endpoint.clone()).await;
    let server = server().await;
    oauth_setup(&server, addr).await;
    let state = ok(&server, "DescribeConnection", json!({"Name": "oauth"})).await;
    assert_eq!(state["ConnectionState"], "AUTHORIZING");
    for i in 0..3 {
        put_event(&server, json!({"i": i})).await;
    }
    let calls = endpoint.wait_calls(3).await;
    for call in &calls {
        assert_eq!(call.headers["authorization"], "Bearer tok-1");
    }
    let tokens = endpoint.token_requests();
    assert_eq!(tokens.len(), 1, "{tokens:?}");
    let request = &tokens[0];
    assert_eq!(request.method, "POST");
    // base64("client-1:s3cret")
    assert_eq!(
        request.headers["authorization"],
        "Basic Y2xpZW50LTE6czNjcmV0"
    );
    assert_eq!(
        request.headers["content-type"],
        "application/x-www-form-urlencoded"
    );
    assert_eq!(
        request.body,
        "grant_type=client_credentials&audience=api%3A%2F%2Fx"
    );
    let state = ok(&server, "DescribeConnection", json!({"Name": "oauth"})).await;
    assert_eq!(state["ConnectionState"], "AUTHORIZED");
    assert!(state["LastAuthorizedTime"].is_number());
    server.stop().await;
}

#[tokio::test]
async fn oauth_token_is_refreshed_once_on_401() {
    let endpoint = Arc::new(Endpoint::default());
    *endpoint.reject_token.lock().unwrap() = Some("tok-1".into());
    let addr = start_endpoint(endpoint.clone()).await;
    let server = server().await;
    oauth_setup(&server, addr).await;
    put_event(&server, json!({"i": 1})).await;
    let calls = endpoint.wait_calls(1).await;
    assert_eq!(calls[0].headers["authorization"], "Bearer tok-2");
    put_event(&server, json!({"i": 2})).await;
    let calls = endpoint.wait_calls(2).await;
    assert_eq!(calls[1].headers["authorization"], "Bearer tok-2");
    assert_eq!(endpoint.token_requests().len(), 2);
    server.stop().await;
}

#[tokio::test]
async fn rate_limit_paces_deliveries_without_dropping() {
    let endpoint = Arc::new(Endpoint::default());
    let addr = start_endpoint(endpoint.clone()).await;
    let server = server().await;
    let conn = api_key_connection(&server, "c").await;
    ok(
        &server,
        "CreateApiDestination",
        json!({"Name": "slow", "ConnectionArn": conn, "InvocationEndpoint": format!("http://{addr}/slow"),
               "HttpMethod": "POST", "InvocationRateLimitPerSecond": 5}),
    )
    .await;
    let dest =
        ok(&server, "DescribeApiDestination", json!({"Name": "slow"})).await["ApiDestinationArn"]
            .as_str()
            .unwrap()
            .to_string();
    rule_to(&server, "r", json!({"Id": "t", "Arn": dest})).await;
    let started = Instant::now();
    for i in 0..10 {
        put_event(&server, json!({"i": i})).await;
    }
    let calls = endpoint.wait_calls(10).await;
    let span = calls.last().unwrap().at.duration_since(started);
    assert!(
        span >= Duration::from_millis(1500),
        "10 events at 5/s arrived within {span:?}"
    );
    assert_eq!(calls.len(), 10);
    server.stop().await;
}

#[tokio::test]
async fn deauthorized_connection_fails_deliveries_with_a_reason() {
    let endpoint = Arc::new(Endpoint::default());
    let addr = start_endpoint(endpoint.clone()).await;
    let server = server().await;
    let conn = api_key_connection(&server, "c").await;
    let dest = destination(&server, "d", &conn, &format!("http://{addr}/d")).await;
    rule_to(&server, "r", json!({"Id": "t", "Arn": dest})).await;
    ok(&server, "DeauthorizeConnection", json!({"Name": "c"})).await;
    put_event(&server, json!({"i": 1})).await;
    let record = eventually(10, "a failed delivery", || async {
        let log = server.get("/_local/deliveries").await.body;
        log.as_array()
            .or_else(|| log["deliveries"].as_array())
            .and_then(|l| l.first().cloned())
    })
    .await;
    assert_eq!(record["outcome"], "failed", "{record:?}");
    assert!(
        record["error"].as_str().unwrap().contains("DEAUTHORIZED"),
        "{record:?}"
    );
    assert!(endpoint.calls().is_empty());
    // UpdateConnection authorizes it again.
    ok(
        &server,
        "UpdateConnection",
        json!({"Name": "c", "AuthParameters": {"ApiKeyAuthParameters": {"ApiKeyValue": "new"}}}),
    )
    .await;
    put_event(&server, json!({"i": 2})).await;
    let calls = endpoint.wait_calls(1).await;
    assert_eq!(calls[0].headers["x-api-key"], "new");
    server.stop().await;
}

#[tokio::test]
async fn connections_and_destinations_survive_a_restart() {
    let dir = support::temp_dir("api-destinations");
    let server = TestServer::start_in(&dir).await;
    let conn = api_key_connection(&server, "kept").await;
    let dest = destination(&server, "kept-dest", &conn, "https://example.com/x").await;
    ok(&server, "DeauthorizeConnection", json!({"Name": "kept"})).await;
    server.stop().await;

    let server = TestServer::start_in(&dir).await;
    let c = ok(&server, "DescribeConnection", json!({"Name": "kept"})).await;
    assert_eq!(c["ConnectionArn"], conn);
    assert_eq!(c["ConnectionState"], "DEAUTHORIZED");
    let d = ok(
        &server,
        "DescribeApiDestination",
        json!({"Name": "kept-dest"}),
    )
    .await;
    assert_eq!(d["ApiDestinationArn"], dest);
    assert_eq!(d["ApiDestinationState"], "INACTIVE");
    server.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}
