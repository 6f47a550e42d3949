//! The canonical binary encoding of a stored record and its place in the hash chain.
//!
//! A record is `body ‖ hash`, where `hash = SHA-256(body)` and the body ends with the previous
//! record's hash, so every record commits to the whole log before it. The body's layout is fixed
//! (all integers big-endian, strings and byte strings length-prefixed with a u32):
//!
//! ```text
//! u8 format (2) | [16] event id | u32 schema_version | str stream | str event_type
//! opt str actor_subject | opt str actor_role | opt [16] correlation | opt [16] causation
//! bytes payload (JSON text)
//! u64 position | u64 stream_version | i64 recorded_at (µs since epoch) | [32] previous hash
//! ```
//!
//! `opt` is a u8 flag (0 absent, 1 present) followed by the value. What the caller knows comes
//! first and what only the writer knows (the record's place in the log) comes last, so the
//! caller's task encodes and hashes most of a record ([`prepare`]) and the single writer only
//! writes and hashes the last 56 bytes ([`seal`]): SHA-256 runs front to back, and the caller
//! hands over its state part-way. Format 1, written by earlier versions, had the position,
//! stream version and time after the format byte; it is still read. The encoding is written
//! once at append time and never rewritten; decoding checks every length so that no stored byte
//! can make it panic.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use sled::IVec;
use uuid::Uuid;

use crate::event::{EventMetadata, NewEvent, Payload, StoredEvent, Text, utf8};

/// The format this version writes.
const FORMAT: u8 = 2;
/// The first format, read but no longer written.
const FORMAT_1: u8 = 1;
pub(crate) const HASH_LEN: usize = 32;
/// The writer's part of a format-2 body: position, stream version, time, previous hash.
pub(crate) const TAIL_LEN: usize = 8 + 8 + 8 + HASH_LEN;

/// A record encoded but for the writer's part, with the hash state over what is encoded. Its
/// buffer already has the length of the finished record.
pub(crate) struct Unsealed {
    buf: IVec,
    hasher: Sha256,
}

impl std::fmt::Debug for Unsealed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Unsealed")
            .field("len", &self.buf.len())
            .finish()
    }
}

/// Encodes what the caller knows of an event's record (on the caller's task).
pub(crate) fn prepare(stream: &str, e: &NewEvent) -> Unsealed {
    prepare_parts(
        &e.id,
        e.schema_version,
        stream,
        &e.event_type,
        &e.metadata,
        e.payload.as_bytes(),
    )
}

fn prepare_parts(
    id: &Uuid,
    schema_version: u32,
    stream: &str,
    event_type: &str,
    m: &EventMetadata,
    payload: &[u8],
) -> Unsealed {
    let len = 1
        + 16
        + 4
        + 4 * 3
        + stream.len()
        + event_type.len()
        + payload.len()
        + opt_str_len(&m.actor_subject)
        + opt_str_len(&m.actor_role)
        + 2 * 17
        + TAIL_LEN
        + HASH_LEN;
    let mut buf = Vec::with_capacity(len);
    buf.push(FORMAT);
    buf.extend_from_slice(id.as_bytes());
    buf.extend_from_slice(&schema_version.to_be_bytes());
    put_bytes(&mut buf, stream.as_bytes());
    put_bytes(&mut buf, event_type.as_bytes());
    put_opt_str(&mut buf, m.actor_subject.as_deref());
    put_opt_str(&mut buf, m.actor_role.as_deref());
    put_opt_uuid(&mut buf, m.correlation_id.as_ref());
    put_opt_uuid(&mut buf, m.causation_id.as_ref());
    put_bytes(&mut buf, payload);
    let hasher = Sha256::new_with_prefix(&buf);
    buf.resize(buf.len() + TAIL_LEN + HASH_LEN, 0);
    Unsealed {
        buf: IVec::from(buf),
        hasher,
    }
}

