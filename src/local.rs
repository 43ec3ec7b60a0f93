//! Endpoints that are not AWS's: `/_local/health` and `/_local/deliveries`.

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::json;

use crate::app::App;
use crate::delivery::log::LogFilter;

pub async fn handle(app: &App, req: Request<Incoming>) -> Response<Full<Bytes>> {
    match (req.method(), req.uri().path()) {
        (&Method::GET, "/_local/health") => json(
            StatusCode::OK,
            json!({
                "status": "ok",
                "version": env!("CARGO_PKG_VERSION"),
                "operations": crate::ops::IMPLEMENTED.as_slice(),
                "schedulerOperations": crate::scheduler_ops::IMPLEMENTED.as_slice(),
            }),
        ),
        (&Method::GET, "/_local/deliveries") => {
            let filter = parse_filter(req.uri().query().unwrap_or_default());
            let records = app.delivery.log.list(&filter);
            json(StatusCode::OK, json!({ "deliveries": records }))
        }
        _ => json(
            StatusCode::NOT_FOUND,
            json!({"message": format!("no such endpoint: {} {}", req.method(), req.uri().path())}),
        ),
    }
}

/// `?rule=..&target=..&eventId=..&limit=..`
fn parse_filter(query: &str) -> LogFilter {
    let mut filter = LogFilter::default();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = percent_decode(value);
        match key {
            "rule" => filter.rule = Some(value),
            "target" => filter.target = Some(value),
            "eventId" | "event_id" => filter.event_id = Some(value),
            "limit" => filter.limit = value.parse().ok(),
            _ => {}
        }
    }
    filter
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match u8::from_str_radix(&text[i + 1..i + 3], 16) {
                Ok(b) => {
                    out.push(b);
                    i += 3;
                    continue;
                }
                Err(_) => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn json(status: StatusCode, body: serde_json::Value) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_filter_query() {
        let f = parse_filter("rule=arn%3Aaws%3Aevents&eventId=e1&limit=5");
        assert_eq!(f.rule.as_deref(), Some("arn:aws:events"));
        assert_eq!(f.event_id.as_deref(), Some("e1"));
        assert_eq!(f.limit, Some(5));
        assert_eq!(percent_decode("a%2"), "a%2");
    }
}
