//! Runs the Python conformance suite (`conformance/`, pytest + real boto3 and AWS CLI)
//! against the `eventbridge-local` binary built by cargo.
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

#[test]
fn conformance_suite() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let binary = env!("CARGO_BIN_EXE_eventbridge-local");
    let python = venv_python(manifest);

    let mut cmd = Command::new(&python);
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
