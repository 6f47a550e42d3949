//! The review workflow of a match, rule by rule.

use capmatch_domain::actor::Actor;
use capmatch_domain::error::DomainError;
use capmatch_domain::event::DomainEvent;
use capmatch_domain::ids::{MatchId, NeedId, OfferId};
use capmatch_domain::partnership::{
    CloseReason, MatchCommand, MatchEvent, MatchState, MatchStatus, Pair, Side, decide,
};

use crate::helpers::{coordinator, now, provider, service, state};

fn pair() -> Pair {
    Pair {
        need_id: NeedId::from(uuid::Uuid::from_u128(1)),
        offer_id: OfferId::from(uuid::Uuid::from_u128(2)),
        need_country: "SN".parse().unwrap(),
        provider_org: "cyberaid".parse().unwrap(),
    }
}

fn run(
    history: &[MatchEvent],
    cmd: MatchCommand,
    actor: &Actor,
) -> Result<Vec<MatchEvent>, DomainError> {
    let s = MatchState::replay(history);
    decide(s.as_ref(), &pair(), cmd, actor, now())
}

fn then(mut history: Vec<MatchEvent>, cmd: MatchCommand, actor: &Actor) -> Vec<MatchEvent> {
    history.extend(run(&history, cmd, actor).unwrap());
    history
}

fn status(history: &[MatchEvent]) -> MatchStatus {
    MatchState::replay(history).map_or(MatchStatus::Suggested, |s| s.status)
}

fn shortlisted() -> Vec<MatchEvent> {
    then(
        Vec::new(),
        MatchCommand::Shortlist { note: None },
        &coordinator(),
    )
}

fn introduced() -> Vec<MatchEvent> {
    then(
        shortlisted(),
        MatchCommand::Introduce {
            note: Some("meet in Dakar".into()),
        },
        &coordinator(),
    )
}

fn agreed() -> Vec<MatchEvent> {
    let h = then(introduced(), MatchCommand::Accept, &state("SN"));
    then(h, MatchCommand::Accept, &provider("cyberaid"))
}

fn reason(text: &str) -> Option<String> {
    Some(text.into())
}

#[test]
fn a_match_id_is_its_pair_and_nothing_else() {
    let p = pair();
    assert_eq!(p.match_id(), MatchId::for_pair(p.need_id, p.offer_id));
    assert_ne!(
        p.match_id(),
        MatchId::for_pair(
            NeedId::from(uuid::Uuid::from_u128(2)),
            OfferId::from(uuid::Uuid::from_u128(1))
        )
    );
}

#[test]
fn a_match_id_reads_back_from_its_text_and_nothing_else_parses() {
    let id = pair().match_id();
    let text = id.to_string();
    assert_eq!(text, format!("{}~{}", pair().need_id, pair().offer_id));
    assert_eq!(text.parse::<MatchId>().unwrap(), id);
    assert_eq!(serde_json::to_value(id).unwrap(), serde_json::json!(text));
    assert_eq!(
        serde_json::from_value::<MatchId>(serde_json::json!(text)).unwrap(),
        id
    );
    for bad in [
        "",
        "~",
        "abc~def",
        "00000000-0000-0000-0000-000000000001",
        &format!("{text}~x"),
    ] {
        assert!(bad.parse::<MatchId>().is_err(), "{bad}");
    }
}

#[test]
fn a_coordinator_shortlists_a_suggestion_and_its_first_event_carries_the_pair() {
    let h = shortlisted();
    assert_eq!(status(&h), MatchStatus::Shortlisted);
    assert_eq!(h[0].decided().pair, pair());
    assert_eq!(h[0].event_type(), "match.shortlisted");
}

#[test]
fn only_a_coordinator_reviews_suggestions() {
    for actor in [state("SN"), provider("cyberaid"), service()] {
        assert!(matches!(
            run(&[], MatchCommand::Shortlist { note: None }, &actor),
            Err(DomainError::Forbidden(_))
        ));
        assert!(matches!(
            run(
                &[],
                MatchCommand::Dismiss {
                    reason: reason("no")
                },
                &actor
            ),
            Err(DomainError::Forbidden(_))
        ));
        assert!(matches!(
            run(
                &shortlisted(),
                MatchCommand::Introduce { note: None },
                &actor
            ),
            Err(DomainError::Forbidden(_))
        ));
        assert!(matches!(
            run(
                &agreed(),
                MatchCommand::Complete {
                    outcome: reason("done")
                },
                &actor
            ),
            Err(DomainError::Forbidden(_))
        ));
    }
}

