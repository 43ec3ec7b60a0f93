//! The AWS SDK for Rust (`aws-sdk-eventbridge`) against the server: the whole story of a user
//! (bus, rule, SQS target, archive, PutEvents, a replay of a window, everything read back)
//! and the SDK's typed errors for what is missing or invalid. `client` is the README's snippet.

mod support;

use std::time::SystemTime;

use aws_sdk_eventbridge::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_eventbridge::error::ProvideErrorMetadata;
use aws_sdk_eventbridge::operation::create_event_bus::CreateEventBusError;
use aws_sdk_eventbridge::operation::describe_archive::DescribeArchiveError;
use aws_sdk_eventbridge::operation::describe_event_bus::DescribeEventBusError;
use aws_sdk_eventbridge::operation::describe_replay::DescribeReplayOutput;
use aws_sdk_eventbridge::operation::describe_rule::DescribeRuleError;
use aws_sdk_eventbridge::operation::put_rule::PutRuleError;
use aws_sdk_eventbridge::primitives::DateTime;
use aws_sdk_eventbridge::types::{
    ArchiveState, PutEventsRequestEntry, ReplayDestination, ReplayState, RuleState, Target,
};
use clap::Parser;
use eventbridge_local::Config;
use serde_json::Value;
use support::receiver::Receiver;
use support::{TestServer, eventually};

/// An EventBridge client of the server at `endpoint` (README: "AWS SDK for Rust").
fn client(endpoint: &str) -> aws_sdk_eventbridge::Client {
    let config = aws_sdk_eventbridge::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "static"))
        .endpoint_url(endpoint)
        // Plain HTTP: no TLS stack needed (aws-smithy-http-client, feature "default-client").
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .build();
    aws_sdk_eventbridge::Client::from_conf(config)
}

/// A server whose SQS targets are delivered to `sqs` (a receiver playing SQS's JSON API).
async fn server_with_sqs(sqs: &Receiver) -> TestServer {
    let config = Config::parse_from([
        "eventbridge-local",
        "--in-memory",
        "--port",
        "0",
        "--endpoint",
        &format!("sqs=http://{}", sqs.addr),
        "--replay-min-duration-ms",
        "0",
    ]);
    TestServer::start_with(config).await
}

/// The events that reached the queue, in arrival order.
fn messages(sqs: &Receiver) -> Vec<Value> {
    sqs.calls()
        .iter()
        .map(|call| {
            assert_eq!(call.header("x-amz-target"), "AmazonSQS.SendMessage");
            let request: Value = serde_json::from_str(&call.body).unwrap();
            assert!(
                request["QueueUrl"]
                    .as_str()
                    .unwrap()
                    .ends_with("/000000000000/orders-queue"),
                "{request}"
            );
            serde_json::from_str(request["MessageBody"].as_str().unwrap()).unwrap()
        })
        .collect()
}

