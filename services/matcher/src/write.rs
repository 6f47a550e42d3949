//! The write path of a decision on a match, step for step the kit's
//! [`capmatch_service::Writer::act`], so `Idempotency-Key`, `If-Match`, read-your-writes and
//! the error mapping behave exactly as in the needs and offers services:
//!
//! 0. the caller must be allowed to ask for the decision at all
//!    (`partnership::authorize`, 403), before anything below (the handler has already
//!    answered 404 for a match the caller may not see);
//! 1. a request whose first event id is stored already (a retry under the same
//!    `Idempotency-Key` and body) is answered from the log and runs nothing;
//! 2. the same key with another body on the same match is 422 `idempotency_key_reused`;
//! 3. `If-Match` is compared with the match's version (412);
//! 4. the pure `partnership::decide` runs (403, 409, 422), then the caller's `check` (the
//!    engine's hard rules for shortlisting and introducing);
//! 5. the events are appended with the expected version (`NoStream` for a match's first
//!    decision), so a concurrent decision loses with 412 (or 409 without `If-Match`);
//! 6. the answer waits until the read model has the decision, and is the match after it.
//!
//! Why not `Writer::act` itself: the kit's `Aggregate` names streams by one `Uuid`
//! (`stream(id: Uuid)`), and a match is identified by its (need, offer) pair, stored in
//! `match-<need>~<offer>`; and a match's first decision is an `act` on a pair that has no
//! stream yet rather than a `create` with a fresh id.

use std::time::Duration;

use capmatch_domain::event::DomainEvent;
use capmatch_domain::partnership::{self, MatchCommand, MatchEvent, MatchState, Pair};
use capmatch_eventstore::{EventStore, ExpectedVersion, NewEvent, StoredEvent};
use capmatch_http::ApiError;
use capmatch_service::{
    Appended, CommandRequest, OnVersionConflict, Outcome, Projection, append_command, domain_error,
    idempotency_key_reused, read_stream, store_error,
};
use chrono::Utc;
use uuid::Uuid;

use crate::aggregate::{fold, stream_name};
use crate::decisions::Decisions;

/// The namespace of ids derived from an `Idempotency-Key` in this service.
pub const ID_NAMESPACE: Uuid = Uuid::from_u128(0x6d61_7463_6865_725f_6964_656d_706f_7465);

/// The store and read model decisions are written through.
#[derive(Debug)]
pub struct DecisionWriter<'a> {
    pub store: &'a EventStore,
    pub projection: &'a Projection<Decisions>,
    /// How long to wait for the read model to include a write (503 beyond).
    pub wait: Duration,
}

impl DecisionWriter<'_> {
    /// Decides `command` on the match of `pair` (`current`: its state, `None` while it is only
    /// suggested) and records the result. `check` sees the decided events before they are
    /// appended and may refuse them.
    pub async fn act(
        &self,
        request: &CommandRequest<'_>,
        pair: &Pair,
        current: Option<MatchState>,
        command: MatchCommand,
        if_match: Option<u64>,
        check: impl FnOnce(&[MatchEvent]) -> Result<(), ApiError>,
    ) -> Result<Outcome<MatchState>, ApiError> {
        partnership::authorize(current.as_ref(), pair, &command, request.actor)
            .map_err(domain_error)?;
        let stream = stream_name(pair.match_id());
        if let Some(outcome) = self.replay(request, &stream).await? {
            return Ok(outcome);
        }
        if let Some(command_id) = request.ids.command_id() {
            let history = read_stream(self.store, &stream, u64::MAX).await?;
            if history
                .iter()
                .any(|e| e.metadata.causation_id == Some(command_id))
            {
                return Err(idempotency_key_reused());
            }
        }
        let version = current.as_ref().map_or(0, |s| s.version);
        if let Some(named) = if_match
            && named != version
        {
            return Err(ApiError::precondition_failed(named, version));
        }
        let events =
            partnership::decide(current.as_ref(), pair, command, request.actor, Utc::now())
                .map_err(domain_error)?;
        if events.is_empty() {
            return current
                .map(|state| Outcome {
                    state,
                    replayed: false,
                })
                .ok_or_else(|| ApiError::internal("a decision left no match"));
        }
        check(&events)?;
        let expected = match version {
            0 => ExpectedVersion::NoStream,
            v => ExpectedVersion::Exact(v),
        };
        let on_conflict = match if_match {
            Some(_) => OnVersionConflict::PreconditionFailed,
            None => OnVersionConflict::Conflict,
        };
        let appended =
            append_command(self.store, &stream, expected, new_events(request, &events)).await;
        match appended.map_err(|e| store_error(e, on_conflict))? {
            Appended::New(result) => {
                self.projection
                    .wait_for(result.last_position, self.wait)
                    .await?;
                let state = events
                    .iter()
                    .fold(current, partnership::evolve)
                    .ok_or_else(|| ApiError::internal("a decision left no match"))?;
                Ok(Outcome {
                    state,
                    replayed: false,
                })
            }
            Appended::Replayed(event) => self.answer_from_log(&event).await,
        }
    }

    /// When the request's first event id is stored already, the answer it got then.
    async fn replay(
        &self,
        request: &CommandRequest<'_>,
        stream: &str,
    ) -> Result<Option<Outcome<MatchState>>, ApiError> {
        if !request.ids.is_keyed() {
            return Ok(None);
        }
        let original = self
            .store
            .find_event(request.ids.event_id(0))
            .await
            .map_err(|e| store_error(e, OnVersionConflict::Conflict))?;
        match original {
            Some(event) if event.stream == stream => self.answer_from_log(&event).await.map(Some),
            Some(_) => Err(idempotency_key_reused()),
            None => Ok(None),
        }
    }

    /// The match as it was right after `event`, rebuilt from its stream.
    async fn answer_from_log(&self, event: &StoredEvent) -> Result<Outcome<MatchState>, ApiError> {
        self.projection.wait_for(event.position, self.wait).await?;
        let history = read_stream(self.store, &event.stream, event.stream_version).await?;
        fold(&history)
            .map_err(ApiError::internal)?
            .map(|state| Outcome {
                state,
                replayed: true,
            })
            .ok_or_else(|| ApiError::internal("a stored decision has no match"))
    }
}

/// The request's events with their ids and metadata, as the kit's writer makes them.
fn new_events(request: &CommandRequest<'_>, events: &[MatchEvent]) -> Vec<NewEvent> {
    let metadata = request.metadata();
    events
        .iter()
        .enumerate()
        .map(|(i, e)| {
            NewEvent::new(
                request.ids.event_id(i),
                e.event_type(),
                e.schema_version(),
                e.to_payload(),
            )
            .with_metadata(metadata.clone())
        })
        .collect()
}
