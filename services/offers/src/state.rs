//! What the handlers share: the store and the read model.

use std::sync::Arc;
use std::time::Duration;

use capmatch_domain::offer::{OfferId, OfferState};
use capmatch_eventstore::EventStore;
use capmatch_service::{Projection, Writer};

use crate::view::OffersView;

/// The namespace of ids derived from an `Idempotency-Key` in this service.
pub const ID_NAMESPACE: uuid::Uuid =
    uuid::Uuid::from_u128(0x6f66_6665_7273_5f69_6465_6d70_6f74_656e);

#[derive(Debug)]
pub struct AppState {
    pub store: EventStore,
    pub offers: Arc<Projection<OffersView>>,
    /// How long a write waits for the read model to include it.
    pub write_wait: Duration,
}

impl AppState {
    /// The write path over this service's store and read model.
    pub fn writer(&self) -> Writer<'_, OffersView> {
        Writer {
            store: &self.store,
            projection: &self.offers,
            wait: self.write_wait,
        }
    }

    /// The offer with this id (offers are public).
    pub fn offer(&self, id: OfferId) -> Option<OfferState> {
        self.offers
            .read()
            .get(id.as_uuid())
            .map(|e| e.state.clone())
    }
}
