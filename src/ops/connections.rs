//! CreateConnection, DescribeConnection, ListConnections, UpdateConnection,
//! DeauthorizeConnection, DeleteConnection.
//!
//! States: a Basic or API key connection is AUTHORIZED as soon as it is created or updated
//! (AWS passes through CREATING/AUTHORIZING for a moment; here nothing remains to be done when
//! the call returns). An OAuth connection is AUTHORIZING until its first token was fetched,
//! lazily at its first delivery, then AUTHORIZED; if the authorization endpoint refuses the
//! client, DEAUTHORIZED with the reason. DeauthorizeConnection makes it DEAUTHORIZED (its
//! deliveries fail); any UpdateConnection authorizes it again.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::paginate;
use crate::app::App;
use crate::destinations::{
    AUTHORIZATION_TYPES, ApiKeyAuth, AuthParameters, BasicAuth, Connection, ConnectionState,
    HttpParameters, OAUTH_HTTP_METHODS, OAuthClient, OAuthParams, connection_not_found_on_describe,
    secret_suffix,
};
use crate::error::ApiError;
use crate::model::Scope;
use crate::model::time::{Epoch, now_ms};
use crate::ops::constraints::{
    AUTH_HEADER_PARAMETERS, AUTH_HEADER_PARAMETERS_SENSITIVE, CONNECTION_BODY_PARAMETERS_LIST,
    CONNECTION_DESCRIPTION, CONNECTION_HEADER_PARAMETERS_LIST, CONNECTION_NAME,
    CONNECTION_QUERY_STRING_PARAMETERS_LIST, HEADER_KEY, HEADER_VALUE_SENSITIVE, HTTPS_ENDPOINT,
    KMS_KEY_IDENTIFIER, LIMIT_MAX100, NEXT_TOKEN, QUERY_STRING_KEY, QUERY_STRING_VALUE_SENSITIVE,
};
use crate::validate::Validator;

/// An `HttpsEndpoint` member: the model's pattern and length; plus, as AWS requires, an
/// absolute URL. AWS wants `https://`; `http://` is accepted too so that local test servers
/// can be targets (the model pattern itself does not look at the scheme).
pub fn check_endpoint(c: &mut Validator, value: Option<&str>, path: &str) {
    c.string(value, path, &HTTPS_ENDPOINT);
}

/// The semantic check of an endpoint after the model checks passed. The message is ours: AWS's
/// wording for a non-HTTPS endpoint is not in the reference.
pub fn endpoint_scheme(value: &str, member: &str) -> Result<(), ApiError> {
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"));
    match rest {
        Some(rest) if !rest.is_empty() && !rest.starts_with('/') => Ok(()),
        _ => Err(ApiError::validation(format!(
            "Parameter {member} is not valid. Reason: {value} is not an https:// URL (eventbridge-local also accepts http://)."
        ))),
    }
}

pub fn check_connection_name(c: &mut Validator, name: &Option<String>) {
    c.required(name, "name");
    c.string(name.as_deref(), "name", &CONNECTION_NAME);
}

/// A user name, client id or API key name (`AuthHeaderParameters`), or, `sensitive`, a
/// password, client secret or API key value (`AuthHeaderParametersSensitive`).
fn check_auth_string(
    c: &mut Validator,
    value: &Option<String>,
    path: &str,
    required: bool,
    sensitive: bool,
) {
    if required {
        c.required(value, path);
    }
    let shape = if sensitive {
        &AUTH_HEADER_PARAMETERS_SENSITIVE
    } else {
        &AUTH_HEADER_PARAMETERS
    };
    c.string_with(value.as_deref(), path, shape, sensitive);
}

fn check_http_parameters(c: &mut Validator, params: &Option<HttpParameters>, path: &str) {
    let Some(p) = params else { return };
    let lists = [
        (
            &p.header_parameters,
            "headerParameters",
            &CONNECTION_HEADER_PARAMETERS_LIST,
            &HEADER_KEY,
            &HEADER_VALUE_SENSITIVE,
        ),
        (
            &p.query_string_parameters,
            "queryStringParameters",
            &CONNECTION_QUERY_STRING_PARAMETERS_LIST,
            &QUERY_STRING_KEY,
            &QUERY_STRING_VALUE_SENSITIVE,
        ),
    ];
    for (list, member, list_shape, key_shape, value_shape) in lists {
        let Some(list) = list else { continue };
        let at = format!("{path}.{member}");
        c.list(list.len(), &at, list_shape);
        for (i, param) in list.iter().enumerate() {
            let member = format!("{at}.{}.member", i + 1);
            // botocore marks every value sensitive; the message redacts only those marked secret.
            let secret = param.is_value_secret == Some(true);
            c.string(param.key.as_deref(), &format!("{member}.key"), key_shape);
            c.string_with(
                param.value.as_deref(),
                &format!("{member}.value"),
                value_shape,
                secret,
            );
        }
    }
    if let Some(list) = &p.body_parameters {
        c.list(
            list.len(),
            &format!("{path}.bodyParameters"),
            &CONNECTION_BODY_PARAMETERS_LIST,
        );
    }
}

