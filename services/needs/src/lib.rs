//! `capmatch-needs`: the needs service. States post their capacity-building needs (a
//! coordinator may post on a state's behalf); every change is an event in the service's own
//! store; reads come from an in-memory projection; restricted needs stay invisible to everyone
//! but the owning state, coordinators and the providers they are shared with (introduced or
//! agreed partnerships, learned from the matcher's feed).
//!
//! Module map:
//! - [`config`]: [`NeedsConfig`] — server, `data_dir`, auth, the optional matcher peer.
//! - [`startup`]: [`Application`] — build, port, run until stopped, stop gracefully.
//! - [`routes`]: the `/v1` API ([`routes::needs`], [`routes::taxonomy`]), [`api`] and
//!   [`openapi`] (the document generated from that routing).
//! - [`aggregate`]: [`aggregate::Needs`], the need aggregate for the kit's write path
//!   (`capmatch_service::Writer`: retries answered from the log, decide, append with the
//!   expected version, read-your-writes).
//! - [`view`]: the read model, in creation order.
//! - [`introductions`]: which providers each need is shared with now, from the matcher's feed.
//! - [`state`]: what handlers share, and the visibility check.
//!
//! The internal feed (`/internal/events`, `/internal/head`), `/livez`, `/readyz`, the error
//! mapping and the rest of the plumbing come from `capmatch-service`.

pub mod aggregate;
pub mod config;
pub mod introductions;
pub mod routes;
pub mod startup;
pub mod state;
pub mod view;

pub use config::NeedsConfig;
pub use routes::{api, openapi};
pub use startup::Application;
