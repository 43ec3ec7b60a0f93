//! eventbridge-local: a local, AWS-compatible Amazon EventBridge.
//!
//! The modules, in layers from the top; each imports only its own layer and those below it
//! (`tests/architecture.rs` checks it):
//! - [`server`]: the hyper accept loop; hands `/_local/` to [`local`], the rest to [`protocol`].
//! - [`protocol`]: AWS JSON 1.1 in and out, request context from the SigV4 scope.
//!   [`local`]: the `/_local/` endpoints (health, deliveries, test controls) and the console
//!   in the browser (`/_local/console`, its files in `console/` embedded in the binary).
//! - [`ops`]: one table from operation name to a typed handler per operation; AWS's
//!   constraints per botocore shape.
//! - [`app`]: the composition root: builds every part in order and owns shutdown.
//! - [`replay`] (background replays), [`schedule`] (scheduled rules and their expressions),
//!   [`retention`] (the archive retention sweep): services with narrow handles.
//! - [`router`]: an event in; rule matching, durable archive writes and deliveries out.
//! - [`delivery`]: bounded queue, workers, retries, dead letters, one file per target kind;
//!   event-bus targets go back to the router through [`delivery::BusSink`].
//! - [`catalog`] (buses, rules, archives, replays in memory, written through to [`store`]),
//!   [`destinations`] (connections and API destinations).
//! - [`rule_index`] (a bus's compiled rules indexed for routing), [`transform`] (input
//!   transformation and JSONPath), `write_through` (the load/read/write-through map).
//! - Leaves: [`pattern`] (the pure event-pattern matcher), [`model`] (resources and events as
//!   plain structs, ARNs, time), [`json_doc`] (an event's JSON as rules read it, borrowing
//!   from its text), [`store`] (sled for resources, the archive's segment log),
//!   [`config`], [`error`] (one table of AWS errors), [`validate`] (model constraint checks),
//!   [`signature`] (SigV4 verification).
//! - [`clock`]: the one source of time (real, or virtual under `--clock manual`);
//!   [`recent`]: the last events each bus received, which the `/_local/` test controls read.
//!
//! EventBridge Scheduler (REST-JSON, on the same port) has the same layers, each beside its
//! EventBridge counterpart: [`scheduler_api`] (routing and errors), [`scheduler_ops`]
//! (handlers), [`scheduler_fire`] (the firing service) and [`schedules`] (the resources).

pub mod app;
pub mod catalog;
pub mod clock;
pub mod config;
pub mod delivery;
pub mod destinations;
pub mod error;
pub mod healthcheck;
pub mod init;
pub mod json_doc;
pub mod local;
pub mod model;
pub mod ops;
pub mod pattern;
pub mod protocol;
pub mod recent;
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
pub mod signature;
pub mod store;
pub mod transform;
pub mod validate;
mod write_through;

pub use app::App;
pub use config::Config;
pub use server::run;
