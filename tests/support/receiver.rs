//! A recording HTTP receiver on 127.0.0.1 for delivery tests. It stands in for what targets
//! call (Lambda's Invoke API, an API destination's endpoint), keeps every request it accepted,
//! and misbehaves on demand: it answers slowly, fails the next requests, or rejects a bearer
//! token, so that tests can see retries, slow targets and token refreshes from outside.
//!
//! `/token` (and anything under it) plays an OAuth client-credentials endpoint: it answers
//! `{"access_token": "tok-N", "expires_in": 3600}`, N counting token requests, and is never
//! failed or rejected.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::json;

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: String,
    /// Path and query.
    pub uri: String,
    /// Header names are lowercase.
    pub headers: HashMap<String, String>,
    pub body: String,
    /// When its body had arrived (before any delay).
    pub at: Instant,
}

impl Call {
    pub fn path(&self) -> &str {
        self.uri.split('?').next().unwrap_or_default()
    }

    /// A header's value, "" when it is absent.
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).map_or("", String::as_str)
    }
}

/// A running receiver; it serves until the test's runtime ends.
pub struct Receiver {
    pub addr: SocketAddr,
    state: Arc<State>,
}

struct State {
    /// What an accepted request is answered.
    status: u16,
    body: &'static str,
    /// Accepted requests (not failed, not rejected, not to `/token`).
    calls: Mutex<Vec<Call>>,
    token_requests: Mutex<Vec<Call>>,
    /// Answer 500 (unrecorded) to this many requests first.
    failures_left: Mutex<u32>,
    delay: Mutex<Duration>,
    /// Answer 401 (unrecorded) to requests bearing this token.
    rejected_token: Mutex<Option<String>>,
}

impl Receiver {
    /// Starts a receiver answering accepted requests with `status` and `body`.
    pub async fn start(status: u16, body: &'static str) -> Receiver {
        let state = Arc::new(State {
            status,
            body,
            calls: Mutex::default(),
            token_requests: Mutex::default(),
            failures_left: Mutex::default(),
            delay: Mutex::default(),
            rejected_token: Mutex::default(),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let serving = state.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    break;
                };
                let state = serving.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                        let state = state.clone();
                        async move { Ok::<_, Infallible>(state.answer(req).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Receiver { addr, state }
    }

    /// The accepted requests so far, in arrival order.
    pub fn calls(&self) -> Vec<Call> {
        self.state.calls.lock().unwrap().clone()
    }

    pub fn token_requests(&self) -> Vec<Call> {
        self.state.token_requests.lock().unwrap().clone()
    }

    /// Waits (up to 10 s) until at least `n` requests were accepted.
    pub async fn wait_calls(&self, n: usize) -> Vec<Call> {
        super::eventually(10, &format!("{n} call(s) to the receiver"), || {
            let calls = self.calls();
            async move { (calls.len() >= n).then_some(calls) }
        })
        .await
    }

    /// Answers 500 to the next `n` requests (`u32::MAX`: until told otherwise).
    pub fn fail_next(&self, n: u32) {
        *self.state.failures_left.lock().unwrap() = n;
    }

    /// Waits this long before answering each request.
    pub fn delay_answers(&self, delay: Duration) {
        *self.state.delay.lock().unwrap() = delay;
    }

    /// Answers 401 to requests with `Authorization: Bearer <token>`.
    pub fn reject_token(&self, token: &str) {
        *self.state.rejected_token.lock().unwrap() = Some(token.to_string());
    }
}

impl State {
    async fn answer(&self, req: Request<Incoming>) -> Response<Full<Bytes>> {
        let method = req.method().to_string();
        let uri = req.uri().to_string();
        let headers = req
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
            .collect::<HashMap<_, _>>();
        let body = req.into_body().collect().await.unwrap().to_bytes();
        let call = Call {
            method,
            uri,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
            at: Instant::now(),
        };
        let delay = *self.delay.lock().unwrap();
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let (status, answer) = if call.uri.starts_with("/token") {
            let mut requests = self.token_requests.lock().unwrap();
            requests.push(call);
            let token = format!("tok-{}", requests.len());
            (
                200,
                json!({"access_token": token, "token_type": "Bearer", "expires_in": 3600})
                    .to_string(),
            )
        } else if self.take_failure() {
            (500, String::new())
        } else if self.is_rejected(call.header("authorization")) {
            (401, String::new())
        } else {
            self.calls.lock().unwrap().push(call);
            (self.status, self.body.to_string())
        };
        let mut response = Response::new(Full::new(Bytes::from(answer)));
        *response.status_mut() = hyper::StatusCode::from_u16(status).unwrap();
        response
    }

    /// Whether this request is one of the failures asked for (and counts it).
    fn take_failure(&self) -> bool {
        let mut left = self.failures_left.lock().unwrap();
        let fail = *left > 0;
        *left = left.saturating_sub(1);
        fail
    }

    fn is_rejected(&self, authorization: &str) -> bool {
        self.rejected_token
            .lock()
            .unwrap()
            .as_ref()
            .is_some_and(|t| authorization == format!("Bearer {t}"))
    }
}
