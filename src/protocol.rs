//! AWS JSON 1.1 as boto3 and the AWS CLI speak it: `POST /` with `X-Amz-Target`, the request
//! context from the SigV4 credential scope, JSON in, and JSON or `{"__type","message"}` out.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{Request, Response, StatusCode};
use serde_json::Value;

use crate::app::App;
use crate::error::{ApiError, ErrorCode};
use crate::model::Scope;
use crate::signature::{AuthError, SignedRequest, Verifier};

pub const CONTENT_TYPE_JSON_11: &str = "application/x-amz-json-1.1";
const TARGET_PREFIX: &str = "AWSEvents.";

/// The (account, region) of a request: the region from the credential scope, the account from
/// a 12-digit access key id; the configured defaults otherwise.
pub fn request_scope(
    authorization: Option<&str>,
    default_account: &str,
    default_region: &str,
) -> Scope {
    let mut scope = Scope {
        account: default_account.to_string(),
        region: default_region.to_string(),
    };
    let Some(credential) = authorization
        .and_then(|h| h.split_once("Credential="))
        .map(|(_, rest)| rest.split([',', ' ']).next().unwrap_or_default())
    else {
        return scope;
    };
    let parts: Vec<&str> = credential.split('/').collect();
    if let Some(key) = parts.first()
        && key.len() == 12
        && key.bytes().all(|b| b.is_ascii_digit())
    {
        scope.account = key.to_string();
    }
    // SigV4: AKID/date/region/service/aws4_request. SigV4a has no region: keep the default.
    if parts.len() == 5 && !parts[2].is_empty() {
        scope.region = parts[2].to_string();
    }
    scope
}

/// Answers one AWS API request.
pub async fn handle(app: &Arc<App>, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let started = Instant::now();
    let request_id = uuid::Uuid::new_v4().to_string();
    let operation = req
        .headers()
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .and_then(|t| t.strip_prefix(TARGET_PREFIX))
        .map(str::to_string);
    let mut scope = request_scope(
        req.headers()
            .get(hyper::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok()),
        &app.config.account_id,
        &app.config.region,
    );
    // What the signature covers, kept before the body is taken (only when it is checked).
    let signed_parts = app.verifier.as_ref().map(|_| SignedParts::of(&req));
    let result = async {
        let body = read_body(app, operation.as_deref(), req).await?;
        if let (Some(verifier), Some(parts)) = (&app.verifier, &signed_parts) {
            scope = authenticate(verifier, parts, &body, &scope)?;
        }
        let Some(op) = operation.as_deref() else {
            return Err(ApiError::new(
                ErrorCode::UnknownOperation,
                "Missing or unknown X-Amz-Target header; expected AWSEvents.<Operation>.",
            ));
        };
        let body = check_json(body)?;
        crate::ops::dispatch_body(app, &scope, op, body).await
    }
    .await;
    let response = match result {
        Ok(body) => json_body_response(StatusCode::OK, body, &request_id),
        Err(err) => error_response(&err, &request_id),
    };
    tracing::debug!(
        request_id = %request_id,
        operation = operation.as_deref().unwrap_or("-"),
        account = %scope.account,
        region = %scope.region,
        status = response.status().as_u16(),
        micros = started.elapsed().as_micros() as u64,
        "request"
    );
    response
}

/// The method, path, query and headers of a request, for its signature check.
pub struct SignedParts {
    method: String,
    path: String,
    query: Option<String>,
    headers: Vec<(String, String)>,
}

impl SignedParts {
    pub fn of<B>(req: &Request<B>) -> SignedParts {
        SignedParts {
            method: req.method().as_str().to_string(),
            path: req.uri().path().to_string(),
            query: req.uri().query().map(str::to_string),
            headers: req
                .headers()
                .iter()
                .map(|(name, value)| {
                    (
                        name.as_str().to_string(),
                        String::from_utf8_lossy(value.as_bytes()).into_owned(),
                    )
                })
                .collect(),
        }
    }
}

/// Under `--verify-signatures`: the request's (account, region) once its signature holds;
/// AWS's error otherwise. The region of a SigV4a scope (none) stays the default.
pub fn authenticate(
    verifier: &Verifier,
    parts: &SignedParts,
    body: &[u8],
    unverified: &Scope,
) -> Result<Scope, ApiError> {
    let request = SignedRequest {
        method: &parts.method,
        path: &parts.path,
        query: parts.query.as_deref(),
        headers: parts.headers.clone(),
        body,
    };
    match verifier.verify(&request, std::time::SystemTime::now()) {
        Ok(verified) => Ok(Scope {
            account: verified.account,
            region: verified.region.unwrap_or_else(|| unverified.region.clone()),
        }),
        Err(e) => {
            let code = match e {
                AuthError::Missing => ErrorCode::MissingAuthenticationToken,
                AuthError::UnknownKey => ErrorCode::UnrecognizedClient,
                AuthError::Malformed(_) => ErrorCode::IncompleteSignature,
                AuthError::Mismatch | AuthError::Skewed(_) => ErrorCode::InvalidSignature,
            };
            Err(ApiError::new(code, e.code_and_message().1))
        }
    }
}

