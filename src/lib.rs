//! eventbridge-local: a local, AWS-compatible Amazon EventBridge.
//!
//! One request flows through five plain layers:
//! - [`server`]: hyper accept loop, `/_local/` endpoints, graceful shutdown;
//! - [`protocol`]: AWS JSON 1.1 in and out, request context from the SigV4 scope;
//! - [`ops`]: one `match` from operation name to a typed handler per operation;
//! - [`catalog`] (resources in memory, written through to [`store`]), [`router`] (an event in,
//!   archive writes and deliveries out), [`replay`] (background replays), [`delivery`]
//!   (bounded queue, workers, one file per target kind);
//! - [`pattern`]: the pure event-pattern matcher (and its explainer);
//! - [`clock`]: the one source of time (real, or virtual under `--clock manual`), and
//!   [`recent`]: the last events each bus received; [`local`] serves the test controls
//!   built on them under `/_local/`.

pub mod app;
pub mod catalog;
pub mod clock;
pub mod config;
pub mod delivery;
pub mod destinations;
pub mod error;
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
pub mod server;
pub mod store;
pub mod transform;
pub mod validate;
mod write_through;

pub use app::App;
pub use config::Config;
pub use server::run;
