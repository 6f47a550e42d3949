//! What the handlers share: the store, the decisions' read model, the knowledge, the settings.

use std::sync::Arc;
use std::time::Duration;

use capmatch_domain::partnership::MatchState;
use capmatch_eventstore::EventStore;
use capmatch_service::{Projection, Writer};
use chrono::Utc;

use crate::decisions::Decisions;
use crate::knowledge::SharedKnowledge;

#[derive(Debug)]
pub struct AppState {
    pub store: EventStore,
    pub decisions: Arc<Projection<Decisions>>,
    pub knowledge: SharedKnowledge,
    /// How long a write waits for the read model to include it.
    pub write_wait: Duration,
    /// Introduced matches waiting longer than this are stale.
    pub stale_after: chrono::Duration,
    /// Items per page when the caller gives no `limit`.
    pub page_size: i64,
}

impl AppState {
    /// The write path over this service's store and read model.
    pub fn writer(&self) -> Writer<'_, Decisions> {
        Writer {
            store: &self.store,
            projection: &self.decisions,
            wait: self.write_wait,
        }
    }

    /// Whether the match is introduced and has waited for a party longer than configured.
    pub fn is_stale(&self, state: &MatchState) -> bool {
        state.is_stale(Utc::now(), self.stale_after)
    }
}
