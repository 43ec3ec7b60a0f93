//! The wire protocol and its errors, over raw HTTP against a real server.

mod support;

use eventbridge_local::ops::{ALL_OPERATIONS, IMPLEMENTED};
use serde_json::json;
use support::TestServer;

#[tokio::test]
async fn health_answers_status_and_version() {
    let server = TestServer::start().await;
    let reply = server.get("/_local/health").await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body["status"], "ok");
    assert_eq!(reply.body["version"], env!("CARGO_PKG_VERSION"));
    server.stop().await;
}

#[tokio::test]
async fn health_lists_the_implemented_operations() {
    let server = TestServer::start().await;
    let reply = server.get("/_local/health").await;
    assert_eq!(reply.body["operations"], json!(IMPLEMENTED.as_slice()));
    server.stop().await;
}

#[tokio::test]
async fn every_response_has_a_request_id_and_errors_a_type_header() {
    let server = TestServer::start().await;
    let ok = server.call("ListEventBuses", json!({})).await;
    assert_eq!(ok.status, 200);
    assert!(ok.headers.contains_key("x-amzn-requestid"));
    assert_eq!(ok.headers["content-type"], "application/x-amz-json-1.1");
    let err = server
        .call("DescribeEventBus", json!({"Name": "nope"}))
        .await;
    assert_eq!(err.status, 400);
    assert!(err.headers.contains_key("x-amzn-requestid"));
    assert_eq!(err.headers["x-amzn-errortype"], "ResourceNotFoundException");
    assert_eq!(err.error_type(), "ResourceNotFoundException");
    assert_eq!(err.message(), "Event bus nope does not exist.");
    server.stop().await;
}

