//! [`EventStore`]: the async handle over the sled log.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::{broadcast, oneshot, watch};

use crate::codec;
use crate::error::{Error, Result};
use crate::event::{AppendResult, ExpectedVersion, Head, NewEvent, StoredEvent};
use crate::flusher::{Flusher, Handover};
use crate::index::Index;
use crate::log;
use crate::queue::{Answer, Command, Queue};
use crate::subscription::Subscription;
use crate::upcast::Upcasters;
use crate::writer::{Writer, read_index};

/// When an append is acknowledged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// After the batch holding it has been flushed to disk. The only mode for production.
    #[default]
    Flush,
    /// As soon as it is applied in memory; sled flushes in the background. For benchmarks only:
    /// a crash may lose acknowledged events.
    Relaxed,
}

/// How to open a store.
#[derive(Debug, Clone)]
pub struct Options {
    pub durability: Durability,
    /// Upcasters applied on every read path.
    pub upcasters: Upcasters,
    /// sled's page cache, in bytes.
    pub cache_capacity_bytes: u64,
    /// Upper bound on the events one group commit takes, so one flush never grows unbounded.
    pub max_batch_events: usize,
    /// How many committed events live subscribers may fall behind before they catch up from disk.
    pub live_buffer: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            durability: Durability::Flush,
            upcasters: Upcasters::default(),
            cache_capacity_bytes: 256 * 1024 * 1024,
            max_batch_events: 4096,
            live_buffer: 4096,
        }
    }
}

/// Limits on what an append may carry; beyond them the append is refused as invalid input.
pub const MAX_STREAM_NAME_BYTES: usize = 200;
pub const MAX_EVENT_TYPE_BYTES: usize = 128;
pub const MAX_EVENTS_PER_APPEND: usize = 1_000;
pub const MAX_PAYLOAD_BYTES: usize = 1024 * 1024;

/// The result of [`EventStore::verify`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    /// Events whose chain link checked out, from position 1.
    pub verified: u64,
    /// The head as the store reports it.
    pub head: Head,
    /// The first position where the chain breaks, if it does.
    pub first_break: Option<ChainBreak>,
}

impl VerifyReport {
    pub fn is_intact(&self) -> bool {
        self.first_break.is_none()
    }
}

/// Where and why the hash chain breaks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainBreak {
    pub position: u64,
    pub reason: String,
}

/// Running totals since the store was opened, for metrics and benchmarks.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub appends: AtomicU64,
    pub events: AtomicU64,
    pub batches: AtomicU64,
    pub flushes: AtomicU64,
    pub blocks: AtomicU64,
    /// Appends submitted and not yet answered: what a flush may wait for (see the flusher).
    pub in_flight: std::sync::atomic::AtomicUsize,
    /// The last write or flush failed and none has succeeded since.
    pub failing: std::sync::atomic::AtomicBool,
}

/// Counts an append as in flight for as long as it lives, however its caller's future ends.
struct InFlight<'a>(&'a Counters);

