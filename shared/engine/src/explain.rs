//! What the engine says about a pair: [`Suggestion`]s with plain-language [`Reason`]s, and the
//! [`Explanation`] of why a pair is or is not suggested.
//!
//! A reason exists exactly when its component is non-zero (for target groups: when both sides
//! name a group in common; for feedback: when coordinators decided on the offer for a similar
//! need, so a dismissal that lowers a suggestion is said in its reasons); concerns name the
//! components that are zero and would have helped.
//! Labels come from the taxonomy and the code lists (`CountryCode::name`, `RegionCode::name`,
//! `LanguageCode::name`), never from codes.

use capmatch_domain::codes::{BeneficiaryType, DeliveryMode, SupportType, TargetGroup};
use capmatch_domain::ids::{NeedId, OfferId};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::concepts::Thesaurus;
use crate::experience::Tally;
use crate::features::{NeedHot, OfferHot, Window};
use crate::intern::{LEVEL_COUNTRY, LEVEL_WORLD, tables, values_of};
use crate::score::{Component, Components, HardRule};

/// One suggested partner, with everything needed to show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Suggestion {
    pub need: NeedId,
    pub offer: OfferId,
    /// 1-based position in the list it comes from (the need's or the offer's).
    pub rank: u32,
    /// Harmonic mean of the two fits, in [0, 1].
    pub score: f32,
    pub need_fit: f32,
    pub offer_fit: f32,
    pub components: Components,
    pub reasons: Vec<Reason>,
}

/// A plain-language statement tied to the component it explains.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Reason {
    pub component: Component,
    #[schema(example = "shared language: French")]
    pub text: String,
}

/// A hard rule the pair breaks, said plainly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RuleFailure {
    pub rule: HardRule,
    #[schema(example = "the offer does not cover Gambia (it covers Eastern Asia)")]
    pub message: String,
}

/// Where a pair stands in one side's ranking of its eligible partners.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Standing {
    /// 1-based rank among the eligible partners.
    pub rank: u32,
    /// How many eligible partners there are.
    pub of: u32,
    /// Whether the rank is within the suggestions shown (`top_k`).
    pub shown: bool,
}

/// Why a pair is, or is not, suggested.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Explanation {
    pub need: NeedId,
    pub offer: OfferId,
    /// Whether the pair passes every hard rule.
    pub eligible: bool,
    /// Every hard rule the pair breaks; empty when eligible.
    pub failed_rules: Vec<RuleFailure>,
    /// The score, when eligible.
    pub score: Option<f32>,
    pub need_fit: f32,
    pub offer_fit: f32,
    /// The components, computed even for an ineligible pair (they say how close it came).
    pub components: Components,
    /// The pair's rank among the need's eligible offers, when eligible.
    pub need_standing: Option<Standing>,
    /// The pair's rank among the offer's eligible needs, when eligible.
    pub offer_standing: Option<Standing>,
    pub reasons: Vec<Reason>,
    /// Components that are zero and would have raised the score.
    pub concerns: Vec<Reason>,
    /// One sentence for a reviewer.
    pub summary: String,
}

/// Everything reasons are written from.
pub(crate) struct PairView<'a> {
    pub need: &'a NeedHot,
    pub offer: &'a OfferHot,
    pub country: u16,
    pub coverage: &'a [u16],
    pub level: Option<u8>,
    pub components: &'a Components,
    /// What the offer's record says of the pair.
    pub tally: Tally,
    /// The shared terms contributing most to the text component, best first.
    pub shared_terms: Vec<String>,
}

/// "a", "a and b", "a, b and c".
pub(crate) fn join(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {}", init.join(", "), last),
    }
}

/// Lower-cases a label's first letter unless it starts an acronym ("CSIRT establishment").
fn in_sentence(label: &str) -> String {
    let mut chars = label.chars();
    match (chars.next(), chars.next()) {
        (Some(first), Some(second)) if second.is_lowercase() => {
            first.to_lowercase().chain(label.chars().skip(1)).collect()
        }
        _ => label.to_owned(),
    }
}

pub(crate) fn support_label(s: SupportType) -> &'static str {
    match s {
        SupportType::Training => "training",
        SupportType::TechnicalAssistance => "technical assistance",
        SupportType::PolicyAdvice => "policy advice",
        SupportType::Assessment => "assessment",
        SupportType::Equipment => "equipment",
        SupportType::MentoringExchange => "mentoring and exchange",
        SupportType::Funding => "funding",
    }
}

pub(crate) fn group_label(g: TargetGroup) -> &'static str {
    match g {
        TargetGroup::Women => "women",
        TargetGroup::Youth => "youth",
        TargetGroup::PersonsWithDisabilities => "persons with disabilities",
        TargetGroup::IndigenousCommunities => "indigenous communities",
        TargetGroup::RuralCommunities => "rural communities",
        TargetGroup::OlderPersons => "older persons",
        TargetGroup::Smes => "SMEs",
    }
}

pub(crate) fn beneficiary_label(b: BeneficiaryType) -> &'static str {
    match b {
        BeneficiaryType::Government => "government",
        BeneficiaryType::Ngo => "NGO",
        BeneficiaryType::PrivateSector => "private-sector",
        BeneficiaryType::Academia => "academic",
    }
}