/// Reads the body, bounded by `--max-body-bytes`.
async fn read_body(
    app: &App,
    operation: Option<&str>,
    req: Request<Incoming>,
) -> Result<Bytes, ApiError> {
    let limit = app.config.max_body_bytes;
    let bytes = match Limited::new(req.into_body(), limit).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e)
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            return Err(if operation == Some("PutEvents") {
                crate::ops::events::over_size_limit()
            } else {
                ApiError::validation(format!(
                    "Request body is larger than the limit of {limit} bytes."
                ))
            });
        }
        Err(e) => {
            return Err(ApiError::new(
                ErrorCode::Serialization,
                format!("Could not read the request body: {e}"),
            ));
        }
    };
    Ok(bytes)
}

/// Checks that the body is a JSON object; handlers deserialize the bytes straight into
/// their typed request (no intermediate `Value` tree: for PutEvents that was a tenth of the
/// CPU).
pub fn check_json(bytes: Bytes) -> Result<Bytes, ApiError> {
    let Some(first) = bytes.iter().find(|b| !b.is_ascii_whitespace()) else {
        // Some clients send nothing for an operation without input.
        return Ok(Bytes::from_static(b"{}"));
    };
    if *first != b'{' {
        return Err(crate::ops::invalid_json(&bytes).unwrap_or_else(|| {
            ApiError::new(
                ErrorCode::Serialization,
                "The request body must be a JSON object.",
            )
        }));
    }
    // The rest is read by the operation's typed parse, which says whether a body it cannot
    // read is JSON at all (`ops::parse`): one pass over the body instead of two.
    Ok(bytes)
}

/// A response of JSON text.
pub fn json_body_response(
    status: StatusCode,
    text: Vec<u8>,
    request_id: &str,
) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(text)));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE_JSON_11));
    if let Ok(id) = HeaderValue::from_str(request_id) {
        headers.insert("x-amzn-requestid", id);
    }
    response
}

pub fn json_response(
    status: StatusCode,
    body: &Value,
    request_id: &str,
    error_type: Option<&str>,
) -> Response<Full<Bytes>> {
    // `to_vec`, not `to_string`: `Value`'s `Display` writes through `fmt::Formatter` a token
    // at a time.
    let text = serde_json::to_vec(body).unwrap_or_default();
    let mut response = json_body_response(status, text, request_id);
    if let Some(code) = error_type.and_then(|c| HeaderValue::from_str(c).ok()) {
        response.headers_mut().insert("x-amzn-errortype", code);
    }
    response
}

/// The one place an [`ApiError`] becomes HTTP.
pub fn error_response(err: &ApiError, request_id: &str) -> Response<Full<Bytes>> {
    let (code, status) = err.code.code_and_status();
    let body = serde_json::json!({ "__type": code, "message": err.message });
    json_response(
        StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
        &body,
        request_id,
        Some(code),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_from_sigv4_credential() {
        let auth = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261128/eu-west-3/events/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=05fa";
        let scope = request_scope(Some(auth), "000000000000", "us-east-1");
        assert_eq!(scope.region, "eu-west-3");
        assert_eq!(scope.account, "000000000000");
    }

    #[test]
    fn twelve_digit_access_key_is_the_account() {
        let auth = "AWS4-HMAC-SHA256 Credential=111122223333/20261128/ap-southeast-2/events/aws4_request, SignedHeaders=host, Signature=00";
        let scope = request_scope(Some(auth), "000000000000", "us-east-1");
        assert_eq!(scope.account, "111122223333");
        assert_eq!(scope.region, "ap-southeast-2");
    }

    #[test]
    fn sigv4a_and_missing_header_use_defaults() {
        let auth = "AWS4-ECDSA-P256-SHA256 Credential=AKID/20261128/events/aws4_request, SignedHeaders=host, Signature=30";
        let scope = request_scope(Some(auth), "000000000000", "us-east-1");
        assert_eq!(scope.region, "us-east-1");
        let scope = request_scope(None, "000000000000", "eu-central-1");
        assert_eq!(scope.region, "eu-central-1");
    }
}
