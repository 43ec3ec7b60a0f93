//! (e) Retention: UpdateArchive RetentionDays=10 over events 2 to 30 days old, how soon the
//! sweep drops EventCount, and how much disk the packing of mostly-dead segments gives back
//! after it.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::client::Api;
use crate::events::DAY_MS;
use crate::ingest::Ingest;
use crate::measure::{cpu_mark, cpu_report, disk_size, memory_mb};
use crate::report::{mb, row};
use crate::{Run, now_ms};

const RETENTION_DAYS: i64 = 10;

/// (e) The sweep, then packing; `count` is the EventCount before.
pub async fn sweep_and_pack(run: &mut Run, api: &Api, pid: u32, ingest: &Ingest, count: u64) {
    let mut peak_rss = 0f64;
    let size_after_sweep = sweep(run, api, pid, ingest, count, &mut peak_rss).await;
    pack(run, pid, size_after_sweep, &mut peak_rss).await;
    run.rows.push(row(
        "  server peak RSS seen during sweep and packing (MiB)",
        format!("{peak_rss:.0}"),
        "200",
        Some(peak_rss / 200.0),
    ));
}

/// Sets the retention and polls EventCount until every expired event is gone (or the time
/// cap). Returns the data dir's size then.
async fn sweep(
    run: &mut Run,
    api: &Api,
    pid: u32,
    ingest: &Ingest,
    count_after_restart: u64,
    peak_rss_sweep: &mut f64,
) -> u64 {
    println!("\n(e) retention sweep: UpdateArchive RetentionDays={RETENTION_DAYS}");
    let mark = cpu_mark(pid);
    let updating = Instant::now();
    let cutoff = now_ms() - RETENTION_DAYS * DAY_MS;
    let expired = ingest.acknowledged_before(cutoff);
    let expected = count_after_restart.saturating_sub(expired);
    api.call(
        "UpdateArchive",
        json!({"ArchiveName": "all-orders", "RetentionDays": RETENTION_DAYS}),
    )
    .await;
    let sweep_cap = run.remaining(180);
    let mut swept_count = count_after_restart;
    while updating.elapsed() < sweep_cap {
        swept_count = api.event_count("all-orders").await;
        *peak_rss_sweep = peak_rss_sweep.max(memory_mb(pid).0);
        if swept_count <= expected {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let sweep_secs = updating.elapsed().as_secs_f64();
    cpu_report("retention sweep", pid, &mark);
    let (apparent_after, _) = disk_size(&run.dir);
    println!(
        "  EventCount {count_after_restart} -> {swept_count} (expected <= {expected}, {expired} expired) in {sweep_secs:.1} s (sweeps run every 1 s); data dir {:.0} MiB",
        mb(apparent_after)
    );
    run.rows.push(row(
        "retention sweep, UpdateArchive to EventCount dropped (s)",
        format!("{sweep_secs:.1}"),
        "-",
        None,
    ));
    run.rows.push(row(
        "  events removed by the sweep",
        format!("{}", count_after_restart - swept_count),
        &format!("{expired}"),
        Some((count_after_restart - swept_count) as f64 / expired.max(1) as f64),
    ));
    run.rows.push(row(
        "  sweep rate (events removed/s)",
        format!(
            "{:.0}",
            (count_after_restart - swept_count) as f64 / sweep_secs
        ),
        "-",
        None,
    ));
    run.rows.push(row(
        "data dir size when EventCount dropped (MiB)",
        format!("{:.0}", mb(apparent_after)),
        "-",
        None,
    ));
    apparent_after
}

/// Space comes back after the count drops: segments left mostly dead are packed. Waits until
/// the data dir's size has not changed for 3 s (or the time cap).
async fn pack(run: &mut Run, pid: u32, apparent_after: u64, peak_rss_sweep: &mut f64) {
    let packing = Instant::now();
    let pack_cap = run.remaining(120).min(Duration::from_secs(120));
    let mut settled = apparent_after;
    let mut last_change = Instant::now();
    while packing.elapsed() < pack_cap && last_change.elapsed() < Duration::from_secs(3) {
        tokio::time::sleep(Duration::from_millis(250)).await;
        *peak_rss_sweep = peak_rss_sweep.max(memory_mb(pid).0);
        let (now_size, _) = disk_size(&run.dir);
        if now_size != settled {
            settled = now_size;
            last_change = Instant::now();
        }
    }
    let pack_secs = (last_change - packing).as_secs_f64().max(0.0);
    println!(
        "  data dir {:.0} MiB -> {:.0} MiB once packing settled ({pack_secs:.1} s after the count dropped); peak RSS {peak_rss_sweep:.0} MiB",
        mb(apparent_after),
        mb(settled)
    );
    run.rows.push(row(
        "data dir size after packing settled (MiB)",
        format!("{:.0}", mb(settled)),
        "-",
        None,
    ));
    run.rows.push(row(
        "  packing time after the count dropped (s)",
        format!("{pack_secs:.1}"),
        "-",
        None,
    ));
}
