//! Rules of the need aggregate.

use capmatch_domain::codes::{BeneficiaryType, DeliveryMode, Visibility};
use capmatch_domain::error::DomainError;
use capmatch_domain::need::{
    NeedCommand, NeedDraft, NeedEvent, NeedId, NeedPatch, NeedState, NeedStatus,
};

use crate::helpers::*;

fn post(draft: NeedDraft) -> NeedCommand {
    NeedCommand::Post {
        id: NeedId::new(),
        draft,
    }
}

fn revise(patch: NeedPatch) -> NeedCommand {
    NeedCommand::Revise { patch }
}

fn withdraw(reason: Option<&str>) -> NeedCommand {
    NeedCommand::Withdraw {
        reason: reason.map(str::to_owned),
    }
}

fn post_errors(draft: NeedDraft) -> Vec<(String, &'static str)> {
    field_errors(need_run(&[], post(draft), &state("GM")))
}

// --- posting -------------------------------------------------------------------------------

#[test]
fn a_state_posts_a_need_for_its_own_country() {
    let events = need_run(&[], post(need_draft()), &state("GM")).unwrap();
    let [NeedEvent::Posted(posted)] = events.as_slice() else {
        panic!("{events:?}")
    };
    assert_eq!(posted.country.as_str(), "GM");
    assert!(!posted.on_behalf);
    assert_eq!(posted.by, state("GM"));
    assert_eq!(posted.at, now());
}

#[test]
fn a_need_draft_defaults_to_registered_government_one_partner_and_both_modes() {
    let state = NeedState::replay(&open_need()).unwrap();
    let d = &state.details;
    assert_eq!(d.visibility, Visibility::Registered);
    assert_eq!(d.beneficiary_type, BeneficiaryType::Government);
    assert_eq!(d.partners_wanted, 1);
    assert_eq!(
        d.delivery_modes,
        [DeliveryMode::Remote, DeliveryMode::InPerson]
    );
    assert!(!d.languages_required);
    assert_eq!(d.budget_note, None);
    assert_eq!(state.status, NeedStatus::Open);
}

#[test]
fn a_state_may_name_its_own_country_in_the_draft() {
    let draft = NeedDraft {
        country: Some("gm".into()),
        ..need_draft()
    };
    assert!(need_run(&[], post(draft), &state("GM")).is_ok());
}

#[test]
fn a_state_cannot_post_a_need_for_another_country() {
    let draft = NeedDraft {
        country: Some("FR".into()),
        ..need_draft()
    };
    let result = need_run(&[], post(draft), &state("GM"));
    assert!(
        matches!(result, Err(DomainError::Forbidden(_))),
        "{result:?}"
    );
}

#[test]
fn a_coordinator_posts_on_a_states_behalf_and_that_is_recorded() {
    let draft = NeedDraft {
        country: Some("FJ".into()),
        ..need_draft()
    };
    let events = need_run(&[], post(draft), &coordinator()).unwrap();
    let [NeedEvent::Posted(posted)] = events.as_slice() else {
        panic!("{events:?}")
    };
    assert_eq!(posted.country.as_str(), "FJ");
    assert!(posted.on_behalf);
    assert_eq!(posted.by, coordinator());
    assert!(NeedState::replay(&events).unwrap().posted_on_behalf);
}

#[test]
fn a_coordinator_must_name_the_country() {
    let errors = field_errors(need_run(&[], post(need_draft()), &coordinator()));
    assert_eq!(errors, [("country".to_owned(), "required")]);
}

#[test]
fn providers_admins_and_services_cannot_post_needs() {
    for actor in [provider("acme"), admin(), service()] {
        let result = need_run(&[], post(need_draft()), &actor);
        assert!(
            matches!(result, Err(DomainError::Forbidden(_))),
            "{actor:?}: {result:?}"
        );
    }
}

#[test]
fn a_need_id_cannot_be_posted_twice() {
    let result = need_run(&open_need(), post(need_draft()), &state("GM"));
    assert_eq!(result, Err(DomainError::AlreadyExists));
}

#[test]
fn every_invalid_field_is_reported_at_once() {
    let draft = NeedDraft {
        title: Some("CSI".into()),
        description: None,
        themes: strings(&["incident_management_cip", "cyber"]),
        languages: strings(&[]),
        partners_wanted: Some(0),
        ..need_draft()
    };
    let errors = post_errors(draft);
    assert_eq!(
        errors,
        [
            ("title".to_owned(), "too_short"),
            ("description".to_owned(), "required"),
            ("themes[1]".to_owned(), "unknown_code"),
            ("languages".to_owned(), "empty"),
            ("partners_wanted".to_owned(), "out_of_range"),
        ]
    );
}

