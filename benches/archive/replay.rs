//! (c) A replay of the whole archive through a rule whose target is the bus `sink`: its rate,
//! its CPU and memory, the delivery drain after it, and the latency of live PutEvents while it
//! runs (a replay must leave live traffic a core).

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::client::Api;
use crate::events::{DAY_MS, OLDEST_DAYS, bus_arn};
use crate::ingest::Ingest;
use crate::load::{LoadResult, paced_probe};
use crate::measure::{cpu_mark, cpu_report, memory_mb};
use crate::report::row;
use crate::{Run, now_ms};

/// How long the live-latency probe runs, alone and then from StartReplay on.
const PROBE_FOR: Duration = Duration::from_secs(3);

/// (c) Replays every archived event (`count` of them) into `orders`, only to a rule that
/// sends them to `sink`, and waits until the deliveries have drained.
pub async fn replay_everything(
    run: &mut Run,
    api: &Api,
    pid: u32,
    ingest: &Ingest,
    count: u64,
    archive_arn: &str,
) {
    println!("\n(c) replay of the whole archive to a rule whose target is the bus `sink`");
    let rule_arn = route_orders_to_sink(api).await;
    // The window ends after the last put, on a whole second that has passed.
    let end_s = ingest.last_put_ms.div_euclid(1000) + 1;
    while now_ms() <= end_s * 1000 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let start_s = (ingest.base_ms - (OLDEST_DAYS + 1) * DAY_MS).div_euclid(1000);
    let quiet_probe = paced_probe(api, "plain", ingest.base_ms, PROBE_FOR).await;
    let mark = cpu_mark(pid);
    let wall = Instant::now();
    api.call(
        "StartReplay",
        json!({
            "ReplayName": "bench-replay",
            "EventSourceArn": archive_arn,
            "EventStartTime": start_s,
            "EventEndTime": end_s,
            "Destination": {"Arn": bus_arn("orders"), "FilterArns": [rule_arn]},
        }),
    )
    .await;
    let busy_probe = tokio::spawn({
        let (api, base_ms) = (api.clone(), ingest.base_ms);
        async move { paced_probe(&api, "plain", base_ms, PROBE_FOR).await }
    });
    let mut peak_rss_replay = 0f64;
    let replay = watch_replay(api, pid, wall, run.remaining(240), &mut peak_rss_replay).await;
    let replay_wall = wall.elapsed();
    let busy_probe = busy_probe.await.unwrap();
    report_probes(&quiet_probe, &busy_probe, replay_wall);
    let replayed = if replay["State"] == "COMPLETED" {
        count
    } else {
        // Events of the window before EventLastReplayedTime have been replayed.
        let last_ms = (replay["EventLastReplayedTime"].as_f64().unwrap_or(0.0) * 1000.0) as i64;
        ingest.acknowledged_before(last_ms)
    };
    let replay = if replay["State"] == "COMPLETED" {
        replay
    } else {
        settle_cancellation(api, replay).await
    };
    let state = replay["State"].as_str().unwrap_or_default();
    let started = replay["ReplayStartTime"].as_f64().unwrap_or(0.0);
    let ended = replay["ReplayEndTime"].as_f64().unwrap_or(0.0);
    let replay_secs = (ended - started).max(1e-3);
    let replay_cpu = cpu_report("replay until COMPLETED", pid, &mark);
    println!(
        "  state {state}{}, ReplayEndTime - ReplayStartTime {replay_secs:.1} s, wall {:.1} s",
        replay["StateReason"]
            .as_str()
            .map(|r| format!(" ({r})"))
            .unwrap_or_default(),
        replay_wall.as_secs_f64()
    );
    let drained_ms = drain_deliveries(run, api, pid, &mut peak_rss_replay).await;
    report_failed_deliveries(api).await;

    let (replay_rate, replay_label) = if state == "COMPLETED" {
        (
            count as f64 / replay_secs,
            "replay, events / (ReplayEndTime - ReplayStartTime)",
        )
    } else {
        println!(
            "  {replayed} of {count} events replayed before the time cap (by EventLastReplayedTime)"
        );
        (
            replayed as f64 / replay_wall.as_secs_f64(),
            "replay, PARTIAL (time cap): replayed / wall time",
        )
    };
    run.rows.push(row(
        replay_label,
        format!("{replay_rate:.0}"),
        "100000",
        Some(replay_rate / 100_000.0),
    ));
    run.rows.push(row(
        "  server CPU per replayed event (us)",
        format!("{:.0}", replay_cpu * 1e6 / replayed.max(1) as f64),
        "-",
        None,
    ));
    run.rows.push(row(
        "  replay wall time, StartReplay to COMPLETED seen (s)",
        format!("{:.1}", replay_wall.as_secs_f64()),
        "-",
        None,
    ));
    if let (Some(drained), "COMPLETED") = (drained_ms, state) {
        let secs = (drained as f64 / 1000.0 - started).max(1e-3);
        run.rows.push(row(
            "replay incl. delivery to the sink bus (events/s)",
            format!("{:.0}", count as f64 / secs),
            "100000",
            Some(count as f64 / secs / 100_000.0),
        ));
    }
    run.rows.push(row(
        "  server peak RSS seen during replay (MiB)",
        format!("{peak_rss_replay:.0}"),
        "200",
        Some(peak_rss_replay / 200.0),
    ));
    run.rows.push(row(
        "  live PutEvents p99 latency alone / during replay (ms)",
        format!(
            "{:.1}/{:.1}",
            quiet_probe.percentile(0.99),
            busy_probe.percentile(0.99)
        ),
        "-",
        None,
    ));
    run.rows.push(row(
        "  live PutEvents p50 latency alone / during replay (ms)",
        format!(
            "{:.1}/{:.1}",
            quiet_probe.percentile(0.5),
            busy_probe.percentile(0.5)
        ),
        "-",
        None,
    ));
}

