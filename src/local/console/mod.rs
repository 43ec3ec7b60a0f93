//! The console: a single-page application in the browser, served from files embedded in
//! the binary (`console/` in the repository: plain ES modules and CSS, no build step, so
//! `cargo build` needs neither node nor the network). `GET /_local/console` is its page;
//! it reads through the AWS API itself and through the read endpoints below, and follows
//! a bus live through server-sent events (`stream`).
//!
//! - `GET /_local/console/api/scopes`: the accounts and regions that have buses.
//! - `GET /_local/console/api/archive-events`: archived events by time window, paged, with
//!   text search (`archive`).
//! - `GET /_local/console/api/replays`: replays with the events they replayed (`archive`).
//! - `GET /_local/console/api/schedules`: scheduled rules and Scheduler schedules with their
//!   next instants (`schedules`).
//! - `GET /_local/console/stream?bus=`: the bus's events as they arrive (`stream`).
//!
//! The console changes state only through same-origin requests (the AWS API and
//! `/_local/` controls), which the server's Host/Origin guard lets through and refuses to
//! other sites.

mod archive;
mod schedules;
mod stream;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::json;

use super::{LocalError, Query};
use crate::app::App;
pub use stream::{STREAM_PATH, stream};

/// The console's files: (path under `/_local/console/`, content type, contents).
const ASSETS: &[(&str, &str, &str)] = &[
    (
        "index.html",
        "text/html; charset=utf-8",
        include_str!("../../../console/index.html"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../console/app.js"),
    ),
    (
        "api.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../console/api.js"),
    ),
    (
        "views.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../console/views.js"),
    ),
    (
        "style.css",
        "text/css; charset=utf-8",
        include_str!("../../../console/style.css"),
    ),
];

/// Whether `path` is the console's.
pub fn is_console(path: &str) -> bool {
    path == "/_local/console" || path.starts_with("/_local/console/")
}

pub async fn handle(app: &App, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let path = req.uri().path().trim_start_matches("/_local/console");
    let path = path.trim_start_matches('/').to_string();
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return super::json(
            StatusCode::METHOD_NOT_ALLOWED,
            json!({"message": "the console's own endpoints are read-only"}),
        );
    }
    let query = Query::parse(req.uri().query().unwrap_or_default());
    let answer = match path.as_str() {
        "api/scopes" => Ok(scopes(app)),
        "api/archive-events" => archive::events(app, &query).await,
        "api/replays" => archive::replays(app, &query).await,
        "api/schedules" => schedules::list(app, &query).await,
        "" => return asset("index.html"),
        file => return asset(file),
    };
    match answer {
        Ok(body) => super::json(StatusCode::OK, body),
        Err(e) => super::json(e.status, json!({ "message": e.message })),
    }
}

/// The accounts and regions that have buses (the server's own first), and the server's own.
fn scopes(app: &App) -> serde_json::Value {
    let own = super::scope_of(app, None, None);
    let mut scopes = app.catalog.scopes();
    scopes.retain(|s| *s != own);
    scopes.insert(0, own.clone());
    json!({
        "default": {"account": own.account, "region": own.region},
        "scopes": scopes
            .iter()
            .map(|s| json!({"account": s.account, "region": s.region}))
            .collect::<Vec<_>>(),
    })
}

fn asset(name: &str) -> Response<Full<Bytes>> {
    let Some((_, content_type, body)) = ASSETS.iter().find(|(n, _, _)| *n == name) else {
        return super::json(
            StatusCode::NOT_FOUND,
            json!({"message": format!("the console has no file {name}")}),
        );
    };
    let mut response = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    // Revalidated each time: a new binary serves new files at once.
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    // Nothing but its own files, and no framing by other sites.
    headers.insert(
        "content-security-policy",
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
        ),
    );
    response
}

/// A query's `account` and `region`, else the server's.
fn scope(app: &App, query: &Query) -> crate::model::Scope {
    super::scope_of(app, query.get("account"), query.get("region"))
}

/// A required query parameter.
fn required<'a>(query: &'a Query, key: &str) -> Result<&'a str, LocalError> {
    query
        .get(key)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| LocalError::bad_request(format!("{key} is required")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_is_served_with_its_type() {
        for (name, content_type, body) in ASSETS {
            let response = asset(name);
            assert_eq!(response.status(), StatusCode::OK, "{name}");
            assert_eq!(response.headers()[CONTENT_TYPE], *content_type);
            assert!(!body.is_empty());
        }
        assert_eq!(asset("nope.js").status(), StatusCode::NOT_FOUND);
    }

    /// Every module the page imports is one the binary serves (the files are the sources:
    /// there is no build step whose output could drift from them).
    #[test]
    fn imports_are_embedded() {
        for (name, _, body) in ASSETS {
            for line in body.lines() {
                if let Some(rest) = line.split("from \"./").nth(1) {
                    let file = rest.split('"').next().unwrap_or_default();
                    assert!(
                        ASSETS.iter().any(|(n, _, _)| *n == file),
                        "{name} imports {file}, which is not embedded"
                    );
                }
            }
        }
    }
}
