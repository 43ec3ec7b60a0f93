//! Archives at a million events, driven over HTTP like a client (issue 5).
//!
//! ```sh
//! cargo build --release && cargo bench --bench archive
//! ```
//!
//! Starts the real server binary (the `eventbridge-local` that cargo builds beside this bench,
//! i.e. target/release/eventbridge-local; `ARCHIVE_BENCH_SERVER=/path` picks another) on
//! 127.0.0.1 with a fresh data dir under target/bench-data, and measures:
//! (a) PutEvents throughput into a bus without an archive and into a bus with one, every
//!     answer durable (group commit);
//! (b) the archive's EventCount, the data dir's size, the server's RSS and peak RSS;
//! (c) a replay of the whole archive through a rule whose target is another bus;
//! (d) a graceful restart (the catalog counts the archive at start);
//! (e) the retention sweep after UpdateArchive RetentionDays=10 (events are 2 to 30 days old),
//!     and the disk space that packing of mostly-dead segments gives back after it.
//! It prints a table of figures, goals and ratios, plus where the CPU went per phase. It never
//! fails on a timing; every phase is bounded in time and the whole run stops within ~11 min.
//!
//! Knobs (environment): `ARCHIVE_BENCH_EVENTS` (1000000), `ARCHIVE_BENCH_PLAIN_EVENTS`
//! (200000), `ARCHIVE_BENCH_CONNECTIONS` (64), `ARCHIVE_BENCH_CACHE_MB` (server default),
//! `ARCHIVE_BENCH_KEEP=1` keeps the data dir, `ARCHIVE_BENCH_SERVER_LOG=<RUST_LOG value>`.
//!
//! Without `--bench` (as `cargo test --benches` runs it) it prints one line and exits.
//!
//! Layout: this file sets up, runs the phases in order and does (d); (a) and (b) are in
//! `ingest`, (c) in `replay`, (e) in `retention`, each phase printing as it goes and adding
//! its rows to the table. `server`, `client`, `events`, `load` and `measure` are what the
//! phases drive and read; `report` prints.

mod client;
mod events;
mod ingest;
mod load;
mod measure;
mod replay;
mod report;
mod retention;
mod server;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::json;

use client::Api;
use events::{ENTRIES_PER_REQUEST, bus_arn, detail, put_events_body};
use measure::{load_average, memory_mb};
use report::{Row, print_table, row};
use server::{Server, server_binary, start_server};

/// The whole run stops within this; each phase's own cap is cut to what is left of it.
const OVERALL_CAP: Duration = Duration::from_secs(660);

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// What every phase shares: the knobs, the time budget, the server's data dir and the table
/// being filled.
pub struct Run {
    /// Events put on the archived bus (`ARCHIVE_BENCH_EVENTS`).
    pub events: u64,
    /// Events put on the bus without an archive (`ARCHIVE_BENCH_PLAIN_EVENTS`).
    pub plain_events: u64,
    pub connections: usize,
    pub dir: PathBuf,
    pub rows: Vec<Row>,
    started: Instant,
}

impl Run {
    /// `cap` seconds, or what is left of the whole run's budget if that is less.
    pub fn remaining(&self, cap: u64) -> Duration {
        Duration::from_secs(cap).min(OVERALL_CAP.saturating_sub(self.started.elapsed()))
    }
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!(
            "archive benchmark: skipped (run `cargo build --release && cargo bench --bench archive`)"
        );
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(bench());
}

