//! The outbound HTTP client: plain HTTP to local stand-ins of AWS services, SigV4-signed.

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

/// How long one outbound request may take.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// What came back, or why nothing did.
#[derive(Debug)]
pub enum HttpOutcome {
    Response {
        status: u16,
        body: Bytes,
    },
    /// Connection refused, reset, timed out...: worth retrying.
    Transport(String),
}

#[derive(Clone)]
pub struct HttpClient {
    client: Client<HttpConnector, Full<Bytes>>,
    credentials: Credentials,
}

impl HttpClient {
    /// Credentials come from the standard variables, or a dummy pair that local emulators
    /// accept.
    pub fn new() -> HttpClient {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let credentials = Credentials::new(
            var("AWS_ACCESS_KEY_ID").unwrap_or_else(|| "test".into()),
            var("AWS_SECRET_ACCESS_KEY").unwrap_or_else(|| "test".into()),
            var("AWS_SESSION_TOKEN"),
            None,
            "environment",
        );
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(Duration::from_secs(5)));
        HttpClient {
            client: Client::builder(TokioExecutor::new())
                .pool_idle_timeout(Duration::from_secs(30))
                .build(connector),
            credentials,
        }
    }

    /// Sends a SigV4-signed request for `service` in `region`.
    pub async fn send_signed(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, String)],
        body: Bytes,
        service: &str,
        region: &str,
    ) -> HttpOutcome {
        let mut builder = http::Request::builder().method(method).uri(url);
        for (name, value) in headers {
            builder = builder.header(*name, value);
        }
        let mut request = match builder.body(Full::new(body.clone())) {
            Ok(r) => r,
            Err(e) => return HttpOutcome::Transport(format!("bad request to {url}: {e}")),
        };
        if !url.starts_with("http://") {
            return HttpOutcome::Transport(format!(
                "only http:// endpoints are supported, got {url}"
            ));
        }
        if let Err(e) = self.sign(&mut request, service, region, &body) {
            return HttpOutcome::Transport(format!("signing failed: {e}"));
        }
        self.send(request).await
    }

    fn sign(
        &self,
        request: &mut http::Request<Full<Bytes>>,
        service: &str,
        region: &str,
        body: &[u8],
    ) -> Result<(), String> {
        let identity = self.credentials.clone().into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(region)
            .name(service)
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| e.to_string())?
            .into();
        let headers: Vec<(&str, &str)> = request
            .headers()
            .iter()
            .filter_map(|(k, v)| Some((k.as_str(), v.to_str().ok()?)))
            .collect();
        let uri = request.uri().to_string();
        let signable = SignableRequest::new(
            request.method().as_str(),
            &uri,
            headers.into_iter(),
            SignableBody::Bytes(body),
        )
        .map_err(|e| e.to_string())?;
        let (instructions, _) = sign(signable, &params)
            .map_err(|e| e.to_string())?
            .into_parts();
        instructions.apply_to_request_http1x(request);
        Ok(())
    }

    /// Sends an unsigned request (API destinations, OAuth token endpoints).
    pub async fn send(&self, request: http::Request<Full<Bytes>>) -> HttpOutcome {
        match tokio::time::timeout(REQUEST_TIMEOUT, self.client.request(request)).await {
            Err(_) => {
                HttpOutcome::Transport(format!("no answer within {} s", REQUEST_TIMEOUT.as_secs()))
            }
            Ok(Err(e)) => HttpOutcome::Transport(format!("{e:?}")),
            Ok(Ok(response)) => {
                let status = response.status().as_u16();
                match response.into_body().collect().await {
                    Ok(body) => HttpOutcome::Response {
                        status,
                        body: body.to_bytes(),
                    },
                    Err(e) => HttpOutcome::Transport(format!("reading the response failed: {e}")),
                }
            }
        }
    }
}

impl Default for HttpClient {
    fn default() -> Self {
        Self::new()
    }
}
