//! The single writer: one thread owns every write to the tree (group commit).
//!
//! Appends queue up (see [`Queue`]); the writer takes them in arrival order, checks each against
//! the log as staged so far, encodes and chains its records, and applies what it has taken to the
//! tree, an append's events atomically. What makes this a group commit is the
//! flush: the writer keeps applying arriving appends and flushes once, when no more are on the
//! way, then publishes the new durable head to readers, hands the events to live subscribers and
//! answers every append of the group. Applying while the group gathers overlaps the tree's work
//! with the callers' round trip; nothing is answered, and no reader sees anything, before the
//! flush.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use chrono::Utc;
use tokio::sync::{Semaphore, broadcast, oneshot, watch};

use crate::codec::{self, RecordRef};
use crate::error::{Error, Result};
use crate::event::{AppendResult, ExpectedVersion, Head, NewEvent, StoredEvent};
use crate::index::Index;
use crate::keys;
use crate::store::{Counters, Durability};

pub(crate) type Reply = oneshot::Sender<Answer>;

/// What an appender receives: its own result, and possibly the rest of its group's answers to
/// deliver (see [`Fanout`]).
#[derive(Debug)]
pub(crate) struct Answer {
    pub result: Result<AppendResult>,
    pub others: Fanout,
    /// The append's events, handed back so that the caller's thread frees them rather than the
    /// writer's.
    pub spent: Vec<NewEvent>,
}

/// Answers that one appender of a group delivers to the others. The writer wakes one task per
/// group instead of every task: waking a task from the writer thread goes through the runtime's
/// shared queue and often a thread wake-up, while a task waking others from its own runtime
/// thread only pushes onto a local queue. Dropping a `Fanout` delivers it, so the answers go out
/// however it ends: received and dropped by the appender, dropped inside a channel whose
/// receiver is gone, or handed back to the writer by a failed send.
#[derive(Debug, Default)]
pub(crate) struct Fanout(Vec<Answering>);