/// Rule `to-sink` on `orders` for every bench event, its target the bus `sink`. Returns the
/// rule's ARN (the replay's only FilterArn).
async fn route_orders_to_sink(api: &Api) -> String {
    let rule_arn = api
        .call(
            "PutRule",
            json!({"Name": "to-sink", "EventBusName": "orders", "EventPattern": "{\"source\":[\"bench.orders\"]}"}),
        )
        .await["RuleArn"]
        .as_str()
        .unwrap()
        .to_string();
    let targets = api
        .call(
            "PutTargets",
            json!({"Rule": "to-sink", "EventBusName": "orders", "Targets": [{"Id": "sink", "Arn": bus_arn("sink")}]}),
        )
        .await;
    assert_eq!(targets["FailedEntryCount"], 0, "{targets}");
    rule_arn
}

/// Polls DescribeReplay until the replay ends, or cancels it once `cap` has passed since
/// `wall`. Returns the last description; `peak_rss` keeps the highest RSS seen.
async fn watch_replay(
    api: &Api,
    pid: u32,
    wall: Instant,
    cap: Duration,
    peak_rss: &mut f64,
) -> Value {
    loop {
        let r = api
            .call("DescribeReplay", json!({"ReplayName": "bench-replay"}))
            .await;
        *peak_rss = peak_rss.max(memory_mb(pid).0);
        let state = r["State"].as_str().unwrap_or_default().to_string();
        if ["COMPLETED", "FAILED", "CANCELLED"].contains(&state.as_str()) {
            return r;
        }
        if wall.elapsed() > cap {
            println!("  replay still {state} after {cap:?}; cancelling it");
            api.call("CancelReplay", json!({"ReplayName": "bench-replay"}))
                .await;
            return r;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The live-latency probe: live PutEvents alone, then during the replay's first seconds.
fn report_probes(quiet: &LoadResult, busy: &LoadResult, replay_wall: Duration) {
    println!(
        "  live PutEvents (4 connections, 2000 events/s) alone: p50 {:.1} ms, p99 {:.1} ms; during the replay's first {:.1} s: p50 {:.1} ms, p99 {:.1} ms ({} failed requests)",
        quiet.percentile(0.5),
        quiet.percentile(0.99),
        PROBE_FOR.as_secs_f64(),
        busy.percentile(0.5),
        busy.percentile(0.99),
        quiet.failed_requests + busy.failed_requests
    );
    if replay_wall < PROBE_FOR {
        println!("  (the replay ended before the probe: its second half ran without a replay)");
    }
}

/// Lets a cancellation land, for the record: the description once CANCELLED or FAILED (or
/// after 10 s).
async fn settle_cancellation(api: &Api, replay: Value) -> Value {
    let mut r = replay;
    for _ in 0..50 {
        r = api
            .call("DescribeReplay", json!({"ReplayName": "bench-replay"}))
            .await;
        if r["State"] == "CANCELLED" || r["State"] == "FAILED" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    r
}

/// A COMPLETED replay has queued its deliveries; they drain afterwards. Drained = the newest
/// delivery record stops changing. Returns when it finished (`None` at the time cap).
async fn drain_deliveries(run: &Run, api: &Api, pid: u32, peak_rss: &mut f64) -> Option<i64> {
    let mark = cpu_mark(pid);
    let mut last_seen: Option<Value> = None;
    let mut stable_since = Instant::now();
    let drain_cap = Instant::now() + run.remaining(180);
    let drained_ms = loop {
        let newest = api.get("/_local/deliveries?limit=1").await["deliveries"][0].clone();
        *peak_rss = peak_rss.max(memory_mb(pid).0);
        if last_seen.as_ref() != Some(&newest) {
            last_seen = Some(newest);
            stable_since = Instant::now();
        } else if stable_since.elapsed() > Duration::from_millis(1500) {
            break newest["finishedMs"].as_i64();
        }
        if Instant::now() > drain_cap {
            println!("  deliveries still running at the time cap");
            break None;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    cpu_report("delivery drain after COMPLETED", pid, &mark);
    drained_ms
}

/// How many of the last 10,000 deliveries did not succeed, with one for example.
async fn report_failed_deliveries(api: &Api) {
    let recent = api.get("/_local/deliveries?limit=10000").await["deliveries"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let not_ok = recent
        .iter()
        .filter(|d| d["outcome"] != "succeeded")
        .count();
    println!(
        "  last 10,000 deliveries: {not_ok} not succeeded{}",
        recent
            .iter()
            .find(|d| d["outcome"] != "succeeded")
            .map(|d| format!(" (e.g. {d})"))
            .unwrap_or_default()
    );
}
