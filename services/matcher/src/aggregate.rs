//! The partnership aggregate as the matcher stores it: one stream per match,
//! `match-<need id>~<offer id>`, holding `capmatch_domain::partnership::MatchEvent`s, named by
//! its (need, offer) pair; its first decision starts its stream.

use capmatch_domain::actor::{Actor, Role};
use capmatch_domain::error::DomainError;
use capmatch_domain::ids::MatchId;
use capmatch_domain::partnership::{self, MatchCommand, MatchEvent, MatchState, Pair, evolve};
use capmatch_eventstore::StoredEvent;
use capmatch_service::{Aggregate, ApplyError};
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// The namespace of ids derived from an `Idempotency-Key` in this service.
pub const ID_NAMESPACE: Uuid = Uuid::from_u128(0x6d61_7463_6865_725f_6964_656d_706f_7465);

/// Matches, for [`capmatch_service::Writer`].
#[derive(Debug)]
pub struct Matches;

impl Aggregate for Matches {
    type Id = Pair;
    type State = MatchState;
    type Event = MatchEvent;
    type Command = MatchCommand;

    fn stream(pair: &Pair) -> String {
        stream_name(pair.match_id())
    }

    fn id(state: &MatchState) -> Pair {
        state.pair.clone()
    }

    fn version(state: &MatchState) -> u64 {
        state.version
    }

    fn authorize(
        pair: &Pair,
        state: Option<&MatchState>,
        command: &MatchCommand,
        actor: &Actor,
    ) -> Result<(), DomainError> {
        partnership::authorize(state, pair, command, actor)
    }

    fn decide(
        pair: &Pair,
        state: Option<&MatchState>,
        command: MatchCommand,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Vec<MatchEvent>, DomainError> {
        partnership::decide(state, pair, command, actor, now)
    }

    fn evolve(state: Option<MatchState>, event: &MatchEvent) -> Option<MatchState> {
        evolve(state, event)
    }
}

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
