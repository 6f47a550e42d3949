//! `capmatch-eventstore`: the append-only, hash-chained event log every capmatch service stands on.
//!
//! Module map:
//! - [`event`]: what callers hand in ([`NewEvent`], [`EventMetadata`], [`ExpectedVersion`]) and
//!   what they get back ([`StoredEvent`], [`AppendResult`], [`Head`]).
//! - [`store`]: [`EventStore`], the async handle: append, reads, head, verification.
//! - [`subscription`]: [`Subscription`], catch-up-then-live delivery of the log in position order.
//! - [`upcast`]: [`Upcasters`], schema evolution applied on read.
//! - [`error`]: the one [`Error`] enum; no web types, no panics on stored or supplied data.
//! - `writer` (private): the single writer thread that applies concurrent appends as they arrive
//!   (each one atomically) and gathers them into groups; `flusher` (private) covers each group
//!   with one flush, then publishes and answers it (group commit); `queue` (private) is the way
//!   in (the appends) and out (the answers, delivered by one caller per group).
//! - `codec` / `log` (private): the canonical binary record and its SHA-256 chain; where records
//!   live in the tree (packed into blocks, one sled insert each) and how they are read back.
//! - `index` (private): event id → position and stream → positions, in memory, rebuilt from the
//!   log at open.
//!
//! Guarantees, in brief: an append is acknowledged only once durable; global positions are dense
//! (1, 2, 3, … in commit order); stream versions are dense per stream; an event id is written at
//! most once, and a retry is answered with the original result; readers never see an event that is
//! not yet durable, so no consumer can observe a position that a crash would take back.

mod codec;
pub mod error;
pub mod event;
mod flusher;
mod index;
mod log;
mod queue;
pub mod store;
pub mod subscription;
pub mod upcast;
mod writer;

pub use error::{Error, Result};
pub use event::{
    AppendResult, EventMetadata, ExpectedVersion, Head, NewEvent, Payload, StoredEvent, Text,
};
pub use store::{
    ChainBreak, Durability, EventStore, Options, Stats, VerifyReport, WeakEventStore,
    private_directory,
};
pub use subscription::Subscription;
pub use upcast::Upcasters;

/// A temporary directory only its owner may enter, as a store's directory must be.
#[cfg(test)]
pub(crate) fn private_tempdir() -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    tempfile::Builder::new()
        .permissions(std::fs::Permissions::from_mode(0o700))
        .tempdir()
        .expect("a temporary directory")
}
