//! The single writer: one thread owns every write to the tree (group commit).
//!
//! Appends queue up (see `queue`); the writer takes them in arrival order, checks each against
//! the log as staged so far, indexes it, seals its records into the chain (the caller's task has
//! already encoded and hashed all but their place in the log, see `codec`), and applies what it
//! has staged to the tree in blocks of records (see `log`), each append's events atomically. It
//! gathers the appends that arrive into a group while it applies them, and seals the group once
//! no more are on the way (see [`Writer::complete`]); the flusher (see `flusher`) then covers
//! the whole group with one flush and only then publishes and answers it, while the writer goes
//! on with the next group. Applying while appends arrive overlaps the tree's work with the
//! callers' round trip, and the flusher overlaps the disk's with the next group's.

use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use chrono::Utc;
use sled::IVec;
use tokio::sync::{broadcast, watch};

use crate::codec::{self, Unsealed};
use crate::error::{Error, Result};
use crate::event::{AppendResult, ExpectedVersion, Head, NewEvent, StoredEvent, Text};
use crate::flusher::{Handover, Outcome, Pending, Sealed};
use crate::index::Index;
use crate::log;
use crate::queue::{Answering, Command, Fanout, Queue, Reply, Spent};
use crate::store::{Counters, Durability};

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
    pub durable: watch::Receiver<Head>,
    pub live: broadcast::Sender<Arc<StoredEvent>>,
    pub handover: Arc<Handover>,
    /// Shared with readers; the writer is its only mutator.
    pub index: Arc<RwLock<Index>>,
    pub counters: Arc<Counters>,
}

/// How long a group waits for appends that are in flight (see `Writer::complete`) when there
/// is no flush yet to measure the wait against.
const GATHER_MAX: Duration = Duration::from_micros(400);

/// The longest a group gathers before it is flushed, however busy the queue: bounds the latency
/// of the group's first append.
const GROUP_MAX: Duration = Duration::from_millis(5);

/// Staged records are applied once they fill a couple of blocks (see `log`), and in any case
/// before the group is sealed: applying early overlaps the tree's work with the gathering, and
/// waiting for a few kilobytes keeps blocks full.
const APPLY_BYTES: usize = 2 * log::BLOCK_BYTES;

/// The appends of one group commit, gathering.
struct Group {
    started: Instant,
    /// When the last append joined.
    last_arrival: Instant,
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

impl Group {
    /// Events staged and not applied yet: few, as they are applied once they fill `APPLY_BYTES`.
    fn pending_events(&self) -> usize {
        self.pending.iter().map(|p| p.records.len()).sum()
    }

    /// The bytes of the records staged and not applied yet.
    fn pending_bytes(&self) -> usize {
        self.pending
            .iter()
            .flat_map(|p| &p.records)
            .map(|(_, bytes, _)| bytes.len())
            .sum()
    }

