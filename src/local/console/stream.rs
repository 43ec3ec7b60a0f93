//! `GET /_local/console/stream?bus=&account=&region=`: the events a bus receives, as
//! server-sent events. Each message is a JSON array of events (as `/_local/events` shows
//! them) with the sequence number of the last as its id, so a reconnecting browser
//! (`Last-Event-ID`) misses nothing the recent-events ring still holds.
//!
//! Cheap for PutEvents and bounded for the browser: the stream wakes on the ring's notify,
//! then waits a beat so that a thousand events a second go out as ten messages, each with at
//! most the newest `MAX_BATCH`. A stream ends after `MAX_LIFE` (the browser reconnects by
//! itself); all end when the server shuts down.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::{Body, Frame, Incoming};
use hyper::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue};
use hyper::{Request, Response, StatusCode};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::super::Query;
use super::super::waits::received_json;
use crate::app::App;

pub const STREAM_PATH: &str = "/_local/console/stream";

/// The most events one message carries (the newest of a burst).
const MAX_BATCH: usize = 200;
/// How long the stream gathers a burst before sending it.
const BEAT: Duration = Duration::from_millis(100);
/// A comment line this often keeps proxies and the browser from closing an idle stream.
const KEEPALIVE: Duration = Duration::from_secs(10);
const MAX_LIFE: Duration = Duration::from_secs(30);

/// A body fed by a channel: the stream task sends, hyper writes.
struct ChannelBody(mpsc::Receiver<Bytes>);

impl Body for ChannelBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.0.poll_recv(cx).map(|b| b.map(|b| Ok(Frame::data(b))))
    }
}

pub fn stream(app: Arc<App>, req: Request<Incoming>) -> Response<BoxBody<Bytes, Infallible>> {
    let query = Query::parse(req.uri().query().unwrap_or_default());
    let Some(bus) = query.get("bus").filter(|b| !b.is_empty()) else {
        let body = json!({"message": "bus is required"}).to_string();
        let mut response = Response::new(Full::new(Bytes::from(body)).boxed());
        *response.status_mut() = StatusCode::BAD_REQUEST;
        return response;
    };
    let bus = bus.rsplit('/').next().unwrap_or(bus).to_string();
    let scope = super::scope(&app, &query);
    let last_seen: Option<u64> = req
        .headers()
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let (tx, rx) = mpsc::channel::<Bytes>(4);
    tokio::spawn(async move {
        let recent = app.router.recent.clone();
        let end = tokio::time::Instant::now() + MAX_LIFE;
        let mut last = last_seen;
        // The browser waits this long before reconnecting.
        if tx
            .send(Bytes::from_static(b"retry: 500\n\n"))
            .await
            .is_err()
        {
            return;
        }
        loop {
            let notified = recent.changed().notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if recent.is_closed() {
                return;
            }
            let batch = recent.since(&scope, &bus, last, MAX_BATCH);
            if let Some(newest) = batch.last() {
                last = Some(newest.seq);
                let events: Vec<Value> = batch
                    .iter()
                    .map(|r| received_json(&scope.account, &scope.region, &bus, r))
                    .collect();
                let message = format!("id: {}\ndata: {}\n\n", newest.seq, Value::Array(events));
                if tx.send(Bytes::from(message)).await.is_err() {
                    return;
                }
            }
            tokio::select! {
                _ = &mut notified => {}
                _ = tokio::time::sleep(KEEPALIVE) => {
                    if tx.send(Bytes::from_static(b": keepalive\n\n")).await.is_err() {
                        return;
                    }
                    continue;
                }
                _ = tokio::time::sleep_until(end) => return,
                _ = tx.closed() => return,
            }
            tokio::time::sleep(BEAT).await;
        }
    });
    let mut response = Response::new(ChannelBody(rx).boxed());
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream; charset=utf-8"),
    );
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}
