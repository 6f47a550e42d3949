//! The values that cross the store's API.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;
use uuid::Uuid;

/// The optimistic-concurrency condition of an append.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ExpectedVersion {
    /// Append whatever the stream's version (idempotency still applies).
    Any,
    /// The stream must not exist yet. Same as `Exact(0)`.
    NoStream,
    /// The stream must be at exactly this version (its number of events).
    Exact(u64),
}

impl ExpectedVersion {
    /// Whether a stream currently at `actual` satisfies this expectation.
    pub fn admits(self, actual: u64) -> bool {
        match self {
            ExpectedVersion::Any => true,
            ExpectedVersion::NoStream => actual == 0,
            ExpectedVersion::Exact(n) => actual == n,
        }
    }
}

impl fmt::Display for ExpectedVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExpectedVersion::Any => f.write_str("any"),
            ExpectedVersion::NoStream => f.write_str("no stream"),
            ExpectedVersion::Exact(n) => write!(f, "version {n}"),
        }
    }
}

/// Who caused an event and in answer to what. Kept beside the payload so audits never have to
/// guess.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventMetadata {
    /// The `sub` claim of the caller's token.
    pub actor_subject: Option<String>,
    /// The caller's role (`state`, `provider`, `coordinator`, ...).
    pub actor_role: Option<String>,
    /// Ties together every event caused by one request (the request id, usually).
    pub correlation_id: Option<Uuid>,
    /// The event or command this one answers.
    pub causation_id: Option<Uuid>,
}

/// An event as a caller hands it to [`crate::EventStore::append`].
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    /// Chosen by the caller, so that a retry can be recognised: appending an id that is already
    /// stored writes nothing and returns the original result.
    pub id: Uuid,
    /// A stable name such as `need.posted`, never a Rust type path.
    pub event_type: String,
    /// The payload's schema version, for upcasting on read.
    pub schema_version: u32,
    pub payload: serde_json::Value,
    pub metadata: EventMetadata,
}

impl NewEvent {
    pub fn new(
        id: Uuid,
        event_type: impl Into<String>,
        schema_version: u32,
        payload: serde_json::Value,
    ) -> Self {
        NewEvent {
            id,
            event_type: event_type.into(),
            schema_version,
            payload,
            metadata: EventMetadata::default(),
        }
    }

    pub fn with_metadata(mut self, metadata: EventMetadata) -> Self {
        self.metadata = metadata;
        self
    }
}

/// An event as stored: the caller's event plus what the store adds (stream version, global
/// position, record time, chain hash). Serialises to (and reads back from) the JSON of the
/// services' internal event feeds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredEvent {
    /// Dense global position, 1-based, in commit order.
    pub position: u64,
    pub stream: String,
    /// Dense version within the stream, 1-based.
    pub stream_version: u64,
    pub id: Uuid,
    pub event_type: String,
    /// The schema version after any upcasting applied on read.
    pub schema_version: u32,
    /// The JSON payload, kept as text so that replay does not pay for parsing it until a consumer
    /// asks (see [`StoredEvent::decode`]).
    pub payload: Payload,
    pub metadata: EventMetadata,
    pub recorded_at: DateTime<Utc>,
    /// SHA-256 over this record's canonical encoding, which includes the previous record's hash.
    #[serde(
        serialize_with = "serialize_hash",
        deserialize_with = "deserialize_hash"
    )]
    pub hash: [u8; 32],
}

impl StoredEvent {
    /// Parses the payload into `T`.
    pub fn decode<T: serde::de::DeserializeOwned>(&self) -> serde_json::Result<T> {
        serde_json::from_str(self.payload.as_str())
    }

    /// The payload as a JSON value.
    pub fn payload_value(&self) -> serde_json::Result<serde_json::Value> {
        serde_json::from_str(self.payload.as_str())
    }

    pub fn hash_hex(&self) -> String {
        hex::encode(self.hash)
    }
}

/// A payload's JSON text exactly as stored. It was written by `serde_json` and is covered by the
/// hash chain, so reads hand it over without parsing it; consumers parse it once, into their own
/// types. Serialises as the JSON it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payload(String);

impl Payload {
    pub(crate) fn from_stored(text: String) -> Self {
        Payload(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for Payload {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(d)?;
        Ok(Payload(raw.get().to_owned()))
    }
}

impl Serialize for Payload {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let raw: &RawValue = serde_json::from_str(&self.0).map_err(serde::ser::Error::custom)?;
        raw.serialize(s)
    }
}

/// What a successful append returns. A retried append returns the same value again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppendResult {
    /// Global position of the first event of the append.
    pub first_position: u64,
    /// Global position of the last event of the append.
    pub last_position: u64,
    /// The stream's version after the append's last event: the `Exact` to use next.
    pub stream_version: u64,
}

/// The durable end of the log: the last position and its chain hash. `position == 0` with an
/// all-zero hash is the empty log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Head {
    pub position: u64,
    #[serde(
        serialize_with = "serialize_hash",
        deserialize_with = "deserialize_hash"
    )]
    pub hash: [u8; 32],
}

impl Head {
    pub fn hash_hex(&self) -> String {
        hex::encode(self.hash)
    }
}

fn serialize_hash<S: Serializer>(hash: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&hex::encode(hash))
}

fn deserialize_hash<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
    let text = String::deserialize(d)?;
    let mut out = [0u8; 32];
    hex::decode_to_slice(&text, &mut out).map_err(serde::de::Error::custom)?;
    Ok(out)
}
