//! Global endpoints: CreateEndpoint, DescribeEndpoint, ListEndpoints, UpdateEndpoint,
//! DeleteEndpoint, and where PutEvents with an `EndpointId` puts its events.
//!
//! An endpoint lives in its home region, which is its primary region; `Secondary.Route` names
//! the other one, and `EventBuses` a same-named bus in each (AWS: "The names of the event buses
//! must be identical in each Region"). There is no Route 53 here: `POST /_local/endpoints/health`
//! marks the primary unhealthy or healthy. The transitional states (CREATING, UPDATING) are
//! those of the answers to CreateEndpoint and UpdateEndpoint; the change is done when they
//! answer, so every later read sees ACTIVE.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Empty, paginate};
use crate::app::App;
use crate::error::ApiError;
use crate::model::endpoint::{
    Endpoint, EndpointEventBus, FailoverConfig, Primary, ReplicationConfig, RoutingConfig,
    Secondary,
};
use crate::model::time::{Epoch, now_ms};
use crate::model::{Scope, arn};
use crate::ops::constraints::{
    ENDPOINT_DESCRIPTION, ENDPOINT_EVENT_BUS_LIST, ENDPOINT_NAME, HEALTH_CHECK, HOME_REGION,
    IAM_ROLE_ARN, LIMIT_MAX100, NEXT_TOKEN, NON_PARTNER_EVENT_BUS_ARN, ROUTE,
};
use crate::validate::Validator;

