//! `POST /_local/endpoints/health`: what a Route 53 health check would tell EventBridge of a
//! global endpoint's primary region, since there is no Route 53 here.
//!
//! Body: `{"name": "...", "healthy": false}` (the endpoint of the default account and region),
//! with `"account"` and `"region"` (its home region) to name another; or `{"endpointId": "...",
//! "healthy": ...}` with `"account"`. Answers the endpoint's id, health and the region its
//! events go to now.

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use serde::Deserialize;
use serde_json::json;

use crate::app::App;
use crate::model::Scope;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct HealthRequest {
    name: Option<String>,
    endpoint_id: Option<String>,
    healthy: bool,
    account: Option<String>,
    region: Option<String>,
}

pub async fn set_health(app: &App, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let body = match Limited::new(req.into_body(), 64 * 1024).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) => return super::json(StatusCode::BAD_REQUEST, json!({"message": e.to_string()})),
    };
    let request: HealthRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return super::json(
                StatusCode::BAD_REQUEST,
                json!({"message": format!("expected {{\"name\" or \"endpointId\", \"healthy\": true|false}}: {e}")}),
            );
        }
    };
    let account = request
        .account
        .unwrap_or_else(|| app.config.account_id.clone());
    let found = match (&request.name, &request.endpoint_id) {
        (Some(name), _) => app
            .catalog
            .endpoint(
                &Scope {
                    account,
                    region: request.region.unwrap_or_else(|| app.config.region.clone()),
                },
                name,
            )
            .ok(),
        (None, Some(id)) => app.catalog.endpoint_by_id(&account, id),
        (None, None) => {
            return super::json(
                StatusCode::BAD_REQUEST,
                json!({"message": "name or endpointId is required"}),
            );
        }
    };
    let Some(endpoint) = found else {
        return super::json(
            StatusCode::NOT_FOUND,
            json!({"message": "no such endpoint"}),
        );
    };
    let updated = app
        .catalog
        .update_endpoint(&endpoint.scope, &endpoint.name, |e| {
            e.primary_healthy = request.healthy;
            Ok(())
        });
    let flushed = match updated {
        Ok(e) => app
            .store
            .flush()
            .await
            .map(|()| e)
            .map_err(|e| e.to_string()),
        Err(e) => Err(e.message),
    };
    match flushed {
        Ok(e) => super::json(
            StatusCode::OK,
            json!({
                "name": e.name,
                "endpointId": e.endpoint_id,
                "primaryHealthy": e.primary_healthy,
                "activeRegion": e.active_region(),
            }),
        ),
        Err(message) => super::json(
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({"message": message}),
        ),
    }
}
