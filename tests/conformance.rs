//! Runs the Python conformance suite (`conformance/`, pytest + real boto3 and AWS CLI)
//! against the `eventbridge-local` binary built by cargo, and checks `src/ops/constraints.rs`
//! against the EventBridge model of the botocore installed in the same venv.
//!
//! The suite's Python dependencies live in a venv at `target/conformance-venv`, created on
//! first use and re-installed whenever `conformance/requirements.txt` changes (a copy of the
//! installed requirements is kept in `target/conformance-venv/.requirements.txt`).
//!
//! Environment:
//! - `PYTHON`: interpreter used to create the venv (default `python3`).
//! - `CONFORMANCE_PYTEST_ARGS`: extra pytest arguments, whitespace-separated
//!   (e.g. `-k walkthrough -x`).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use eventbridge_local::ops::constraints;
use eventbridge_local::scheduler_ops::constraints as scheduler_constraints;
use eventbridge_local::validate::Constraint;
use serde_json::Value;

const REQUIREMENTS: &str = "conformance/requirements.txt";
const STAMP: &str = ".requirements.txt";
/// pytest's exit code when it collected no tests.
const PYTEST_NO_TESTS: i32 = 5;

fn run(cmd: &mut Command, what: &str) {
    let status = cmd
        .status()
        .unwrap_or_else(|e| panic!("{what}: could not start {cmd:?}: {e}"));
    assert!(status.success(), "{what} failed ({status}): {cmd:?}");
}

/// Creates or refreshes `target/conformance-venv`; returns its python.
fn venv_python(manifest: &Path) -> PathBuf {
    let requirements_path = manifest.join(REQUIREMENTS);
    let requirements = fs::read(&requirements_path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", requirements_path.display()));
    let venv = manifest.join("target").join("conformance-venv");
    let python = venv.join("bin").join("python");
    let stamp = venv.join(STAMP);

    let up_to_date = python.is_file() && fs::read(&stamp).is_ok_and(|s| s == requirements);
    if up_to_date {
        return python;
    }
    if !python.is_file() {
        let base = std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_string());
        eprintln!("conformance: creating venv {} with {base}", venv.display());
        run(
            Command::new(&base).arg("-m").arg("venv").arg(&venv),
            "creating the conformance venv",
        );
    }
    eprintln!(
        "conformance: installing {REQUIREMENTS} into {}",
        venv.display()
    );
    run(
        Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "-r",
            ])
            .arg(&requirements_path)
            .current_dir(manifest),
        "pip install -r conformance/requirements.txt",
    );
    fs::write(&stamp, &requirements).unwrap_or_else(|e| panic!("writing {}: {e}", stamp.display()));
    python
}

/// `venv_python`, once per test binary: the tests here run at once and share the venv.
fn shared_venv_python(manifest: &Path) -> &'static Path {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| venv_python(manifest))
}

#[test]
fn conformance_suite() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let binary = env!("CARGO_BIN_EXE_eventbridge-local");
    let python = shared_venv_python(manifest);

    let mut cmd = Command::new(python);
    cmd.args([
        "-m",
        "pytest",
        "conformance",
        "-q",
        "-p",
        "no:cacheprovider",
    ])
    .current_dir(manifest)
    .env("EVENTBRIDGE_LOCAL_BIN", binary)
    .env("PYTHONDONTWRITEBYTECODE", "1")
    .stdin(Stdio::null())
    .stdout(Stdio::inherit())
    .stderr(Stdio::inherit());
    if let Ok(extra) = std::env::var("CONFORMANCE_PYTEST_ARGS") {
        cmd.args(extra.split_whitespace());
    }
    let status = cmd
        .status()
        .unwrap_or_else(|e| panic!("could not run pytest with {}: {e}", python.display()));
    match status.code() {
        Some(0) => {}
        Some(PYTEST_NO_TESTS) => panic!("pytest collected no tests in conformance/"),
        _ => panic!("conformance suite failed ({status}); see the pytest output above"),
    }
}

/// The newest EventBridge model of the botocore in the venv (`service-2.json`, gzipped in
/// recent botocore releases), and its path.
fn botocore_events_model(python: &Path) -> (Value, PathBuf) {
    botocore_model(python, "events")
}

/// The newest model of `service` in the venv's botocore, and its path.
fn botocore_model(python: &Path, service: &str) -> (Value, PathBuf) {
    let venv = python
        .parent()
        .and_then(Path::parent)
        .expect("venv/bin/python");
    let mut versions = Vec::new();
    for lib in fs::read_dir(venv.join("lib"))
        .expect("the venv's lib/")
        .flatten()
    {
        let events = lib.path().join("site-packages/botocore/data").join(service);
        for version in fs::read_dir(&events).into_iter().flatten().flatten() {
            versions.push(version.path());
        }
    }
    let newest = versions
        .into_iter()
        .max()
        .unwrap_or_else(|| panic!("no botocore/data/{service}/* under {}", venv.display()));
    let plain = newest.join("service-2.json");
    let gzipped = newest.join("service-2.json.gz");
    let (text, path) = if plain.is_file() {
        (fs::read(&plain).expect("reading the model"), plain)
    } else {
        let output = Command::new(python)
            .args([
                "-c",
                "import gzip, sys; sys.stdout.buffer.write(gzip.open(sys.argv[1]).read())",
            ])
            .arg(&gzipped)
            .output()
            .expect("running the venv's python");
        assert!(output.status.success(), "gunzip {}", gzipped.display());
        (output.stdout, gzipped)
    };
    let model =
        serde_json::from_slice(&text).unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()));
    (model, path)
}

/// Every named constraint of `src/ops/constraints.rs` against the botocore shape of the same
/// name: the bounds and pattern AWS enforces are the model's, and botocore is its public copy.
#[test]
fn constraints_match_botocore() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (model, path) = botocore_events_model(shared_venv_python(manifest));
    let differences = compare(constraints::ALL, &model);
    assert!(
        differences.is_empty(),
        "src/ops/constraints.rs differs from {}:\n{}",
        path.display(),
        differences.join("\n")
    );
}

/// The same for EventBridge Scheduler's `src/scheduler_ops/constraints.rs`.
#[test]
fn scheduler_constraints_match_botocore() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (model, path) = botocore_model(shared_venv_python(manifest), "scheduler");
    let differences = compare(scheduler_constraints::ALL, &model);
    assert!(
        differences.is_empty(),
        "src/scheduler_ops/constraints.rs differs from {}:\n{}",
        path.display(),
        differences.join("\n")
    );
}

/// What differs between `constraints` and the shapes of the same names in `model`.
fn compare(constraints: &[&Constraint], model: &Value) -> Vec<String> {
    let mut differences = Vec::new();
    for constraint in constraints {
        let name = constraint.shape;
        let Some(shape) = model["shapes"].get(name) else {
            differences.push(format!("{name}: no such shape"));
            continue;
        };
        let fields = [
            ("type", Some(constraint.kind.botocore_type().into())),
            ("min", constraint.min.map(Value::from)),
            ("max", constraint.max.map(Value::from)),
            (
                "pattern",
                constraint.pattern.as_ref().map(|p| p.text.into()),
            ),
        ];
        for (field, ours) in fields {
            let theirs = shape.get(field);
            if ours.as_ref() != theirs {
                differences.push(format!(
                    "{name}.{field}: {} here, {} in botocore",
                    ours.map_or("none".to_string(), |v| v.to_string()),
                    theirs.map_or("none".to_string(), Value::to_string),
                ));
            }
        }
    }
    differences
}
