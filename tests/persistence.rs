//! What survives a restart: a graceful one in-process, and `kill -9` of the real binary.

mod support;

use support::spawn_binary;

use serde_json::{Value, json};
use support::{Api, TestServer, temp_dir};

async fn setup_bus_rule_archive(api: &Api) -> String {
    assert_eq!(
        api.call("CreateEventBus", json!({"Name": "orders"}))
            .await
            .status,
        200
    );
    let rule = api
        .call(
            "PutRule",
            json!({"Name": "r1", "EventBusName": "orders", "EventPattern": "{\"source\":[\"shop\"]}", "State": "DISABLED"}),
        )
        .await;
    assert_eq!(rule.status, 200, "{:?}", rule.body);
    let targets = api
        .call(
            "PutTargets",
            json!({"Rule": "r1", "EventBusName": "orders", "Targets": [{"Id": "t1", "Arn": "arn:aws:sqs:us-east-1:000000000000:q", "Input": "{\"a\":1}"}]}),
        )
        .await;
    assert_eq!(targets.body["FailedEntryCount"], 0);
    let archive = api
        .call(
            "CreateArchive",
            json!({"ArchiveName": "all-orders", "EventSourceArn": "arn:aws:events:us-east-1:000000000000:event-bus/orders", "RetentionDays": 3}),
        )
        .await;
    assert_eq!(archive.status, 200, "{:?}", archive.body);
    rule.body["RuleArn"].as_str().unwrap().to_string()
}

async fn put_one(api: &Api, n: usize) -> String {
    let reply = api
        .call(
            "PutEvents",
            json!({"Entries": [{"EventBusName": "orders", "Source": "shop", "DetailType": "order", "Detail": format!("{{\"n\":{n}}}")}]}),
        )
        .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    reply.body["Entries"][0]["EventId"]
        .as_str()
        .expect("an EventId")
        .to_string()
}

#[tokio::test]
async fn resources_and_archived_events_survive_a_graceful_restart() {
    let dir = temp_dir("graceful");
    let server = TestServer::start_in(&dir).await;
    let rule_arn = setup_bus_rule_archive(&server).await;
    for n in 0..7 {
        put_one(&server, n).await;
    }
    let before = server
        .call("DescribeArchive", json!({"ArchiveName": "all-orders"}))
        .await;
    assert_eq!(before.body["EventCount"], 7);
    server.stop().await;

    let server = TestServer::start_in(&dir).await;
    let bus = server
        .call("DescribeEventBus", json!({"Name": "orders"}))
        .await;
    assert_eq!(bus.status, 200);
    let rule = server
        .call(
            "DescribeRule",
            json!({"Name": "r1", "EventBusName": "orders"}),
        )
        .await;
    assert_eq!(rule.body["Arn"], rule_arn);
    assert_eq!(rule.body["State"], "DISABLED");
    let targets = server
        .call(
            "ListTargetsByRule",
            json!({"Rule": "r1", "EventBusName": "orders"}),
        )
        .await;
    assert_eq!(targets.body["Targets"][0]["Input"], "{\"a\":1}");
    let after = server
        .call("DescribeArchive", json!({"ArchiveName": "all-orders"}))
        .await;
    assert_eq!(after.body["EventCount"], 7);
    assert_eq!(after.body["SizeBytes"], before.body["SizeBytes"]);
    assert_eq!(after.body["RetentionDays"], 3);
    let managed = server
        .call(
            "DescribeRule",
            json!({"Name": "Events-Archive-all-orders", "EventBusName": "orders"}),
        )
        .await;
    assert!(
        managed.body["ManagedBy"]
            .as_str()
            .is_some_and(|m| !m.is_empty())
    );
    server.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn every_acknowledged_archived_event_survives_kill_9() {
    let dir = temp_dir("kill9");
    let (mut child, addr) = spawn_binary(&dir);
    let api = Api::new(addr);
    setup_bus_rule_archive(&api).await;
    let mut acknowledged = Vec::new();
    for n in 0..40 {
        acknowledged.push(put_one(&api, n).await);
    }
    // SIGKILL right after the last answer: no graceful flush happens.
    child.kill().unwrap();
    child.wait().unwrap();

    let (mut child, addr) = spawn_binary(&dir);
    let api = Api::new(addr);
    let archive = api
        .call("DescribeArchive", json!({"ArchiveName": "all-orders"}))
        .await;
    assert_eq!(
        archive.body["EventCount"],
        json!(acknowledged.len()),
        "{:?}",
        archive.body
    );
    let bus = api
        .call("DescribeEventBus", json!({"Name": "orders"}))
        .await;
    assert_eq!(bus.status, 200);
    let targets = api
        .call(
            "ListTargetsByRule",
            json!({"Rule": "r1", "EventBusName": "orders"}),
        )
        .await;
    assert_eq!(targets.body["Targets"].as_array().map(Vec::len), Some(1));
    // The archive holds exactly the acknowledged ids.
    let stored: Vec<Value> = child_ids(&dir, &mut child);
    assert_eq!(stored.len(), acknowledged.len());
    let _ = std::fs::remove_dir_all(&dir);
}

/// Stops the binary and reads the archived event ids straight from the store.
fn child_ids(dir: &std::path::Path, child: &mut std::process::Child) -> Vec<Value> {
    child.kill().unwrap();
    child.wait().unwrap();
    let store = eventbridge_local::store::Store::open(Some(dir), 1 << 20).unwrap();
    let archives: Vec<eventbridge_local::model::Archive> = store
        .load(eventbridge_local::store::Collection::Archives)
        .unwrap();
    store
        .scan_events(archives[0].uid, i64::MIN, i64::MAX)
        .map(|r| serde_json::from_slice::<Value>(&r.unwrap().1).unwrap()["id"].clone())
        .collect()
}
