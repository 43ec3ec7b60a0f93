//! Partner event sources, seen from both sides: the partner (any account here) creates one for
//! a customer account; the customer lists it, makes a partner bus for it (which makes it
//! ACTIVE), deactivates and activates it. A source name is unique in its region, as AWS asks
//! of partners ("The event_name must be unique across all AWS customers").
//!
//! The state is not stored but derived, so it cannot drift from the buses: DELETED when the
//! partner deleted it while the customer had its bus, ACTIVE when the customer has the bus and
//! has not deactivated it, PENDING otherwise.

use super::{Catalog, Data, storage};
use crate::error::{ApiError, ErrorCode};
use crate::model::event_source::{EventSource, EventSourceState, EventSourceView};
use crate::model::{EventBus, Scope};

fn view(data: &Data, source: &EventSource) -> Option<EventSourceView> {
    let has_bus = data
        .buses
        .contains(&(source.scope.clone(), source.name.clone()));
    let state = match (source.deleted, has_bus) {
        // Deleted by the partner and the bus is gone too: nothing is left to show.
        (true, false) => return None,
        (true, true) => EventSourceState::Deleted,
        (false, true) if !source.deactivated => EventSourceState::Active,
        (false, _) => EventSourceState::Pending,
    };
    Some(EventSourceView {
        source: source.clone(),
        state,
    })
}

fn source_not_found(name: &str) -> ApiError {
    ApiError::not_found(format!("Event source {name} does not exist."))
}

/// The sources a partner made in its region, in name order.
fn partner_entries<'a>(
    data: &'a Data,
    partner: &'a Scope,
) -> impl Iterator<Item = &'a EventSource> + 'a {
    data.event_sources.values().filter(move |s| {
        s.partner_account == partner.account && s.scope.region == partner.region && !s.deleted
    })
}

impl Catalog {
    /// CreatePartnerEventSource: `partner` offers `name` to `account` in its region.
    pub fn create_partner_source(
        &self,
        partner: &Scope,
        name: &str,
        account: &str,
        now_ms: i64,
    ) -> Result<EventSource, ApiError> {
        let mut data = self.write();
        let mut taken = Vec::new();
        for (key, s) in data.event_sources.iter() {
            if s.scope.region == partner.region && s.name == name {
                if !s.deleted {
                    return Err(ApiError::already_exists(format!(
                        "Event source {name} already exists."
                    )));
                }
                taken.push(key.clone());
            }
        }
        // A source the partner deleted may be made again (for the same or another account).
        for key in taken {
            data.event_sources
                .remove(&self.store, &key)
                .map_err(storage)?;
        }
        let source = EventSource {
            scope: Scope {
                account: account.to_string(),
                region: partner.region.clone(),
            },
            name: name.to_string(),
            partner_account: partner.account.clone(),
            creation_time_ms: now_ms,
            deactivated: false,
            deleted: false,
        };
        data.event_sources
            .put(
                &self.store,
                (source.scope.clone(), source.name.clone()),
                source.clone(),
            )
            .map_err(storage)?;
        Ok(source)
    }

    /// DescribePartnerEventSource and ListPartnerEventSourceAccounts: the partner's source of
    /// that name, with its customer's view of its state.
    pub fn partner_source(&self, partner: &Scope, name: &str) -> Result<EventSourceView, ApiError> {
        let data = self.read();
        partner_entries(&data, partner)
            .find(|s| s.name == name)
            .and_then(|s| view(&data, s))
            .ok_or_else(|| source_not_found(name))
    }

    /// ListPartnerEventSources.
    pub fn partner_sources(&self, partner: &Scope, prefix: &str) -> Vec<EventSourceView> {
        let data = self.read();
        let mut sources: Vec<EventSourceView> = partner_entries(&data, partner)
            .filter(|s| s.name.starts_with(prefix))
            .filter_map(|s| view(&data, s))
            .collect();
        sources.sort_by(|a, b| a.source.name.cmp(&b.source.name));
        sources
    }

