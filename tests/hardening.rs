//! Hostile and sloppy clients, and a data folder that another server holds: each test fails
//! without the protection it names.

mod support;

use std::time::{Duration, Instant};

use clap::Parser;
use eventbridge_local::Config;
use support::TestServer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn config(flags: &[&str]) -> Config {
    let mut args = vec!["eventbridge-local", "--in-memory", "--port", "0"];
    args.extend_from_slice(flags);
    Config::parse_from(args)
}

/// Reads until the peer closes (Ok(bytes read)) or `within` passes (Err).
async fn closed_within(stream: &mut TcpStream, within: Duration) -> Result<Vec<u8>, Vec<u8>> {
    let deadline = tokio::time::Instant::now() + within;
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return Err(seen),
            Ok(Ok(0)) | Ok(Err(_)) => return Ok(seen),
            Ok(Ok(n)) => seen.extend_from_slice(&buf[..n]),
        }
    }
}

/// One whole HTTP/1.1 exchange on an open connection: the status line's code.
async fn request(stream: &mut TcpStream, head: &str) -> u16 {
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 65536];
    let mut got = Vec::new();
    loop {
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf))
            .await
            .expect("an answer within 10 s")
            .unwrap();
        assert!(n > 0, "connection closed before an answer");
        got.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&got);
        if let Some(end) = text.find("\r\n\r\n") {
            let length: usize = text[..end]
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse().unwrap())
                })
                .unwrap_or(0);
            if got.len() >= end + 4 + length {
                return text[9..12].parse().unwrap();
            }
        }
    }
}

const HEALTH: &str = "GET /_local/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

#[tokio::test]
async fn a_client_trickling_its_headers_is_dropped() {
    let server = TestServer::start_with(config(&["--header-timeout-secs", "1"])).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream
        .write_all(b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    // One header byte every 200 ms: never a complete head.
    let trickle = async {
        for _ in 0..50 {
            if stream.write_all(b"x").await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(4), trickle).await;
    let closed = closed_within(&mut stream, Duration::from_secs(2)).await;
    assert!(
        closed.is_ok(),
        "still open {:?} after it started trickling",
        started.elapsed()
    );
    server.stop().await;
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed() {
    let server = TestServer::start_with(config(&["--header-timeout-secs", "1"])).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    assert_eq!(request(&mut stream, HEALTH).await, 200);
    let closed = closed_within(&mut stream, Duration::from_secs(4)).await;
    assert!(closed.is_ok(), "an idle keep-alive connection stayed open");
    server.stop().await;
}

#[tokio::test]
async fn connections_over_the_cap_wait_and_connected_clients_keep_their_answers() {
    let server = TestServer::start_with(config(&["--max-connections", "3"])).await;
    // Three connections: one active client and two idle ones hold every permit.
    let mut client = TcpStream::connect(server.addr).await.unwrap();
    assert_eq!(request(&mut client, HEALTH).await, 200);
    let idle1 = TcpStream::connect(server.addr).await.unwrap();
    let _idle2 = TcpStream::connect(server.addr).await.unwrap();
    // Give the server a moment to accept them (a poll: the fourth must not get in).
    let mut late = TcpStream::connect(server.addr).await.unwrap();
    late.write_all(HEALTH.as_bytes()).await.unwrap();
    let mut buf = [0u8; 16];
    let early = tokio::time::timeout(Duration::from_millis(700), late.read(&mut buf)).await;
    assert!(
        early.is_err(),
        "a fourth connection was answered past --max-connections 3"
    );
    // The connected client is still answered.
    for _ in 0..3 {
        assert_eq!(request(&mut client, HEALTH).await, 200);
    }
    // When one closes, the waiting one gets in.
    drop(idle1);
    let n = tokio::time::timeout(Duration::from_secs(5), late.read(&mut buf))
        .await
        .expect("the waiting connection answered once a slot was free")
        .unwrap();
    assert!(n > 0 && buf.starts_with(b"HTTP/1.1 200"));
    server.stop().await;
}

#[tokio::test]
async fn oversize_heads_get_431() {
    let server = TestServer::start_with(config(&["--max-header-bytes", "16384"])).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    let big = format!(
        "GET /_local/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: {}\r\n\r\n",
        "a".repeat(64 * 1024)
    );
    let _ = stream.write_all(big.as_bytes()).await;
    let answer = closed_within(&mut stream, Duration::from_secs(5))
        .await
        .expect("the connection is closed after the refusal");
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 431"), "{text}");
    server.stop().await;
}

/// Bodies over `--max-body-bytes` are refused before they are read whole (AWS's front door
/// answer is not recorded; a 400 ValidationException naming the limit, as PutEvents's own
/// over-limit answer is a 400).
#[tokio::test]
async fn oversize_bodies_are_refused() {
    let server = TestServer::start_with(config(&["--max-body-bytes", "1000"])).await;
    let body = serde_json::json!({"Name": "b".repeat(5000)}).to_string();
    let reply = server
        .raw(Some("AWSEvents.CreateEventBus"), body, None)
        .await;
    assert_eq!(reply.status, 400, "{:?}", reply.body);
    assert_eq!(
        reply.message(),
        "Request body is larger than the limit of 1000 bytes."
    );
    let health = server.get("/_local/health").await;
    assert_eq!(health.status, 200);
    server.stop().await;
}

/// A web page cannot drive the server: not by DNS rebinding (a foreign `Host`), nor by a
/// cross-origin POST (a foreign `Origin`).
#[tokio::test]
async fn foreign_hosts_and_origins_are_refused() {
    let server = TestServer::start().await;
    let post = |host: &str, origin: Option<&str>| {
        let origin = origin
            .map(|o| format!("Origin: {o}\r\n"))
            .unwrap_or_default();
        format!(
            "POST / HTTP/1.1\r\nHost: {host}\r\n{origin}X-Amz-Target: AWSEvents.CreateEventBus\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: 15\r\n\r\n{{\"Name\":\"evil\"}}"
        )
    };
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    assert_eq!(
        request(&mut stream, &post("evil.test:4010", None)).await,
        403
    );
    assert_eq!(
        request(&mut stream, &post("127.0.0.1", Some("http://evil.test"))).await,
        403
    );
    let rebound_read = "GET /_local/deliveries HTTP/1.1\r\nHost: evil.test\r\n\r\n";
    assert_eq!(request(&mut stream, rebound_read).await, 403);
    let buses = server.call("ListEventBuses", serde_json::json!({})).await;
    let names: Vec<_> = buses.body["EventBuses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["Name"].as_str().unwrap().to_string())
        .collect();
    assert!(!names.contains(&"evil".to_string()), "{names:?}");
    // The same request from this machine's own names goes through.
    assert_eq!(
        request(
            &mut stream,
            &post("localhost:4010", Some("http://127.0.0.1:4010"))
        )
        .await,
        200
    );
    server.stop().await;
}

#[test]
fn a_second_server_on_the_same_data_dir_refuses_to_start() {
    let dir = support::temp_dir("dirlock");
    let (mut first, _addr) = support::spawn_binary(&dir);
    let second = std::process::Command::new(env!("CARGO_BIN_EXE_eventbridge-local"))
        .args(["--port", "0", "--data-dir", dir.to_str().unwrap()])
        .output()
        .unwrap();
    let _ = first.kill();
    let _ = first.wait();
    assert!(!second.status.success(), "the second server started");
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(
        stderr.contains(&format!("in use by process {}", first.id())),
        "{stderr}"
    );
    // Once the first is gone, the folder is free again.
    let (mut again, _addr) = support::spawn_binary(&dir);
    let _ = again.kill();
    let _ = again.wait();
}
