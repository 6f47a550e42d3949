//! Each hard rule, alone, keeps an otherwise good pair out of the suggestions, and the
//! explanation names exactly that rule.

use capmatch_domain::codes::{BeneficiaryType, DeliveryMode, Geo, LanguageCode};
use capmatch_domain::need::{NeedState, NeedStatus};
use capmatch_domain::offer::{OfferState, OfferStatus};
use capmatch_domain::taxonomy::ThemeCode;
use capmatch_engine::{Engine, HardRule};

use crate::helpers::{code, day, drafting_offer, engine, pair, senegal_need};

fn suggested(e: &Engine, need: &NeedState, offer: &OfferState) -> bool {
    let for_need = e.suggestions_for_need(need.id, 20).unwrap();
    let for_offer = e.suggestions_for_offer(offer.id, 20).unwrap();
    let a = for_need.iter().any(|s| s.offer == offer.id);
    let b = for_offer.iter().any(|s| s.need == need.id);
    assert_eq!(a, b, "both sides agree");
    a
}

fn assert_excluded_by(e: &Engine, need: &NeedState, offer: &OfferState, rule: HardRule) {
    assert!(!suggested(e, need, offer));
    let why = e.explain(need.id, offer.id).unwrap();
    assert!(!why.eligible);
    let rules: Vec<HardRule> = why.failed_rules.iter().map(|f| f.rule).collect();
    assert_eq!(rules, [rule], "{why:#?}");
    assert!(why.summary.starts_with("Not suggested"), "{}", why.summary);
    assert!(why.score.is_none() && why.need_standing.is_none());
}

#[test]
fn the_baseline_pair_is_suggested_to_both_sides() {
    let (need, offer) = (senegal_need(), drafting_offer());
    let e = pair(&need, &offer);
    assert!(suggested(&e, &need, &offer));
    let why = e.explain(need.id, offer.id).unwrap();
    assert!(why.eligible && why.failed_rules.is_empty());
    let standing = why.need_standing.unwrap();
    assert_eq!((standing.rank, standing.of, standing.shown), (1, 1, true));
}

#[test]
fn a_need_that_is_not_open_is_not_suggested() {
    let (mut need, offer) = (senegal_need(), drafting_offer());
    let mut e = pair(&need, &offer);
    need.status = NeedStatus::Fulfilled;
    need.version += 1;
    e.upsert_need(need.clone());
    assert_excluded_by(&e, &need, &offer, HardRule::NeedNotOpen);
    let why = e.explain(need.id, offer.id).unwrap();
    assert_eq!(why.failed_rules[0].message, "the need is fulfilled");
}

#[test]
fn a_withdrawn_offer_is_not_suggested() {
    let (need, mut offer) = (senegal_need(), drafting_offer());
    let mut e = pair(&need, &offer);
    offer.status = OfferStatus::Withdrawn;
    offer.version += 1;
    e.upsert_offer(offer.clone());
    assert_excluded_by(&e, &need, &offer, HardRule::OfferNotOpen);
}

#[test]
fn a_paused_offer_is_not_suggested_until_it_resumes() {
    let (need, mut offer) = (senegal_need(), drafting_offer());
    let mut e = pair(&need, &offer);
    offer.status = OfferStatus::Paused;
    offer.version += 1;
    e.upsert_offer(offer.clone());
    assert_excluded_by(&e, &need, &offer, HardRule::OfferPaused);
    offer.status = OfferStatus::Open;
    offer.version += 1;
    e.upsert_offer(offer.clone());
    assert!(suggested(&e, &need, &offer));
}

#[test]
fn a_pair_without_a_shared_theme_is_not_suggested() {
    let (need, mut offer) = (senegal_need(), drafting_offer());
    offer.details.themes = vec![code::<ThemeCode>("standards")];
    offer.details.topics.clear();
    let e = pair(&need, &offer);
    assert_excluded_by(&e, &need, &offer, HardRule::NoSharedTheme);
}

#[test]
fn an_offer_that_does_not_cover_the_country_is_not_suggested() {
    let (need, mut offer) = (senegal_need(), drafting_offer());
    offer.details.coverage = vec![code::<Geo>("014"), code::<Geo>("FJ")];
    let e = pair(&need, &offer);
    assert_excluded_by(&e, &need, &offer, HardRule::CountryNotCovered);
    let why = e.explain(need.id, offer.id).unwrap();
    assert_eq!(
        why.failed_rules[0].message,
        "the offer does not cover Senegal (it covers Fiji and Eastern Africa)"
    );
}

#[test]
fn coverage_through_the_region_or_the_world_counts() {
    for area in ["SN", "011", "202", "002", "001"] {
        let (need, mut offer) = (senegal_need(), drafting_offer());
        offer.details.coverage = vec![code::<Geo>(area)];
        let e = pair(&need, &offer);
        assert!(suggested(&e, &need, &offer), "{area}");
    }
}

#[test]
fn an_offer_not_open_to_the_beneficiary_type_is_not_suggested() {
    let (need, mut offer) = (senegal_need(), drafting_offer());
    offer.details.beneficiary_types = vec![BeneficiaryType::Academia, BeneficiaryType::Ngo];
    let e = pair(&need, &offer);
    assert_excluded_by(&e, &need, &offer, HardRule::BeneficiaryNotEligible);
}

