//! Tokens a [`crate::Verifier`] has accepted, remembered until they expire.
//!
//! A caller sends the same token with every request, and checking it again (signature, pinned
//! algorithm, issuer, audience, required claims, validity window) gives the same answer until
//! its `exp`: the keys are fixed when the verifier is built, and a token that was valid stays
//! valid until it expires. So the verifier checks a token once and afterwards looks it up by its
//! full text; a token differing in any byte (another signature, say) is a different entry and
//! is checked in full. Only accepted tokens are remembered, with the actor they bind, and only
//! until `exp` itself: the leeway past it is decided by a full check again. Refusals are never
//! remembered, so a stream of bad tokens costs the same as before and fills nothing.

use std::collections::HashMap;
use std::sync::{PoisonError, RwLock};

use capmatch_domain::actor::Actor;

/// Most tokens remembered; beyond, the expired ones go, then all of them.
pub(crate) const CAPACITY: usize = 4096;

#[derive(Debug, Default)]
pub(crate) struct Remembered {
    entries: RwLock<HashMap<Box<str>, Entry>>,
}

#[derive(Debug)]
struct Entry {
    actor: Actor,
    /// `exp`, in seconds since the Unix epoch.
    expires: u64,
}

impl Remembered {
    /// The actor `token` binds, if it was accepted before and `now` is before its `exp`.
    pub(crate) fn get(&self, token: &str, now: u64) -> Option<Actor> {
        let entries = self.entries.read().unwrap_or_else(PoisonError::into_inner);
        let entry = entries.get(token)?;
        (now < entry.expires).then(|| entry.actor.clone())
    }

    /// Remembers that `token` was accepted as `actor` and expires at `expires`. Call only with a
    /// token the verifier has just accepted.
    pub(crate) fn remember(&self, token: &str, actor: &Actor, expires: u64, now: u64) {
        if now >= expires {
            return;
        }
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= CAPACITY && !entries.contains_key(token) {
            entries.retain(|_, e| now < e.expires);
            if entries.len() >= CAPACITY {
                entries.clear();
            }
        }
        entries.insert(
            token.into(),
            Entry {
                actor: actor.clone(),
                expires,
            },
        );
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

#[cfg(test)]
mod tests {
    use capmatch_domain::actor::Role;

    use super::*;

    fn actor(subject: &str) -> Actor {
        Actor {
            subject: subject.to_owned(),
            role: Role::Coordinator,
        }
    }

    #[test]
    fn an_accepted_token_is_known_until_its_exp() {
        let r = Remembered::default();
        assert_eq!(r.get("t", 1000), None);
        r.remember("t", &actor("alice"), 2000, 1000);
        assert_eq!(r.get("t", 1999), Some(actor("alice")));
        assert_eq!(r.get("t", 2000), None);
    }

    #[test]
    fn only_the_same_text_is_known() {
        let r = Remembered::default();
        r.remember("header.claims.sig", &actor("alice"), 2000, 1000);
        assert_eq!(r.get("header.claims.sih", 1000), None);
        assert_eq!(r.get("HEADER.CLAIMS.SIG", 1000), None);
        assert_eq!(r.get("header.claims.sig ", 1000), None);
    }

    #[test]
    fn a_token_already_expired_is_not_remembered() {
        let r = Remembered::default();
        r.remember("t", &actor("alice"), 1000, 1000);
        assert_eq!(r.len(), 0);
    }

    #[test]
    fn a_full_cache_forgets_rather_than_grows() {
        let r = Remembered::default();
        r.remember("old", &actor("alice"), 1001, 1000);
        for n in 0..CAPACITY {
            r.remember(&format!("t{n}"), &actor("alice"), 5000, 1000);
        }
        assert!(r.len() <= CAPACITY);
        // Once `old` has expired, making room drops it before anything still valid.
        r.remember("late", &actor("bob"), 5000, 2000);
        assert_eq!(r.get("late", 2000), Some(actor("bob")));
        assert_eq!(r.get("old", 2000), None);
        assert!(r.len() <= CAPACITY);
    }
}
