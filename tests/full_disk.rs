//! A disk that fills up under archived PutEvents: the server answers errors instead of
//! EventIds for what it could not store, keeps serving reads, takes events again by itself when
//! space returns, and after a `kill -9` every acknowledged event is in the archive exactly once.
//!
//! The disk is a small tmpfs the test mounts (root only); elsewhere the test says so and
//! passes without running.

mod support;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use eventbridge_local::catalog::Catalog;
use eventbridge_local::model::Scope;
use eventbridge_local::store::Store;
use serde_json::json;
use support::Api;

struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(size_mb: u32) -> Option<Tmpfs> {
        let dir = support::temp_dir("full-disk");
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size_mb}m"), "tmpfs"])
            .arg(&dir)
            .status()
            .is_ok_and(|s| s.success());
        ok.then_some(Tmpfs(dir))
    }

    fn free_bytes(&self) -> u64 {
        let out = std::process::Command::new("df")
            .args(["--output=avail", "-B1"])
            .arg(&self.0)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .nth(1)
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

/// Fills the disk but for `leave` bytes.
fn ballast(disk: &Tmpfs, leave: u64) -> PathBuf {
    let path = disk.0.join("ballast");
    let size = disk.free_bytes().saturating_sub(leave);
    std::fs::write(&path, vec![0u8; size as usize]).unwrap();
    path
}

fn entries(n: usize) -> serde_json::Value {
    let detail = json!({"pad": "p".repeat(8000)}).to_string();
    let list: Vec<_> = (0..n)
        .map(|_| json!({"EventBusName": "full", "Source": "disk.test", "DetailType": "t", "Detail": detail}))
        .collect();
    json!({ "Entries": list })
}

/// The EventIds of a PutEvents answer when every entry was taken; `None` otherwise.
fn acknowledged(reply: &support::Reply) -> Option<Vec<String>> {
    if reply.status != 200 || reply.body["FailedEntryCount"].as_u64() != Some(0) {
        return None;
    }
    Some(
        reply.body["Entries"]
            .as_array()?
            .iter()
            .map(|e| e["EventId"].as_str().unwrap().to_string())
            .collect(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_loses_no_acknowledged_event() {
    let Some(disk) = Tmpfs::mount(24) else {
        eprintln!("full_disk: cannot mount a tmpfs here (not root?); not run");
        return;
    };
    let data = disk.0.join("data");
    let (mut child, addr) = support::spawn_binary_with(&data, &["--archive-segment-mb", "1"]);
    let api = Api::new(addr);
    assert_eq!(
        api.call("CreateEventBus", json!({"Name": "full"}))
            .await
            .status,
        200
    );
    let bus_arn = "arn:aws:events:us-east-1:000000000000:event-bus/full";
    let archive = api
        .call(
            "CreateArchive",
            json!({"ArchiveName": "keep", "EventSourceArn": bus_arn}),
        )
        .await;
    assert_eq!(archive.status, 200, "{:?}", archive.body);

    let weight = ballast(&disk, 3 << 20);
    let mut acked: Vec<String> = Vec::new();
    let mut refused = 0;
    for _ in 0..400 {
        let reply = api.call("PutEvents", entries(10)).await;
        match acknowledged(&reply) {
            Some(ids) => acked.extend(ids),
            None => {
                refused += 1;
                // Whatever it answered, no entry of a refused request carries an EventId
                // unless the whole request was taken.
                assert!(reply.status != 200 || reply.body["FailedEntryCount"].as_u64() > Some(0));
                if refused >= 5 {
                    break;
                }
            }
        }
    }
    assert!(
        refused >= 5,
        "the disk never filled ({} events taken)",
        acked.len()
    );
    assert!(
        !acked.is_empty(),
        "nothing was taken before the disk filled"
    );
    // Reads still answer.
    let listed = api.call("ListArchives", json!({})).await;
    assert_eq!(listed.status, 200, "{:?}", listed.body);

    // Space comes back: PutEvents takes events again, without a restart.
    std::fs::remove_file(&weight).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut recovered = false;
    while Instant::now() < deadline {
        if let Some(ids) = acknowledged(&api.call("PutEvents", entries(10)).await) {
            acked.extend(ids);
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(recovered, "PutEvents still refused after space returned");
    for _ in 0..5 {
        let reply = api.call("PutEvents", entries(10)).await;
        acked.extend(acknowledged(&reply).expect("taken once space is back"));
    }

    // kill -9, then read the archive straight from the store.
    child.kill().unwrap();
    child.wait().unwrap();
    let stored = stored_ids(&data);
    let unique: HashSet<&String> = stored.iter().collect();
    assert_eq!(unique.len(), stored.len(), "an event is stored twice");
    let missing: Vec<_> = acked.iter().filter(|id| !unique.contains(id)).collect();
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged events are not in the archive",
        missing.len(),
        acked.len()
    );
}

fn stored_ids(data: &Path) -> Vec<String> {
    let store = Store::open_with(Some(data), 8 << 20, 1 << 20).unwrap();
    let catalog = Catalog::load(store.clone()).unwrap();
    let scope = Scope {
        account: "000000000000".into(),
        region: "us-east-1".into(),
    };
    let uid = catalog.archive(&scope, "keep").unwrap().archive.uid;
    store
        .scan_events(uid, i64::MIN, i64::MAX)
        .map(|item| {
            let (_, body) = item.unwrap();
            let event: serde_json::Value = serde_json::from_slice(&body).unwrap();
            event["id"].as_str().unwrap().to_string()
        })
        .collect()
}
