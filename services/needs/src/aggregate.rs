//! The need aggregate as the kit's write path sees it.

use capmatch_domain::actor::Actor;
use capmatch_domain::error::DomainError;
use capmatch_domain::need::{self, NeedCommand, NeedEvent, NeedId, NeedState};
use capmatch_service::{Aggregate, Listed};
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// The stream a need's events live in: `need-<id>`.
pub fn stream_name(id: NeedId) -> String {
    format!("need-{id}")
}

/// Needs, for [`capmatch_service::Writer`].
#[derive(Debug)]
pub struct Needs;

impl Aggregate for Needs {
    type Id = Uuid;
    type State = NeedState;
    type Event = NeedEvent;
    type Command = NeedCommand;

    fn stream(id: &Uuid) -> String {
        stream_name(NeedId::from(*id))
    }

    fn id(state: &NeedState) -> Uuid {
        state.id.as_uuid()
    }

    fn version(state: &NeedState) -> u64 {
        state.version
    }

    fn authorize(
        _id: &Uuid,
        state: Option<&NeedState>,
        command: &NeedCommand,
        actor: &Actor,
    ) -> Result<(), DomainError> {
        need::authorize(state, command, actor)
    }

    fn decide(
        _id: &Uuid,
        state: Option<&NeedState>,
        command: NeedCommand,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Vec<NeedEvent>, DomainError> {
        need::decide(state, command, actor, now)
    }

    fn evolve(state: Option<NeedState>, event: &NeedEvent) -> Option<NeedState> {
        need::evolve(state, event)
    }
}

impl Listed for Needs {
    fn entity(event: &Self::Event) -> Uuid {
        event.need_id().as_uuid()
    }

    fn created_at(state: &NeedState) -> DateTime<Utc> {
        state.posted_at
    }
}