/// The model constraints of `AuthParameters`; `create` makes the members that
/// `CreateConnection*RequestParameters` require required.
fn check_auth_parameters(c: &mut Validator, auth: &AuthParameters, create: bool) {
    const AT: &str = "authParameters";
    if let Some(b) = &auth.basic_auth_parameters {
        let at = format!("{AT}.basicAuthParameters");
        check_auth_string(c, &b.username, &format!("{at}.username"), create, false);
        check_auth_string(c, &b.password, &format!("{at}.password"), create, true);
    }
    if let Some(o) = &auth.oauth_parameters {
        let at = format!("{AT}.oAuthParameters");
        if create {
            c.required(&o.client_parameters, &format!("{at}.clientParameters"));
        }
        if let Some(cp) = &o.client_parameters {
            let at = format!("{at}.clientParameters");
            check_auth_string(c, &cp.client_id, &format!("{at}.clientID"), create, false);
            check_auth_string(
                c,
                &cp.client_secret,
                &format!("{at}.clientSecret"),
                create,
                true,
            );
        }
        let endpoint = format!("{at}.authorizationEndpoint");
        if create {
            c.required(&o.authorization_endpoint, &endpoint);
        }
        check_endpoint(c, o.authorization_endpoint.as_deref(), &endpoint);
        let method = format!("{at}.httpMethod");
        if create {
            c.required(&o.http_method, &method);
        }
        // AWS accepted `"put"`: the method is compared without regard to case (and sent in
        // upper case when the token is fetched).
        let known = o
            .http_method
            .as_deref()
            .is_some_and(|m| OAUTH_HTTP_METHODS.iter().any(|k| k.eq_ignore_ascii_case(m)));
        if !known {
            c.one_of(o.http_method.as_deref(), &method, &OAUTH_HTTP_METHODS);
        }
        check_http_parameters(
            c,
            &o.oauth_http_parameters,
            &format!("{at}.oAuthHttpParameters"),
        );
    }
    if let Some(a) = &auth.api_key_auth_parameters {
        let at = format!("{AT}.apiKeyAuthParameters");
        check_auth_string(
            c,
            &a.api_key_name,
            &format!("{at}.apiKeyName"),
            create,
            false,
        );
        check_auth_string(
            c,
            &a.api_key_value,
            &format!("{at}.apiKeyValue"),
            create,
            true,
        );
    }
    check_http_parameters(
        c,
        &auth.invocation_http_parameters,
        &format!("{AT}.invocationHttpParameters"),
    );
}

/// The parameters block an authorization type needs, complete. AWS's wording for a missing
/// block is not in the reference; this message names what is missing.
fn check_complete(auth_type: &str, auth: &AuthParameters) -> Result<(), ApiError> {
    let missing = |what: &str| {
        Err(ApiError::validation(format!(
            "{what} must be specified for authorization type {auth_type}."
        )))
    };
    match auth_type {
        "BASIC" => match &auth.basic_auth_parameters {
            Some(BasicAuth {
                username: Some(_),
                password: Some(_),
            }) => Ok(()),
            _ => missing("BasicAuthParameters with Username and Password"),
        },
        "API_KEY" => match &auth.api_key_auth_parameters {
            Some(ApiKeyAuth {
                api_key_name: Some(_),
                api_key_value: Some(_),
            }) => Ok(()),
            _ => missing("ApiKeyAuthParameters with ApiKeyName and ApiKeyValue"),
        },
        _ => match &auth.oauth_parameters {
            Some(OAuthParams {
                client_parameters:
                    Some(OAuthClient {
                        client_id: Some(_),
                        client_secret: Some(_),
                    }),
                authorization_endpoint: Some(_),
                http_method: Some(_),
                ..
            }) => {
                // Only the model's pattern applies: AWS accepted `"replace_this"` as an
                // AuthorizationEndpoint (the connection then never authorizes).
                Ok(())
            }
            _ => missing(
                "OAuthParameters with ClientParameters, AuthorizationEndpoint and HttpMethod",
            ),
        },
    }
}

