//! The real binary's start: `--init` seed files (the docker example's own), the startup line in
//! both log formats, and `--healthcheck`.

mod support;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};
use support::{Api, temp_dir};

const BIN: &str = env!("CARGO_BIN_EXE_eventbridge-local");

fn docker_init() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("docker/init.json")
}

/// A running binary; killed when dropped.
struct Started {
    child: Child,
    addr: SocketAddr,
    line: String,
    stderr: PathBuf,
}

impl Drop for Started {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Started {
    /// SIGTERM and wait for a clean exit; returns what it wrote to stderr.
    fn stop(mut self) -> String {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let status = self.child.wait().unwrap();
        assert!(status.success(), "exit after SIGTERM: {status}");
        std::fs::read_to_string(&self.stderr).unwrap()
    }
}

fn command(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(["--host", "127.0.0.1", "--port", "0"])
        .args(args)
        .env_remove("RUST_LOG")
        .env_remove("EVENTBRIDGE_LOCAL_INIT")
        .env_remove("EVENTBRIDGE_LOCAL_LOG_FORMAT")
        .current_dir(dir)
        .stdin(Stdio::null());
    cmd
}

/// Starts the binary and reads its first stdout line; `addr` is taken from `url` in the JSON
/// format and from the text otherwise.
fn start(dir: &Path, mut cmd: Command) -> Started {
    use std::io::BufRead;
    let stderr = dir.join(format!("stderr-{}.log", uuid::Uuid::new_v4()));
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&stderr).unwrap())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let line = line.trim_end().to_string();
    let url = match serde_json::from_str::<Value>(&line) {
        Ok(json) => json["url"].as_str().unwrap_or_default().to_string(),
        Err(_) => line
            .split_once("http://")
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .map(|a| format!("http://{a}"))
            .unwrap_or_default(),
    };
    let Some(addr) = url
        .strip_prefix("http://")
        .and_then(|a| a.parse::<SocketAddr>().ok())
    else {
        let _ = child.kill();
        panic!(
            "no address in the first line {line:?}; stderr: {}",
            std::fs::read_to_string(&stderr).unwrap_or_default()
        );
    };
    Started {
        child,
        addr,
        line,
        stderr,
    }
}

