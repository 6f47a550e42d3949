//! `Idempotency-Key` on POST, without storage of its own: ids are derived from the key, so a
//! retry appends the very same event ids and the event store's own idempotency answers it.
//!
//! For a caller `sub`, a key `K`, the request `path` and the SHA-256 `H` of its (canonical JSON)
//! body, in the service's UUID namespace:
//!
//! - the entity a create makes is `v5("<sub>|<K>")`, so a retried create names the same entity;
//! - the first event's id is `v5("<sub>|<K>|<H>|<path>")` (the *n*-th adds `#n`), so the same
//!   request appends the same ids, and [`capmatch_eventstore::EventStore::find_event`] finds the
//!   original to answer from;
//! - the command id `v5("<sub>|<K>|<path>")` goes into each event's `causation_id`, so the same
//!   key with a different body on the same resource is recognised (422
//!   `idempotency_key_reused`).
//!
//! The parts are joined by [`join`], which escapes `\` and `|` inside each part: two different
//! (subject, key, …) tuples never name the same text, so (`alice|x`, `k1`) and (`alice`,
//! `x|k1`) are different requests. A part with neither character is written as it is, so ids
//! derived before the escaping existed are unchanged for every ordinary subject and key.
//!
//! Ids only say which request this is. Whether the caller may make it is decided before a
//! retry is answered (the write path authorises first), so knowing or guessing an id never
//! replays someone else's answer.
//!
//! Without a key every id is a fresh random v4.

use std::future::{Ready, ready};

use actix_web::{FromRequest, HttpRequest};
use capmatch_http::ApiError;
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// The request header.
pub const IDEMPOTENCY_KEY_HEADER: &str = "idempotency-key";
/// Longest key accepted.
pub const MAX_KEY_LEN: usize = 200;

