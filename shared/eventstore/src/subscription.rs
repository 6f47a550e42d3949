//! Catch-up-then-live subscriptions.
//!
//! A subscription tracks the next position it owes. While the durable head is ahead of it, it reads
//! from disk in pages; once caught up it takes live events from the writer's broadcast, skipping
//! any it already delivered and reading from disk again whenever it sees a gap or falls so far
//! behind that the broadcast dropped events for it. Writers never wait for subscribers.
//!
//! While waiting it also watches the durable head: the writer only copies a batch for live
//! subscribers that existed when it staged the batch, so one that joins during a commit learns
//! of the batch from the head moving, and reads it from disk.

use std::collections::VecDeque;
use std::sync::Arc;

use tokio::sync::broadcast::{self, error::RecvError};
use tokio::sync::watch;

use crate::error::{Error, Result};
use crate::event::{Head, StoredEvent};
use crate::store::EventStore;

const PAGE: usize = 512;

/// A stream of every event after a position. Call [`Subscription::next`] in a loop.
#[derive(Debug)]
pub struct Subscription {
    store: EventStore,
    /// The next position to deliver.
    next: u64,
    live: broadcast::Receiver<Arc<StoredEvent>>,
    durable: watch::Receiver<Head>,
    page: VecDeque<StoredEvent>,
}

impl Subscription {
    pub(crate) fn new(
        store: EventStore,
        after_position: u64,
        live: broadcast::Receiver<Arc<StoredEvent>>,
    ) -> Self {
        let durable = store.durable_head_watch();
        Subscription {
            store,
            next: after_position.saturating_add(1),
            live,
            durable,
            page: VecDeque::new(),
        }
    }

    /// The position of the last event delivered (or the starting point).
    pub fn position(&self) -> u64 {
        self.next - 1
    }

    /// The next event in position order; waits for one when caught up.
    pub async fn next(&mut self) -> Result<StoredEvent> {
        loop {
            if let Some(event) = self.page.pop_front() {
                self.next = event.position + 1;
                return Ok(event);
            }
            // Marks the head as seen, so `changed()` below wakes only for a later one.
            if self.durable.borrow_and_update().position >= self.next {
                let page = self.store.read_all(self.next - 1, PAGE).await?;
                self.page.extend(page);
                continue;
            }
            let received = tokio::select! {
                received = self.live.recv() => received,
                changed = self.durable.changed() => match changed {
                    // The head moved: the check above reads what was committed.
                    Ok(()) => continue,
                    Err(_) => return Err(Error::Closed),
                },
            };
            match received {
                Ok(event) if event.position == self.next => {
                    let mut event = StoredEvent::clone(&event);
                    self.store.upcast(&mut event)?;
                    self.next += 1;
                    return Ok(event);
                }
                // Already delivered from disk, or ahead of us: the head check above catches up.
                Ok(_) => continue,
                Err(RecvError::Lagged(_)) => {
                    self.live = self.store.live();
                    continue;
                }
                Err(RecvError::Closed) => return Err(Error::Closed),
            }
        }
    }
}
