//! The write path every command of every service takes, written once over an [`Aggregate`]:
//!
//! 0. the caller must be allowed to ask for the command at all ([`Aggregate::authorize`], 403):
//!    before anything below, so a caller who may not act learns nothing from a replayed answer
//!    or an `If-Match` comparison (the handler has already answered 404 for an entity the
//!    caller may not see);
//! 1. a request whose first event id is stored already (a retry under the same
//!    `Idempotency-Key` and body) is answered from the log — the entity as it was right after
//!    that event — and runs nothing;
//! 2. the same key with another body on the same resource is 422 `idempotency_key_reused`;
//! 3. `If-Match` is compared with the read model's version (412);
//! 4. the pure `decide` runs (403, 409, 422 from the domain), then any rule the caller adds
//!    outside the aggregate ([`Writer::act_on`]'s `check`);
//! 5. the events are appended with the expected version (`NoStream` for a new stream,
//!    `Exact(version)` otherwise), so a concurrent change loses with 412 (or 409 without
//!    `If-Match`);
//! 6. the answer waits until the service's read model has applied the append
//!    (read-your-writes), and is the entity folded with the new events.

use std::time::Duration;

use capmatch_domain::actor::Actor;
use capmatch_domain::error::DomainError;
use capmatch_domain::event::DomainEvent;
use capmatch_eventstore::{
    Error as StoreError, EventMetadata, EventStore, ExpectedVersion, NewEvent, StoredEvent,
};
use capmatch_http::{ApiError, RequestId};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::{OnVersionConflict, domain_error, idempotency_key_reused, store_error};
use crate::idempotency::CommandIds;
use crate::projection::{ApplyError, Projection};
use crate::write::{Appended, append_command};

/// Events read per page when replaying one entity's stream.
const STREAM_PAGE: usize = 1000;

/// A pure aggregate as the write path sees it.
pub trait Aggregate {
    /// What names an entity: a `Uuid` for needs and offers, the (need, offer) pair for a match.
    type Id;
    type State: Clone;
    type Event: DomainEvent;
    type Command;

    /// The stream an entity's events live in.
    fn stream(id: &Self::Id) -> String;
    /// The entity's id.
    fn id(state: &Self::State) -> Self::Id;
    /// Events applied so far (the stream version).
    fn version(state: &Self::State) -> u64;
    /// Whether `actor` may ask for `command` on the entity `id` (in `state`, if it has one) at
    /// all (403 otherwise), whatever else is true of it. `decide` holds the same rules; this is
    /// asked first.
    fn authorize(
        id: &Self::Id,
        state: Option<&Self::State>,
        command: &Self::Command,
        actor: &Actor,
    ) -> Result<(), DomainError>;
    fn decide(
        id: &Self::Id,
        state: Option<&Self::State>,
        command: Self::Command,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Vec<Self::Event>, DomainError>;
    fn evolve(state: Option<Self::State>, event: &Self::Event) -> Option<Self::State>;

    /// Decodes a stored event of this aggregate.
    fn decode(event: &StoredEvent) -> Result<Self::Event, ApplyError> {
        decode_event(event)
    }
}

/// An aggregate whose entities a read model lists ([`crate::Entities`]) in creation order.
pub trait Listed: Aggregate {
    /// The entity an event belongs to.
    fn entity(event: &Self::Event) -> Uuid;
    /// When the entity was created: with its id, its place in creation order.
    fn created_at(state: &Self::State) -> DateTime<Utc>;
}

/// Decodes a stored event as the domain event `E` (type name, schema version, payload).
pub fn decode_event<E: DomainEvent>(event: &StoredEvent) -> Result<E, ApplyError> {
    let payload = event
        .payload_value()
        .map_err(|e| ApplyError::new(event, e.to_string()))?;
    E::from_stored(&event.event_type, event.schema_version, payload)
        .map_err(|e| ApplyError::new(event, e.to_string()))
}

/// The state a command left the entity in.
#[derive(Debug, Clone)]
pub struct Outcome<S> {
    pub state: S,
    /// Answered from the log: an earlier try of the same request did the work.
    pub replayed: bool,
}

/// Who asks, under which ids, in answer to which request.
#[derive(Debug)]
pub struct CommandRequest<'a> {
    pub actor: &'a Actor,
    pub ids: CommandIds,
    pub request_id: &'a RequestId,
}

