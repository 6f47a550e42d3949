//! Per-caller rate limiting: a token bucket per caller, where a caller is its token's subject, or
//! its client address when anonymous. Over the limit, a 429 problem with `Retry-After`.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

use actix_web::dev::ServiceRequest;
use capmatch_auth::Caller;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::config::RateLimitConfig;

/// Who is being limited.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CallerKey {
    Subject(String),
    Address(IpAddr),
    Unknown,
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

    /// `Err` with the wait when `caller` (making `req`) is over its quota.
    pub fn check(&self, req: &ServiceRequest, caller: &Caller) -> Result<(), std::time::Duration> {
        let Some(limiter) = &self.inner else {
            return Ok(());
        };
        limiter
            .check_key(&caller_key(req, caller))
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

/// Whose bucket `req` is charged to: its token's subject, else its client address.
fn caller_key(req: &ServiceRequest, caller: &Caller) -> CallerKey {
    match caller.actor() {
        Some(actor) => CallerKey::Subject(actor.subject.clone()),
        None => req
            .peer_addr()
            .map_or(CallerKey::Unknown, |a| CallerKey::Address(a.ip())),
    }
}
