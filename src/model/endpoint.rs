//! Global endpoints: a primary and a secondary region with a same-named bus in each; PutEvents
//! with the endpoint's id goes to the primary's bus, or the secondary's while the primary is
//! unhealthy, and with replication on to the other one too.

use serde::{Deserialize, Serialize};

use super::Scope;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RoutingConfig {
    pub failover_config: FailoverConfig,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FailoverConfig {
    pub primary: Primary,
    pub secondary: Secondary,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Primary {
    pub health_check: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Secondary {
    pub route: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReplicationConfig {
    pub state: String,
}

impl ReplicationConfig {
    pub fn enabled(&self) -> bool {
        self.state == "ENABLED"
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EndpointEventBus {
    pub event_bus_arn: String,
}

/// One global endpoint, kept under its account and home (primary) region.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Endpoint {
    pub scope: Scope,
    pub name: String,
    pub description: Option<String>,
    pub routing_config: RoutingConfig,
    pub replication_config: ReplicationConfig,
    pub event_buses: Vec<EndpointEventBus>,
    pub role_arn: Option<String>,
    /// The URL subdomain, e.g. `abcde.veo`.
    pub endpoint_id: String,
    /// What the Route 53 health check would say of the primary region; set through
    /// `POST /_local/endpoints/health`.
    pub primary_healthy: bool,
    pub creation_time_ms: i64,
    pub last_modified_time_ms: i64,
}

impl Endpoint {
    pub fn arn(&self) -> String {
        format!(
            "arn:aws:events:{}:{}:endpoint/{}",
            self.scope.region, self.scope.account, self.name
        )
    }

    pub fn url(&self) -> String {
        format!("https://{}.endpoint.events.amazonaws.com", self.endpoint_id)
    }

    pub fn secondary_region(&self) -> &str {
        &self.routing_config.failover_config.secondary.route
    }

    /// The region events go to now: the primary unless it is marked unhealthy.
    pub fn active_region(&self) -> &str {
        if self.primary_healthy {
            &self.scope.region
        } else {
            self.secondary_region()
        }
    }

    /// The other region, which receives a copy of each event when replication is on.
    pub fn standby_region(&self) -> &str {
        if self.primary_healthy {
            self.secondary_region()
        } else {
            &self.scope.region
        }
    }
}
