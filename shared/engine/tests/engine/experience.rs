//! What the review workflow teaches: a provider's completed partnerships for similar needs
//! nearby raise its offer, coordinators' shortlists raise it and their dismissals lower it, for
//! similar needs only, and each says so.

use capmatch_domain::codes::CountryCode;
use capmatch_domain::ids::{NeedId, OfferId};
use capmatch_domain::need::NeedState;
use capmatch_domain::offer::OfferState;
use capmatch_domain::taxonomy::TopicCode;
use capmatch_engine::{Engine, Outcome, Suggestion};

use crate::helpers::{code, drafting_offer, engine, senegal_need};

/// Two offers alike but for their ids, a need, and other needs for their experience.
struct World {
    engine: Engine,
    need: NeedState,
    first: OfferState,
    second: OfferState,
}

fn twin_offers() -> World {
    let mut engine = engine();
    let need = senegal_need();
    let first = drafting_offer();
    let mut second = drafting_offer();
    second.id = OfferId::new();
    engine.upsert_need(need.clone());
    engine.upsert_offer(first.clone());
    engine.upsert_offer(second.clone());
    World {
        engine,
        need,
        first,
        second,
    }
}

/// Another need like Senegal's, of `country`, on `topic`.
fn other_need(engine: &mut Engine, country: &str, topic: &str) -> NeedId {
    let mut need = senegal_need();
    need.id = NeedId::new();
    need.country = code::<CountryCode>(country);
    let topic = code::<TopicCode>(topic);
    need.details.themes = vec![topic.theme()];
    need.details.topics = vec![topic];
    engine.upsert_need(need.clone());
    need.id
}

fn for_need(w: &World) -> Vec<Suggestion> {
    w.engine.suggestions_for_need(w.need.id, 10).unwrap()
}

fn of(list: &[Suggestion], offer: OfferId) -> Suggestion {
    list.iter().find(|s| s.offer == offer).cloned().unwrap()
}

fn texts(s: &Suggestion) -> Vec<String> {
    s.reasons.iter().map(|r| r.text.clone()).collect()
}

#[test]
fn a_provider_that_completed_a_similar_partnership_nearby_ranks_first_and_says_so() {
    let mut w = twin_offers();
    let before = for_need(&w);
    assert_eq!(
        of(&before, w.first.id).score,
        of(&before, w.second.id).score
    );
    let gambia = other_need(&mut w.engine, "GM", "cybercrime.legislation");
    w.engine
        .set_offer_experience(w.second.id, &[(gambia, Outcome::Completed)]);
    let after = for_need(&w);
    assert_eq!(after[0].offer, w.second.id);
    let second = of(&after, w.second.id);
    assert!(second.score > of(&after, w.first.id).score);
    assert_eq!(second.components.track_record, 0.5);
    assert!(
        texts(&second).contains(
            &"the provider has completed 1 similar partnership in Western Africa".to_owned()
        ),
        "{:?}",
        texts(&second)
    );
    assert_eq!(of(&after, w.first.id).components.track_record, 0.0);
}

#[test]
fn experience_of_other_places_or_other_subjects_is_no_track_record() {
    let mut w = twin_offers();
    let far = other_need(&mut w.engine, "VN", "cybercrime.legislation");
    let unlike = other_need(&mut w.engine, "GM", "cybercrime.digital_forensics");
    let before = of(&for_need(&w), w.second.id);
    w.engine.set_offer_experience(
        w.second.id,
        &[(far, Outcome::Completed), (unlike, Outcome::Completed)],
    );
    assert_eq!(of(&for_need(&w), w.second.id), before);
}

#[test]
fn coordinators_shortlisting_an_offer_for_similar_needs_raise_it_and_dismissals_lower_it() {
    let mut w = twin_offers();
    let a = other_need(&mut w.engine, "KE", "cybercrime.legislation");
    let b = other_need(&mut w.engine, "FJ", "cybercrime.legislation");
    let before = of(&for_need(&w), w.second.id);
    w.engine.set_offer_experience(
        w.second.id,
        &[(a, Outcome::Shortlisted), (b, Outcome::Shortlisted)],
    );
    let raised = of(&for_need(&w), w.second.id);
    assert!(raised.score > before.score);
    assert!(
        texts(&raised)
            .contains(&"coordinators shortlisted this offer for 2 similar needs".to_owned()),
        "{:?}",
        texts(&raised)
    );
    w.engine
        .set_offer_experience(w.second.id, &[(a, Outcome::Dismissed)]);
    let lowered = of(&for_need(&w), w.second.id);
    assert!(lowered.score < before.score);
    assert!(
        texts(&lowered)
            .contains(&"coordinators dismissed this offer for 1 similar need".to_owned()),
        "{:?}",
        texts(&lowered)
    );
    assert!(lowered.components.feedback < 0.0);
    w.engine.set_offer_experience(
        w.second.id,
        &[(a, Outcome::Shortlisted), (b, Outcome::Dismissed)],
    );
    let both = of(&for_need(&w), w.second.id);
    assert_eq!(both.components.feedback, 0.0, "one each cancels out");
    assert!(
        texts(&both).contains(
            &"coordinators shortlisted this offer for 1 similar need and dismissed it for 1 similar need"
                .to_owned()
        ),
        "{:?}",
        texts(&both)
    );
}

#[test]
fn a_decision_on_the_need_itself_is_its_status_not_experience() {
    let mut w = twin_offers();
    let before = of(&for_need(&w), w.second.id);
    w.engine
        .set_offer_experience(w.second.id, &[(w.need.id, Outcome::Shortlisted)]);
    assert_eq!(of(&for_need(&w), w.second.id), before);
}
