//! The read model: every need as its events built it, in creation order.

use std::collections::{BTreeMap, HashMap};

use capmatch_domain::need::{NeedId, NeedState, evolve};
use capmatch_eventstore::StoredEvent;
use capmatch_service::{Aggregate, ApplyError, View};

use crate::aggregate::Needs;

/// A need and the position of the event that created it (its place in the list order).
#[derive(Debug, Clone)]
pub struct Entry {
    pub need: NeedState,
    pub created_at_position: u64,
}

/// Every need, by id and in creation order.
#[derive(Debug, Default)]
pub struct NeedsView {
    by_id: HashMap<NeedId, Entry>,
    order: BTreeMap<u64, NeedId>,
}

impl NeedsView {
    pub fn get(&self, id: NeedId) -> Option<&Entry> {
        self.by_id.get(&id)
    }

    /// Every need in creation order, with its position.
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

impl View for NeedsView {
    fn apply(&mut self, event: &StoredEvent) -> Result<(), ApplyError> {
        let decoded = Needs::decode(event)?;
        let id = decoded.need_id();
        let previous = self.by_id.remove(&id);
        let created_at_position = previous
            .as_ref()
            .map_or(event.position, |e| e.created_at_position);
        match evolve(previous.map(|e| e.need), &decoded) {
            Some(need) => {
                self.order.insert(created_at_position, id);
                self.by_id.insert(
                    id,
                    Entry {
                        need,
                        created_at_position,
                    },
                );
                Ok(())
            }
            None => Err(ApplyError::new(
                event,
                "event for a need that was never posted",
            )),
        }
    }
}