#[tokio::test]
async fn unknown_or_missing_operation_is_unknown_operation() {
    let server = TestServer::start().await;
    for target in [Some("AWSEvents.NoSuchOp"), Some("Other.ListRules"), None] {
        let reply = server.raw(target, "{}", None).await;
        assert_eq!(reply.status, 400, "{target:?}");
        assert_eq!(
            reply.error_type(),
            "UnknownOperationException",
            "{target:?}"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn malformed_json_and_wrong_types_are_serialization_errors() {
    let server = TestServer::start().await;
    for body in ["{not json", "[1,2]", "\"text\"", "{\"Name\": 5}"] {
        let reply = server
            .raw(Some("AWSEvents.DescribeEventBus"), body, None)
            .await;
        assert_eq!(reply.status, 400, "{body}");
        assert_eq!(reply.error_type(), "SerializationException", "{body}");
    }
    let reply = server.call("PutEvents", json!({"Entries": "x"})).await;
    assert_eq!(reply.error_type(), "SerializationException");
    // Still serving.
    assert_eq!(server.call("ListEventBuses", json!({})).await.status, 200);
    server.stop().await;
}

#[tokio::test]
async fn missing_required_member_is_a_validation_error() {
    let server = TestServer::start().await;
    let reply = server.call("CreateEventBus", json!({})).await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.error_type(), "ValidationException");
    assert_eq!(
        reply.message(),
        "1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null"
    );
    server.stop().await;
}

#[tokio::test]
async fn invalid_names_get_the_model_constraint_messages() {
    let server = TestServer::start().await;
    let reply = server
        .call("CreateEventBus", json!({"Name": "bad name!"}))
        .await;
    assert_eq!(reply.error_type(), "ValidationException");
    assert_eq!(
        reply.message(),
        "1 validation error detected: Value 'bad name!' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [/\\.\\-_A-Za-z0-9]+"
    );
    let long = "r".repeat(65);
    let reply = server
        .call(
            "PutRule",
            json!({"Name": long, "EventPattern": "{\"source\":[\"a\"]}"}),
        )
        .await;
    assert_eq!(
        reply.message(),
        format!(
            "1 validation error detected: Value '{long}' at 'name' failed to satisfy constraint: Member must have length less than or equal to 64"
        )
    );
    server.stop().await;
}

#[tokio::test]
async fn put_events_limits_are_checked_for_the_whole_request() {
    let server = TestServer::start().await;
    let entry = json!({"Source": "s", "DetailType": "t", "Detail": "{}"});
    let reply = server
        .call("PutEvents", json!({"Entries": vec![entry.clone(); 11]}))
        .await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.error_type(), "ValidationException");
    let message = reply.message();
    assert!(message.starts_with("1 validation error detected: Value '[PutEventsRequestEntry(time=null, source=s, resources=null, detailType=t, detail={}, eventBusName=null, traceHeader=null, kmsKeyIdentifier=null, internalMetadata=null), "), "{message}");
    assert!(message.ends_with("]' at 'entries' failed to satisfy constraint: Member must have length less than or equal to 10"), "{message}");

    let big = "x".repeat(1_048_576 - 2);
    let reply = server
        .call(
            "PutEvents",
            json!({"Entries": [{"Source": "s", "DetailType": "t", "Detail": format!("{{\"a\":\"{big}\"}}")}]}),
        )
        .await;
    assert_eq!(reply.error_type(), "ValidationException");
    assert_eq!(
        reply.message(),
        "Total size of the entries in the request is over the limit."
    );

    // Exactly at the limit is accepted: source 1 + detail-type 1 + detail.
    let detail = format!("{{\"a\":\"{}\"}}", "x".repeat(1_048_576 - 2 - 8));
    let reply = server
        .call(
            "PutEvents",
            json!({"Entries": [{"Source": "s", "DetailType": "t", "Detail": detail}]}),
        )
        .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(reply.body["FailedEntryCount"], 0);
    server.stop().await;
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused_and_the_server_keeps_serving() {
    let server = TestServer::start().await;
    let body = format!("{{\"Name\": \"{}\"}}", "n".repeat(11 * 1024 * 1024));
    let reply = server
        .raw(Some("AWSEvents.DescribeEventBus"), body.clone(), None)
        .await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.error_type(), "ValidationException");
    let reply = server.raw(Some("AWSEvents.PutEvents"), body, None).await;
    assert_eq!(
        reply.message(),
        "Total size of the entries in the request is over the limit."
    );
    assert_eq!(server.get("/_local/health").await.status, 200);
    assert_eq!(server.call("ListEventBuses", json!({})).await.status, 200);
    server.stop().await;
}

#[tokio::test]
async fn operations_not_implemented_say_so_and_never_succeed() {
    let server = TestServer::start().await;
    let mut unsupported = 0;
    for op in ALL_OPERATIONS.iter().filter(|op| !IMPLEMENTED.contains(op)) {
        let reply = server.call(op, json!({})).await;
        assert_eq!(reply.status, 400, "{op}");
        assert_eq!(reply.error_type(), "UnsupportedOperationException", "{op}");
        assert_eq!(
            reply.message(),
            format!("Operation {op} is not supported by eventbridge-local yet.")
        );
        unsupported += 1;
    }
    assert_eq!(unsupported, 57 - IMPLEMENTED.len());
    for op in IMPLEMENTED {
        let reply = server.call(op, json!({})).await;
        assert_ne!(reply.error_type(), "UnsupportedOperationException", "{op}");
        assert_ne!(reply.error_type(), "UnknownOperationException", "{op}");
    }
    server.stop().await;
}

#[tokio::test]
async fn region_and_account_come_from_the_credential_scope() {
    let server = TestServer::start().await;
    let auth = "AWS4-HMAC-SHA256 Credential=111122223333/20261128/eu-west-3/events/aws4_request, SignedHeaders=host, Signature=00";
    let reply = server
        .raw(Some("AWSEvents.DescribeEventBus"), "{}", Some(auth))
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.body["Arn"],
        "arn:aws:events:eu-west-3:111122223333:event-bus/default"
    );
    let reply = server.call("DescribeEventBus", json!({})).await;
    assert_eq!(
        reply.body["Arn"],
        "arn:aws:events:us-east-1:000000000000:event-bus/default"
    );
    server.stop().await;
}
