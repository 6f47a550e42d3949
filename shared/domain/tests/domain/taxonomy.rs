//! The taxonomy file and the codes parsed against it.

use capmatch_domain::taxonomy::{Taxonomy, ThemeCode, TopicCode};

#[test]
fn the_taxonomy_has_the_seven_themes_of_the_design() {
    let codes: Vec<_> = ThemeCode::all().map(|t| t.as_str()).collect();
    assert_eq!(
        codes,
        [
            "policy_strategy",
            "incident_management_cip",
            "cybercrime",
            "culture_skills",
            "standards",
            "norms_international_law",
            "confidence_building",
        ]
    );
}

#[test]
fn the_taxonomy_file_keeps_its_invariants() {
    assert_eq!(Taxonomy::get().check(), Ok(()));
}

#[test]
fn every_theme_has_4_to_8_labelled_topics() {
    for theme in &Taxonomy::get().themes {
        assert!(
            (4..=8).contains(&theme.topics.len()),
            "{}: {}",
            theme.code,
            theme.topics.len()
        );
    }
}

#[test]
fn the_design_examples_are_topics() {
    let legislation: TopicCode = "cybercrime.legislation".parse().unwrap();
    assert_eq!(legislation.theme().as_str(), "cybercrime");
    assert_eq!(legislation.label(), "Cybercrime legislation");
    let csirt: TopicCode = "incident_management_cip.csirt_establishment"
        .parse()
        .unwrap();
    assert_eq!(csirt.theme().as_str(), "incident_management_cip");
}

#[test]
fn a_topic_parses_only_under_its_own_theme() {
    assert!(
        "cybercrime.csirt_establishment"
            .parse::<TopicCode>()
            .is_err()
    );
    assert!("legislation".parse::<TopicCode>().is_err());
    assert!("cybercrime".parse::<TopicCode>().is_err());
    assert!("cybercrime.legislation".parse::<ThemeCode>().is_err());
}

#[test]
fn theme_codes_are_exact() {
    assert!("Cybercrime".parse::<ThemeCode>().is_err());
    assert_eq!(
        "cybercrime".parse::<ThemeCode>().unwrap().label(),
        "Cybercrime"
    );
}

#[test]
fn the_taxonomy_serializes_for_its_endpoint() {
    let json = serde_json::to_value(Taxonomy::get()).unwrap();
    assert_eq!(json["themes"][2]["code"], "cybercrime");
    assert_eq!(
        json["themes"][2]["topics"][0]["code"],
        "cybercrime.legislation"
    );
    let back: Taxonomy = serde_json::from_value(json).unwrap();
    assert_eq!(&back, Taxonomy::get());
}