    /// DeletePartnerEventSource: gone at once when the customer has no bus for it, DELETED
    /// (for the customer) while the bus is there. A source that does not exist is no error:
    /// the operation has no ResourceNotFoundException in AWS's model.
    pub fn delete_partner_source(
        &self,
        partner: &Scope,
        name: &str,
        account: &str,
    ) -> Result<(), ApiError> {
        let mut data = self.write();
        let key = (
            Scope {
                account: account.to_string(),
                region: partner.region.clone(),
            },
            name.to_string(),
        );
        let Some(source) = data.event_sources.get(&key) else {
            return Ok(());
        };
        if source.partner_account != partner.account {
            return Ok(());
        }
        if data.buses.contains(&key) {
            data.event_sources.update(&self.store, &key, |s| {
                s.deleted = true;
                Ok(())
            })?;
        } else {
            data.event_sources
                .remove(&self.store, &key)
                .map_err(storage)?;
        }
        Ok(())
    }

    /// DescribeEventSource: a source offered to the caller's account.
    pub fn event_source(&self, customer: &Scope, name: &str) -> Result<EventSourceView, ApiError> {
        let data = self.read();
        data.event_sources
            .get(&(customer.clone(), name.to_string()))
            .and_then(|s| view(&data, s))
            .ok_or_else(|| source_not_found(name))
    }

    /// ListEventSources.
    pub fn event_sources(&self, customer: &Scope, prefix: Option<&str>) -> Vec<EventSourceView> {
        let data = self.read();
        data.event_sources
            .in_scope(customer)
            .filter(|s| prefix.is_none_or(|p| s.name.starts_with(p)))
            .filter_map(|s| view(&data, s))
            .collect()
    }

    /// ActivateEventSource (`active`) and DeactivateEventSource: a source the partner deleted
    /// can be neither.
    pub fn set_event_source_active(
        &self,
        customer: &Scope,
        name: &str,
        active: bool,
    ) -> Result<(), ApiError> {
        let mut data = self.write();
        let key = (customer.clone(), name.to_string());
        let state = data
            .event_sources
            .get(&key)
            .and_then(|s| view(&data, s))
            .ok_or_else(|| source_not_found(name))?
            .state;
        if state == EventSourceState::Deleted {
            return Err(ApiError::new(
                ErrorCode::InvalidState,
                format!("Event source {name} is in state DELETED."),
            ));
        }
        data.event_sources.update(&self.store, &key, |s| {
            s.deactivated = !active;
            Ok(())
        })?;
        Ok(())
    }

    /// CreateEventBus with `EventSourceName`: the bus takes the source's name, and the source
    /// becomes ACTIVE.
    pub fn create_partner_bus(&self, bus: EventBus) -> Result<EventBus, ApiError> {
        let mut data = self.write();
        let key = (bus.scope.clone(), bus.name.clone());
        let source = data
            .event_sources
            .get(&key)
            .and_then(|s| view(&data, s))
            .ok_or_else(|| source_not_found(&bus.name))?;
        if data.buses.contains(&key) {
            return Err(ApiError::already_exists(format!(
                "Event bus {} already exists.",
                bus.name
            )));
        }
        if source.state == EventSourceState::Deleted {
            return Err(ApiError::new(
                ErrorCode::InvalidState,
                format!("Event source {} is in state DELETED.", bus.name),
            ));
        }
        data.buses
            .put(&self.store, key.clone(), bus.clone())
            .map_err(storage)?;
        data.event_sources.update(&self.store, &key, |s| {
            s.deactivated = false;
            Ok(())
        })?;
        Ok(bus)
    }

    /// Where PutPartnerEvents puts an event of `source` sent by `partner`: `Ok(Some(customer
    /// scope))` while the source is ACTIVE, `Ok(None)` while it is PENDING (the event is
    /// accepted and goes nowhere, as no bus takes it), `Err` with the entry's error message
    /// when the partner has no such source.
    pub fn partner_event_destination(
        &self,
        partner: &Scope,
        source: &str,
    ) -> Result<Option<Scope>, String> {
        let data = self.read();
        let found = partner_entries(&data, partner)
            .find(|s| s.name == source)
            .and_then(|s| view(&data, s));
        match found {
            Some(v) if v.state == EventSourceState::Active => Ok(Some(v.source.scope)),
            Some(_) => Ok(None),
            None => Err(format!("Event source {source} does not exist.")),
        }
    }
}