#[test]
fn disjoint_windows_are_not_suggested_but_open_ended_ones_are() {
    let (need, mut offer) = (senegal_need(), drafting_offer());
    offer.details.window.start = day("2027-01-01");
    let e = pair(&need, &offer);
    assert_excluded_by(&e, &need, &offer, HardRule::WindowsDisjoint);

    offer.details.window = Default::default();
    let e = pair(&need, &offer);
    assert!(suggested(&e, &need, &offer));
}

#[test]
fn a_required_language_must_be_shared_while_an_optional_one_only_lowers_the_score() {
    let (mut need, mut offer) = (senegal_need(), drafting_offer());
    offer.details.languages = vec![code::<LanguageCode>("en")];
    let with_french = pair(&senegal_need(), &drafting_offer());
    let optional = pair(&need, &offer);
    assert!(suggested(&optional, &need, &offer));
    let lower = optional.explain(need.id, offer.id).unwrap().score.unwrap();
    let higher = with_french
        .suggestions_for_need(with_french.pairs()[0].need, 1)
        .unwrap()[0]
        .score;
    assert!(lower < higher, "{lower} < {higher}");

    need.details.languages_required = true;
    let e = pair(&need, &offer);
    assert_excluded_by(&e, &need, &offer, HardRule::RequiredLanguageMissing);
}

#[test]
fn a_pair_without_a_common_delivery_mode_is_not_suggested() {
    let (mut need, mut offer) = (senegal_need(), drafting_offer());
    need.details.delivery_modes = vec![DeliveryMode::InPerson];
    offer.details.delivery_modes = vec![DeliveryMode::Remote];
    let e = pair(&need, &offer);
    assert_excluded_by(&e, &need, &offer, HardRule::NoCommonDeliveryMode);
}

#[test]
fn a_dismissed_pair_is_not_suggested_until_the_dismissal_is_lifted() {
    let (need, offer) = (senegal_need(), drafting_offer());
    let mut e = pair(&need, &offer);
    assert!(e.set_dismissed(need.id, offer.id, true));
    assert!(!e.set_dismissed(need.id, offer.id, true), "idempotent");
    assert_excluded_by(&e, &need, &offer, HardRule::Dismissed);
    assert!(e.set_dismissed(need.id, offer.id, false));
    assert!(suggested(&e, &need, &offer));
}

#[test]
fn a_dismissal_recorded_before_the_pair_arrives_still_holds() {
    let (need, offer) = (senegal_need(), drafting_offer());
    let mut e = engine();
    e.set_dismissed(need.id, offer.id, true);
    assert!(e.explain(need.id, offer.id).is_err(), "not known yet");
    e.upsert_need(need.clone());
    e.upsert_offer(offer.clone());
    assert_excluded_by(&e, &need, &offer, HardRule::Dismissed);
}

#[test]
fn every_failing_rule_is_reported() {
    let (mut need, mut offer) = (senegal_need(), drafting_offer());
    need.details.delivery_modes = vec![DeliveryMode::InPerson];
    offer.details.delivery_modes = vec![DeliveryMode::Remote];
    offer.details.coverage = vec![code::<Geo>("FJ")];
    offer.status = OfferStatus::Paused;
    let e = pair(&need, &offer);
    let why = e.explain(need.id, offer.id).unwrap();
    let rules: Vec<HardRule> = why.failed_rules.iter().map(|f| f.rule).collect();
    assert_eq!(
        rules,
        [
            HardRule::OfferPaused,
            HardRule::CountryNotCovered,
            HardRule::NoCommonDeliveryMode
        ]
    );
    assert!(why.summary.contains("and 2 more rules"), "{}", why.summary);
}

#[test]
fn needs_filtered_out_of_an_offers_list_leave_room_for_the_next_ones() {
    use capmatch_engine::MatcherConfig;
    let config = MatcherConfig {
        top_k: 2,
        keep: 5,
        ..MatcherConfig::default()
    };
    let mut e = Engine::new(config).unwrap();
    let offer = drafting_offer();
    e.upsert_offer(offer.clone());
    let needs: Vec<NeedState> = (0..5).map(|_| senegal_need()).collect();
    for need in &needs {
        e.upsert_need(need.clone());
    }
    let all: Vec<_> = e
        .suggestions_for_offer_where(offer.id, 5, |_| true)
        .unwrap()
        .iter()
        .map(|s| s.need)
        .collect();
    assert_eq!(all.len(), 2, "at most top_k");
    // Hide the two best: the next two take their places, ranked 1 and 2.
    let hidden = all.clone();
    let shown = e
        .suggestions_for_offer_where(offer.id, 5, |n| !hidden.contains(&n))
        .unwrap();
    assert_eq!(shown.len(), 2, "{shown:#?}");
    assert!(shown.iter().all(|s| !hidden.contains(&s.need)));
    assert_eq!(
        shown.iter().map(|s| s.rank).collect::<Vec<_>>(),
        [1, 2],
        "ranks count only the needs shown"
    );
}
