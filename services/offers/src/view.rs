//! The read model: every offer as its events built it, in creation order.

use std::collections::{BTreeMap, HashMap};

use capmatch_domain::offer::{OfferId, OfferState, evolve};
use capmatch_eventstore::StoredEvent;
use capmatch_service::{Aggregate, ApplyError, View};

use crate::aggregate::Offers;

/// An offer and the position of the event that created it (its place in the list order).
#[derive(Debug, Clone)]
pub struct Entry {
    pub offer: OfferState,
    pub created_at_position: u64,
}

/// Every offer, by id and in creation order.
#[derive(Debug, Default)]
pub struct OffersView {
    by_id: HashMap<OfferId, Entry>,
    order: BTreeMap<u64, OfferId>,
}

impl OffersView {
    pub fn get(&self, id: OfferId) -> Option<&Entry> {
        self.by_id.get(&id)
    }

    /// Every offer in creation order.
    pub fn in_order(&self) -> impl Iterator<Item = &Entry> {
        self.order.values().filter_map(|id| self.by_id.get(id))
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }
}

impl View for OffersView {
    fn apply(&mut self, event: &StoredEvent) -> Result<(), ApplyError> {
        let decoded = Offers::decode(event)?;
        let id = decoded.offer_id();
        let previous = self.by_id.remove(&id);
        let created_at_position = previous
            .as_ref()
            .map_or(event.position, |e| e.created_at_position);
        match evolve(previous.map(|e| e.offer), &decoded) {
            Some(offer) => {
                self.order.insert(created_at_position, id);
                self.by_id.insert(
                    id,
                    Entry {
                        offer,
                        created_at_position,
                    },
                );
                Ok(())
            }
            None => Err(ApplyError::new(
                event,
                "event for an offer that was never posted",
            )),
        }
    }
}
