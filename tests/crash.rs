//! `kill -9` during heavy PutEvents into an archived bus: after a restart, every acknowledged
//! event is in the archive exactly once, and nothing is stored twice.
//!
//! `cargo test --test crash` runs 3 iterations; `CRASH_ITERATIONS=20 cargo test --test crash
//! -- --nocapture` is the slow mode (the counts of each iteration are printed).

mod support;

use support::spawn_binary_with;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rand::Rng;
use serde_json::{Value, json};
use support::{Api, temp_dir};

const WRITERS: usize = 16;
const ENTRIES_PER_REQUEST: u64 = 10;

/// What the writers saw: each acknowledged EventId with the sequence number its Detail
/// carried, and how many requests got no answer.
#[derive(Default)]
struct Writes {
    acknowledged: HashMap<String, u64>,
    unanswered_requests: u64,
    rejected_requests: u64,
}

/// One writer: PutEvents of 10 entries, as fast as it can, until `stop` or the server is gone.
/// A request that gets no answer is not retried: its events are unacknowledged.
/// 1 MiB archive segments: each iteration writes several, so kills land while segments are
/// sealed and their index files written.
const SMALL_SEGMENTS: &[&str] = &["--archive-segment-mb", "1"];

async fn writer(addr: SocketAddr, next_seq: Arc<AtomicU64>, stop: Arc<AtomicBool>) -> Writes {
    let client: Client<HttpConnector, Full<Bytes>> =
        Client::builder(TokioExecutor::new()).build_http();
    let mut writes = Writes::default();
    let pad = "x".repeat(200);
    while !stop.load(Ordering::Relaxed) {
        let first = next_seq.fetch_add(ENTRIES_PER_REQUEST, Ordering::Relaxed);
        let entries: Vec<Value> = (first..first + ENTRIES_PER_REQUEST)
            .map(|seq| {
                json!({
                    "EventBusName": "crashing",
                    "Source": "crash.test",
                    "DetailType": "numbered",
                    "Detail": json!({"seq": seq, "pad": pad}).to_string(),
                })
            })
            .collect();
        let request = http::Request::builder()
            .method("POST")
            .uri(format!("http://{addr}/"))
            .header("content-type", "application/x-amz-json-1.1")
            .header("x-amz-target", "AWSEvents.PutEvents")
            .body(Full::new(Bytes::from(
                json!({"Entries": entries}).to_string(),
            )))
            .unwrap();
        let response = match client.request(request).await {
            Ok(r) => r,
            Err(_) => {
                // The server is gone: this request was in flight when it died.
                writes.unanswered_requests += 1;
                break;
            }
        };
        let status = response.status().as_u16();
        let Ok(body) = response.into_body().collect().await else {
            writes.unanswered_requests += 1;
            break;
        };
        if status != 200 {
            writes.rejected_requests += 1;
            continue;
        }
        let body: Value = serde_json::from_slice(&body.to_bytes()).expect("a JSON answer");
        let answered = body["Entries"].as_array().expect("Entries");
        assert_eq!(answered.len() as u64, ENTRIES_PER_REQUEST, "{body}");
        for (i, entry) in answered.iter().enumerate() {
            let id = entry["EventId"]
                .as_str()
                .unwrap_or_else(|| panic!("entry {i} failed: {entry}"));
            writes.acknowledged.insert(id.to_string(), first + i as u64);
        }
    }
    writes
}

/// The archive's events straight from the store: (event id, detail seq) in archive order.
/// The server must be stopped.
fn stored_events(dir: &std::path::Path) -> Vec<(String, u64)> {
    let store = eventbridge_local::store::Store::open(Some(dir), 1 << 20).unwrap();
    let archives: Vec<eventbridge_local::model::Archive> = store
        .load(eventbridge_local::store::Collection::Archives)
        .unwrap();
    assert_eq!(archives.len(), 1);
    store
        .scan_events(archives[0].uid, i64::MIN, i64::MAX)
        .map(|r| {
            let event: Value = serde_json::from_slice(&r.unwrap().1).unwrap();
            let id = event["id"].as_str().expect("an id").to_string();
            let seq = event["detail"]["seq"].as_u64().expect("a seq");
            (id, seq)
        })
        .collect()
}

struct Counts {
    kill_after_ms: u64,
    acknowledged: usize,
    in_archive: usize,
    stored_unacknowledged: usize,
    unanswered_requests: u64,
}

