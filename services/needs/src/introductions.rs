//! Which provider organisations each need is shared with now: the only way a provider comes to
//! see a restricted need (see `capmatch_domain::visibility`).
//!
//! A need is shared with an organisation while one of their partnerships is introduced or
//! agreed ([`MatchStatus::shares_need`]); the matcher's decisions move each partnership along,
//! so every decision is folded here with the domain's own `evolve`, and a decline, a closing or
//! a completion ends the sharing as soon as this service reads it.
//!
//! Kept in memory and rebuilt from the matcher's feed (position 0) at every start, by a
//! [`capmatch_service::Follower`]. Without a configured matcher nothing is ever shared.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{PoisonError, RwLock, RwLockReadGuard};

use capmatch_domain::actor::OrgId;
use capmatch_domain::event::DomainEvent;
use capmatch_domain::ids::MatchId;
use capmatch_domain::need::NeedId;
use capmatch_domain::partnership::{self, MatchEvent, MatchState};
use capmatch_eventstore::StoredEvent;
use capmatch_service::{FeedConsumer, decode_event};

/// Every decided partnership, by need, with the feed checkpoint.
#[derive(Debug, Default)]
pub struct Introductions {
    by_need: RwLock<HashMap<NeedId, HashMap<MatchId, MatchState>>>,
    checkpoint: AtomicU64,
}

impl Introductions {
    /// Whether `need` is shared with `org` now.
    pub fn is_shared(&self, need: NeedId, org: &OrgId) -> bool {
        self.read().get(&need).is_some_and(|matches| {
            matches
                .values()
                .any(|m| m.pair.provider_org == *org && m.status.shares_need())
        })
    }

    fn read(&self) -> RwLockReadGuard<'_, HashMap<NeedId, HashMap<MatchId, MatchState>>> {
        self.by_need.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn apply_decision(&self, event: &MatchEvent) {
        let decided = event.decided();
        let mut by_need = self.by_need.write().unwrap_or_else(PoisonError::into_inner);
        let matches = by_need.entry(decided.pair.need_id).or_default();
        let previous = matches.remove(&decided.match_id);
        if let Some(state) = partnership::evolve(previous, event) {
            matches.insert(decided.match_id, state);
        }
    }
}

impl FeedConsumer for Introductions {
    fn checkpoint(&self) -> u64 {
        self.checkpoint.load(Ordering::Acquire)
    }

    fn apply(&self, event: StoredEvent) {
        if MatchEvent::TYPES.contains(&&*event.event_type) {
            match decode_event::<MatchEvent>(&event) {
                Ok(decision) => self.apply_decision(&decision),
                // The matcher's event, not ours: note it and go on rather than stop following.
                Err(err) => tracing::warn!(
                    position = event.position,
                    error = %err,
                    "unreadable match decision ignored"
                ),
            }
        }
        self.checkpoint.store(event.position, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use capmatch_domain::actor::{Actor, Role};
    use capmatch_domain::codes::ProviderType;
    use capmatch_domain::ids::OfferId;
    use capmatch_domain::partnership::{MatchCommand, Pair};
    use chrono::Utc;
    use uuid::Uuid;

    use super::*;

    /// Who takes a decision.
    #[derive(Clone, Copy)]
    enum By {
        State,
        Provider,
        Coordinator,
    }

    fn org(name: &str) -> OrgId {
        name.parse().expect("an org id")
    }

    /// Takes `steps` through the domain on `pair` and applies each decision as the feed would.
    fn decide(intros: &Introductions, pair: &Pair, steps: &[(MatchCommand, By)]) {
        let mut state: Option<MatchState> = None;
        for (command, by) in steps {
            let role = match by {
                By::State => Role::State {
                    country: pair.need_country,
                },
                By::Provider => Role::Provider {
                    org: pair.provider_org.clone(),
                    org_type: ProviderType::Ngo,
                },
                By::Coordinator => Role::Coordinator,
            };
            let actor = Actor::new("someone", role);
            let events =
                partnership::decide(state.as_ref(), pair, command.clone(), &actor, Utc::now())
                    .expect("an allowed decision");
            for event in events {
                state = partnership::evolve(state, &event);
                intros.apply_decision(&event);
            }
        }
    }

    #[test]
    fn a_need_is_shared_while_introduced_or_agreed_and_no_longer_after_it_ends() {
        let need = NeedId::from(Uuid::new_v4());
        let introduced = [
            (MatchCommand::Shortlist { note: None }, By::Coordinator),
            (MatchCommand::Introduce { note: None }, By::Coordinator),
        ];
        let agreed = [
            (MatchCommand::Accept, By::State),
            (MatchCommand::Accept, By::Provider),
        ];
        let declined = [(
            MatchCommand::Decline {
                reason: Some("no".into()),
            },
            By::Provider,
        )];
        let completed = [(
            MatchCommand::Complete {
                outcome: Some("done".into()),
            },
            By::Coordinator,
        )];
        let cases = [
            ("shortlisted", introduced[..1].to_vec(), false),
            ("introduced", introduced.to_vec(), true),
            ("agreed", [&introduced[..], &agreed[..]].concat(), true),
            ("declined", [&introduced[..], &declined[..]].concat(), false),
            (
                "completed",
                [&introduced[..], &agreed[..], &completed[..]].concat(),
                false,
            ),
        ];
        for (status, steps, shared) in cases {
            let intros = Introductions::default();
            let pair = Pair {
                need_id: need,
                offer_id: OfferId::from(Uuid::new_v4()),
                need_country: "SN".parse().expect("a country"),
                provider_org: org(status),
            };
            decide(&intros, &pair, &steps);
            assert_eq!(intros.is_shared(need, &org(status)), shared, "{status}");
            assert!(!intros.is_shared(need, &org("someone-else")), "{status}");
        }
    }
}
