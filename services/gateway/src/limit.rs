//! Per-caller rate limiting: a token bucket per caller ([`CallerKey`]), with `governor`. Over the
//! limit, a 429 problem with `Retry-After`.
//!
//! Which bucket pays is the edge's to say ([`crate::edge`]): a request whose caller is not yet
//! established (no token, or a token not checked before, whose signature must be verified)
//! costs its client address; an authenticated request costs its token's subject. So a flood of
//! forged tokens drains its sender's bucket and then gets 429 before any signature is checked.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::config::RateLimitConfig;

/// Who is being limited.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CallerKey {
    /// An authenticated caller: its token's subject.
    Subject(String),
    /// Whoever sends from this address (the client's, behind trusted proxies).
    Address(IpAddr),
    /// A connection without a peer address (only in tests).
    Unknown,
}

impl CallerKey {
    pub fn address(addr: Option<IpAddr>) -> Self {
        addr.map_or(CallerKey::Unknown, CallerKey::Address)
    }
}

/// The shared limiter; cheap to clone.
#[derive(Clone)]
pub struct Limiter {
    inner: Option<Arc<DefaultKeyedRateLimiter<CallerKey>>>,
}

impl std::fmt::Debug for Limiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limiter")
            .field("enabled", &self.inner.is_some())
            .finish()
    }
}

impl Limiter {
    pub fn new(config: &RateLimitConfig) -> Self {
        let per_second = NonZeroU32::new(config.per_second).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(config.burst).unwrap_or(per_second);
        let inner = config.enabled.then(|| {
            Arc::new(RateLimiter::keyed(
                Quota::per_second(per_second).allow_burst(burst),
            ))
        });
        Limiter { inner }
    }

    pub fn is_enabled(&self) -> bool {
        self.inner.is_some()
    }

    /// Charges one request to `key`: `Err` with the wait when its bucket is empty.
    pub fn charge(&self, key: &CallerKey) -> Result<(), Duration> {
        let Some(limiter) = &self.inner else {
            return Ok(());
        };
        limiter
            .check_key(key)
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }

    /// Forgets callers whose buckets are full again, so the key map does not grow without end.
    pub fn forget_idle(&self) {
        if let Some(limiter) = &self.inner {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}
