//! Event-pattern matching speed over synthetic citylots events (`cargo bench --bench matching`).
//!
//! Generates 200,000 lines with ../shared/bench/synth_citylots.py into target/bench-data (not
//! in the repo), wraps each line as the `detail` of an envelope, and measures single-thread
//! events per second: one rule of each operator kind alone, then 1, 10, 100 and 1,000 rules on
//! one bus through the same routing call that PutEvents uses. Prints numbers and ratios; it
//! never fails on a timing.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use eventbridge_local::catalog::{Catalog, RuleFilter};
use eventbridge_local::json_doc::Node;
use eventbridge_local::model::{EventBus, Rule, RuleState, Scope, Target};
use eventbridge_local::pattern::Pattern;
use eventbridge_local::store::Store;
use serde_json::{Value, json};

const LINES: usize = 200_000;

fn data_file() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = root.join("target/bench-data");
    std::fs::create_dir_all(&dir).unwrap();
    let plain = dir.join(format!("citylots-{LINES}.jlines"));
    if plain.exists() {
        return plain;
    }
    let script = [
        std::env::var("SYNTH_CITYLOTS").ok().map(PathBuf::from),
        Some(root.join("../shared/bench/synth_citylots.py")),
    ]
    .into_iter()
    .flatten()
    .find(|p| p.exists())
    .expect("synth_citylots.py: set SYNTH_CITYLOTS or keep ../shared/bench beside the repo");
    let gz = dir.join(format!("citylots-{LINES}.jlines.gz"));
    let status = Command::new("python3")
        .arg(&script)
        .arg(&gz)
        .args(["--lines", &LINES.to_string()])
        .status()
        .expect("python3");
    assert!(status.success());
    let out = Command::new("gzip")
        .arg("-dc")
        .arg(&gz)
        .output()
        .expect("gzip");
    std::fs::write(&plain, out.stdout).unwrap();
    plain
}

/// A peer measured in the same run: parsing the same lines with serde_json. The machine is
/// shared and its speed drifts several-fold over minutes, so ratios to this are the figures
/// to compare between runs.
fn parse_rate() -> f64 {
    let text = std::fs::read_to_string(data_file()).unwrap();
    let started = Instant::now();
    let parsed = text
        .lines()
        .filter(|l| serde_json::from_str::<Value>(l).is_ok())
        .count();
    rate(parsed, started.elapsed().as_secs_f64())
}

fn events() -> Vec<Value> {
    let text = std::fs::read_to_string(data_file()).unwrap();
    text.lines()
        .enumerate()
        .map(|(i, line)| {
            let detail: Value = serde_json::from_str(line).unwrap();
            json!({
                "version": "0", "id": format!("id-{i}"), "detail-type": "Lot Changed",
                "source": "city.lots", "account": "000000000000",
                "time": "2026-11-28T00:00:00Z", "region": "us-east-1", "resources": [],
                "detail": detail,
            })
        })
        .collect()
}

fn rate(n: usize, secs: f64) -> f64 {
    n as f64 / secs
}

