//! The AWS SDK for Rust's EventBridge Scheduler client (`aws-sdk-scheduler`) against the same
//! server: a schedule group and a one-time schedule whose target is an event bus, fired by
//! moving the manual clock, its event delivered by a rule to an SQS target; everything read
//! back; and Scheduler's typed errors (which, unlike EventBridge's, include validation).

mod support;

use aws_sdk_scheduler::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_scheduler::error::ProvideErrorMetadata;
use aws_sdk_scheduler::operation::create_schedule::CreateScheduleError;
use aws_sdk_scheduler::operation::get_schedule::GetScheduleError;
use aws_sdk_scheduler::types::{
    EventBridgeParameters, FlexibleTimeWindow, FlexibleTimeWindowMode, ScheduleState, Target,
};
use bytes::Bytes;
use clap::Parser;
use eventbridge_local::Config;
use http_body_util::{BodyExt, Full};
use serde_json::{Value, json};
use support::TestServer;
use support::receiver::Receiver;

/// A Scheduler client of the server at `endpoint` (the same port as EventBridge).
fn scheduler_client(endpoint: &str) -> aws_sdk_scheduler::Client {
    let config = aws_sdk_scheduler::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "static"))
        .endpoint_url(endpoint)
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .build();
    aws_sdk_scheduler::Client::from_conf(config)
}

fn eventbridge_client(endpoint: &str) -> aws_sdk_eventbridge::Client {
    let config = aws_sdk_eventbridge::Config::builder()
        .behavior_version(aws_sdk_eventbridge::config::BehaviorVersion::latest())
        .region(aws_sdk_eventbridge::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_eventbridge::config::Credentials::new(
            "test", "test", None, None, "static",
        ))
        .endpoint_url(endpoint)
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .build();
    aws_sdk_eventbridge::Client::from_conf(config)
}

/// `POST /_local/clock` with a JSON body; the answer's JSON.
async fn move_clock(server: &TestServer, body: Value) -> Value {
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<Full<Bytes>>();
    let request = http::Request::post(format!("http://{}/_local/clock", server.addr))
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap();
    let answer = client.request(request).await.unwrap();
    assert_eq!(answer.status(), 200);
    let bytes = answer.into_body().collect().await.unwrap().to_bytes();
    serde_json::from_slice(&bytes).unwrap()
}

const BUS: &str = "arn:aws:events:us-east-1:000000000000:event-bus/orders";
const ROLE: &str = "arn:aws:iam::000000000000:role/scheduler";

fn bus_target(input: &str) -> Target {
    Target::builder()
        .arn(BUS)
        .role_arn(ROLE)
        .input(input)
        .event_bridge_parameters(
            EventBridgeParameters::builder()
                .source("reports")
                .detail_type("NightlyReport")
                .build()
                .unwrap(),
        )
        .build()
        .unwrap()
}

fn off() -> FlexibleTimeWindow {
    FlexibleTimeWindow::builder()
        .mode(FlexibleTimeWindowMode::Off)
        .build()
        .unwrap()
}

