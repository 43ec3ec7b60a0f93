//! What a delivery attempt reaches out with: the HTTP client, where each AWS service lives,
//! and the connections of API destinations. Target kinds take this, not the whole server.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use super::http::HttpClient;
use super::job::Failure;
use crate::config::Endpoints;
use crate::destinations::Destinations;

pub struct Outbound {
    pub client: HttpClient,
    pub endpoints: Endpoints,
    pub destinations: Arc<Destinations>,
    /// Services whose missing endpoint was already logged (once each is enough).
    warned_services: Mutex<HashSet<String>>,
}

impl Outbound {
    pub fn new(endpoints: Endpoints, destinations: Arc<Destinations>) -> Outbound {
        Outbound {
            client: HttpClient::new(),
            endpoints,
            destinations,
            warned_services: Mutex::new(HashSet::new()),
        }
    }

    /// The endpoint of `service`, or a failure naming the variable to set (logged once).
    pub fn endpoint(&self, service: &str) -> Result<String, Failure> {
        match self.endpoints.get(service) {
            Some(url) => Ok(url.to_string()),
            None => {
                let variable = Endpoints::variable_for(service);
                let mut warned = self
                    .warned_services
                    .lock()
                    .unwrap_or_else(|e| e.into_inner());
                if warned.insert(service.to_string()) {
                    tracing::warn!(
                        "no endpoint for {service} targets: set {variable} (or AWS_ENDPOINT_URL, or --endpoint {service}=URL)"
                    );
                }
                Err(Failure::permanent(format!(
                    "no endpoint configured for {service}: set {variable} or AWS_ENDPOINT_URL"
                )))
            }
        }
    }
}
