//! The components move the right way: property tests over generated pairs.

use capmatch_domain::codes::{Geo, LanguageCode};
use capmatch_domain::taxonomy::TopicCode;
use capmatch_eval::synth::{Generator, Profile};
use proptest::prelude::*;

use crate::helpers::{code, drafting_offer, pair, senegal_need};

/// Fits of a pair: (need side, offer side, score).
fn fits(
    need: &capmatch_domain::need::NeedState,
    offer: &capmatch_domain::offer::OfferState,
) -> (f32, f32, f32, bool) {
    let e = pair(need, offer);
    let why = e.explain(need.id, offer.id).unwrap();
    let score = 2.0 * why.need_fit * why.offer_fit / (why.need_fit + why.offer_fit).max(1e-9);
    (why.need_fit, why.offer_fit, score, why.eligible)
}

const EPS: f32 = 1e-6;

/// Texts that name no concept of the thesaurus, so the topics are exactly the named ones and
/// these properties test the topic arithmetic alone (inference has tests of its own).
fn plain_need(mut need: capmatch_domain::need::NeedState) -> capmatch_domain::need::NeedState {
    need.details.title = "A request for help".into();
    need.details.description = "A request for help from partners, as described to them.".into();
    need
}

fn plain_offer(
    mut offer: capmatch_domain::offer::OfferState,
) -> capmatch_domain::offer::OfferState {
    offer.details.title = "An offer of help".into();
    offer.details.description = "An offer of help to partners, as described to them.".into();
    offer
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn another_shared_topic_never_lowers_the_fit(seed in any::<u64>(), pick in 0usize..64) {
        let mut g = Generator::new(seed, Profile::Realistic);
        let (need, offer) = (plain_need(g.need()), plain_offer(g.offer()));
        let topics: Vec<TopicCode> = TopicCode::all().collect();
        let topic = topics[pick % topics.len()];
        let (mut more_need, mut more_offer) = (need.clone(), offer.clone());
        for (themes, list) in [
            (&mut more_need.details.themes, &mut more_need.details.topics),
            (&mut more_offer.details.themes, &mut more_offer.details.topics),
        ] {
            if !themes.contains(&topic.theme()) {
                themes.push(topic.theme());
            }
            if !list.contains(&topic) {
                list.push(topic);
            }
        }
        let before = fits(&need, &offer);
        let after = fits(&more_need, &more_offer);
        prop_assert!(after.0 + EPS >= before.0, "need side {before:?} -> {after:?}");
        prop_assert!(after.1 + EPS >= before.1, "offer side {before:?} -> {after:?}");
        prop_assert!(after.2 + EPS >= before.2, "score {before:?} -> {after:?}");
    }

    #[test]
    fn a_shared_language_never_lowers_the_fit(seed in any::<u64>(), pick in 0usize..6) {
        let mut g = Generator::new(seed, Profile::Realistic);
        let (need, offer) = (g.need(), g.offer());
        let language = code::<LanguageCode>(["en", "fr", "es", "ar", "pt", "ru"][pick]);
        let (mut more_need, mut more_offer) = (need.clone(), offer.clone());
        for list in [&mut more_need.details.languages, &mut more_offer.details.languages] {
            if !list.contains(&language) {
                list.push(language);
            }
        }
        let before = fits(&need, &offer);
        let after = fits(&more_need, &more_offer);
        prop_assert!(after.0 + EPS >= before.0, "need side {before:?} -> {after:?}");
        prop_assert!(after.1 + EPS >= before.1, "offer side {before:?} -> {after:?}");
        prop_assert!(after.2 + EPS >= before.2, "score {before:?} -> {after:?}");
        prop_assert!(after.3 || !before.3, "a shared language cannot make a pair ineligible");
    }
}

#[test]
fn a_shared_topic_counts_more_than_a_shared_theme_only() {
    let need = senegal_need();
    let topic = plain_offer(drafting_offer());
    let mut theme_only = plain_offer(drafting_offer());
    theme_only.details.topics = vec![code::<TopicCode>("cybercrime.digital_forensics")];
    let mut generic = plain_offer(drafting_offer());
    generic.details.topics.clear();
    let (t, g, o) = (
        fits(&need, &topic),
        fits(&need, &generic),
        fits(&need, &theme_only),
    );
    assert!(
        t.0 > g.0 && g.0 > o.0,
        "topic {t:?} > generic {g:?} > other topic {o:?}"
    );
}

#[test]
fn an_offer_aimed_at_the_country_beats_its_region_which_beats_the_world() {
    let need = senegal_need();
    let score = |area: &str| {
        let mut offer = drafting_offer();
        offer.details.coverage = vec![code::<Geo>(area)];
        fits(&need, &offer).0
    };
    let (country, west, africa, world) = (score("SN"), score("011"), score("002"), score("001"));
    assert!(country > west && west > africa && africa > world);
}

#[test]
fn a_one_sided_match_scores_below_a_balanced_one() {
    // The harmonic mean: two pairs with the same arithmetic mean of fits, one lopsided.
    let need = senegal_need();
    let balanced = fits(&need, &drafting_offer());
    let mut wide = drafting_offer();
    // An offer spread over every theme: the need fits it poorly from the offer's side.
    wide.details.themes = capmatch_domain::taxonomy::ThemeCode::all().collect();
    let lopsided = fits(&need, &wide);
    assert!(lopsided.1 < balanced.1);
    assert!(lopsided.2 < balanced.2);
}

#[test]
fn capacity_in_use_lowers_the_score_and_full_capacity_zeroes_the_component() {
    let (need, offer) = (senegal_need(), drafting_offer());
    let mut e = pair(&need, &offer);
    let free = e.explain(need.id, offer.id).unwrap();
    assert!(e.set_offer_load(offer.id, 1));
    let half = e.explain(need.id, offer.id).unwrap();
    assert!(e.set_offer_load(offer.id, 2));
    let full = e.explain(need.id, offer.id).unwrap();
    assert_eq!(
        (
            free.components.capacity,
            half.components.capacity,
            full.components.capacity
        ),
        (1.0, 0.5, 0.0)
    );
    assert!(free.score > half.score && half.score > full.score);
    assert!(!e.set_offer_load(offer.id, 2), "unchanged");
}