/// Only the block of the connection's own type is kept: a connection switched from API_KEY to
/// BASIC does not keep its API key.
fn keep_own_block(auth_type: &str, auth: &mut AuthParameters) {
    if auth_type != "BASIC" {
        auth.basic_auth_parameters = None;
    }
    if auth_type != "API_KEY" {
        auth.api_key_auth_parameters = None;
    }
    if auth_type != "OAUTH_CLIENT_CREDENTIALS" {
        auth.oauth_parameters = None;
    }
}

fn merge<T: Clone>(into: &mut Option<T>, from: &Option<T>) {
    if from.is_some() {
        *into = from.clone();
    }
}

/// UpdateConnection's `AuthParameters`: every member given replaces the stored one; the
/// rest stays.
fn merge_auth(stored: &mut AuthParameters, update: AuthParameters) {
    if let Some(b) = update.basic_auth_parameters {
        let into = stored
            .basic_auth_parameters
            .get_or_insert_with(Default::default);
        merge(&mut into.username, &b.username);
        merge(&mut into.password, &b.password);
    }
    if let Some(a) = update.api_key_auth_parameters {
        let into = stored
            .api_key_auth_parameters
            .get_or_insert_with(Default::default);
        merge(&mut into.api_key_name, &a.api_key_name);
        merge(&mut into.api_key_value, &a.api_key_value);
    }
    if let Some(o) = update.oauth_parameters {
        let into = stored.oauth_parameters.get_or_insert_with(Default::default);
        if let Some(cp) = o.client_parameters {
            let client = into.client_parameters.get_or_insert_with(Default::default);
            merge(&mut client.client_id, &cp.client_id);
            merge(&mut client.client_secret, &cp.client_secret);
        }
        merge(&mut into.authorization_endpoint, &o.authorization_endpoint);
        merge(&mut into.http_method, &o.http_method);
        merge(&mut into.oauth_http_parameters, &o.oauth_http_parameters);
    }
    merge(
        &mut stored.invocation_http_parameters,
        &update.invocation_http_parameters,
    );
    merge(
        &mut stored.connectivity_parameters,
        &update.connectivity_parameters,
    );
}

/// Sets a freshly (re)authorized connection's state.
/// AWS sets LastAuthorizedTime when authorization starts: an OAuth connection that is still
/// AUTHORIZING has it too.
fn authorize(c: &mut Connection) {
    c.state = c.initial_state();
    c.state_reason = None;
    c.last_authorized_time_ms = Some(now_ms());
}

// ---------------------------------------------------------------- operations

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateConnectionRequest {
    name: Option<String>,
    description: Option<String>,
    authorization_type: Option<String>,
    auth_parameters: Option<AuthParameters>,
    invocation_connectivity_parameters: Option<Value>,
    kms_key_identifier: Option<String>,
}

/// The answer of Create, Update, Deauthorize and Delete.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ConnectionStateResponse {
    connection_arn: String,
    connection_state: &'static str,
    creation_time: Epoch,
    last_modified_time: Epoch,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_authorized_time: Option<Epoch>,
}

impl ConnectionStateResponse {
    fn of(c: &Connection, state: ConnectionState, with_authorized: bool) -> Self {
        ConnectionStateResponse {
            connection_arn: c.arn(),
            connection_state: state.as_str(),
            creation_time: Epoch(c.creation_time_ms),
            last_modified_time: Epoch(c.last_modified_time_ms),
            last_authorized_time: if with_authorized {
                c.last_authorized_time_ms.map(Epoch)
            } else {
                None
            },
        }
    }
}

fn check_common(
    c: &mut Validator,
    description: Option<&str>,
    kms_key_identifier: Option<&str>,
    authorization_type: Option<&str>,
) {
    c.string(description, "description", &CONNECTION_DESCRIPTION);
    c.one_of(
        authorization_type,
        "authorizationType",
        &AUTHORIZATION_TYPES,
    );
    c.string(kms_key_identifier, "kmsKeyIdentifier", &KMS_KEY_IDENTIFIER);
}