async fn one_crash(iteration: usize) -> Counts {
    let dir = temp_dir(&format!("crash-{iteration}"));
    let (mut child, addr) = spawn_binary_with(&dir, SMALL_SEGMENTS);
    let api = Api::new(addr);
    let bus = api
        .call("CreateEventBus", json!({"Name": "crashing"}))
        .await;
    assert_eq!(bus.status, 200, "{:?}", bus.body);
    let archive = api
        .call(
            "CreateArchive",
            json!({"ArchiveName": "crash-archive", "EventSourceArn": "arn:aws:events:us-east-1:000000000000:event-bus/crashing"}),
        )
        .await;
    assert_eq!(archive.status, 200, "{:?}", archive.body);

    let next_seq = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..WRITERS)
        .map(|_| tokio::spawn(writer(addr, next_seq.clone(), stop.clone())))
        .collect();
    let kill_after_ms = rand::thread_rng().gen_range(100..=600);
    tokio::time::sleep(Duration::from_millis(kill_after_ms)).await;
    // SIGKILL with requests in flight: no graceful flush.
    child.kill().unwrap();
    child.wait().unwrap();
    stop.store(true, Ordering::Relaxed);
    let mut acknowledged: HashMap<String, u64> = HashMap::new();
    let mut unanswered_requests = 0;
    for w in writers {
        let w = w.await.unwrap();
        assert_eq!(w.rejected_requests, 0, "PutEvents answered an error");
        unanswered_requests += w.unanswered_requests;
        acknowledged.extend(w.acknowledged);
    }
    assert!(
        !acknowledged.is_empty(),
        "no PutEvents was acknowledged in {kill_after_ms} ms"
    );

    // Restart on the same data: the count covers every acknowledged event.
    let (mut child, addr) = spawn_binary_with(&dir, SMALL_SEGMENTS);
    let described = Api::new(addr)
        .call("DescribeArchive", json!({"ArchiveName": "crash-archive"}))
        .await;
    assert_eq!(described.status, 200, "{:?}", described.body);
    let event_count = described.body["EventCount"].as_u64().unwrap() as usize;
    child.kill().unwrap();
    child.wait().unwrap();

    let stored = stored_events(&dir);
    assert_eq!(event_count, stored.len(), "EventCount vs the events stored");
    assert!(
        event_count >= acknowledged.len(),
        "EventCount {event_count} < {} acknowledged",
        acknowledged.len()
    );
    let mut by_id: HashMap<&str, u64> = HashMap::new();
    let mut seqs: HashMap<u64, &str> = HashMap::new();
    for (id, seq) in &stored {
        assert!(
            by_id.insert(id.as_str(), *seq).is_none(),
            "event {id} is archived twice"
        );
        if let Some(other) = seqs.insert(*seq, id.as_str()) {
            panic!("detail seq {seq} is archived twice, as {other} and {id}");
        }
    }
    let mut missing = Vec::new();
    for (id, seq) in &acknowledged {
        match by_id.get(id.as_str()) {
            Some(stored_seq) => assert_eq!(stored_seq, seq, "event {id} carries another detail"),
            None => missing.push(id.clone()),
        }
    }
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged events are not in the archive after kill -9 (e.g. {:?})",
        missing.len(),
        acknowledged.len(),
        &missing[..missing.len().min(5)]
    );
    let _ = std::fs::remove_dir_all(&dir);
    Counts {
        kill_after_ms,
        acknowledged: acknowledged.len(),
        in_archive: stored.len(),
        stored_unacknowledged: stored.len() - acknowledged.len(),
        unanswered_requests,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_event_is_archived_exactly_once_after_kill_9_under_load() {
    let iterations: usize = std::env::var("CRASH_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let started = Instant::now();
    let mut total = (0, 0, 0);
    for i in 0..iterations {
        let c = one_crash(i).await;
        println!(
            "crash iteration {:>2}: killed after {:>3} ms; acknowledged {:>6}, in archive {:>6}, stored but unacknowledged {:>4}, requests without answer {:>3}",
            i + 1,
            c.kill_after_ms,
            c.acknowledged,
            c.in_archive,
            c.stored_unacknowledged,
            c.unanswered_requests
        );
        total.0 += c.acknowledged;
        total.1 += c.in_archive;
        total.2 += c.stored_unacknowledged;
    }
    println!(
        "crash: {iterations} iterations in {:.1} s; acknowledged {}, in archive {}, stored but unacknowledged {}; no acknowledged event lost, none duplicated",
        started.elapsed().as_secs_f64(),
        total.0,
        total.1,
        total.2
    );
}
