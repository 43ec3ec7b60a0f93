//! Worst-case cost of the event-pattern matcher (`eventbridge_local::pattern`): patterns of up
//! to the 4096-character limit, and events, built to blow up compile or match time (the notes
//! say what some once cost). The time bound is generous, for a debug build on a shared
//! machine: only a return of the blow-up fails it. The property tests are in pattern_props.rs.

use eventbridge_local::pattern::Pattern;
use serde_json::{Map, Value, json};

/// A 4096-character pattern: a field path of ~1900 segments and 9 `$or`s (512 combinations).
fn long_path_with_many_ors() -> String {
    let ors = r#""$or":[{"b":[1]},{"c":[1]}],"#.repeat(9);
    let mut path = "a".to_string();
    let room = 4096 - ors.len() - r#"{"":[1]}"#.len();
    while path.len() + 2 <= room {
        path.push_str(".a");
    }
    let text = format!("{{{ors}\"{path}\":[1]}}");
    assert!(text.len() <= 4096);
    text
}

#[test]
fn long_paths_times_many_combinations_stay_cheap() {
    let text = long_path_with_many_ors();
    let t = std::time::Instant::now();
    let p = Pattern::compile(&text).unwrap();
    assert_eq!(p.combinations(), 512);
    let compiled_in = t.elapsed();
    let t = std::time::Instant::now();
    assert!(!p.matches(&json!({"a": {"a": 1}, "b": 1})));
    let matched_in = t.elapsed();
    eprintln!("compile {compiled_in:?}, match {matched_in:?}");
    // Was 256 s and gigabytes in debug: each combination held a quadratic path table.
    assert!(
        compiled_in < LIMIT && matched_in < LIMIT,
        "compile {compiled_in:?}, match {matched_in:?}"
    );
}

/// Generous bound for one compile or match of a 4096-character input in a debug build.
const LIMIT: std::time::Duration = std::time::Duration::from_secs(5);

/// 512 combinations of as many near-threshold wildcard fields as fit in 4096 characters.
#[test]
fn wildcard_complexity_is_measured_once_per_field() {
    let ors = r#""$or":[{"b":[1]},{"c":[1]}],"#.repeat(9);
    let mut text = format!("{{{ors}");
    let mut i = 0;
    loop {
        let field = format!(r#""w{i}":[{{"wildcard":"*:*:*:*:event-bus/*"}}],"#);
        if text.len() + field.len() + 8 > 4096 {
            break;
        }
        text.push_str(&field);
        i += 1;
    }
    text.push_str(r#""z":[1]}"#);
    let t = std::time::Instant::now();
    let p = Pattern::compile(&text).unwrap();
    let compiled_in = t.elapsed();
    eprintln!("{i} wildcard fields: compile {compiled_in:?}");
    assert_eq!(p.combinations(), 512);
    assert!(compiled_in < LIMIT, "compile {compiled_in:?}");
}

/// Fields in independent arrays (`x1.v` .. `xk.v`, each matching in every element) between
/// two fields that conflict in one array (`y.v` only in `y[0]`, `y.w.z` only in `y[1]`).
#[test]
fn array_consistency_is_not_exponential() {
    let (k, m) = (10, 10);
    let mut pattern = String::from(r#"{"y":{"v":[1]}"#);
    let mut event = Map::new();
    for i in 0..k {
        pattern.push_str(&format!(r#","x{i}":{{"v":[1]}}"#));
        event.insert(format!("x{i}"), Value::Array(vec![json!({"v": 1}); m]));
    }
    pattern.push_str(r#","y.w.z":[1]}"#);
    event.insert("y".into(), json!([{"v": 1}, {"w": {"z": 1}}]));
    let p = Pattern::compile(&pattern).unwrap();
    let t = std::time::Instant::now();
    assert!(!p.matches(&Value::Object(event)));
    let matched_in = t.elapsed();
    eprintln!("match {matched_in:?}");
    // Was m^k consistent partial choices explored before the conflict (k=8, m=6: 2.5 s).
    assert!(matched_in < LIMIT, "match {matched_in:?}");
}
