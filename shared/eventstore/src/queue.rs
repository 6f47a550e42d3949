//! The way in and out of the writer: the queue appends wait in, and the answers that come back.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::{Semaphore, oneshot};

use crate::codec::Unsealed;
use crate::error::Result;
use crate::event::{AppendResult, ExpectedVersion, NewEvent};

/// How long the writer spins for the next command before it sleeps.
const SPIN: Duration = Duration::from_micros(100);

pub(crate) type Reply = oneshot::Sender<Answer>;

/// What an appender receives: its own result, and possibly the rest of its group's answers to
/// deliver (see [`Fanout`]).
#[derive(Debug)]
pub(crate) struct Answer {
    pub result: Result<AppendResult>,
    pub others: Fanout,
    /// What the append carried, handed back so that the caller's thread frees it rather than
    /// the writer's.
    pub spent: Spent,
}

/// An append's stream name and events, once the writer is done with them.
pub(crate) type Spent = (String, Vec<NewEvent>);

/// Answers that one appender of a group delivers to the others. The writer wakes one task per
/// group instead of every task: waking a task from the writer thread goes through the runtime's
/// shared queue and often a thread wake-up, while a task waking others from its own runtime
/// thread only pushes onto a local queue. Dropping a `Fanout` delivers it, so the answers go out
/// however it ends: received and dropped by the appender, dropped inside a channel whose
/// receiver is gone, or handed back to the writer by a failed send.
#[derive(Debug, Default)]
pub(crate) struct Fanout(pub Vec<Answering>);

/// An answer on its way to its caller.
#[derive(Debug)]
pub(crate) struct Answering {
    pub reply: Reply,
    pub result: Result<AppendResult>,
    pub spent: Spent,
}

impl Fanout {
    /// Sends the answers: one caller gets the others to deliver (see above). If it has gone
    /// away, the send hands the bundle back, and dropping it here delivers it.
    pub(crate) fn send(mut self) {
        if let Some(a) = self.0.pop() {
            let _ = a.reply.send(Answer {
                result: a.result,
                others: self,
                spent: a.spent,
            });
        }
    }
}

impl Drop for Fanout {
    fn drop(&mut self) {
        for a in self.0.drain(..) {
            // A caller that has gone away needs no answer.
            let _ = a.reply.send(Answer {
                result: a.result,
                others: Fanout::default(),
                spent: a.spent,
            });
        }
    }
}

pub(crate) enum Command {
    Append {
        stream: String,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
        /// The events' records as far as the caller's task could encode them (see
        /// `codec::prepare`).
        records: Vec<Unsealed>,
        reply: Reply,
    },
    /// Flush and stop; answered once the writer has let go of the tree.
    Shutdown { reply: oneshot::Sender<()> },
}

/// The appends waiting for the writer. A plain mutex-and-condvar queue rather than a channel: the
/// writer takes everything queued in one swap, and can wait for more with a timeout.
#[derive(Debug)]
pub(crate) struct Queue {
    state: Mutex<QueueState>,
    ready: Condvar,
    /// How many commands are queued, readable without the lock.
    queued: AtomicUsize,
    /// Set by [`Queue::kick`]: the writer's next (or current) wait returns at once.
    kicked: AtomicBool,
    /// Bounds the queued commands: a caller waits for a permit before queueing, and the writer
    /// returns permits as it takes commands.
    room: Semaphore,
}

#[derive(Debug, Default)]
struct QueueState {
    commands: Vec<Command>,
    /// The writer is asleep on `ready`: the next push must wake it.
    writer_asleep: bool,
    closed: bool,
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Command::Append { stream, .. } => {
                f.debug_struct("Append").field("stream", stream).finish()
            }
            Command::Shutdown { .. } => f.write_str("Shutdown"),
        }
    }
}

impl Queue {
    pub(crate) fn new(capacity: usize) -> Self {
        Queue {
            state: Mutex::new(QueueState::default()),
            ready: Condvar::new(),
            queued: AtomicUsize::new(0),
            kicked: AtomicBool::new(false),
            room: Semaphore::new(capacity),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, QueueState> {
        // Nothing panics while holding the lock; a poisoned one still holds a consistent queue.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues a command once there is room; gives it back if the queue is closed.
    pub(crate) async fn push(&self, command: Command) -> std::result::Result<(), Command> {
        match self.room.acquire().await {
            Ok(permit) => permit.forget(),
            Err(_) => return Err(command),
        }
        let mut state = self.lock();
        if state.closed {
            drop(state);
            self.room.add_permits(1);
            return Err(command);
        }
        state.commands.push(command);
        self.queued.store(state.commands.len(), Ordering::Release);
        if state.writer_asleep {
            state.writer_asleep = false;
            self.ready.notify_one();
        }
        Ok(())
    }

    /// Moves every queued command into `into` (which must be empty). Waits while there is none,
    /// until `deadline` if one is given or until kicked. Returns whether the queue is closed.
    pub(crate) fn take(&self, into: &mut Vec<Command>, deadline: Option<Instant>) -> bool {
        // Spin a little before sleeping: the next append is usually moments away, and waking a
        // sleeping thread costs more than that on a busy machine.
        let now = Instant::now();
        let spin_until = deadline.map_or(now + SPIN, |d| d.min(now + SPIN));
        while self.queued.load(Ordering::Acquire) == 0
            && !self.kicked.load(Ordering::Acquire)
            && Instant::now() < spin_until
        {
            std::thread::yield_now();
        }
        let mut state = self.lock();
        loop {
            if self.kicked.swap(false, Ordering::AcqRel) && state.commands.is_empty() {
                return state.closed;
            }
            if !state.commands.is_empty() {
                std::mem::swap(into, &mut state.commands);
                self.queued.store(0, Ordering::Release);
                let closed = state.closed;
                drop(state);
                self.room.add_permits(into.len());
                return closed;
            }
            if state.closed {
                return true;
            }
            state.writer_asleep = true;
            state = match deadline {
                None => self
                    .ready
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner),
                Some(deadline) => {
                    let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                        state.writer_asleep = false;
                        return false;
                    };
                    let (state, _) = self
                        .ready
                        .wait_timeout(state, left)
                        .unwrap_or_else(PoisonError::into_inner);
                    state
                }
            };
            state.writer_asleep = false;
        }
    }

    /// Makes the writer's wait return, so that it looks at the flusher again.
    pub(crate) fn kick(&self) {
        self.kicked.store(true, Ordering::Release);
        let mut state = self.lock();
        if state.writer_asleep {
            state.writer_asleep = false;
            self.ready.notify_one();
        }
    }

    /// Refuses further commands and wakes the writer; what is queued is still taken.
    pub(crate) fn close(&self) {
        let mut state = self.lock();
        state.closed = true;
        self.ready.notify_one();
        drop(state);
        self.room.close();
    }
}
