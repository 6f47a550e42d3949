//! [`Entities`]: the read model of a service whose store holds one aggregate (needs, offers):
//! every entity as its events built it, by id and in creation order.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use capmatch_eventstore::StoredEvent;
use uuid::Uuid;

use crate::command::Aggregate;
use crate::projection::{ApplyError, View};

/// An entity and the position of the event that created it (its place in the list order).
#[derive(Debug, Clone)]
pub struct Entry<S> {
    pub state: S,
    pub created_at_position: u64,
}

/// Every entity of aggregate `A`, by id and in creation order.
pub struct Entities<A: Aggregate> {
    by_id: HashMap<Uuid, Entry<A::State>>,
    order: BTreeMap<u64, Uuid>,
}

impl<A: Aggregate> Default for Entities<A> {
    fn default() -> Self {
        Entities {
            by_id: HashMap::new(),
            order: BTreeMap::new(),
        }
    }
}

impl<A: Aggregate> fmt::Debug for Entities<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Entities")
            .field("len", &self.by_id.len())
            .finish()
    }
}

impl<A: Aggregate> Entities<A> {
    pub fn get(&self, id: Uuid) -> Option<&Entry<A::State>> {
        self.by_id.get(&id)
    }

    /// Every entity in creation order.
    pub fn in_order(&self) -> impl Iterator<Item = &Entry<A::State>> {
        self.order.values().filter_map(|id| self.by_id.get(id))
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }
}

impl<A> View for Entities<A>
where
    A: Aggregate + 'static,
    A::State: Send + Sync,
{
    fn apply(&mut self, event: &StoredEvent) -> Result<(), ApplyError> {
        let decoded = A::decode(event)?;
        let id = A::entity(&decoded);
        let previous = self.by_id.remove(&id);
        let created_at_position = previous
            .as_ref()
            .map_or(event.position, |e| e.created_at_position);
        match A::evolve(previous.map(|e| e.state), &decoded) {
            Some(state) => {
                self.order.insert(created_at_position, id);
                self.by_id.insert(
                    id,
                    Entry {
                        state,
                        created_at_position,
                    },
                );
                Ok(())
            }
            None => Err(ApplyError::new(
                event,
                "event for an entity that was never created",
            )),
        }
    }
}
