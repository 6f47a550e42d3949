//! Need and offer bodies as JSON, through the domain as a request would take them: a draft
//! posted, a patch applied to the need or offer it made. Nothing may panic; a body the domain
//! accepts makes an entity that folds back from its events.
#![no_main]

use capmatch_domain::actor::{Actor, Role};
use capmatch_domain::need::{self, NeedCommand, NeedDraft, NeedId, NeedPatch, NeedState};
use capmatch_domain::offer::{self, OfferCommand, OfferDraft, OfferId, OfferPatch, OfferState};
use libfuzzer_sys::fuzz_target;

/// The input is `N` (a need) or `O` (an offer), then a draft, a blank line, and a patch.
fuzz_target!(|data: &[u8]| {
    let Some((&kind, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let (draft, patch) = text.split_once("\n\n").unwrap_or((&text, "{}"));
    let is_need = kind == b'N';
    let now = chrono::Utc::now();
    if is_need {
        let actor = Actor::new("fuzz", Role::State { country: "SN".parse().expect("SN") });
        let Ok(draft) = serde_json::from_str::<NeedDraft>(draft) else {
            return;
        };
        let id = NeedId::from(uuid::Uuid::from_u128(1));
        let Ok(events) = need::decide(None, NeedCommand::Post { id, draft }, &actor, now) else {
            return;
        };
        let state = NeedState::replay(&events).expect("a posted need");
        if let Ok(patch) = serde_json::from_str::<NeedPatch>(patch) {
            if let Ok(events) = need::decide(Some(&state), NeedCommand::Revise { patch }, &actor, now) {
                let revised = events.iter().fold(Some(state), need::evolve);
                assert!(revised.is_some());
            }
        }
    } else {
        let actor = Actor::new(
            "fuzz",
            Role::Provider { org: "fuzz-org".parse().expect("org"), org_type: "ngo".parse().expect("ngo") },
        );
        let Ok(draft) = serde_json::from_str::<OfferDraft>(draft) else {
            return;
        };
        let id = OfferId::from(uuid::Uuid::from_u128(2));
        let Ok(events) = offer::decide(None, OfferCommand::Post { id, draft }, &actor, now) else {
            return;
        };
        let state = OfferState::replay(&events).expect("a posted offer");
        if let Ok(patch) = serde_json::from_str::<OfferPatch>(patch) {
            if let Ok(events) = offer::decide(Some(&state), OfferCommand::Revise { patch }, &actor, now) {
                let revised = events.iter().fold(Some(state), offer::evolve);
                assert!(revised.is_some());
            }
        }
    }
});