/// Writes the writer's part into a prepared record and finishes its hash (on the writer). The
/// buffer is written in place: nothing else holds it yet.
pub(crate) fn seal(
    u: Unsealed,
    position: u64,
    stream_version: u64,
    recorded_at_micros: i64,
    prev_hash: &[u8; HASH_LEN],
) -> (IVec, [u8; HASH_LEN]) {
    let Unsealed {
        mut buf,
        mut hasher,
    } = u;
    let mut tail = [0u8; TAIL_LEN];
    tail[..8].copy_from_slice(&position.to_be_bytes());
    tail[8..16].copy_from_slice(&stream_version.to_be_bytes());
    tail[16..24].copy_from_slice(&recorded_at_micros.to_be_bytes());
    tail[24..].copy_from_slice(prev_hash);
    hasher.update(tail);
    let hash: [u8; HASH_LEN] = hasher.finalize().into();
    let bytes: &mut [u8] = &mut buf;
    // `prepare` sized the buffer, so the last bytes are the tail and the hash.
    if let Some(end) = bytes.len().checked_sub(TAIL_LEN + HASH_LEN)
        && let Some(rest) = bytes.get_mut(end..)
    {
        let (t, h) = rest.split_at_mut(TAIL_LEN);
        t.copy_from_slice(&tail);
        h.copy_from_slice(&hash);
    }
    (buf, hash)
}

/// Every field of a record, for encoding one in a single step (tests, tools).
#[cfg(test)]
pub(crate) struct RecordRef<'a> {
    pub position: u64,
    pub stream_version: u64,
    pub recorded_at_micros: i64,
    pub id: &'a Uuid,
    pub schema_version: u32,
    pub stream: &'a str,
    pub event_type: &'a str,
    pub metadata: &'a EventMetadata,
    pub payload: &'a [u8],
    pub prev_hash: &'a [u8; HASH_LEN],
}

/// Encodes a record and returns the bytes to store with the record's hash.
#[cfg(test)]
pub(crate) fn encode(r: &RecordRef<'_>) -> (IVec, [u8; HASH_LEN]) {
    let u = prepare_parts(
        r.id,
        r.schema_version,
        r.stream,
        r.event_type,
        r.metadata,
        r.payload,
    );
    seal(
        u,
        r.position,
        r.stream_version,
        r.recorded_at_micros,
        r.prev_hash,
    )
}

/// A record as format 1 laid it out (the writer's fields first), as earlier versions wrote.
#[cfg(test)]
pub(crate) fn encode_format_1(r: &RecordRef<'_>) -> (IVec, [u8; HASH_LEN]) {
    let m = r.metadata;
    let mut buf = vec![FORMAT_1];
    buf.extend_from_slice(&r.position.to_be_bytes());
    buf.extend_from_slice(&r.stream_version.to_be_bytes());
    buf.extend_from_slice(&r.recorded_at_micros.to_be_bytes());
    buf.extend_from_slice(r.id.as_bytes());
    buf.extend_from_slice(&r.schema_version.to_be_bytes());
    put_bytes(&mut buf, r.stream.as_bytes());
    put_bytes(&mut buf, r.event_type.as_bytes());
    put_opt_str(&mut buf, m.actor_subject.as_deref());
    put_opt_str(&mut buf, m.actor_role.as_deref());
    put_opt_uuid(&mut buf, m.correlation_id.as_ref());
    put_opt_uuid(&mut buf, m.causation_id.as_ref());
    put_bytes(&mut buf, r.payload);
    buf.extend_from_slice(r.prev_hash);
    let hash: [u8; HASH_LEN] = Sha256::digest(&buf).into();
    buf.extend_from_slice(&hash);
    (IVec::from(buf), hash)
}

fn opt_str_len(s: &Option<Text>) -> usize {
    1 + s.as_ref().map_or(0, |s| 4 + s.len())
}

fn put_bytes(buf: &mut Vec<u8>, bytes: &[u8]) {
    // Lengths are bounded by the writer's input checks far below u32::MAX.
    let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
    buf.extend_from_slice(&len.to_be_bytes());
    buf.extend_from_slice(bytes);
}

fn put_opt_str(buf: &mut Vec<u8>, s: Option<&str>) {
    match s {
        None => buf.push(0),
        Some(s) => {
            buf.push(1);
            put_bytes(buf, s.as_bytes());
        }
    }
}

fn put_opt_uuid(buf: &mut Vec<u8>, id: Option<&Uuid>) {
    match id {
        None => buf.push(0),
        Some(id) => {
            buf.push(1);
            buf.extend_from_slice(id.as_bytes());
        }
    }
}

/// A decoded record together with the chain facts needed to verify it.
pub(crate) struct Decoded {
    pub event: StoredEvent,
    pub prev_hash: [u8; HASH_LEN],
    /// The hash recomputed from the stored body, to compare with `event.hash`.
    pub computed_hash: [u8; HASH_LEN],
}

