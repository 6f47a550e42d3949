//! Code parsing round trips, for any input.

use capmatch_domain::codes::{CountryCode, Geo, LanguageCode, RegionCode};
use proptest::prelude::*;

proptest! {
    #[test]
    fn a_country_code_parses_in_any_case_and_prints_upper_case(index in 0usize..250, lower in any::<bool>()) {
        let code = CountryCode::all().nth(index).unwrap();
        let input = if lower { code.as_str().to_ascii_lowercase() } else { code.as_str().to_owned() };
        let parsed: CountryCode = input.parse().unwrap();
        prop_assert_eq!(parsed, code);
        prop_assert_eq!(parsed.to_string(), input.to_ascii_uppercase());
        let json = serde_json::to_string(&parsed).unwrap();
        prop_assert_eq!(serde_json::from_str::<CountryCode>(&json).unwrap(), code);
    }

    #[test]
    fn any_string_parses_as_a_country_only_if_it_is_a_known_code(input in "\\PC{0,4}") {
        if let Ok(code) = input.parse::<CountryCode>() {
            prop_assert_eq!(code.as_str(), input.to_ascii_uppercase());
            prop_assert!(CountryCode::all().any(|c| c == code));
        }
    }

    #[test]
    fn two_letters_are_a_country_exactly_when_listed(a in b'A'..=b'Z', b in b'A'..=b'Z') {
        let input = String::from_utf8(vec![a, b]).unwrap();
        let listed = CountryCode::all().any(|c| c.as_str() == input);
        prop_assert_eq!(input.parse::<CountryCode>().is_ok(), listed);
    }

    #[test]
    fn every_geo_prints_as_it_parses(index in 0usize..300) {
        let areas: Vec<Geo> = CountryCode::all().map(Geo::from)
            .chain(RegionCode::all().map(Geo::from))
            .collect();
        let geo = areas[index % areas.len()];
        prop_assert_eq!(geo.as_str().parse::<Geo>().unwrap(), geo);
        prop_assert_eq!(serde_json::to_value(geo).unwrap(), geo.as_str());
    }

    #[test]
    fn any_string_parses_as_a_language_only_if_listed(input in "[a-zA-Z]{0,3}") {
        match input.parse::<LanguageCode>() {
            Ok(code) => prop_assert_eq!(code.as_str(), input.to_ascii_lowercase()),
            Err(err) => prop_assert_eq!(err.value, input),
        }
    }
}
