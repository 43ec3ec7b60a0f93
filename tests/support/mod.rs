//! A server on 127.0.0.1 and an ephemeral port for one test, and a raw HTTP client;
//! `receiver` is the other end, for tests of deliveries to targets.
#![allow(dead_code)]

pub mod receiver;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use clap::Parser;
use eventbridge_local::{App, Config};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use tokio::sync::oneshot;

pub struct TestServer {
    pub addr: SocketAddr,
    pub app: Arc<App>,
    stop: Option<oneshot::Sender<()>>,
    done: Option<tokio::task::JoinHandle<()>>,
    api: Api,
}

/// A raw HTTP client of one server.
pub struct Api {
    pub addr: SocketAddr,
    client: Client<HttpConnector, Full<Bytes>>,
}

impl std::ops::Deref for TestServer {
    type Target = Api;
    fn deref(&self) -> &Api {
        &self.api
    }
}

pub struct Reply {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn error_type(&self) -> &str {
        self.body["__type"].as_str().unwrap_or_default()
    }

    pub fn message(&self) -> &str {
        self.body["message"].as_str().unwrap_or_default()
    }
}

impl TestServer {
    pub async fn start() -> TestServer {
        Self::start_with(Config::for_tests()).await
    }

    /// A server keeping its data in `dir`.
    pub async fn start_in(dir: &Path) -> TestServer {
        let config = Config::parse_from([
            "eventbridge-local",
            "--port",
            "0",
            "--data-dir",
            dir.to_str().unwrap(),
        ]);
        Self::start_with(config).await
    }

    pub async fn start_with(config: Config) -> TestServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = App::start(config).expect("app starts");
        let (stop, stopped) = oneshot::channel::<()>();
        let done = tokio::spawn(eventbridge_local::run(listener, app.clone(), async {
            let _ = stopped.await;
        }));
        TestServer {
            addr,
            app,
            stop: Some(stop),
            done: Some(done),
            api: Api::new(addr),
        }
    }

    /// Graceful shutdown; waits until the store is flushed.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(done) = self.done.take() {
            done.await.unwrap();
        }
    }
}

impl Api {
    pub fn new(addr: SocketAddr) -> Api {
        Api {
            addr,
            client: Client::builder(TokioExecutor::new()).build_http(),
        }
    }

    /// A raw request with an optional `X-Amz-Target` and body.
    pub async fn raw(
        &self,
        target: Option<&str>,
        body: impl Into<Bytes>,
        auth: Option<&str>,
    ) -> Reply {
        let mut builder = http::Request::builder()
            .method("POST")
            .uri(format!("http://{}/", self.addr))
            .header("content-type", "application/x-amz-json-1.1");
        if let Some(target) = target {
            builder = builder.header("x-amz-target", target);
        }
        if let Some(auth) = auth {
            builder = builder.header("authorization", auth);
        }
        let response = self
            .client
            .request(builder.body(Full::new(body.into())).unwrap())
            .await
            .unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into()))
        };
        Reply {
            status,
            headers,
            body,
        }
    }

    /// Calls an operation with a JSON body.
    pub async fn call(&self, operation: &str, body: Value) -> Reply {
        self.raw(
            Some(&format!("AWSEvents.{operation}")),
            body.to_string(),
            None,
        )
        .await
    }

    pub async fn get(&self, path: &str) -> Reply {
        let response = self
            .client
            .request(
                http::Request::builder()
                    .uri(format!("http://{}{path}", self.addr))
                    .body(Full::new(Bytes::new()))
                    .unwrap(),
            )
            .await
            .unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        Reply {
            status,
            headers,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        }
    }
}

/// Polls `check` until it returns `Some`, or panics after `secs` seconds.
pub async fn eventually<T, F, Fut>(secs: u64, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        if tokio::time::Instant::now() > deadline {
            panic!("timed out after {secs} s waiting for {what}");
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// A fresh folder under the target dir for one test's data.
pub fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Starts the real binary on an ephemeral port with its data in `dir` and reads the address
/// it prints.
pub fn spawn_binary(dir: &Path) -> (std::process::Child, SocketAddr) {
    spawn_binary_with(dir, &[])
}

/// `spawn_binary` with extra command-line flags.
pub fn spawn_binary_with(dir: &Path, flags: &[&str]) -> (std::process::Child, SocketAddr) {
    use std::io::BufRead;
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_eventbridge-local"))
        .args(["--port", "0", "--data-dir", dir.to_str().unwrap()])
        .args(flags)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .split_once("http://")
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("no address in {line:?}"));
    (child, addr)
}