/// Decodes a stored record. With `check_hash` the body's hash is recomputed and the payload
/// parsed (for `verify`); without them the stored hash is trusted and `computed_hash` repeats it.
pub(crate) fn decode(position: u64, record: &IVec, check_hash: bool) -> Result<Decoded, String> {
    let (event, prev_hash, body_len) = parse(position, record, check_hash)?;
    let computed_hash = match record.get(..body_len) {
        Some(body) if check_hash => Sha256::digest(body).into(),
        _ => event.hash,
    };
    Ok(Decoded {
        event,
        prev_hash,
        computed_hash,
    })
}

/// Decodes a stored record for a read: the event alone, the stored hash trusted.
pub(crate) fn decode_event(position: u64, record: &IVec) -> Result<StoredEvent, String> {
    parse(position, record, false).map(|(event, _, _)| event)
}

/// The event, its previous hash and the length of its body.
#[inline]
fn parse(
    position: u64,
    record: &IVec,
    check_json: bool,
) -> Result<(StoredEvent, [u8; HASH_LEN], usize), String> {
    let bytes: &[u8] = record;
    let body_len = bytes
        .len()
        .checked_sub(HASH_LEN)
        .ok_or("record shorter than its hash")?;
    let (body, stored_hash) = bytes.split_at(body_len);
    let hash: [u8; HASH_LEN] = stored_hash.try_into().map_err(|_| "bad hash length")?;
    let mut r = Reader { bytes: body, at: 0 };
    let format = r.u8()?;
    // Format 1 has the writer's fields first, format 2 last (see the module doc).
    let head = match format {
        FORMAT_1 => Some((r.u64()?, r.u64()?, r.i64()?)),
        FORMAT => None,
        other => return Err(format!("unknown record format {other}")),
    };
    let id = r.uuid()?;
    let schema_version = r.u32()?;
    // Names share the record's buffer, like the payload: a read allocates nothing for them.
    let text = |(at, len): (usize, usize)| -> Result<Text, Fault> {
        let bytes = record.get(at..at + len).ok_or("string out of the record")?;
        utf8(bytes).ok_or("string is not UTF-8")?;
        Ok(Text::stored(record.subslice(at, len)))
    };
    let stream = text(r.span()?)?;
    let event_type = text(r.span()?)?;
    let actor_subject = match r.opt_span()? {
        Some(span) => Some(text(span)?),
        None => None,
    };
    let actor_role = match r.opt_span()? {
        Some(span) => Some(text(span)?),
        None => None,
    };
    let correlation_id = r.opt_uuid()?;
    let causation_id = r.opt_uuid()?;
    let payload_len = r.u32()? as usize;
    let payload_at = r.at;
    let payload = utf8(r.take(payload_len)?).ok_or("payload is not UTF-8")?;
    // Parsing the JSON is left to the consumer (replay stays cheap); verification checks it.
    if check_json && serde_json::from_str::<&serde_json::value::RawValue>(payload).is_err() {
        return Err("payload is not JSON".into());
    }
    // The payload shares the record's buffer: no copy. `take` checked the range.
    let payload = Payload::from_stored(record.subslice(payload_at, payload_len));
    let (stored_position, stream_version, recorded_at_micros) = match head {
        Some(head) => head,
        None => (r.u64()?, r.u64()?, r.i64()?),
    };
    if stored_position != position {
        return Err(format!("record says position {stored_position}"));
    }
    let prev_hash: [u8; HASH_LEN] = r.array()?;
    if r.at != body.len() {
        return Err("trailing bytes after the record".into());
    }
    let recorded_at = DateTime::<Utc>::from_timestamp_micros(recorded_at_micros)
        .ok_or("record time out of range")?;
    let event = StoredEvent {
        position,
        stream,
        stream_version,
        id,
        event_type,
        schema_version,
        payload,
        metadata: EventMetadata {
            actor_subject,
            actor_role,
            correlation_id,
            causation_id,
        },
        recorded_at,
        hash,
    };
    Ok((event, prev_hash, body_len))
}

/// The fields the in-memory index needs, read without decoding the rest of the record.
pub(crate) struct IndexFields<'a> {
    pub stream_version: u64,
    pub id: Uuid,
    pub stream: &'a str,
    pub hash: [u8; HASH_LEN],
}

