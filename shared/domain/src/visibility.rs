//! Who may see a need (DESIGN §7). One function, so every endpoint, feed and statistic asks
//! the same question the same way.

use crate::actor::{Actor, OrgId, Role};
use crate::codes::Visibility;
use crate::need::NeedState;

/// Whether `actor` (`None`: anonymous) may see `need`.
///
/// - `public`: anyone.
/// - `registered`: any authenticated caller.
/// - `restricted`: the owning state and coordinators, plus a provider whose organisation is in
///   `introduced_orgs` (those a coordinator has introduced to this need). Admins are not
///   included: operating the platform is no reason to read confidential national plans.
///   Services read needs through the internal feeds, not through this check.
///
/// A need this returns false for must look absent to the caller (404, not 403).
pub fn need_visible_to<'a>(
    need: &NeedState,
    actor: Option<&Actor>,
    introduced_orgs: impl IntoIterator<Item = &'a OrgId>,
) -> bool {
    match need.details.visibility {
        Visibility::Public => true,
        Visibility::Registered => actor.is_some(),
        Visibility::Restricted => match actor.map(|a| &a.role) {
            Some(Role::State { country }) => *country == need.country,
            Some(Role::Coordinator) => true,
            Some(Role::Provider { org, .. }) => introduced_orgs.into_iter().any(|o| o == org),
            Some(Role::Admin | Role::Service) | None => false,
        },
    }
}