const REPLICATION_STATES: [&str; 2] = ["ENABLED", "DISABLED"];

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RoutingConfigInput {
    failover_config: Option<FailoverConfigInput>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FailoverConfigInput {
    primary: Option<PrimaryInput>,
    secondary: Option<SecondaryInput>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PrimaryInput {
    health_check: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SecondaryInput {
    route: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReplicationConfigInput {
    state: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EndpointEventBusInput {
    event_bus_arn: Option<String>,
}

/// The members CreateEndpoint and UpdateEndpoint share.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EndpointRequest {
    name: Option<String>,
    description: Option<String>,
    routing_config: Option<RoutingConfigInput>,
    replication_config: Option<ReplicationConfigInput>,
    event_buses: Option<Vec<EndpointEventBusInput>>,
    role_arn: Option<String>,
}

/// Checks the members against the model (`required` for CreateEndpoint's required ones) and
/// returns them typed, `None` where absent.
fn check_request(
    v: &mut Validator,
    req: EndpointRequest,
    create: bool,
) -> (
    String,
    Option<RoutingConfig>,
    Option<ReplicationConfig>,
    Option<Vec<EndpointEventBus>>,
) {
    v.required(&req.name, "name");
    v.string(req.name.as_deref(), "name", &ENDPOINT_NAME);
    v.string(
        req.description.as_deref(),
        "description",
        &ENDPOINT_DESCRIPTION,
    );
    if create {
        v.required(&req.routing_config, "routingConfig");
        v.required(&req.event_buses, "eventBuses");
    }
    let routing = req.routing_config.map(|r| check_routing(v, r));
    let replication = req.replication_config.map(|r| {
        v.one_of(
            r.state.as_deref(),
            "replicationConfig.state",
            &REPLICATION_STATES,
        );
        ReplicationConfig {
            // Absent State: the default, ENABLED.
            state: r.state.unwrap_or_else(|| "ENABLED".into()),
        }
    });
    let buses = req.event_buses.map(|buses| {
        v.list(buses.len(), "eventBuses", &ENDPOINT_EVENT_BUS_LIST);
        buses
            .into_iter()
            .enumerate()
            .map(|(i, bus)| {
                let path = format!("eventBuses.{}.member.eventBusArn", i + 1);
                v.required(&bus.event_bus_arn, &path);
                v.string(
                    bus.event_bus_arn.as_deref(),
                    &path,
                    &NON_PARTNER_EVENT_BUS_ARN,
                );
                EndpointEventBus {
                    event_bus_arn: bus.event_bus_arn.unwrap_or_default(),
                }
            })
            .collect()
    });
    v.string(req.role_arn.as_deref(), "roleArn", &IAM_ROLE_ARN);
    (req.name.unwrap_or_default(), routing, replication, buses)
}

fn check_routing(v: &mut Validator, routing: RoutingConfigInput) -> RoutingConfig {
    const FAILOVER: &str = "routingConfig.failoverConfig";
    v.required(&routing.failover_config, FAILOVER);
    let failover = routing.failover_config.unwrap_or(FailoverConfigInput {
        primary: None,
        secondary: None,
    });
    let mut health_check = None;
    let mut route = None;
    if v.required(&failover.primary, &format!("{FAILOVER}.primary")) {
        health_check = failover.primary.and_then(|p| p.health_check);
        let path = format!("{FAILOVER}.primary.healthCheck");
        v.required(&health_check, &path);
        v.string(health_check.as_deref(), &path, &HEALTH_CHECK);
    }
    if v.required(&failover.secondary, &format!("{FAILOVER}.secondary")) {
        route = failover.secondary.and_then(|s| s.route);
        let path = format!("{FAILOVER}.secondary.route");
        v.required(&route, &path);
        v.string(route.as_deref(), &path, &ROUTE);
    }
    RoutingConfig {
        failover_config: FailoverConfig {
            primary: Primary {
                health_check: health_check.unwrap_or_default(),
            },
            secondary: Secondary {
                route: route.unwrap_or_default(),
            },
        },
    }
}

/// What the model cannot say: the secondary region differs from the home (primary) region,
/// there is one bus in each, of the caller's account and of one name, and replication has a
/// role. (AWS's messages for these are not recorded; these say what is wrong.)
fn check_topology(endpoint: &Endpoint) -> Result<(), ApiError> {
    let home = &endpoint.scope;
    let secondary = endpoint.secondary_region();
    if secondary == home.region {
        return Err(ApiError::validation(format!(
            "The secondary Region {secondary} must differ from the endpoint's primary Region {}.",
            home.region
        )));
    }
    let mut names = Vec::new();
    let mut regions = Vec::new();
    for bus in &endpoint.event_buses {
        let Some((scope, name)) = arn::parse_event_bus(&bus.event_bus_arn) else {
            return Err(ApiError::validation(format!(
                "{} is not an event bus ARN.",
                bus.event_bus_arn
            )));
        };
        if scope.account != home.account {
            return Err(ApiError::validation(format!(
                "Event bus {} must be in account {}.",
                bus.event_bus_arn, home.account
            )));
        }
        names.push(name);
        regions.push(scope.region);
    }
    regions.sort();
    let mut expected = vec![home.region.clone(), secondary.to_string()];
    expected.sort();
    if regions != expected {
        return Err(ApiError::validation(format!(
            "EventBuses must name one event bus in the primary Region {} and one in the secondary Region {secondary}.",
            home.region
        )));
    }
    if names.first() != names.last() {
        return Err(ApiError::validation(
            "The names of the event buses must be identical in each Region.",
        ));
    }
    if endpoint.replication_config.enabled() && endpoint.role_arn.is_none() {
        return Err(ApiError::validation(
            "A RoleArn is required when event replication is ENABLED.",
        ));
    }
    Ok(())
}

/// A new endpoint id, like AWS's `abcde.veo`: lowercase, as the endpoint URL is.
fn new_endpoint_id() -> String {
    use rand::Rng;
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::thread_rng();
    let mut part = |n: usize| -> String {
        (0..n)
            .map(|_| char::from(CHARS[rng.gen_range(0..CHARS.len())]))
            .collect()
    };
    let head = part(10);
    format!("{head}.{}", part(3))
}

/// CreateEndpoint's answer.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateEndpointResponse {
    name: String,
    arn: String,
    routing_config: RoutingConfig,
    replication_config: ReplicationConfig,
    event_buses: Vec<EndpointEventBus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    role_arn: Option<String>,
    state: &'static str,
}

pub async fn create_endpoint(
    app: &App,
    scope: &Scope,
    req: EndpointRequest,
) -> Result<CreateEndpointResponse, ApiError> {
    let mut v = Validator::new();
    let description = req.description.clone();
    let role_arn = req.role_arn.clone();
    let (name, routing, replication, buses) = check_request(&mut v, req, true);
    v.finish()?;
    let now = now_ms();
    let endpoint = Endpoint {
        scope: scope.clone(),
        name,
        description,
        routing_config: routing.expect("checked: required"),
        replication_config: replication.unwrap_or(ReplicationConfig {
            state: "ENABLED".into(),
        }),
        event_buses: buses.expect("checked: required"),
        role_arn,
        endpoint_id: new_endpoint_id(),
        primary_healthy: true,
        creation_time_ms: now,
        last_modified_time_ms: now,
    };
    check_topology(&endpoint)?;
    let endpoint = app.catalog.create_endpoint(endpoint)?;
    app.store.flush().await.map_err(ApiError::storage)?;
    Ok(CreateEndpointResponse {
        arn: endpoint.arn(),
        name: endpoint.name,
        routing_config: endpoint.routing_config,
        replication_config: endpoint.replication_config,
        event_buses: endpoint.event_buses,
        role_arn: endpoint.role_arn,
        state: "CREATING",
    })
}

/// `Endpoint`, as DescribeEndpoint and ListEndpoints answer it.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EndpointItem {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    arn: String,
    routing_config: RoutingConfig,
    replication_config: ReplicationConfig,
    event_buses: Vec<EndpointEventBus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    role_arn: Option<String>,
    endpoint_id: String,
    endpoint_url: String,
    state: &'static str,
    creation_time: Epoch,
    last_modified_time: Epoch,
}

impl From<Endpoint> for EndpointItem {
    fn from(e: Endpoint) -> Self {
        EndpointItem {
            arn: e.arn(),
            endpoint_url: e.url(),
            name: e.name,
            description: e.description,
            routing_config: e.routing_config,
            replication_config: e.replication_config,
            event_buses: e.event_buses,
            role_arn: e.role_arn,
            endpoint_id: e.endpoint_id,
            state: "ACTIVE",
            creation_time: Epoch(e.creation_time_ms),
            last_modified_time: Epoch(e.last_modified_time_ms),
        }
    }
}

/// The scope an endpoint request means: the caller's region, or `HomeRegion`.
fn home_scope(scope: &Scope, home_region: Option<String>) -> Scope {
    Scope {
        account: scope.account.clone(),
        region: home_region.unwrap_or_else(|| scope.region.clone()),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeEndpointRequest {
    name: Option<String>,
    home_region: Option<String>,
}

pub async fn describe_endpoint(
    app: &App,
    scope: &Scope,
    req: DescribeEndpointRequest,
) -> Result<EndpointItem, ApiError> {
    let mut v = Validator::new();
    v.required(&req.name, "name");
    v.string(req.name.as_deref(), "name", &ENDPOINT_NAME);
    v.string(req.home_region.as_deref(), "homeRegion", &HOME_REGION);
    v.finish()?;
    let home = home_scope(scope, req.home_region);
    let endpoint = app
        .catalog
        .endpoint(&home, req.name.as_deref().unwrap_or_default())?;
    Ok(endpoint.into())
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListEndpointsRequest {
    name_prefix: Option<String>,
    home_region: Option<String>,
    next_token: Option<String>,
    max_results: Option<i64>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListEndpointsResponse {
    endpoints: Vec<EndpointItem>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

pub async fn list_endpoints(
    app: &App,
    scope: &Scope,
    req: ListEndpointsRequest,
) -> Result<ListEndpointsResponse, ApiError> {
    let mut v = Validator::new();
    v.string(req.name_prefix.as_deref(), "namePrefix", &ENDPOINT_NAME);
    v.string(req.home_region.as_deref(), "homeRegion", &HOME_REGION);
    v.string(req.next_token.as_deref(), "nextToken", &NEXT_TOKEN);
    v.integer(req.max_results, "maxResults", &LIMIT_MAX100);
    v.finish()?;
    let home = home_scope(scope, req.home_region);
    let endpoints = app.catalog.endpoints(&home, req.name_prefix.as_deref());
    let (page, next_token) = paginate(
        "ListEndpoints",
        endpoints,
        req.next_token.as_deref(),
        req.max_results,
    )?;
    Ok(ListEndpointsResponse {
        endpoints: page.into_iter().map(Into::into).collect(),
        next_token,
    })
}

/// UpdateEndpoint's answer.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateEndpointResponse {
    name: String,
    arn: String,
    routing_config: RoutingConfig,
    replication_config: ReplicationConfig,
    event_buses: Vec<EndpointEventBus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    role_arn: Option<String>,
    endpoint_id: String,
    endpoint_url: String,
    state: &'static str,
}

/// UpdateEndpoint: the members given replace the endpoint's; the others stay.
pub async fn update_endpoint(
    app: &App,
    scope: &Scope,
    req: EndpointRequest,
) -> Result<UpdateEndpointResponse, ApiError> {
    let mut v = Validator::new();
    let description = req.description.clone();
    let role_arn = req.role_arn.clone();
    let (name, routing, replication, buses) = check_request(&mut v, req, false);
    v.finish()?;
    let endpoint = app.catalog.update_endpoint(scope, &name, |e| {
        if description.is_some() {
            e.description = description;
        }
        if let Some(routing) = routing {
            e.routing_config = routing;
        }
        if let Some(replication) = replication {
            e.replication_config = replication;
        }
        if let Some(buses) = buses {
            e.event_buses = buses;
        }
        if role_arn.is_some() {
            e.role_arn = role_arn;
        }
        e.last_modified_time_ms = now_ms();
        check_topology(e)
    })?;
    app.store.flush().await.map_err(ApiError::storage)?;
    Ok(UpdateEndpointResponse {
        arn: endpoint.arn(),
        endpoint_url: endpoint.url(),
        name: endpoint.name,
        routing_config: endpoint.routing_config,
        replication_config: endpoint.replication_config,
        event_buses: endpoint.event_buses,
        role_arn: endpoint.role_arn,
        endpoint_id: endpoint.endpoint_id,
        state: "UPDATING",
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteEndpointRequest {
    name: Option<String>,
}

pub async fn delete_endpoint(
    app: &App,
    scope: &Scope,
    req: DeleteEndpointRequest,
) -> Result<Empty, ApiError> {
    let mut v = Validator::new();
    v.required(&req.name, "name");
    v.string(req.name.as_deref(), "name", &ENDPOINT_NAME);
    v.finish()?;
    app.catalog
        .delete_endpoint(scope, req.name.as_deref().unwrap_or_default())?;
    app.store.flush().await.map_err(ApiError::storage)?;
    Ok(Empty {})
}

/// Where PutEvents with an `EndpointId` puts its events.
pub struct EndpointRoute {
    /// Account and region of the bus that receives the events now.
    pub active: Scope,
    /// The other region's, which gets a copy when replication is on.
    pub replica: Option<Scope>,
    /// The endpoint's bus name, for entries that name none.
    pub bus: String,
    /// The endpoint's ARN, which AWS adds to the `resources` of replicated events.
    pub arn: String,
}

impl EndpointRoute {
    /// The bus an entry goes to: its own `EventBusName` (a name, or an ARN whose name is
    /// taken: the endpoint picks the region), else the endpoint's bus.
    pub fn bus_for(&self, entry_bus: Option<&str>) -> String {
        match entry_bus {
            None => self.bus.clone(),
            Some(text) => arn::parse_event_bus(text)
                .map(|(_, name)| name)
                .unwrap_or_else(|| text.to_string()),
        }
    }

    /// The copy of an event for the replica region: the same envelope (AWS keeps the source
    /// region in `region`) with the endpoint's ARN added to `resources`.
    pub fn replicated(&self, envelope: &Value) -> Value {
        let mut copy = envelope.clone();
        if let Some(resources) = copy.get_mut("resources").and_then(Value::as_array_mut) {
            resources.push(Value::from(self.arn.clone()));
        }
        copy
    }
}

/// The route of the caller's endpoint with this id. An unknown id has no DNS name in AWS, so
/// no request would reach EventBridge; here it is a ResourceNotFoundException.
pub fn route(app: &App, scope: &Scope, endpoint_id: &str) -> Result<EndpointRoute, ApiError> {
    let endpoint = app
        .catalog
        .endpoint_by_id(&scope.account, endpoint_id)
        .ok_or_else(|| ApiError::not_found(format!("Endpoint {endpoint_id} does not exist.")))?;
    let in_region = |region: &str| Scope {
        account: endpoint.scope.account.clone(),
        region: region.to_string(),
    };
    let bus = endpoint
        .event_buses
        .first()
        .and_then(|b| arn::parse_event_bus(&b.event_bus_arn))
        .map_or_else(|| "default".to_string(), |(_, name)| name);
    Ok(EndpointRoute {
        active: in_region(endpoint.active_region()),
        replica: endpoint
            .replication_config
            .enabled()
            .then(|| in_region(endpoint.standby_region())),
        bus,
        arn: endpoint.arn(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(buses: [&str; 2], secondary: &str, role: Option<&str>) -> Endpoint {
        Endpoint {
            scope: Scope {
                account: "123456789012".into(),
                region: "us-east-1".into(),
            },
            name: "ep".into(),
            description: None,
            routing_config: RoutingConfig {
                failover_config: FailoverConfig {
                    primary: Primary {
                        health_check: "arn:aws:route53:::healthcheck/x".into(),
                    },
                    secondary: Secondary {
                        route: secondary.into(),
                    },
                },
            },
            replication_config: ReplicationConfig {
                state: "ENABLED".into(),
            },
            event_buses: buses
                .iter()
                .map(|arn| EndpointEventBus {
                    event_bus_arn: arn.to_string(),
                })
                .collect(),
            role_arn: role.map(str::to_string),
            endpoint_id: new_endpoint_id(),
            primary_healthy: true,
            creation_time_ms: 0,
            last_modified_time_ms: 0,
        }
    }

    const EAST: &str = "arn:aws:events:us-east-1:123456789012:event-bus/orders";
    const WEST: &str = "arn:aws:events:us-west-2:123456789012:event-bus/orders";
    const ROLE: Option<&str> = Some("arn:aws:iam::123456789012:role/r");

    #[test]
    fn topology_needs_one_bus_per_region_of_one_name_and_a_role() {
        assert!(check_topology(&endpoint([WEST, EAST], "us-west-2", ROLE)).is_ok());
        assert!(check_topology(&endpoint([EAST, WEST], "us-east-1", ROLE)).is_err());
        assert!(check_topology(&endpoint([EAST, EAST], "us-west-2", ROLE)).is_err());
        assert!(check_topology(&endpoint([EAST, WEST], "us-west-2", None)).is_err());
        let other_name = "arn:aws:events:us-west-2:123456789012:event-bus/other";
        assert!(check_topology(&endpoint([EAST, other_name], "us-west-2", ROLE)).is_err());
        let other_account = "arn:aws:events:us-west-2:210987654321:event-bus/orders";
        assert!(check_topology(&endpoint([EAST, other_account], "us-west-2", ROLE)).is_err());
        let mut unreplicated = endpoint([EAST, WEST], "us-west-2", None);
        unreplicated.replication_config.state = "DISABLED".into();
        assert!(check_topology(&unreplicated).is_ok());
    }

    #[test]
    fn endpoint_ids_fit_the_model_and_the_url() {
        let id = new_endpoint_id();
        assert!(
            crate::ops::constraints::ENDPOINT_ID
                .pattern
                .as_ref()
                .unwrap()
                .is_match(&id)
        );
        let e = endpoint([EAST, WEST], "us-west-2", ROLE);
        assert_eq!(
            e.url(),
            format!("https://{}.endpoint.events.amazonaws.com", e.endpoint_id)
        );
        assert_ne!(new_endpoint_id(), id);
    }

    #[test]
    fn failover_swaps_active_and_standby_regions() {
        let mut e = endpoint([EAST, WEST], "us-west-2", ROLE);
        assert_eq!(
            (e.active_region(), e.standby_region()),
            ("us-east-1", "us-west-2")
        );
        e.primary_healthy = false;
        assert_eq!(
            (e.active_region(), e.standby_region()),
            ("us-west-2", "us-east-1")
        );
    }

    #[test]
    fn replicas_name_the_endpoint_and_entries_keep_their_bus_name() {
        let route = EndpointRoute {
            active: Scope {
                account: "123456789012".into(),
                region: "us-west-2".into(),
            },
            replica: None,
            bus: "orders".into(),
            arn: "arn:aws:events:us-east-1:123456789012:endpoint/ep".into(),
        };
        assert_eq!(route.bus_for(None), "orders");
        assert_eq!(route.bus_for(Some("audit")), "audit");
        assert_eq!(route.bus_for(Some(EAST)), "orders");
        let copy =
            route.replicated(&serde_json::json!({"region": "us-east-1", "resources": ["r"]}));
        assert_eq!(
            copy,
            serde_json::json!({"region": "us-east-1", "resources": ["r", route.arn]})
        );
    }
}
