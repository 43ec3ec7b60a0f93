//! Runs the data-driven event-pattern corpus in `tests/patterns/*.json`.
//!
//! Each file is a JSON array of cases:
//! `{"name", "pattern", "event", "expected"}` where `pattern` is either a JSON
//! value (serialized compactly before compiling) or a string holding raw
//! pattern text, and `expected` is `true`, `false` or
//! `{"error": "<full reason text>"}` (the part after "Reason: ").
//! The test fails listing every disagreeing case, and also when the corpus
//! has fewer than 300 cases.

use std::path::Path;

use eventbridge_local::pattern::Pattern;
use serde_json::Value;

const MIN_CASES: usize = 300;

fn corpus_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("patterns")
}

#[test]
fn pattern_corpus() {
    let dir = corpus_dir();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let mut total = 0;
    let mut failures = Vec::new();
    let mut names = std::collections::HashSet::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("read corpus file");
        let cases: Vec<Value> = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{}: not a JSON array of cases: {e}", file.display()));
        let fname = file.file_name().unwrap().to_string_lossy().to_string();
        for case in cases {
            total += 1;
            let name = case["name"].as_str().unwrap_or("<unnamed>").to_string();
            let label = format!("{fname}: {name}");
            if !names.insert(label.clone()) {
                failures.push(format!("{label}: duplicate case name"));
            }
            let source = match &case["pattern"] {
                Value::String(s) => s.clone(),
                other => serde_json::to_string(other).expect("serialize pattern"),
            };
            let expected = &case["expected"];
            let got = match Pattern::compile(&source) {
                Ok(p) => Value::Bool(p.matches(&case["event"])),
                Err(e) => serde_json::json!({ "error": e.reason }),
            };
            if &got != expected {
                failures.push(format!(
                    "{label}\n    pattern:  {source}\n    expected: {expected}\n    got:      {got}"
                ));
            }
        }
    }
    assert!(
        total >= MIN_CASES,
        "the corpus in {} has {total} cases; at least {MIN_CASES} are required",
        dir.display()
    );
    assert!(
        failures.is_empty(),
        "{} of {total} corpus cases disagree:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
