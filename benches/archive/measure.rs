//! What the bench reads outside the API: the server's memory and CPU from /proc, the data
//! dir's size, the machine's load. Linux only, like the goals they are compared with.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

/// (VmRSS, VmHWM) in MiB.
pub fn memory_mb(pid: u32) -> (f64, f64) {
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
pub fn disk_size(dir: &Path) -> (u64, u64) {
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

/// CPU ticks (utime + stime) per thread name of a process, and of the whole process.
fn cpu_ticks(pid: u32) -> (u64, BTreeMap<String, u64>) {
    let mut by_thread = BTreeMap::new();
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

/// CPU used so far by the server (by thread group) and by this process, and when.
pub struct CpuMark {
    server: (u64, BTreeMap<String, u64>),
    client: u64,
    at: Instant,
}

pub fn cpu_mark(pid: u32) -> CpuMark {
    CpuMark {
        server: cpu_ticks(pid),
        client: cpu_ticks(std::process::id()).0,
        at: Instant::now(),
    }
}

/// One line: how busy the server (by thread group) and this load generator were, in cores.
/// Thread ticks of threads that ended in between are missing; the process total has them.
/// Returns the server's CPU seconds.
pub fn cpu_report(label: &str, pid: u32, before: &CpuMark) -> f64 {
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
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}