    fn new(durable: u64) -> Self {
        let now = Instant::now();
        Group {
            started: now,
            last_arrival: now,
            durable,
            appends: 0,
            events: 0,
            answers: Vec::new(),
            pending: Vec::new(),
            records: Vec::new(),
        }
    }
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
    /// `(position, record, hash)` per event.
    records: Vec<(u64, IVec, [u8; codec::HASH_LEN])>,
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
    /// Takes appends until the queue closes or a shutdown arrives. `flusher` is the thread that
    /// flushes what this one seals; it is stopped and joined before this returns.
    pub(crate) fn run(mut self, queue: Arc<Queue>, flusher: JoinHandle<()>) {
        let mut taken = Vec::new();
        let mut group: Option<Group> = None;
        let mut shutdown = None;
        loop {
            let deadline = group.as_ref().map(|g| self.seal_deadline(g));
            let closed = queue.take(&mut taken, deadline);
            for command in taken.drain(..) {
                match command {
                    Command::Append {
                        stream,
                        expected,
                        events,
                        records,
                        reply,
                    } => {
                        let durable = self.durable.borrow().position;
                        let g = group.get_or_insert_with(|| Group::new(durable));
                        self.stage(g, stream, expected, events, records, reply);
                    }
                    Command::Shutdown { reply } => shutdown = Some(reply),
                }
            }
            let stopping = closed || shutdown.is_some();
            if let Some(g) = group.as_mut()
                && g.pending_bytes() >= APPLY_BYTES
            {
                self.apply_pending(g);
            }
            if let Some(mut g) = group.take_if(|g| stopping || self.complete(g)) {
                self.apply_pending(&mut g);
                self.seal(g);
            }
            if stopping {
                break;
            }
        }
        // Let the flusher finish what is sealed, refuse whatever is still queued, then make
        // sure everything applied is on disk.
        self.handover.close();
        if flusher.join().is_err() {
            tracing::error!("the event store's flusher stopped with a panic");
        }
        queue.close();
        queue.take(&mut taken, Some(Instant::now()));
        let refused = taken.drain(..).filter_map(|command| match command {
            Command::Append {
                reply,
                stream,
                events,
                ..
            } => Some(Answering {
                reply,
                result: Err(Error::Closed),
                spent: (stream, events),
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

    /// Whether the group should be flushed now. It is complete once it holds every append in
    /// flight: the others are moments away (their callers were just answered and are
    /// resubmitting), and flushing without them splits the appenders into cohorts that take
    /// turns, doubling the flushes for the same work (PostgreSQL's `commit_delay` with
    /// `commit_siblings`, made exact). A lone appender never waits. But a group waits for
    /// stragglers only while they keep coming: once no append has joined for as long as a flush
    /// takes, they are better served by the next flush. Nothing is sealed while the flusher is
    /// busy, as it could not start on it anyway.
    ///
    /// The wait also restarts when the flusher becomes free, because that is the moment the
    /// appenders of the group it just flushed are answered: a group that gathered during the
    /// flush must let them in, or the two cohorts keep taking turns for good (measured with 256
    /// appenders: 156 flushes a round when the wait ran from the group's start, 115 with this).
    fn complete(&self, g: &Group) -> bool {
        if g.events + g.pending_events() >= self.max_batch_events
            || g.started.elapsed() >= GROUP_MAX
        {
            return true;
        }
        if self.handover.is_busy() {
            return false;
        }
        if self.durability == Durability::Relaxed {
            return true;
        }
        let in_flight = self.counters.in_flight.load(Ordering::Acquire);
        g.appends + self.handover.sealed_appends() >= in_flight
            || self.gathering_since(g).elapsed() >= self.commit_delay()
    }

    /// When the writer must look at the group again if nothing arrives.
    fn seal_deadline(&self, g: &Group) -> Instant {
        if self.handover.is_busy() {
            // The flusher kicks the queue when it is done.
            g.started + GROUP_MAX
        } else {
            (self.gathering_since(g) + self.commit_delay()).min(g.started + GROUP_MAX)
        }
    }

    /// Since when the group has waited for stragglers: its last arrival, or the moment the
    /// flusher became free to take it, whichever is later.
    fn gathering_since(&self, g: &Group) -> Instant {
        match self.handover.idle_since() {
            Some(idle) if idle > g.last_arrival => idle,
            _ => g.last_arrival,
        }
    }

    /// How long a group may wait for its stragglers: about one flush.
    fn commit_delay(&self) -> Duration {
        match self.handover.last_flush() {
            Duration::ZERO => GATHER_MAX,
            last => last.min(GROUP_MAX),
        }
    }

    /// Hands a complete group to the flusher.
    fn seal(&mut self, g: Group) {
        if g.events > 0 {
            let c = &self.counters;
            c.batches.fetch_add(1, Ordering::Relaxed);
            c.events.fetch_add(g.events as u64, Ordering::Relaxed);
        }
        self.handover.seal(Sealed {
            head: self.applied,
            answers: g.answers,
            records: g.records,
        });
    }

    /// Checks one append against the log as staged so far, indexes and encodes its events, and
    /// leaves them pending for `apply_pending`.
    fn stage(
        &mut self,
        group: &mut Group,
        stream: String,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
        unsealed: Vec<Unsealed>,
        reply: Reply,
    ) {
        self.counters.appends.fetch_add(1, Ordering::Relaxed);
        group.appends += 1;
        group.last_arrival = Instant::now();
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
                    spent: (stream, events),
                });
                return;
            }
        };
        let recorded_at_micros = Utc::now().timestamp_micros();
        let prev_head = self.head;
        let first_position = prev_head.position + 1;
        let mut head = prev_head;
        let mut records = Vec::with_capacity(unsealed.len());
        for (i, u) in (0u64..).zip(unsealed) {
            let position = first_position + i;
            let (bytes, hash) =
                codec::seal(u, position, current + 1 + i, recorded_at_micros, &head.hash);
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
            spent: Spent::default(),
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

    /// Writes the pending records to the tree, packed into blocks (see `log`): one insert when
    /// they fit one block, else one atomic batch, so every append lands whole or not at all and a
    /// crash keeps a prefix of the log. What cannot be applied is taken back out of the index and
    /// answered with the storage error.
    fn apply_pending(&mut self, group: &mut Group) {
        let pending = std::mem::take(&mut group.pending);
        let Some(first) = pending.first().and_then(|p| p.records.first()).map(|r| r.0) else {
            return;
        };
        let blocks = log::pack(
            first,
            pending
                .iter()
                .flat_map(|p| p.records.iter().map(|(_, bytes, _)| &bytes[..])),
        );
        let count = blocks.len() as u64;
        let written = match <[_; 1]>::try_from(blocks) {
            Ok([(key, value)]) => self.tree.insert(key, value).map(drop),
            Err(blocks) => {
                let mut batch = sled::Batch::default();
                for (key, value) in blocks {
                    batch.insert(&key[..], value);
                }
                self.tree.apply_batch(batch)
            }
        };
        if let Err(e) = written {
            tracing::error!(error = %e, "event store write failed");
            self.counters.failing.store(true, Ordering::Release);
            self.index
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .retract(
                    pending
                        .iter()
                        .rev()
                        .flat_map(|p| p.events.iter().rev().map(|ev| (ev.id, p.stream.as_str()))),
                );
            if let Some(first) = pending.first() {
                self.head = first.prev_head;
                // Later appends were checked against the lost ones: none of them stands.
                for p in &mut group.answers[first.answer..] {
                    if !matches!(p.outcome, Outcome::Replay(_)) {
                        p.outcome = Outcome::Failed(Error::Storage(e.clone()));
                    }
                }
            }
            return;
        }
        self.counters.blocks.fetch_add(count, Ordering::Relaxed);
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
                // The rest goes back to the caller (see `queue::Answer::spent`).
                if let Some(answer) = group.answers.get_mut(p.answer) {
                    answer.spent = (p.stream, p.events);
                }
                continue;
            }
            let recorded_at =
                chrono::DateTime::from_timestamp_micros(p.recorded_at_micros).unwrap_or_default();
            let stream = Text::from(p.stream);
            for ((ev, (position, _, hash)), version) in
                p.events.into_iter().zip(p.records).zip(p.version + 1..)
            {
                group.records.push(Arc::new(StoredEvent {
                    position,
                    stream: stream.clone(),
                    stream_version: version,
                    id: ev.id,
                    event_type: ev.event_type.into(),
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
        let bytes = log::get(&self.tree, position)?.ok_or_else(|| Error::Corrupt {
            position,
            reason: "indexed event is missing".into(),
        })?;
        let e = codec::decode_event(position, &bytes)
            .map_err(|reason| Error::Corrupt { position, reason })?;
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