async fn bench() {
    let events = env_u64("ARCHIVE_BENCH_EVENTS", 1_000_000);
    let plain_events = env_u64("ARCHIVE_BENCH_PLAIN_EVENTS", 200_000);
    let connections = env_u64("ARCHIVE_BENCH_CONNECTIONS", 64).max(1) as usize;
    let started = Instant::now();

    let bin = server_binary();
    if !bin.exists() {
        eprintln!(
            "archive benchmark: {} is missing; run `cargo build --release && cargo bench --bench archive`",
            bin.display()
        );
        std::process::exit(1);
    }
    let (dir, log) = fresh_data_dir();
    println!(
        "archive benchmark: server {}, data {}, server log {}",
        bin.display(),
        dir.display(),
        log.display()
    );
    println!("  machine load average (1 min): {}", load_average());
    println!(
        "  {events} archived events + {plain_events} unarchived, {connections} connections, {ENTRIES_PER_REQUEST} entries per PutEvents, Detail {} bytes, request {} bytes",
        detail(123_456).len(),
        put_events_body("orders", 0, ENTRIES_PER_REQUEST, events, now_ms()).len()
    );
    let mut run = Run {
        events,
        plain_events,
        connections,
        dir,
        rows: Vec::new(),
        started,
    };

    let server = start_server(&bin, &run.dir, &log);
    let api = Api::new(server.addr, connections);
    let archive_arn = create_buses_and_archive(&api).await;
    let ingest = ingest::put_events(&mut run, &api, server.pid()).await;
    let count = ingest::after_ingest(&mut run, &api, server.pid(), &ingest).await;
    replay::replay_everything(&mut run, &api, server.pid(), &ingest, count, &archive_arn).await;
    let (server, api, count_after_restart) = restart(&mut run, server, &bin, &log, count).await;
    retention::sweep_and_pack(&mut run, &api, server.pid(), &ingest, count_after_restart).await;

    server.stop();
    run.rows.push(row(
        "machine load average (1 min) at the end, 2 cores",
        load_average(),
        "-",
        None,
    ));
    print_table(&run.rows);
    println!("\ntotal {:.0} s", run.started.elapsed().as_secs_f64());
    if std::env::var("ARCHIVE_BENCH_KEEP").is_err() {
        let _ = std::fs::remove_dir_all(&run.dir);
    }
}

/// The data dir of this run and the server log, under target/bench-data, after removing the
/// data dirs that runs stopped with Ctrl-C left behind.
fn fresh_data_dir() -> (PathBuf, PathBuf) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-data");
    std::fs::create_dir_all(&root).unwrap();
    if let Ok(entries) = std::fs::read_dir(&root) {
        for entry in entries.flatten() {
            if entry
                .file_name()
                .to_string_lossy()
                .starts_with("archive-data-")
            {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
    let dir = root.join(format!("archive-data-{}", std::process::id()));
    let log = root.join("archive-server.log");
    let _ = std::fs::remove_file(&log);
    (dir, log)
}

/// Buses `plain` (no archive), `orders` (archived by `all-orders`) and `sink` (the replay's
/// destination). Returns the archive's ARN.
async fn create_buses_and_archive(api: &Api) -> String {
    for bus in ["plain", "orders", "sink"] {
        api.call("CreateEventBus", json!({"Name": bus})).await;
    }
    api.call(
        "CreateArchive",
        json!({"ArchiveName": "all-orders", "EventSourceArn": bus_arn("orders")}),
    )
    .await["ArchiveArn"]
        .as_str()
        .unwrap()
        .to_string()
}

/// (d) A graceful restart with the whole archive on disk: how long until the server listens
/// again, and whether the catalog counts every event. Returns the new server, a client of it
/// and the count.
async fn restart(
    run: &mut Run,
    server: Server,
    bin: &Path,
    log: &Path,
    count: u64,
) -> (Server, Api, u64) {
    println!("\n(d) graceful restart");
    let stopping = Instant::now();
    server.stop();
    let stop_secs = stopping.elapsed().as_secs_f64();
    let restarting = Instant::now();
    let server = start_server(bin, &run.dir, log);
    let restart_secs = restarting.elapsed().as_secs_f64();
    let api = Api::new(server.addr, run.connections);
    let count_after_restart = api.event_count("all-orders").await;
    let (rss, _) = memory_mb(server.pid());
    println!(
        "  stop {stop_secs:.1} s, start until listening {restart_secs:.1} s, EventCount {count_after_restart}, RSS {rss:.0} MiB"
    );
    run.rows.push(row(
        "restart: start until listening (s)",
        format!("{restart_secs:.1}"),
        "-",
        None,
    ));
    run.rows.push(row(
        "  EventCount after restart / before",
        format!("{count_after_restart}/{count}"),
        "equal",
        Some(count_after_restart as f64 / count.max(1) as f64),
    ));
    (server, api, count_after_restart)
}
