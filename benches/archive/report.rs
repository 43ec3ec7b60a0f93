//! What the bench prints: one line per load run as it goes, and at the end the table of
//! figures beside their goals, so a run reads at a glance.

use crate::load::LoadResult;

/// One line of the final table.
pub struct Row {
    figure: String,
    value: String,
    goal: String,
    ratio: String,
}

/// A row; `ratio` is value / goal, when the goal is a number.
pub fn row(figure: &str, value: String, goal: &str, ratio: Option<f64>) -> Row {
    Row {
        figure: figure.into(),
        value,
        goal: goal.into(),
        ratio: ratio.map_or("-".into(), |r| format!("{r:.2}")),
    }
}

pub fn print_table(rows: &[Row]) {
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

/// Bytes in MiB.
pub fn mb(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// Throughput, failures and latency of one load run.
pub fn report_load(r: &LoadResult) {
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
