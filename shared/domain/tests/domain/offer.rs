//! Rules of the offer aggregate.

use capmatch_domain::codes::{BeneficiaryType, DeliveryMode, Funding, Geo, ProviderType};
use capmatch_domain::error::DomainError;
use capmatch_domain::offer::{
    OfferCommand, OfferDraft, OfferEvent, OfferId, OfferPatch, OfferState, OfferStatus,
};

use crate::helpers::*;

fn post(draft: OfferDraft) -> OfferCommand {
    OfferCommand::Post {
        id: OfferId::new(),
        draft,
    }
}

fn post_errors(draft: OfferDraft) -> Vec<(String, &'static str)> {
    field_errors(offer_run(&[], post(draft), &provider("acme")))
}

fn pause() -> OfferCommand {
    OfferCommand::Pause { reason: None }
}

fn withdraw() -> OfferCommand {
    OfferCommand::Withdraw { reason: None }
}

fn capacity_patch(n: i64) -> OfferCommand {
    OfferCommand::Revise {
        patch: OfferPatch {
            capacity: Some(n),
            ..OfferPatch::default()
        },
    }
}

fn paused_offer() -> Vec<OfferEvent> {
    offer_then(open_offer(), pause(), &provider("acme"))
}

// --- posting -------------------------------------------------------------------------------

#[test]
fn a_provider_posts_an_offer_for_the_organisation_in_its_token() {
    let events = offer_run(&[], post(offer_draft()), &provider("acme")).unwrap();
    let [OfferEvent::Posted(posted)] = events.as_slice() else {
        panic!("{events:?}")
    };
    assert_eq!(posted.provider.org.as_str(), "acme");
    assert_eq!(posted.provider.org_type, ProviderType::Ngo);
    assert_eq!(posted.by, provider("acme"));
}

#[test]
fn an_offer_draft_defaults_to_all_beneficiaries_capacity_1_and_both_modes() {
    let offer = OfferState::replay(&open_offer()).unwrap();
    let d = &offer.details;
    assert_eq!(d.beneficiary_types, BeneficiaryType::ALL);
    assert_eq!(d.capacity, 1);
    assert_eq!(d.delivery_modes, DeliveryMode::ALL);
    assert_eq!(d.funding, Funding::SelfFunded);
    assert!(!d.conditions_attached);
    assert_eq!(offer.status, OfferStatus::Open);
}

#[test]
fn only_a_provider_may_post_an_offer() {
    for actor in [state("GM"), coordinator(), admin(), service()] {
        let result = offer_run(&[], post(offer_draft()), &actor);
        assert!(
            matches!(result, Err(DomainError::Forbidden(_))),
            "{actor:?}: {result:?}"
        );
    }
}

#[test]
fn an_offer_id_cannot_be_posted_twice() {
    let result = offer_run(&open_offer(), post(offer_draft()), &provider("acme"));
    assert_eq!(result, Err(DomainError::AlreadyExists));
}

#[test]
fn coverage_takes_countries_and_regions_and_the_world_covers_everyone() {
    let draft = OfferDraft {
        coverage: strings(&["FR", "011", "001"]),
        ..offer_draft()
    };
    let events = offer_run(&[], post(draft), &provider("acme")).unwrap();
    let offer = OfferState::replay(&events).unwrap();
    assert_eq!(
        offer.details.coverage,
        [
            Geo::Country("FR".parse().unwrap()),
            Geo::Region("011".parse().unwrap()),
            Geo::Region("001".parse().unwrap()),
        ]
    );
    assert!(offer.details.covers(&"AQ".parse().unwrap()));
}

#[test]
fn an_offer_covering_africa_covers_every_african_country() {
    let offer = OfferState::replay(&open_offer()).unwrap();
    assert!(offer.details.covers(&"GM".parse().unwrap()));
    assert!(offer.details.covers(&"EG".parse().unwrap()));
    assert!(!offer.details.covers(&"FR".parse().unwrap()));
}

