//! Connections and API destinations: the resources as stored, kept in memory and written
//! through to the store on every change (a `WriteThroughMap` each), plus the runtime state
//! their deliveries share (OAuth tokens, rate-limit pacing).
//!
//! Kept apart from [`crate::catalog`]: nothing here takes part in routing, and a connection's
//! secrets never leave this module and delivery (Describe/List see [`AuthParameters::redacted`]).
//! Locks are never held across an `.await`: callers flush the store afterwards.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::ApiError;
use crate::model::Scope;
use crate::model::time::now_ms;
use crate::store::{Collection, Store, StoreError};
use crate::write_through::{NameKey, WriteThroughMap};

// ---------------------------------------------------------------- model

/// One key/value of a connection's `InvocationHttpParameters` or `OAuthHttpParameters`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HttpParam {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_value_secret: Option<bool>,
}

impl HttpParam {
    fn redacted(&self) -> HttpParam {
        if self.is_value_secret == Some(true) {
            HttpParam {
                value: None,
                ..self.clone()
            }
        } else {
            self.clone()
        }
    }

    /// (key, value) when both are there.
    pub fn pair(&self) -> Option<(&str, &str)> {
        Some((self.key.as_deref()?, self.value.as_deref()?))
    }
}

/// `ConnectionHttpParameters`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HttpParameters {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub header_parameters: Option<Vec<HttpParam>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query_string_parameters: Option<Vec<HttpParam>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_parameters: Option<Vec<HttpParam>>,
}

impl HttpParameters {
    fn redacted(&self) -> HttpParameters {
        let redact = |list: &Option<Vec<HttpParam>>| {
            list.as_ref()
                .map(|l| l.iter().map(HttpParam::redacted).collect())
        };
        HttpParameters {
            header_parameters: redact(&self.header_parameters),
            query_string_parameters: redact(&self.query_string_parameters),
            body_parameters: redact(&self.body_parameters),
        }
    }

    pub fn headers(&self) -> impl Iterator<Item = (&str, &str)> {
        self.header_parameters
            .iter()
            .flatten()
            .filter_map(HttpParam::pair)
    }

    pub fn query(&self) -> impl Iterator<Item = (&str, &str)> {
        self.query_string_parameters
            .iter()
            .flatten()
            .filter_map(HttpParam::pair)
    }

