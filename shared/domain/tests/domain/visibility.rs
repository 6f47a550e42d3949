//! Who sees a need, and who sees a match (`capmatch_domain::visibility`).

use capmatch_domain::actor::OrgId;
use capmatch_domain::need::{NeedDraft, NeedState};
use capmatch_domain::visibility::need_visible_to;

use crate::helpers::*;

fn need(visibility: &str) -> NeedState {
    let draft = NeedDraft {
        visibility: Some(visibility.into()),
        ..need_draft()
    };
    NeedState::replay(&need_posted_by(&state("GM"), draft)).unwrap()
}

fn none() -> Vec<OrgId> {
    vec![]
}

#[test]
fn a_public_need_is_visible_to_anyone_even_without_a_token() {
    let need = need("public");
    assert!(need_visible_to(&need, None, &none()));
    assert!(need_visible_to(&need, Some(&provider("acme")), &none()));
}

#[test]
fn a_registered_need_is_visible_to_any_authenticated_caller_only() {
    let need = need("registered");
    assert!(!need_visible_to(&need, None, &none()));
    for actor in [provider("acme"), state("FR"), admin(), coordinator()] {
        assert!(need_visible_to(&need, Some(&actor), &none()), "{actor:?}");
    }
}

#[test]
fn a_restricted_need_is_visible_to_its_state_and_coordinators() {
    let need = need("restricted");
    assert!(need_visible_to(&need, Some(&state("GM")), &none()));
    assert!(need_visible_to(&need, Some(&coordinator()), &none()));
}

#[test]
fn a_restricted_need_does_not_exist_for_anyone_else() {
    let need = need("restricted");
    assert!(!need_visible_to(&need, None, &none()));
    for actor in [state("FR"), provider("acme"), admin(), service()] {
        assert!(!need_visible_to(&need, Some(&actor), &none()), "{actor:?}");
    }
}

#[test]
fn a_provider_sees_a_restricted_need_once_introduced_to_it() {
    let need = need("restricted");
    let introduced: Vec<OrgId> = vec!["other-org".parse().unwrap(), "acme".parse().unwrap()];
    assert!(need_visible_to(&need, Some(&provider("acme")), &introduced));
    assert!(!need_visible_to(
        &need,
        Some(&provider("third-org")),
        &introduced
    ));
}

mod matches {
    use capmatch_domain::actor::Actor;
    use capmatch_domain::ids::OfferId;
    use capmatch_domain::need::NeedState;
    use capmatch_domain::partnership::{self, MatchCommand, MatchState, Pair};
    use capmatch_domain::visibility::match_visible_to;

    use super::need;
    use crate::helpers::*;

    fn pair(need: &NeedState) -> Pair {
        Pair {
            need_id: need.id,
            offer_id: OfferId::from(uuid::Uuid::from_u128(7)),
            need_country: need.country,
            provider_org: "acme".parse().unwrap(),
        }
    }

    /// The match of `need` and acme's offer after `steps`, each by its actor.
    fn after(need: &NeedState, steps: &[(MatchCommand, Actor)]) -> Option<MatchState> {
        let pair = pair(need);
        let mut state = None;
        for (command, actor) in steps {
            for event in
                partnership::decide(state.as_ref(), &pair, command.clone(), actor, now()).unwrap()
            {
                state = partnership::evolve(state, &event);
            }
        }
        state
    }

    fn introduced() -> Vec<(MatchCommand, Actor)> {
        vec![
            (MatchCommand::Shortlist { note: None }, coordinator()),
            (MatchCommand::Introduce { note: None }, coordinator()),
        ]
    }

    fn then(
        mut steps: Vec<(MatchCommand, Actor)>,
        more: &[(MatchCommand, Actor)],
    ) -> Vec<(MatchCommand, Actor)> {
        steps.extend_from_slice(more);
        steps
    }

    fn declined() -> Vec<(MatchCommand, Actor)> {
        let reason = Some("no".into());
        then(
            introduced(),
            &[(MatchCommand::Decline { reason }, provider("acme"))],
        )
    }

    fn agreed() -> Vec<(MatchCommand, Actor)> {
        then(
            introduced(),
            &[
                (MatchCommand::Accept, state("GM")),
                (MatchCommand::Accept, provider("acme")),
            ],
        )
    }

    #[test]
    fn a_provider_sees_a_match_of_a_restricted_need_only_while_it_shares_the_need_or_once_completed()
     {
        let need = need("restricted");
        let acme = provider("acme");
        let declined = declined();
        let completed = then(
            agreed(),
            &[(
                MatchCommand::Complete {
                    outcome: Some("done".into()),
                },
                coordinator(),
            )],
        );
        let dismissed = vec![(
            MatchCommand::Dismiss {
                reason: Some("no".into()),
            },
            coordinator(),
        )];
        let closed = then(
            introduced(),
            &[(
                MatchCommand::Close {
                    reason: partnership::CloseReason::NeedWithdrawn,
                },
                coordinator(),
            )],
        );
        let cases = [
            ("suggested", vec![], false),
            ("shortlisted", introduced()[..1].to_vec(), false),
            ("introduced", introduced(), true),
            ("agreed", agreed(), true),
            ("declined", declined, false),
            ("dismissed", dismissed, false),
            ("closed", closed, false),
            ("completed", completed, true),
        ];
        for (status, steps, visible) in cases {
            let m = after(&need, &steps);
            assert_eq!(
                match_visible_to(&need, &"acme".parse().unwrap(), m.as_ref(), &acme),
                visible,
                "{status}"
            );
            // Its owner and coordinators always see it; other providers and states never.
            assert!(match_visible_to(
                &need,
                &"acme".parse().unwrap(),
                m.as_ref(),
                &state("GM")
            ));
            assert!(match_visible_to(
                &need,
                &"acme".parse().unwrap(),
                m.as_ref(),
                &coordinator()
            ));
            for outsider in [provider("other"), state("FR"), admin(), service()] {
                assert!(
                    !match_visible_to(&need, &"acme".parse().unwrap(), m.as_ref(), &outsider),
                    "{status} {outsider:?}"
                );
            }
        }
    }

    #[test]
    fn a_provider_keeps_the_match_of_a_public_need_once_introduced_whatever_follows() {
        let need = need("public");
        let acme = provider("acme");
        let declined = declined();
        assert!(!match_visible_to(
            &need,
            &"acme".parse().unwrap(),
            None,
            &acme
        ));
        for steps in [introduced(), agreed(), declined] {
            let m = after(&need, &steps);
            assert!(match_visible_to(
                &need,
                &"acme".parse().unwrap(),
                m.as_ref(),
                &acme
            ));
        }
    }
}
