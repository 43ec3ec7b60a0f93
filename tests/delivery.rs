//! Delivery to targets over real HTTP: the recording receiver of `support` plays Lambda's
//! Invoke API, recording what arrives; it can answer slowly or fail a number of times first.

mod support;

use std::time::{Duration, Instant};

use clap::Parser;
use eventbridge_local::Config;
use serde_json::{Value, json};
use support::receiver::Receiver;
use support::{TestServer, eventually};

/// Lambda's answer to an asynchronous (`Event`) Invoke: 202, no body.
async fn lambda_receiver() -> Receiver {
    Receiver::start(202, "").await
}

async fn server_with_lambda(receiver: &Receiver) -> TestServer {
    let addr = receiver.addr;
    let config = Config::parse_from([
        "eventbridge-local",
        "--in-memory",
        "--port",
        "0",
        "--retry-base-delay-ms",
        "10",
        "--endpoint",
        &format!("lambda=http://{addr}"),
    ]);
    TestServer::start_with(config).await
}

const FUNCTION: &str = "arn:aws:lambda:us-east-1:000000000000:function:fn";

async fn rule_with_target(server: &TestServer, rule: &str, target: Value) {
    let put = server
        .call(
            "PutRule",
            json!({"Name": rule, "EventPattern": "{\"source\":[\"shop\"]}"}),
        )
        .await;
    assert_eq!(put.status, 200, "{:?}", put.body);
    let reply = server
        .call("PutTargets", json!({"Rule": rule, "Targets": [target]}))
        .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
}