impl<'a> InFlight<'a> {
    fn enter(c: &'a Counters) -> Self {
        c.in_flight.fetch_add(1, Ordering::AcqRel);
        InFlight(c)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A snapshot of the store's counters since it was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Stats {
    /// Append calls taken by the writer (retries and refusals included).
    pub appends: u64,
    /// Events written.
    pub events_written: u64,
    /// Group commits applied: `events_written / batches` is the mean batch.
    pub batches: u64,
    /// Disk flushes: fewer than batches when the flusher coalesces them.
    pub flushes: u64,
    /// Blocks written: `events_written / blocks` is the mean number of events per sled insert.
    pub blocks: u64,
    /// Events in the in-memory indexes (the whole log, durable or not yet).
    pub indexed_events: u64,
    /// The last write or flush to disk failed and none has succeeded since: appends are being
    /// refused (see [`EventStore::writes_failing`]).
    pub writes_failing: bool,
}

/// A handle that does not keep the store open: for observers (metrics) that must not stop the
/// files from being released when the store closes.
#[derive(Debug, Clone)]
pub struct WeakEventStore {
    inner: std::sync::Weak<Inner>,
}

impl WeakEventStore {
    /// The store, while it is still open somewhere.
    pub fn upgrade(&self) -> Option<EventStore> {
        self.inner.upgrade().map(|inner| EventStore { inner })
    }
}

/// A cheap, cloneable handle on an open store. All clones share one writer.
#[derive(Debug, Clone)]
pub struct EventStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    path: PathBuf,
    tree: sled::Tree,
    queue: Arc<Queue>,
    durable: watch::Receiver<Head>,
    live: broadcast::Sender<Arc<StoredEvent>>,
    upcasters: Upcasters,
    index: Arc<RwLock<Index>>,
    counters: Arc<Counters>,
    writer: Mutex<Option<JoinHandle<()>>>,
    /// Held for the lifetime of the store: a second opener gets [`Error::Locked`].
    _lock: File,
    /// Dropped last, after the writer has stopped (field order is drop order).
    _db: sled::Db,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // The writer stops once its queue is closed; wait for it so that the sled files are
        // flushed and released when the last handle is dropped.
        self.queue.close();
        if let Ok(mut slot) = self.writer.lock()
            && let Some(handle) = slot.take()
        {
            let _ = handle.join();
        }
    }
}

impl EventStore {
    /// Opens (or creates) the store in directory `path`.
    pub fn open(path: impl AsRef<Path>, options: Options) -> Result<EventStore> {
        let path = path.as_ref().to_path_buf();
        let (lock, db, tree) = open_files(&path, options.cache_capacity_bytes)?;
        let (index, head) = Index::rebuild(&tree)?;
        let index = Arc::new(RwLock::new(index));
        let counters = Arc::new(Counters::default());

        let queue = Arc::new(Queue::new(options.max_batch_events.max(1024)));
        let (durable_tx, durable) = watch::channel(head);
        let (live, _) = broadcast::channel(options.live_buffer.max(16));
        let handover = Arc::new(Handover::default());
        let flusher = Flusher {
            tree: tree.clone(),
            durability: options.durability,
            durable: durable_tx,
            live: live.clone(),
            counters: counters.clone(),
            handover: handover.clone(),
            queue: queue.clone(),
        };
        let flusher = std::thread::Builder::new()
            .name("eventstore-flusher".into())
            .spawn(move || flusher.run())
            .map_err(Error::Io)?;
        let writer = Writer {
            tree: tree.clone(),
            durability: options.durability,
            max_batch_events: options.max_batch_events.max(1),
            head,
            applied: head,
            durable: durable.clone(),
            live: live.clone(),
            handover: handover.clone(),
            index: index.clone(),
            counters: counters.clone(),
        };
        let writer_queue = queue.clone();
        let handle = std::thread::Builder::new()
            .name("eventstore-writer".into())
            .spawn(move || writer.run(writer_queue, flusher))
            .map_err(|e| {
                handover.close();
                Error::Io(e)
            })?;
        Ok(EventStore {
            inner: Arc::new(Inner {
                path,
                tree,
                queue,
                durable,
                live,
                upcasters: options.upcasters,
                index,
                counters,
                writer: Mutex::new(Some(handle)),
                _lock: lock,
                _db: db,
            }),
        })
    }

    /// A handle that does not keep the store open.
    pub fn downgrade(&self) -> WeakEventStore {
        WeakEventStore {
            inner: Arc::downgrade(&self.inner),
        }
    }