    pub fn body(&self) -> impl Iterator<Item = (&str, &str)> {
        self.body_parameters
            .iter()
            .flatten()
            .filter_map(HttpParam::pair)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ApiKeyAuth {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_key_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_key_value: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct BasicAuth {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OAuthClient {
    #[serde(rename = "ClientID", skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(rename = "ClientSecret", skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OAuthParams {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_parameters: Option<OAuthClient>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization_endpoint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_method: Option<String>,
    #[serde(
        rename = "OAuthHttpParameters",
        skip_serializing_if = "Option::is_none"
    )]
    pub oauth_http_parameters: Option<HttpParameters>,
}

/// `AuthParameters` of a connection, as the client gave them (secrets included).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AuthParameters {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub basic_auth_parameters: Option<BasicAuth>,
    #[serde(rename = "OAuthParameters", skip_serializing_if = "Option::is_none")]
    pub oauth_parameters: Option<OAuthParams>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_key_auth_parameters: Option<ApiKeyAuth>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invocation_http_parameters: Option<HttpParameters>,
    /// Private-API connectivity: kept and shown, never used (no VPC Lattice here).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connectivity_parameters: Option<Value>,
}

impl AuthParameters {
    /// What DescribeConnection shows: no `ApiKeyValue`, `Password`, `ClientSecret`, nor the
    /// value of any parameter marked `IsValueSecret` (AWS keeps all of these in Secrets
    /// Manager and answers with the rest). A secret parameter keeps its `Key` and
    /// `IsValueSecret`; whether AWS shows those too is not documented.
    pub fn redacted(&self) -> AuthParameters {
        AuthParameters {
            basic_auth_parameters: self.basic_auth_parameters.as_ref().map(|b| BasicAuth {
                username: b.username.clone(),
                password: None,
            }),
            oauth_parameters: self.oauth_parameters.as_ref().map(|o| OAuthParams {
                client_parameters: o.client_parameters.as_ref().map(|c| OAuthClient {
                    client_id: c.client_id.clone(),
                    client_secret: None,
                }),
                authorization_endpoint: o.authorization_endpoint.clone(),
                http_method: o.http_method.clone(),
                oauth_http_parameters: o.oauth_http_parameters.as_ref().map(|p| p.redacted()),
            }),
            api_key_auth_parameters: self.api_key_auth_parameters.as_ref().map(|a| ApiKeyAuth {
                api_key_name: a.api_key_name.clone(),
                api_key_value: None,
            }),
            invocation_http_parameters: self
                .invocation_http_parameters
                .as_ref()
                .map(HttpParameters::redacted),
            connectivity_parameters: self.connectivity_parameters.clone(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConnectionState {
    #[serde(rename = "CREATING")]
    Creating,
    #[serde(rename = "UPDATING")]
    Updating,
    #[serde(rename = "DELETING")]
    Deleting,
    #[serde(rename = "AUTHORIZED")]
    Authorized,
    #[serde(rename = "DEAUTHORIZED")]
    Deauthorized,
    #[serde(rename = "AUTHORIZING")]
    Authorizing,
    #[serde(rename = "DEAUTHORIZING")]
    Deauthorizing,
    #[serde(rename = "ACTIVE")]
    Active,
    #[serde(rename = "FAILED_CONNECTIVITY")]
    FailedConnectivity,
}

impl ConnectionState {
    pub const VALUES: [&'static str; 9] = [
        "CREATING",
        "UPDATING",
        "DELETING",
        "AUTHORIZED",
        "DEAUTHORIZED",
        "AUTHORIZING",
        "DEAUTHORIZING",
        "ACTIVE",
        "FAILED_CONNECTIVITY",
    ];

    pub fn as_str(self) -> &'static str {
        Self::VALUES[self as usize]
    }
}

pub const AUTHORIZATION_TYPES: [&str; 3] = ["BASIC", "OAUTH_CLIENT_CREDENTIALS", "API_KEY"];
pub const OAUTH_HTTP_METHODS: [&str; 3] = ["GET", "POST", "PUT"];
/// In the order AWS's validation message lists them (not the model's order).
pub const API_DESTINATION_HTTP_METHODS: [&str; 7] =
    ["HEAD", "POST", "PATCH", "DELETE", "PUT", "GET", "OPTIONS"];

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Connection {
    pub scope: Scope,
    pub name: String,
    /// The ARN's last segment: a re-created connection of the same name is another one.
    pub uuid: String,
    /// The secret's own uuid (AWS's is not the connection's); empty in data stored before
    /// it was kept, where the connection's uuid stands in.
    #[serde(default)]
    pub secret_uuid: String,
    /// The 6 characters Secrets Manager appends to the secret's name.
    pub secret_suffix: String,
    pub description: Option<String>,
    pub authorization_type: String,
    pub auth: AuthParameters,
    pub invocation_connectivity_parameters: Option<Value>,
    pub kms_key_identifier: Option<String>,
    pub state: ConnectionState,
    pub state_reason: Option<String>,
    pub creation_time_ms: i64,
    pub last_modified_time_ms: i64,
    pub last_authorized_time_ms: Option<i64>,
}

impl Connection {
    pub fn arn(&self) -> String {
        format!(
            "arn:aws:events:{}:{}:connection/{}/{}",
            self.scope.region, self.scope.account, self.name, self.uuid
        )
    }

    pub fn secret_arn(&self) -> String {
        format!(
            "arn:aws:secretsmanager:{}:{}:secret:events!connection/{}/{}-{}",
            self.scope.region,
            self.scope.account,
            self.name,
            if self.secret_uuid.is_empty() {
                &self.uuid
            } else {
                &self.secret_uuid
            },
            self.secret_suffix
        )
    }

    /// The state a connection has right after it was created or its authorization changed:
    /// Basic and API key connections need nothing more (AWS passes through CREATING or
    /// AUTHORIZING for a moment; here the change is complete when the call returns). An OAuth
    /// connection is AUTHORIZING until its first token was fetched, which happens lazily at its
    /// first delivery (AWS fetches it in the background right away).
    pub fn initial_state(&self) -> ConnectionState {
        if self.authorization_type == "OAUTH_CLIENT_CREDENTIALS" {
            ConnectionState::Authorizing
        } else {
            ConnectionState::Authorized
        }
    }

    /// Whether deliveries through the connection are refused.
    pub fn is_deauthorized(&self) -> bool {
        matches!(
            self.state,
            ConnectionState::Deauthorized | ConnectionState::Deauthorizing
        )
    }
}

/// Six characters of Secrets Manager's suffix alphabet.
pub fn secret_suffix() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::thread_rng();
    (0..6)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

/// AWS's default when `InvocationRateLimitPerSecond` is not given.
pub const DEFAULT_RATE_LIMIT: i64 = 300;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApiDestination {
    pub scope: Scope,
    pub name: String,
    pub uuid: String,
    pub description: Option<String>,
    pub connection_arn: String,
    pub invocation_endpoint: String,
    pub http_method: String,
    pub invocation_rate_limit_per_second: i64,
    pub creation_time_ms: i64,
    pub last_modified_time_ms: i64,
}

impl ApiDestination {
    pub fn arn(&self) -> String {
        format!(
            "arn:aws:events:{}:{}:api-destination/{}/{}",
            self.scope.region, self.scope.account, self.name, self.uuid
        )
    }
}

/// `(scope, name, uuid)` of a `connection/{name}/{uuid}` or `api-destination/{name}/{uuid}`
/// ARN.
pub fn parse_arn<'a>(arn: &'a str, kind: &str) -> Option<(Scope, &'a str, &'a str)> {
    let parsed = crate::model::arn::parse(arn)?;
    if parsed.service != "events" {
        return None;
    }
    let rest = parsed.resource.strip_prefix(kind)?.strip_prefix('/')?;
    let (name, uuid) = rest.split_once('/')?;
    Some((
        Scope {
            account: parsed.account.to_string(),
            region: parsed.region.to_string(),
        },
        name,
        uuid,
    ))
}

// ---------------------------------------------------------------- errors

/// DescribeConnection's text, as recorded on AWS (wire-protocol.md §7).
pub fn connection_not_found_on_describe(name: &str) -> ApiError {
    ApiError::not_found(format!(
        "Failed to describe the connection(s). Connection '{name}' does not exist."
    ))
}

/// The other connection operations' text: recorded for UpdateConnection; DeleteConnection and
/// DeauthorizeConnection are assumed to answer the same (not recorded).
pub fn connection_not_found(name: &str) -> ApiError {
    ApiError::not_found(format!("Connection '{name}' does not exist."))
}

/// DescribeApiDestination's text, as recorded on AWS (wire-protocol.md §7).
pub fn api_destination_not_found_on_describe(name: &str) -> ApiError {
    ApiError::not_found(format!(
        "Failed to describe the api-destination(s). An api-destination '{name}' does not exist."
    ))
}

/// Update and DeleteApiDestination: not recorded; the describe text without its "Failed to
/// describe" preamble, as the connection operations answer.
pub fn api_destination_not_found(name: &str) -> ApiError {
    ApiError::not_found(format!("An api-destination '{name}' does not exist."))
}

/// Not in the reference captures: modelled on the other `... already exists.` messages.
pub fn connection_exists(name: &str) -> ApiError {
    ApiError::already_exists(format!("Connection {name} already exists."))
}

/// Not in the reference captures: modelled on the api-destination not-found message.
pub fn api_destination_exists(name: &str) -> ApiError {
    ApiError::already_exists(format!("An api-destination '{name}' already exists."))
}

// ---------------------------------------------------------------- registry

struct Data {
    connections: WriteThroughMap<NameKey, Connection>,
    api_destinations: WriteThroughMap<NameKey, ApiDestination>,
}

/// A cached OAuth access token of one connection (by connection ARN).
#[derive(Debug, Clone)]
pub struct Token {
    pub access_token: String,
    /// `None`: the endpoint gave no `expires_in`; kept until a 401/407 says otherwise.
    pub expires_at: Option<Instant>,
}

pub struct Destinations {
    store: Store,
    data: RwLock<Data>,
    /// OAuth tokens by connection ARN; in memory only (a restart fetches new ones).
    tokens: Mutex<HashMap<String, Token>>,
    /// One token request at a time per connection: concurrent deliveries wait for it and
    /// share its token.
    token_locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// Per API destination ARN, the earliest time the next invocation may start.
    next_slot: Mutex<HashMap<String, Instant>>,
}

fn storage(err: StoreError) -> ApiError {
    ApiError::storage(err)
}

impl Destinations {
    pub fn load(store: Store) -> Result<Destinations, StoreError> {
        let data = Data {
            connections: WriteThroughMap::load(
                &store,
                Collection::Connections,
                |c: Connection| ((c.scope.clone(), c.name.clone()), c),
            )?,
            api_destinations: WriteThroughMap::load(
                &store,
                Collection::ApiDestinations,
                |d: ApiDestination| ((d.scope.clone(), d.name.clone()), d),
            )?,
        };
        Ok(Destinations {
            store,
            data: RwLock::new(data),
            tokens: Mutex::new(HashMap::new()),
            token_locks: Mutex::new(HashMap::new()),
            next_slot: Mutex::new(HashMap::new()),
        })
    }

    fn read(&self) -> RwLockReadGuard<'_, Data> {
        self.data.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Data> {
        self.data.write().unwrap_or_else(|e| e.into_inner())
    }

    // ---- connections ----

    pub fn create_connection(&self, connection: Connection) -> Result<Connection, ApiError> {
        let mut data = self.write();
        let key = (connection.scope.clone(), connection.name.clone());
        if data.connections.contains(&key) {
            return Err(connection_exists(&connection.name));
        }
        data.connections
            .put(&self.store, key, connection.clone())
            .map_err(storage)?;
        Ok(connection)
    }

    pub fn connection(&self, scope: &Scope, name: &str) -> Option<Connection> {
        self.read()
            .connections
            .get(&(scope.clone(), name.to_string()))
            .cloned()
    }

    /// The connection an ARN names, if it still exists (same uuid).
    pub fn connection_by_arn(&self, arn: &str) -> Option<Connection> {
        let (scope, name, uuid) = parse_arn(arn, "connection")?;
        self.connection(&scope, name).filter(|c| c.uuid == uuid)
    }

    /// The connections of a scope, in name order.
    pub fn connections(&self, scope: &Scope) -> Vec<Connection> {
        self.read().connections.in_scope(scope).cloned().collect()
    }

    /// Changes a connection with `change`, which may refuse; the result is saved. A change
    /// of its authorization drops the cached OAuth token.
    pub fn update_connection(
        &self,
        scope: &Scope,
        name: &str,
        change: impl FnOnce(&mut Connection) -> Result<(), ApiError>,
    ) -> Result<Connection, ApiError> {
        let mut data = self.write();
        let connection = data
            .connections
            .update(&self.store, &(scope.clone(), name.to_string()), change)?
            .ok_or_else(|| connection_not_found(name))?;
        self.forget_token(&connection.arn());
        Ok(connection)
    }

    /// Records what a token request taught (AUTHORIZED, or DEAUTHORIZED with a reason), for
    /// the connection of that ARN if it was not changed meanwhile.
    pub fn set_authorization(&self, arn: &str, state: ConnectionState, reason: Option<String>) {
        let Some((scope, name, uuid)) = parse_arn(arn, "connection") else {
            return;
        };
        let mut data = self.write();
        let key = (scope, name.to_string());
        let Some(current) = data.connections.get(&key) else {
            return;
        };
        // A DeauthorizeConnection made while a token was being fetched wins.
        if current.uuid != uuid
            || current.state == state
            || (state == ConnectionState::Authorized && current.is_deauthorized())
        {
            return;
        }
        let mut connection = current.clone();
        connection.state = state;
        connection.state_reason = reason;
        if state == ConnectionState::Authorized {
            connection.last_authorized_time_ms = Some(now_ms());
        }
        if let Err(e) = data.connections.put(&self.store, key, connection) {
            tracing::warn!(connection = %name, error = %e, "saving the connection state failed");
        }
    }

    pub fn delete_connection(&self, scope: &Scope, name: &str) -> Result<Connection, ApiError> {
        let mut data = self.write();
        let connection = data
            .connections
            .remove(&self.store, &(scope.clone(), name.to_string()))
            .map_err(storage)?
            .ok_or_else(|| connection_not_found(name))?;
        self.forget_token(&connection.arn());
        Ok(connection)
    }

    // ---- API destinations ----

    pub fn create_api_destination(
        &self,
        destination: ApiDestination,
    ) -> Result<ApiDestination, ApiError> {
        let mut data = self.write();
        let key = (destination.scope.clone(), destination.name.clone());
        if data.api_destinations.contains(&key) {
            return Err(api_destination_exists(&destination.name));
        }
        data.api_destinations
            .put(&self.store, key, destination.clone())
            .map_err(storage)?;
        Ok(destination)
    }

    pub fn api_destination(&self, scope: &Scope, name: &str) -> Option<ApiDestination> {
        self.read()
            .api_destinations
            .get(&(scope.clone(), name.to_string()))
            .cloned()
    }

    pub fn api_destination_by_arn(&self, arn: &str) -> Option<ApiDestination> {
        let (scope, name, uuid) = parse_arn(arn, "api-destination")?;
        self.api_destination(&scope, name)
            .filter(|d| d.uuid == uuid)
    }

    pub fn api_destinations(&self, scope: &Scope) -> Vec<ApiDestination> {
        self.read()
            .api_destinations
            .in_scope(scope)
            .cloned()
            .collect()
    }

    pub fn update_api_destination(
        &self,
        scope: &Scope,
        name: &str,
        change: impl FnOnce(&mut ApiDestination),
    ) -> Result<ApiDestination, ApiError> {
        self.write()
            .api_destinations
            .update(&self.store, &(scope.clone(), name.to_string()), |d| {
                change(d);
                Ok(())
            })?
            .ok_or_else(|| api_destination_not_found(name))
    }

    pub fn delete_api_destination(&self, scope: &Scope, name: &str) -> Result<(), ApiError> {
        let mut data = self.write();
        let destination = data
            .api_destinations
            .remove(&self.store, &(scope.clone(), name.to_string()))
            .map_err(storage)?
            .ok_or_else(|| api_destination_not_found(name))?;
        self.next_slot
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&destination.arn());
        Ok(())
    }

    /// Removes the connections and API destinations of `scope` (or all), with their tokens
    /// and pacing (`/_local/reset`).
    pub fn reset(&self, scope: Option<&Scope>) -> Result<(), ApiError> {
        let ours = |s: &Scope| scope.is_none_or(|x| x == s);
        let mut data = self.write();
        data.connections
            .remove_where(&self.store, |k| ours(&k.0))
            .map_err(storage)?;
        data.api_destinations
            .remove_where(&self.store, |k| ours(&k.0))
            .map_err(storage)?;
        let of_scope = |arn: &String| scope.is_none_or(|s| crate::model::arn::in_scope(arn, s));
        let unlock = |e: std::sync::PoisonError<_>| e.into_inner();
        self.tokens
            .lock()
            .unwrap_or_else(unlock)
            .retain(|arn, _| !of_scope(arn));
        self.token_locks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|arn, _| !of_scope(arn));
        self.next_slot
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|arn, _| !of_scope(arn));
        Ok(())
    }

