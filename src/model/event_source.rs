//! Partner event sources: made by a SaaS partner (any account here) for one customer account,
//! received by that account on a partner event bus named after the source.

use serde::{Deserialize, Serialize};

use super::Scope;

/// How long a source waits for its bus before AWS deletes it ("If it remains in PENDING state
/// for more than two weeks, it is deleted"). Shown as `ExpirationTime`; not enforced here.
pub const PENDING_EXPIRY_MS: i64 = 14 * 24 * 3600 * 1000;

/// One partner event source, as the customer account sees it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EventSource {
    /// The customer's account and the region the partner created the source in.
    pub scope: Scope,
    pub name: String,
    /// The account that created it and may put events on it.
    pub partner_account: String,
    pub creation_time_ms: i64,
    /// Set by DeactivateEventSource, cleared by ActivateEventSource or a new partner bus.
    pub deactivated: bool,
    /// Deleted by the partner while the customer's partner bus existed: the customer sees it
    /// as DELETED until that bus goes.
    pub deleted: bool,
}

impl EventSource {
    /// Partner event source ARNs have no account: `arn:aws:events:REGION::event-source/NAME`.
    pub fn arn(&self) -> String {
        format!(
            "arn:aws:events:{}::event-source/{}",
            self.scope.region, self.name
        )
    }

    /// The partner's name: `aws.partner/<partner_name>`, the part of the source name that AWS
    /// gives a partner at registration. (What AWS puts in `CreatedBy` is not recorded; this is
    /// the name the API's documentation calls the partner's.)
    pub fn created_by(&self) -> String {
        self.name
            .splitn(3, '/')
            .take(2)
            .collect::<Vec<_>>()
            .join("/")
    }
}

/// `EventSourceState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventSourceState {
    Pending,
    Active,
    Deleted,
}

impl EventSourceState {
    pub fn as_str(self) -> &'static str {
        match self {
            EventSourceState::Pending => "PENDING",
            EventSourceState::Active => "ACTIVE",
            EventSourceState::Deleted => "DELETED",
        }
    }
}

/// A source with the state that its record and the customer's buses give it.
#[derive(Debug, Clone)]
pub struct EventSourceView {
    pub source: EventSource,
    pub state: EventSourceState,
}

impl EventSourceView {
    /// `ExpirationTime`: only a PENDING source expires.
    pub fn expiration_time_ms(&self) -> Option<i64> {
        (self.state == EventSourceState::Pending)
            .then_some(self.source.creation_time_ms + PENDING_EXPIRY_MS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arn_and_partner_name() {
        let source = EventSource {
            scope: Scope {
                account: "111122223333".into(),
                region: "eu-west-1".into(),
            },
            name: "aws.partner/example.com/123/orders".into(),
            partner_account: "444455556666".into(),
            creation_time_ms: 0,
            deactivated: false,
            deleted: false,
        };
        assert_eq!(
            source.arn(),
            "arn:aws:events:eu-west-1::event-source/aws.partner/example.com/123/orders"
        );
        assert_eq!(source.created_by(), "aws.partner/example.com");
    }
}
