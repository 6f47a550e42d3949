//! What the handlers share: the store, the read model, the introductions.

use std::sync::Arc;
use std::time::Duration;

use capmatch_domain::actor::Actor;
use capmatch_domain::need::{NeedId, NeedState};
use capmatch_domain::visibility::need_visible_to;
use capmatch_eventstore::EventStore;
use capmatch_service::{Projection, Writer};

use crate::introductions::Introductions;
use crate::view::NeedsView;

/// The namespace of ids derived from an `Idempotency-Key` in this service.
pub const ID_NAMESPACE: uuid::Uuid =
    uuid::Uuid::from_u128(0x6e65_6564_735f_6964_656d_706f_7465_6e74);

#[derive(Debug)]
pub struct AppState {
    pub store: EventStore,
    pub needs: Arc<Projection<NeedsView>>,
    pub introductions: Arc<Introductions>,
    /// How long a write waits for the read model to include it.
    pub write_wait: Duration,
}

impl AppState {
    /// The write path over this service's store and read model.
    pub fn writer(&self) -> Writer<'_, NeedsView> {
        Writer {
            store: &self.store,
            projection: &self.needs,
            wait: self.write_wait,
        }
    }

    /// The need, if `actor` may see it; `None` looks the same as no such need.
    pub fn visible_need(&self, id: NeedId, actor: Option<&Actor>) -> Option<NeedState> {
        let view = self.needs.read();
        let entry = view.get(id.as_uuid())?;
        self.is_visible(&entry.state, actor)
            .then(|| entry.state.clone())
    }

    /// Whether `actor` may see `need` (`capmatch_domain::visibility`).
    pub fn is_visible(&self, need: &NeedState, actor: Option<&Actor>) -> bool {
        let shared = actor
            .and_then(|a| a.role.org())
            .filter(|org| self.introductions.is_shared(need.id, org));
        need_visible_to(need, actor, shared)
    }
}
