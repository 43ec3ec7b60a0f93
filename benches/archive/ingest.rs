//! (a) PutEvents throughput without and with an archive, and (b) what the archive then holds
//! and costs (EventCount, disk, memory).

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use crate::client::Api;
use crate::events::event_time;
use crate::load::put_load;
use crate::measure::{cpu_mark, cpu_report, disk_size, memory_mb};
use crate::report::{mb, report_load, row};
use crate::{Run, now_ms};

/// What the archived ingest left behind, for the phases that check the archive against it.
pub struct Ingest {
    /// The clock the event times were spread back from.
    pub base_ms: i64,
    /// When the last PutEvents of the archived ingest was answered.
    pub last_put_ms: i64,
    /// Events put on the archived bus (acknowledged or not).
    events: u64,
    /// 1 at each sequence number whose event PutEvents acknowledged.
    acked_seqs: Arc<Vec<AtomicU8>>,
    pub acknowledged: u64,
}

impl Ingest {
    /// Acknowledged events with a time before `ms`: exact, since the bench knows every
    /// event's time.
    pub fn acknowledged_before(&self, ms: i64) -> u64 {
        (0..self.events)
            .filter(|&seq| {
                self.acked_seqs[seq as usize].load(Ordering::Relaxed) == 1
                    && event_time(self.base_ms, seq, self.events) < ms
            })
            .count() as u64
    }
}

/// (a) Puts `run.plain_events` on the bus without an archive, then `run.events` on the
/// archived one, each as fast as the connections go.
pub async fn put_events(run: &mut Run, api: &Api, pid: u32) -> Ingest {
    let events = run.events;
    let base_ms = now_ms();
    println!(
        "\n(a) PutEvents into a bus without an archive ({} events)",
        run.plain_events
    );
    let mark = cpu_mark(pid);
    let plain = put_load(
        api,
        "plain",
        run.plain_events,
        run.connections,
        base_ms,
        run.remaining(120),
        None,
    )
    .await;
    let plain_cpu = cpu_report("PutEvents without archive", pid, &mark);
    report_load(&plain);

    println!("\n(a) PutEvents into a bus with an archive ({events} events)");
    let acked_seqs: Arc<Vec<AtomicU8>> = Arc::new((0..events).map(|_| AtomicU8::new(0)).collect());
    let mark = cpu_mark(pid);
    let archived = put_load(
        api,
        "orders",
        events,
        run.connections,
        base_ms,
        run.remaining(360),
        Some(acked_seqs.clone()),
    )
    .await;
    let archived_cpu = cpu_report("PutEvents with archive", pid, &mark);
    report_load(&archived);
    let last_put_ms = now_ms();
    run.rows.push(row(
        "PutEvents, bus without archive (events/s)",
        format!("{:.0}", plain.rate()),
        "-",
        None,
    ));
    run.rows.push(row(
        "PutEvents, bus with archive, durable (events/s)",
        format!("{:.0}", archived.rate()),
        "50000",
        Some(archived.rate() / 50_000.0),
    ));
    run.rows.push(row(
        "  with/without archive throughput",
        format!("{:.2}", archived.rate() / plain.rate().max(1e-9)),
        "-",
        None,
    ));
    run.rows.push(row(
        "  server CPU per event without/with archive (us)",
        format!(
            "{:.0}/{:.0}",
            plain_cpu * 1e6 / plain.acknowledged.max(1) as f64,
            archived_cpu * 1e6 / archived.acknowledged.max(1) as f64
        ),
        "-",
        None,
    ));
    run.rows.push(row(
        "  PutEvents latency with archive p50/p99 (ms)",
        format!(
            "{:.1}/{:.1}",
            archived.percentile(0.5),
            archived.percentile(0.99)
        ),
        "-",
        None,
    ));
    Ingest {
        base_ms,
        last_put_ms,
        events,
        acked_seqs,
        acknowledged: archived.acknowledged,
    }
}

/// (b) The archive's EventCount against what was acknowledged, the data dir's size and the
/// server's memory. Returns the EventCount.
pub async fn after_ingest(run: &mut Run, api: &Api, pid: u32, ingest: &Ingest) -> u64 {
    println!("\n(b) after ingest");
    let count = api.event_count("all-orders").await;
    let (apparent, allocated) = disk_size(&run.dir);
    let (rss, hwm) = memory_mb(pid);
    println!(
        "  EventCount {count} (acknowledged {}), data dir {:.0} MiB ({:.0} MiB allocated), RSS {rss:.0} MiB, peak {hwm:.0} MiB",
        ingest.acknowledged,
        mb(apparent),
        mb(allocated)
    );
    run.rows.push(row(
        "archived events acknowledged",
        format!("{}", ingest.acknowledged),
        &format!("{}", run.events),
        Some(ingest.acknowledged as f64 / run.events as f64),
    ));
    run.rows.push(row(
        "DescribeArchive EventCount / acknowledged",
        format!("{count}/{}", ingest.acknowledged),
        "equal",
        Some(count as f64 / ingest.acknowledged.max(1) as f64),
    ));
    run.rows.push(row(
        "data dir size after ingest (MiB)",
        format!("{:.0}", mb(apparent)),
        "-",
        None,
    ));
    run.rows.push(row(
        "  bytes on disk per archived event",
        format!("{:.0}", apparent as f64 / count.max(1) as f64),
        "-",
        None,
    ));
    run.rows.push(row(
        "server RSS after ingest (MiB)",
        format!("{rss:.0}"),
        "200",
        Some(rss / 200.0),
    ));
    run.rows.push(row(
        "server peak RSS (VmHWM) after ingest (MiB)",
        format!("{hwm:.0}"),
        "200",
        Some(hwm / 200.0),
    ));
    count
}