    /// The directory the store lives in.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Appends `events` to `stream` if its version admits `expected`: all of them or none, each
    /// durable before this returns. A retry with ids that are already stored returns the original
    /// result and writes nothing.
    pub async fn append(
        &self,
        stream: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<AppendResult> {
        check(stream, &events)?;
        // The caller's task encodes and hashes what it can, so the writer does the least.
        let records = events.iter().map(|e| codec::prepare(stream, e)).collect();
        let _in_flight = InFlight::enter(&self.inner.counters);
        let (reply, answer) = oneshot::channel();
        self.inner
            .queue
            .push(Command::Append {
                stream: stream.to_owned(),
                expected,
                events,
                records,
                reply,
            })
            .await
            .map_err(|_| Error::Closed)?;
        let Answer {
            result,
            others,
            spent,
        } = answer.await.map_err(|_| Error::Closed)?;
        // Deliver the rest of the group's answers first (see `writer::Fanout`).
        drop(others);
        drop(spent);
        result
    }

    /// The durable head: the last position and its hash.
    pub fn head(&self) -> Head {
        *self.inner.durable.borrow()
    }

    /// Waits until the durable head passes `position`, or `timeout` elapses; returns the head.
    /// For long-polling feeds.
    pub async fn wait_for_head_after(&self, position: u64, timeout: Duration) -> Head {
        let mut rx = self.inner.durable.clone();
        let wait = rx.wait_for(|h| h.position > position);
        match tokio::time::timeout(timeout, wait).await {
            Ok(Ok(head)) => *head,
            _ => self.head(),
        }
    }

    /// The stream's current version (0: the stream does not exist).
    pub async fn stream_version(&self, stream: &str) -> Result<u64> {
        let this = self.clone();
        let stream = stream.to_owned();
        blocking(move || this.stream_version_blocking(&stream)).await
    }

    fn stream_version_blocking(&self, stream: &str) -> Result<u64> {
        Ok(read_index(&self.inner.index).stream_version(stream, self.head().position))
    }

    /// Up to `limit` events of `stream` with versions ≥ `from_version`, in order.
    pub async fn read_stream(
        &self,
        stream: &str,
        from_version: u64,
        limit: usize,
    ) -> Result<Vec<StoredEvent>> {
        let this = self.clone();
        let stream = stream.to_owned();
        blocking(move || this.read_stream_blocking(&stream, from_version, limit)).await
    }

    fn read_stream_blocking(
        &self,
        stream: &str,
        from_version: u64,
        limit: usize,
    ) -> Result<Vec<StoredEvent>> {
        let positions = read_index(&self.inner.index).stream_positions(
            stream,
            from_version,
            limit,
            self.head().position,
        );
        positions
            .into_iter()
            .map(|p| self.read_position(p))
            .collect()
    }

    /// The durable event with this id, if there is one: how a service answers a retried request
    /// with its original response.
    pub async fn find_event(&self, id: uuid::Uuid) -> Result<Option<StoredEvent>> {
        let this = self.clone();
        blocking(move || {
            let position = read_index(&this.inner.index).position_of(&id);
            match position {
                Some(p) if p <= this.head().position => this.read_position(p).map(Some),
                _ => Ok(None),
            }
        })
        .await
    }

    /// Up to `limit` events of the whole log after `after_position`, in position order.
    pub async fn read_all(&self, after_position: u64, limit: usize) -> Result<Vec<StoredEvent>> {
        let this = self.clone();
        blocking(move || this.read_all_blocking(after_position, limit)).await
    }

    pub(crate) fn read_all_blocking(
        &self,
        after_position: u64,
        limit: usize,
    ) -> Result<Vec<StoredEvent>> {
        let durable = self.head().position;
        if after_position >= durable || limit == 0 {
            return Ok(Vec::new());
        }
        let last = durable.min(after_position.saturating_add(limit as u64));
        let first = after_position + 1;
        let mut out = Vec::with_capacity((last - after_position) as usize);
        let mut expected = first;
        for entry in log::scan(&self.inner.tree, first, last) {
            let (position, v) = entry?;
            if position != expected {
                return Err(Error::Corrupt {
                    position: expected,
                    reason: "event missing from the log".into(),
                });
            }
            out.push(self.decode(position, &v)?);
            expected += 1;
        }
        if expected <= last {
            return Err(Error::Corrupt {
                position: expected,
                reason: "event missing from the log".into(),
            });
        }
        Ok(out)
    }

    fn read_position(&self, position: u64) -> Result<StoredEvent> {
        let bytes = log::get(&self.inner.tree, position)?.ok_or_else(|| Error::Corrupt {
            position,
            reason: "indexed event is missing".into(),
        })?;
        self.decode(position, &bytes)
    }

    fn decode(&self, position: u64, bytes: &sled::IVec) -> Result<StoredEvent> {
        let mut event = codec::decode_event(position, bytes)
            .map_err(|reason| Error::Corrupt { position, reason })?;
        self.inner.upcasters.apply(&mut event)?;
        Ok(event)
    }

    pub(crate) fn upcast(&self, event: &mut StoredEvent) -> Result<()> {
        self.inner.upcasters.apply(event)
    }

    /// Every event after `after_position`, stored ones first and then live ones, in position order,
    /// with no gap and no duplicate.
    pub fn subscribe(&self, after_position: u64) -> Subscription {
        // Subscribe to live events before anything is read, so nothing falls between the two.
        let live = self.inner.live.subscribe();
        Subscription::new(self.clone(), after_position, live)
    }

    /// Walks the whole log and checks every link of the hash chain.
    pub async fn verify(&self) -> Result<VerifyReport> {
        let this = self.clone();
        blocking(move || this.verify_blocking()).await
    }

    fn verify_blocking(&self) -> Result<VerifyReport> {
        let head = self.head();
        let mut report = walk_chain(&self.inner.tree, Some(head))?;
        report.head = head;
        Ok(report)
    }

    /// Verifies the store in `path` without opening it for use: no index is built, so a log that
    /// [`EventStore::open`] refuses as corrupt can still be examined and its first break named.
    /// Takes the store's lock, so it fails with [`Error::Locked`] while a service runs on it.
    pub fn verify_dir(path: impl AsRef<Path>) -> Result<VerifyReport> {
        let (_lock, _db, tree) = open_files(path.as_ref(), 16 * 1024 * 1024)?;
        walk_chain(&tree, None)
    }

    /// Counters since the store was opened.
    pub fn stats(&self) -> Stats {
        let c = &self.inner.counters;
        Stats {
            appends: c.appends.load(Ordering::Relaxed),
            events_written: c.events.load(Ordering::Relaxed),
            batches: c.batches.load(Ordering::Relaxed),
            flushes: c.flushes.load(Ordering::Relaxed),
            blocks: c.blocks.load(Ordering::Relaxed),
            indexed_events: read_index(&self.inner.index).len() as u64,
            writes_failing: self.writes_failing(),
        }
    }

    /// True when the last write or flush to disk failed and none has succeeded since: appends
    /// get [`Error::Storage`] while reads go on. Health checks report it.
    pub fn writes_failing(&self) -> bool {
        self.inner.counters.failing.load(Ordering::Acquire)
    }

    /// Stops taking appends, waits for the writer to flush, and releases this handle. The files are
    /// released once every clone of the handle (and every subscription) is dropped.
    pub async fn close(self) {
        let (reply, done) = oneshot::channel();
        if self
            .inner
            .queue
            .push(Command::Shutdown { reply })
            .await
            .is_ok()
        {
            let _ = done.await;
        }
    }

    pub(crate) fn durable_head_watch(&self) -> watch::Receiver<Head> {
        self.inner.durable.clone()
    }

    pub(crate) fn live(&self) -> broadcast::Receiver<Arc<StoredEvent>> {
        self.inner.live.subscribe()
    }
}

/// Makes sure `path` is a directory only its owner can enter: creates it (and any missing
/// parent) with mode 0700, or refuses an existing one that group or others may read, enter or
/// write ([`Error::InsecurePermissions`]).
pub fn private_directory(path: &Path) -> Result<()> {
    match std::fs::metadata(path) {
        Ok(meta) => {
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(Error::InsecurePermissions {
                    path: path.to_path_buf(),
                    mode,
                });
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(path)
            .map_err(Error::Io),
        Err(e) => Err(Error::Io(e)),
    }
}

/// Gives every file below `dir` mode 0600 and every directory 0700: sled creates its files with
/// the process's umask, and what it wrote must be its owner's only even when that umask is not.
fn restrict(dir: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        if kind.is_dir() {
            std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(0o700))?;
            restrict(&entry.path())?;
        } else if kind.is_file() {
            std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(0o600))?;
        }
    }
    Ok(())
}

