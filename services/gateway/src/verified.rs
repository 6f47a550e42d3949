//! Bearer tokens the edge has verified, remembered by each worker until they expire.
//!
//! A caller sends the same token with every request, and verifying it again (signature, pinned
//! algorithm, issuer, audience, required claims, validity window) gives the same answer until it
//! expires. So the edge guard asks the verifier once per token and worker, and afterwards only
//! looks the token up. Only tokens that verified are remembered, with their subject and `exp`;
//! past `exp` the verifier decides again (its leeway included). The services behind the gateway
//! verify every token themselves.

use std::cell::RefCell;
use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use actix_web::http::header::HeaderValue;
use capmatch_auth::jsonwebtoken::dangerous::insecure_decode_claims;
use serde::Deserialize;

/// Most tokens one worker remembers; beyond, the expired ones go, or all of them.
const CAPACITY: usize = 4096;

/// One worker's verified tokens, by the `Authorization` header value that carried them.
#[derive(Debug, Default)]
pub struct VerifiedTokens {
    entries: RefCell<HashMap<HeaderValue, Verified>>,
}

#[derive(Debug)]
struct Verified {
    subject: String,
    /// `exp`, in seconds since the Unix epoch.
    expires: u64,
}

/// The one claim read back from a token the verifier has accepted.
#[derive(Deserialize)]
struct Expiry {
    exp: u64,
}

impl VerifiedTokens {
    /// The subject of the token in `authorization`, if it verified before and has not expired
    /// at `now` (seconds since the Unix epoch).
    pub fn subject(&self, authorization: &HeaderValue, now: u64) -> Option<String> {
        let entries = self.entries.borrow();
        let verified = entries.get(authorization)?;
        (now < verified.expires).then(|| verified.subject.clone())
    }

    /// Remembers that the bearer token in `authorization` verified as `subject`. Call only with
    /// a header the verifier has just accepted: its `exp` is read without checking anything.
    pub fn remember(&self, authorization: &HeaderValue, subject: &str, now: u64) {
        let Some(expires) = bearer_token(authorization)
            .and_then(|token| insecure_decode_claims::<Expiry>(token).ok())
            .map(|claims| claims.exp)
        else {
            return;
        };
        let mut entries = self.entries.borrow_mut();
        if entries.len() >= CAPACITY {
            entries.retain(|_, v| now < v.expires);
            if entries.len() >= CAPACITY {
                entries.clear();
            }
        }
        entries.insert(
            authorization.clone(),
            Verified {
                subject: subject.to_owned(),
                expires,
            },
        );
    }
}

/// Seconds since the Unix epoch, as token times are written.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The token of a `Bearer <token>` header value.
fn bearer_token(value: &HeaderValue) -> Option<&str> {
    let (_, token) = value.to_str().ok()?.split_once(' ')?;
    Some(token.trim_start_matches(' '))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `Bearer` and an (unsigned) token whose claims are `{"sub":"alice","exp":2000}`: only a
    /// verified token reaches `remember`, and it reads nothing but `exp`.
    const ALICE: &str = "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSIsImV4cCI6MjAwMH0.c2ln";

    fn header(value: &str) -> HeaderValue {
        HeaderValue::from_str(value).expect("a header value")
    }

    #[test]
    fn a_verified_token_is_known_until_it_expires() {
        let tokens = VerifiedTokens::default();
        let alice = header(ALICE);
        assert_eq!(tokens.subject(&alice, 1000), None);
        tokens.remember(&alice, "alice", 1000);
        assert_eq!(tokens.subject(&alice, 1999).as_deref(), Some("alice"));
        assert_eq!(tokens.subject(&alice, 2000), None);
    }

    #[test]
    fn only_the_same_header_value_is_known() {
        let tokens = VerifiedTokens::default();
        tokens.remember(&header(ALICE), "alice", 1000);
        let other = ALICE.replace("c2ln", "c2lo");
        assert_eq!(tokens.subject(&header(&other), 1000), None);
        assert_eq!(tokens.subject(&header(&ALICE.to_lowercase()), 1000), None);
    }

    #[test]
    fn a_token_without_a_readable_expiry_is_not_remembered() {
        let tokens = VerifiedTokens::default();
        let opaque = header("Bearer not-a-jwt");
        tokens.remember(&opaque, "alice", 1000);
        assert_eq!(tokens.subject(&opaque, 1000), None);
    }

    #[test]
    fn a_full_worker_forgets_rather_than_grows() {
        let tokens = VerifiedTokens::default();
        let alice = header(ALICE);
        tokens.remember(&alice, "alice", 1000);
        for n in 0..CAPACITY {
            // Another signature each time: each is a separate entry.
            tokens.remember(&header(&format!("{ALICE}{n}")), "alice", 1000);
        }
        assert!(tokens.entries.borrow().len() <= CAPACITY);
    }
}
