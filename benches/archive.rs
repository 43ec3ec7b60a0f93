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

use std::io::BufRead;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};

const DAY_MS: i64 = 86_400_000;
const ACCOUNT: &str = "000000000000";
const REGION: &str = "us-east-1";
const ENTRIES_PER_REQUEST: u64 = 10;
/// Event times are spread uniformly over [now - OLDEST_DAYS, now - NEWEST_DAYS].
const OLDEST_DAYS: i64 = 30;
const NEWEST_DAYS: i64 = 2;
const RETENTION_DAYS: i64 = 10;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

// ---------------------------------------------------------------- the server process

struct Server {
    child: Child,
    addr: SocketAddr,
}

fn server_binary() -> PathBuf {
    if let Ok(path) = std::env::var("ARCHIVE_BENCH_SERVER") {
        return PathBuf::from(path);
    }
    // Cargo builds the binary target with the bench profile (release) before the bench.
    PathBuf::from(env!("CARGO_BIN_EXE_eventbridge-local"))
}

fn start_server(bin: &Path, dir: &Path, log: &Path) -> Server {
    let mut cmd = Command::new(bin);
    cmd.args(["--host", "127.0.0.1", "--port", "0", "--data-dir"])
        .arg(dir)
        .args(["--retention-sweep-secs", "1"]);
    if let Ok(mb) = std::env::var("ARCHIVE_BENCH_CACHE_MB") {
        cmd.args(["--cache-mb", &mb]);
    }
    cmd.env(
        "RUST_LOG",
        std::env::var("ARCHIVE_BENCH_SERVER_LOG").unwrap_or_else(|_| "info".into()),
    );
    let log_file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .expect("server log file");
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log_file))
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let Some(addr) = line
        .trim()
        .rsplit("http://")
        .next()
        .and_then(|a| a.parse().ok())
    else {
        let _ = child.kill();
        panic!(
            "no listening line from the server (got {line:?}); see {}",
            log.display()
        );
    };
    Server { child, addr }
}

impl Server {
    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGTERM, then SIGKILL after 30 s.
    fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        eprintln!("server did not stop within 30 s of SIGTERM; killing it");
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// (VmRSS, VmHWM) in MiB.
fn memory_mb(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(f64::NAN, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// (apparent bytes, allocated bytes) of a directory tree.
fn disk_size(dir: &Path) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    let mut total = (0, 0);
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_dir() {
                let (a, b) = disk_size(&entry.path());
                total.0 += a;
                total.1 += b;
            } else {
                total.0 += meta.len();
                total.1 += meta.blocks() * 512;
            }
        }
    }
    total
}

// ---------------------------------------------------------------- CPU accounting

/// CPU ticks (utime + stime) per thread name of a process, and of the whole process.
fn cpu_ticks(pid: u32) -> (u64, std::collections::BTreeMap<String, u64>) {
    let mut by_thread = std::collections::BTreeMap::new();
    let parse = |stat: &str| -> Option<(String, u64)> {
        let open = stat.find('(')?;
        let close = stat.rfind(')')?;
        let name = stat[open + 1..close].to_string();
        let fields: Vec<&str> = stat[close + 2..].split_whitespace().collect();
        let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
        Some((name, ticks))
    };
    let total = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| parse(&s))
        .map_or(0, |(_, t)| t);
    if let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) {
        for task in tasks.flatten() {
            if let Some((name, ticks)) = std::fs::read_to_string(task.path().join("stat"))
                .ok()
                .and_then(|s| parse(&s))
            {
                // Group numbered worker threads by their common prefix.
                let name = name
                    .trim_end_matches(|c: char| c.is_ascii_digit())
                    .to_string();
                *by_thread.entry(name).or_insert(0) += ticks;
            }
        }
    }
    (total, by_thread)
}

struct CpuMark {
    server: (u64, std::collections::BTreeMap<String, u64>),
    client: u64,
    at: Instant,
}

fn cpu_mark(pid: u32) -> CpuMark {
    CpuMark {
        server: cpu_ticks(pid),
        client: cpu_ticks(std::process::id()).0,
        at: Instant::now(),
    }
}