/// Takes the directory's lock, then opens sled and the events tree.
fn open_files(path: &Path, cache_capacity_bytes: u64) -> Result<(File, sled::Db, sled::Tree)> {
    private_directory(path)?;
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(path.join("LOCK"))
        .map_err(Error::Io)?;
    match lock.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            return Err(Error::Locked {
                path: path.to_path_buf(),
            });
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(Error::Io(e)),
    }
    let config = sled::Config::new()
        .path(path.join("sled"))
        .cache_capacity(cache_capacity_bytes)
        .mode(sled::Mode::HighThroughput);
    let db = open_sled(&config)?;
    let tree = db.open_tree("events")?;
    restrict(path).map_err(Error::Io)?;
    Ok((lock, db, tree))
}

/// How long an opener waits for sled's own file lock once it holds the directory's `LOCK`.
const SLED_LOCK_PATIENCE: Duration = Duration::from_secs(5);

/// Opens sled. Holding the directory's `LOCK` means no other store is open here, so a refusal
/// of sled's own file lock can only come from a handle of this process that was just dropped:
/// sled releases that lock when its last internal reference goes, which its I/O threads may
/// hold a moment longer. Wait for it, briefly, rather than fail a close-then-reopen.
fn open_sled(config: &sled::Config) -> Result<sled::Db> {
    let deadline = Instant::now() + SLED_LOCK_PATIENCE;
    let mut pause = Duration::from_millis(5);
    loop {
        match config.open() {
            Err(sled::Error::Io(e))
                if e.to_string().starts_with("could not acquire lock")
                    && Instant::now() < deadline =>
            {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(200));
            }
            other => return other.map_err(Error::from),
        }
    }
}

