//! `capmatch-service`: the kit every capmatch service (needs, offers, matcher, gateway) runs on,
//! written once.
//!
//! - [`config`]: [`ServerConfig`] (bind, body limit, workers, shutdown) and [`PeerConfig`] (a
//!   peer's feed and the service token for it); all `Deserialize`.
//! - [`server`]: [`Application`] — the HTTP server on a listener it bound (port 0 works), its
//!   background tasks and stores ([`Lifecycle`]), and the graceful [`StopHandle`].
//! - [`app`]: [`Foundation`], the startup of every store-owning service (bind, open, replay,
//!   follow, serve); [`Common`], the parts every app carries (verifier, extractor configs with
//!   the body limit, internal feed, health, problem default service); [`StartupError`].
//! - [`colocated`]: [`Colocated`], an application of this process whose API another app of the
//!   process serves in its own pipeline (the gateway under `capmatch serve`).
//! - [`entities`]: [`Entities`], the read model of a one-aggregate service (by id, in creation
//!   order).
//! - [`projection`]: [`Projection`], an in-memory read model of the service's own store with the
//!   position it applied, for read-your-writes.
//! - [`feed`]: the internal event feed `GET /internal/events` (long-poll) and `/internal/head`.
//! - [`follower`]: [`Follower`], which follows a peer's feed into a [`FeedConsumer`] with
//!   back-off, checkpoint and readiness; [`HttpFeedSource`] over `awc`.
//! - [`token`]: [`TokenSource`], the service token for a peer (static or minted).
//! - [`idempotency`]: the `Idempotency-Key` extractor and the ids derived from it.
//! - [`command`]: the write path of every command over an [`Aggregate`] — retries answered from
//!   the log, key reuse refused, `If-Match`, decide, append with the expected version,
//!   read-your-writes ([`Writer`]).
//! - [`write`]: [`append_command`], an append that answers a retried request with the original.
//! - [`error`]: `DomainError` and store errors as problems, in exhaustive matches.
//! - [`pagination`]: `limit` + opaque cursor ([`ListKey`]), and [`paginate`].
//! - [`peer`]: where a follower reads a peer's feed: over HTTP, or from its store in-process.
//! - [`health`]: `/livez`, `/readyz` and their checks.
//! - [`metrics`]: `/metrics` (Prometheus): requests by route, store, feed lag, index sizes.
//! - [`history`]: [`HistoryEntry`], one recorded event as a history endpoint shows it.
//! - [`extract`]: [`OptionalJson`], for bodies that may be absent.
//! - [`openapi`]: the base document (bearer-JWT scheme, problem schemas) and problem responses.
//! - [`telemetry`]: the tracing subscriber (`TEST_LOG` for tests).
//! - [`logline`]: the readable log line, written quickly ([`logline::Line`]).
//! - `testing` (feature `testing`): an HTTP test client and test tokens for the services'
//!   integration tests.

pub mod app;
pub mod colocated;
pub mod command;
pub mod config;
pub mod entities;
pub mod error;
pub mod extract;
pub mod feed;
pub mod filters;
pub mod follower;
pub mod health;
pub mod history;
pub mod idempotency;
pub mod logline;
pub mod metrics;
pub mod openapi;
pub mod pagination;
pub mod peer;
pub mod projection;
pub mod server;
pub mod telemetry;
#[cfg(feature = "testing")]
pub mod testing;
pub mod token;
pub mod write;

pub use app::{Common, Foundation, StartupError, open_store, shared};
pub use colocated::{Colocated, Mounting};
pub use command::{Aggregate, CommandRequest, Listed, Outcome, Writer, decode_event, read_stream};
pub use config::{FollowConfig, PeerConfig, ServerConfig, ServiceTokenConfig};
pub use entities::{Entities, Entry};
pub use error::{OnVersionConflict, domain_error, idempotency_key_reused, store_error};
pub use extract::OptionalJson;
pub use feed::{FeedPage, FeedState};
pub use follower::{FeedConsumer, FeedSource, FeedStatus, Follower, HttpFeedSource};
pub use health::{Health, Probe};
pub use history::HistoryEntry;
pub use idempotency::{CommandIds, Idempotency, IdempotencyKey, body_digest};
pub use pagination::{ListKey, Page, PageRequest, paginate};
pub use peer::{FeedFrom, LocalFeed, PeerSource};
pub use projection::{ApplyError, Projection, View};
pub use server::{Application, Lifecycle, StopHandle};
pub use token::TokenSource;
/// The shutdown signal background work stops on: one token per service, cancelled once.
pub use tokio_util::sync::CancellationToken;
pub use write::{Appended, append_command};