#[test]
fn title_must_be_5_to_200_characters() {
    for (title, ok) in [
        ("abcd", false),
        ("abcde", true),
        (&"é".repeat(200), true),
        (&"é".repeat(201), false),
    ] {
        let draft = NeedDraft {
            title: Some(title.to_owned()),
            ..need_draft()
        };
        assert_eq!(
            need_run(&[], post(draft), &state("GM")).is_ok(),
            ok,
            "{} chars",
            title.chars().count()
        );
    }
    let draft = NeedDraft {
        title: Some("   abcd   ".into()),
        ..need_draft()
    };
    assert!(
        has_error(&post_errors(draft), "title", "too_short"),
        "surrounding blanks do not count"
    );
}

#[test]
fn description_must_be_20_to_5000_characters() {
    for (len, ok) in [(19, false), (20, true), (5000, true), (5001, false)] {
        let draft = NeedDraft {
            description: Some("d".repeat(len)),
            ..need_draft()
        };
        assert_eq!(
            need_run(&[], post(draft), &state("GM")).is_ok(),
            ok,
            "{len}"
        );
    }
}

#[test]
fn themes_support_types_and_languages_must_not_be_empty() {
    let draft = NeedDraft {
        themes: strings(&[]),
        support_types: strings(&[]),
        languages: strings(&[]),
        ..need_draft()
    };
    let errors = post_errors(draft);
    for field in ["themes", "support_types", "languages"] {
        assert!(has_error(&errors, field, "empty"), "{field}: {errors:?}");
    }
}

#[test]
fn unknown_codes_are_reported_with_their_index() {
    let draft = NeedDraft {
        support_types: strings(&["training", "consulting"]),
        languages: strings(&["en", "xx"]),
        beneficiary_type: Some("citizens".into()),
        visibility: Some("secret".into()),
        delivery_modes: strings(&["carrier_pigeon"]),
        target_groups: strings(&["youth", "robots"]),
        ..need_draft()
    };
    let errors = post_errors(draft);
    for field in [
        "support_types[1]",
        "languages[1]",
        "beneficiary_type",
        "visibility",
        "delivery_modes[0]",
        "target_groups[1]",
    ] {
        assert!(
            has_error(&errors, field, "unknown_code"),
            "{field}: {errors:?}"
        );
    }
}

#[test]
fn sets_may_not_list_an_entry_twice() {
    let draft = NeedDraft {
        languages: strings(&["en", "fr", "EN"]),
        ..need_draft()
    };
    assert_eq!(
        post_errors(draft),
        [("languages[2]".to_owned(), "duplicate")]
    );
    let draft = NeedDraft {
        support_types: strings(&["training", "training"]),
        ..need_draft()
    };
    assert_eq!(
        post_errors(draft),
        [("support_types[1]".to_owned(), "duplicate")]
    );
}

#[test]
fn lists_hold_at_most_20_entries() {
    let codes: Vec<String> = capmatch_domain::codes::LanguageCode::all()
        .take(21)
        .map(|l| l.as_str().to_owned())
        .collect();
    let draft = NeedDraft {
        languages: Some(codes[..20].to_vec()),
        ..need_draft()
    };
    assert!(need_run(&[], post(draft), &state("GM")).is_ok());
    let draft = NeedDraft {
        languages: Some(codes),
        ..need_draft()
    };
    assert_eq!(post_errors(draft), [("languages".to_owned(), "too_many")]);
}

#[test]
fn a_topic_requires_its_theme_to_be_selected() {
    let draft = NeedDraft {
        topics: strings(&[
            "incident_management_cip.csirt_establishment",
            "cybercrime.legislation",
        ]),
        ..need_draft()
    };
    assert_eq!(
        post_errors(draft),
        [("topics[1]".to_owned(), "theme_not_selected")]
    );
}

#[test]
fn text_limits_count_as_the_document_states_them() {
    // The maximum counts the text as sent; the minimum counts it without surrounding ASCII
    // whitespace; other whitespace (a no-break space) is content.
    for (title, ok) in [
        (format!("  {}", "a".repeat(199)), false),
        (format!(" {} ", "a".repeat(198)), true),
        ("\u{a0}abc\u{a0}".to_owned(), true),
        ("\t\u{0B}abcd\u{0C}\r\n".to_owned(), false),
    ] {
        let draft = NeedDraft {
            title: Some(title.clone()),
            ..need_draft()
        };
        assert_eq!(
            need_run(&[], post(draft), &state("GM")).is_ok(),
            ok,
            "{title:?}"
        );
    }
}

