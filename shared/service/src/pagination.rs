//! Cursor pagination for list endpoints: `limit` (default 20, 1..=100) and an opaque `cursor`
//! naming where the next page starts.
//!
//! Every list has a stable order given by a [`ListKey`] per item, made of what the caller can see
//! of the item itself (a need's posting time and id, a suggestion's rank), never of the log: a
//! global log position would tell the gap between two visible items, which counts (and dates)
//! the events in between, restricted needs' included. A cursor is the key of the last item of a
//! page, 24 bytes in base64url ([`CURSOR_PATTERN`]), and the next page holds the items whose key
//! comes after it.
//!
//! Every string of that shape decodes to a key, so every such string is a valid cursor (a page
//! after that place, possibly empty), and the API document can say exactly which cursors are
//! accepted. A cursor made up by a caller only moves where a page of the items it may see
//! starts. Clients should still treat cursors as opaque.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use capmatch_http::{ApiError, FieldError};
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// Items per page when the caller does not say.
pub const DEFAULT_LIMIT: i64 = 20;
/// Most items per page.
pub const MAX_LIMIT: i64 = 100;

/// Every cursor matches this, and every match is a cursor: 32 base64url characters are exactly
/// the 24 bytes of a [`ListKey`].
pub const CURSOR_PATTERN: &str = "^[A-Za-z0-9_-]{32}$";
/// The length of every cursor.
pub const CURSOR_LEN: usize = 32;
const KEY_BYTES: usize = 24;

/// An item's place in its list: `major`, then `minor`, compared in turn.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ListKey {
    pub major: i64,
    pub minor: u128,
}

impl ListKey {
    /// Creation order: the time an entity was created, then its id.
    pub fn created(at: DateTime<Utc>, id: Uuid) -> Self {
        ListKey {
            major: at.timestamp_micros(),
            minor: id.as_u128(),
        }
    }

    /// A place in a ranked list (1 is the first).
    pub fn rank(rank: u64) -> Self {
        ListKey {
            major: i64::try_from(rank).unwrap_or(i64::MAX),
            minor: 0,
        }
    }

    /// The key as a cursor.
    pub fn cursor(&self) -> String {
        let mut bytes = [0u8; KEY_BYTES];
        bytes[..8].copy_from_slice(&self.major.to_be_bytes());
        bytes[8..].copy_from_slice(&self.minor.to_be_bytes());
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// The key a cursor names; `None` unless it is [`CURSOR_LEN`] base64url characters.
    pub fn from_cursor(cursor: &str) -> Option<Self> {
        if cursor.len() != CURSOR_LEN {
            return None;
        }
        let mut bytes = [0u8; KEY_BYTES];
        let written = URL_SAFE_NO_PAD
            .decode_slice(cursor.as_bytes(), &mut bytes)
            .ok()?;
        if written != KEY_BYTES {
            return None;
        }
        let (major, minor) = bytes.split_at(8);
        Some(ListKey {
            major: i64::from_be_bytes(major.try_into().ok()?),
            minor: u128::from_be_bytes(minor.try_into().ok()?),
        })
    }
}

/// Where a page starts and how long it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// Items with a key strictly after this one (`None`: from the start).
    pub after: Option<ListKey>,
    pub limit: usize,
}

impl PageRequest {
    /// Checks `limit` and decodes `cursor`: 400 `invalid_query` naming the field otherwise.
    pub fn parse(limit: Option<i64>, cursor: Option<&str>) -> Result<Self, ApiError> {
        let mut errors = Vec::new();
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            errors.push(FieldError::new(
                "query.limit",
                "out_of_range",
                format!("limit must be between 1 and {MAX_LIMIT}"),
            ));
        }
        let after = match cursor {
            None => None,
            Some(cursor) => {
                let decoded = ListKey::from_cursor(cursor);
                if decoded.is_none() {
                    errors.push(FieldError::new(
                        "query.cursor",
                        "invalid_cursor",
                        "a cursor is the next_cursor of an earlier page, as it was given",
                    ));
                }
                decoded
            }
        };
        if !errors.is_empty() {
            return Err(ApiError::invalid_query(errors));
        }
        Ok(Self {
            after,
            // In 1..=100 here.
            limit: usize::try_from(limit).unwrap_or(1),
        })
    }
}

/// One page cut from items already filtered and in key order, with the total count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
    pub total: u64,
}

