//! Archive corner cases decided here where AWS's behaviour is not recorded.

mod support;

use serde_json::json;
use support::TestServer;

#[tokio::test]
async fn deleting_a_bus_disables_its_archives_and_keeps_their_events() {
    let server = TestServer::start().await;
    server.call("CreateEventBus", json!({"Name": "gone"})).await;
    let created = server
        .call(
            "CreateArchive",
            json!({"ArchiveName": "kept", "EventSourceArn": "arn:aws:events:us-east-1:000000000000:event-bus/gone"}),
        )
        .await;
    assert_eq!(created.status, 200, "{:?}", created.body);
    server
        .call(
            "PutEvents",
            json!({"Entries": [{"EventBusName": "gone", "Source": "s", "DetailType": "t", "Detail": "{}"}]}),
        )
        .await;
    assert_eq!(
        server
            .call("DeleteEventBus", json!({"Name": "gone"}))
            .await
            .status,
        200
    );
    let archive = server
        .call("DescribeArchive", json!({"ArchiveName": "kept"}))
        .await;
    assert_eq!(archive.body["State"], "DISABLED");
    assert_eq!(archive.body["StateReason"], "Event bus gone was deleted.");
    assert_eq!(archive.body["EventCount"], 1);
    let replay = server
        .call(
            "StartReplay",
            json!({"ReplayName": "r", "EventSourceArn": "arn:aws:events:us-east-1:000000000000:archive/kept",
                   "EventStartTime": 0, "EventEndTime": 1,
                   "Destination": {"Arn": "arn:aws:events:us-east-1:000000000000:event-bus/gone"}}),
        )
        .await;
    assert_eq!(replay.error_type(), "ResourceNotFoundException");
    assert_eq!(replay.message(), "Event bus gone does not exist.");
    server.stop().await;
}