pub(crate) fn delivery_label(d: DeliveryMode) -> &'static str {
    match d {
        DeliveryMode::Remote => "remote",
        DeliveryMode::InPerson => "in-person",
    }
}

fn labels<T: Copy>(all: &[T], mask: u8, label: fn(T) -> &'static str) -> Vec<String> {
    values_of(all, mask)
        .into_iter()
        .map(|v| label(v).to_owned())
        .collect()
}

fn language_names(bits: &crate::intern::LanguageBits) -> Vec<String> {
    let t = tables();
    bits.iter()
        .filter_map(|i| t.languages.get(i))
        .map(|l| l.name().to_owned())
        .collect()
}

fn theme_names(mask: u32) -> Vec<String> {
    let t = tables();
    t.themes
        .iter()
        .enumerate()
        .filter(|(i, _)| mask & (1 << i) != 0)
        .map(|(_, th)| in_sentence(th.label()))
        .collect()
}

fn geo_name(geo: u16) -> String {
    tables()
        .geos
        .get(usize::from(geo))
        .map(|g| g.name().to_owned())
        .unwrap_or_default()
}

fn date(day: i32) -> String {
    NaiveDate::from_num_days_from_ce_opt(day).map_or_else(String::new, |d| d.to_string())
}

fn window_text(w: &Window) -> String {
    match (w.start, w.end) {
        (i32::MIN, i32::MAX) => "without dates".to_owned(),
        (i32::MIN, end) => format!("until {}", date(end)),
        (start, i32::MAX) => format!("from {}", date(start)),
        (start, end) => format!("from {} to {}", date(start), date(end)),
    }
}

fn percent(x: f32) -> u32 {
    (x * 100.0).round() as u32
}

/// The reasons for a pair: one per component whose value is non-zero.
pub(crate) fn reasons(v: &PairView<'_>) -> Vec<Reason> {
    let t = tables();
    let c = v.components;
    let mut out = Vec::new();
    let mut push = |component: Component, text: String| out.push(Reason { component, text });

    if c.theme > 0.0 {
        let shared_topics = v.need.topics.and(&v.offer.topics);
        let topics: Vec<String> = shared_topics
            .iter()
            .filter_map(|i| t.topics.get(i))
            .map(|tp| in_sentence(tp.label()))
            .collect();
        let what = if topics.is_empty() {
            theme_names(v.need.themes & v.offer.themes)
        } else {
            topics
        };
        push(Component::Theme, format!("both work on {}", join(&what)));
    }
    if c.language > 0.0 {
        let names = language_names(&v.need.languages.and(&v.offer.languages));
        let noun = if names.len() > 1 {
            "shared languages"
        } else {
            "shared language"
        };
        push(Component::Language, format!("{noun}: {}", join(&names)));
    }
    if c.support > 0.0 {
        let shared = labels(
            SupportType::ALL,
            v.need.support & v.offer.support,
            support_label,
        );
        push(
            Component::Support,
            format!("the offer provides the {} the need asks for", join(&shared)),
        );
    }
    if c.geography > 0.0
        && let Some(level) = v.level
    {
        let chain = t.chain(v.country);
        let entry = v
            .coverage
            .iter()
            .find(|g| chain.contains(g) && t.level(**g) == level);
        let text = match (level, entry) {
            (LEVEL_WORLD, _) | (_, None) => "the offer is available world-wide".to_owned(),
            (LEVEL_COUNTRY, Some(&g)) => format!("the offer is aimed at {}", geo_name(g)),
            (_, Some(&g)) => format!("the offer covers {}", geo_name(g)),
        };
        push(Component::Geography, text);
    }
    if c.time > 0.0 {
        let text = if c.time >= 0.995 {
            "the dates fit".to_owned()
        } else {
            format!("the dates overlap for {}% of the window", percent(c.time))
        };
        push(Component::Time, text);
    }
    if c.target_groups.is_some_and(|x| x > 0.0) {
        let groups = labels(
            TargetGroup::ALL,
            v.need.target_groups & v.offer.target_groups,
            group_label,
        );
        push(
            Component::TargetGroups,
            format!("both focus on {}", join(&groups)),
        );
    }
    if c.text > 0.0 {
        let terms: Vec<String> = v.shared_terms.iter().take(3).cloned().collect();
        push(
            Component::Text,
            format!("the descriptions share key terms: {}", terms.join(", ")),
        );
    }
    if c.concepts.is_some_and(|x| x > 0.0) {
        let shared = v.need.concepts.and(&v.offer.concepts);
        let labels: Vec<String> = Thesaurus::bundled()
            .labels(shared.iter())
            .into_iter()
            .take(3)
            .map(in_sentence)
            .collect();
        push(
            Component::Concepts,
            format!("both are about {}", join(&labels)),
        );
    }
    let t = &v.tally;
    if t.completed_nearby > 0 {
        push(
            Component::TrackRecord,
            format!(
                "the provider has completed {} in {}",
                count(
                    t.completed_nearby,
                    "similar partnership",
                    "similar partnerships"
                ),
                geo_name(t.area)
            ),
        );
    }
    let shortlisted = (t.shortlisted > 0).then(|| {
        format!(
            "shortlisted this offer for {}",
            count(t.shortlisted, "similar need", "similar needs")
        )
    });
    let dismissed = (t.dismissed > 0).then(|| {
        let it = if shortlisted.is_some() {
            "it"
        } else {
            "this offer"
        };
        format!(
            "dismissed {it} for {}",
            count(t.dismissed, "similar need", "similar needs")
        )
    });
    let feedback: Vec<String> = shortlisted.into_iter().chain(dismissed).collect();
    if !feedback.is_empty() {
        push(
            Component::Feedback,
            format!("coordinators {}", feedback.join(" and ")),
        );
    }
    if c.capacity > 0.0 {
        let free = v.offer.remaining.min(v.offer.capacity);
        let noun = if free == 1 {
            "partnership"
        } else {
            "partnerships"
        };
        push(
            Component::Capacity,
            format!("the offer has room for {free} more {noun}"),
        );
    }
    out
}

