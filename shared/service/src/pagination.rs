//! Cursor pagination for list endpoints: `limit` (default 20, 1..=100) and a `cursor` naming
//! the position after which the next page starts. Lists are in a stable order (creation order),
//! keyed by a `u64` that only grows (the creating event's global position).
//!
//! A cursor is that key in decimal, 1 to 19 digits ([`CURSOR_PATTERN`]): every string of that
//! shape is a valid cursor (a page after that position, possibly empty), so the API document can
//! say exactly which cursors are accepted. Clients should still treat it as opaque.

use capmatch_http::{ApiError, FieldError};

/// Items per page when the caller does not say.
pub const DEFAULT_LIMIT: i64 = 20;
/// Most items per page.
pub const MAX_LIMIT: i64 = 100;

/// Every cursor matches this, and every match is a cursor (19 digits always fit a `u64`).
pub const CURSOR_PATTERN: &str = "^[0-9]{1,19}$";
const CURSOR_MAX_DIGITS: usize = 19;

/// Where a page starts and how long it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// Items with a key strictly greater than this (0: from the start).
    pub after: u64,
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
            None => Some(0),
            Some(cursor) => {
                let decoded = decode_cursor(cursor);
                if decoded.is_none() {
                    errors.push(FieldError::new(
                        "query.cursor",
                        "invalid_cursor",
                        "a cursor is 1 to 19 digits, as returned in next_cursor",
                    ));
                }
                decoded
            }
        };
        match after {
            Some(after) if errors.is_empty() => Ok(Self {
                after,
                // In 1..=100 here.
                limit: usize::try_from(limit).unwrap_or(1),
            }),
            _ => Err(ApiError::invalid_query(errors)),
        }
    }
}

/// The cursor for "after `key`".
pub fn encode_cursor(key: u64) -> String {
    key.to_string()
}

fn decode_cursor(cursor: &str) -> Option<u64> {
    let digits_only = cursor.bytes().all(|b| b.is_ascii_digit());
    if cursor.is_empty() || cursor.len() > CURSOR_MAX_DIGITS || !digits_only {
        return None;
    }
    cursor.parse().ok()
}

/// One page cut from items already filtered and in key order, with the total count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
    pub total: u64,
}

/// Cuts the page `request` asks for from `matches` (every match, in key order, with its key).
pub fn paginate<T>(matches: impl IntoIterator<Item = (u64, T)>, request: PageRequest) -> Page<T> {
    let mut total = 0u64;
    let mut items = Vec::with_capacity(request.limit);
    let mut last_key = None;
    let mut more = false;
    for (key, item) in matches {
        total += 1;
        if key <= request.after {
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
            last_key.map(encode_cursor)
        } else {
            None
        },
        total,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let c = encode_cursor(42);
        assert_eq!(decode_cursor(&c), Some(42));
        assert_eq!(decode_cursor("0042"), Some(42));
        assert_eq!(
            decode_cursor("9999999999999999999"),
            Some(9_999_999_999_999_999_999)
        );
        for garbage in ["", "-1", "+1", " 1", "1e3", "4x", "18446744073709551615"] {
            assert_eq!(decode_cursor(garbage), None, "{garbage:?}");
        }
        assert!(PageRequest::parse(None, Some("nope")).is_err());
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
        let items: Vec<(u64, u64)> = [3, 5, 8, 13, 21].iter().map(|k| (*k, *k)).collect();
        let first = paginate(items.clone(), PageRequest { after: 0, limit: 2 });
        assert_eq!(first.items, vec![3, 5]);
        assert_eq!(first.total, 5);
        let after = decode_cursor(first.next_cursor.as_deref().expect("more")).expect("cursor");
        let second = paginate(items.clone(), PageRequest { after, limit: 2 });
        assert_eq!(second.items, vec![8, 13]);
        let after = decode_cursor(second.next_cursor.as_deref().expect("more")).expect("cursor");
        let third = paginate(items, PageRequest { after, limit: 2 });
        assert_eq!(third.items, vec![21]);
        assert_eq!(third.next_cursor, None);
    }
}
