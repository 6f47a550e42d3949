//! The values that cross the store's API.

use std::borrow::Borrow;
use std::fmt;
use std::ops::Deref;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;
use sled::IVec;
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
    pub actor_subject: Option<Text>,
    /// The caller's role (`state`, `provider`, `coordinator`, ...).
    pub actor_role: Option<Text>,
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
    /// The payload, already JSON text: it is written as it is, so an append does no JSON work.
    pub payload: Payload,
    pub metadata: EventMetadata,
}

impl NewEvent {
    /// `payload` is anything that becomes a [`Payload`]: a `serde_json::Value` (serialised here,
    /// on the caller's task), or a payload made with [`Payload::to_json`] straight from a typed
    /// struct, which skips building a `Value` at all.
    pub fn new(
        id: Uuid,
        event_type: impl Into<String>,
        schema_version: u32,
        payload: impl Into<Payload>,
    ) -> Self {
        NewEvent {
            id,
            event_type: event_type.into(),
            schema_version,
            payload: payload.into(),
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
    pub stream: Text,
    /// Dense version within the stream, 1-based.
    pub stream_version: u64,
    pub id: Uuid,
    pub event_type: Text,
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
        serde_json::from_slice(self.payload.as_bytes())
    }

    /// The payload as a JSON value.
    pub fn payload_value(&self) -> serde_json::Result<serde_json::Value> {
        self.payload.to_value()
    }

    pub fn hash_hex(&self) -> String {
        hex::encode(self.hash)
    }
}

/// An immutable string that is cheap to clone. The strings of an event read from the store
/// (stream, type, actor) share the stored record's bytes, like its payload, so a read allocates
/// nothing for them; short strings made from text live inline, longer ones behind an `Arc`.
/// Derefs, compares, hashes, prints and serialises as a `str`.
///
/// A string read back keeps its stored block (a few records, about 4 KiB) alive: copy it
/// (`to_string`) to keep it long.
#[derive(Clone)]
pub struct Text(IVec);

impl Text {
    /// Bytes of a stored record that `utf8` accepted.
    pub(crate) fn stored(bytes: IVec) -> Self {
        Text(bytes)
    }

    pub fn as_str(&self) -> &str {
        // Every constructor holds UTF-8 (text, or stored bytes checked when read), so the
        // fallback is unreachable; it keeps a garbled buffer from ever becoming a panic.
        utf8(&self.0).unwrap_or_default()
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl Default for Text {
    fn default() -> Self {
        Text(IVec::from(&[][..]))
    }
}

impl Deref for Text {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for Text {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Text) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for Text {}

impl PartialOrd for Text {
    fn partial_cmp(&self, other: &Text) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Text {
    /// As `str` orders: by bytes.
    fn cmp(&self, other: &Text) -> std::cmp::Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl std::hash::Hash for Text {
    /// As the `str` it holds, so that maps keyed by `Text` can be searched with a `&str`.
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Self {
        Text(IVec::from(s.as_bytes()))
    }
}

impl From<String> for Text {
    fn from(s: String) -> Self {
        Text(IVec::from(s.into_bytes()))
    }
}

impl From<&String> for Text {
    fn from(s: &String) -> Self {
        Text::from(s.as_str())
    }
}

impl From<Text> for String {
    fn from(t: Text) -> Self {
        t.as_str().to_owned()
    }
}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl PartialEq<String> for Text {
    fn eq(&self, other: &String) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl PartialEq<Text> for str {
    fn eq(&self, other: &Text) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl PartialEq<Text> for &str {
    fn eq(&self, other: &Text) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl PartialEq<Text> for String {
    fn eq(&self, other: &Text) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Serialize for Text {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Text::from)
    }
}

/// A payload's JSON text. Made only from JSON (a serialised value, or text that parses), so it
/// always holds JSON; payloads read back share the stored record's bytes instead of copying
/// them (and keep the stored block alive, like [`Text`]), and reads hand them over without
/// parsing: consumers parse once, into their own types. Serialises as the JSON it holds.
#[derive(Clone, PartialEq, Eq)]
pub struct Payload(IVec);

impl Payload {
    /// Serialises `value` straight to JSON text (no intermediate `serde_json::Value`).
    pub fn to_json<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<Payload> {
        serde_json::to_vec(value).map(|bytes| Payload(IVec::from(bytes)))
    }

    /// Takes JSON text as it is, after checking that it is one JSON value.
    pub fn from_json_text(text: impl Into<String>) -> serde_json::Result<Payload> {
        let text = text.into();
        serde_json::from_str::<&RawValue>(&text)?;
        Ok(Payload(IVec::from(text.into_bytes())))
    }

    /// A payload read from a record: `bytes` were checked to be UTF-8 by the caller (and were
    /// written as JSON; `verify` checks that they still parse).
    pub(crate) fn from_stored(bytes: IVec) -> Self {
        Payload(bytes)
    }

    pub fn as_str(&self) -> &str {
        // Every constructor holds UTF-8 (see above), so the fallback is unreachable; it keeps a
        // garbled buffer from ever becoming a panic.
        utf8(&self.0).unwrap_or("null")
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Length of the JSON text in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The payload as a JSON value.
    pub fn to_value(&self) -> serde_json::Result<serde_json::Value> {
        serde_json::from_slice(&self.0)
    }
}

impl fmt::Debug for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Payload").field(&self.as_str()).finish()
    }
}

impl fmt::Display for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<serde_json::Value> for Payload {
    fn from(value: serde_json::Value) -> Self {
        Payload::from(&value)
    }
}

impl From<&serde_json::Value> for Payload {
    fn from(value: &serde_json::Value) -> Self {
        // A `Value` always serialises (its map keys are strings), and `Display` writes it as
        // compact JSON without a fallible path.
        Payload(IVec::from(value.to_string().into_bytes()))
    }
}

impl From<Box<RawValue>> for Payload {
    fn from(raw: Box<RawValue>) -> Self {
        let text: Box<str> = raw.into();
        Payload(IVec::from(text.into_boxed_bytes()))
    }
}

impl<'de> Deserialize<'de> for Payload {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Box::<RawValue>::deserialize(d).map(Payload::from)
    }
}

impl Serialize for Payload {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let raw: &RawValue =
            serde_json::from_str(self.as_str()).map_err(serde::ser::Error::custom)?;
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

/// `bytes` as text, if they are UTF-8. Checked with SIMD instructions where the CPU has them:
/// replay checks every payload it reads, and consumers check it again on `Payload::as_str`.
/// Names (streams, types, actors) are short, where the standard check's word-at-a-time ASCII
/// path is quicker than setting up SIMD.
#[inline]
pub(crate) fn utf8(bytes: &[u8]) -> Option<&str> {
    if bytes.len() < 64 {
        std::str::from_utf8(bytes).ok()
    } else {
        simdutf8::basic::from_utf8(bytes).ok()
    }
}
