//! The read model of the matcher's own store: every decision, applied to the
//! [`Knowledge`](crate::knowledge::Knowledge). Wrapped in the kit's
//! [`capmatch_service::Projection`], which replays the store at start, follows it, and lets a
//! write wait until its own decision is visible (read-your-writes).

use capmatch_eventstore::StoredEvent;
use capmatch_service::{ApplyError, View};

use crate::aggregate::decode;
use crate::knowledge::SharedKnowledge;

/// Applies the store's decisions to the knowledge.
#[derive(Debug)]
pub struct Decisions {
    knowledge: SharedKnowledge,
}

impl Decisions {
    pub fn new(knowledge: SharedKnowledge) -> Self {
        Self { knowledge }
    }
}

impl View for Decisions {
    fn apply(&mut self, event: &StoredEvent) -> Result<(), ApplyError> {
        let decided = decode(event)?;
        self.knowledge
            .write()
            .apply_match(&decided)
            .map_err(|message| ApplyError::new(event, message))
    }
}
