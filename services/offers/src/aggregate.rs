//! The offer aggregate as the kit's write path sees it.

use capmatch_domain::actor::Actor;
use capmatch_domain::error::DomainError;
use capmatch_domain::offer::{self, OfferCommand, OfferEvent, OfferId, OfferState};
use capmatch_service::{Aggregate, Listed};
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// The stream an offer's events live in: `offer-<id>`.
pub fn stream_name(id: OfferId) -> String {
    format!("offer-{id}")
}

/// Offers, for [`capmatch_service::Writer`].
#[derive(Debug)]
pub struct Offers;

impl Aggregate for Offers {
    type Id = Uuid;
    type State = OfferState;
    type Event = OfferEvent;
    type Command = OfferCommand;

    fn stream(id: &Uuid) -> String {
        stream_name(OfferId::from(*id))
    }

    fn id(state: &OfferState) -> Uuid {
        state.id.as_uuid()
    }

    fn version(state: &OfferState) -> u64 {
        state.version
    }

    fn authorize(
        _id: &Uuid,
        state: Option<&OfferState>,
        command: &OfferCommand,
        actor: &Actor,
    ) -> Result<(), DomainError> {
        offer::authorize(state, command, actor)
    }

    fn decide(
        _id: &Uuid,
        state: Option<&OfferState>,
        command: OfferCommand,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Vec<OfferEvent>, DomainError> {
        offer::decide(state, command, actor, now)
    }

    fn evolve(state: Option<OfferState>, event: &OfferEvent) -> Option<OfferState> {
        offer::evolve(state, event)
    }
}

impl Listed for Offers {
    fn entity(event: &Self::Event) -> Uuid {
        event.offer_id().as_uuid()
    }

    fn created_at(state: &OfferState) -> DateTime<Utc> {
        state.posted_at
    }
}