#[tokio::test]
async fn the_rust_sdk_runs_the_whole_story() {
    let sqs = Receiver::start(200, r#"{"MessageId": "m", "MD5OfMessageBody": "x"}"#).await;
    let server = server_with_sqs(&sqs).await;
    let events = client(&format!("http://{}", server.addr));

    let bus_arn = events
        .create_event_bus()
        .name("orders")
        .send()
        .await
        .unwrap()
        .event_bus_arn
        .unwrap();
    assert_eq!(
        bus_arn,
        "arn:aws:events:us-east-1:000000000000:event-bus/orders"
    );
    let rule_arn = events
        .put_rule()
        .name("order-created")
        .event_bus_name("orders")
        .event_pattern(r#"{"source": ["shop"], "detail-type": ["OrderCreated"]}"#)
        .send()
        .await
        .unwrap()
        .rule_arn
        .unwrap();
    let targets = events
        .put_targets()
        .rule("order-created")
        .event_bus_name("orders")
        .targets(
            Target::builder()
                .id("orders-queue")
                .arn("arn:aws:sqs:us-east-1:000000000000:orders-queue")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(targets.failed_entry_count, 0);
    let archive = events
        .create_archive()
        .archive_name("orders-archive")
        .event_source_arn(&bus_arn)
        .retention_days(7)
        .send()
        .await
        .unwrap();
    assert_eq!(archive.state, Some(ArchiveState::Enabled));
    let archive_arn = archive.archive_arn.unwrap();

    // Whole seconds: AWS keeps replay times to the millisecond, events' times to the second.
    let now = || {
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64
    };
    let window_start = DateTime::from_secs(now() - 60);
    let entry = |id: u32| {
        PutEventsRequestEntry::builder()
            .event_bus_name("orders")
            .source("shop")
            .detail_type("OrderCreated")
            .detail(format!(r#"{{"orderId": {id}}}"#))
            .build()
    };
    let put = events
        .put_events()
        .entries(entry(1))
        .entries(entry(2))
        .send()
        .await
        .unwrap();
    assert_eq!(put.failed_entry_count, 0);
    let ids: Vec<String> = put
        .entries()
        .iter()
        .map(|e| e.event_id.clone().unwrap())
        .collect();
    assert_eq!(ids.len(), 2);
    let window_end = DateTime::from_secs(now() + 1);

    sqs.wait_calls(2).await;
    let delivered = messages(&sqs);
    let mut delivered_ids: Vec<&str> = delivered
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    delivered_ids.sort();
    let mut expected_ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    expected_ids.sort();
    assert_eq!(delivered_ids, expected_ids);
    assert_eq!(delivered[0]["detail-type"], "OrderCreated");

    let described = events
        .describe_archive()
        .archive_name("orders-archive")
        .send()
        .await
        .unwrap();
    assert_eq!(described.event_count, 2);
    assert_eq!(described.retention_days, Some(7));

    let replay = events
        .start_replay()
        .replay_name("orders-replay")
        .event_source_arn(&archive_arn)
        .event_start_time(window_start)
        .event_end_time(window_end)
        .destination(
            ReplayDestination::builder()
                .arn(&bus_arn)
                .filter_arns(&rule_arn)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(replay.state, Some(ReplayState::Starting));
    let done: DescribeReplayOutput = eventually(30, "the replay to complete", || async {
        let d = events
            .describe_replay()
            .replay_name("orders-replay")
            .send()
            .await
            .unwrap();
        (d.state == Some(ReplayState::Completed)).then_some(d)
    })
    .await;
    assert_eq!(done.event_source_arn.as_deref(), Some(archive_arn.as_str()));
    assert_eq!(done.event_start_time, Some(window_start));
    assert_eq!(
        done.destination.unwrap().filter_arns(),
        [rule_arn.clone()].as_slice()
    );
    sqs.wait_calls(4).await;
    let replayed = &messages(&sqs)[2..];
    for event in replayed {
        assert_eq!(event["replay-name"], "orders-replay", "{event}");
        assert!(ids.iter().any(|id| event["id"] == id.as_str()));
    }

    // Everything read back.
    let buses = events
        .list_event_buses()
        .name_prefix("ord")
        .send()
        .await
        .unwrap();
    let names: Vec<&str> = buses
        .event_buses()
        .iter()
        .filter_map(|b| b.name())
        .collect();
    assert_eq!(names, ["orders"]);
    let rule = events
        .describe_rule()
        .name("order-created")
        .event_bus_name("orders")
        .send()
        .await
        .unwrap();
    assert_eq!(rule.state, Some(RuleState::Enabled));
    assert_eq!(rule.arn.as_deref(), Some(rule_arn.as_str()));
    let rules = events
        .list_rules()
        .event_bus_name("orders")
        .send()
        .await
        .unwrap();
    let rule_names: Vec<&str> = rules.rules().iter().filter_map(|r| r.name()).collect();
    assert!(rule_names.contains(&"order-created"), "{rule_names:?}");
    let listed = events
        .list_targets_by_rule()
        .rule("order-created")
        .event_bus_name("orders")
        .send()
        .await
        .unwrap();
    assert_eq!(listed.targets().len(), 1);
    assert_eq!(
        listed.targets()[0].arn(),
        "arn:aws:sqs:us-east-1:000000000000:orders-queue"
    );
    let archives = events
        .list_archives()
        .event_source_arn(&bus_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(archives.archives().len(), 1);
    assert_eq!(
        archives.archives()[0].archive_name(),
        Some("orders-archive")
    );
    let replays = events
        .list_replays()
        .name_prefix("orders")
        .send()
        .await
        .unwrap();
    assert_eq!(replays.replays().len(), 1);
    assert_eq!(replays.replays()[0].state(), Some(&ReplayState::Completed));
    server.stop().await;
}

#[tokio::test]
async fn aws_errors_are_the_sdks_typed_errors() {
    let server = TestServer::start().await;
    let events = client(&format!("http://{}", server.addr));

    let err = events
        .describe_event_bus()
        .name("missing")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    let DescribeEventBusError::ResourceNotFoundException(not_found) = &err else {
        panic!("want ResourceNotFoundException, got {err:?}");
    };
    assert_eq!(
        not_found.message(),
        Some("Event bus missing does not exist.")
    );

    let err = events
        .describe_rule()
        .name("missing")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        matches!(err, DescribeRuleError::ResourceNotFoundException(_)),
        "{err:?}"
    );
    assert_eq!(
        err.message(),
        Some("Rule missing does not exist on EventBus default.")
    );

    events
        .create_event_bus()
        .name("twice")
        .send()
        .await
        .unwrap();
    let err = events
        .create_event_bus()
        .name("twice")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        matches!(err, CreateEventBusError::ResourceAlreadyExistsException(_)),
        "{err:?}"
    );

    let err = events
        .put_rule()
        .name("bad-pattern")
        .event_pattern("{")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        matches!(err, PutRuleError::InvalidEventPatternException(_)),
        "{err:?}"
    );
    assert!(
        err.message()
            .is_some_and(|m| m.starts_with("Event pattern is not valid.")),
        "{err:?}"
    );

    let err = events
        .describe_archive()
        .archive_name("missing")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        matches!(err, DescribeArchiveError::ResourceNotFoundException(_)),
        "{err:?}"
    );
    assert_eq!(err.message(), Some("Archive missing does not exist."));

    // EventBridge's model declares no ValidationException shape, so the SDK has no variant for
    // it: it comes out as an unmodeled error with AWS's code and message.
    let err = events
        .create_event_bus()
        .name("bad/name")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("ValidationException"), "{err:?}");
    assert_eq!(
        err.message(),
        Some("Event bus name must not contain '/': bad/name")
    );
    server.stop().await;
}
