//! Who may see a need, and a match: one place, so every endpoint, list, count and feed asks the
//! same question the same way.
//!
//! A need has one of three visibility tiers:
//!
//! - `public`: anyone, without a token;
//! - `registered`: any authenticated caller;
//! - `restricted`: the owning state and coordinators; a provider organisation only **while a
//!   partnership between it and the need is introduced or agreed**
//!   ([`crate::partnership::MatchStatus::shares_need`]). A decline, a dismissal, a closing or a
//!   completion ends the sharing: from then on the need is, for that provider, exactly as if it
//!   had never existed (404 everywhere, absent from every list and count), and so is every
//!   revision the state makes afterwards.
//!
//! What a completed partnership keeps: the partnership's own record. Both parties still read
//! the match (`GET /v1/matches/{id}`: its status, decisions and outcome), but the provider no
//! longer reads the restricted need itself, nor its title through the match. A declined or
//! closed match of a restricted need is gone for the provider altogether.
//!
//! Admins are not included: operating the platform is no reason to read confidential national
//! plans. Services read needs through the internal feeds, not through these checks.

use crate::actor::{Actor, OrgId, Role};
use crate::codes::Visibility;
use crate::need::NeedState;
use crate::partnership::{MatchState, MatchStatus};

/// Whether `actor` (`None`: anonymous) may see `need`. `shared_with` are the provider
/// organisations the need is shared with now: those with a partnership on it that
/// [shares the need](MatchStatus::shares_need).
///
/// A need this returns false for must look absent to the caller (404, not 403).
pub fn need_visible_to<'a>(
    need: &NeedState,
    actor: Option<&Actor>,
    shared_with: impl IntoIterator<Item = &'a OrgId>,
) -> bool {
    match need.details.visibility {
        Visibility::Public => true,
        Visibility::Registered => actor.is_some(),
        Visibility::Restricted => match actor.map(|a| &a.role) {
            Some(Role::State { country }) => *country == need.country,
            Some(Role::Coordinator) => true,
            Some(Role::Provider { org, .. }) => shared_with.into_iter().any(|o| o == org),
            Some(Role::Admin | Role::Service) | None => false,
        },
    }
}

/// Whether `actor` may see the match of `need` with an offer of `provider_org`; `decided` is the
/// match as its decisions left it (`None` while it is only suggested).
///
/// - coordinators: every match;
/// - the need's state: every match of its needs;
/// - the offer's provider: once a coordinator has introduced the parties; for a restricted
///   need, only while the partnership shares the need or after it was completed (its own
///   record, see the module documentation);
/// - anyone else: none.
///
/// A match this returns false for must look absent to the caller, for reads and decisions
/// alike (404, whatever the request's `If-Match` or `Idempotency-Key`).
pub fn match_visible_to(
    need: &NeedState,
    provider_org: &OrgId,
    decided: Option<&MatchState>,
    actor: &Actor,
) -> bool {
    match &actor.role {
        Role::Coordinator => true,
        Role::State { country } => *country == need.country,
        Role::Provider { org, .. } if org == provider_org => {
            let Some(decided) = decided.filter(|m| m.introduced_at.is_some()) else {
                return false;
            };
            match need.details.visibility {
                Visibility::Public | Visibility::Registered => true,
                Visibility::Restricted => {
                    decided.status.shares_need() || decided.status == MatchStatus::Completed
                }
            }
        }
        Role::Provider { .. } | Role::Admin | Role::Service => false,
    }
}
