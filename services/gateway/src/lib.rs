//! `capmatch-gateway`: the one public entry point: routing, the edge checks, the API document.
//!
//! - [`routes`]: which service owns which public path; `/internal/…` is never routed.
//! - [`proxy`]: forwards a request (method, path, query, body and the headers that matter) to its
//!   upstream and returns the upstream's answer unchanged; a down upstream becomes a 503
//!   problem. Upstreams in the same process ([`LocalUpstreams`], `capmatch serve`) are not
//!   forwarded to: their APIs are mounted in the gateway's app and answer in its pipeline.
//! - [`edge`]: what every request passes first: the rate limit (client address for every caller
//!   not yet established, token subject for the others) and the token; for the API also the
//!   body limit and the timeout (a slow upstream is a 504).
//! - [`limit`]: the per-caller token buckets, with `governor`.
//! - [`client`]: the client's address: the peer, or what trusted reverse proxies say.
//! - [`openapi`]: the services' documents merged into one, served at `/openapi.json` with
//!   Swagger UI at `/docs` (assets built in, works offline).
//! - [`health`]: `/livez`, and `/readyz` reflecting every upstream's readiness.
//! - [`config`]: the gateway's settings, [`GatewayConfig`].
//! - [`app`]: [`build`] (and [`build_with_local`]), which binds, composes the above, and serves on
//!   the kit's server.
//!
//! The gateway verifies the JWT at the edge as well (each service verifies it again): a bad
//! token never reaches a service.

pub mod app;
pub mod client;
pub mod config;
pub mod edge;
pub mod health;
pub mod limit;
pub mod openapi;
pub mod proxy;
pub mod routes;

pub use app::{build, build_with_local};
pub use client::TrustedProxies;
pub use config::{CorsConfig, GatewayConfig, RateLimitConfig, Upstreams};
pub use proxy::LocalUpstreams;