/// An answer on its way to its caller.
#[derive(Debug)]
pub(crate) struct Answering {
    reply: Reply,
    result: Result<AppendResult>,
    spent: Vec<NewEvent>,
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
    /// until `deadline` if one is given. Returns whether the queue is closed.
    fn take(&self, into: &mut Vec<Command>, deadline: Option<Instant>) -> bool {
        // Spin a little before sleeping: the next append is usually moments away, and waking a
        // sleeping thread costs more than that on a busy machine.
        let spin_until = Instant::now() + SPIN;
        while self.queued.load(Ordering::Acquire) == 0
            && Instant::now() < spin_until
            && deadline.is_none_or(|d| Instant::now() < d)
        {
            std::thread::yield_now();
        }
        let mut state = self.lock();
        loop {
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

    /// Refuses further commands and wakes the writer; what is queued is still taken.
    pub(crate) fn close(&self) {
        let mut state = self.lock();
        state.closed = true;
        self.ready.notify_one();
        drop(state);
        self.room.close();
    }
}

pub(crate) struct Writer {
    pub tree: sled::Tree,
    pub durability: Durability,
    pub max_batch_events: usize,
    /// The staged end of the log: what the next append chains onto. Runs ahead of `applied`
    /// while staged records wait to be applied.
    pub head: Head,
    /// The end of the log in the tree (ahead of the durable head while a group gathers, and
    /// after a failed flush).
    pub applied: Head,
    pub durable: watch::Sender<Head>,
    pub live: broadcast::Sender<Arc<StoredEvent>>,
    /// Shared with readers; the writer is its only mutator.
    pub index: Arc<RwLock<Index>>,
    pub counters: Arc<Counters>,
}

/// How long the writer spins for the next append before it sleeps.
const SPIN: Duration = Duration::from_micros(100);

/// How long the writer waits, with nothing queued, for appends that are in flight (see
/// `Writer::run`) before it flushes without them.
const GATHER_MAX: Duration = Duration::from_micros(400);

/// The longest a group gathers before it is flushed, however busy the queue: bounds the latency
/// of the group's first append.
const GROUP_MAX: Duration = Duration::from_millis(5);

/// One append's outcome within a group.
enum Outcome {
    /// New events; the answer waits for the group's flush.
    Write(AppendResult),
    /// A retry of events that were already durable when the group began: answered as stored.
    Replay(AppendResult),
    /// A retry of events that are applied but not yet known durable (applied earlier in this
    /// group, or by a group whose flush failed): answered once the flush succeeds.
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

    /// The answer when the group's flush failed.
    fn into_failure(self, e: &sled::Error) -> Result<AppendResult> {
        match self {
            Outcome::Replay(r) => Ok(r),
            Outcome::Failed(err) => Err(err),
            Outcome::Write(_) | Outcome::ReplayPending(_) => Err(Error::Storage(e.clone())),
        }
    }
}

/// The appends of one group commit, waiting for its flush.
struct Group {
    started: Instant,
    /// The durable head when the group began.
    durable: u64,
    appends: usize,
    /// Events applied to the tree.
    events: usize,
    answers: Vec<Pending>,
    /// Staged appends whose records are not in the tree yet, in position order.
    pending: Vec<Staged>,
    /// Copies for live subscribers; left empty when there are none.
    records: Vec<Arc<StoredEvent>>,
}

/// An append's outcome, waiting for the group's flush.
struct Pending {
    outcome: Outcome,
    reply: Reply,
    /// The append's events once they are applied, to hand back (see [`Answer::spent`]).
    spent: Vec<NewEvent>,
}

/// An append that is checked, indexed and encoded, waiting to be applied.
struct Staged {
    /// Its place in `Group::answers`.
    answer: usize,
    stream: String,
    /// The stream's version before it.
    version: u64,
    recorded_at_micros: i64,
    /// The staged head before it: where the log goes back to if it cannot be applied.
    prev_head: Head,
    events: Vec<NewEvent>,
    /// `(position, encoded record, hash)` per event.
    records: Vec<(u64, Vec<u8>, [u8; codec::HASH_LEN])>,
}

/// A retry names events that are staged but not yet applied: apply them, then check again.
struct NeedsApply;

/// What must match for a retried event id to count as the same event.
struct Fingerprint<'a> {
    stream: &'a str,
    event_type: &'a str,
    schema_version: u32,
    payload: &'a [u8],
}

impl Fingerprint<'_> {
    fn same_as(&self, other: &Fingerprint<'_>) -> bool {
        if self.stream != other.stream
            || self.event_type != other.event_type
            || self.schema_version != other.schema_version
        {
            return false;
        }
        if self.payload == other.payload {
            return true;
        }
        // Same JSON written with another key order or spacing is the same payload.
        match (
            serde_json::from_slice::<serde_json::Value>(self.payload),
            serde_json::from_slice::<serde_json::Value>(other.payload),
        ) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        }
    }
}

impl Writer {
    pub(crate) fn run(mut self, queue: Arc<Queue>) {
        let mut taken = Vec::new();
        let mut shutdown = None;
        let mut closed = false;
        while shutdown.is_none() && !closed {
            closed = queue.take(&mut taken, None);
            if taken.is_empty() {
                break;
            }
            let mut group = Group {
                started: Instant::now(),
                durable: self.durable.borrow().position,
                appends: 0,
                events: 0,
                answers: Vec::new(),
                pending: Vec::new(),
                records: Vec::new(),
            };
            // Stage and apply what arrives until no more is on the way. Appends that are in
            // flight but not queued yet are moments away (their callers were just answered and
            // are resubmitting); flushing without them splits the appenders into cohorts that
            // take turns, doubling the flushes for the same work (PostgreSQL's `commit_delay`
            // with `commit_siblings`, made exact). So with nothing queued, wait for them while
            // the group holds fewer appends than are in flight, never longer than `GATHER_MAX`
            // at a time. A lone appender never waits. Meanwhile the tree takes what has arrived.
            loop {
                for command in taken.drain(..) {
                    match command {
                        Command::Append {
                            stream,
                            expected,
                            events,
                            reply,
                        } => self.stage(&mut group, stream, expected, events, reply),
                        Command::Shutdown { reply } => shutdown = Some(reply),
                    }
                }
                self.apply_pending(&mut group);
                if shutdown.is_some()
                    || closed
                    || group.events >= self.max_batch_events
                    || group.started.elapsed() >= GROUP_MAX
                {
                    break;
                }
                let waiting = self.durability == Durability::Flush
                    && group.appends < self.counters.in_flight.load(Ordering::Acquire);
                let deadline = Instant::now() + if waiting { GATHER_MAX } else { Duration::ZERO };
                closed = queue.take(&mut taken, Some(deadline));
                if taken.is_empty() {
                    break;
                }
            }
            self.finish(group);
        }
        // Refuse whatever is still queued, then make sure everything applied is on disk.
        queue.close();
        taken.clear();
        queue.take(&mut taken, Some(Instant::now()));
        let refused = taken.drain(..).filter_map(|command| match command {
            Command::Append { reply, events, .. } => Some(Answering {
                reply,
                result: Err(Error::Closed),
                spent: events,
            }),
            Command::Shutdown { reply } => {
                let _ = reply.send(());
                None
            }
        });
        drop(Fanout(refused.collect()));
        if let Err(e) = self.tree.flush() {
            tracing::error!(error = %e, "final flush of the event store failed");
        }
        drop(self);
        if let Some(reply) = shutdown {
            let _ = reply.send(());
        }
    }