/// Cuts the page `request` asks for from `matches` (every match, in key order, with its key).
pub fn paginate<T>(
    matches: impl IntoIterator<Item = (ListKey, T)>,
    request: PageRequest,
) -> Page<T> {
    let mut total = 0u64;
    let mut items = Vec::with_capacity(request.limit);
    let mut last_key = None;
    let mut more = false;
    for (key, item) in matches {
        total += 1;
        if request.after.is_some_and(|after| key <= after) {
            continue;
        }
        if items.len() < request.limit {
            items.push(item);
            last_key = Some(key);
        } else {
            more = true;
        }
    }
    Page {
        items,
        next_cursor: if more {
            last_key.map(|k| k.cursor())
        } else {
            None
        },
        total,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn cursors_round_trip_and_anything_else_is_refused() {
        let key = ListKey {
            major: -42,
            minor: u128::MAX - 7,
        };
        let cursor = key.cursor();
        assert_eq!(cursor.len(), CURSOR_LEN);
        assert_eq!(ListKey::from_cursor(&cursor), Some(key));
        for garbage in [
            "",
            "42",
            "-1",
            &"A".repeat(31),
            &"A".repeat(33),
            &format!("{}=", "A".repeat(31)),
            &format!("{}+", "A".repeat(31)),
            &format!("{}/", "A".repeat(31)),
        ] {
            assert_eq!(ListKey::from_cursor(garbage), None, "{garbage:?}");
        }
        assert!(PageRequest::parse(None, Some("nope")).is_err());
    }

    #[test]
    fn a_cursor_says_nothing_but_the_key_of_the_last_item_shown() {
        let at = DateTime::from_timestamp(1_700_000_000, 123_000).expect("a time");
        let id = Uuid::from_u128(0xabcdef);
        let key = ListKey::created(at, id);
        assert_eq!(key.major, at.timestamp_micros());
        assert_eq!(key.minor, id.as_u128());
        assert_eq!(ListKey::rank(3), ListKey { major: 3, minor: 0 });
    }

    proptest! {
        #[test]
        fn every_string_of_the_documented_shape_is_a_cursor(cursor in "[A-Za-z0-9_-]{32}") {
            let key = ListKey::from_cursor(&cursor);
            prop_assert!(key.is_some());
            prop_assert_eq!(key.map(|k| k.cursor()), Some(cursor));
        }

        #[test]
        fn keys_keep_their_order_through_cursors(a in any::<(i64, u128)>(), b in any::<(i64, u128)>()) {
            let (a, b) = (
                ListKey { major: a.0, minor: a.1 },
                ListKey { major: b.0, minor: b.1 },
            );
            let back = |k: ListKey| ListKey::from_cursor(&k.cursor());
            prop_assert_eq!(back(a), Some(a));
            prop_assert_eq!(back(a).cmp(&back(b)), a.cmp(&b));
        }
    }

    #[test]
    fn limits_outside_one_to_a_hundred_are_refused() {
        assert_eq!(
            PageRequest::parse(None, None).map(|p| p.limit).ok(),
            Some(20)
        );
        assert!(PageRequest::parse(Some(0), None).is_err());
        assert!(PageRequest::parse(Some(101), None).is_err());
        assert!(PageRequest::parse(Some(-3), None).is_err());
        assert_eq!(
            PageRequest::parse(Some(100), None).map(|p| p.limit).ok(),
            Some(100)
        );
    }

    #[test]
    fn pages_follow_each_other_without_overlap_and_count_everything() {
        let items: Vec<(ListKey, u64)> = [3u64, 5, 8, 13, 21]
            .iter()
            .map(|k| (ListKey::rank(*k), *k))
            .collect();
        let first = paginate(
            items.clone(),
            PageRequest::parse(Some(2), None).expect("ok"),
        );
        assert_eq!(first.items, vec![3, 5]);
        assert_eq!(first.total, 5);
        let next = |page: &Page<u64>| {
            PageRequest::parse(Some(2), page.next_cursor.as_deref()).expect("a cursor")
        };
        let second = paginate(items.clone(), next(&first));
        assert_eq!(second.items, vec![8, 13]);
        let third = paginate(items, next(&second));
        assert_eq!(third.items, vec![21]);
        assert_eq!(third.next_cursor, None);
    }
}
