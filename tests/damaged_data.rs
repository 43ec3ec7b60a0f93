//! A damaged data folder at start: each case damages the files of a folder that a real
//! server wrote (and was stopped), then starts the real binary on it. A torn tail is cut and
//! the rest kept; a damaged or missing index file is rebuilt; any other damage stops the start
//! with a message naming the file and what to do (never a panic, never a silent loss), and
//! `--repair-archive-log` drops only what is unreadable.

mod support;

use std::io::BufRead;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use support::{Api, temp_dir};

const REQUESTS: u64 = 40;
const PER_REQUEST: u64 = 10;
const EVENTS: u64 = REQUESTS * PER_REQUEST;

/// A run of the binary: started (with its address) or refused to start.
struct Run {
    child: Child,
    addr: Option<SocketAddr>,
    stderr: PathBuf,
}

impl Run {
    fn start(dir: &Path, flags: &[&str]) -> Run {
        let stderr = dir.with_extension(format!("stderr-{}", uuid::Uuid::new_v4()));
        let mut child = Command::new(env!("CARGO_BIN_EXE_eventbridge-local"))
            .args(["--port", "0", "--archive-segment-mb", "1", "--data-dir"])
            .arg(dir)
            .args(flags)
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .unwrap();
        let mut line = String::new();
        // A start that fails closes stdout without a line.
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line
            .trim()
            .rsplit("http://")
            .next()
            .and_then(|a| a.parse().ok());
        Run {
            child,
            addr,
            stderr,
        }
    }

    fn api(&self) -> Api {
        Api::new(
            self.addr
                .unwrap_or_else(|| panic!("the server did not start: {}", self.log())),
        )
    }

