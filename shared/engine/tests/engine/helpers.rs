//! A need and an offer that match, to be bent one way or another by each test.

use capmatch_domain::actor::OrgId;
use capmatch_domain::codes::{
    BeneficiaryType, CountryCode, DeliveryMode, Funding, Geo, LanguageCode, ProviderType,
    SupportType, TargetGroup, Visibility,
};
use capmatch_domain::ids::{NeedId, OfferId};
use capmatch_domain::need::{NeedDetails, NeedState, NeedStatus};
use capmatch_domain::offer::{OfferDetails, OfferState, OfferStatus, Provider};
use capmatch_domain::taxonomy::{ThemeCode, TopicCode};
use capmatch_domain::window::TimeWindow;
use capmatch_engine::{Engine, MatcherConfig};
use chrono::{DateTime, NaiveDate};

pub fn code<T: std::str::FromStr>(s: &str) -> T
where
    T::Err: std::fmt::Debug,
{
    s.parse().unwrap()
}

pub fn day(s: &str) -> Option<NaiveDate> {
    Some(s.parse().unwrap())
}

/// Senegal asks, in French, for help drafting its cybercrime law.
pub fn senegal_need() -> NeedState {
    let at = DateTime::from_timestamp(1_767_225_600, 0).unwrap();
    NeedState {
        id: NeedId::new(),
        country: code::<CountryCode>("SN"),
        details: NeedDetails {
            title: "Cybercrime law drafting".into(),
            description: "Senegal needs legal drafting support to align its cybercrime law \
                          with the Budapest Convention and train prosecutors."
                .into(),
            themes: vec![code::<ThemeCode>("cybercrime")],
            topics: vec![code::<TopicCode>("cybercrime.legislation")],
            support_types: vec![SupportType::PolicyAdvice, SupportType::Training],
            languages: vec![code::<LanguageCode>("fr")],
            languages_required: false,
            beneficiary_type: BeneficiaryType::Government,
            delivery_modes: DeliveryMode::ALL.to_vec(),
            window: TimeWindow {
                start: day("2026-03-01"),
                end: day("2026-12-31"),
            },
            target_groups: vec![TargetGroup::Women],
            visibility: Visibility::Public,
            partners_wanted: 1,
            budget_note: None,
        },
        status: NeedStatus::Open,
        posted_on_behalf: false,
        posted_at: at,
        updated_at: at,
        version: 1,
        withdraw_reason: None,
    }
}

/// A West African legislative drafting programme, in French and English.
pub fn drafting_offer() -> OfferState {
    let at = DateTime::from_timestamp(1_767_225_600, 0).unwrap();
    OfferState {
        id: OfferId::new(),
        provider: Provider {
            org: code::<OrgId>("org:law-institute"),
            org_type: ProviderType::Academia,
        },
        details: OfferDetails {
            title: "Cybercrime legislation drafting".into(),
            description: "Legal experts help draft cybercrime law aligned with the Budapest \
                          Convention, with training for prosecutors and judges."
                .into(),
            themes: vec![code::<ThemeCode>("cybercrime")],
            topics: vec![code::<TopicCode>("cybercrime.legislation")],
            support_types: vec![SupportType::PolicyAdvice],
            languages: vec![code::<LanguageCode>("fr"), code::<LanguageCode>("en")],
            coverage: vec![code::<Geo>("011")],
            beneficiary_types: vec![BeneficiaryType::Government],
            capacity: 2,
            window: TimeWindow {
                start: day("2026-01-01"),
                end: day("2027-06-30"),
            },
            delivery_modes: DeliveryMode::ALL.to_vec(),
            target_groups: vec![TargetGroup::Women],
            funding: Funding::SelfFunded,
            conditions_attached: false,
            conditions: None,
        },
        status: OfferStatus::Open,
        posted_at: at,
        updated_at: at,
        version: 1,
        status_reason: None,
    }
}

pub fn engine() -> Engine {
    Engine::new(MatcherConfig::default()).unwrap()
}

/// An engine holding exactly these two.
pub fn pair(need: &NeedState, offer: &OfferState) -> Engine {
    let mut e = engine();
    e.upsert_need(need.clone());
    e.upsert_offer(offer.clone());
    e
}
