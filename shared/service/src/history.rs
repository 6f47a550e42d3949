//! An entity's history as its stream recorded it: who did what, when, with the payload.

use capmatch_eventstore::StoredEvent;
use capmatch_http::ApiError;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// One recorded event of an entity.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HistoryEntry {
    /// The entity's version after this event: its place in the entity's own history.
    pub version: u64,
    /// The event's global position in the service's log. Shown to coordinators only: the gaps
    /// between positions count (and date) every other event of the log, those of needs the
    /// caller may not see included.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<u64>,
    pub event_id: Uuid,
    /// Stable event type, e.g. `need.revised`.
    #[schema(example = "need.revised")]
    pub event_type: String,
    pub schema_version: u32,
    /// When the service recorded it.
    pub recorded_at: DateTime<Utc>,
    /// The `sub` of the caller who caused it.
    pub actor: Option<String>,
    /// The caller's role (`state`, `coordinator`, ...).
    pub actor_role: Option<String>,
    /// The event's payload as stored.
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
}

impl HistoryEntry {
    /// The entry for a stored event, with its global position when `with_position` (a
    /// coordinator reads); 500 when its payload is not JSON (it always is).
    pub fn from_stored(event: &StoredEvent, with_position: bool) -> Result<Self, ApiError> {
        Ok(Self {
            version: event.stream_version,
            position: with_position.then_some(event.position),
            event_id: event.id,
            event_type: event.event_type.to_string(),
            schema_version: event.schema_version,
            recorded_at: event.recorded_at,
            actor: event.metadata.actor_subject.as_deref().map(str::to_owned),
            actor_role: event.metadata.actor_role.as_deref().map(str::to_owned),
            payload: event.payload_value().map_err(ApiError::internal)?,
        })
    }
}
