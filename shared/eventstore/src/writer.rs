//! The single writer: one thread owns every write to the tree (group commit). Concurrent appends
//! queue on a channel; the writer gathers what is in flight, checks each append against the log
//! as it will be after the appends before it, applies them all in one atomic sled batch, flushes
//! once, and only then publishes the new durable head to readers, hands the events to live
//! subscribers and answers the appenders.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use chrono::Utc;
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use uuid::Uuid;

use crate::codec::{self, RecordRef};
use crate::error::{Error, Result};
use crate::event::{AppendResult, EventMetadata, ExpectedVersion, Head, Payload, StoredEvent};
use crate::index::Index;
use crate::keys;
use crate::store::{Counters, Durability};

/// An event ready for the writer: the payload already serialised by the caller's task, so that
/// the one writer thread spends its time on ordering and I/O only.
pub(crate) struct PreparedEvent {
    pub id: Uuid,
    pub event_type: String,
    pub schema_version: u32,
    pub payload: Vec<u8>,
    pub metadata: EventMetadata,
}

pub(crate) enum Command {
    Append {
        stream: String,
        expected: ExpectedVersion,
        events: Vec<PreparedEvent>,
        reply: oneshot::Sender<Result<AppendResult>>,
    },
    /// Flush and stop; answered once the writer has let go of the tree.
    Shutdown { reply: oneshot::Sender<()> },
}

pub(crate) struct Writer {
    pub tree: sled::Tree,
    pub durability: Durability,
    pub max_batch_events: usize,
    /// The applied end of the log (runs ahead of the durable head only after a failed flush).
    pub head: Head,
    pub durable: watch::Sender<Head>,
    pub live: broadcast::Sender<Arc<StoredEvent>>,
    /// Shared with readers; the writer is its only mutator.
    pub index: Arc<RwLock<Index>>,
    pub counters: Arc<Counters>,
}

type Reply = oneshot::Sender<Result<AppendResult>>;
type Append = (String, ExpectedVersion, Vec<PreparedEvent>, Reply);

/// The longest the writer waits to gather appends that are in flight (see `Writer::gather`).
const GATHER_MAX: Duration = Duration::from_micros(400);

/// One append's outcome within a batch.
enum Outcome {
    /// New events to write; the answer waits for the batch to become durable.
    Write(AppendResult),
    /// A retry of events already on disk: answered as stored.
    Replay(AppendResult),
    /// A retry of events written earlier in this same batch: answered with the batch.
    ReplayInBatch(AppendResult),
    Failed(Error),
}

impl Outcome {
    fn into_answer(self) -> Result<AppendResult> {
        match self {
            Outcome::Write(r) | Outcome::Replay(r) | Outcome::ReplayInBatch(r) => Ok(r),
            Outcome::Failed(err) => Err(err),
        }
    }

    /// The answer when the batch's write or flush failed.
    fn into_failure(self, e: &sled::Error) -> Result<AppendResult> {
        match self {
            Outcome::Replay(r) => Ok(r),
            Outcome::Failed(err) => Err(err),
            Outcome::Write(_) | Outcome::ReplayInBatch(_) => Err(Error::Storage(e.clone())),
        }
    }
}

/// What the batch has written so far, so later appends in it see earlier ones.
#[derive(Default)]
struct Staged {
    batch: sled::Batch,
    /// (id, stream, position) of each staged event, for the index.
    entries: Vec<(Uuid, Arc<str>, u64)>,
    /// Copies for live subscribers; left empty when there are none.
    records: Vec<Arc<StoredEvent>>,
    /// Event id → (position, stream, type, version, payload) of events staged in this batch.
    ids: HashMap<Uuid, StagedId>,
    versions: HashMap<String, u64>,
}

struct StagedId {
    position: u64,
    stream_version: u64,
    fingerprint: Fingerprint,
}

/// What must match for a retried event id to count as the same event.
#[derive(PartialEq)]
struct Fingerprint {
    stream: String,
    event_type: String,
    schema_version: u32,
    payload: Vec<u8>,
}

impl Fingerprint {
    fn same_as(&self, other: &Fingerprint) -> bool {
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
            serde_json::from_slice::<serde_json::Value>(&self.payload),
            serde_json::from_slice::<serde_json::Value>(&other.payload),
        ) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        }
    }
}

impl Writer {
    pub(crate) fn run(mut self, mut rx: mpsc::Receiver<Command>) {
        let mut shutdown = None;
        while shutdown.is_none() {
            let Some(first) = rx.blocking_recv() else {
                break;
            };
            let mut appends = Vec::new();
            shutdown = self.take(first, &mut appends);
            if shutdown.is_none() {
                shutdown = self.gather(&mut rx, &mut appends);
            }
            if !appends.is_empty() {
                self.commit(appends);
            }
        }
        // Refuse whatever is still queued, then make sure everything applied is on disk.
        rx.close();
        while let Ok(cmd) = rx.try_recv() {
            match cmd {
                Command::Append { reply, .. } => {
                    let _ = reply.send(Err(Error::Closed));
                }
                Command::Shutdown { reply } => {
                    let _ = reply.send(());
                }
            }
        }
        if let Err(e) = self.tree.flush() {
            tracing::error!(error = %e, "final flush of the event store failed");
        }
        drop(self);
        if let Some(reply) = shutdown {
            let _ = reply.send(());
        }
    }