async fn put_event(server: &TestServer, detail: Value) -> String {
    let reply = server
        .call(
            "PutEvents",
            json!({"Entries": [{"Source": "shop", "DetailType": "order", "Detail": detail.to_string()}]}),
        )
        .await;
    reply.body["Entries"][0]["EventId"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn lambda_targets_get_the_event_and_each_input_form() {
    let receiver = lambda_receiver().await;
    let server = server_with_lambda(&receiver).await;
    rule_with_target(&server, "plain", json!({"Id": "a", "Arn": FUNCTION})).await;
    rule_with_target(
        &server,
        "constant",
        json!({"Id": "b", "Arn": FUNCTION, "Input": "{\"fixed\": true}"}),
    )
    .await;
    rule_with_target(
        &server,
        "path",
        json!({"Id": "c", "Arn": FUNCTION, "InputPath": "$.detail.order"}),
    )
    .await;
    rule_with_target(
        &server,
        "template",
        json!({"Id": "d", "Arn": FUNCTION, "InputTransformer": {
            "InputPathsMap": {"id": "$.detail.order.id", "src": "$.source"},
            "InputTemplate": "{\"order\": <id>, \"text\": \"<src> order <id>\", \"rule\": \"<aws.events.rule-name>\"}"
        }}),
    )
    .await;
    let id = put_event(&server, json!({"order": {"id": "o-1", "total": 5}})).await;
    let calls = eventually(5, "four invocations", || {
        let calls = receiver.calls();
        async move { (calls.len() == 4).then_some(calls) }
    })
    .await;
    let bodies: Vec<&str> = calls.iter().map(|c| c.body.as_str()).collect();
    for call in &calls {
        assert_eq!(call.path(), "/2015-03-31/functions/fn/invocations");
        assert_eq!(call.header("x-amz-invocation-type"), "Event");
    }
    let event = bodies
        .iter()
        .find(|b| b.contains("\"version\""))
        .expect("the plain event");
    let event: Value = serde_json::from_str(event).unwrap();
    assert_eq!(event["id"], id);
    assert!(bodies.contains(&"{\"fixed\": true}"));
    assert!(bodies.contains(&"{\"id\":\"o-1\",\"total\":5}"));
    assert!(
        bodies.contains(
            &"{\"order\": \"o-1\", \"text\": \"shop order o-1\", \"rule\": \"template\"}"
        ),
        "{bodies:?}"
    );
    server.stop().await;
}

#[tokio::test]
async fn put_targets_rejects_bad_input_settings() {
    let receiver = lambda_receiver().await;
    let server = server_with_lambda(&receiver).await;
    server
        .call(
            "PutRule",
            json!({"Name": "r", "EventPattern": "{\"source\":[\"shop\"]}"}),
        )
        .await;
    let both = server
        .call(
            "PutTargets",
            json!({"Rule": "r", "Targets": [{"Id": "t", "Arn": FUNCTION, "Input": "{}", "InputPath": "$.detail"}]}),
        )
        .await;
    assert_eq!(both.error_type(), "ValidationException");
    assert_eq!(
        both.message(),
        "Only one of Input, InputPath, or InputTransformer must be provided for target t."
    );
    let placeholder = server
        .call(
            "PutTargets",
            json!({"Rule": "r", "Targets": [{"Id": "t", "Arn": FUNCTION, "InputTransformer": {
                "InputPathsMap": {"a": "$.detail.a"}, "InputTemplate": "\"<a> and <b>\""}}]}),
        )
        .await;
    assert_eq!(
        placeholder.message(),
        "InputTemplate for target t contains invalid placeholder b."
    );
    let listed = server.call("ListTargetsByRule", json!({"Rule": "r"})).await;
    assert_eq!(listed.body["Targets"], json!([]));
    server.stop().await;
}

#[tokio::test]
async fn failed_deliveries_are_retried_until_they_succeed() {
    let receiver = lambda_receiver().await;
    receiver.fail_next(3);
    let server = server_with_lambda(&receiver).await;
    rule_with_target(&server, "r", json!({"Id": "t", "Arn": FUNCTION})).await;
    let id = put_event(&server, json!({"n": 1})).await;
    eventually(10, "the delivery after three failures", || {
        let n = receiver.calls().len();
        async move { (n == 1).then_some(()) }
    })
    .await;
    let log = server
        .get(&format!("/_local/deliveries?eventId={id}"))
        .await;
    let outcomes: Vec<(u64, String)> = log.body["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["attempt"].as_u64().unwrap(),
                d["outcome"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        outcomes,
        [
            (4, "succeeded".to_string()),
            (3, "retrying".to_string()),
            (2, "retrying".to_string()),
            (1, "retrying".to_string())
        ]
    );
    server.stop().await;
}

#[tokio::test]
async fn a_slow_target_does_not_slow_put_events() {
    let receiver = lambda_receiver().await;
    receiver.delay_answers(Duration::from_secs(5));
    let server = server_with_lambda(&receiver).await;
    rule_with_target(&server, "r", json!({"Id": "t", "Arn": FUNCTION})).await;
    let started = Instant::now();
    for n in 0..20 {
        put_event(&server, json!({"n": n})).await;
    }
    let elapsed = started.elapsed();
    // 20 deliveries of 5 s each are under way; the answers did not wait for any of them.
    assert!(
        elapsed < Duration::from_secs(3),
        "PutEvents took {elapsed:?}"
    );
    assert!(receiver.calls().is_empty());
    server.stop().await;
}

#[tokio::test]
async fn deliveries_pending_at_shutdown_resume_after_a_restart() {
    let receiver = lambda_receiver().await;
    receiver.fail_next(u32::MAX);
    let addr = receiver.addr;
    let dir = support::temp_dir("pending");
    let start = |retry_ms: &str| {
        Config::parse_from([
            "eventbridge-local",
            "--port",
            "0",
            "--data-dir",
            dir.to_str().unwrap(),
            "--retry-base-delay-ms",
            retry_ms,
            "--endpoint",
            &format!("lambda=http://{addr}"),
        ])
    };
    let server = TestServer::start_with(start("60000")).await;
    rule_with_target(&server, "r", json!({"Id": "t", "Arn": FUNCTION})).await;
    let id = put_event(&server, json!({"n": 1})).await;
    // The first attempt failed; the next one waits a minute.
    let path = format!("/_local/deliveries?eventId={id}");
    eventually(5, "a failed first attempt", || async {
        let log = server.get(&path).await;
        (log.body["deliveries"][0]["outcome"] == "retrying").then_some(())
    })
    .await;
    server.stop().await;

    receiver.fail_next(0);
    let server = TestServer::start_with(start("10")).await;
    let calls = eventually(10, "the delivery after the restart", || {
        let calls = receiver.calls();
        async move { (!calls.is_empty()).then_some(calls) }
    })
    .await;
    let event: Value = serde_json::from_str(&calls[0].body).unwrap();
    assert_eq!(event["id"], id);
    server.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn scheduled_rules_send_scheduled_events_to_their_targets() {
    let receiver = lambda_receiver().await;
    let addr = receiver.addr;
    let config = Config::parse_from([
        "eventbridge-local",
        "--in-memory",
        "--port",
        "0",
        "--schedule-rate-divisor",
        "600",
        "--endpoint",
        &format!("lambda=http://{addr}"),
    ]);
    let server = TestServer::start_with(config).await;
    let bad = server
        .call(
            "PutRule",
            json!({"Name": "bad", "ScheduleExpression": "rate(1 minutes)"}),
        )
        .await;
    assert_eq!(bad.message(), "Parameter ScheduleExpression is not valid.");
    let custom = server
        .call("CreateEventBus", json!({"Name": "custom"}))
        .await;
    assert_eq!(custom.status, 200);
    let on_custom = server
        .call(
            "PutRule",
            json!({"Name": "c", "EventBusName": "custom", "ScheduleExpression": "rate(1 minute)"}),
        )
        .await;
    assert_eq!(
        on_custom.message(),
        "ScheduleExpression is supported only on the default event bus."
    );
    let rule = server
        .call(
            "PutRule",
            json!({"Name": "tick", "ScheduleExpression": "rate(1 minute)"}),
        )
        .await;
    let rule_arn = rule.body["RuleArn"].as_str().unwrap().to_string();
    server
        .call(
            "PutTargets",
            json!({"Rule": "tick", "Targets": [{"Id": "t", "Arn": FUNCTION}]}),
        )
        .await;
    let calls = eventually(10, "two scheduled events", || {
        let calls = receiver.calls();
        async move { (calls.len() >= 2).then_some(calls) }
    })
    .await;
    let event: Value = serde_json::from_str(&calls[0].body).unwrap();
    assert_eq!(event["source"], "aws.events");
    assert_eq!(event["detail-type"], "Scheduled Event");
    assert_eq!(event["resources"], json!([rule_arn]));
    assert_eq!(event["detail"], json!({}));
    // Disabled: once what was under way has arrived, no more events.
    server.call("DisableRule", json!({"Name": "tick"})).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let after_disable = receiver.calls().len();
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(receiver.calls().len(), after_disable);
    server.stop().await;
}
