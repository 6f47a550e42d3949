//! The wire types document themselves, and their examples are valid.

use capmatch_domain::codes::{CountryCode, Geo};
use capmatch_domain::error::FieldError;
use capmatch_domain::need::{NeedDraft, NeedPatch, NeedState};
use capmatch_domain::offer::{OfferDraft, OfferPatch, OfferState};
use capmatch_domain::taxonomy::Taxonomy;
use serde_json::Value;
use utoipa::PartialSchema;

use crate::helpers::*;

fn schema_of<T: PartialSchema>() -> Value {
    serde_json::to_value(T::schema()).unwrap()
}

fn example_of<T: PartialSchema>() -> Value {
    schema_of::<T>()["examples"][0].clone()
}

#[test]
fn the_need_draft_example_is_a_valid_draft() {
    let draft: NeedDraft = serde_json::from_value(example_of::<NeedDraft>()).unwrap();
    assert!(
        draft
            .validate(Some("GM".parse().unwrap()), now().date_naive())
            .is_ok()
    );
}

#[test]
fn the_offer_draft_example_is_a_valid_draft() {
    let draft: OfferDraft = serde_json::from_value(example_of::<OfferDraft>()).unwrap();
    assert!(draft.validate(now().date_naive()).is_ok());
}

#[test]
fn the_patch_examples_deserialize() {
    let need: NeedPatch = serde_json::from_value(example_of::<NeedPatch>()).unwrap();
    assert_eq!(need.end, Some(None));
    let _: OfferPatch = serde_json::from_value(example_of::<OfferPatch>()).unwrap();
}

#[test]
fn drafts_document_their_required_fields() {
    let need = schema_of::<NeedDraft>();
    assert_eq!(
        need["required"],
        serde_json::json!([
            "title",
            "description",
            "themes",
            "support_types",
            "languages"
        ])
    );
    let offer = schema_of::<OfferDraft>();
    assert!(
        offer["required"]
            .as_array()
            .unwrap()
            .contains(&"coverage".into())
    );
}

#[test]
fn codes_are_documented_as_exactly_the_codes_the_parsers_accept() {
    use capmatch_domain::codes::{LanguageCode, RegionCode};
    use capmatch_domain::taxonomy::{ThemeCode, TopicCode};
    fn listed(schema: &Value) -> Vec<String> {
        assert_eq!(schema["type"], "string", "{schema}");
        schema["enum"]
            .as_array()
            .expect("an enum")
            .iter()
            .map(|v| v.as_str().expect("a string").to_owned())
            .collect()
    }
    fn all<T: ToString>(codes: impl Iterator<Item = T>) -> Vec<String> {
        codes.map(|c| c.to_string()).collect()
    }
    assert_eq!(listed(&schema_of::<CountryCode>()), all(CountryCode::all()));
    assert_eq!(listed(&schema_of::<RegionCode>()), all(RegionCode::all()));
    assert_eq!(
        listed(&schema_of::<LanguageCode>()),
        all(LanguageCode::all())
    );
    assert_eq!(listed(&schema_of::<ThemeCode>()), all(ThemeCode::all()));
    assert_eq!(listed(&schema_of::<TopicCode>()), all(TopicCode::all()));
    let geo = listed(&schema_of::<Geo>());
    assert_eq!(
        geo.len(),
        CountryCode::all().count() + RegionCode::all().count()
    );
    for code in geo {
        assert!(code.parse::<Geo>().is_ok(), "{code}");
    }
}

#[test]
fn draft_fields_are_documented_with_their_limits() {
    let need = schema_of::<NeedDraft>();
    let props = &need["properties"];
    assert_eq!(props["title"]["type"], "string");
    assert_eq!(props["title"]["minLength"], 5);
    assert_eq!(props["title"]["maxLength"], 200);
    assert_eq!(props["themes"]["type"], "array");
    assert_eq!(props["themes"]["minItems"], 1);
    assert_eq!(props["themes"]["maxItems"], 20);
    assert_eq!(props["themes"]["uniqueItems"], true);
    assert_eq!(props["start"]["format"], "date");
}

#[test]
fn every_served_type_has_a_schema() {
    for schema in [
        schema_of::<NeedState>(),
        schema_of::<OfferState>(),
        schema_of::<Taxonomy>(),
        schema_of::<FieldError>(),
    ] {
        assert!(schema.is_object(), "{schema}");
    }
}

#[test]
fn vocabularies_are_documented_as_their_wire_names() {
    use capmatch_domain::codes::ProviderType;
    let schema = schema_of::<ProviderType>();
    let names: Vec<_> = ProviderType::ALL.iter().map(|p| p.as_str()).collect();
    assert_eq!(schema["enum"], serde_json::json!(names));
}

#[test]
fn every_vocabulary_schema_lists_its_wire_names() {
    use capmatch_domain::codes::*;
    fn names<T: Copy>(all: &[T], as_str: fn(&T) -> &'static str) -> Value {
        serde_json::json!(all.iter().map(as_str).collect::<Vec<_>>())
    }
    assert_eq!(
        schema_of::<SupportType>()["enum"],
        names(SupportType::ALL, SupportType::as_str)
    );
    assert_eq!(
        schema_of::<BeneficiaryType>()["enum"],
        names(BeneficiaryType::ALL, BeneficiaryType::as_str)
    );
    assert_eq!(
        schema_of::<TargetGroup>()["enum"],
        names(TargetGroup::ALL, TargetGroup::as_str)
    );
    assert_eq!(
        schema_of::<DeliveryMode>()["enum"],
        names(DeliveryMode::ALL, DeliveryMode::as_str)
    );
    assert_eq!(
        schema_of::<Funding>()["enum"],
        names(Funding::ALL, Funding::as_str)
    );
    assert_eq!(
        schema_of::<Visibility>()["enum"],
        names(Visibility::ALL, Visibility::as_str)
    );
}
