//! What the aggregates' events share: a stable type name and schema version, so an event
//! store keeps `(type, version, JSON payload)` and never a Rust type path.

use serde::Serialize;
use serde::de::DeserializeOwned;

/// An event as the event store sees it.
pub trait DomainEvent: Sized {
    /// Every type name this event family writes, e.g. for registering upcasters.
    const TYPES: &'static [&'static str];

    /// The stable stored name, e.g. `need.posted`.
    fn event_type(&self) -> &'static str;

    /// The schema version of the payload [`DomainEvent::to_payload`] writes.
    fn schema_version(&self) -> u32;

    /// The JSON payload to store.
    fn to_payload(&self) -> serde_json::Value;

    /// Rebuilds an event from what the store kept. Older versions are upcast here (or by the
    /// store's upcasters before this is called); an unknown type or version is an error, never
    /// a silent skip.
    fn from_stored(
        event_type: &str,
        version: u32,
        payload: serde_json::Value,
    ) -> Result<Self, EventDecodeError>;
}

/// A stored event that cannot be read back as a domain event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventDecodeError {
    #[error("unknown event type {0:?}")]
    UnknownType(String),
    #[error("unsupported schema version {version} of {event_type}")]
    UnsupportedVersion { event_type: String, version: u32 },
    #[error("invalid payload for {event_type}: {message}")]
    Payload { event_type: String, message: String },
}

/// Serializes a payload struct.
pub(crate) fn payload<T: Serialize>(event: &T) -> serde_json::Value {
    // Infallible: payload structs have only string map keys and no failing Serialize impls.
    serde_json::to_value(event).expect("event payloads serialize to JSON")
}

/// Deserializes a payload struct, naming the type on failure.
pub(crate) fn decode<T: DeserializeOwned>(
    event_type: &str,
    payload: serde_json::Value,
) -> Result<T, EventDecodeError> {
    serde_json::from_value(payload).map_err(|e| EventDecodeError::Payload {
        event_type: event_type.to_owned(),
        message: e.to_string(),
    })
}

/// Checks the stored version is one this build reads.
pub(crate) fn check_version(
    event_type: &str,
    version: u32,
    current: u32,
) -> Result<(), EventDecodeError> {
    if version == current {
        Ok(())
    } else {
        Err(EventDecodeError::UnsupportedVersion {
            event_type: event_type.to_owned(),
            version,
        })
    }
}
