//! Connections and API destinations: CRUD and errors over raw HTTP, and deliveries to the
//! recording receiver of `support`, which also plays the OAuth token endpoint.

mod support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use clap::Parser;
use eventbridge_local::Config;
use serde_json::{Value, json};
use support::receiver::Receiver;
use support::{TestServer, eventually};

/// An API destination's endpoint: 200 and `{}` to what it accepts.
async fn start_endpoint() -> Receiver {
    Receiver::start(200, "{}").await
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
        "3 validation errors detected: Value 'bad name' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+; Value 'TRACE' at 'httpMethod' failed to satisfy constraint: Member must satisfy enum value set: [HEAD, POST, PATCH, DELETE, PUT, GET, OPTIONS]; Value '0' at 'invocationRateLimitPerSecond' failed to satisfy constraint: Member must have value greater than or equal to 1"
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
    let endpoint = start_endpoint().await;
    let addr = endpoint.addr;
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
    let endpoint = start_endpoint().await;
    let addr = endpoint.addr;
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
    let endpoint = start_endpoint().await;
    let addr = endpoint.addr;
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
    let endpoint = start_endpoint().await;
    endpoint.reject_token("tok-1");
    let addr = endpoint.addr;
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
    let endpoint = start_endpoint().await;
    let addr = endpoint.addr;
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
    let endpoint = start_endpoint().await;
    let addr = endpoint.addr;
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