#[test]
fn dates_are_exactly_year_month_day() {
    for date in [
        "2030-1-01",
        "2030-01-1",
        "+2030-01-01",
        "2030-01-01T00:00:00Z",
        " 2030-01-01",
    ] {
        let draft = NeedDraft {
            end: Some(date.to_owned()),
            ..need_draft()
        };
        assert_eq!(
            post_errors(draft),
            [("end".to_owned(), "invalid_date")],
            "{date}"
        );
    }
}

#[test]
fn whole_numbers_may_be_written_with_a_zero_fraction() {
    let parse = |n: &str| {
        serde_json::from_str::<NeedDraft>(&format!(r#"{{"partners_wanted": {n}}}"#))
            .map(|d| d.partners_wanted)
    };
    assert_eq!(parse("3").ok(), Some(Some(3)));
    assert_eq!(parse("3.0").ok(), Some(Some(3)));
    assert_eq!(parse("null").ok(), Some(None));
    assert_eq!(parse("1e3").ok(), Some(Some(1000)));
    assert_eq!(parse("99999999999999999999").ok(), Some(Some(i64::MAX)));
    assert!(parse("2.5").is_err());
    assert!(parse("\"3\"").is_err());
}

#[test]
fn partners_wanted_must_be_between_1_and_50() {
    for (n, ok) in [(0, false), (1, true), (50, true), (51, false), (-3, false)] {
        let draft = NeedDraft {
            partners_wanted: Some(n),
            ..need_draft()
        };
        assert_eq!(need_run(&[], post(draft), &state("GM")).is_ok(), ok, "{n}");
    }
}

#[test]
fn a_budget_note_is_at_most_500_characters() {
    let draft = NeedDraft {
        budget_note: Some("b".repeat(501)),
        ..need_draft()
    };
    assert_eq!(post_errors(draft), [("budget_note".to_owned(), "too_long")]);
    let draft = NeedDraft {
        budget_note: Some("   ".into()),
        ..need_draft()
    };
    let state = NeedState::replay(&need_posted_by(&state("GM"), draft)).unwrap();
    assert_eq!(state.details.budget_note, None, "a blank note is no note");
}

#[test]
fn start_must_not_be_after_end() {
    let draft = NeedDraft {
        start: Some("2026-03-01".into()),
        end: Some("2026-02-28".into()),
        ..need_draft()
    };
    assert_eq!(
        post_errors(draft),
        [("start".to_owned(), "start_after_end")]
    );
    let same_day = NeedDraft {
        start: Some("2026-03-01".into()),
        end: Some("2026-03-01".into()),
        ..need_draft()
    };
    assert!(need_run(&[], post(same_day), &state("GM")).is_ok());
}

#[test]
fn a_window_that_already_ended_is_rejected() {
    let draft = NeedDraft {
        end: Some("2025-05-31".into()),
        ..need_draft()
    };
    assert_eq!(post_errors(draft), [("end".to_owned(), "end_in_past")]);
}

#[test]
fn dates_must_be_calendar_dates() {
    let draft = NeedDraft {
        start: Some("2026-02-30".into()),
        end: Some("next year".into()),
        ..need_draft()
    };
    assert_eq!(
        post_errors(draft),
        [
            ("start".to_owned(), "invalid_date"),
            ("end".to_owned(), "invalid_date")
        ]
    );
}

#[test]
fn unknown_fields_are_rejected() {
    let body = serde_json::json!({
        "title": "Establish a national CSIRT",
        "status": "fulfilled"
    });
    let err = serde_json::from_value::<NeedDraft>(body).unwrap_err();
    assert!(err.to_string().contains("unknown field `status`"), "{err}");
    let patch = serde_json::json!({ "country": "FR" });
    assert!(
        serde_json::from_value::<NeedPatch>(patch).is_err(),
        "a need's country never changes"
    );
}

// --- revising ------------------------------------------------------------------------------

#[test]
fn a_state_revises_its_open_need_and_the_changed_fields_are_recorded() {
    let patch = NeedPatch {
        title: Some("Establish and train a national CSIRT".into()),
        partners_wanted: Some(3),
        visibility: Some("restricted".into()),
        ..NeedPatch::default()
    };
    let history = need_then(open_need(), revise(patch), &state("GM"));
    let NeedEvent::Revised(revised) = &history[1] else {
        panic!("{history:?}")
    };
    assert_eq!(revised.changed, ["title", "visibility", "partners_wanted"]);
    assert!(!revised.on_behalf);
    let need = NeedState::replay(&history).unwrap();
    assert_eq!(need.details.title, "Establish and train a national CSIRT");
    assert_eq!(need.details.partners_wanted, 3);
    assert_eq!(need.details.visibility, Visibility::Restricted);
    assert_eq!(need.version, 2);
}

#[test]
fn a_revision_must_carry_at_least_one_field() {
    let errors = field_errors(need_run(
        &open_need(),
        revise(NeedPatch::default()),
        &state("GM"),
    ));
    assert_eq!(errors, [("body".to_owned(), "empty_patch")]);
}

#[test]
fn a_revision_that_changes_nothing_records_nothing() {
    let patch = NeedPatch {
        title: Some("Establish a national CSIRT".into()),
        ..NeedPatch::default()
    };
    assert_eq!(
        need_run(&open_need(), revise(patch), &state("GM")),
        Ok(vec![])
    );
}

#[test]
fn null_clears_an_optional_field_in_a_revision() {
    let draft = NeedDraft {
        budget_note: Some("Travel co-funded".into()),
        end: Some("2026-01-01".into()),
        ..need_draft()
    };
    let history = need_posted_by(&state("GM"), draft);
    let patch: NeedPatch = serde_json::from_str(r#"{"budget_note": null, "end": null}"#).unwrap();
    assert_eq!(patch.budget_note, Some(None));
    let history = need_then(history, revise(patch), &state("GM"));
    let need = NeedState::replay(&history).unwrap();
    assert_eq!(need.details.budget_note, None);
    assert_eq!(need.details.window.end, None);
}

#[test]
fn a_revision_is_checked_against_the_resulting_need() {
    let draft = NeedDraft {
        end: Some("2026-01-01".into()),
        ..need_draft()
    };
    let history = need_posted_by(&state("GM"), draft);
    let patch = NeedPatch {
        topics: strings(&["cybercrime.legislation"]),
        start: Some(Some("2026-06-01".into())),
        ..NeedPatch::default()
    };
    let errors = field_errors(need_run(&history, revise(patch), &state("GM")));
    assert_eq!(
        errors,
        [
            ("topics[0]".to_owned(), "theme_not_selected"),
            ("start".to_owned(), "start_after_end")
        ]
    );
}

#[test]
fn a_revision_reports_every_invalid_field() {
    let patch = NeedPatch {
        title: Some("x".into()),
        themes: strings(&[]),
        partners_wanted: Some(51),
        ..NeedPatch::default()
    };
    let errors = field_errors(need_run(&open_need(), revise(patch), &state("GM")));
    assert_eq!(
        errors,
        [
            ("title".to_owned(), "too_short"),
            ("themes".to_owned(), "empty"),
            ("partners_wanted".to_owned(), "out_of_range"),
        ]
    );
}

#[test]
fn another_state_cannot_revise_withdraw_or_fulfil_a_need() {
    let patch = NeedPatch {
        partners_wanted: Some(2),
        ..NeedPatch::default()
    };
    for command in [revise(patch), withdraw(None), NeedCommand::Fulfil] {
        let result = need_run(&open_need(), command, &state("FR"));
        assert!(
            matches!(result, Err(DomainError::Forbidden(_))),
            "{result:?}"
        );
    }
}

#[test]
fn a_provider_cannot_change_a_need() {
    let result = need_run(&open_need(), NeedCommand::Fulfil, &provider("acme"));
    assert!(
        matches!(result, Err(DomainError::Forbidden(_))),
        "{result:?}"
    );
}

#[test]
fn a_coordinator_revises_on_the_states_behalf() {
    let patch = NeedPatch {
        partners_wanted: Some(2),
        ..NeedPatch::default()
    };
    let history = need_then(open_need(), revise(patch), &coordinator());
    let NeedEvent::Revised(revised) = &history[1] else {
        panic!("{history:?}")
    };
    assert!(revised.on_behalf);
    assert_eq!(revised.by, coordinator());
}

#[test]
fn a_withdrawn_need_cannot_be_revised() {
    let history = need_then(open_need(), withdraw(None), &state("GM"));
    let patch = NeedPatch {
        partners_wanted: Some(2),
        ..NeedPatch::default()
    };
    let result = need_run(&history, revise(patch), &state("GM"));
    assert_eq!(
        result,
        Err(DomainError::InvalidTransition {
            from: "withdrawn",
            action: "revise"
        })
    );
}

#[test]
fn a_fulfilled_need_cannot_be_revised() {
    let history = need_then(open_need(), NeedCommand::Fulfil, &state("GM"));
    let patch = NeedPatch {
        partners_wanted: Some(2),
        ..NeedPatch::default()
    };
    let result = need_run(&history, revise(patch), &state("GM"));
    assert_eq!(
        result,
        Err(DomainError::InvalidTransition {
            from: "fulfilled",
            action: "revise"
        })
    );
}

// --- fulfilling and withdrawing ------------------------------------------------------------

#[test]
fn an_open_need_is_fulfilled() {
    let history = need_then(open_need(), NeedCommand::Fulfil, &state("GM"));
    assert!(matches!(history[1], NeedEvent::Fulfilled(_)));
    assert_eq!(
        NeedState::replay(&history).unwrap().status,
        NeedStatus::Fulfilled
    );
}

#[test]
fn only_an_open_need_can_be_fulfilled() {
    let fulfilled = need_then(open_need(), NeedCommand::Fulfil, &state("GM"));
    assert_eq!(
        need_run(&fulfilled, NeedCommand::Fulfil, &state("GM")),
        Err(DomainError::InvalidTransition {
            from: "fulfilled",
            action: "fulfil"
        })
    );
    let withdrawn = need_then(open_need(), withdraw(None), &state("GM"));
    assert_eq!(
        need_run(&withdrawn, NeedCommand::Fulfil, &state("GM")),
        Err(DomainError::InvalidTransition {
            from: "withdrawn",
            action: "fulfil"
        })
    );
}

#[test]
fn a_withdrawn_or_fulfilled_need_cannot_be_withdrawn() {
    for end in [NeedCommand::Fulfil, withdraw(None)] {
        let history = need_then(open_need(), end, &state("GM"));
        let result = need_run(&history, withdraw(Some("again")), &state("GM"));
        assert!(matches!(
            result,
            Err(DomainError::InvalidTransition {
                action: "withdraw",
                ..
            })
        ));
    }
}

#[test]
fn a_withdrawal_keeps_its_reason() {
    let history = need_then(
        open_need(),
        withdraw(Some("  Covered by a regional programme ")),
        &coordinator(),
    );
    let NeedEvent::Withdrawn(withdrawn) = &history[1] else {
        panic!("{history:?}")
    };
    assert_eq!(
        withdrawn.reason.as_deref(),
        Some("Covered by a regional programme")
    );
    assert!(withdrawn.on_behalf);
    let need = NeedState::replay(&history).unwrap();
    assert_eq!(need.status, NeedStatus::Withdrawn);
    assert_eq!(
        need.withdraw_reason.as_deref(),
        Some("Covered by a regional programme")
    );
}

#[test]
fn a_withdraw_reason_is_at_most_500_characters() {
    let long = "r".repeat(501);
    let errors = field_errors(need_run(&open_need(), withdraw(Some(&long)), &state("GM")));
    assert_eq!(errors, [("reason".to_owned(), "too_long")]);
    assert!(need_run(&open_need(), withdraw(Some(&long[..500])), &state("GM")).is_ok());
}

#[test]
fn commands_on_a_need_that_does_not_exist_are_not_found() {
    let patch = NeedPatch {
        partners_wanted: Some(2),
        ..NeedPatch::default()
    };
    for command in [revise(patch), withdraw(None), NeedCommand::Fulfil] {
        assert_eq!(
            need_run(&[], command, &state("GM")),
            Err(DomainError::NotFound)
        );
    }
}

#[test]
fn replaying_a_history_counts_its_events_and_tracks_the_last_change() {
    let patch = NeedPatch {
        partners_wanted: Some(2),
        ..NeedPatch::default()
    };
    let history = need_then(open_need(), revise(patch), &state("GM"));
    let history = need_then(history, NeedCommand::Fulfil, &coordinator());
    let need = NeedState::replay(&history).unwrap();
    assert_eq!(need.version, 3);
    assert_eq!(need.posted_at, now());
    assert_eq!(need.updated_at, now());
    assert_eq!(need.id, history[0].need_id());
}

#[test]
fn domain_errors_have_stable_codes() {
    let result = need_run(&[], post(need_draft()), &provider("acme"));
    assert_eq!(result.unwrap_err().code(), "forbidden");
    let result = need_run(&[], NeedCommand::Fulfil, &state("GM"));
    assert_eq!(result.unwrap_err().code(), "not_found");
}
