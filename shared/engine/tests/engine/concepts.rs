//! The thesaurus at work: a need that names no topic gets the topics its text shows, in any of
//! the thesaurus's languages, and those topics rank specialists above generalists.

use capmatch_domain::codes::{CountryCode, Geo, LanguageCode, RegionCode};
use capmatch_domain::ids::OfferId;
use capmatch_domain::taxonomy::{ThemeCode, TopicCode};
use capmatch_engine::Suggestion;

use crate::helpers::{code, drafting_offer, engine, senegal_need};

fn incident_offer(title: &str, description: &str) -> capmatch_domain::offer::OfferState {
    let mut offer = drafting_offer();
    offer.id = OfferId::new();
    offer.details.title = title.into();
    offer.details.description = description.into();
    offer.details.themes = vec![code::<ThemeCode>("incident_management_cip")];
    offer.details.topics = Vec::new();
    offer.details.languages = vec![code::<LanguageCode>("en")];
    offer.details.coverage = vec![code::<Geo>("001")];
    offer
}

#[test]
fn a_french_need_for_a_national_cert_finds_the_english_offer_that_sets_them_up() {
    let mut need = senegal_need();
    need.details.title = "Création d'un CERT national".into();
    need.details.description =
        "Le Sénégal souhaite mettre en place son équipe nationale de réponse aux incidents \
         informatiques : mandat, services et formation du personnel."
            .into();
    need.details.themes = vec![code::<ThemeCode>("incident_management_cip")];
    need.details.topics = Vec::new();
    let setting_up = incident_offer(
        "Setting up national CSIRTs",
        "Experienced responders help governments establish national computer incident response \
         teams: mandate, services, staffing and launch.",
    );
    let security_operations = incident_offer(
        "Security operations centre maturity",
        "Assessments and coaching that raise the maturity of existing security operations \
         centres: processes, tooling and threat hunting.",
    );
    let mut e = engine();
    e.upsert_need(need.clone());
    e.upsert_offer(setting_up.clone());
    e.upsert_offer(security_operations.clone());
    let list: Vec<Suggestion> = e.suggestions_for_need(need.id, 5).unwrap();
    assert_eq!(list[0].offer, setting_up.id, "{list:#?}");
    let reasons: Vec<&str> = list[0].reasons.iter().map(|r| r.text.as_str()).collect();
    assert!(
        reasons
            .iter()
            .any(|r| r.starts_with("both work on CSIRT establishment")),
        "{reasons:?}"
    );
    assert!(list[0].score > list[1].score);
}

#[test]
fn the_topics_a_poster_named_are_kept_and_nothing_is_inferred_outside_its_themes() {
    // A strategy need that lists the police among those to consult is not about investigations.
    let mut need = senegal_need();
    need.details.themes = vec![code::<ThemeCode>("policy_strategy")];
    need.details.topics = vec![code::<TopicCode>("policy_strategy.national_strategy")];
    need.details.title = "Our national cybersecurity strategy".into();
    need.details.description = "Drafting the strategy with ministries, the police, the police \
                                academy, banks and universities."
        .into();
    let mut offer = drafting_offer();
    offer.details.themes = vec![
        code::<ThemeCode>("policy_strategy"),
        code::<ThemeCode>("cybercrime"),
    ];
    offer.details.topics = vec![code::<TopicCode>("cybercrime.investigation")];
    offer.details.title = "Police investigation training".into();
    offer.details.description = "Courses for police investigators and the police academy.".into();
    let mut e = engine();
    e.upsert_need(need.clone());
    e.upsert_offer(offer.clone());
    let why = e.explain(need.id, offer.id).unwrap();
    let reasons: Vec<&str> = why.reasons.iter().map(|r| r.text.as_str()).collect();
    assert!(
        !reasons.iter().any(|r| r.contains("investigation")),
        "{reasons:?}"
    );
}

/// The thesaurus is the field's vocabulary: no term of it names a state (by any country's or
/// region's English name), so a need is never matched by where it comes from through it.
#[test]
fn no_term_of_the_thesaurus_names_a_country_or_a_region() {
    let stored: serde_json::Value =
        serde_json::from_str(include_str!("../../data/thesaurus.json")).expect("the thesaurus");
    let words = |text: &str| -> String {
        let spaced: String = text
            .to_lowercase()
            .chars()
            .map(|c| if c.is_alphanumeric() { c } else { ' ' })
            .collect();
        format!(
            " {} ",
            spaced.split_whitespace().collect::<Vec<_>>().join(" ")
        )
    };
    let places: Vec<String> = CountryCode::all()
        .map(|c| c.name())
        .chain(RegionCode::all().map(|r| r.name()))
        .map(words)
        .collect();
    let mut found = Vec::new();
    for concept in stored["concepts"].as_array().expect("concepts") {
        let terms = concept["terms"].as_object().expect("terms by language");
        for term in terms.values().flat_map(|t| t.as_array().expect("terms")) {
            let term = words(term.as_str().expect("a term"));
            found.extend(
                places
                    .iter()
                    .filter(|p| term.contains(p.as_str()))
                    .map(|p| format!("{}: {}", concept["id"], p.trim())),
            );
        }
    }
    assert!(found.is_empty(), "{found:#?}");
}