#[test]
fn dismissing_needs_a_reason_and_works_from_suggested_or_shortlisted() {
    let errors = crate::helpers::field_errors(run(
        &[],
        MatchCommand::Dismiss {
            reason: Some("  ".into()),
        },
        &coordinator(),
    ));
    assert!(crate::helpers::has_error(&errors, "reason", "required"));
    assert_eq!(
        status(&then(
            Vec::new(),
            MatchCommand::Dismiss {
                reason: reason("duplicate")
            },
            &coordinator()
        )),
        MatchStatus::Dismissed
    );
    let h = then(
        shortlisted(),
        MatchCommand::Dismiss {
            reason: reason("out of scope"),
        },
        &coordinator(),
    );
    let s = MatchState::replay(&h).unwrap();
    assert_eq!(
        (s.status, s.reason.as_deref()),
        (MatchStatus::Dismissed, Some("out of scope"))
    );
}

#[test]
fn introducing_requires_a_shortlisted_match() {
    assert!(matches!(
        run(&[], MatchCommand::Introduce { note: None }, &coordinator()),
        Err(DomainError::InvalidTransition {
            from: "suggested",
            ..
        })
    ));
    let h = introduced();
    let s = MatchState::replay(&h).unwrap();
    assert_eq!(s.status, MatchStatus::Introduced);
    assert_eq!(s.introduced_at, Some(now()));
    assert_eq!(s.waiting_for(), vec![Side::Need, Side::Offer]);
}

#[test]
fn the_partnership_is_agreed_only_when_both_parties_accept() {
    let h = then(introduced(), MatchCommand::Accept, &provider("cyberaid"));
    let s = MatchState::replay(&h).unwrap();
    assert_eq!(
        (s.status, s.offer_accepted, s.need_accepted),
        (MatchStatus::Introduced, true, false)
    );
    assert_eq!(s.waiting_for(), vec![Side::Need]);
    let events = run(&h, MatchCommand::Accept, &state("SN")).unwrap();
    assert_eq!(
        events.iter().map(|e| e.event_type()).collect::<Vec<_>>(),
        ["match.accepted", "match.agreed"]
    );
    assert_eq!(status(&agreed()), MatchStatus::Agreed);
}

#[test]
fn only_the_owning_state_and_the_owning_provider_accept_or_decline() {
    for actor in [state("GH"), provider("other-org"), coordinator(), service()] {
        assert!(
            matches!(
                run(&introduced(), MatchCommand::Accept, &actor),
                Err(DomainError::Forbidden(_))
            ),
            "{actor:?}"
        );
        assert!(matches!(
            run(
                &introduced(),
                MatchCommand::Decline {
                    reason: reason("no")
                },
                &actor
            ),
            Err(DomainError::Forbidden(_))
        ));
    }
}

#[test]
fn a_party_cannot_accept_twice_or_before_the_introduction() {
    let h = then(introduced(), MatchCommand::Accept, &state("SN"));
    assert!(matches!(
        run(&h, MatchCommand::Accept, &state("SN")),
        Err(DomainError::InvalidTransition { .. })
    ));
    assert!(matches!(
        run(&shortlisted(), MatchCommand::Accept, &state("SN")),
        Err(DomainError::InvalidTransition {
            from: "shortlisted",
            ..
        })
    ));
}

#[test]
fn either_party_may_decline_with_a_reason_even_after_agreeing() {
    let errors = crate::helpers::field_errors(run(
        &introduced(),
        MatchCommand::Decline { reason: None },
        &state("SN"),
    ));
    assert!(crate::helpers::has_error(&errors, "reason", "required"));
    let h = then(
        agreed(),
        MatchCommand::Decline {
            reason: reason("funding fell through"),
        },
        &provider("cyberaid"),
    );
    let s = MatchState::replay(&h).unwrap();
    assert_eq!(
        (s.status, s.declined_by),
        (MatchStatus::Declined, Some(Side::Offer))
    );
}