impl CommandRequest<'_> {
    /// The metadata every event of the request carries: the actor, the request id as
    /// correlation, the idempotent command id as causation.
    pub fn metadata(&self) -> EventMetadata {
        let rid = self.request_id.as_str();
        EventMetadata {
            actor_subject: Some(self.actor.subject.as_str().into()),
            actor_role: Some(self.actor.role.name().into()),
            correlation_id: Some(
                Uuid::parse_str(rid)
                    .unwrap_or_else(|_| Uuid::new_v5(&Uuid::NAMESPACE_OID, rid.as_bytes())),
            ),
            causation_id: self.ids.command_id(),
        }
    }

    fn events<E: DomainEvent>(&self, events: &[E]) -> Vec<NewEvent> {
        let metadata = self.metadata();
        events
            .iter()
            .enumerate()
            .map(|(i, e)| {
                NewEvent::new(
                    self.ids.event_id(i),
                    e.event_type(),
                    e.schema_version(),
                    e.to_payload(),
                )
                .with_metadata(metadata.clone())
            })
            .collect()
    }
}

/// The store and read model a service writes through.
#[derive(Debug)]
pub struct Writer<'a, V> {
    pub store: &'a EventStore,
    pub projection: &'a Projection<V>,
    /// How long to wait for the read model to include a write (503 beyond).
    pub wait: Duration,
}