#[test]
fn coverage_must_not_be_empty_and_must_hold_known_areas() {
    let draft = OfferDraft {
        coverage: strings(&[]),
        ..offer_draft()
    };
    assert_eq!(post_errors(draft), [("coverage".to_owned(), "empty")]);
    let draft = OfferDraft {
        coverage: strings(&["FR", "999", "ZZ", "Europe"]),
        ..offer_draft()
    };
    assert_eq!(
        post_errors(draft),
        [
            ("coverage[1]".to_owned(), "unknown_code"),
            ("coverage[2]".to_owned(), "unknown_code"),
            ("coverage[3]".to_owned(), "unknown_code"),
        ]
    );
    let draft = OfferDraft {
        coverage: None,
        ..offer_draft()
    };
    assert_eq!(post_errors(draft), [("coverage".to_owned(), "required")]);
}

#[test]
fn coverage_takes_every_country_and_region_there_is_but_no_repeat() {
    use capmatch_domain::codes::{CountryCode, RegionCode};
    use capmatch_domain::limits;
    let every: Vec<String> = CountryCode::all()
        .map(|c| c.as_str().to_owned())
        .chain(RegionCode::all().map(|r| r.as_str().to_owned()))
        .collect();
    assert_eq!(every.len(), limits::COVERAGE_MAX);
    let draft = |coverage: Vec<String>| OfferDraft {
        coverage: Some(coverage),
        ..offer_draft()
    };
    // A programme working in 27 named countries, and one listing every area there is.
    let countries: Vec<String> = every.iter().take(27).cloned().collect();
    let accepted = |coverage| offer_run(&[], post(draft(coverage)), &provider("acme")).is_ok();
    assert!(accepted(countries));
    assert!(accepted(every.clone()));
    let mut repeated = every.clone();
    repeated.push(every[0].clone());
    assert_eq!(
        post_errors(draft(repeated)),
        [("coverage".to_owned(), "too_many")]
    );
    let mut once_more = every[..30].to_vec();
    once_more.push(every[3].clone());
    assert_eq!(
        post_errors(draft(once_more)),
        [("coverage[30]".to_owned(), "duplicate")]
    );
}

#[test]
fn eligible_beneficiary_types_must_not_be_empty() {
    let draft = OfferDraft {
        beneficiary_types: strings(&[]),
        ..offer_draft()
    };
    assert_eq!(
        post_errors(draft),
        [("beneficiary_types".to_owned(), "empty")]
    );
}

#[test]
fn capacity_must_be_between_1_and_1000() {
    for (n, ok) in [
        (0, false),
        (1, true),
        (1000, true),
        (1001, false),
        (i64::MAX, false),
    ] {
        let draft = OfferDraft {
            capacity: Some(n),
            ..offer_draft()
        };
        assert_eq!(
            offer_run(&[], post(draft), &provider("acme")).is_ok(),
            ok,
            "{n}"
        );
    }
}

#[test]
fn funding_and_conditions_attached_must_be_stated() {
    let draft = OfferDraft {
        funding: None,
        conditions_attached: None,
        ..offer_draft()
    };
    assert_eq!(
        post_errors(draft),
        [
            ("funding".to_owned(), "required"),
            ("conditions_attached".to_owned(), "required")
        ]
    );
    let draft = OfferDraft {
        funding: Some("free".into()),
        ..offer_draft()
    };
    assert_eq!(post_errors(draft), [("funding".to_owned(), "unknown_code")]);
}

#[test]
fn condition_text_is_required_exactly_when_conditions_are_attached() {
    let draft = OfferDraft {
        conditions_attached: Some(true),
        ..offer_draft()
    };
    assert_eq!(
        post_errors(draft),
        [("conditions".to_owned(), "conditions_required")]
    );
    let draft = OfferDraft {
        conditions: Some("Buy our product".into()),
        ..offer_draft()
    };
    assert_eq!(
        post_errors(draft),
        [("conditions".to_owned(), "conditions_not_allowed")]
    );
    let draft = OfferDraft {
        conditions_attached: Some(true),
        conditions: Some("Participants commit to two years of service".into()),
        ..offer_draft()
    };
    assert!(offer_run(&[], post(draft), &provider("acme")).is_ok());
}