    /// Flushes the group, then publishes and answers it.
    fn finish(&mut self, group: Group) {
        if group.events > 0 {
            let c = &self.counters;
            c.batches.fetch_add(1, Ordering::Relaxed);
            c.events.fetch_add(group.events as u64, Ordering::Relaxed);
        }
        // A group of retries alone still waits for a flush: what it answers with may have been
        // applied by an earlier group whose flush failed.
        let flushed = match self.durability {
            Durability::Flush => {
                self.counters.flushes.fetch_add(1, Ordering::Relaxed);
                self.tree.flush().map(|_| ())
            }
            Durability::Relaxed => Ok(()),
        };
        let answers: Vec<_> = match flushed {
            Ok(()) => {
                if self.durable.borrow().position != self.applied.position {
                    self.durable.send_replace(self.applied);
                }
                for record in group.records {
                    // No receiver is fine: nobody is subscribed.
                    let _ = self.live.send(record);
                }
                group
                    .answers
                    .into_iter()
                    .map(|p| Answering {
                        reply: p.reply,
                        result: p.outcome.into_answer(),
                        spent: p.spent,
                    })
                    .collect()
            }
            Err(e) => {
                // Applied but not known durable: the callers get an error and may retry with the
                // same ids (which then answers with the original result). Readers keep seeing the
                // last durable head until a later flush succeeds.
                tracing::error!(error = %e, "event store flush failed");
                group
                    .answers
                    .into_iter()
                    .map(|p| Answering {
                        reply: p.reply,
                        result: p.outcome.into_failure(&e),
                        spent: p.spent,
                    })
                    .collect()
            }
        };
        let mut answers = Fanout(answers);
        // One caller delivers the others' answers (see `Fanout`). If it has gone away, the send
        // hands the bundle back and dropping it here delivers it.
        if let Some(a) = answers.0.pop() {
            let _ = a.reply.send(Answer {
                result: a.result,
                others: answers,
                spent: a.spent,
            });
        }
    }

