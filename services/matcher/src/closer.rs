//! Closing the open matches of a need that was withdrawn or fulfilled, or of an offer that was
//! withdrawn (any open partnership is closed when its need or offer goes away).
//!
//! The [`Knowledge`](crate::knowledge::Knowledge) queues a [`CloseJob`] per open match;
//! [`run`] appends one `match.closed` for each, as the matcher's own service identity. The
//! event's id is a UUID v5 of the match id, the close reason and the id of the feed event that
//! withdrew or fulfilled the need or offer, its time that event's time, and its metadata names
//! that event as cause: a rebuild or restart that queues the same job again finds the event
//! stored (or the match no longer open) and writes nothing, and the store's own idempotency
//! answers a replayed append with the original result. A job lost at shutdown is queued again
//! at the next start, when the feeds are replayed.

use std::time::Duration;

use capmatch_domain::error::DomainError;
use capmatch_domain::event::DomainEvent;
use capmatch_domain::ids::MatchId;
use capmatch_domain::partnership::{self, CloseReason, MatchCommand};
use capmatch_eventstore::{
    Error as StoreError, EventMetadata, EventStore, ExpectedVersion, NewEvent, StoredEvent,
};
use capmatch_service::{ApplyError, CancellationToken};
use tokio::sync::mpsc::UnboundedReceiver;
use uuid::Uuid;

use crate::aggregate::{SERVICE_SUBJECT, fold, service_actor, stream_name};
use crate::knowledge::{CloseJob, Closing};

/// The namespace of the ids of the `match.closed` events the matcher writes.
pub const CLOSE_NAMESPACE: Uuid = Uuid::from_u128(0x6d61_7463_682e_636c_6f73_6564_5f69_6473);

const FIRST_RETRY: Duration = Duration::from_millis(50);
const LAST_RETRY: Duration = Duration::from_secs(5);
const STREAM_PAGE: usize = 1000;

/// The id of the `match.closed` a closing writes on a match: the same on every run.
pub fn close_event_id(match_id: MatchId, closing: &Closing) -> Uuid {
    let reason = match closing.reason {
        CloseReason::NeedWithdrawn => "need_withdrawn",
        CloseReason::NeedFulfilled => "need_fulfilled",
        CloseReason::OfferWithdrawn => "offer_withdrawn",
    };
    Uuid::new_v5(
        &CLOSE_NAMESPACE,
        format!("{match_id}|{reason}|{}", closing.source).as_bytes(),
    )
}

/// What a close job did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closed {
    /// `match.closed` appended now.
    Appended,
    /// This closing's event is stored already.
    AlreadyClosed,
    /// The match has no decisions or is no longer open: nothing to close.
    NotOpen,
}

/// Why a close job failed.
#[derive(Debug, thiserror::Error)]
pub enum CloseError {
    #[error("the store failed")]
    Store(#[from] StoreError),
    #[error(transparent)]
    Decode(#[from] ApplyError),
    #[error("the domain refused to close: {0}")]
    Domain(#[from] DomainError),
}

/// Closes the jobs' matches until shutdown, retrying a failing store with back-off.
pub async fn run(
    store: EventStore,
    mut jobs: UnboundedReceiver<CloseJob>,
    shutdown: CancellationToken,
) {
    loop {
        let job = tokio::select! {
            () = shutdown.cancelled() => break,
            job = jobs.recv() => match job {
                Some(job) => job,
                None => break,
            },
        };
        let mut pause = FIRST_RETRY;
        loop {
            match close(&store, job).await {
                Ok(closed) => {
                    tracing::debug!(match_id = %job.match_id, ?closed, "close job done");
                    break;
                }
                Err(CloseError::Store(StoreError::Closed)) => return,
                Err(err @ CloseError::Store(_)) => {
                    tracing::warn!(match_id = %job.match_id, error = %err, "cannot close a match yet; retrying");
                    tokio::select! {
                        () = shutdown.cancelled() => return,
                        () = actix_web::rt::time::sleep(pause) => {}
                    }
                    pause = (pause * 2).min(LAST_RETRY);
                }
                Err(err) => {
                    tracing::error!(match_id = %job.match_id, error = %err, "cannot close a match");
                    break;
                }
            }
        }
    }
}

/// Appends the `match.closed` of `job`, unless it is stored already or the match is not open.
#[tracing::instrument(skip_all, fields(match_id = %job.match_id, reason = ?job.closing.reason))]
pub async fn close(store: &EventStore, job: CloseJob) -> Result<Closed, CloseError> {
    let stream = stream_name(job.match_id);
    let id = close_event_id(job.match_id, &job.closing);
    if store.find_event(id).await?.is_some() {
        return Ok(Closed::AlreadyClosed);
    }
    loop {
        let history = read_all(store, &stream).await?;
        let Some(state) = fold(&history)? else {
            return Ok(Closed::NotOpen);
        };
        let at = job.closing.at.max(state.updated_at);
        let command = MatchCommand::Close {
            reason: job.closing.reason,
        };
        let events = partnership::decide(Some(&state), &state.pair, command, &service_actor(), at)?;
        let Some(event) = events.first() else {
            return Ok(Closed::NotOpen);
        };
        let metadata = EventMetadata {
            actor_subject: Some(SERVICE_SUBJECT.into()),
            actor_role: Some("service".into()),
            correlation_id: Some(job.closing.source),
            causation_id: Some(job.closing.source),
        };
        let new = NewEvent::new(
            id,
            event.event_type(),
            event.schema_version(),
            event.to_payload(),
        )
        .with_metadata(metadata);
        match store
            .append(&stream, ExpectedVersion::Exact(state.version), vec![new])
            .await
        {
            Ok(_) => return Ok(Closed::Appended),
            // A decision landed in between: decide again on the new state.
            Err(StoreError::WrongExpectedVersion { .. }) => continue,
            Err(StoreError::IdempotencyConflict { .. }) => return Ok(Closed::AlreadyClosed),
            Err(err) => return Err(err.into()),
        }
    }
}

async fn read_all(store: &EventStore, stream: &str) -> Result<Vec<StoredEvent>, StoreError> {
    let mut events: Vec<StoredEvent> = Vec::new();
    loop {
        let page = store
            .read_stream(stream, events.len() as u64 + 1, STREAM_PAGE)
            .await?;
        let full = page.len() == STREAM_PAGE;
        events.extend(page);
        if !full {
            return Ok(events);
        }
    }
}