/// One line: how busy the server (by thread group) and this load generator were, in cores.
/// Thread ticks of threads that ended in between are missing; the process total has them.
/// Returns the server's CPU seconds.
fn cpu_report(label: &str, pid: u32, before: &CpuMark) -> f64 {
    let after = cpu_mark(pid);
    let secs = after.at.duration_since(before.at).as_secs_f64().max(1e-9);
    let hz = 100.0;
    let cores = |ticks: u64| ticks as f64 / hz / secs;
    let mut threads: Vec<(String, u64)> = after
        .server
        .1
        .iter()
        .map(|(name, t)| {
            let old = before.server.1.get(name).copied().unwrap_or(0);
            (name.clone(), t.saturating_sub(old))
        })
        .filter(|(_, t)| *t > 0)
        .collect();
    threads.sort_by_key(|t| std::cmp::Reverse(t.1));
    let threads: Vec<String> = threads
        .iter()
        .take(6)
        .map(|(n, t)| format!("{n} {:.2}", cores(*t)))
        .collect();
    println!(
        "  cpu during {label} ({secs:.1} s): server {:.2} cores [{}], load generator {:.2} cores",
        cores(after.server.0.saturating_sub(before.server.0)),
        threads.join(", "),
        cores(after.client.saturating_sub(before.client)),
    );
    after.server.0.saturating_sub(before.server.0) as f64 / hz
}

/// The 1-minute load average: other processes compete with the server on a shared machine.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

// ---------------------------------------------------------------- the client

#[derive(Clone)]
struct Api {
    addr: SocketAddr,
    client: Client<HttpConnector, Full<Bytes>>,
}

impl Api {
    fn new(addr: SocketAddr, connections: usize) -> Api {
        Api {
            addr,
            client: Client::builder(TokioExecutor::new())
                .pool_max_idle_per_host(connections)
                .build_http(),
        }
    }

    async fn send(&self, operation: &str, body: Bytes) -> Result<(u16, Bytes), String> {
        let request = http::Request::builder()
            .method("POST")
            .uri(format!("http://{}/", self.addr))
            .header("content-type", "application/x-amz-json-1.1")
            .header("x-amz-target", format!("AWSEvents.{operation}"))
            .body(Full::new(body))
            .unwrap();
        let response = self
            .client
            .request(request)
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        Ok((status, bytes))
    }

    /// An operation that must succeed.
    async fn call(&self, operation: &str, body: Value) -> Value {
        let (status, bytes) = self
            .send(operation, Bytes::from(body.to_string()))
            .await
            .unwrap_or_else(|e| panic!("{operation}: {e}"));
        let value: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        assert_eq!(status, 200, "{operation} answered {status}: {value}");
        value
    }

    async fn get(&self, path: &str) -> Value {
        let request = http::Request::builder()
            .uri(format!("http://{}{path}", self.addr))
            .body(Full::new(Bytes::new()))
            .unwrap();
        match self.client.request(request).await {
            Ok(response) => {
                let bytes = response.into_body().collect().await.map(|b| b.to_bytes());
                bytes
                    .ok()
                    .and_then(|b| serde_json::from_slice(&b).ok())
                    .unwrap_or(Value::Null)
            }
            Err(_) => Value::Null,
        }
    }

    async fn event_count(&self, archive: &str) -> u64 {
        self.call("DescribeArchive", json!({"ArchiveName": archive}))
            .await["EventCount"]
            .as_u64()
            .unwrap_or(0)
    }
}

/// The time of event `seq` of `total`: uniformly spread, newest first.
fn event_time(base_ms: i64, seq: u64, total: u64) -> i64 {
    let span = (OLDEST_DAYS - NEWEST_DAYS) * DAY_MS;
    base_ms - NEWEST_DAYS * DAY_MS - (span as f64 * seq as f64 / total.max(1) as f64) as i64
}

