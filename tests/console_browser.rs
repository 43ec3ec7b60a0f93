//! The console driven in headless Chromium: runs `conformance/console/` (node's test runner
//! with playwright-core) against the `eventbridge-local` binary built by cargo. Each browser
//! test asserts on the page's content and saves a screenshot under
//! `target/console-screenshots/`.
//!
//! What it needs, it installs: Debian's `chromium` through apt-get when running as root,
//! playwright-core through `npm ci` (the lock file is committed). When the browser or node
//! cannot be had, the test says so and passes without running (it cannot fail for a
//! machine's lack of a browser).
//!
//! Environment: `CHROMIUM` names the browser's executable (default `/usr/bin/chromium`).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// Stops the server when the test ends, passed or not.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn succeeds(cmd: &mut Command) -> bool {
    cmd.stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn skip(why: &str) {
    eprintln!("console_browser: SKIPPED, {why}");
}

/// The browser's executable, installed with apt-get if it is missing and we may.
fn chromium() -> Result<PathBuf, String> {
    let candidates: Vec<PathBuf> = match std::env::var_os("CHROMIUM") {
        Some(path) => vec![path.into()],
        None => vec![
            "/usr/bin/chromium".into(),
            "/usr/bin/chromium-browser".into(),
        ],
    };
    let found = || candidates.iter().find(|p| p.is_file()).cloned();
    if let Some(path) = found() {
        return Ok(path);
    }
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    if !root {
        return Err(format!(
            "no browser at {candidates:?} and not root to install one (apt-get install chromium, or set CHROMIUM)"
        ));
    }
    eprintln!("console_browser: installing chromium with apt-get");
    let install = || {
        succeeds(
            Command::new("apt-get")
                .args(["install", "-y", "--no-install-recommends", "chromium"])
                .env("DEBIAN_FRONTEND", "noninteractive"),
        )
    };
    if !install() {
        let _ = succeeds(Command::new("apt-get").arg("update"));
        install();
    }
    found().ok_or_else(|| "apt-get could not install chromium".to_string())
}

/// playwright-core in `conformance/console/node_modules`, from the committed lock file.
fn node_modules(suite: &Path) -> Result<(), String> {
    if !succeeds(Command::new("node").arg("--version")) {
        return Err("node is not installed".into());
    }
    if suite
        .join("node_modules/playwright-core/package.json")
        .is_file()
    {
        return Ok(());
    }
    eprintln!("console_browser: npm ci in {}", suite.display());
    if succeeds(
        Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(suite),
    ) {
        Ok(())
    } else {
        Err("npm ci could not install playwright-core (offline?)".into())
    }
}

/// Starts the binary on an ephemeral port; returns it and its URL.
fn start_server() -> (Server, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_eventbridge-local"))
        // Replays slow enough for the page to see them run (and to cancel one).
        .args([
            "--port",
            "0",
            "--in-memory",
            "--replay-max-events-per-second",
            "50",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting eventbridge-local");
    let stdout = child.stdout.take().expect("piped stdout");
    let server = Server(child);
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("reading the startup line");
    // `eventbridge-local (data: …) listening on URL`: the URL is the last word.
    let url = line
        .split_whitespace()
        .last()
        .filter(|u| u.starts_with("http://"))
        .unwrap_or_else(|| panic!("unexpected startup line {line:?}"))
        .to_string();
    (server, url)
}

#[test]
fn console_in_headless_chromium() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let suite = manifest.join("conformance/console");
    let browser = match chromium() {
        Ok(path) => path,
        Err(why) => return skip(&why),
    };
    if let Err(why) = node_modules(&suite) {
        return skip(&why);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest.join("target"));
    let shots = target.join("console-screenshots");
    let (_server, url) = start_server();
    let status = Command::new("node")
        .args(["--test", "--test-concurrency=1", "console.test.js"])
        .current_dir(&suite)
        .env("EVENTBRIDGE_LOCAL_URL", &url)
        .env("CHROMIUM", &browser)
        .env("SCREENSHOT_DIR", &shots)
        .status()
        .expect("running node --test");
    assert!(status.success(), "the console's browser tests failed");
    for shot in ["live-event", "why-not", "archive", "replay", "console"] {
        let path = shots.join(format!("{shot}.png"));
        assert!(path.is_file(), "no screenshot {}", path.display());
    }
    eprintln!("console_browser: screenshots in {}", shots.display());
}