impl<V> Writer<'_, V> {
    /// Creates a new entity: `command(id)` is decided against no state, with the id derived
    /// from the request (`Idempotency-Key`) or random.
    pub async fn create<A>(
        &self,
        request: &CommandRequest<'_>,
        command: impl FnOnce(Uuid) -> A::Command,
    ) -> Result<Outcome<A::State>, ApiError>
    where
        A: Aggregate<Id = Uuid>,
    {
        let id = request.ids.entity_id();
        let command = command(id);
        A::authorize(&id, None, &command, request.actor).map_err(domain_error)?;
        let stream = A::stream(&id);
        if let Some(outcome) = self.replay::<A>(request, &stream).await? {
            return Ok(outcome);
        }
        if request.ids.is_keyed() {
            let version = self.store.stream_version(&stream).await.map_err(conflict)?;
            if version > 0 {
                return Err(idempotency_key_reused());
            }
        }
        let events =
            A::decide(&id, None, command, request.actor, Utc::now()).map_err(domain_error)?;
        let appended = append_command(
            self.store,
            &stream,
            ExpectedVersion::NoStream,
            request.events(&events),
        )
        .await;
        match appended {
            Err(StoreError::WrongExpectedVersion { .. }) if request.ids.is_keyed() => {
                Err(idempotency_key_reused())
            }
            other => {
                self.finish::<A>(None, &events, other, OnVersionConflict::Conflict)
                    .await
            }
        }
    }

    /// Runs `command` on the existing entity `current` (already found visible to the actor).
    /// `if_match`: the version the caller named (412 when stale, here or at the append).
    pub async fn act<A: Aggregate>(
        &self,
        request: &CommandRequest<'_>,
        current: A::State,
        command: A::Command,
        if_match: Option<u64>,
    ) -> Result<Outcome<A::State>, ApiError> {
        let id = A::id(&current);
        self.act_on::<A>(request, &id, Some(current), command, if_match, |_| Ok(()))
            .await
    }

    /// Runs `command` on the entity `id`, in `current` or without events yet (its first
    /// command then appends to a new stream). `check` sees the decided events before they are
    /// appended and may refuse them (rules outside the aggregate, such as the matcher's).
    pub async fn act_on<A: Aggregate>(
        &self,
        request: &CommandRequest<'_>,
        id: &A::Id,
        current: Option<A::State>,
        command: A::Command,
        if_match: Option<u64>,
        check: impl FnOnce(&[A::Event]) -> Result<(), ApiError>,
    ) -> Result<Outcome<A::State>, ApiError> {
        A::authorize(id, current.as_ref(), &command, request.actor).map_err(domain_error)?;
        let stream = A::stream(id);
        if let Some(outcome) = self.replay::<A>(request, &stream).await? {
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
        let version = current.as_ref().map_or(0, A::version);
        if let Some(named) = if_match
            && named != version
        {
            return Err(ApiError::precondition_failed(named, version));
        }
        let events = A::decide(id, current.as_ref(), command, request.actor, Utc::now())
            .map_err(domain_error)?;
        if events.is_empty() {
            return current
                .map(|state| Outcome {
                    state,
                    replayed: false,
                })
                .ok_or_else(|| ApiError::internal("a command left no entity"));
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
        let appended = append_command(self.store, &stream, expected, request.events(&events)).await;
        self.finish::<A>(current, &events, appended, on_conflict)
            .await
    }

    /// When the request's first event id is stored already, the answer it got then; the same
    /// key used on another entity is 422.
    async fn replay<A: Aggregate>(
        &self,
        request: &CommandRequest<'_>,
        stream: &str,
    ) -> Result<Option<Outcome<A::State>>, ApiError> {
        if !request.ids.is_keyed() {
            return Ok(None);
        }
        let original = self
            .store
            .find_event(request.ids.event_id(0))
            .await
            .map_err(conflict)?;
        match original {
            Some(event) if event.stream == stream => {
                self.answer_from_log::<A>(&event).await.map(Some)
            }
            Some(_) => Err(idempotency_key_reused()),
            None => Ok(None),
        }
    }

    async fn finish<A: Aggregate>(
        &self,
        current: Option<A::State>,
        events: &[A::Event],
        appended: Result<Appended, StoreError>,
        on_conflict: OnVersionConflict,
    ) -> Result<Outcome<A::State>, ApiError> {
        match appended.map_err(|e| store_error(e, on_conflict))? {
            Appended::New(result) => {
                self.projection
                    .wait_for(result.last_position, self.wait)
                    .await?;
                let state = events
                    .iter()
                    .fold(current, A::evolve)
                    .ok_or_else(|| ApiError::internal("a write left no entity"))?;
                Ok(Outcome {
                    state,
                    replayed: false,
                })
            }
            Appended::Replayed(event) => self.answer_from_log::<A>(&event).await,
        }
    }

    /// The entity as it was right after `event`, rebuilt from its stream: the original answer.
    async fn answer_from_log<A: Aggregate>(
        &self,
        event: &StoredEvent,
    ) -> Result<Outcome<A::State>, ApiError> {
        self.projection.wait_for(event.position, self.wait).await?;
        let history = read_stream(self.store, &event.stream, event.stream_version).await?;
        let mut state = None;
        for stored in &history {
            let decoded = A::decode(stored).map_err(ApiError::internal)?;
            state = A::evolve(state, &decoded);
        }
        state
            .map(|state| Outcome {
                state,
                replayed: true,
            })
            .ok_or_else(|| ApiError::internal("a stored event has no entity"))
    }
}

fn conflict(err: StoreError) -> ApiError {
    store_error(err, OnVersionConflict::Conflict)
}

/// A stream's events up to version `until` (`u64::MAX`: all), oldest first.
pub async fn read_stream(
    store: &EventStore,
    stream: &str,
    until: u64,
) -> Result<Vec<StoredEvent>, ApiError> {
    let mut events: Vec<StoredEvent> = Vec::new();
    loop {
        let from = events.len() as u64 + 1;
        if from > until {
            break;
        }
        let page = store
            .read_stream(stream, from, STREAM_PAGE)
            .await
            .map_err(conflict)?;
        let full = page.len() == STREAM_PAGE;
        events.extend(page.into_iter().filter(|e| e.stream_version <= until));
        if !full {
            break;
        }
    }
    Ok(events)
}
