//! Appending a command's events so that a retried request is answered, not repeated.

use capmatch_eventstore::{
    AppendResult, Error, EventStore, ExpectedVersion, NewEvent, StoredEvent,
};

/// What an append did.
#[derive(Debug, Clone)]
pub enum Appended {
    /// The events are stored now.
    New(AppendResult),
    /// The first event's id was stored already, by an earlier try of the same request: this is
    /// the stored event, to rebuild the original answer from.
    Replayed(Box<StoredEvent>),
}

/// Appends `events`; when the store reports that their ids are already taken by other content
/// (the same request, decided again at another instant), answers with the stored original.
pub async fn append_command(
    store: &EventStore,
    stream: &str,
    expected: ExpectedVersion,
    events: Vec<NewEvent>,
) -> Result<Appended, Error> {
    let first = events.first().map(|e| e.id);
    match store.append(stream, expected, events).await {
        Ok(result) => Ok(Appended::New(result)),
        Err(err @ Error::IdempotencyConflict { .. }) => match first {
            Some(id) => match store.find_event(id).await? {
                Some(stored) if stored.stream == stream => Ok(Appended::Replayed(Box::new(stored))),
                Some(_) | None => Err(err),
            },
            None => Err(err),
        },
        Err(err) => Err(err),
    }
}