    /// What it logged, without the colours.
    fn log(&self) -> String {
        let text = std::fs::read_to_string(&self.stderr).unwrap_or_default();
        let mut plain = String::with_capacity(text.len());
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            if c == '\u{1b}' {
                // ESC [ ... m
                for c in chars.by_ref() {
                    if c == 'm' {
                        break;
                    }
                }
            } else {
                plain.push(c);
            }
        }
        plain
    }

    /// SIGTERM, and the process gone.
    fn stop(mut self) -> String {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        wait_exit(&mut self.child);
        self.log()
    }

    /// The start was refused: the exit status is a failure and the message is returned.
    fn refused(mut self) -> String {
        assert!(
            self.addr.is_none(),
            "the server started on a damaged folder; its log: {}",
            self.log()
        );
        let status = wait_exit(&mut self.child);
        assert!(!status.success(), "exit status {status}");
        let log = self.log();
        assert!(!log.contains("panicked"), "a panic: {log}");
        log
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_exit(child: &mut Child) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "the server did not exit");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A folder written by a real server: a bus with an archive of `EVENTS` events over two
/// 1 MiB segments (the first sealed with its index file, the second the one being appended
/// to when the server stopped), then a graceful stop.
async fn written_folder(name: &str) -> PathBuf {
    let dir = temp_dir(name).join("data");
    let run = Run::start(&dir, &[]);
    let api = run.api();
    assert_eq!(
        api.call("CreateEventBus", json!({"Name": "b"}))
            .await
            .status,
        200
    );
    let archive = api
        .call(
            "CreateArchive",
            json!({"ArchiveName": "a", "EventSourceArn": "arn:aws:events:us-east-1:000000000000:event-bus/b"}),
        )
        .await;
    assert_eq!(archive.status, 200, "{:?}", archive.body);
    let pad = "p".repeat(3000);
    for i in 0..REQUESTS {
        let entries: Vec<_> = (0..PER_REQUEST)
            .map(|j| json!({"EventBusName": "b", "Source": "damage.test", "DetailType": "t", "Detail": json!({"n": i * PER_REQUEST + j, "pad": pad}).to_string()}))
            .collect();
        let reply = api.call("PutEvents", json!({ "Entries": entries })).await;
        assert_eq!(reply.body["FailedEntryCount"], 0, "{:?}", reply.body);
    }
    run.stop();
    assert!(
        segment(&dir, 1).exists()
            && index(&dir, 1).exists()
            && segment(&dir, 2).exists()
            && !index(&dir, 2).exists(),
        "not the expected layout: {:?}",
        std::fs::read_dir(dir.join("archive-log"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect::<Vec<_>>()
    );
    dir
}

fn segment(dir: &Path, n: u32) -> PathBuf {
    dir.join("archive-log").join(format!("{n:08}.log"))
}

fn index(dir: &Path, n: u32) -> PathBuf {
    dir.join("archive-log").join(format!("{n:08}.idx"))
}

fn flip_byte(path: &Path, at: u64) {
    use std::os::unix::fs::FileExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .unwrap();
    let mut b = [0u8];
    file.read_exact_at(&mut b, at).unwrap();
    file.write_all_at(&[b[0] ^ 0x5a], at).unwrap();
}

fn truncate(path: &Path, len: u64) {
    std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .unwrap()
        .set_len(len)
        .unwrap();
}

fn len(path: &Path) -> u64 {
    std::fs::metadata(path).unwrap().len()
}

/// Every file of the folder with its bytes, to show that a refused start changed nothing.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files: Vec<_> = std::fs::read_dir(dir.join("archive-log"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect();
    files.sort();
    files
}

async fn event_count(api: &Api) -> u64 {
    let reply = api
        .call("DescribeArchive", json!({"ArchiveName": "a"}))
        .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    reply.body["EventCount"].as_u64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_torn_tail_is_cut_and_every_whole_event_kept() {
    let dir = written_folder("torn-tail").await;
    // What a crash in the middle of an append leaves: the last record only partly written.
    let last = segment(&dir, 2);
    truncate(&last, len(&last) - 100);
    let run = Run::start(&dir, &[]);
    assert_eq!(event_count(&run.api()).await, EVENTS - 1);
    let log = run.stop();
    assert!(log.contains("cutting a torn archive log tail"), "{log}");
    // The cut is made once: the next start finds a whole segment.
    let run = Run::start(&dir, &[]);
    assert_eq!(event_count(&run.api()).await, EVENTS - 1);
    assert!(!run.stop().contains("torn"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn damage_followed_by_intact_records_stops_the_start_until_repaired() {
    let dir = written_folder("mid-damage").await;
    let damaged = segment(&dir, 2);
    flip_byte(&damaged, 5000);
    let before = snapshot(&dir);
    let message = Run::start(&dir, &[]).refused();
    assert!(
        message.contains(&damaged.display().to_string())
            && message.contains("--repair-archive-log")
            && message.contains("intact records follow"),
        "{message}"
    );
    assert_eq!(snapshot(&dir), before, "a refused start changed the files");

    let run = Run::start(&dir, &["--repair-archive-log"]);
    assert_eq!(event_count(&run.api()).await, EVENTS - 1);
    let log = run.stop();
    assert!(log.contains("repaired an archive log segment"), "{log}");
    let copy = damaged.with_extension("log.damaged");
    assert_eq!(
        std::fs::read(&copy).unwrap(),
        before_bytes(&before, &damaged)
    );
    // Repaired for good: a plain start reads it cleanly.
    let run = Run::start(&dir, &[]);
    assert_eq!(event_count(&run.api()).await, EVENTS - 1);
    run.stop();
}

fn before_bytes(snapshot: &[(PathBuf, Vec<u8>)], path: &Path) -> Vec<u8> {
    snapshot
        .iter()
        .find(|(p, _)| p == path)
        .map(|(_, b)| b.clone())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_indexed_segment_cut_short_stops_the_start_until_repaired() {
    let dir = written_folder("cut-short").await;
    let sealed = segment(&dir, 1);
    let sealed_events = len(&index(&dir, 1)) / 24 - 1; // 24-byte entries and a 16-byte trailer
    truncate(&sealed, len(&sealed) / 2);
    let before = snapshot(&dir);
    let message = Run::start(&dir, &[]).refused();
    assert!(
        message.contains(&sealed.display().to_string())
            && message.contains("shorter than its index file says")
            && message.contains("--repair-archive-log"),
        "{message}"
    );
    assert_eq!(snapshot(&dir), before);

    let run = Run::start(&dir, &["--repair-archive-log"]);
    let kept = event_count(&run.api()).await;
    let log = run.stop();
    let lost = EVENTS - kept;
    assert!(
        lost > 0 && lost < sealed_events,
        "kept {kept} of {EVENTS} ({sealed_events} in the cut segment)"
    );
    assert!(log.contains(&format!("missing={lost}")), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_or_missing_index_file_is_rebuilt() {
    let dir = written_folder("index").await;
    let idx = index(&dir, 1);
    let whole = std::fs::read(&idx).unwrap();
    for damage in ["truncated", "flipped", "deleted"] {
        match damage {
            "truncated" => truncate(&idx, whole.len() as u64 / 3),
            "flipped" => flip_byte(&idx, 100),
            _ => std::fs::remove_file(&idx).unwrap(),
        }
        let run = Run::start(&dir, &[]);
        assert_eq!(event_count(&run.api()).await, EVENTS, "{damage}");
        run.stop();
        assert_eq!(std::fs::read(&idx).unwrap(), whole, "{damage}: not rebuilt");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn damage_inside_an_indexed_segment_shows_when_read_and_the_repair_drops_only_it() {
    let dir = written_folder("indexed-damage").await;
    // Segments with an index file are not read through at start (that is what the index
    // file saves): the damage shows when a replay reads the event.
    flip_byte(&segment(&dir, 1), 20_000);
    let run = Run::start(&dir, &[]);
    let api = run.api();
    assert_eq!(event_count(&api).await, EVENTS);
    let now_secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let replay = api
        .call(
            "StartReplay",
            json!({
                "ReplayName": "r",
                "EventSourceArn": "arn:aws:events:us-east-1:000000000000:archive/a",
                "EventStartTime": 0,
                "EventEndTime": now_secs + 60,
                "Destination": {"Arn": "arn:aws:events:us-east-1:000000000000:event-bus/b"},
            }),
        )
        .await;
    assert_eq!(replay.status, 200, "{:?}", replay.body);
    let state = support::eventually(30, "the replay to end", || async {
        let r = api.call("DescribeReplay", json!({"ReplayName": "r"})).await;
        let state = r.body["State"].as_str().unwrap_or_default().to_string();
        (state == "FAILED" || state == "COMPLETED").then_some(state)
    })
    .await;
    assert_eq!(state, "FAILED");
    let log = run.stop();
    assert!(
        log.contains("archive log segment 00000001")
            && log.contains("is damaged")
            && log.contains("--repair-archive-log"),
        "{log}"
    );

    let run = Run::start(&dir, &["--repair-archive-log"]);
    assert_eq!(event_count(&run.api()).await, EVENTS - 1);
    let log = run.stop();
    assert!(log.contains("damaged=1"), "{log}");
    assert!(segment(&dir, 1).with_extension("log.damaged").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_resource_database_stops_the_start() {
    let written = written_folder("sled").await;
    for damage in ["truncated", "flipped", "emptied", "deleted", "a folder"] {
        let dir = temp_dir("sled-copy").join("data");
        copy_dir(&written, &dir);
        let db = dir.join("db");
        match damage {
            "truncated" => truncate(&db, len(&db) / 2),
            "flipped" => flip_byte(&db, len(&db) / 2),
            "emptied" => truncate(&db, 0),
            "deleted" => std::fs::remove_file(&db).unwrap(),
            // sled cannot open it at all.
            _ => {
                std::fs::remove_file(&db).unwrap();
                std::fs::create_dir(&db).unwrap();
            }
        }
        let before = snapshot(&dir);
        let message = Run::start(&dir, &[]).refused();
        assert!(
            message.contains(&format!("resource database {}", dir.display()))
                || message.contains(&format!("resource database in {}", dir.display())),
            "{damage}: {message}"
        );
        assert!(message.contains("restore"), "{damage}: {message}");
        // The archived events are still there, untouched.
        assert_eq!(snapshot(&dir), before, "{damage}");
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for item in std::fs::read_dir(from).unwrap() {
        let item = item.unwrap();
        let target = to.join(item.file_name());
        if item.file_type().unwrap().is_dir() {
            copy_dir(&item.path(), &target);
        } else {
            std::fs::copy(item.path(), target).unwrap();
        }
    }
}
