//! The server under test: the release binary in its own process, so that its RSS and CPU are
//! its own and a restart is a real one (the catalog and the archive index are rebuilt at start).

use std::io::BufRead;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Server {
    child: Child,
    pub addr: SocketAddr,
}

pub fn server_binary() -> PathBuf {
    if let Ok(path) = std::env::var("ARCHIVE_BENCH_SERVER") {
        return PathBuf::from(path);
    }
    // Cargo builds the binary target with the bench profile (release) before the bench.
    PathBuf::from(env!("CARGO_BIN_EXE_eventbridge-local"))
}

/// Starts `bin` on an ephemeral port with its data in `dir`, appending its log to `log`, and
/// waits for the line that says where it listens.
pub fn start_server(bin: &Path, dir: &Path, log: &Path) -> Server {
    let mut cmd = Command::new(bin);
    cmd.args(["--host", "127.0.0.1", "--port", "0", "--data-dir"])
        .arg(dir)
        .args(["--retention-sweep-secs", "1"]);
    if let Ok(mb) = std::env::var("ARCHIVE_BENCH_CACHE_MB") {
        cmd.args(["--cache-mb", &mb]);
    }
    cmd.env(
        "RUST_LOG",
        std::env::var("ARCHIVE_BENCH_SERVER_LOG").unwrap_or_else(|_| "info".into()),
    );
    let log_file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .expect("server log file");
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log_file))
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let Some(addr) = line
        .trim()
        .split_once("http://")
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .and_then(|a| a.parse().ok())
    else {
        let _ = child.kill();
        panic!(
            "no listening line from the server (got {line:?}); see {}",
            log.display()
        );
    };
    Server { child, addr }
}

impl Server {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGTERM, then SIGKILL after 30 s.
    pub fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        eprintln!("server did not stop within 30 s of SIGTERM; killing it");
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