/// Walks the log from position 1, checking density, decoding, each record's hash and its link to
/// the one before. With `head`, also checks that the head's hash is the log's at that position;
/// without, the report's head is the last record walked.
fn walk_chain(tree: &sled::Tree, head: Option<Head>) -> Result<VerifyReport> {
    let mut prev = [0u8; codec::HASH_LEN];
    let mut verified = 0u64;
    let mut hash_at_head = None;
    let report = |verified: u64, last: [u8; codec::HASH_LEN], first_break| VerifyReport {
        verified,
        head: head.unwrap_or(Head {
            position: verified,
            hash: last,
        }),
        first_break,
    };
    for entry in log::scan(tree, 1, u64::MAX) {
        let expected = verified + 1;
        let broken = |reason: String| {
            Ok(report(
                verified,
                prev,
                Some(ChainBreak {
                    position: expected,
                    reason,
                }),
            ))
        };
        let v = match entry {
            Ok((p, v)) if p == expected => v,
            Ok((p, _)) | Err(Error::Corrupt { position: p, .. }) if p > expected => {
                return broken(format!("missing; the log jumps to {p}"));
            }
            Err(Error::Corrupt { reason, .. }) => return broken(reason),
            Ok(_) => return broken("stored out of order".into()),
            Err(e) => return Err(e),
        };
        let d = match codec::decode(expected, &v, true) {
            Ok(d) => d,
            Err(reason) => return broken(reason),
        };
        if d.prev_hash != prev {
            return broken("does not link to the previous event's hash".into());
        }
        if d.computed_hash != d.event.hash {
            return broken("content does not match its hash".into());
        }
        prev = d.event.hash;
        verified = expected;
        if head.is_some_and(|h| h.position == verified) {
            hash_at_head = Some(prev);
        }
    }
    if let Some(h) = head
        && h.position > 0
    {
        let problem = match hash_at_head {
            None => Some((verified + 1, "missing below the head")),
            Some(hash) if hash != h.hash => Some((h.position, "head hash does not match the log")),
            Some(_) => None,
        };
        if let Some((position, reason)) = problem {
            return Ok(report(
                verified,
                prev,
                Some(ChainBreak {
                    position,
                    reason: reason.into(),
                }),
            ));
        }
    }
    Ok(report(verified, prev, None))
}

