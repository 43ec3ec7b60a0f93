//! The hyper accept loop: one task per connection, `/_local/` beside the AWS API, and a
//! graceful shutdown that drains connections and flushes the store.
//!
//! Against hostile or sloppy clients: at most `--max-connections` open connections (the
//! rest wait to be accepted, so connected clients keep their answers); a connection that
//! sends no complete request head within `--header-timeout-secs` is closed (hyper's header
//! timer, which also runs while a keep-alive connection waits for its next request, so it
//! bounds idle connections too); request heads over `--max-header-bytes` are answered 431;
//! bodies over `--max-body-bytes` 413 (in `protocol`); foreign `Host`/`Origin` 403 (`guard`).

mod guard;

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;

use crate::app::App;
pub use guard::HostGuard;

/// Serves `app` on `listener` until `shutdown` completes, then drains open connections (at
/// most a few seconds) and flushes the store.
pub async fn run(listener: TcpListener, app: Arc<App>, shutdown: impl Future<Output = ()>) {
    let graceful = GracefulShutdown::new();
    let guard = Arc::new(HostGuard::new(&app.config.host, &app.config.allowed_hosts));
    let permits = Arc::new(tokio::sync::Semaphore::new(
        app.config.max_connections.max(1),
    ));
    let header_timeout = Duration::from_secs(app.config.header_timeout_secs.max(1));
    // hyper's smallest buffer is 8 KiB.
    let max_header_bytes = app.config.max_header_bytes.max(8192);
    tokio::pin!(shutdown);
    loop {
        // A connection is accepted only with a permit, which it holds until it closes.
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            _ = &mut shutdown => break,
        };
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, _) = match accepted {
                    Ok(conn) => conn,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let app = app.clone();
                let guard = guard.clone();
                let service = service_fn(move |req: Request<Incoming>| {
                    let app = app.clone();
                    let guard = guard.clone();
                    async move { Ok::<_, Infallible>(route(app, &guard, req).await) }
                });
                let conn = http1::Builder::new()
                    .keep_alive(true)
                    .timer(TokioTimer::new())
                    .header_read_timeout(header_timeout)
                    .max_buf_size(max_header_bytes)
                    .serve_connection(TokioIo::new(stream), service);
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    if let Err(e) = conn.await {
                        tracing::debug!(error = %e, "connection ended with an error");
                    }
                    drop(permit);
                });
            }
            _ = &mut shutdown => break,
        }
    }
    drop(listener);
    // Live streams end now rather than hold up the drain below.
    app.router.recent.close();
    if tokio::time::timeout(Duration::from_secs(5), graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("connections still open after 5 s; closing them");
    }
    app.shutdown().await;
}

/// A response body: whole, or streamed (the console's server-sent events).
pub type Body = BoxBody<Bytes, Infallible>;

async fn route(app: Arc<App>, guard: &HostGuard, req: Request<Incoming>) -> Response<Body> {
    let header =
        |name: hyper::header::HeaderName| req.headers().get(name).and_then(|v| v.to_str().ok());
    let changes_state = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if let Some(reason) = guard.refusal(
        header(hyper::header::HOST),
        header(hyper::header::ORIGIN),
        changes_state,
    ) {
        tracing::warn!(reason = %reason, "refused a request");
        return forbidden(&reason).map(BodyExt::boxed);
    }
    if req.uri().path() == crate::local::console::STREAM_PATH {
        return crate::local::console::stream(app, req);
    }
    let response = if req.uri().path().starts_with("/_local/") {
        crate::local::handle(&app, req).await
    } else if crate::scheduler_api::is_scheduler_request(req.uri().path()) {
        crate::scheduler_api::handle(&app, req).await
    } else {
        crate::protocol::handle(&app, req).await
    };
    response.map(BodyExt::boxed)
}

/// 403 in the JSON shape AWS's errors have.
fn forbidden(reason: &str) -> Response<Full<Bytes>> {
    let body = serde_json::json!({"__type": "AccessDeniedException", "message": reason});
    Response::builder()
        .status(StatusCode::FORBIDDEN)
        .header("content-type", "application/x-amz-json-1.1")
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("static response")
}