pub(crate) fn decode_index_fields(position: u64, bytes: &[u8]) -> Result<IndexFields<'_>, String> {
    let hash: [u8; HASH_LEN] = bytes
        .get(
            bytes
                .len()
                .checked_sub(HASH_LEN)
                .ok_or("record shorter than its hash")?..,
        )
        .and_then(|h| h.try_into().ok())
        .ok_or("record shorter than its hash")?;
    let mut r = Reader { bytes, at: 0 };
    let format = r.u8()?;
    let (stored_position, stream_version) = match format {
        FORMAT_1 => (r.u64()?, r.u64()?),
        FORMAT => {
            // The writer's part sits just before the hash: position, then stream version.
            let tail_at = bytes
                .len()
                .checked_sub(TAIL_LEN + HASH_LEN)
                .ok_or("record truncated")?;
            let mut tail = Reader { bytes, at: tail_at };
            (tail.u64()?, tail.u64()?)
        }
        other => return Err(format!("unknown record format {other}")),
    };
    if stored_position != position {
        return Err(format!("record says position {stored_position}"));
    }
    if format == FORMAT_1 {
        let _recorded_at = r.i64()?;
    }
    let id = r.uuid()?;
    let _schema_version = r.u32()?;
    let stream = std::str::from_utf8(r.bytes()?).map_err(|_| "stream is not UTF-8")?;
    Ok(IndexFields {
        stream_version,
        id,
        stream,
        hash,
    })
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

/// Why a record does not decode; the reasons a `Reader` gives are fixed.
type Fault = &'static str;