fn single_rules(events: &[Node<'_>], peer: f64) {
    let kinds: [(&str, Value, f64); 9] = [
        (
            "exact",
            json!({"detail": {"properties": {"STREET": ["MISSION"]}}}),
            300_000.0,
        ),
        (
            "prefix",
            json!({"detail": {"properties": {"STREET": [{"prefix": "MIS"}]}}}),
            300_000.0,
        ),
        (
            "suffix",
            json!({"detail": {"properties": {"STREET": [{"suffix": "ION"}]}}}),
            0.0,
        ),
        (
            "equals-ignore-case",
            json!({"detail": {"properties": {"STREET": [{"equals-ignore-case": "mission"}]}}}),
            0.0,
        ),
        (
            "anything-but",
            json!({"detail": {"properties": {"ST_TYPE": [{"anything-but": ["ST", "AVE"]}]}}}),
            0.0,
        ),
        (
            "numeric",
            json!({"detail": {"geometry": {"coordinates": [{"numeric": [">", -122.45, "<=", -122.42]}]}}}),
            100_000.0,
        ),
        (
            "exists",
            json!({"detail": {"properties": {"ODD_EVEN": [{"exists": true}]}}}),
            0.0,
        ),
        (
            "wildcard",
            json!({"detail": {"properties": {"STREET": [{"wildcard": "*SS*N"}]}}}),
            100_000.0,
        ),
        (
            "nested $or",
            json!({"detail": {"$or": [{"properties": {"STREET": ["MISSION"]}}, {"properties": {"ODD_EVEN": ["E"], "ST_TYPE": ["AVE"]}}]}}),
            0.0,
        ),
    ];
    println!("\none rule, {} events, single thread", events.len());
    println!(
        "{:<20} {:>12} {:>10} {:>10}",
        "kind", "events/s", "matched", "goal"
    );
    for (name, pattern, goal) in kinds {
        let pattern = Pattern::compile(&pattern.to_string()).unwrap();
        let started = Instant::now();
        let matched = events.iter().filter(|e| pattern.matches_doc(e)).count();
        let r = rate(events.len(), started.elapsed().as_secs_f64());
        let goal_text = if goal > 0.0 {
            format!("{:.2}x", r / goal)
        } else {
            "-".to_string()
        };
        println!(
            "{name:<20} {r:>12.0} {matched:>10} {goal_text:>10} {:>9.2}x",
            r / peer
        );
    }
}

fn rule(scope: &Scope, n: usize, pattern: Value) -> Rule {
    Rule {
        scope: scope.clone(),
        bus_name: "lots".into(),
        name: format!("r{n}"),
        event_pattern: Some(pattern.to_string()),
        schedule_expression: None,
        state: RuleState::Enabled,
        description: None,
        role_arn: None,
        managed_by: None,
        archive: None,
        tags: Vec::new(),
        targets: vec![Target(
            json!({"Id": "t", "Arn": "arn:aws:sqs:us-east-1:000000000000:q"})
                .as_object()
                .unwrap()
                .clone(),
        )],
    }
}

fn many_rules(events: &[Node<'_>], peer: f64) {
    let scope = Scope {
        account: "000000000000".into(),
        region: "us-east-1".into(),
    };
    println!(
        "\nrules on one bus (routing as PutEvents does), {} events",
        events.len()
    );
    println!(
        "{:<8} {:>12} {:>12} {:>10} {:>10}",
        "rules", "events/s", "deliveries", "vs 100k", "vs parse"
    );
    let blocks: Vec<String> = events
        .iter()
        .filter_map(|e| {
            e.get("detail")?
                .get("properties")?
                .get("BLOCK_NUM")?
                .as_str()
                .map(str::to_string)
        })
        .collect();
    for count in [1usize, 10, 100, 1000] {
        let catalog = Catalog::load(Store::open(None, 8 << 20).unwrap()).unwrap();
        catalog
            .create_bus(EventBus {
                scope: scope.clone(),
                name: "lots".into(),
                description: None,
                kms_key_identifier: None,
                dead_letter_config: None,
                log_config: None,
                tags: Vec::new(),
                creation_time_ms: 0,
                last_modified_time_ms: 0,
                policy: None,
            })
            .unwrap();
        for n in 0..count {
            // A realistic mix: most rules pick events by an exact value, some by prefix or
            // numeric range.
            let pattern = match n % 10 {
                0..=6 => {
                    json!({"source": ["city.lots"], "detail": {"properties": {"BLOCK_NUM": [blocks[n * 37 % blocks.len()]]}}})
                }
                7 => {
                    json!({"detail": {"properties": {"MAPBLKLOT": [{"prefix": format!("{:04}", n)}]}}})
                }
                8 => {
                    json!({"detail-type": ["Lot Changed"], "detail": {"properties": {"FROM_ST": [format!("{n}")]}}})
                }
                _ => {
                    json!({"detail": {"properties": {"STREET": [format!("STREET-{n}")], "ODD_EVEN": ["E"]}}})
                }
            };
            let compiled = Pattern::compile(&pattern.to_string()).unwrap();
            catalog
                .put_rule(rule(&scope, n, pattern), Some(compiled))
                .unwrap();
        }
        let started = Instant::now();
        let mut deliveries = 0;
        for event in events {
            deliveries += catalog.route(&scope, "lots", event, &RuleFilter::All).len();
        }
        let r = rate(events.len(), started.elapsed().as_secs_f64());
        println!(
            "{count:<8} {r:>12.0} {deliveries:>12} {:>9.2}x {:>9.2}x",
            r / 100_000.0,
            r / peer
        );
    }
}

fn main() {
    // `cargo test --benches` runs bench targets with --bench absent: keep that cheap.
    if !std::env::args().any(|a| a == "--bench") {
        println!("matching benchmark: run with `cargo bench --bench matching`");
        return;
    }
    let events = events();
    // The events as the router reads them (a `Node` per event; parsing is the peer below).
    let events: Vec<Node<'_>> = events.iter().map(Node::from_value).collect();
    let peer = parse_rate();
    println!("peer in the same run: serde_json parses {peer:.0} of these events/s");
    single_rules(&events, peer);
    many_rules(&events, peer);
}
