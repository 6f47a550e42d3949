//! DESIGN §7: who sees a need.

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
