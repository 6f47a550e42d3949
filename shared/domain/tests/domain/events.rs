//! Events are stored as (type, version, JSON payload) and read back unchanged.

use capmatch_domain::event::{DomainEvent, EventDecodeError};
use capmatch_domain::need::{NeedCommand, NeedEvent, NeedPatch};
use capmatch_domain::offer::{OfferCommand, OfferEvent, OfferPatch};

use crate::helpers::*;

/// One history holding every need event type.
fn every_need_event() -> Vec<NeedEvent> {
    let patch = NeedPatch {
        partners_wanted: Some(2),
        ..NeedPatch::default()
    };
    let history = need_then(open_need(), NeedCommand::Revise { patch }, &state("GM"));
    let mut history = need_then(history, NeedCommand::Fulfil, &state("GM"));
    let withdrawn = need_then(
        open_need(),
        NeedCommand::Withdraw {
            reason: Some("Done".into()),
        },
        &coordinator(),
    );
    history.extend(withdrawn.into_iter().skip(1));
    history
}

/// One history holding every offer event type.
fn every_offer_event() -> Vec<OfferEvent> {
    let acme = provider("acme");
    let patch = OfferPatch {
        capacity: Some(4),
        ..OfferPatch::default()
    };
    let history = offer_then(open_offer(), OfferCommand::Revise { patch }, &acme);
    let history = offer_then(history, OfferCommand::Pause { reason: None }, &acme);
    let history = offer_then(history, OfferCommand::Resume, &coordinator());
    offer_then(
        history,
        OfferCommand::Withdraw {
            reason: Some("Budget cut".into()),
        },
        &acme,
    )
}

fn round_trip<E: DomainEvent + PartialEq + std::fmt::Debug>(event: &E) -> E {
    // Through text, as the store keeps it.
    let text = serde_json::to_string(&event.to_payload()).unwrap();
    let payload = serde_json::from_str(&text).unwrap();
    E::from_stored(event.event_type(), event.schema_version(), payload).unwrap()
}

#[test]
fn every_need_event_reads_back_equal_from_type_version_and_payload() {
    let events = every_need_event();
    let types: Vec<_> = events.iter().map(|e| e.event_type()).collect();
    assert_eq!(
        types,
        [
            "need.posted",
            "need.revised",
            "need.fulfilled",
            "need.withdrawn"
        ]
    );
    for event in &events {
        assert_eq!(event.schema_version(), 1);
        assert_eq!(&round_trip(event), event);
    }
}

#[test]
fn every_offer_event_reads_back_equal_from_type_version_and_payload() {
    let events = every_offer_event();
    let types: Vec<_> = events.iter().map(|e| e.event_type()).collect();
    assert_eq!(
        types,
        [
            "offer.posted",
            "offer.revised",
            "offer.paused",
            "offer.resumed",
            "offer.withdrawn"
        ]
    );
    for event in &events {
        assert_eq!(event.schema_version(), 1);
        assert_eq!(&round_trip(event), event);
    }
}

#[test]
fn the_type_lists_name_every_event_type() {
    assert_eq!(
        NeedEvent::TYPES,
        [
            "need.posted",
            "need.revised",
            "need.fulfilled",
            "need.withdrawn"
        ]
    );
    assert_eq!(
        OfferEvent::TYPES,
        [
            "offer.posted",
            "offer.revised",
            "offer.paused",
            "offer.resumed",
            "offer.withdrawn"
        ]
    );
}

#[test]
fn a_payload_is_plain_json_with_codes_as_strings() {
    let events = open_need();
    let payload = events[0].to_payload();
    assert_eq!(payload["country"], "GM");
    assert_eq!(payload["details"]["themes"][0], "incident_management_cip");
    assert_eq!(payload["details"]["visibility"], "registered");
    assert_eq!(payload["by"]["role"], "state");
    assert_eq!(payload["by"]["country"], "GM");
    assert_eq!(payload["on_behalf"], false);
    assert_eq!(payload["at"], "2025-06-01T12:00:00Z");
}

#[test]
fn an_unknown_event_type_is_refused() {
    let err = NeedEvent::from_stored("need.deleted", 1, serde_json::json!({})).unwrap_err();
    assert_eq!(err, EventDecodeError::UnknownType("need.deleted".into()));
    let err = OfferEvent::from_stored("need.posted", 1, serde_json::json!({})).unwrap_err();
    assert_eq!(err, EventDecodeError::UnknownType("need.posted".into()));
}

#[test]
fn an_unknown_schema_version_is_refused() {
    let event = &open_need()[0];
    let err = NeedEvent::from_stored("need.posted", 2, event.to_payload()).unwrap_err();
    assert_eq!(
        err,
        EventDecodeError::UnsupportedVersion {
            event_type: "need.posted".into(),
            version: 2
        }
    );
}

#[test]
fn a_payload_with_an_invalid_code_is_refused() {
    let mut payload = open_need()[0].to_payload();
    payload["country"] = "ZZ".into();
    let err = NeedEvent::from_stored("need.posted", 1, payload).unwrap_err();
    assert!(matches!(err, EventDecodeError::Payload { .. }), "{err:?}");
}

#[test]
fn read_models_survive_a_json_round_trip() {
    use capmatch_domain::need::NeedState;
    use capmatch_domain::offer::OfferState;
    let need = NeedState::replay(&every_need_event()[..2]).unwrap();
    let json = serde_json::to_value(&need).unwrap();
    assert_eq!(
        json["partners_wanted"], 2,
        "details are flattened into the need"
    );
    assert_eq!(serde_json::from_value::<NeedState>(json).unwrap(), need);
    let offer = OfferState::replay(&every_offer_event()).unwrap();
    let json = serde_json::to_value(&offer).unwrap();
    assert_eq!(serde_json::from_value::<OfferState>(json).unwrap(), offer);
}
