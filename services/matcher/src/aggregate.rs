//! The partnership aggregate as the matcher stores it: one stream per match,
//! `match-<need id>~<offer id>`, holding `capmatch_domain::partnership::MatchEvent`s.

use capmatch_domain::actor::{Actor, Role};
use capmatch_domain::ids::MatchId;
use capmatch_domain::partnership::{MatchEvent, MatchState, evolve};
use capmatch_eventstore::StoredEvent;
use capmatch_service::ApplyError;

/// The subject the matcher records its own decisions (closing matches) under, and presents to
/// its peers' feeds.
pub const SERVICE_SUBJECT: &str = "svc:matcher";

/// Streams of this store start with this.
pub const STREAM_PREFIX: &str = "match-";

/// The stream a match's decisions live in: `match-<need>~<offer>`.
pub fn stream_name(id: MatchId) -> String {
    format!("{STREAM_PREFIX}{id}")
}

/// The matcher itself, as the actor of the decisions it takes.
pub fn service_actor() -> Actor {
    Actor::new(SERVICE_SUBJECT, Role::Service)
}

/// Decodes a stored decision.
pub fn decode(event: &StoredEvent) -> Result<MatchEvent, ApplyError> {
    capmatch_service::decode_event(event)
}

/// Folds a stream's stored decisions, oldest first.
pub fn fold(events: &[StoredEvent]) -> Result<Option<MatchState>, ApplyError> {
    let mut state = None;
    for stored in events {
        state = evolve(state, &decode(stored)?);
    }
    Ok(state)
}
