//! The load generators: PutEvents as fast as `connections` concurrent clients go (the
//! throughput figures), and a light paced stream (the live-latency probe during a replay).

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::client::Api;
use crate::events::{ENTRIES_PER_REQUEST, put_events_body};

#[derive(Default)]
pub struct LoadResult {
    pub acknowledged: u64,
    pub failed_entries: u64,
    pub failed_requests: u64,
    pub first_error: Option<String>,
    pub elapsed: Duration,
    /// Request latencies in µs, sorted.
    latencies: Vec<u32>,
}

impl LoadResult {
    pub fn rate(&self) -> f64 {
        self.acknowledged as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    pub fn percentile(&self, p: f64) -> f64 {
        if self.latencies.is_empty() {
            return f64::NAN;
        }
        let i = ((self.latencies.len() - 1) as f64 * p).round() as usize;
        self.latencies[i] as f64 / 1000.0
    }
}

/// Puts `total` events on `bus` over `connections` concurrent connections, until done or
/// `cap` passes. Marks acknowledged sequence numbers in `acked` when given.
pub async fn put_load(
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
pub async fn paced_probe(api: &Api, bus: &str, base_ms: i64, duration: Duration) -> LoadResult {
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