#[test]
fn completing_records_the_outcome_of_an_agreed_partnership() {
    assert!(matches!(
        run(
            &introduced(),
            MatchCommand::Complete {
                outcome: reason("x")
            },
            &coordinator()
        ),
        Err(DomainError::InvalidTransition {
            from: "introduced",
            ..
        })
    ));
    let errors = crate::helpers::field_errors(run(
        &agreed(),
        MatchCommand::Complete { outcome: None },
        &coordinator(),
    ));
    assert!(crate::helpers::has_error(&errors, "outcome", "required"));
    let h = then(
        agreed(),
        MatchCommand::Complete {
            outcome: reason("CSIRT operational, 12 analysts trained"),
        },
        &coordinator(),
    );
    let s = MatchState::replay(&h).unwrap();
    assert_eq!(
        (s.status, s.outcome.as_deref()),
        (
            MatchStatus::Completed,
            Some("CSIRT operational, 12 analysts trained")
        )
    );
}

#[test]
fn a_withdrawal_closes_open_matches_and_leaves_ended_ones_alone() {
    for h in [shortlisted(), introduced(), agreed()] {
        let events = run(
            &h,
            MatchCommand::Close {
                reason: CloseReason::NeedWithdrawn,
            },
            &service(),
        )
        .unwrap();
        assert_eq!(events.len(), 1);
        let s = MatchState::replay(h.iter().chain(&events)).unwrap();
        assert_eq!(
            (s.status, s.close_reason),
            (MatchStatus::Closed, Some(CloseReason::NeedWithdrawn))
        );
    }
    assert!(
        run(
            &[],
            MatchCommand::Close {
                reason: CloseReason::OfferWithdrawn
            },
            &service()
        )
        .unwrap()
        .is_empty()
    );
    let dismissed = then(
        Vec::new(),
        MatchCommand::Dismiss {
            reason: reason("no"),
        },
        &coordinator(),
    );
    assert!(
        run(
            &dismissed,
            MatchCommand::Close {
                reason: CloseReason::OfferWithdrawn
            },
            &service()
        )
        .unwrap()
        .is_empty()
    );
    assert!(matches!(
        run(
            &agreed(),
            MatchCommand::Close {
                reason: CloseReason::NeedFulfilled
            },
            &state("SN")
        ),
        Err(DomainError::Forbidden(_))
    ));
}

#[test]
fn ended_matches_take_no_further_decisions() {
    let dismissed = then(
        Vec::new(),
        MatchCommand::Dismiss {
            reason: reason("no"),
        },
        &coordinator(),
    );
    let declined = then(
        introduced(),
        MatchCommand::Decline {
            reason: reason("no"),
        },
        &state("SN"),
    );
    for h in [dismissed, declined] {
        assert!(matches!(
            run(&h, MatchCommand::Shortlist { note: None }, &coordinator()),
            Err(DomainError::InvalidTransition { .. })
        ));
        assert!(matches!(
            run(&h, MatchCommand::Introduce { note: None }, &coordinator()),
            Err(DomainError::InvalidTransition { .. })
        ));
    }
}

#[test]
fn an_introduced_match_goes_stale_after_the_threshold() {
    let s = MatchState::replay(&introduced()).unwrap();
    let week = chrono::Duration::days(7);
    assert!(!s.is_stale(now() + chrono::Duration::days(6), week));
    assert!(s.is_stale(now() + chrono::Duration::days(8), week));
    assert!(
        !MatchState::replay(&agreed())
            .unwrap()
            .is_stale(now() + chrono::Duration::days(30), week)
    );
}

#[test]
fn match_events_round_trip_through_their_stored_form() {
    for e in agreed() {
        let back =
            MatchEvent::from_stored(e.event_type(), e.schema_version(), e.to_payload()).unwrap();
        assert_eq!(back, e);
    }
    let introduced = &introduced()[1];
    let payload = introduced.to_payload();
    assert_eq!(payload["need_id"], serde_json::json!(pair().need_id));
    assert_eq!(payload["provider_org"], "cyberaid");
    assert!(MatchEvent::from_stored("match.exploded", 1, payload).is_err());
}

#[test]
fn a_note_or_reason_longer_than_the_limit_is_refused() {
    let long = "x".repeat(capmatch_domain::partnership::TEXT_MAX + 1);
    let errors = crate::helpers::field_errors(run(
        &[],
        MatchCommand::Dismiss { reason: Some(long) },
        &coordinator(),
    ));
    assert!(crate::helpers::has_error(&errors, "reason", "too_long"));
}
