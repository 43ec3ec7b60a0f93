//! The bench's HTTP client of the server: the AWS JSON protocol, unsigned, over a pool of
//! connections shared by the load tasks.

use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};

#[derive(Clone)]
pub struct Api {
    addr: SocketAddr,
    client: Client<HttpConnector, Full<Bytes>>,
}

impl Api {
    /// A client keeping up to `connections` idle connections, one per load task.
    pub fn new(addr: SocketAddr, connections: usize) -> Api {
        Api {
            addr,
            client: Client::builder(TokioExecutor::new())
                .pool_max_idle_per_host(connections)
                .build_http(),
        }
    }

    /// An operation with a ready body; the load generators judge the answer themselves.
    pub async fn send(&self, operation: &str, body: Bytes) -> Result<(u16, Bytes), String> {
        let request = http::Request::builder()
            .method("POST")
            .uri(format!("http://{}/", self.addr))
            .header("content-type", "application/x-amz-json-1.1")
            .header("x-amz-target", format!("AWSEvents.{operation}"))
            .body(Full::new(body))
            .unwrap();
        let response = self
            .client
            .request(request)
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        Ok((status, bytes))
    }

    /// An operation that must succeed.
    pub async fn call(&self, operation: &str, body: Value) -> Value {
        let (status, bytes) = self
            .send(operation, Bytes::from(body.to_string()))
            .await
            .unwrap_or_else(|e| panic!("{operation}: {e}"));
        let value: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        assert_eq!(status, 200, "{operation} answered {status}: {value}");
        value
    }

    /// A `/_local/…` page as JSON; `Null` when it cannot be had.
    pub async fn get(&self, path: &str) -> Value {
        let request = http::Request::builder()
            .uri(format!("http://{}{path}", self.addr))
            .body(Full::new(Bytes::new()))
            .unwrap();
        match self.client.request(request).await {
            Ok(response) => {
                let bytes = response.into_body().collect().await.map(|b| b.to_bytes());
                bytes
                    .ok()
                    .and_then(|b| serde_json::from_slice(&b).ok())
                    .unwrap_or(Value::Null)
            }
            Err(_) => Value::Null,
        }
    }

    pub async fn event_count(&self, archive: &str) -> u64 {
        self.call("DescribeArchive", json!({"ArchiveName": archive}))
            .await["EventCount"]
            .as_u64()
            .unwrap_or(0)
    }
}