#[tokio::test]
async fn the_rust_scheduler_sdk_creates_fires_and_reads_back_a_schedule() {
    let sqs = Receiver::start(200, r#"{"MessageId": "m", "MD5OfMessageBody": "x"}"#).await;
    let config = Config::parse_from([
        "eventbridge-local",
        "--in-memory",
        "--port",
        "0",
        "--endpoint",
        &format!("sqs=http://{}", sqs.addr),
        "--clock",
        "manual",
        "--clock-start",
        "2030-01-01T00:00:00Z",
    ]);
    let server = TestServer::start_with(config).await;
    let endpoint = format!("http://{}", server.addr);
    let scheduler = scheduler_client(&endpoint);
    let events = eventbridge_client(&endpoint);

    events
        .create_event_bus()
        .name("orders")
        .send()
        .await
        .unwrap();
    events
        .put_rule()
        .name("reports")
        .event_bus_name("orders")
        .event_pattern(r#"{"source": ["reports"]}"#)
        .send()
        .await
        .unwrap();
    events
        .put_targets()
        .rule("reports")
        .event_bus_name("orders")
        .targets(
            aws_sdk_eventbridge::types::Target::builder()
                .id("queue")
                .arn("arn:aws:sqs:us-east-1:000000000000:reports-queue")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();

    let group_arn = scheduler
        .create_schedule_group()
        .name("reports")
        .send()
        .await
        .unwrap()
        .schedule_group_arn;
    assert_eq!(
        group_arn,
        "arn:aws:scheduler:us-east-1:000000000000:schedule-group/reports"
    );
    let schedule_arn = scheduler
        .create_schedule()
        .name("nightly")
        .group_name("reports")
        .schedule_expression("at(2030-01-01T00:05:00)")
        .flexible_time_window(off())
        .target(bus_target(r#"{"report": "daily"}"#))
        .send()
        .await
        .unwrap()
        .schedule_arn;
    assert_eq!(
        schedule_arn,
        "arn:aws:scheduler:us-east-1:000000000000:schedule/reports/nightly"
    );

    let got = scheduler
        .get_schedule()
        .name("nightly")
        .group_name("reports")
        .send()
        .await
        .unwrap();
    assert_eq!(got.schedule_expression(), Some("at(2030-01-01T00:05:00)"));
    assert_eq!(got.schedule_expression_timezone(), Some("UTC"));
    assert_eq!(got.state(), Some(&ScheduleState::Enabled));
    assert_eq!(got.target().map(|t| t.arn()), Some(BUS));
    let listed = scheduler
        .list_schedules()
        .group_name("reports")
        .send()
        .await
        .unwrap();
    let names: Vec<_> = listed.schedules().iter().filter_map(|s| s.name()).collect();
    assert_eq!(names, ["nightly"]);
    let groups = scheduler.list_schedule_groups().send().await.unwrap();
    let mut group_names: Vec<_> = groups
        .schedule_groups()
        .iter()
        .filter_map(|g| g.name())
        .collect();
    group_names.sort();
    assert_eq!(group_names, ["default", "reports"]);

    // Past the schedule's instant: it fires (`fired` counts rules' scheduled events only).
    let moved = move_clock(&server, json!({"advance": "PT10M"})).await;
    assert_eq!(moved["now"], "2030-01-01T00:10:00Z", "{moved}");
    let calls = sqs.wait_calls(1).await;
    let request: Value = serde_json::from_str(&calls[0].body).unwrap();
    let event: Value = serde_json::from_str(request["MessageBody"].as_str().unwrap()).unwrap();
    assert_eq!(event["source"], "reports");
    assert_eq!(event["detail-type"], "NightlyReport");
    assert_eq!(event["detail"], json!({"report": "daily"}));
    assert_eq!(event["resources"], json!([schedule_arn]));
    server.stop().await;
}

#[tokio::test]
async fn scheduler_errors_are_the_sdks_typed_errors() {
    let server = TestServer::start().await;
    let scheduler = scheduler_client(&format!("http://{}", server.addr));

    let err = scheduler
        .get_schedule()
        .name("missing")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        matches!(err, GetScheduleError::ResourceNotFoundException(_)),
        "{err:?}"
    );
    assert_eq!(err.message(), Some("Schedule missing does not exist."));

    let create = || {
        scheduler
            .create_schedule()
            .name("once")
            .schedule_expression("rate(1 hour)")
            .flexible_time_window(off())
            .target(bus_target("{}"))
            .send()
    };
    create().await.unwrap();
    let err = create().await.unwrap_err().into_service_error();
    assert!(
        matches!(err, CreateScheduleError::ConflictException(_)),
        "{err:?}"
    );
    assert_eq!(err.message(), Some("Schedule once already exists."));

    let err = scheduler
        .create_schedule()
        .name("bad")
        .schedule_expression("every hour")
        .flexible_time_window(off())
        .target(bus_target("{}"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        matches!(err, CreateScheduleError::ValidationException(_)),
        "{err:?}"
    );
    assert!(err.message().is_some_and(|m| !m.is_empty()), "{err:?}");
    server.stop().await;
}