/// A valid `Idempotency-Key`: 1..=200 printable ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// Parses a key: 400 when empty, too long, or not printable ASCII.
    pub fn parse(value: &str) -> Result<Self, ApiError> {
        let printable = value.bytes().all(|b| (0x20..=0x7e).contains(&b));
        if value.is_empty() || value.len() > MAX_KEY_LEN || !printable {
            return Err(ApiError::bad_request(format!(
                "Idempotency-Key must be 1 to {MAX_KEY_LEN} printable ASCII characters."
            )));
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The request's `Idempotency-Key`, if it sent one. Extractor: a malformed or repeated header is
/// a 400.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Idempotency(pub Option<IdempotencyKey>);

impl Idempotency {
    pub fn from_request_headers(req: &HttpRequest) -> Result<Self, ApiError> {
        let mut values = req.headers().get_all(IDEMPOTENCY_KEY_HEADER);
        let Some(value) = values.next() else {
            return Ok(Self(None));
        };
        if values.next().is_some() {
            return Err(ApiError::bad_request(
                "Send at most one Idempotency-Key header.",
            ));
        }
        let text = value.to_str().map_err(|_| {
            ApiError::bad_request("Idempotency-Key must be printable ASCII characters.")
        })?;
        IdempotencyKey::parse(text).map(|key| Self(Some(key)))
    }

    pub fn key(&self) -> Option<&IdempotencyKey> {
        self.0.as_ref()
    }
}

impl FromRequest for Idempotency {
    type Error = ApiError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        ready(Self::from_request_headers(req))
    }
}

/// SHA-256 (hex) of `body`'s canonical JSON: equal for bodies that parse to the same request,
/// whatever their spacing or key order. `None` (no body) hashes as the empty string.
pub fn body_digest<T: Serialize>(body: Option<&T>) -> String {
    let bytes = match body {
        // Serialising plain request types cannot fail; an empty digest input would only make a
        // retry of such a request look new.
        Some(body) => serde_json::to_vec(body).unwrap_or_default(),
        None => Vec::new(),
    };
    hex::encode(Sha256::digest(&bytes))
}

/// The ids one command uses: derived from the key when there is one, random otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandIds {
    keyed: Option<Keyed>,
    random_entity: Uuid,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Keyed {
    namespace: Uuid,
    entity: Uuid,
    command: Uuid,
    event_name: String,
}

impl CommandIds {
    /// The ids for a request by `subject` to `path` with body digest `digest`, in `namespace`.
    pub fn new(
        namespace: Uuid,
        key: Option<&IdempotencyKey>,
        subject: &str,
        path: &str,
        digest: &str,
    ) -> Self {
        let keyed = key.map(|key| {
            let key = key.as_str();
            Keyed {
                namespace,
                entity: Uuid::new_v5(&namespace, join(&[subject, key]).as_bytes()),
                command: Uuid::new_v5(&namespace, join(&[subject, key, path]).as_bytes()),
                event_name: join(&[subject, key, digest, path]),
            }
        });
        Self {
            keyed,
            random_entity: Uuid::new_v4(),
        }
    }

    /// Whether the request carried an `Idempotency-Key`.
    pub fn is_keyed(&self) -> bool {
        self.keyed.is_some()
    }

    /// The id of the entity a create makes.
    pub fn entity_id(&self) -> Uuid {
        self.keyed.as_ref().map_or(self.random_entity, |k| k.entity)
    }

    /// The id of the command's `index`-th event.
    pub fn event_id(&self, index: usize) -> Uuid {
        match &self.keyed {
            Some(k) if index == 0 => Uuid::new_v5(&k.namespace, k.event_name.as_bytes()),
            Some(k) => Uuid::new_v5(&k.namespace, format!("{}#{index}", k.event_name).as_bytes()),
            None => Uuid::new_v4(),
        }
    }

    /// The command's id, for the events' `causation_id`: the same for every body sent with the
    /// same key to the same path.
    pub fn command_id(&self) -> Option<Uuid> {
        self.keyed.as_ref().map(|k| k.command)
    }
}

/// `parts` joined by `|`, with `\\` and `|` inside each part escaped by a `\\`: an injective
/// encoding (the parts can be read back), equal to the plain join when no part holds either
/// character.
pub fn join(parts: &[&str]) -> String {
    let mut out = String::with_capacity(parts.iter().map(|p| p.len() + 1).sum());
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            out.push('|');
        }
        for c in part.chars() {
            if matches!(c, '\\' | '|') {
                out.push('\\');
            }
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const NS: Uuid = Uuid::from_u128(0x1234);

    fn key(k: &str) -> IdempotencyKey {
        IdempotencyKey::parse(k).expect("valid key")
    }

    #[test]
    fn keys_are_one_to_two_hundred_printable_ascii_characters() {
        assert!(IdempotencyKey::parse("a").is_ok());
        assert!(IdempotencyKey::parse(&"k".repeat(200)).is_ok());
        assert!(IdempotencyKey::parse("with space ~").is_ok());
        assert!(IdempotencyKey::parse("").is_err());
        assert!(IdempotencyKey::parse(&"k".repeat(201)).is_err());
        assert!(IdempotencyKey::parse("tab\there").is_err());
        assert!(IdempotencyKey::parse("caf\u{e9}").is_err());
    }

    #[test]
    fn the_same_request_derives_the_same_ids_and_another_body_other_event_ids() {
        let a = CommandIds::new(NS, Some(&key("k1")), "sub", "/v1/needs", "h1");
        let b = CommandIds::new(NS, Some(&key("k1")), "sub", "/v1/needs", "h1");
        let other_body = CommandIds::new(NS, Some(&key("k1")), "sub", "/v1/needs", "h2");
        let other_caller = CommandIds::new(NS, Some(&key("k1")), "sub2", "/v1/needs", "h1");
        assert_eq!(a.entity_id(), b.entity_id());
        assert_eq!(a.event_id(0), b.event_id(0));
        assert_ne!(a.event_id(0), a.event_id(1));
        assert_eq!(a.command_id(), other_body.command_id());
        assert_eq!(a.entity_id(), other_body.entity_id());
        assert_ne!(a.event_id(0), other_body.event_id(0));
        assert_ne!(a.entity_id(), other_caller.entity_id());
        let expected = Uuid::new_v5(&NS, b"sub|k1|h1|/v1/needs");
        assert_eq!(a.event_id(0), expected);
    }

    #[test]
    fn a_separator_inside_the_subject_or_the_key_names_another_request() {
        let a = CommandIds::new(NS, Some(&key("k1")), "alice|x", "/v1/needs", "h1");
        let b = CommandIds::new(NS, Some(&key("x|k1")), "alice", "/v1/needs", "h1");
        assert_ne!(a.entity_id(), b.entity_id());
        assert_ne!(a.event_id(0), b.event_id(0));
        assert_ne!(a.command_id(), b.command_id());
        let c = CommandIds::new(NS, Some(&key("k\\")), "alice", "/v1/needs", "h1");
        let d = CommandIds::new(NS, Some(&key("k")), "alice\\", "/v1/needs", "h1");
        assert_ne!(c.entity_id(), d.entity_id());
    }

    /// Splits a [`join`]ed text back into its parts.
    fn split(joined: &str) -> Vec<String> {
        let (mut parts, mut part) = (Vec::new(), String::new());
        let mut chars = joined.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => part.extend(chars.next()),
                '|' => parts.push(std::mem::take(&mut part)),
                c => part.push(c),
            }
        }
        parts.push(part);
        parts
    }

    proptest! {
        #[test]
        fn joined_parts_read_back_so_different_tuples_never_collide(
            parts in prop::collection::vec("[a-z|\\\\]{0,6}", 1..5)
        ) {
            let refs: Vec<&str> = parts.iter().map(String::as_str).collect();
            prop_assert_eq!(split(&join(&refs)), parts.clone());
            if parts.iter().all(|p| !p.contains(['|', '\\'])) {
                prop_assert_eq!(join(&refs), parts.join("|"));
            }
        }
    }

    #[test]
    fn without_a_key_ids_are_random() {
        let a = CommandIds::new(NS, None, "sub", "/v1/needs", "h1");
        assert!(!a.is_keyed());
        assert_ne!(a.event_id(0), a.event_id(0));
        assert_eq!(a.entity_id(), a.entity_id());
        assert_eq!(a.command_id(), None);
    }

    #[test]
    fn digests_ignore_spacing_and_key_order() {
        let a: serde_json::Value = serde_json::from_str(r#"{"a":1,"b":[2]}"#).expect("json");
        let b: serde_json::Value = serde_json::from_str(r#"{ "b": [2], "a": 1 }"#).expect("json");
        assert_eq!(body_digest(Some(&a)), body_digest(Some(&b)));
        assert_ne!(body_digest(Some(&a)), body_digest::<()>(None));
    }
}