    /// Checks one append against the log as staged so far, indexes and encodes its events, and
    /// leaves them pending for `apply_pending`.
    fn stage(
        &mut self,
        group: &mut Group,
        stream: String,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
        reply: Reply,
    ) {
        self.counters.appends.fetch_add(1, Ordering::Relaxed);
        group.appends += 1;
        let checked = match self.check(group, &stream, expected, &events) {
            Ok(checked) => checked,
            Err(NeedsApply) => {
                // After this everything indexed is in the tree, so the check cannot ask again.
                self.apply_pending(group);
                self.check(group, &stream, expected, &events)
                    .unwrap_or_else(|NeedsApply| {
                        Err(Outcome::Failed(Error::Corrupt {
                            position: self.applied.position + 1,
                            reason: "indexed event is missing".into(),
                        }))
                    })
            }
        };
        let current = match checked {
            Ok(current) => current,
            Err(outcome) => {
                group.answers.push(Pending {
                    outcome,
                    reply,
                    spent: events,
                });
                return;
            }
        };
        let recorded_at_micros = Utc::now().timestamp_micros();
        let prev_head = self.head;
        let first_position = prev_head.position + 1;
        let mut head = prev_head;
        let mut records = Vec::with_capacity(events.len());
        for (i, ev) in (0u64..).zip(&events) {
            let position = first_position + i;
            let (bytes, hash) = codec::encode(&RecordRef {
                position,
                stream_version: current + 1 + i,
                recorded_at_micros,
                id: &ev.id,
                schema_version: ev.schema_version,
                stream: &stream,
                event_type: &ev.event_type,
                metadata: &ev.metadata,
                payload: ev.payload.as_bytes(),
                prev_hash: &head.hash,
            });
            records.push((position, bytes, hash));
            head = Head { position, hash };
        }
        self.head = head;
        // Indexed now, so the appends after it in this group see it; readers stop at the
        // durable head, so they do not.
        self.index
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .extend(
                events
                    .iter()
                    .zip(&records)
                    .map(|(e, r)| (e.id, stream.as_str(), r.0)),
            );
        let n = events.len() as u64;
        group.answers.push(Pending {
            outcome: Outcome::Write(AppendResult {
                first_position,
                last_position: head.position,
                stream_version: current + n,
            }),
            reply,
            spent: Vec::new(),
        });
        group.pending.push(Staged {
            answer: group.answers.len() - 1,
            stream,
            version: current,
            recorded_at_micros,
            prev_head,
            events,
            records,
        });
    }

    /// The stream's version if the append may go ahead, or the outcome that ends it here.
    fn check(
        &self,
        group: &Group,
        stream: &str,
        expected: ExpectedVersion,
        events: &[NewEvent],
    ) -> std::result::Result<std::result::Result<u64, Outcome>, NeedsApply> {
        let index = read_index(&self.index);
        match self.check_retry(&index, group, stream, events) {
            Ok(Ok(None)) => {}
            Ok(Ok(Some(outcome))) => return Ok(Err(outcome)),
            Ok(Err(e)) => return Ok(Err(Outcome::Failed(e))),
            Err(needs) => return Err(needs),
        }
        let current = index.latest_version(stream);
        if !expected.admits(current) {
            return Ok(Err(Outcome::Failed(Error::WrongExpectedVersion {
                stream: stream.to_owned(),
                expected,
                actual: current,
            })));
        }
        Ok(Ok(current))
    }

    /// Writes the pending records to the tree: one insert per event when every pending append
    /// has one event (an insert is atomic by itself), else one atomic batch. A crash keeps a
    /// prefix of the log either way, so positions stay dense. What cannot be applied is taken
    /// back out of the index and answered with the storage error.
    fn apply_pending(&mut self, group: &mut Group) {
        if group.pending.is_empty() {
            return;
        }
        let mut pending = std::mem::take(&mut group.pending);
        let single = pending.iter().all(|p| p.records.len() == 1);
        let failed = if single {
            pending.iter_mut().enumerate().find_map(|(i, p)| {
                let (position, bytes, _) = &mut p.records[0];
                self.tree
                    .insert(keys::event(*position), std::mem::take(bytes))
                    .err()
                    .map(|e| (i, e))
            })
        } else {
            let mut batch = sled::Batch::default();
            for (position, bytes, _) in pending.iter_mut().flat_map(|p| &mut p.records) {
                batch.insert(&keys::event(*position)[..], std::mem::take(bytes));
            }
            self.tree.apply_batch(batch).err().map(|e| (0, e))
        };
        if let Some((at, e)) = failed {
            tracing::error!(error = %e, "event store write failed");
            let lost = pending.split_off(at);
            self.index
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .retract(
                    lost.iter()
                        .rev()
                        .flat_map(|p| p.events.iter().rev().map(|ev| (ev.id, p.stream.as_str()))),
                );
            if let Some(first) = lost.first() {
                self.head = first.prev_head;
                // Later appends were checked against the lost ones: none of them stands.
                for p in &mut group.answers[first.answer..] {
                    if !matches!(p.outcome, Outcome::Replay(_)) {
                        p.outcome = Outcome::Failed(Error::Storage(e.clone()));
                    }
                }
            }
        }
        let Some(last) = pending.last() else {
            return;
        };
        if let Some((position, _, hash)) = last.records.last() {
            self.applied = Head {
                position: *position,
                hash: *hash,
            };
        }
        let subscribed = self.live.receiver_count() > 0;
        for p in pending {
            group.events += p.events.len();
            if !subscribed {
                if let Some(answer) = group.answers.get_mut(p.answer) {
                    answer.spent = p.events;
                }
                continue;
            }
            let recorded_at =
                chrono::DateTime::from_timestamp_micros(p.recorded_at_micros).unwrap_or_default();
            for ((ev, (position, _, hash)), version) in
                p.events.into_iter().zip(p.records).zip(p.version + 1..)
            {
                group.records.push(Arc::new(StoredEvent {
                    position,
                    stream: p.stream.clone(),
                    stream_version: version,
                    id: ev.id,
                    event_type: ev.event_type,
                    schema_version: ev.schema_version,
                    payload: ev.payload,
                    metadata: ev.metadata,
                    recorded_at,
                    hash,
                }));
            }
        }
    }

