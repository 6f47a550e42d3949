//! The store's error type. Services map it to HTTP in their own `error.rs`.

use std::path::PathBuf;

use uuid::Uuid;

use crate::event::ExpectedVersion;

/// Result alias used across the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the event store.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Optimistic concurrency: the stream was not at the version the caller expected.
    #[error("stream {stream:?} is at version {actual}, but the append expected {expected}")]
    WrongExpectedVersion {
        stream: String,
        expected: ExpectedVersion,
        /// The stream's version when the append was checked (0: the stream does not exist).
        actual: u64,
    },
    /// An event id that is already stored was appended again with different content, or a retry
    /// mixed stored and new event ids.
    #[error("event id {event_id} is already stored with different content")]
    IdempotencyConflict { event_id: Uuid },
    /// The append itself is malformed (empty, bad stream name, duplicate ids in one call, ...).
    #[error("invalid append: {0}")]
    InvalidInput(String),
    /// Another process (or another handle in this one) holds the store open.
    #[error("the event store at {path:?} is already open in another process")]
    Locked { path: PathBuf },
    /// A stored record could not be decoded or does not match its key.
    #[error("stored record at position {position} is corrupt: {reason}")]
    Corrupt { position: u64, reason: String },
    /// A registered upcaster refused a stored payload.
    #[error("upcasting {event_type} v{version} at position {position} failed: {message}")]
    Upcast {
        position: u64,
        event_type: String,
        version: u32,
        message: String,
    },
    /// The disk or sled failed. The append may or may not have become durable: retry it with the
    /// same event ids, which is safe.
    #[error("event store I/O failed")]
    Storage(#[source] sled::Error),
    /// A file-system operation around the store failed (creating the directory, the lock file).
    #[error("event store file operation failed")]
    Io(#[source] std::io::Error),
    /// The store's directory may be read by other users of the machine: the log holds the text
    /// of confidential needs, so the store refuses to open there.
    #[error(
        "{path:?} may be read by other users (mode {mode:o}), and the event log holds \
         confidential needs; make it its owner's only with `chmod -R go-rwx {}`",
        path.display()
    )]
    InsecurePermissions { path: PathBuf, mode: u32 },
    /// The store has been closed; no further appends are taken.
    #[error("the event store is closed")]
    Closed,
}

impl From<sled::Error> for Error {
    fn from(e: sled::Error) -> Self {
        Error::Storage(e)
    }
}
