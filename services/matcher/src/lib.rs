//! The matcher **service**: the matching engine (`capmatch-engine`) behind an HTTP API, fed by
//! the needs and offers event feeds, with the review workflow recorded as events in the
//! matcher's own store.
//!
//! Module map:
//! - [`config`]: [`MatcherServiceConfig`] — server, `data_dir`, auth, the needs and offers
//!   peers, the engine's [`capmatch_engine::MatcherConfig`], the stale threshold, the page size.
//! - [`startup`]: [`Application`] — build (open the store, replay the decisions, follow both
//!   feeds from position 0, build the index once both caught up), port, run, stop.
//! - [`knowledge`]: [`knowledge::Knowledge`], everything the matcher knows in memory: needs and
//!   offers as their feeds built them, every decided match, the engine.
//! - [`feeds`]: the [`capmatch_service::FeedConsumer`]s of the needs and offers feeds.
//! - [`decisions`]: the read model of the matcher's own store (match decisions), for
//!   read-your-writes.
//! - [`aggregate`]: the partnership aggregate ([`aggregate::Matches`]) as the kit's write path
//!   (`capmatch_service::Writer`) and the store see it: streams named by (need, offer) pair.
//! - [`closer`]: appends `match.closed` to every open match of a withdrawn or fulfilled need or
//!   a withdrawn offer, with deterministic event ids.
//! - [`routes`]: the `/v1` API ([`routes::suggestions`], [`routes::matches`],
//!   [`routes::insight`]), [`api`] and [`openapi`].
//! - [`wire`]: the response types.
//! - [`error`]: engine errors as problems.
//! - [`state`]: what handlers share.
//!
//! The internal feed (`/internal/events`, `/internal/head`) — which the needs service follows to
//! learn `match.introduced` — `/livez`, `/readyz` and the error mapping come from
//! `capmatch-service`.

pub mod aggregate;
pub mod closer;
pub mod config;
pub mod decisions;
pub mod error;
pub mod feeds;
pub mod knowledge;
pub mod routes;
pub mod startup;
pub mod state;
pub mod wire;

pub use config::MatcherServiceConfig;
pub use routes::{api, openapi};
pub use startup::{Application, BuildError};
