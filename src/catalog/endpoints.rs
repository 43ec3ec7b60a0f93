//! Global endpoints, kept under their account and home region. They name buses by ARN and do
//! not own them: a bus that does not exist simply receives nothing, as PutEvents to a missing
//! bus does.

use super::{Catalog, storage};
use crate::error::ApiError;
use crate::model::Scope;
use crate::model::endpoint::Endpoint;

fn endpoint_not_found(name: &str) -> ApiError {
    ApiError::not_found(format!("Endpoint {name} does not exist."))
}

impl Catalog {
    pub fn create_endpoint(&self, endpoint: Endpoint) -> Result<Endpoint, ApiError> {
        let mut data = self.write();
        let key = (endpoint.scope.clone(), endpoint.name.clone());
        if data.endpoints.contains(&key) {
            return Err(ApiError::already_exists(format!(
                "Endpoint {} already exists.",
                endpoint.name
            )));
        }
        data.endpoints
            .put(&self.store, key, endpoint.clone())
            .map_err(storage)?;
        Ok(endpoint)
    }

    pub fn endpoint(&self, scope: &Scope, name: &str) -> Result<Endpoint, ApiError> {
        self.read()
            .endpoints
            .get(&(scope.clone(), name.to_string()))
            .cloned()
            .ok_or_else(|| endpoint_not_found(name))
    }

    /// The endpoints of one account and home region, in name order.
    pub fn endpoints(&self, scope: &Scope, prefix: Option<&str>) -> Vec<Endpoint> {
        self.read()
            .endpoints
            .in_scope(scope)
            .filter(|e| prefix.is_none_or(|p| e.name.starts_with(p)))
            .cloned()
            .collect()
    }

    /// Applies `change` (which may refuse) to an endpoint and stores the result.
    pub fn update_endpoint(
        &self,
        scope: &Scope,
        name: &str,
        change: impl FnOnce(&mut Endpoint) -> Result<(), ApiError>,
    ) -> Result<Endpoint, ApiError> {
        self.write()
            .endpoints
            .update(&self.store, &(scope.clone(), name.to_string()), change)?
            .ok_or_else(|| endpoint_not_found(name))
    }

    pub fn delete_endpoint(&self, scope: &Scope, name: &str) -> Result<(), ApiError> {
        self.write()
            .endpoints
            .remove(&self.store, &(scope.clone(), name.to_string()))
            .map_err(storage)?
            .map(|_| ())
            .ok_or_else(|| endpoint_not_found(name))
    }

    /// The endpoint of `account` with this id, whatever its home region (PutEvents with an
    /// `EndpointId` is signed with SigV4a, which names no region).
    pub fn endpoint_by_id(&self, account: &str, endpoint_id: &str) -> Option<Endpoint> {
        self.read()
            .endpoints
            .values()
            .find(|e| e.scope.account == account && e.endpoint_id == endpoint_id)
            .cloned()
    }
}