#[test]
fn condition_text_is_at_most_1000_characters() {
    let draft = OfferDraft {
        conditions_attached: Some(true),
        conditions: Some("c".repeat(1001)),
        ..offer_draft()
    };
    assert_eq!(post_errors(draft), [("conditions".to_owned(), "too_long")]);
}

#[test]
fn an_offer_topic_requires_its_theme() {
    let draft = OfferDraft {
        topics: strings(&["cybercrime.digital_forensics"]),
        ..offer_draft()
    };
    assert_eq!(
        post_errors(draft),
        [("topics[0]".to_owned(), "theme_not_selected")]
    );
}

#[test]
fn every_invalid_offer_field_is_reported_at_once() {
    let draft = OfferDraft {
        title: Some(String::new()),
        languages: strings(&["english"]),
        capacity: Some(0),
        start: Some("2026-12-01".into()),
        end: Some("2026-01-01".into()),
        ..offer_draft()
    };
    assert_eq!(
        post_errors(draft),
        [
            ("title".to_owned(), "required"),
            ("languages[0]".to_owned(), "unknown_code"),
            ("capacity".to_owned(), "out_of_range"),
            ("start".to_owned(), "start_after_end"),
        ]
    );
}

#[test]
fn unknown_offer_fields_are_rejected() {
    let body = serde_json::json!({ "title": "Mentoring", "provider": "someone-else" });
    assert!(serde_json::from_value::<OfferDraft>(body).is_err());
    let body = serde_json::json!({ "status": "open" });
    assert!(serde_json::from_value::<OfferPatch>(body).is_err());
}

// --- changing ------------------------------------------------------------------------------

#[test]
fn another_organisation_cannot_change_an_offer() {
    for command in [capacity_patch(2), pause(), withdraw()] {
        let result = offer_run(&open_offer(), command, &provider("other-org"));
        assert!(
            matches!(result, Err(DomainError::Forbidden(_))),
            "{result:?}"
        );
    }
    let result = offer_run(
        &paused_offer(),
        OfferCommand::Resume,
        &provider("other-org"),
    );
    assert!(
        matches!(result, Err(DomainError::Forbidden(_))),
        "{result:?}"
    );
}

#[test]
fn states_and_admins_cannot_change_an_offer() {
    for actor in [state("GM"), admin()] {
        let result = offer_run(&open_offer(), pause(), &actor);
        assert!(
            matches!(result, Err(DomainError::Forbidden(_))),
            "{result:?}"
        );
    }
}

#[test]
fn a_coordinator_may_pause_an_offer_on_the_providers_behalf() {
    let history = offer_then(
        open_offer(),
        OfferCommand::Pause {
            reason: Some("At capacity".into()),
        },
        &coordinator(),
    );
    let OfferEvent::Paused(paused) = &history[1] else {
        panic!("{history:?}")
    };
    assert!(paused.on_behalf);
    let offer = OfferState::replay(&history).unwrap();
    assert_eq!(offer.status, OfferStatus::Paused);
    assert_eq!(offer.status_reason.as_deref(), Some("At capacity"));
}

#[test]
fn pausing_a_paused_offer_is_an_invalid_transition() {
    let result = offer_run(&paused_offer(), pause(), &provider("acme"));
    assert_eq!(
        result,
        Err(DomainError::InvalidTransition {
            from: "paused",
            action: "pause"
        })
    );
}

#[test]
fn resuming_an_open_offer_is_an_invalid_transition() {
    let result = offer_run(&open_offer(), OfferCommand::Resume, &provider("acme"));
    assert_eq!(
        result,
        Err(DomainError::InvalidTransition {
            from: "open",
            action: "resume"
        })
    );
}

#[test]
fn a_paused_offer_is_resumed_and_reopens() {
    let history = offer_then(paused_offer(), OfferCommand::Resume, &provider("acme"));
    let offer = OfferState::replay(&history).unwrap();
    assert_eq!(offer.status, OfferStatus::Open);
    assert_eq!(offer.status_reason, None);
    assert_eq!(offer.version, 3);
}

