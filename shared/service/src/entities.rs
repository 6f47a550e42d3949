//! [`Entities`]: the read model of a service whose store holds one aggregate (needs, offers):
//! every entity as its events built it, by id and in creation order (its creation time, then
//! its id: [`ListKey::created`]), each with its JSON rendered once, on its first read
//! ([`Entry::json`]).

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::OnceLock;

use actix_web::HttpResponse;
use actix_web::http::header::ContentType;
use actix_web::web::Bytes;
use capmatch_eventstore::StoredEvent;
use capmatch_http::{ApiError, etag_header};
use serde::Serialize;
use uuid::Uuid;

use crate::command::Listed;
use crate::pagination::ListKey;
use crate::projection::{ApplyError, View};

/// An entity and its place in the list order.
#[derive(Debug, Clone)]
pub struct Entry<S> {
    pub state: S,
    pub key: ListKey,
    /// `state` as JSON, made by the first [`Entry::json`]. An entry is replaced, never changed,
    /// when an event changes its entity, so this never goes stale.
    rendered: OnceLock<Bytes>,
}

impl<S> Entry<S> {
    pub fn new(state: S, key: ListKey) -> Self {
        Entry {
            state,
            key,
            rendered: OnceLock::new(),
        }
    }
}

impl<S: Serialize> Entry<S> {
    /// The state as JSON text (what `HttpResponse::json(&entry.state)` would send): rendered on
    /// the first call, shared afterwards, so reading an entity costs no copy of it and no
    /// serialisation.
    pub fn json(&self) -> Result<Bytes, serde_json::Error> {
        if let Some(rendered) = self.rendered.get() {
            return Ok(rendered.clone());
        }
        let rendered = Bytes::from(serde_json::to_vec(&self.state)?);
        // Two readers may race to render it; both made the same bytes.
        Ok(self.rendered.get_or_init(|| rendered).clone())
    }

    /// `200 OK` with [`Entry::json`] as the body and `version` as the `ETag`.
    pub fn json_response(&self, version: u64) -> Result<HttpResponse, ApiError> {
        let body = self.json().map_err(ApiError::internal)?;
        Ok(HttpResponse::Ok()
            .insert_header(etag_header(version))
            .content_type(ContentType::json())
            .body(body))
    }
}

/// Every entity of aggregate `A`, by id and in creation order.
pub struct Entities<A: Listed> {
    by_id: HashMap<Uuid, Entry<A::State>>,
    order: BTreeMap<ListKey, Uuid>,
}

impl<A: Listed> Default for Entities<A> {
    fn default() -> Self {
        Entities {
            by_id: HashMap::new(),
            order: BTreeMap::new(),
        }
    }
}

impl<A: Listed> fmt::Debug for Entities<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Entities")
            .field("len", &self.by_id.len())
            .finish()
    }
}

impl<A: Listed> Entities<A> {
    pub fn get(&self, id: Uuid) -> Option<&Entry<A::State>> {
        self.by_id.get(&id)
    }

    /// Every entity in creation order.
    pub fn in_order(&self) -> impl Iterator<Item = &Entry<A::State>> {
        self.order.values().filter_map(|id| self.by_id.get(id))
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }
}

impl<A> View for Entities<A>
where
    A: Listed + 'static,
    A::State: Send + Sync,
{
    fn apply(&mut self, event: &StoredEvent) -> Result<(), ApplyError> {
        let decoded = A::decode(event)?;
        let id = A::entity(&decoded);
        let previous = self.by_id.remove(&id);
        let created = previous.as_ref().map(|e| e.key);
        match A::evolve(previous.map(|e| e.state), &decoded) {
            Some(state) => {
                let key = created.unwrap_or_else(|| ListKey::created(A::created_at(&state), id));
                self.order.insert(key, id);
                self.by_id.insert(id, Entry::new(state, key));
                Ok(())
            }
            None => Err(ApplyError::new(
                event,
                "event for an entity that was never created",
            )),
        }
    }
}