impl<'a> Reader<'a> {
    #[inline]
    fn take(&mut self, n: usize) -> Result<&'a [u8], Fault> {
        let end = self.at.checked_add(n).ok_or("length overflow")?;
        let out = self.bytes.get(self.at..end).ok_or("record truncated")?;
        self.at = end;
        Ok(out)
    }

    #[inline]
    fn array<const N: usize>(&mut self) -> Result<[u8; N], Fault> {
        self.take(N)?.try_into().map_err(|_| "record truncated")
    }

    #[inline]
    fn u8(&mut self) -> Result<u8, Fault> {
        Ok(self.array::<1>()?[0])
    }

    #[inline]
    fn u32(&mut self) -> Result<u32, Fault> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    #[inline]
    fn u64(&mut self) -> Result<u64, Fault> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    #[inline]
    fn i64(&mut self) -> Result<i64, Fault> {
        Ok(i64::from_be_bytes(self.array()?))
    }

    #[inline]
    fn uuid(&mut self) -> Result<Uuid, Fault> {
        Ok(Uuid::from_bytes(self.array()?))
    }

    #[inline]
    fn bytes(&mut self) -> Result<&'a [u8], Fault> {
        let len = self.u32()? as usize;
        self.take(len)
    }

    #[inline]
    fn flag(&mut self) -> Result<bool, Fault> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err("bad presence flag"),
        }
    }

    /// Where a length-prefixed byte string lies in the record: `(offset, length)`, in bounds.
    #[inline]
    fn span(&mut self) -> Result<(usize, usize), Fault> {
        let len = self.u32()? as usize;
        let at = self.at;
        self.take(len)?;
        Ok((at, len))
    }

    #[inline]
    fn opt_span(&mut self) -> Result<Option<(usize, usize)>, Fault> {
        if self.flag()? {
            self.span().map(Some)
        } else {
            Ok(None)
        }
    }

    #[inline]
    fn opt_uuid(&mut self) -> Result<Option<Uuid>, Fault> {
        if self.flag()? {
            self.uuid().map(Some)
        } else {
            Ok(None)
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn sample(prev: &[u8; 32]) -> (IVec, [u8; 32]) {
        let id = Uuid::from_u128(7);
        let meta = EventMetadata {
            actor_subject: Some("alice".into()),
            actor_role: None,
            correlation_id: Some(Uuid::from_u128(9)),
            causation_id: None,
        };
        let (bytes, hash) = encode(&RecordRef {
            position: 3,
            stream_version: 2,
            recorded_at_micros: 1_700_000_000_000_000,
            id: &id,
            schema_version: 1,
            stream: "need-1",
            event_type: "need.posted",
            metadata: &meta,
            payload: br#"{"a":1}"#,
            prev_hash: prev,
        });
        (bytes, hash)
    }

    #[test]
    fn a_record_decodes_to_what_was_encoded() {
        let (bytes, hash) = sample(&[5; 32]);
        let d = decode(3, &bytes, true).unwrap();
        assert_eq!(d.event.stream, "need-1");
        assert_eq!(d.event.stream_version, 2);
        assert_eq!(d.event.payload.as_str(), r#"{"a":1}"#);
        assert_eq!(d.event.metadata.actor_subject.as_deref(), Some("alice"));
        assert_eq!(d.event.metadata.correlation_id, Some(Uuid::from_u128(9)));
        assert_eq!(d.prev_hash, [5; 32]);
        assert_eq!(d.computed_hash, hash);
        assert_eq!(d.event.hash, hash);
    }

    #[test]
    fn both_formats_decode_to_the_same_event() {
        let id = Uuid::from_u128(7);
        let meta = EventMetadata {
            actor_subject: Some("alice".into()),
            actor_role: Some("state".into()),
            correlation_id: None,
            causation_id: Some(Uuid::from_u128(9)),
        };
        let r = RecordRef {
            position: 3,
            stream_version: 2,
            recorded_at_micros: 1_700_000_000_000_000,
            id: &id,
            schema_version: 4,
            stream: "need-1",
            event_type: "need.posted",
            metadata: &meta,
            payload: br#"{"a":1}"#,
            prev_hash: &[5; 32],
        };
        let (old, old_hash) = encode_format_1(&r);
        let (new, new_hash) = encode(&r);
        let a = decode(3, &old, true).unwrap();
        let b = decode(3, &new, true).unwrap();
        assert_eq!((a.computed_hash, b.computed_hash), (old_hash, new_hash));
        assert_eq!((a.event.hash, b.event.hash), (old_hash, new_hash));
        assert_eq!(a.prev_hash, b.prev_hash);
        let (a, b) = (a.event, b.event);
        assert_eq!(
            (a.position, a.stream_version, a.id, a.schema_version),
            (b.position, b.stream_version, b.id, b.schema_version)
        );
        assert_eq!((&a.stream, &a.event_type), (&b.stream, &b.event_type));
        assert_eq!((a.metadata, a.recorded_at), (b.metadata, b.recorded_at));
        assert_eq!(a.payload, b.payload);
        for bytes in [&old, &new] {
            let f = decode_index_fields(3, bytes).unwrap();
            assert_eq!((f.stream_version, f.id, f.stream), (2, id, "need-1"));
            assert!(decode_index_fields(4, bytes).is_err());
        }
        assert_eq!(decode_index_fields(3, &new).unwrap().hash, new_hash);
    }

    #[test]
    fn the_hash_commits_to_the_previous_hash() {
        assert_ne!(sample(&[0; 32]).1, sample(&[1; 32]).1);
    }

    #[test]
    fn no_truncation_or_flipped_byte_makes_decoding_panic() {
        let (bytes, hash) = sample(&[0; 32]);
        for cut in 0..bytes.len() {
            assert!(decode(3, &IVec::from(&bytes[..cut]), true).is_err() || cut == bytes.len());
        }
        for i in 0..bytes.len() {
            let mut b = bytes.to_vec();
            b[i] ^= 0x41;
            if let Ok(d) = decode(3, &IVec::from(b), true) {
                assert!(d.computed_hash != d.event.hash || d.computed_hash != hash);
            }
        }
    }

    #[test]
    fn a_record_under_the_wrong_key_is_refused() {
        let (bytes, _) = sample(&[0; 32]);
        assert!(decode(4, &bytes, false).is_err());
    }

    #[test]
    fn records_decoded_through_one_interner_keep_their_own_strings() {
        // More distinct values than any cache holds, revisited out of order.
        let names: Vec<String> = (0..20).map(|i| format!("s{}", i % 11)).collect();
        for (i, name) in names.iter().chain(names.iter().rev()).enumerate() {
            let id = Uuid::from_u128(i as u128);
            let role = format!("r{}", i % 3);
            let meta = EventMetadata {
                actor_subject: Some(name.as_str().into()),
                actor_role: Some(role.as_str().into()),
                correlation_id: None,
                causation_id: None,
            };
            let (bytes, _) = encode(&RecordRef {
                position: 1,
                stream_version: 1,
                recorded_at_micros: 0,
                id: &id,
                schema_version: 1,
                stream: name,
                event_type: &role,
                metadata: &meta,
                payload: b"{}",
                prev_hash: &[0; 32],
            });
            let e = decode(1, &bytes, false).unwrap().event;
            assert_eq!(e.stream, *name);
            assert_eq!(e.event_type, role);
            assert_eq!(e.metadata.actor_subject.as_deref(), Some(name.as_str()));
            assert_eq!(e.metadata.actor_role.as_deref(), Some(role.as_str()));
        }
    }
}