/// Checks an append's limits on the caller's task, before anything reaches the writer. Payloads
/// are JSON already (see [`crate::Payload`]), so there is nothing to serialise.
fn check(stream: &str, events: &[NewEvent]) -> Result<()> {
    if stream.is_empty() || stream.len() > MAX_STREAM_NAME_BYTES {
        return Err(Error::InvalidInput(format!(
            "stream name must be 1 to {MAX_STREAM_NAME_BYTES} bytes"
        )));
    }
    if stream.chars().any(char::is_control) {
        return Err(Error::InvalidInput(
            "stream name contains a control character".into(),
        ));
    }
    if events.is_empty() || events.len() > MAX_EVENTS_PER_APPEND {
        return Err(Error::InvalidInput(format!(
            "an append carries 1 to {MAX_EVENTS_PER_APPEND} events"
        )));
    }
    if events.len() > 1 {
        let mut seen = std::collections::HashSet::with_capacity(events.len());
        if let Some(e) = events.iter().find(|e| !seen.insert(e.id)) {
            return Err(Error::InvalidInput(format!(
                "event id {} appears twice in one append",
                e.id
            )));
        }
    }
    for e in events {
        if e.event_type.is_empty()
            || e.event_type.len() > MAX_EVENT_TYPE_BYTES
            || e.event_type.chars().any(char::is_control)
        {
            return Err(Error::InvalidInput(format!(
                "event type must be 1 to {MAX_EVENT_TYPE_BYTES} printable bytes"
            )));
        }
        if e.payload.len() > MAX_PAYLOAD_BYTES {
            return Err(Error::InvalidInput(format!(
                "payload exceeds {MAX_PAYLOAD_BYTES} bytes"
            )));
        }
    }
    Ok(())
}