/// What held the pair back: components at zero that would have counted.
pub(crate) fn concerns(v: &PairView<'_>) -> Vec<Reason> {
    let c = v.components;
    let mut out = Vec::new();
    let mut push = |component: Component, text: String| out.push(Reason { component, text });
    if c.language == 0.0 {
        push(
            Component::Language,
            format!(
                "no shared language: the need works in {}, the offer in {}",
                join(&language_names(&v.need.languages)),
                join(&language_names(&v.offer.languages))
            ),
        );
    }
    if c.support == 0.0 {
        push(
            Component::Support,
            format!(
                "the offer provides none of the support asked for ({})",
                join(&labels(SupportType::ALL, v.need.support, support_label))
            ),
        );
    }
    if c.target_groups == Some(0.0) {
        push(
            Component::TargetGroups,
            format!(
                "the offer does not address {}",
                join(&labels(TargetGroup::ALL, v.need.target_groups, group_label))
            ),
        );
    }
    if c.text == 0.0 {
        push(
            Component::Text,
            "the descriptions share no key term".to_owned(),
        );
    }
    if c.capacity == 0.0 {
        push(Component::Capacity, "the offer is at capacity".to_owned());
    }
    out
}

/// "1 similar need", "3 similar needs".
fn count(k: u16, one: &str, many: &str) -> String {
    format!("{k} {}", if k == 1 { one } else { many })
}

/// The plain message for a failed rule.
pub(crate) fn rule_message(rule: HardRule, v: &PairView<'_>, need_status: &str) -> String {
    let t = tables();
    match rule {
        HardRule::NeedNotOpen => format!("the need is {need_status}"),
        HardRule::OfferNotOpen => "the offer is withdrawn".to_owned(),
        HardRule::OfferPaused => "the offer is paused".to_owned(),
        HardRule::NoSharedTheme => format!(
            "no shared theme: the need is about {}, the offer about {}",
            join(&theme_names(v.need.themes)),
            join(&theme_names(v.offer.themes))
        ),
        HardRule::CountryNotCovered => {
            let covers: Vec<String> = v.coverage.iter().map(|&g| geo_name(g)).collect();
            format!(
                "the offer does not cover {} (it covers {})",
                t.geos
                    .get(usize::from(v.country))
                    .map(|g| g.name())
                    .unwrap_or_default(),
                join(&covers)
            )
        }
        HardRule::BeneficiaryNotEligible => format!(
            "the offer is not open to {} beneficiaries (only {})",
            join(&labels(
                BeneficiaryType::ALL,
                v.need.beneficiary,
                beneficiary_label
            )),
            join(&labels(
                BeneficiaryType::ALL,
                v.offer.beneficiaries,
                beneficiary_label
            ))
        ),
        HardRule::WindowsDisjoint => format!(
            "the dates do not overlap: the need runs {}, the offer {}",
            window_text(&v.need.window),
            window_text(&v.offer.window)
        ),
        HardRule::RequiredLanguageMissing => format!(
            "the need requires {} and the offer works in {}",
            join(&language_names(&v.need.languages)),
            join(&language_names(&v.offer.languages))
        ),
        HardRule::NoCommonDeliveryMode => format!(
            "the need accepts {} delivery only, the offer delivers {}",
            join(&labels(DeliveryMode::ALL, v.need.delivery, delivery_label)),
            join(&labels(DeliveryMode::ALL, v.offer.delivery, delivery_label))
        ),
        HardRule::Dismissed => "a coordinator dismissed this pair".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_read_as_sentences() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(join(&s(&["French"])), "French");
        assert_eq!(join(&s(&["English", "French"])), "English and French");
        assert_eq!(join(&s(&["a", "b", "c"])), "a, b and c");
    }

    #[test]
    fn labels_keep_acronyms_and_lower_the_rest() {
        assert_eq!(in_sentence("CSIRT establishment"), "CSIRT establishment");
        assert_eq!(
            in_sentence("Cybercrime legislation"),
            "cybercrime legislation"
        );
    }
}
