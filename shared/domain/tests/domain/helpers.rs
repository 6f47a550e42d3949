//! Actors, valid drafts and a fixed clock shared by the scenarios.

use capmatch_domain::actor::{Actor, Role};
use capmatch_domain::codes::ProviderType;
use capmatch_domain::error::DomainError;
use capmatch_domain::need::{self, NeedCommand, NeedDraft, NeedEvent, NeedId, NeedState};
use capmatch_domain::offer::{self, OfferCommand, OfferDraft, OfferEvent, OfferId, OfferState};
use chrono::{DateTime, TimeZone, Utc};

/// The clock every scenario runs at: 2025-06-01 12:00 UTC.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 1, 12, 0, 0).unwrap()
}

pub fn state(country: &str) -> Actor {
    Actor::new(
        format!("focal-point-{country}"),
        Role::State {
            country: country.parse().unwrap(),
        },
    )
}

pub fn coordinator() -> Actor {
    Actor::new("coordinator-1", Role::Coordinator)
}

pub fn admin() -> Actor {
    Actor::new("admin-1", Role::Admin)
}

pub fn service() -> Actor {
    Actor::new("matcher", Role::Service)
}

pub fn provider(org: &str) -> Actor {
    Actor::new(
        format!("user@{org}"),
        Role::Provider {
            org: org.parse().unwrap(),
            org_type: ProviderType::Ngo,
        },
    )
}

pub fn strings(items: &[&str]) -> Option<Vec<String>> {
    Some(items.iter().map(|s| (*s).to_owned()).collect())
}

/// A need draft with every required field valid and nothing optional.
pub fn need_draft() -> NeedDraft {
    NeedDraft {
        title: Some("Establish a national CSIRT".into()),
        description: Some("Help designing the mandate, services and staffing of a CSIRT.".into()),
        themes: strings(&["incident_management_cip"]),
        support_types: strings(&["technical_assistance"]),
        languages: strings(&["en"]),
        ..NeedDraft::default()
    }
}

/// An offer draft with every required field valid and nothing optional.
pub fn offer_draft() -> OfferDraft {
    OfferDraft {
        title: Some("CSIRT set-up mentoring".into()),
        description: Some("Experienced responders mentor a new national CSIRT.".into()),
        themes: strings(&["incident_management_cip"]),
        support_types: strings(&["mentoring_exchange"]),
        languages: strings(&["en"]),
        coverage: strings(&["002"]),
        funding: Some("self_funded".into()),
        conditions_attached: Some(false),
        ..OfferDraft::default()
    }
}

/// Runs `decide` then `evolve` for a need, the way a service does.
pub fn need_run(
    given: &[NeedEvent],
    command: NeedCommand,
    actor: &Actor,
) -> Result<Vec<NeedEvent>, DomainError> {
    let state = NeedState::replay(given);
    need::decide(state.as_ref(), command, actor, now())
}

pub fn need_posted_by(actor: &Actor, draft: NeedDraft) -> Vec<NeedEvent> {
    need_run(
        &[],
        NeedCommand::Post {
            id: NeedId::new(),
            draft,
        },
        actor,
    )
    .unwrap()
}

/// History of an open GM need posted by the Gambian focal point.
pub fn open_need() -> Vec<NeedEvent> {
    need_posted_by(&state("GM"), need_draft())
}

/// Appends the events of a successful command to the history.
pub fn need_then(
    mut history: Vec<NeedEvent>,
    command: NeedCommand,
    actor: &Actor,
) -> Vec<NeedEvent> {
    let events = need_run(&history, command, actor).unwrap();
    history.extend(events);
    history
}

pub fn offer_run(
    given: &[OfferEvent],
    command: OfferCommand,
    actor: &Actor,
) -> Result<Vec<OfferEvent>, DomainError> {
    let state = OfferState::replay(given);
    offer::decide(state.as_ref(), command, actor, now())
}

/// History of an open offer posted by the `acme` provider.
pub fn open_offer() -> Vec<OfferEvent> {
    offer_run(
        &[],
        OfferCommand::Post {
            id: OfferId::new(),
            draft: offer_draft(),
        },
        &provider("acme"),
    )
    .unwrap()
}

pub fn offer_then(
    mut history: Vec<OfferEvent>,
    command: OfferCommand,
    actor: &Actor,
) -> Vec<OfferEvent> {
    let events = offer_run(&history, command, actor).unwrap();
    history.extend(events);
    history
}

/// The field errors of a validation failure as `(field, code)` pairs, failing on any other
/// outcome.
pub fn field_errors<T: std::fmt::Debug>(
    result: Result<T, DomainError>,
) -> Vec<(String, &'static str)> {
    match result {
        Err(DomainError::Validation(errors)) => {
            errors.into_iter().map(|e| (e.field, e.code)).collect()
        }
        other => panic!("expected a validation error, got {other:?}"),
    }
}

pub fn has_error(errors: &[(String, &'static str)], field: &str, code: &str) -> bool {
    errors.iter().any(|(f, c)| f == field && *c == code)
}