    /// Adds a command to the batch; a shutdown ends the gathering and is returned.
    fn take(&self, cmd: Command, appends: &mut Vec<Append>) -> Option<oneshot::Sender<()>> {
        match cmd {
            Command::Shutdown { reply } => Some(reply),
            Command::Append {
                stream,
                expected,
                events,
                reply,
            } => {
                self.counters.appends.fetch_add(1, Ordering::Relaxed);
                appends.push((stream, expected, events, reply));
                None
            }
        }
    }

    /// Takes what is queued, then the commit delay (PostgreSQL's `commit_delay` with
    /// `commit_siblings`, made exact): appends that are in flight but not yet queued are moments
    /// away (their callers were just answered and are resubmitting). Committing without them
    /// splits the appenders into cohorts that take turns, doubling the flushes for the same work.
    /// So while the batch holds fewer appends than are in flight, wait for the rest, never longer
    /// than `GATHER_MAX`. A lone appender never waits.
    fn gather(
        &self,
        rx: &mut mpsc::Receiver<Command>,
        appends: &mut Vec<Append>,
    ) -> Option<oneshot::Sender<()>> {
        let events = |a: &Vec<Append>| a.iter().map(|(_, _, e, _)| e.len()).sum::<usize>();
        let deadline = Instant::now() + GATHER_MAX;
        loop {
            while let Ok(cmd) = rx.try_recv() {
                if let Some(shutdown) = self.take(cmd, appends) {
                    return Some(shutdown);
                }
                if events(appends) >= self.max_batch_events {
                    return None;
                }
            }
            let in_flight = self.counters.in_flight.load(Ordering::Acquire);
            if self.durability != Durability::Flush
                || appends.len() >= in_flight
                || Instant::now() >= deadline
            {
                return None;
            }
            std::thread::yield_now();
        }
    }

    /// Stages, applies and flushes one batch, then answers every append in it.
    fn commit(&mut self, appends: Vec<Append>) {
        let recorded_at_micros = Utc::now().timestamp_micros();
        let mut staged = Staged::default();
        let mut head = self.head;
        let mut outcomes = Vec::with_capacity(appends.len());
        for (stream, expected, events, reply) in appends {
            let outcome = self.stage(
                &mut staged,
                &mut head,
                recorded_at_micros,
                &stream,
                expected,
                events,
            );
            outcomes.push((outcome, reply));
        }
        if !staged.entries.is_empty() {
            if let Err(e) = self.tree.apply_batch(staged.batch) {
                // Atomic: nothing of the batch was applied. The writer's state stays as it was.
                tracing::error!(error = %e, "event store batch write failed");
                for (outcome, reply) in outcomes {
                    let _ = reply.send(outcome.into_failure(&e));
                }
                return;
            }
            // Applied: the tree holds these events now, so the writer's view moves on whether or
            // not the flush succeeds. Readers still stop at the durable head.
            self.head = head;
            self.index
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .extend(staged.entries.iter().map(|(id, s, p)| (*id, &**s, *p)));
            let c = &self.counters;
            c.batches.fetch_add(1, Ordering::Relaxed);
            c.events
                .fetch_add(staged.entries.len() as u64, Ordering::Relaxed);
        }
        // A batch of retries alone still waits for a flush: what it answers with may have been
        // applied by an earlier batch whose flush failed.
        let flushed = match self.durability {
            Durability::Flush => {
                self.counters.flushes.fetch_add(1, Ordering::Relaxed);
                self.tree.flush().map(|_| ())
            }
            Durability::Relaxed => Ok(()),
        };
        match flushed {
            Ok(()) => {
                if self.durable.borrow().position != self.head.position {
                    self.durable.send_replace(self.head);
                }
                for record in staged.records {
                    // No receiver is fine: nobody is subscribed.
                    let _ = self.live.send(record);
                }
                for (outcome, reply) in outcomes {
                    let _ = reply.send(outcome.into_answer());
                }
            }
            Err(e) => {
                // Applied but not known durable: the callers get an error and may retry with the
                // same ids (which then answers with the original result). Readers keep seeing the
                // last durable head until a later flush succeeds.
                tracing::error!(error = %e, "event store flush failed");
                for (outcome, reply) in outcomes {
                    let _ = reply.send(outcome.into_failure(&e));
                }
            }
        }
    }

