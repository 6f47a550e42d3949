//! The internal event feed every service exposes to its consumers (service role only), outside
//! the public API document:
//!
//! - `GET /internal/events?after=<position>&limit=<1..=1000, default 100>&wait_ms=<0..=30000>`
//!   answers `{"events": [StoredEvent...], "head": {"position": n, "hash": "<hex>"}}` with the
//!   events after `after` in position order; when there are none it long-polls up to `wait_ms`
//!   for the next one (and returns early, empty, when the service shuts down).
//! - `GET /internal/head` answers the durable head `{"position": n, "hash": "<hex>"}`, for audits.
//!
//! Anonymous callers get 401, other roles 403, a bad query 400.

use std::time::Duration;

use actix_web::{HttpResponse, get, web};
use capmatch_auth::ServiceCaller;
use capmatch_eventstore::{EventStore, Head, StoredEvent};
use capmatch_http::{ApiError, FieldError};
use serde::{Deserialize, Serialize};

use crate::error::store_error;
use tokio_util::sync::CancellationToken;

/// Events per page when the consumer does not say.
pub const DEFAULT_FEED_LIMIT: u64 = 100;
/// Most events per page.
pub const MAX_FEED_LIMIT: u64 = 1000;
/// Longest long-poll.
pub const MAX_FEED_WAIT_MS: u64 = 30_000;

/// One page of the feed: what `GET /internal/events` answers, and what a follower reads.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FeedPage {
    /// Events after the requested position, in position order, without gaps.
    pub events: Vec<StoredEvent>,
    /// The durable head when the page was read (at or after the last event).
    pub head: Head,
}

/// The store and shutdown signal the feed handlers serve from.
#[derive(Debug, Clone)]
pub struct FeedState {
    store: EventStore,
    shutdown: CancellationToken,
}

impl FeedState {
    pub fn new(store: EventStore, shutdown: CancellationToken) -> Self {
        Self { store, shutdown }
    }
}

/// The `/internal` scope with both feed endpoints. Register it with plain `App::service`,
/// outside the documented API.
pub fn scope(state: web::Data<FeedState>) -> actix_web::Scope {
    web::scope("/internal")
        .app_data(state)
        .service(read_events)
        .service(read_head)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FeedQuery {
    after: Option<u64>,
    limit: Option<u64>,
    wait_ms: Option<u64>,
}

#[get("/events")]
async fn read_events(
    _caller: ServiceCaller,
    query: web::Query<FeedQuery>,
    feed: web::Data<FeedState>,
) -> Result<HttpResponse, ApiError> {
    let after = query.after.unwrap_or(0);
    let limit = query.limit.unwrap_or(DEFAULT_FEED_LIMIT);
    let wait_ms = query.wait_ms.unwrap_or(0);
    let mut errors = Vec::new();
    if !(1..=MAX_FEED_LIMIT).contains(&limit) {
        errors.push(FieldError::new(
            "query.limit",
            "out_of_range",
            format!("limit must be between 1 and {MAX_FEED_LIMIT}"),
        ));
    }
    if wait_ms > MAX_FEED_WAIT_MS {
        errors.push(FieldError::new(
            "query.wait_ms",
            "out_of_range",
            format!("wait_ms must be at most {MAX_FEED_WAIT_MS}"),
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::invalid_query(errors));
    }
    // The limit is at most 1000, so it fits any usize.
    let limit = usize::try_from(limit).unwrap_or(1000);
    let store = &feed.store;
    let mut events = store
        .read_all(after, limit)
        .await
        .map_err(|e| store_error(e, crate::error::OnVersionConflict::Conflict))?;
    if events.is_empty() && wait_ms > 0 && !feed.shutdown.is_cancelled() {
        tokio::select! {
            _ = store.wait_for_head_after(after, Duration::from_millis(wait_ms)) => {}
            () = feed.shutdown.cancelled() => {}
        }
        events = store
            .read_all(after, limit)
            .await
            .map_err(|e| store_error(e, crate::error::OnVersionConflict::Conflict))?;
    }
    let head = store.head();
    Ok(HttpResponse::Ok().json(FeedPage { events, head }))
}

#[get("/head")]
async fn read_head(_caller: ServiceCaller, feed: web::Data<FeedState>) -> HttpResponse {
    HttpResponse::Ok().json(feed.store.head())
}