/// A realistic ~1 KB order event.
fn detail(seq: u64) -> String {
    let items: Vec<String> = (0..4)
        .map(|i| {
            format!(
                r#"{{"sku":"SKU-{:06}","name":"Ergonomic widget model {}","quantity":{},"unitPrice":{}.{:02},"warehouse":"wh-{}"}}"#,
                (seq * 7 + i) % 1_000_000,
                i,
                1 + (seq + i) % 5,
                5 + (seq * 13 + i) % 200,
                (seq + i * 17) % 100,
                (seq + i) % 12
            )
        })
        .collect();
    format!(
        r#"{{"orderId":"ord-{seq:012}","sequence":{seq},"status":"PLACED","channel":"web","customer":{{"id":"cust-{:08}","name":"Customer Number {}","email":"customer{}@example.com","tier":"{}","address":{{"street":"{} Market Street","city":"San Francisco","state":"CA","postalCode":"94{:03}","country":"US"}}}},"items":[{}],"payment":{{"method":"card","brand":"visa","last4":"{:04}","amount":{}.{:02},"currency":"USD"}},"shipping":{{"carrier":"UPS","service":"ground","estimatedDays":{}}},"tags":["promo-spring","first-order","priority"],"note":"Leave the parcel at the front desk if nobody answers."}}"#,
        seq % 50_000_000,
        seq % 100_000,
        seq % 100_000,
        ["bronze", "silver", "gold", "platinum"][(seq % 4) as usize],
        1 + seq % 2000,
        seq % 1000,
        items.join(","),
        seq % 10_000,
        20 + seq % 900,
        seq % 100,
        1 + seq % 7
    )
}

fn put_events_body(bus: &str, first: u64, count: u64, total: u64, base_ms: i64) -> Bytes {
    let mut body = String::with_capacity(1400 * count as usize);
    body.push_str(r#"{"Entries":["#);
    for seq in first..first + count {
        if seq > first {
            body.push(',');
        }
        let t = event_time(base_ms, seq, total);
        let detail = serde_json::to_string(&detail(seq)).unwrap();
        body.push_str(&format!(
            r#"{{"EventBusName":"{bus}","Source":"bench.orders","DetailType":"OrderPlaced","Time":{}.{:03},"Resources":["arn:aws:example:{REGION}:{ACCOUNT}:order/ord-{seq:012}"],"Detail":{detail}}}"#,
            t.div_euclid(1000),
            t.rem_euclid(1000)
        ));
    }
    body.push_str("]}");
    Bytes::from(body)
}

#[derive(Default)]
struct LoadResult {
    acknowledged: u64,
    failed_entries: u64,
    failed_requests: u64,
    first_error: Option<String>,
    elapsed: Duration,
    /// Request latencies in µs, sorted.
    latencies: Vec<u32>,
}

impl LoadResult {
    fn rate(&self) -> f64 {
        self.acknowledged as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    fn percentile(&self, p: f64) -> f64 {
        if self.latencies.is_empty() {
            return f64::NAN;
        }
        let i = ((self.latencies.len() - 1) as f64 * p).round() as usize;
        self.latencies[i] as f64 / 1000.0
    }
}

/// Puts `total` events on `bus` over `connections` concurrent connections, until done or
/// `cap` passes. Marks acknowledged sequence numbers in `acked` when given.
async fn put_load(
    api: &Api,
    bus: &str,
    total: u64,
    connections: usize,
    base_ms: i64,
    cap: Duration,
    acked: Option<Arc<Vec<AtomicU8>>>,
) -> LoadResult {
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + cap;
    let progress_every = (total / 10).max(1);
    let done = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (api, bus, next, acked, done) = (
            api.clone(),
            bus.to_string(),
            next.clone(),
            acked.clone(),
            done.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut r = LoadResult::default();
            loop {
                if Instant::now() > deadline {
                    break;
                }
                let first = next.fetch_add(ENTRIES_PER_REQUEST, Ordering::Relaxed);
                if first >= total {
                    break;
                }
                let count = ENTRIES_PER_REQUEST.min(total - first);
                let body = put_events_body(&bus, first, count, total, base_ms);
                let sent = Instant::now();
                let reply = api.send("PutEvents", body).await;
                r.latencies
                    .push(sent.elapsed().as_micros().min(u32::MAX as u128) as u32);
                match reply {
                    Ok((200, bytes)) => {
                        let v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
                        let entries = v["Entries"].as_array().cloned().unwrap_or_default();
                        for (i, e) in entries.iter().enumerate() {
                            if e["EventId"].is_string() {
                                r.acknowledged += 1;
                                if let Some(acked) = &acked {
                                    acked[(first + i as u64) as usize].store(1, Ordering::Relaxed);
                                }
                            } else {
                                r.failed_entries += 1;
                                r.first_error.get_or_insert_with(|| e.to_string());
                            }
                        }
                    }
                    Ok((status, bytes)) => {
                        r.failed_requests += 1;
                        r.first_error.get_or_insert_with(|| {
                            format!("HTTP {status}: {}", String::from_utf8_lossy(&bytes))
                        });
                    }
                    Err(e) => {
                        r.failed_requests += 1;
                        r.first_error.get_or_insert(e);
                    }
                }
                let before = done.fetch_add(count, Ordering::Relaxed);
                if (before + count) / progress_every != before / progress_every {
                    let n = before + count;
                    eprintln!(
                        "    {bus}: {n} events sent, {:.0} events/s so far",
                        n as f64 / started.elapsed().as_secs_f64()
                    );
                }
            }
            r
        }));
    }
    let mut result = LoadResult::default();
    for task in tasks {
        let r = task.await.unwrap();
        result.acknowledged += r.acknowledged;
        result.failed_entries += r.failed_entries;
        result.failed_requests += r.failed_requests;
        if result.first_error.is_none() {
            result.first_error = r.first_error;
        }
        result.latencies.extend(r.latencies);
    }
    result.elapsed = started.elapsed();
    result.latencies.sort_unstable();
    result
}