    fn stage(
        &mut self,
        staged: &mut Staged,
        head: &mut Head,
        recorded_at_micros: i64,
        stream: &str,
        expected: ExpectedVersion,
        events: Vec<PreparedEvent>,
    ) -> Outcome {
        match self.check_retry(staged, stream, &events) {
            Ok(Some(outcome)) => return outcome,
            Ok(None) => {}
            Err(e) => return Outcome::Failed(e),
        }
        let current = match staged.versions.get(stream) {
            Some(v) => *v,
            None => read_index(&self.index).stream_version(stream, u64::MAX),
        };
        if !expected.admits(current) {
            return Outcome::Failed(Error::WrongExpectedVersion {
                stream: stream.to_owned(),
                expected,
                actual: current,
            });
        }
        let first_position = head.position + 1;
        let mut version = current;
        let stream_arc: Arc<str> = Arc::from(stream);
        let subscribed = self.live.receiver_count() > 0;
        for ev in events {
            version += 1;
            let position = head.position + 1;
            let (bytes, hash) = codec::encode(&RecordRef {
                position,
                stream_version: version,
                recorded_at_micros,
                id: &ev.id,
                schema_version: ev.schema_version,
                stream,
                event_type: &ev.event_type,
                metadata: &ev.metadata,
                payload: &ev.payload,
                prev_hash: &head.hash,
            });
            staged.batch.insert(&keys::event(position)[..], bytes);
            staged.entries.push((ev.id, stream_arc.clone(), position));
            if subscribed {
                let record = StoredEvent {
                    position,
                    stream: stream.to_owned(),
                    stream_version: version,
                    id: ev.id,
                    event_type: ev.event_type.clone(),
                    schema_version: ev.schema_version,
                    payload: Payload::from_stored(
                        String::from_utf8_lossy(&ev.payload).into_owned(),
                    ),
                    metadata: ev.metadata,
                    recorded_at: chrono::DateTime::from_timestamp_micros(recorded_at_micros)
                        .unwrap_or_default(),
                    hash,
                };
                staged.records.push(Arc::new(record));
            }
            staged.ids.insert(
                ev.id,
                StagedId {
                    position,
                    stream_version: version,
                    fingerprint: Fingerprint {
                        stream: stream.to_owned(),
                        event_type: ev.event_type,
                        schema_version: ev.schema_version,
                        payload: ev.payload,
                    },
                },
            );
            *head = Head { position, hash };
        }
        staged.versions.insert(stream.to_owned(), version);
        Outcome::Write(AppendResult {
            first_position,
            last_position: head.position,
            stream_version: version,
        })
    }

    /// Recognises a retry. `Ok(None)`: every id is new. `Ok(Some(..))`: every id is stored, as the
    /// same events in the same order, and the original result is returned. Anything in between is
    /// an idempotency conflict.
    fn check_retry(
        &self,
        staged: &Staged,
        stream: &str,
        events: &[PreparedEvent],
    ) -> Result<Option<Outcome>> {
        let mut found = Vec::with_capacity(events.len());
        let mut in_batch = false;
        for ev in events {
            if let Some(s) = staged.ids.get(&ev.id) {
                in_batch = true;
                found.push((ev, s.position, s.stream_version, None));
            } else if let Some(position) = read_index(&self.index).position_of(&ev.id) {
                found.push((ev, position, 0, Some(self.read_fingerprint(position)?)));
            } else if !found.is_empty() {
                return Err(Error::IdempotencyConflict { event_id: ev.id });
            }
        }
        if found.is_empty() {
            return Ok(None);
        }
        if found.len() != events.len() {
            return Err(Error::IdempotencyConflict {
                event_id: events[found.len()].id,
            });
        }
        let first_position = found[0].1;
        let mut last_version = 0;
        for (i, (ev, position, staged_version, stored)) in found.into_iter().enumerate() {
            let offered = Fingerprint {
                stream: stream.to_owned(),
                event_type: ev.event_type.clone(),
                schema_version: ev.schema_version,
                payload: ev.payload.clone(),
            };
            let (same, version) = match stored {
                Some((fp, version)) => (fp.same_as(&offered), version),
                None => {
                    let same = staged
                        .ids
                        .get(&ev.id)
                        .is_some_and(|s| s.fingerprint.same_as(&offered));
                    (same, staged_version)
                }
            };
            if !same || position != first_position + i as u64 {
                return Err(Error::IdempotencyConflict { event_id: ev.id });
            }
            last_version = version;
        }
        let result = AppendResult {
            first_position,
            last_position: first_position + events.len() as u64 - 1,
            stream_version: last_version,
        };
        Ok(Some(if in_batch {
            Outcome::ReplayInBatch(result)
        } else {
            Outcome::Replay(result)
        }))
    }

    fn read_fingerprint(&self, position: u64) -> Result<(Fingerprint, u64)> {
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
        Ok((
            Fingerprint {
                stream: e.stream,
                event_type: e.event_type,
                schema_version: e.schema_version,
                payload: e.payload.as_str().as_bytes().to_vec(),
            },
            e.stream_version,
        ))
    }
}

/// A read lock that survives a panicked holder: the index is only ever extended, so it is never
/// left half-written in a way a reader could trip over.
pub(crate) fn read_index(index: &RwLock<Index>) -> std::sync::RwLockReadGuard<'_, Index> {
    index
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
