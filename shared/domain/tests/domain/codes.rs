use capmatch_domain::actor::{Actor, OrgId, Role};
use capmatch_domain::codes::*;

fn country(s: &str) -> CountryCode {
    s.parse().unwrap()
}

fn region(s: &str) -> RegionCode {
    s.parse().unwrap()
}

fn regions_of(s: &str) -> Vec<&'static str> {
    country(s).regions().map(|r| r.as_str()).collect()
}

#[test]
fn the_gambia_is_in_western_africa_sub_saharan_africa_africa_and_the_world() {
    assert_eq!(regions_of("GM"), ["011", "202", "002", "001"]);
    assert_eq!(region("011").name(), "Western Africa");
}

#[test]
fn france_is_in_western_europe_and_europe() {
    assert_eq!(regions_of("FR"), ["155", "150", "001"]);
}

#[test]
fn fiji_is_in_melanesia() {
    assert_eq!(regions_of("FJ"), ["054", "009", "001"]);
}

#[test]
fn brazil_is_in_south_america_latin_america_and_the_americas() {
    assert_eq!(regions_of("BR"), ["005", "419", "019", "001"]);
}

#[test]
fn there_are_249_iso_countries_plus_kosovo() {
    assert_eq!(CountryCode::all().count(), 250);
    assert_eq!(country("XK").name(), "Kosovo");
    assert_eq!(regions_of("XK"), ["039", "150", "001"]);
}

#[test]
fn every_country_has_a_region_and_only_antarctica_has_no_continent() {
    for c in CountryCode::all() {
        let chain: Vec<_> = c.regions().collect();
        assert_eq!(chain.last(), Some(&RegionCode::WORLD), "{c}");
        assert!(!c.name().is_empty(), "{c} has no name");
        if c.as_str() != "AQ" {
            assert!(
                chain.len() >= 3,
                "{c} has no region below the world: {chain:?}"
            );
        }
        for pair in chain.windows(2) {
            assert_eq!(
                pair[0].parent(),
                Some(pair[1]),
                "{c}: chain {chain:?} is not nested"
            );
        }
    }
}

#[test]
fn there_are_183_iso_639_1_languages() {
    assert_eq!(LanguageCode::all().count(), 183);
    assert_eq!("FR".parse::<LanguageCode>().unwrap().as_str(), "fr");
    assert_eq!("fr".parse::<LanguageCode>().unwrap().name(), "French");
    assert!("sh".parse::<LanguageCode>().is_err());
}

#[test]
fn country_codes_are_normalised_to_upper_case() {
    assert_eq!(country("gm").as_str(), "GM");
    assert_eq!(country("Fr"), country("FR"));
}

#[test]
fn malformed_or_unassigned_country_codes_are_rejected() {
    for bad in ["", "G", "GMB", "ZZ", "G1", "  ", "É1", "UK", "EU"] {
        let err = bad.parse::<CountryCode>().unwrap_err();
        assert_eq!(err.kind, CodeKind::Country, "{bad}");
    }
}

#[test]
fn region_contains_its_countries_and_the_world_contains_all() {
    assert!(region("002").contains(&country("GM")));
    assert!(!region("002").contains(&country("FR")));
    assert!(RegionCode::WORLD.contains(&country("AQ")));
    assert_eq!(
        RegionCode::WORLD.countries().count(),
        CountryCode::all().count()
    );
    assert!(
        region("830")
            .countries()
            .map(|c| c.as_str())
            .eq(["GG", "JE"])
    );
}

#[test]
fn geo_is_told_apart_by_shape() {
    assert_eq!("FR".parse::<Geo>().unwrap(), Geo::Country(country("FR")));
    assert_eq!("011".parse::<Geo>().unwrap(), Geo::Region(region("011")));
    assert!("999".parse::<Geo>().is_err());
    assert!("11".parse::<Geo>().is_err());
    assert!("011".parse::<Geo>().unwrap().covers(&country("GM")));
}

#[test]
fn codes_serialize_as_strings_and_deserialization_validates() {
    let json =
        serde_json::to_string(&(country("GM"), region("011"), Geo::from(country("FR")))).unwrap();
    assert_eq!(json, r#"["GM","011","FR"]"#);
    assert!(serde_json::from_str::<CountryCode>(r#""ZZ""#).is_err());
    assert_eq!(
        serde_json::from_str::<CountryCode>(r#""gm""#).unwrap(),
        country("GM")
    );
}

#[test]
fn vocabulary_wire_names_match_serde() {
    fn check<T: serde::Serialize + std::str::FromStr + PartialEq + std::fmt::Debug + Copy>(
        all: &[T],
        as_str: impl Fn(&T) -> &'static str,
    ) where
        T::Err: std::fmt::Debug,
    {
        for v in all {
            assert_eq!(serde_json::to_value(v).unwrap(), as_str(v));
            assert_eq!(as_str(v).parse::<T>().unwrap(), *v);
        }
    }
    check(SupportType::ALL, SupportType::as_str);
    check(ProviderType::ALL, ProviderType::as_str);
    check(BeneficiaryType::ALL, BeneficiaryType::as_str);
    check(TargetGroup::ALL, TargetGroup::as_str);
    check(DeliveryMode::ALL, DeliveryMode::as_str);
    check(Funding::ALL, Funding::as_str);
    check(Visibility::ALL, Visibility::as_str);
    assert_eq!(ProviderType::ALL.len(), 6);
    assert_eq!(SupportType::ALL.len(), 7);
}

#[test]
fn code_errors_say_which_kind_of_code_and_the_value() {
    let err = "robots".parse::<ProviderType>().unwrap_err();
    assert_eq!(err.to_string(), r#"unknown provider type code "robots""#);
}

#[test]
fn org_ids_are_1_to_128_safe_characters() {
    assert!("org:cyber-academy_1.x".parse::<OrgId>().is_ok());
    assert!("".parse::<OrgId>().is_err());
    assert!("a b".parse::<OrgId>().is_err());
    assert!("a/b".parse::<OrgId>().is_err());
    assert!("x".repeat(128).parse::<OrgId>().is_ok());
    assert!("x".repeat(129).parse::<OrgId>().is_err());
}

#[test]
fn roles_have_their_claim_names() {
    let org: OrgId = "acme".parse().unwrap();
    let roles = [
        (
            Role::State {
                country: country("GM"),
            },
            "state",
        ),
        (
            Role::Provider {
                org,
                org_type: ProviderType::Ngo,
            },
            "provider",
        ),
        (Role::Coordinator, "coordinator"),
        (Role::Admin, "admin"),
        (Role::Service, "service"),
    ];
    for (role, name) in roles {
        assert_eq!(role.name(), name);
        let actor = Actor::new("user-1", role);
        let json = serde_json::to_value(&actor).unwrap();
        assert_eq!(json["role"], name);
        assert_eq!(serde_json::from_value::<Actor>(json).unwrap(), actor);
    }
}