pub async fn create_connection(
    app: &App,
    scope: &Scope,
    req: CreateConnectionRequest,
) -> Result<ConnectionStateResponse, ApiError> {
    let mut c = Validator::new();
    check_connection_name(&mut c, &req.name);
    c.required(&req.authorization_type, "authorizationType");
    c.required(&req.auth_parameters, "authParameters");
    check_common(
        &mut c,
        req.description.as_deref(),
        req.kms_key_identifier.as_deref(),
        req.authorization_type.as_deref(),
    );
    if let Some(auth) = &req.auth_parameters {
        check_auth_parameters(&mut c, auth, true);
    }
    c.finish()?;
    let auth_type = req.authorization_type.unwrap_or_default();
    let mut auth = req.auth_parameters.unwrap_or_default();
    check_complete(&auth_type, &auth)?;
    keep_own_block(&auth_type, &mut auth);
    let now = now_ms();
    let mut connection = Connection {
        scope: scope.clone(),
        name: req.name.unwrap_or_default(),
        uuid: uuid::Uuid::new_v4().to_string(),
        secret_uuid: uuid::Uuid::new_v4().to_string(),
        secret_suffix: secret_suffix(),
        description: req.description,
        authorization_type: auth_type,
        auth,
        invocation_connectivity_parameters: req.invocation_connectivity_parameters,
        kms_key_identifier: req.kms_key_identifier,
        state: ConnectionState::Creating,
        state_reason: None,
        creation_time_ms: now,
        last_modified_time_ms: now,
        last_authorized_time_ms: None,
    };
    authorize(&mut connection);
    let connection = app.destinations.create_connection(connection)?;
    app.store.flush().await.map_err(ApiError::storage)?;
    Ok(ConnectionStateResponse::of(
        &connection,
        connection.state,
        false,
    ))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ConnectionNameRequest {
    name: Option<String>,
}

fn named(req: ConnectionNameRequest) -> Result<String, ApiError> {
    let mut c = Validator::new();
    check_connection_name(&mut c, &req.name);
    c.finish()?;
    Ok(req.name.unwrap_or_default())
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeConnectionResponse {
    connection_arn: String,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    invocation_connectivity_parameters: Option<Value>,
    connection_state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    state_reason: Option<String>,
    authorization_type: String,
    secret_arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    kms_key_identifier: Option<String>,
    /// Without any secret value (see `AuthParameters::redacted`).
    auth_parameters: AuthParameters,
    creation_time: Epoch,
    last_modified_time: Epoch,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_authorized_time: Option<Epoch>,
}

pub async fn describe_connection(
    app: &App,
    scope: &Scope,
    req: ConnectionNameRequest,
) -> Result<DescribeConnectionResponse, ApiError> {
    let name = named(req)?;
    let c = app
        .destinations
        .connection(scope, &name)
        .ok_or_else(|| connection_not_found_on_describe(&name))?;
    Ok(DescribeConnectionResponse {
        connection_arn: c.arn(),
        secret_arn: c.secret_arn(),
        auth_parameters: c.auth.redacted(),
        name: c.name,
        description: c.description,
        invocation_connectivity_parameters: c.invocation_connectivity_parameters,
        connection_state: c.state.as_str(),
        state_reason: c.state_reason,
        authorization_type: c.authorization_type,
        kms_key_identifier: c.kms_key_identifier,
        creation_time: Epoch(c.creation_time_ms),
        last_modified_time: Epoch(c.last_modified_time_ms),
        last_authorized_time: c.last_authorized_time_ms.map(Epoch),
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListConnectionsRequest {
    name_prefix: Option<String>,
    connection_state: Option<String>,
    next_token: Option<String>,
    limit: Option<i64>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ConnectionItem {
    connection_arn: String,
    name: String,
    connection_state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    state_reason: Option<String>,
    authorization_type: String,
    creation_time: Epoch,
    last_modified_time: Epoch,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_authorized_time: Option<Epoch>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListConnectionsResponse {
    connections: Vec<ConnectionItem>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

pub async fn list_connections(
    app: &App,
    scope: &Scope,
    req: ListConnectionsRequest,
) -> Result<ListConnectionsResponse, ApiError> {
    let mut c = Validator::new();
    c.string(req.name_prefix.as_deref(), "namePrefix", &CONNECTION_NAME);
    c.one_of(
        req.connection_state.as_deref(),
        "connectionState",
        &ConnectionState::VALUES,
    );
    c.string(req.next_token.as_deref(), "nextToken", &NEXT_TOKEN);
    c.integer(req.limit, "limit", &LIMIT_MAX100);
    c.finish()?;
    let connections: Vec<Connection> = app
        .destinations
        .connections(scope)
        .into_iter()
        .filter(|c| {
            req.name_prefix
                .as_deref()
                .is_none_or(|p| c.name.starts_with(p))
                && req
                    .connection_state
                    .as_deref()
                    .is_none_or(|s| c.state.as_str() == s)
        })
        .collect();
    let (page, next_token) = paginate(
        "ListConnections",
        connections,
        req.next_token.as_deref(),
        req.limit,
    )?;
    Ok(ListConnectionsResponse {
        connections: page
            .into_iter()
            .map(|c| ConnectionItem {
                connection_arn: c.arn(),
                name: c.name,
                connection_state: c.state.as_str(),
                state_reason: c.state_reason,
                authorization_type: c.authorization_type,
                creation_time: Epoch(c.creation_time_ms),
                last_modified_time: Epoch(c.last_modified_time_ms),
                last_authorized_time: c.last_authorized_time_ms.map(Epoch),
            })
            .collect(),
        next_token,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateConnectionRequest {
    name: Option<String>,
    description: Option<String>,
    authorization_type: Option<String>,
    auth_parameters: Option<AuthParameters>,
    invocation_connectivity_parameters: Option<Value>,
    kms_key_identifier: Option<String>,
}

/// Changes what is given and authorizes the connection again (AWS re-authorizes a connection
/// on update, which is how a DEAUTHORIZED one comes back).
pub async fn update_connection(
    app: &App,
    scope: &Scope,
    req: UpdateConnectionRequest,
) -> Result<ConnectionStateResponse, ApiError> {
    let mut c = Validator::new();
    check_connection_name(&mut c, &req.name);
    check_common(
        &mut c,
        req.description.as_deref(),
        req.kms_key_identifier.as_deref(),
        req.authorization_type.as_deref(),
    );
    if let Some(auth) = &req.auth_parameters {
        check_auth_parameters(&mut c, auth, false);
    }
    c.finish()?;
    let name = req.name.unwrap_or_default();
    let connection = app.destinations.update_connection(scope, &name, |conn| {
        if let Some(t) = req.authorization_type {
            conn.authorization_type = t;
        }
        if let Some(auth) = req.auth_parameters {
            merge_auth(&mut conn.auth, auth);
        }
        check_complete(&conn.authorization_type, &conn.auth)?;
        let auth_type = conn.authorization_type.clone();
        keep_own_block(&auth_type, &mut conn.auth);
        if let Some(d) = req.description {
            conn.description = Some(d);
        }
        if let Some(k) = req.kms_key_identifier {
            conn.kms_key_identifier = Some(k);
        }
        if let Some(p) = req.invocation_connectivity_parameters {
            conn.invocation_connectivity_parameters = Some(p);
        }
        conn.last_modified_time_ms = now_ms();
        authorize(conn);
        Ok(())
    })?;
    app.store.flush().await.map_err(ApiError::storage)?;
    Ok(ConnectionStateResponse::of(
        &connection,
        connection.state,
        true,
    ))
}

/// DEAUTHORIZED at once (AWS answers DEAUTHORIZING and gets there within moments). Its
/// secrets are kept, so that an UpdateConnection can authorize it again, and its API
/// destinations become INACTIVE.
pub async fn deauthorize_connection(
    app: &App,
    scope: &Scope,
    req: ConnectionNameRequest,
) -> Result<ConnectionStateResponse, ApiError> {
    let name = named(req)?;
    let connection = app.destinations.update_connection(scope, &name, |conn| {
        conn.state = ConnectionState::Deauthorized;
        conn.state_reason = None;
        conn.last_modified_time_ms = now_ms();
        Ok(())
    })?;
    app.store.flush().await.map_err(ApiError::storage)?;
    Ok(ConnectionStateResponse::of(
        &connection,
        connection.state,
        true,
    ))
}

/// Gone at once; the answer says DELETING, as AWS's does. API destinations that use it stay
/// and become INACTIVE (their deliveries fail until they point at another connection).
pub async fn delete_connection(
    app: &App,
    scope: &Scope,
    req: ConnectionNameRequest,
) -> Result<ConnectionStateResponse, ApiError> {
    let name = named(req)?;
    let connection = app.destinations.delete_connection(scope, &name)?;
    app.store.flush().await.map_err(ApiError::storage)?;
    Ok(ConnectionStateResponse::of(
        &connection,
        ConnectionState::Deleting,
        true,
    ))
}