#[test]
fn open_and_paused_offers_can_be_revised() {
    for history in [open_offer(), paused_offer()] {
        let history = offer_then(history, capacity_patch(7), &provider("acme"));
        let Some(OfferEvent::Revised(revised)) = history.last() else {
            panic!("{history:?}")
        };
        assert_eq!(revised.changed, ["capacity"]);
        assert_eq!(OfferState::replay(&history).unwrap().details.capacity, 7);
    }
}

#[test]
fn revised_capacity_must_stay_between_1_and_1000() {
    let errors = field_errors(offer_run(
        &open_offer(),
        capacity_patch(1001),
        &provider("acme"),
    ));
    assert_eq!(errors, [("capacity".to_owned(), "out_of_range")]);
}

#[test]
fn an_offer_revision_must_carry_at_least_one_field() {
    let command = OfferCommand::Revise {
        patch: OfferPatch::default(),
    };
    let errors = field_errors(offer_run(&open_offer(), command, &provider("acme")));
    assert_eq!(errors, [("body".to_owned(), "empty_patch")]);
}

#[test]
fn dropping_conditions_clears_their_text() {
    let draft = OfferDraft {
        conditions_attached: Some(true),
        conditions: Some("Participants commit to two years of service".into()),
        ..offer_draft()
    };
    let history = offer_run(&[], post(draft), &provider("acme")).unwrap();
    let patch = OfferPatch {
        conditions_attached: Some(false),
        ..OfferPatch::default()
    };
    let history = offer_then(history, OfferCommand::Revise { patch }, &provider("acme"));
    let offer = OfferState::replay(&history).unwrap();
    assert!(!offer.details.conditions_attached);
    assert_eq!(offer.details.conditions, None);
    let OfferEvent::Revised(revised) = &history[1] else {
        panic!("{history:?}")
    };
    assert_eq!(revised.changed, ["conditions_attached", "conditions"]);
}

#[test]
fn attaching_conditions_in_a_revision_requires_their_text() {
    let patch = OfferPatch {
        conditions_attached: Some(true),
        ..OfferPatch::default()
    };
    let errors = field_errors(offer_run(
        &open_offer(),
        OfferCommand::Revise { patch },
        &provider("acme"),
    ));
    assert_eq!(errors, [("conditions".to_owned(), "conditions_required")]);
}

#[test]
fn withdrawal_is_allowed_from_open_and_from_paused() {
    for history in [open_offer(), paused_offer()] {
        let command = OfferCommand::Withdraw {
            reason: Some("Programme ended".into()),
        };
        let history = offer_then(history, command, &provider("acme"));
        let offer = OfferState::replay(&history).unwrap();
        assert_eq!(offer.status, OfferStatus::Withdrawn);
        assert_eq!(offer.status_reason.as_deref(), Some("Programme ended"));
    }
}

#[test]
fn a_withdrawn_offer_is_terminal() {
    let history = offer_then(open_offer(), withdraw(), &provider("acme"));
    for (command, action) in [
        (capacity_patch(2), "revise"),
        (pause(), "pause"),
        (OfferCommand::Resume, "resume"),
        (withdraw(), "withdraw"),
    ] {
        assert_eq!(
            offer_run(&history, command, &provider("acme")),
            Err(DomainError::InvalidTransition {
                from: "withdrawn",
                action
            })
        );
    }
}

#[test]
fn an_offer_withdraw_reason_is_at_most_500_characters() {
    let command = OfferCommand::Withdraw {
        reason: Some("r".repeat(501)),
    };
    let errors = field_errors(offer_run(&open_offer(), command, &provider("acme")));
    assert_eq!(errors, [("reason".to_owned(), "too_long")]);
}

#[test]
fn commands_on_an_offer_that_does_not_exist_are_not_found() {
    for command in [capacity_patch(2), pause(), OfferCommand::Resume, withdraw()] {
        assert_eq!(
            offer_run(&[], command, &provider("acme")),
            Err(DomainError::NotFound)
        );
    }
}
