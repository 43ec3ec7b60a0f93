//! eventbridge-local: a local, AWS-compatible Amazon EventBridge.
//!
//! One request flows through five plain layers:
//! - [`server`]: hyper accept loop, `/_local/` endpoints, graceful shutdown;
//! - [`protocol`]: AWS JSON 1.1 in and out, request context from the SigV4 scope;
//! - [`ops`]: one `match` from operation name to a typed handler per operation;
//! - [`catalog`] (resources in memory, written through to [`store`]), [`router`] (an event in,
//!   archive writes and deliveries out), [`replay`] (background replays), [`delivery`]
//!   (bounded queue, workers, one file per target kind);
//! - [`pattern`]: the pure event-pattern matcher.
//!
//! EventBridge Scheduler (REST-JSON, on the same port) has the same layers, each beside its
//! EventBridge counterpart: [`scheduler_api`] (routing and errors), [`scheduler_ops`]
//! (handlers), [`scheduler_fire`] (the firing service) and [`schedules`] (the resources).

pub mod app;
pub mod catalog;
pub mod config;
pub mod delivery;
pub mod destinations;
pub mod error;
pub mod local;
pub mod model;
pub mod ops;
pub mod pattern;
pub mod protocol;
pub mod replay;
pub mod retention;
pub mod router;
pub mod rule_index;
pub mod schedule;
pub mod scheduler_api;
pub mod scheduler_fire;
pub mod scheduler_ops;
pub mod schedules;
pub mod server;
pub mod store;
pub mod transform;
pub mod validate;
mod write_through;

pub use app::App;
pub use config::Config;
pub use server::run;
