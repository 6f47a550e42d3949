//! Key layout inside the sled tree: one key per event, so an event is one sled insert (the indexes
//! live in memory, see `index`).
//!
//! - `e` + position (u64 BE) → the encoded record (see `codec`).

pub(crate) const EVENT: u8 = b'e';

pub(crate) fn event(position: u64) -> [u8; 9] {
    let mut k = [0u8; 9];
    k[0] = EVENT;
    k[1..].copy_from_slice(&position.to_be_bytes());
    k
}

/// Reads a big-endian u64 from the last 8 bytes of a key.
pub(crate) fn trailing_u64(bytes: &[u8]) -> Option<u64> {
    let tail: [u8; 8] = bytes.get(bytes.len().checked_sub(8)?..)?.try_into().ok()?;
    Some(u64::from_be_bytes(tail))
}
