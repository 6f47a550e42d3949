//! The flusher: a second thread that makes the writer's sealed groups durable and answers them.
//!
//! The writer hands over a group once it is complete (see `writer`), and goes on applying the
//! next appends while this thread waits on the disk: sled lets inserts proceed during a flush, so
//! the tree's work for one group overlaps the flush of the one before. Groups sealed while a
//! flush runs are covered together by the next one. Only after a flush succeeds does the durable
//! head move, live subscribers get the events and the callers get their answers.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::{broadcast, watch};

use crate::error::{Error, Result};
use crate::event::{AppendResult, Head, StoredEvent};
use crate::queue::{Answering, Fanout, Queue, Reply, Spent};
use crate::store::{Counters, Durability};

/// One append's outcome, waiting for its group's flush.
pub(crate) enum Outcome {
    /// New events; answered once the flush succeeds.
    Write(AppendResult),
    /// A retry of events that were already durable when the group began: answered as stored.
    Replay(AppendResult),
    /// A retry of events that are applied but not known durable yet (applied earlier in this
    /// group or one still being flushed, or by a group whose flush failed): answered once the
    /// flush succeeds.
    ReplayPending(AppendResult),
    Failed(Error),
}

impl Outcome {
    fn into_answer(self) -> Result<AppendResult> {
        match self {
            Outcome::Write(r) | Outcome::Replay(r) | Outcome::ReplayPending(r) => Ok(r),
            Outcome::Failed(err) => Err(err),
        }
    }

    /// The answer when the flush failed.
    fn into_failure(self, e: &sled::Error) -> Result<AppendResult> {
        match self {
            Outcome::Replay(r) => Ok(r),
            Outcome::Failed(err) => Err(err),
            Outcome::Write(_) | Outcome::ReplayPending(_) => Err(Error::Storage(e.clone())),
        }
    }
}

/// An append's outcome and its way back to the caller.
pub(crate) struct Pending {
    pub outcome: Outcome,
    pub reply: Reply,
    /// What the append carried, once the writer is done with it (see `queue::Answer::spent`).
    pub spent: Spent,
}

/// A complete group, applied to the tree, waiting for a flush.
pub(crate) struct Sealed {
    /// The end of the log once the group is applied.
    pub head: Head,
    pub answers: Vec<Pending>,
    /// Copies for live subscribers; empty when there were none.
    pub records: Vec<Arc<StoredEvent>>,
}

/// What the writer and the flusher share.
#[derive(Debug, Default)]
pub(crate) struct Handover {
    state: Mutex<HandoverState>,
    ready: Condvar,
    /// The flusher has groups to flush or is flushing: a group that is not complete yet has no
    /// reason to be sealed before it is idle again.
    busy: AtomicBool,
    /// Appends sealed and not answered yet.
    sealed_appends: AtomicUsize,
    /// How long the last flush took, in nanoseconds.
    last_flush: AtomicU64,
}

#[derive(Default)]
struct HandoverState {
    sealed: Vec<Sealed>,
    closed: bool,
    /// When the flusher last finished everything sealed and went idle.
    idle_since: Option<Instant>,
}

impl std::fmt::Debug for HandoverState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HandoverState")
            .field("sealed", &self.sealed.len())
            .field("closed", &self.closed)
            .field("idle_since", &self.idle_since)
            .finish()
    }
}

impl Handover {
    fn lock(&self) -> std::sync::MutexGuard<'_, HandoverState> {
        // Nothing panics while holding the lock; a poisoned one still holds consistent state.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Hands a group over to the flusher.
    pub(crate) fn seal(&self, group: Sealed) {
        self.sealed_appends
            .fetch_add(group.answers.len(), Ordering::AcqRel);
        let mut state = self.lock();
        state.sealed.push(group);
        self.busy.store(true, Ordering::Release);
        self.ready.notify_one();
    }

    pub(crate) fn is_busy(&self) -> bool {
        self.busy.load(Ordering::Acquire)
    }

    pub(crate) fn sealed_appends(&self) -> usize {
        self.sealed_appends.load(Ordering::Acquire)
    }

    /// When the flusher last went idle: the moment the appends of the groups it flushed were
    /// answered.
    pub(crate) fn idle_since(&self) -> Option<Instant> {
        self.lock().idle_since
    }

    pub(crate) fn last_flush(&self) -> Duration {
        Duration::from_nanos(self.last_flush.load(Ordering::Relaxed))
    }

    /// The flusher stops once it has flushed what is sealed.
    pub(crate) fn close(&self) {
        self.lock().closed = true;
        self.ready.notify_one();
    }
}

pub(crate) struct Flusher {
    pub tree: sled::Tree,
    pub durability: Durability,
    pub durable: watch::Sender<Head>,
    pub live: broadcast::Sender<Arc<StoredEvent>>,
    pub counters: Arc<Counters>,
    pub handover: Arc<Handover>,
    /// Kicked after each flush, so a writer waiting for the flusher to be free looks again.
    pub queue: Arc<Queue>,
}

impl Flusher {
    pub(crate) fn run(self) {
        let handover = &self.handover;
        let mut groups = Vec::new();
        loop {
            {
                let mut state = handover.lock();
                while state.sealed.is_empty() && !state.closed {
                    state = handover
                        .ready
                        .wait(state)
                        .unwrap_or_else(PoisonError::into_inner);
                }
                if state.sealed.is_empty() {
                    break;
                }
                std::mem::swap(&mut groups, &mut state.sealed);
            }
            self.flush(&mut groups);
            {
                let mut state = handover.lock();
                if state.sealed.is_empty() {
                    state.idle_since = Some(Instant::now());
                    handover.busy.store(false, Ordering::Release);
                }
            }
            self.queue.kick();
        }
    }

    /// Flushes once for every group taken, then publishes and answers them in order.
    fn flush(&self, groups: &mut Vec<Sealed>) {
        let Some(head) = groups.last().map(|g| g.head) else {
            return;
        };
        let started = Instant::now();
        let flushed = match self.durability {
            Durability::Flush => {
                self.counters.flushes.fetch_add(1, Ordering::Relaxed);
                self.counters.failing.store(false, Ordering::Release);
                self.tree.flush().map(|_| ())
            }
            Durability::Relaxed => Ok(()),
        };
        let took = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.handover.last_flush.store(took, Ordering::Relaxed);
        let mut answers = Vec::with_capacity(groups.iter().map(|g| g.answers.len()).sum());
        match flushed {
            Ok(()) => {
                if self.durable.borrow().position < head.position {
                    self.durable.send_replace(head);
                }
                for group in groups.drain(..) {
                    for record in group.records {
                        // No receiver is fine: nobody is subscribed.
                        let _ = self.live.send(record);
                    }
                    answers.extend(group.answers.into_iter().map(|p| Answering {
                        reply: p.reply,
                        result: p.outcome.into_answer(),
                        spent: p.spent,
                    }));
                }
            }
            Err(e) => {
                // Applied but not known durable: the callers get an error and may retry with the
                // same ids (which then answers with the original result). Readers keep seeing the
                // last durable head until a later flush succeeds.
                tracing::error!(error = %e, "event store flush failed");
                self.counters.failing.store(true, Ordering::Release);
                for group in groups.drain(..) {
                    answers.extend(group.answers.into_iter().map(|p| Answering {
                        reply: p.reply,
                        result: p.outcome.into_failure(&e),
                        spent: p.spent,
                    }));
                }
            }
        }
        self.handover
            .sealed_appends
            .fetch_sub(answers.len(), Ordering::AcqRel);
        Fanout(answers).send();
    }
}
