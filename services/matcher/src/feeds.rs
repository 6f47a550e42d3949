//! The consumers of the needs and offers feeds: each decodes the peer's events with the domain's
//! own types and applies them to the [`Knowledge`](crate::knowledge::Knowledge), keeping
//! its own checkpoint. The [`capmatch_service::Follower`] hands them the events in position
//! order, with no gap and no duplicate, and retries with back-off while the peer is down.
//!
//! The checkpoints live in memory: every start follows both feeds from position 0, which is
//! how the matcher rebuilds its index.
//!
//! An event that cannot be understood (an unknown type from a newer peer, an event for an entity
//! never posted) is logged, counted and stepped over, so the feed keeps moving; the count makes
//! `/readyz` fail, because the index is then missing a fact.

use std::sync::atomic::{AtomicU64, Ordering};

use capmatch_domain::event::{DomainEvent, EventDecodeError};
use capmatch_domain::need::NeedEvent;
use capmatch_domain::offer::OfferEvent;
use capmatch_eventstore::StoredEvent;
use capmatch_service::FeedConsumer;
use serde::Serialize;

use crate::knowledge::SharedKnowledge;

/// Which peer a feed comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Peer {
    Needs,
    Offers,
}

impl Peer {
    pub fn name(self) -> &'static str {
        match self {
            Self::Needs => "needs",
            Self::Offers => "offers",
        }
    }
}

/// One peer's feed into the knowledge.
#[derive(Debug)]
pub struct PeerFeed {
    peer: Peer,
    knowledge: SharedKnowledge,
    checkpoint: AtomicU64,
    unreadable: AtomicU64,
}

impl PeerFeed {
    pub fn new(peer: Peer, knowledge: SharedKnowledge) -> Self {
        Self {
            peer,
            knowledge,
            checkpoint: AtomicU64::new(0),
            unreadable: AtomicU64::new(0),
        }
    }

    /// Events stepped over because they could not be applied.
    pub fn unreadable(&self) -> u64 {
        self.unreadable.load(Ordering::Acquire)
    }

    fn try_apply(&self, event: &StoredEvent) -> Result<(), String> {
        // Decoding errors can quote payload values (a confidential need's text): only their
        // kind is reported.
        let undecodable = |_| "the payload does not decode as this event type".to_owned();
        let payload = event.payload_value().map_err(undecodable)?;
        match self.peer {
            Peer::Needs => {
                let decoded =
                    NeedEvent::from_stored(&event.event_type, event.schema_version, payload)
                        .map_err(decode_error)?;
                self.knowledge.write().apply_need(&decoded, event.id)
            }
            Peer::Offers => {
                let decoded =
                    OfferEvent::from_stored(&event.event_type, event.schema_version, payload)
                        .map_err(decode_error)?;
                self.knowledge.write().apply_offer(&decoded, event.id)
            }
        }
    }
}

fn decode_error(err: EventDecodeError) -> String {
    match err {
        EventDecodeError::UnknownType(t) => format!("unknown event type {t:?}"),
        EventDecodeError::UnsupportedVersion {
            event_type,
            version,
        } => format!("unsupported schema version {version} of {event_type}"),
        EventDecodeError::Payload { event_type, .. } => {
            format!("the payload does not decode as {event_type}")
        }
    }
}

impl FeedConsumer for PeerFeed {
    fn checkpoint(&self) -> u64 {
        self.checkpoint.load(Ordering::Acquire)
    }

    fn apply(&self, event: StoredEvent) {
        if let Err(message) = self.try_apply(&event) {
            // The message names types, versions and ids only, never a need's text.
            tracing::error!(
                feed = self.peer.name(),
                position = event.position,
                event_type = %event.event_type,
                error = %message,
                "feed event cannot be applied; stepped over"
            );
            self.unreadable.fetch_add(1, Ordering::AcqRel);
        }
        self.checkpoint.store(event.position, Ordering::Release);
    }
}
