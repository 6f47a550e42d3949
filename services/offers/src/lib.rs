//! `capmatch-offers`: the offers service. Providers post capacity-building offers for the
//! organisation in their token; the organisation (or a coordinator) revises, pauses, resumes and
//! withdraws them; every change is an event in the service's own store; reads come from an
//! in-memory projection. Offers are public; their history is the organisation's and the
//! coordinators'.
//!
//! Module map:
//! - [`config`]: [`OffersConfig`] — server, `data_dir`, auth.
//! - [`startup`]: [`Application`] — build, port, run until stopped, stop gracefully.
//! - [`routes`]: the `/v1` API ([`routes::offers`]), [`api`] and [`openapi`] (the document
//!   generated from that routing).
//! - [`aggregate`]: [`aggregate::Offers`], the offer aggregate for the kit's write path.
//! - [`view`]: the read model, in creation order.
//! - [`state`]: what handlers share.
//!
//! The internal feed (`/internal/events`, `/internal/head`), `/livez`, `/readyz`, the error
//! mapping and the rest of the plumbing come from `capmatch-service`.

pub mod aggregate;
pub mod config;
pub mod routes;
pub mod startup;
pub mod state;
pub mod view;

pub use config::OffersConfig;
pub use routes::{api, openapi};
pub use startup::Application;
