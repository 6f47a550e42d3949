//! Everything capmatch parses from a request line or header, on arbitrary text: none of it may
//! panic, and what parses keeps its promises (a cursor round-trips and keeps its order, a code
//! prints back as parsed, a key is printable ASCII).
#![no_main]

use capmatch_domain::codes::{CountryCode, LanguageCode, RegionCode, SupportType};
use capmatch_domain::ids::MatchId;
use capmatch_domain::taxonomy::{ThemeCode, TopicCode};
use capmatch_http::conditional::parse_version_tag;
use capmatch_service::filters;
use capmatch_service::pagination::{CURSOR_LEN, ListKey, PageRequest};
use capmatch_service::IdempotencyKey;
use libfuzzer_sys::fuzz_target;

/// The input is text of up to three lines: two values to parse and a page size.
fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.splitn(3, '\n');
    let (a, b) = (lines.next().unwrap_or(""), lines.next().unwrap_or(""));
    let limit = lines.next().and_then(|l| l.trim().parse::<i64>().ok()).unwrap_or(20);

    // Cursors: a parsed one is exactly the documented shape and round-trips; two keep their
    // order through their cursors.
    if let Some(key) = ListKey::from_cursor(a) {
        assert_eq!(a.len(), CURSOR_LEN);
        assert_eq!(key.cursor(), a);
        if let Some(other) = ListKey::from_cursor(b) {
            let back = |k: ListKey| ListKey::from_cursor(&k.cursor());
            assert_eq!(back(key).cmp(&back(other)), key.cmp(&other));
        }
    }
    match PageRequest::parse(Some(limit), Some(a)) {
        Ok(page) => assert!((1..=100).contains(&page.limit)),
        Err(_) => {}
    }

    // Filters and codes: whatever parses prints back as a code that parses to itself.
    let mut errors = Vec::new();
    let _ = filters::text(Some(a), &mut errors);
    if let Some(c) = filters::code::<CountryCode>("country", Some(a), &mut errors) {
        assert_eq!(c.as_str().parse::<CountryCode>().ok(), Some(c));
    }
    if let Some(r) = filters::code::<RegionCode>("region", Some(a), &mut errors) {
        assert_eq!(r.as_str().parse::<RegionCode>().ok(), Some(r));
    }
    let _ = filters::code::<LanguageCode>("language", Some(a), &mut errors);
    let _ = filters::code::<SupportType>("support_type", Some(a), &mut errors);
    if let Ok(t) = a.parse::<ThemeCode>() {
        assert_eq!(t.as_str().parse::<ThemeCode>().ok(), Some(t));
    }
    let _ = a.parse::<TopicCode>();

    // Header values and path ids.
    if let Ok(key) = IdempotencyKey::parse(a) {
        assert!((1..=200).contains(&key.as_str().len()));
        assert!(key.as_str().bytes().all(|c| (0x20..=0x7e).contains(&c)));
    }
    let _ = parse_version_tag(a);
    if let Ok(id) = a.parse::<MatchId>() {
        assert_eq!(id.to_string().parse::<MatchId>().ok(), Some(id));
    }
});