/// Live traffic at a steady, light pace (`PROBE_CONNECTIONS` connections, one PutEvents of
/// 10 events every `PROBE_EVERY` each) on `bus` for `duration`: its latencies show whether
/// other work (a replay) slows live PutEvents down.
async fn paced_probe(api: &Api, bus: &str, base_ms: i64, duration: Duration) -> LoadResult {
    const PROBE_CONNECTIONS: usize = 4;
    const PROBE_EVERY: Duration = Duration::from_millis(20);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..PROBE_CONNECTIONS {
        let (api, bus) = (api.clone(), bus.to_string());
        tasks.push(tokio::spawn(async move {
            let mut r = LoadResult::default();
            let mut tick = tokio::time::interval(PROBE_EVERY);
            let mut seq = c as u64 * 1_000_000;
            while started.elapsed() < duration {
                tick.tick().await;
                let body = put_events_body(&bus, seq, ENTRIES_PER_REQUEST, u64::MAX, base_ms);
                seq += ENTRIES_PER_REQUEST;
                let sent = Instant::now();
                match api.send("PutEvents", body).await {
                    Ok((200, _)) => r.acknowledged += ENTRIES_PER_REQUEST,
                    _ => r.failed_requests += 1,
                }
                r.latencies
                    .push(sent.elapsed().as_micros().min(u32::MAX as u128) as u32);
            }
            r
        }));
    }
    let mut result = LoadResult::default();
    for task in tasks {
        let r = task.await.unwrap();
        result.acknowledged += r.acknowledged;
        result.failed_requests += r.failed_requests;
        result.latencies.extend(r.latencies);
    }
    result.elapsed = started.elapsed();
    result.latencies.sort_unstable();
    result
}

// ---------------------------------------------------------------- the report

struct Row {
    figure: String,
    value: String,
    goal: String,
    ratio: String,
}

fn row(figure: &str, value: String, goal: &str, ratio: Option<f64>) -> Row {
    Row {
        figure: figure.into(),
        value,
        goal: goal.into(),
        ratio: ratio.map_or("-".into(), |r| format!("{r:.2}")),
    }
}