    /// ACTIVE while its connection is AUTHORIZED; INACTIVE otherwise (AWS shows an API
    /// destination of a DEAUTHORIZED connection, or of an OAuth connection still AUTHORIZING,
    /// as INACTIVE). Computed on every read, so it follows the connection without a write.
    pub fn api_destination_state(&self, destination: &ApiDestination) -> &'static str {
        match self.connection_by_arn(&destination.connection_arn) {
            Some(c) if c.state == ConnectionState::Authorized => "ACTIVE",
            _ => "INACTIVE",
        }
    }

    // ---- delivery state ----

    pub fn token(&self, connection_arn: &str) -> Option<Token> {
        let tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        let token = tokens.get(connection_arn)?;
        // Refreshed proactively shortly before it expires, as AWS documents.
        match token.expires_at {
            Some(at) if at <= Instant::now() + Duration::from_secs(10) => None,
            _ => Some(token.clone()),
        }
    }

    /// The lock that serializes token requests of one connection.
    pub fn token_lock(&self, connection_arn: &str) -> Arc<tokio::sync::Mutex<()>> {
        self.token_locks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(connection_arn.to_string())
            .or_default()
            .clone()
    }

    pub fn store_token(&self, connection_arn: &str, token: Token) {
        self.tokens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(connection_arn.to_string(), token);
    }

    pub fn forget_token(&self, connection_arn: &str) {
        self.tokens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(connection_arn);
    }

    /// Reserves the next invocation slot of a destination paced at `per_second`: returns how
    /// long the caller waits before sending. Slots are evenly spaced (no burst), so N
    /// invocations take at least (N - 1) / rate seconds; nothing is dropped.
    pub fn reserve_slot(&self, destination_arn: &str, per_second: i64) -> Duration {
        let interval = Duration::from_secs_f64(1.0 / per_second.max(1) as f64);
        let now = Instant::now();
        let mut slots = self.next_slot.lock().unwrap_or_else(|e| e.into_inner());
        let slot = slots
            .get(destination_arn)
            .copied()
            .filter(|s| *s > now)
            .unwrap_or(now);
        slots.insert(destination_arn.to_string(), slot + interval);
        slot - now
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_hides_every_secret() {
        let auth: AuthParameters = serde_json::from_value(serde_json::json!({
            "ApiKeyAuthParameters": {"ApiKeyName": "x-key", "ApiKeyValue": "s1"},
            "BasicAuthParameters": {"Username": "u", "Password": "s2"},
            "OAuthParameters": {
                "ClientParameters": {"ClientID": "id", "ClientSecret": "s3"},
                "AuthorizationEndpoint": "https://a/token",
                "HttpMethod": "POST",
                "OAuthHttpParameters": {"BodyParameters": [{"Key": "k", "Value": "s4", "IsValueSecret": true}]}
            },
            "InvocationHttpParameters": {
                "HeaderParameters": [{"Key": "h", "Value": "s5", "IsValueSecret": true},
                                     {"Key": "p", "Value": "public", "IsValueSecret": false}]
            }
        }))
        .unwrap();
        let shown = serde_json::to_string(&auth.redacted()).unwrap();
        for secret in ["s1", "s2", "s3", "s4", "s5"] {
            assert!(!shown.contains(&format!("\"{secret}\"")), "{shown}");
        }
        assert!(shown.contains("\"public\""));
        assert!(shown.contains("\"ClientID\":\"id\""));
    }

    #[test]
    fn parses_resource_arns() {
        let (scope, name, uuid) = parse_arn(
            "arn:aws:events:eu-west-1:123456789012:connection/my-conn/1f2e-33",
            "connection",
        )
        .unwrap();
        assert_eq!(
            (scope.region.as_str(), name, uuid),
            ("eu-west-1", "my-conn", "1f2e-33")
        );
        assert!(
            parse_arn(
                "arn:aws:events:eu-west-1:123456789012:connection/my-conn",
                "connection"
            )
            .is_none()
        );
    }

    #[test]
    fn slots_are_evenly_spaced() {
        let store = Store::open(None, 1 << 20).unwrap();
        let d = Destinations::load(store).unwrap();
        let waits: Vec<Duration> = (0..5).map(|_| d.reserve_slot("a", 10)).collect();
        assert!(waits[0] < Duration::from_millis(5));
        assert!(waits[4] >= Duration::from_millis(390), "{waits:?}");
        assert!(d.reserve_slot("b", 10) < Duration::from_millis(5));
    }
}