    /// Recognises a retry. `Ok(None)`: every id is new. `Ok(Some(..))`: every id is stored, as the
    /// same events in the same order, and the original result is returned. Anything in between is
    /// an idempotency conflict.
    fn check_retry(
        &self,
        index: &Index,
        group: &Group,
        stream: &str,
        events: &[NewEvent],
    ) -> std::result::Result<Result<Option<Outcome>>, NeedsApply> {
        let Some(first_position) = events.first().and_then(|e| index.position_of(&e.id)) else {
            if let Some(ev) = events.iter().find(|e| index.position_of(&e.id).is_some()) {
                return Ok(Err(Error::IdempotencyConflict { event_id: ev.id }));
            }
            return Ok(Ok(None));
        };
        let last_position = first_position + events.len() as u64 - 1;
        for (ev, position) in events.iter().zip(first_position..) {
            if index.position_of(&ev.id) != Some(position) {
                return Ok(Err(Error::IdempotencyConflict { event_id: ev.id }));
            }
        }
        if last_position > self.applied.position {
            // Staged earlier in this group and not in the tree yet.
            return Err(NeedsApply);
        }
        let mut last_version = 0;
        for (ev, position) in events.iter().zip(first_position..) {
            match self.same_stored(position, stream, ev) {
                Ok((true, version)) => last_version = version,
                Ok((false, _)) => return Ok(Err(Error::IdempotencyConflict { event_id: ev.id })),
                Err(e) => return Ok(Err(e)),
            }
        }
        let result = AppendResult {
            first_position,
            last_position,
            stream_version: last_version,
        };
        Ok(Ok(Some(if last_position <= group.durable {
            Outcome::Replay(result)
        } else {
            Outcome::ReplayPending(result)
        })))
    }

    /// Whether the event stored at `position` is `offered` (see [`Fingerprint`]), and its
    /// stream version.
    fn same_stored(&self, position: u64, stream: &str, offered: &NewEvent) -> Result<(bool, u64)> {
        let bytes = self
            .tree
            .get(keys::event(position))?
            .ok_or_else(|| Error::Corrupt {
                position,
                reason: "indexed event is missing".into(),
            })?;
        let d = codec::decode(position, &bytes, false)
            .map_err(|reason| Error::Corrupt { position, reason })?;
        let e = d.event;
        let stored = Fingerprint {
            stream: &e.stream,
            event_type: &e.event_type,
            schema_version: e.schema_version,
            payload: e.payload.as_bytes(),
        };
        let offered = Fingerprint {
            stream,
            event_type: &offered.event_type,
            schema_version: offered.schema_version,
            payload: offered.payload.as_bytes(),
        };
        Ok((stored.same_as(&offered), e.stream_version))
    }
}

/// A read lock that survives a panicked holder: the index is only ever extended, so it is never
/// left half-written in a way a reader could trip over.
pub(crate) fn read_index(index: &RwLock<Index>) -> std::sync::RwLockReadGuard<'_, Index> {
    index.read().unwrap_or_else(PoisonError::into_inner)
}