fn print_table(rows: &[Row]) {
    let w0 = rows
        .iter()
        .map(|r| r.figure.len())
        .max()
        .unwrap_or(0)
        .max(6);
    let w1 = rows.iter().map(|r| r.value.len()).max().unwrap_or(0).max(5);
    let w2 = rows.iter().map(|r| r.goal.len()).max().unwrap_or(0).max(4);
    println!();
    println!(
        "{:<w0$}  {:>w1$}  {:>w2$}  {:>10}",
        "figure", "value", "goal", "value/goal"
    );
    println!("{}", "-".repeat(w0 + w1 + w2 + 16));
    for r in rows {
        println!(
            "{:<w0$}  {:>w1$}  {:>w2$}  {:>10}",
            r.figure, r.value, r.goal, r.ratio
        );
    }
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

// ---------------------------------------------------------------- the phases

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
    let overall = Instant::now();
    let overall_cap = Duration::from_secs(660);
    let remaining =
        |cap: u64| Duration::from_secs(cap).min(overall_cap.saturating_sub(overall.elapsed()));

    let bin = server_binary();
    if !bin.exists() {
        eprintln!(
            "archive benchmark: {} is missing; run `cargo build --release && cargo bench --bench archive`",
            bin.display()
        );
        std::process::exit(1);
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-data");
    std::fs::create_dir_all(&root).unwrap();
    // Leftovers of earlier runs (a run stopped with Ctrl-C).
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

    let server = start_server(&bin, &dir, &log);
    let pid = server.pid();
    let api = Api::new(server.addr, connections);
    let mut rows = Vec::new();

    // ---- setup
    let bus_arn = |name: &str| format!("arn:aws:events:{REGION}:{ACCOUNT}:event-bus/{name}");
    for bus in ["plain", "orders", "sink"] {
        api.call("CreateEventBus", json!({"Name": bus})).await;
    }
    let archive_arn = api
        .call(
            "CreateArchive",
            json!({"ArchiveName": "all-orders", "EventSourceArn": bus_arn("orders")}),
        )
        .await["ArchiveArn"]
        .as_str()
        .unwrap()
        .to_string();

    // ---- (a) PutEvents without and with an archive
    let base_ms = now_ms();
    println!("\n(a) PutEvents into a bus without an archive ({plain_events} events)");
    let mark = cpu_mark(pid);
    let plain = put_load(
        &api,
        "plain",
        plain_events,
        connections,
        base_ms,
        remaining(120),
        None,
    )
    .await;
    let plain_cpu = cpu_report("PutEvents without archive", pid, &mark);
    report_load(&plain);

    println!("\n(a) PutEvents into a bus with an archive ({events} events)");
    let acked_seqs: Arc<Vec<AtomicU8>> = Arc::new((0..events).map(|_| AtomicU8::new(0)).collect());
    let mark = cpu_mark(pid);
    let archived = put_load(
        &api,
        "orders",
        events,
        connections,
        base_ms,
        remaining(360),
        Some(acked_seqs.clone()),
    )
    .await;
    let archived_cpu = cpu_report("PutEvents with archive", pid, &mark);
    report_load(&archived);
    let last_put_ms = now_ms();
    rows.push(row(
        "PutEvents, bus without archive (events/s)",
        format!("{:.0}", plain.rate()),
        "-",
        None,
    ));
    rows.push(row(
        "PutEvents, bus with archive, durable (events/s)",
        format!("{:.0}", archived.rate()),
        "50000",
        Some(archived.rate() / 50_000.0),
    ));
    rows.push(row(
        "  with/without archive throughput",
        format!("{:.2}", archived.rate() / plain.rate().max(1e-9)),
        "-",
        None,
    ));
    rows.push(row(
        "  server CPU per event without/with archive (us)",
        format!(
            "{:.0}/{:.0}",
            plain_cpu * 1e6 / plain.acknowledged.max(1) as f64,
            archived_cpu * 1e6 / archived.acknowledged.max(1) as f64
        ),
        "-",
        None,
    ));
    rows.push(row(
        "  PutEvents latency with archive p50/p99 (ms)",
        format!(
            "{:.1}/{:.1}",
            archived.percentile(0.5),
            archived.percentile(0.99)
        ),
        "-",
        None,
    ));

    // ---- (b) what the archive holds and costs
    println!("\n(b) after ingest");
    let count = api.event_count("all-orders").await;
    let (apparent, allocated) = disk_size(&dir);
    let (rss, hwm) = memory_mb(pid);
    println!(
        "  EventCount {count} (acknowledged {}), data dir {:.0} MiB ({:.0} MiB allocated), RSS {rss:.0} MiB, peak {hwm:.0} MiB",
        archived.acknowledged,
        mb(apparent),
        mb(allocated)
    );
    rows.push(row(
        "archived events acknowledged",
        format!("{}", archived.acknowledged),
        &format!("{events}"),
        Some(archived.acknowledged as f64 / events as f64),
    ));
    rows.push(row(
        "DescribeArchive EventCount / acknowledged",
        format!("{count}/{}", archived.acknowledged),
        "equal",
        Some(count as f64 / archived.acknowledged.max(1) as f64),
    ));
    rows.push(row(
        "data dir size after ingest (MiB)",
        format!("{:.0}", mb(apparent)),
        "-",
        None,
    ));
    rows.push(row(
        "  bytes on disk per archived event",
        format!("{:.0}", apparent as f64 / count.max(1) as f64),
        "-",
        None,
    ));
    rows.push(row(
        "server RSS after ingest (MiB)",
        format!("{rss:.0}"),
        "200",
        Some(rss / 200.0),
    ));
    rows.push(row(
        "server peak RSS (VmHWM) after ingest (MiB)",
        format!("{hwm:.0}"),
        "200",
        Some(hwm / 200.0),
    ));

    // ---- (c) replay everything through a rule into another bus
    println!("\n(c) replay of the whole archive to a rule whose target is the bus `sink`");
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
    // The window ends after the last put, on a whole second that has passed.
    let end_s = last_put_ms.div_euclid(1000) + 1;
    while now_ms() <= end_s * 1000 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let start_s = (base_ms - (OLDEST_DAYS + 1) * DAY_MS).div_euclid(1000);
    let probe_for = Duration::from_secs(3);
    let quiet_probe = paced_probe(&api, "plain", base_ms, probe_for).await;
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
        let api = api.clone();
        async move { paced_probe(&api, "plain", base_ms, probe_for).await }
    });
    let replay_cap = remaining(240);
    let mut peak_rss_replay = 0f64;
    let replay = loop {
        let r = api
            .call("DescribeReplay", json!({"ReplayName": "bench-replay"}))
            .await;
        peak_rss_replay = peak_rss_replay.max(memory_mb(pid).0);
        let state = r["State"].as_str().unwrap_or_default().to_string();
        if ["COMPLETED", "FAILED", "CANCELLED"].contains(&state.as_str()) {
            break r;
        }
        if wall.elapsed() > replay_cap {
            println!("  replay still {state} after {replay_cap:?}; cancelling it");
            api.call("CancelReplay", json!({"ReplayName": "bench-replay"}))
                .await;
            break r;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let replay_wall = wall.elapsed();
    let busy_probe = busy_probe.await.unwrap();
    println!(
        "  live PutEvents (4 connections, 2000 events/s) alone: p50 {:.1} ms, p99 {:.1} ms; during the replay's first {:.1} s: p50 {:.1} ms, p99 {:.1} ms ({} failed requests)",
        quiet_probe.percentile(0.5),
        quiet_probe.percentile(0.99),
        probe_for.as_secs_f64(),
        busy_probe.percentile(0.5),
        busy_probe.percentile(0.99),
        quiet_probe.failed_requests + busy_probe.failed_requests
    );
    if replay_wall < probe_for {
        println!("  (the replay ended before the probe: its second half ran without a replay)");
    }
    // Events of the window before EventLastReplayedTime have been replayed (exact: the bench
    // knows every acknowledged event's time).
    let replayed_before = |r: &Value| {
        let last_ms = (r["EventLastReplayedTime"].as_f64().unwrap_or(0.0) * 1000.0) as i64;
        (0..events)
            .filter(|&seq| {
                acked_seqs[seq as usize].load(Ordering::Relaxed) == 1
                    && event_time(base_ms, seq, events) < last_ms
            })
            .count() as u64
    };
    let replayed = if replay["State"] == "COMPLETED" {
        count
    } else {
        replayed_before(&replay)
    };
    let replay = if replay["State"] == "COMPLETED" {
        replay
    } else {
        // Let the cancellation land, for the record.
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
    // A COMPLETED replay has queued its deliveries; they drain afterwards. Drained = the
    // newest delivery record stops changing.
    let mark = cpu_mark(pid);
    let mut last_seen: Option<Value> = None;
    let mut stable_since = Instant::now();
    let drain_cap = Instant::now() + remaining(180);
    let drained_ms = loop {
        let newest = api.get("/_local/deliveries?limit=1").await["deliveries"][0].clone();
        peak_rss_replay = peak_rss_replay.max(memory_mb(pid).0);
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
    rows.push(row(
        replay_label,
        format!("{replay_rate:.0}"),
        "100000",
        Some(replay_rate / 100_000.0),
    ));
    rows.push(row(
        "  server CPU per replayed event (us)",
        format!("{:.0}", replay_cpu * 1e6 / replayed.max(1) as f64),
        "-",
        None,
    ));
    rows.push(row(
        "  replay wall time, StartReplay to COMPLETED seen (s)",
        format!("{:.1}", replay_wall.as_secs_f64()),
        "-",
        None,
    ));
    if let (Some(drained), "COMPLETED") = (drained_ms, state) {
        let secs = (drained as f64 / 1000.0 - started).max(1e-3);
        rows.push(row(
            "replay incl. delivery to the sink bus (events/s)",
            format!("{:.0}", count as f64 / secs),
            "100000",
            Some(count as f64 / secs / 100_000.0),
        ));
    }
    rows.push(row(
        "  server peak RSS seen during replay (MiB)",
        format!("{peak_rss_replay:.0}"),
        "200",
        Some(peak_rss_replay / 200.0),
    ));
    rows.push(row(
        "  live PutEvents p99 latency alone / during replay (ms)",
        format!(
            "{:.1}/{:.1}",
            quiet_probe.percentile(0.99),
            busy_probe.percentile(0.99)
        ),
        "-",
        None,
    ));
    rows.push(row(
        "  live PutEvents p50 latency alone / during replay (ms)",
        format!(
            "{:.1}/{:.1}",
            quiet_probe.percentile(0.5),
            busy_probe.percentile(0.5)
        ),
        "-",
        None,
    ));

    // ---- (d) a graceful restart with a million archived events
    println!("\n(d) graceful restart");
    let stopping = Instant::now();
    server.stop();
    let stop_secs = stopping.elapsed().as_secs_f64();
    let restarting = Instant::now();
    let server = start_server(&bin, &dir, &log);
    let restart_secs = restarting.elapsed().as_secs_f64();
    let pid = server.pid();
    let api = Api::new(server.addr, connections);
    let count_after_restart = api.event_count("all-orders").await;
    let (rss, _) = memory_mb(pid);
    println!(
        "  stop {stop_secs:.1} s, start until listening {restart_secs:.1} s, EventCount {count_after_restart}, RSS {rss:.0} MiB"
    );
    rows.push(row(
        "restart: start until listening (s)",
        format!("{restart_secs:.1}"),
        "-",
        None,
    ));
    rows.push(row(
        "  EventCount after restart / before",
        format!("{count_after_restart}/{count}"),
        "equal",
        Some(count_after_restart as f64 / count.max(1) as f64),
    ));

    // ---- (e) the retention sweep
    println!("\n(e) retention sweep: UpdateArchive RetentionDays={RETENTION_DAYS}");
    let mark = cpu_mark(pid);
    let updating = Instant::now();
    let cutoff = now_ms() - RETENTION_DAYS * DAY_MS;
    let expired = (0..events)
        .filter(|&seq| {
            acked_seqs[seq as usize].load(Ordering::Relaxed) == 1
                && event_time(base_ms, seq, events) < cutoff
        })
        .count() as u64;
    let expected = count_after_restart.saturating_sub(expired);
    api.call(
        "UpdateArchive",
        json!({"ArchiveName": "all-orders", "RetentionDays": RETENTION_DAYS}),
    )
    .await;
    let sweep_cap = remaining(180);
    let mut swept_count = count_after_restart;
    let mut peak_rss_sweep = 0f64;
    while updating.elapsed() < sweep_cap {
        swept_count = api.event_count("all-orders").await;
        peak_rss_sweep = peak_rss_sweep.max(memory_mb(pid).0);
        if swept_count <= expected {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let sweep_secs = updating.elapsed().as_secs_f64();
    cpu_report("retention sweep", pid, &mark);
    let (apparent_after, _) = disk_size(&dir);
    println!(
        "  EventCount {count_after_restart} -> {swept_count} (expected <= {expected}, {expired} expired) in {sweep_secs:.1} s (sweeps run every 1 s); data dir {:.0} MiB",
        mb(apparent_after)
    );
    rows.push(row(
        "retention sweep, UpdateArchive to EventCount dropped (s)",
        format!("{sweep_secs:.1}"),
        "-",
        None,
    ));
    rows.push(row(
        "  events removed by the sweep",
        format!("{}", count_after_restart - swept_count),
        &format!("{expired}"),
        Some((count_after_restart - swept_count) as f64 / expired.max(1) as f64),
    ));
    rows.push(row(
        "  sweep rate (events removed/s)",
        format!(
            "{:.0}",
            (count_after_restart - swept_count) as f64 / sweep_secs
        ),
        "-",
        None,
    ));
    rows.push(row(
        "data dir size when EventCount dropped (MiB)",
        format!("{:.0}", mb(apparent_after)),
        "-",
        None,
    ));
    // Space comes back after the count drops: segments left mostly dead are packed.
    let packing = Instant::now();
    let pack_cap = remaining(120).min(Duration::from_secs(120));
    let mut settled = apparent_after;
    let mut last_change = Instant::now();
    while packing.elapsed() < pack_cap && last_change.elapsed() < Duration::from_secs(3) {
        tokio::time::sleep(Duration::from_millis(250)).await;
        peak_rss_sweep = peak_rss_sweep.max(memory_mb(pid).0);
        let (now_size, _) = disk_size(&dir);
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
    rows.push(row(
        "data dir size after packing settled (MiB)",
        format!("{:.0}", mb(settled)),
        "-",
        None,
    ));
    rows.push(row(
        "  packing time after the count dropped (s)",
        format!("{pack_secs:.1}"),
        "-",
        None,
    ));
    rows.push(row(
        "  server peak RSS seen during sweep and packing (MiB)",
        format!("{peak_rss_sweep:.0}"),
        "200",
        Some(peak_rss_sweep / 200.0),
    ));

    server.stop();
    rows.push(row(
        "machine load average (1 min) at the end, 2 cores",
        load_average(),
        "-",
        None,
    ));
    print_table(&rows);
    println!("\ntotal {:.0} s", overall.elapsed().as_secs_f64());
    if std::env::var("ARCHIVE_BENCH_KEEP").is_err() {
        let _ = std::fs::remove_dir_all(&dir);
    }
}

fn report_load(r: &LoadResult) {
    println!(
        "  {} acknowledged in {:.1} s = {:.0} events/s; {} failed entries, {} failed requests; latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms{}",
        r.acknowledged,
        r.elapsed.as_secs_f64(),
        r.rate(),
        r.failed_entries,
        r.failed_requests,
        r.percentile(0.5),
        r.percentile(0.99),
        r.percentile(1.0),
        r.first_error
            .as_ref()
            .map(|e| format!("; first error: {}", &e[..e.len().min(300)]))
            .unwrap_or_default()
    );
}