/// Runs sled reads so that they do not stall the executor: a long replay must not hold up other
/// tasks. On a multi-threaded runtime the read runs on the calling thread while the runtime
/// hands the thread's other tasks to another (`block_in_place`): the caller waits for the events
/// anyway, and receives them where they were decoded, still in its caches, instead of from
/// another thread. A single-threaded runtime (an actix worker) hands the read to its blocking
/// pool.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        Ok(handle) => handle.spawn_blocking(f).await.map_err(|_| Error::Closed)?,
        Err(_) => f(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;
    use uuid::Uuid;

    /// Positions 1 to 3 are appended one by one (a block each), 4 to 10 in one append (one block).
    async fn store_with_ten_events(dir: &Path) {
        let store = EventStore::open(dir, Options::default()).unwrap();
        let event = |i: usize| NewEvent::new(Uuid::new_v4(), "t", 1, json!({ "i": i }));
        for i in 0..3 {
            store
                .append("s", ExpectedVersion::Any, vec![event(i)])
                .await
                .unwrap();
        }
        store
            .append("s", ExpectedVersion::Any, (3..10).map(event).collect())
            .await
            .unwrap();
        assert_eq!(store.stats().blocks, 4);
        assert!(store.verify().await.unwrap().is_intact());
        store.close().await;
    }

    /// Opens the raw sled tree underneath a closed store, as an attacker with disk access would.
    /// (Through `open_sled`, which waits for the lock the just-closed store's sled still holds.)
    fn tamper(dir: &Path, f: impl FnOnce(&sled::Tree)) {
        let db = open_sled(&sled::Config::new().path(dir.join("sled"))).unwrap();
        let tree = db.open_tree("events").unwrap();
        f(&tree);
        tree.flush().unwrap();
    }

    async fn first_break(dir: &Path) -> Option<ChainBreak> {
        let offline = EventStore::verify_dir(dir).unwrap().first_break;
        // Where the log still opens, the online check agrees with the offline one.
        if let Ok(store) = EventStore::open(dir, Options::default()) {
            assert_eq!(store.verify().await.unwrap().first_break, offline);
        }
        offline
    }

    #[tokio::test]
    async fn verify_names_the_position_of_an_altered_byte() {
        let dir = crate::private_tempdir();
        store_with_ten_events(dir.path()).await;
        tamper(dir.path(), |tree| {
            log::tamper::rewrite(tree, 5, |mut record| {
                // The payload ends before the writer's part and the hash.
                let payload_at = record.len() - codec::HASH_LEN - codec::TAIL_LEN - 2;
                assert_eq!(record[payload_at], b'4');
                record[payload_at] ^= 0x01; // {"i":4} becomes {"i":5}
                record
            });
        });
        let b = first_break(dir.path()).await.unwrap();
        assert_eq!(b.position, 5);
        assert_eq!(b.reason, "content does not match its hash");
    }

    #[tokio::test]
    async fn verify_names_a_record_rewritten_with_a_fresh_hash() {
        // Rewriting a record and recomputing its own hash still breaks the link of the next one.
        let dir = crate::private_tempdir();
        store_with_ten_events(dir.path()).await;
        tamper(dir.path(), |tree| {
            let old = log::get(tree, 3).unwrap().unwrap();
            let d = codec::decode(3, &old, true).unwrap();
            let e = d.event;
            let (bytes, _) = codec::encode(&codec::RecordRef {
                position: 3,
                stream_version: e.stream_version,
                recorded_at_micros: e.recorded_at.timestamp_micros(),
                id: &e.id,
                schema_version: e.schema_version,
                stream: &e.stream,
                event_type: &e.event_type,
                metadata: &e.metadata,
                payload: br#"{"i":"forged"}"#,
                prev_hash: &d.prev_hash,
            });
            log::tamper::rewrite(tree, 3, |_| bytes.to_vec());
        });
        let b = first_break(dir.path()).await.unwrap();
        assert_eq!(b.position, 4);
        assert_eq!(b.reason, "does not link to the previous event's hash");
    }

    #[tokio::test]
    async fn verify_names_a_removed_record() {
        let dir = crate::private_tempdir();
        store_with_ten_events(dir.path()).await;
        tamper(dir.path(), |tree| {
            log::tamper::remove(tree, 7);
        });
        assert_eq!(first_break(dir.path()).await.unwrap().position, 7);
        assert!(matches!(
            EventStore::open(dir.path(), Options::default()),
            Err(Error::Corrupt { position: 7, .. })
        ));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_record_missing_from_a_long_read_is_named() {
        let dir = crate::private_tempdir();
        let store = EventStore::open(dir.path(), Options::default()).unwrap();
        for batch in 0..30 {
            let events = (0..100)
                .map(|i| NewEvent::new(Uuid::new_v4(), "t", 1, json!({ "i": batch * 100 + i })))
                .collect();
            store
                .append("s", ExpectedVersion::Any, events)
                .await
                .unwrap();
        }
        assert_eq!(store.read_all(0, 3000).await.unwrap().len(), 3000);
        // Taken out from under the open store, late in the read, then early.
        for missing in [2500, 700] {
            log::tamper::remove(&store.inner.tree, missing);
            let read = store.read_all(0, 3000).await;
            assert!(
                matches!(read, Err(Error::Corrupt { position, .. }) if position == missing),
                "{read:?}"
            );
        }
        assert_eq!(store.read_all(0, 600).await.unwrap().len(), 600);
        store.close().await;
    }

    #[tokio::test]
    async fn a_garbled_record_is_named_and_refused_not_a_panic() {
        let dir = crate::private_tempdir();
        store_with_ten_events(dir.path()).await;
        tamper(dir.path(), |tree| {
            log::tamper::rewrite(tree, 2, |_| b"\x01garbage".to_vec());
        });
        assert_eq!(first_break(dir.path()).await.unwrap().position, 2);
        assert!(matches!(
            EventStore::open(dir.path(), Options::default()),
            Err(Error::Corrupt { position: 2, .. })
        ));
    }

    #[tokio::test]
    async fn a_garbled_block_is_named_by_its_first_position_and_refused() {
        let dir = crate::private_tempdir();
        store_with_ten_events(dir.path()).await;
        tamper(dir.path(), |tree| {
            log::tamper::put_block(tree, 4, b"\x01\0\0\0\x07garbage");
        });
        let b = first_break(dir.path()).await.unwrap();
        assert_eq!(b.position, 4);
        assert!(b.reason.contains("block"), "{}", b.reason);
        assert!(matches!(
            EventStore::open(dir.path(), Options::default()),
            Err(Error::Corrupt { position: 4, .. })
        ));
    }

    #[tokio::test]
    async fn a_garbled_payload_is_an_error_on_read_not_a_panic() {
        let dir = crate::private_tempdir();
        store_with_ten_events(dir.path()).await;
        tamper(dir.path(), |tree| {
            log::tamper::rewrite(tree, 4, |mut record| {
                let payload_at = record.len() - codec::HASH_LEN - codec::TAIL_LEN - 1;
                assert_eq!(record[payload_at], b'}');
                record[payload_at] = 0xFF; // the closing brace becomes invalid UTF-8
                record
            });
        });
        let store = EventStore::open(dir.path(), Options::default()).unwrap();
        assert!(matches!(
            store.read_all(0, 100).await,
            Err(Error::Corrupt { position: 4, .. })
        ));
        assert_eq!(
            store.verify().await.unwrap().first_break.unwrap().position,
            4
        );
    }

    #[tokio::test]
    async fn a_log_written_in_format_1_reads_verifies_and_grows_in_format_2() {
        let dir = crate::private_tempdir();
        // A log as an earlier version left it: three format-1 records, chained.
        let mut prev = [0u8; codec::HASH_LEN];
        tamper(dir.path(), |tree| {
            for position in 1..=3u64 {
                let id = Uuid::from_u128(u128::from(position));
                let payload = format!(r#"{{"i":{position}}}"#);
                let (bytes, hash) = codec::encode_format_1(&codec::RecordRef {
                    position,
                    stream_version: position,
                    recorded_at_micros: 1_700_000_000_000_000,
                    id: &id,
                    schema_version: 1,
                    stream: "s",
                    event_type: "t",
                    metadata: &Default::default(),
                    payload: payload.as_bytes(),
                    prev_hash: &prev,
                });
                tree.insert(log::event_key(position), bytes).unwrap();
                prev = hash;
            }
        });
        let store = EventStore::open(dir.path(), Options::default()).unwrap();
        assert_eq!(store.head().position, 3);
        assert_eq!(store.head().hash, prev);
        let r = store
            .append(
                "s",
                ExpectedVersion::Exact(3),
                vec![NewEvent::new(Uuid::from_u128(4), "t", 1, json!({ "i": 4 }))],
            )
            .await
            .unwrap();
        assert_eq!((r.last_position, r.stream_version), (4, 4));
        let all = store.read_all(0, 10).await.unwrap();
        assert_eq!(
            all.iter().map(|e| e.payload.as_str()).collect::<Vec<_>>(),
            [r#"{"i":1}"#, r#"{"i":2}"#, r#"{"i":3}"#, r#"{"i":4}"#]
        );
        // A retry of a format-1 event is recognised.
        let again = NewEvent::new(Uuid::from_u128(2), "t", 1, json!({ "i": 2 }));
        let r = store
            .append("s", ExpectedVersion::Any, vec![again])
            .await
            .unwrap();
        assert_eq!((r.first_position, r.stream_version), (2, 2));
        assert_eq!(store.verify().await.unwrap().verified, 4);
        assert!(store.verify().await.unwrap().is_intact());
        store.close().await;
        assert!(EventStore::verify_dir(dir.path()).unwrap().is_intact());
    }

    #[tokio::test]
    async fn an_offline_verify_while_the_store_is_open_is_refused() {
        let dir = crate::private_tempdir();
        let store = EventStore::open(dir.path(), Options::default()).unwrap();
        assert!(matches!(
            EventStore::verify_dir(dir.path()),
            Err(Error::Locked { .. })
        ));
        store.close().await;
    }
}
