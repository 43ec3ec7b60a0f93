//! Runs the AWS SDK for JavaScript v3 suite (`conformance/js/`, node's own test runner and
//! `@aws-sdk/client-eventbridge`) against the `eventbridge-local` binary built by cargo.
//!
//! Its npm dependencies are installed with `npm ci` from the committed `package-lock.json`
//! into `conformance/js/node_modules` on first use, and again whenever the lock file changes
//! (a copy of the installed lock file is kept in `node_modules/.installed-package-lock.json`).
//! On a machine without `node` the test says so and passes without running anything; with
//! `node` present, any failure (npm included) fails it.
//!
//! Environment: `NODE` and `NPM`, the programs to run (default `node` and `npm`).

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};

const STAMP: &str = ".installed-package-lock.json";

fn program(variable: &str, default: &str) -> String {
    std::env::var(variable).unwrap_or_else(|_| default.to_string())
}

/// `npm ci` unless `node_modules` holds exactly the locked packages already.
fn install(suite: &Path) {
    let lock = fs::read(suite.join("package-lock.json")).expect("conformance/js/package-lock.json");
    let stamp = suite.join("node_modules").join(STAMP);
    if fs::read(&stamp).is_ok_and(|installed| installed == lock) {
        return;
    }
    let npm = program("NPM", "npm");
    eprintln!("js_sdk: npm ci in {}", suite.display());
    let status = Command::new(&npm)
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(suite)
        .stdin(Stdio::null())
        .status()
        .unwrap_or_else(|e| {
            panic!("could not run {npm} (node is installed, npm should be too): {e}")
        });
    assert!(
        status.success(),
        "npm ci in {} failed ({status})",
        suite.display()
    );
    fs::write(&stamp, &lock).unwrap_or_else(|e| panic!("writing {}: {e}", stamp.display()));
}

#[test]
fn javascript_sdk_v3_suite() {
    let node = program("NODE", "node");
    let version = match Command::new(&node).arg("--version").output() {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).trim().to_string(),
        _ => {
            eprintln!(
                "js_sdk: SKIPPED: `{node}` is not installed; the AWS SDK for JavaScript v3 suite \
                 (conformance/js) did not run. Install Node.js 20 or later to run it."
            );
            return;
        }
    };
    eprintln!("js_sdk: node {version}");
    let suite = Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance/js");
    install(&suite);
    let status = Command::new(&node)
        .arg("--test")
        .current_dir(&suite)
        .env(
            "EVENTBRIDGE_LOCAL_BIN",
            env!("CARGO_BIN_EXE_eventbridge-local"),
        )
        // The SDK warns on stderr about node versions it will stop supporting; not ours.
        .env("AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED", "true")
        .stdin(Stdio::null())
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit())
        .status()
        .unwrap_or_else(|e| panic!("could not run {node} --test: {e}"));
    assert!(
        status.success(),
        "the JavaScript SDK suite failed ({status}); see node's output above"
    );
}