/// Runs the binary to its end (a start that must fail, or a health check); returns
/// (success, stdout, stderr). One still running after 30 s is killed and fails the test.
fn run_to_end(mut cmd: Command) -> (bool, String, String) {
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let (done, finished) = std::sync::mpsc::channel();
    let waiter = std::thread::spawn(move || {
        let out = child.wait_with_output();
        let _ = done.send(());
        out
    });
    if finished
        .recv_timeout(std::time::Duration::from_secs(30))
        .is_err()
    {
        let _ = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status();
        let out = waiter.join().unwrap().unwrap();
        panic!(
            "{cmd:?} still running after 30 s; stdout: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
    let out = waiter.join().unwrap().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn assert_docker_example_state(api: &Api) {
    let bus = api
        .call("DescribeEventBus", json!({"Name": "orders"}))
        .await;
    assert_eq!(bus.status, 200, "{:?}", bus.body);
    let archive = api
        .call("DescribeArchive", json!({"ArchiveName": "orders-archive"}))
        .await;
    assert_eq!(archive.status, 200, "{:?}", archive.body);
    assert_eq!(archive.body["RetentionDays"], 7);
    assert_eq!(
        archive.body["EventSourceArn"],
        "arn:aws:events:us-east-1:000000000000:event-bus/orders"
    );
    let rule = api
        .call(
            "DescribeRule",
            json!({"Name": "order-created", "EventBusName": "orders"}),
        )
        .await;
    assert_eq!(rule.status, 200, "{:?}", rule.body);
    assert_eq!(rule.body["State"], "ENABLED");
    let targets = api
        .call(
            "ListTargetsByRule",
            json!({"Rule": "order-created", "EventBusName": "orders"}),
        )
        .await;
    assert_eq!(
        targets.body["Targets"],
        json!([{"Id": "orders-queue", "Arn": "arn:aws:sqs:us-east-1:000000000000:orders-queue"}])
    );
    let schedule = api.get("/schedules/nightly-report").await;
    assert_eq!(schedule.status, 200, "{:?}", schedule.body);
    assert_eq!(schedule.body["ScheduleExpression"], "cron(0 2 * * ? *)");
    assert_eq!(
        schedule.body["Target"]["Arn"],
        "arn:aws:events:us-east-1:000000000000:event-bus/orders"
    );
}

#[tokio::test]
async fn the_docker_example_init_file_seeds_the_state_at_every_start() {
    let dir = temp_dir("init-docker");
    let data = dir.join("data");
    let init = docker_init();
    let args = [
        "--data-dir",
        data.to_str().unwrap(),
        "--init",
        init.to_str().unwrap(),
    ];

    let first = start(&dir, command(&dir, &args));
    assert_eq!(
        first.line,
        format!(
            "eventbridge-local (data: {}) listening on http://{}",
            data.display(),
            first.addr
        )
    );
    assert_docker_example_state(&Api::new(first.addr)).await;
    let logs = first.stop();
    assert!(logs.contains("applied=5 already_there=0"), "{logs}");

    // Everything exists now: the same file at the next start is not an error, and what the
    // user changed in between stays (Create* skip what exists).
    let second = start(&dir, command(&dir, &args));
    let api = Api::new(second.addr);
    assert_docker_example_state(&api).await;
    let update = api
        .call(
            "UpdateArchive",
            json!({"ArchiveName": "orders-archive", "RetentionDays": 30}),
        )
        .await;
    assert_eq!(update.status, 200, "{:?}", update.body);
    let logs = second.stop();
    assert!(logs.contains("applied=2 already_there=3"), "{logs}");

    let third = start(&dir, command(&dir, &args));
    let archive = Api::new(third.addr)
        .call("DescribeArchive", json!({"ArchiveName": "orders-archive"}))
        .await;
    assert_eq!(archive.body["RetentionDays"], 30);
    third.stop();
}

#[tokio::test]
async fn init_from_the_environment_with_account_and_region() {
    let dir = temp_dir("init-env");
    let file = dir.join("seed.json");
    std::fs::write(
        &file,
        json!([
            {"operation": "CreateEventBus", "input": {"Name": "eu-bus"},
             "account": "111122223333", "region": "eu-west-1"},
            {"service": "events", "operation": "CreateEventBus", "input": {"Name": "plain"}},
        ])
        .to_string(),
    )
    .unwrap();
    let mut cmd = command(&dir, &["--in-memory"]);
    cmd.env("EVENTBRIDGE_LOCAL_INIT", &file);
    let server = start(&dir, cmd);
    assert_eq!(
        server.line,
        format!(
            "eventbridge-local (data: in memory) listening on http://{}",
            server.addr
        )
    );
    let api = Api::new(server.addr);
    let eu = api
        .raw(
            Some("AWSEvents.DescribeEventBus"),
            json!({"Name": "eu-bus"}).to_string(),
            Some("AWS4-HMAC-SHA256 Credential=111122223333/20260101/eu-west-1/events/aws4_request, SignedHeaders=host, Signature=00"),
        )
        .await;
    assert_eq!(
        eu.body["Arn"],
        "arn:aws:events:eu-west-1:111122223333:event-bus/eu-bus"
    );
    let plain = api.call("DescribeEventBus", json!({"Name": "plain"})).await;
    assert_eq!(
        plain.body["Arn"],
        "arn:aws:events:us-east-1:000000000000:event-bus/plain"
    );
    server.stop();
}

#[test]
fn a_bad_init_file_stops_the_start_and_names_the_entry() {
    let dir = temp_dir("init-bad");
    let cases: [(&str, &str); 10] = [
        ("{not json", "not valid JSON"),
        (r#"{"operation": "CreateEventBus"}"#, "must be a JSON array"),
        (
            r#"[{"operation": "CreateEventBus", "input": {"Name": "ok"}},
                {"operation": "PutRule", "input": {"Name": "bad", "EventPattern": "{"}}]"#,
            "entry 2 (PutRule \"bad\"): InvalidEventPatternException: Event pattern is not valid.",
        ),
        (
            r#"[{"operation": "PutTargets", "input": {"Rule": "missing", "Targets": [{"Id": "t", "Arn": "arn:aws:sqs:us-east-1:000000000000:q"}]}}]"#,
            "entry 1 (PutTargets): ResourceNotFoundException: Rule missing does not exist on EventBus default.",
        ),
        (
            r#"[{"operation": "PutEvents", "input": {"Entries": [{"Source": "a", "DetailType": "b", "Detail": "not json"}]}}]"#,
            "entry 1 (PutEvents): 1 failed entries: MalformedDetail: Detail is malformed.",
        ),
        (
            r#"[{"operation": "CreateBus", "input": {}}]"#,
            "entry 1 (CreateBus): UnknownOperationException",
        ),
        (
            r#"[{"service": "scheduler", "operation": "GetSchedule", "input": {"Name": "s"}}]"#,
            "entry 1 (GetSchedule \"s\"): ResourceNotFoundException: Schedule s does not exist.",
        ),
        (
            r#"[{"service": "sqs", "operation": "CreateQueue", "input": {"QueueName": "q"}}]"#,
            "entry 1 (CreateQueue): unknown service \"sqs\"",
        ),
        (
            r#"[{"operation": "CreateEventBus", "input": {"Name": "x"}, "account": "42"}]"#,
            "entry 1 (CreateEventBus \"x\"): \"account\" must be a 12-digit account id",
        ),
        (
            r#"[{"operation": "CreateEventBus", "inputs": {"Name": "x"}}]"#,
            "entry 1 (CreateEventBus): not an entry",
        ),
    ];
    for (i, (text, expected)) in cases.iter().enumerate() {
        let file = dir.join(format!("bad-{i}.json"));
        std::fs::write(&file, text).unwrap();
        let (ok, stdout, stderr) = run_to_end(command(
            &dir,
            &["--in-memory", "--init", file.to_str().unwrap()],
        ));
        assert!(!ok, "case {i} started: {stdout}");
        assert_eq!(stdout, "", "case {i}: no listening line");
        let prefix = format!("eventbridge-local: --init {}: ", file.display());
        assert!(
            stderr.contains(&format!("{prefix}{expected}")),
            "case {i}: want {prefix}{expected}, got:\n{stderr}"
        );
    }
    let (ok, _, stderr) = run_to_end(command(
        &dir,
        &["--in-memory", "--init", "/nonexistent/init.json"],
    ));
    assert!(!ok);
    assert!(
        stderr.contains("--init /nonexistent/init.json: cannot read it"),
        "{stderr}"
    );
}

#[tokio::test]
async fn json_logs_and_startup_line() {
    let dir = temp_dir("json-logs");
    let data = dir.join("data");
    let mut cmd = command(&dir, &["--data-dir", data.to_str().unwrap()]);
    cmd.env("EVENTBRIDGE_LOCAL_LOG_FORMAT", "json");
    let server = start(&dir, cmd);
    let line: Value = serde_json::from_str(&server.line).expect("a JSON startup line");
    assert_eq!(line["message"], "eventbridge-local listening");
    assert_eq!(line["level"], "INFO");
    assert_eq!(line["url"], format!("http://{}", server.addr));
    assert_eq!(line["address"], server.addr.to_string());
    assert_eq!(line["data_dir"], data.display().to_string());
    assert_eq!(line["in_memory"], false);
    assert!(line["timestamp"].as_str().is_some_and(|t| t.ends_with('Z')));
    let health = Api::new(server.addr).get("/_local/health").await;
    assert_eq!(health.body["status"], "ok");
    let logs = server.stop();
    let lines: Vec<Value> = logs
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l:?}")))
        .collect();
    assert!(
        lines
            .iter()
            .any(|l| l["message"] == "shutting down" && l["level"] == "INFO"),
        "{logs}"
    );
}

#[test]
fn healthcheck_flag_answers_by_exit_code() {
    let dir = temp_dir("healthcheck");
    let server = start(&dir, command(&dir, &["--in-memory"]));
    let url = format!("http://{}/_local/health", server.addr);
    let (ok, _, stderr) = run_to_end(command(&dir, &["--healthcheck", &url]));
    assert!(ok, "{stderr}");
    // Without a URL: this machine, the port of --port (as in the Dockerfile's HEALTHCHECK).
    let mut by_port = Command::new(BIN);
    by_port.args(["--port", &server.addr.port().to_string(), "--healthcheck"]);
    let (ok, _, stderr) = run_to_end(by_port);
    assert!(ok, "{stderr}");
    // Not our health endpoint: a 404.
    let (ok, _, stderr) = run_to_end(command(
        &dir,
        &[
            "--healthcheck",
            &format!("http://{}/_local/nothing", server.addr),
        ],
    ));
    assert!(!ok);
    assert!(stderr.contains("is not healthy: answered"), "{stderr}");
    server.stop();

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let (ok, _, stderr) = run_to_end(command(
        &dir,
        &[
            "--healthcheck",
            &format!("http://127.0.0.1:{port}/_local/health"),
        ],
    ));
    assert!(!ok);
    assert!(stderr.contains("cannot connect"), "{stderr}");
}
