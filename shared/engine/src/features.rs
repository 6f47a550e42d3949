//! Needs and offers as the scorer sees them: bitsets of interned codes, windows in days, a
//! term-count document. Built from the domain states at the engine's edge.

use capmatch_domain::need::NeedState;
use capmatch_domain::offer::OfferState;
use capmatch_domain::window::TimeWindow;
use chrono::Datelike;

use capmatch_domain::taxonomy::{ThemeCode, TopicCode};

use crate::concepts::{ConceptBits, Thesaurus};
use crate::intern::{
    LanguageBits, TopicBits, beneficiary_mask, delivery_mask, support_mask, tables, target_mask,
};
use crate::text::{Doc, TextModel};

/// A date window in days of the common era; an open end is `i32::MIN` or `i32::MAX`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Window {
    pub start: i32,
    pub end: i32,
    /// `1 / days` when bounded on both sides, else 0.
    inv_days: f32,
}

impl Eq for Window {}

impl Window {
    pub const OPEN: Window = Window {
        start: i32::MIN,
        end: i32::MAX,
        inv_days: 0.0,
    };

    fn from_domain(w: &TimeWindow) -> Self {
        let mut out = Self {
            start: w.start.map_or(i32::MIN, |d| d.num_days_from_ce()),
            end: w.end.map_or(i32::MAX, |d| d.num_days_from_ce()),
            inv_days: 0.0,
        };
        if out.bounded() && out.days() > 0 {
            out.inv_days = 1.0 / out.days() as f32;
        }
        out
    }

    /// Same rule as [`TimeWindow::overlaps`]: at least one shared day.
    pub fn overlaps(&self, other: &Window) -> bool {
        self.start <= other.end && self.end >= other.start
    }

    fn bounded(&self) -> bool {
        self.start != i32::MIN && self.end != i32::MAX
    }

    fn days(&self) -> i64 {
        i64::from(self.end) - i64::from(self.start) + 1
    }

    /// The share of the need's window (or, if it is open-ended, of the offer's) that the other
    /// window covers; 1 when neither is bounded, 0 when they do not overlap.
    #[inline]
    pub fn fit(need: &Window, offer: &Window) -> f32 {
        if !need.overlaps(offer) {
            return 0.0;
        }
        let inv = if need.inv_days > 0.0 {
            need.inv_days
        } else if offer.inv_days > 0.0 {
            offer.inv_days
        } else {
            return 1.0;
        };
        let shared =
            i64::from(need.end.min(offer.end)) - i64::from(need.start.max(offer.start)) + 1;
        (shared as f32 * inv).clamp(0.0, 1.0)
    }
}

/// What the scorer reads of a need, kept in one dense array and in the index cards. The
/// reciprocals of the set sizes are precomputed so scoring a pair multiplies and never counts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct NeedHot {
    pub themes: u32,
    /// Themes under which the need names (or its text shows) at least one topic.
    pub topic_themes: u32,
    /// The topics the need names, and those its text shows under its themes.
    pub topics: TopicBits,
    /// The thesaurus concepts its text speaks of.
    pub concepts: ConceptBits,
    /// Those its title names or its description names more than once.
    pub core: ConceptBits,
    pub languages: LanguageBits,
    pub support: u8,
    pub beneficiary: u8,
    pub delivery: u8,
    pub target_groups: u8,
    pub languages_required: bool,
    pub window: Window,
    pub inv: Inverses,
}

/// `1 / count` of a side's sets, 0 for an empty set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Inverses {
    pub themes: f32,
    pub topics: f32,
    pub languages: f32,
    pub support: f32,
    pub target_groups: f32,
    /// `1 / |concepts|` for their cosine, each concept weighing 1, or 2 when it is core.
    pub concepts: f32,
}

impl Inverses {
    pub const ZERO: Inverses = Inverses {
        themes: 0.0,
        topics: 0.0,
        languages: 0.0,
        support: 0.0,
        target_groups: 0.0,
        concepts: 0.0,
    };

    fn of(
        themes: u32,
        topics: &TopicBits,
        languages: &LanguageBits,
        support: u8,
        groups: u8,
        concepts: &ConceptBits,
        core: &ConceptBits,
    ) -> Self {
        let inv = |n: u32| if n == 0 { 0.0 } else { 1.0 / n as f32 };
        Self {
            themes: inv(themes.count_ones()),
            topics: inv(topics.count()),
            languages: inv(languages.count()),
            support: inv(support.count_ones()),
            target_groups: inv(groups.count_ones()),
            // |w|² = Σ (1 + core)² = |concepts| + 3 |core|.
            concepts: inv(concepts.count() + 3 * core.and(concepts).count()).sqrt(),
        }
    }
}

impl NeedHot {
    pub const EMPTY: NeedHot = NeedHot {
        themes: 0,
        topic_themes: 0,
        topics: crate::intern::Bits([0; 2]),
        concepts: crate::intern::Bits([0; 4]),
        core: crate::intern::Bits([0; 4]),
        languages: crate::intern::Bits([0; 3]),
        support: 0,
        beneficiary: 0,
        delivery: 0,
        target_groups: 0,
        languages_required: false,
        window: Window::OPEN,
        inv: Inverses::ZERO,
    };
}

/// What the scorer reads of an offer, kept in one dense array and in the index cards.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct OfferHot {
    pub themes: u32,
    /// Themes under which the offer names (or its text shows) at least one topic.
    pub topic_themes: u32,
    /// The topics the offer names, and those its text shows under its themes.
    pub topics: TopicBits,
    /// The thesaurus concepts its text speaks of.
    pub concepts: ConceptBits,
    /// Those its title names or its description names more than once.
    pub core: ConceptBits,
    pub languages: LanguageBits,
    pub support: u8,
    pub beneficiaries: u8,
    pub delivery: u8,
    pub target_groups: u8,
    pub window: Window,
    pub capacity: u32,
    /// Capacity minus the partnerships the workflow reports as active.
    pub remaining: u32,
    /// The review workflow has taught something about it (see [`crate::experience`]).
    pub experienced: bool,
    pub inv: Inverses,
}

impl OfferHot {
    pub const EMPTY: OfferHot = OfferHot {
        themes: 0,
        topic_themes: 0,
        topics: crate::intern::Bits([0; 2]),
        concepts: crate::intern::Bits([0; 4]),
        core: crate::intern::Bits([0; 4]),
        languages: crate::intern::Bits([0; 3]),
        support: 0,
        beneficiaries: 0,
        delivery: 0,
        target_groups: 0,
        window: Window::OPEN,
        capacity: 0,
        remaining: 0,
        experienced: false,
        inv: Inverses::ZERO,
    };
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NeedFeatures {
    pub hot: NeedHot,
    /// Geo id of the country; `u16::MAX` if unknown to the tables (no candidates then).
    pub country: u16,
    pub partners_wanted: u32,
    pub doc: Doc,
    /// Whether the need's text counts in the corpus statistics (document frequencies, corpus
    /// size) every text score is computed from: not when it is restricted, so a restricted
    /// need's words move no one else's scores.
    pub in_corpus: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct OfferFeatures {
    pub hot: OfferHot,
    /// Geo ids, most specific level first, so the first entry that includes a country is the
    /// one that sets the geography component.
    pub coverage: Box<[u16]>,
    pub doc: Doc,
}

fn theme_mask(themes: &[ThemeCode]) -> u32 {
    let t = tables();
    themes
        .iter()
        .filter_map(|c| t.theme(c))
        .fold(0, |m, i| m | (1 << i))
}

/// Themes of the topics named.
fn topic_theme_mask(topics: &[TopicCode]) -> u32 {
    let t = tables();
    topics
        .iter()
        .filter_map(|c| t.theme(&c.theme()))
        .fold(0, |m, i| m | (1 << i))
}

fn topic_bits(topics: &[TopicCode]) -> TopicBits {
    let t = tables();
    let mut bits = TopicBits::default();
    topics
        .iter()
        .filter_map(|c| t.topic(c))
        .for_each(|i| bits.insert(i));
    bits
}

fn language_bits(languages: &[capmatch_domain::codes::LanguageCode]) -> LanguageBits {
    let t = tables();
    let mut bits = LanguageBits::default();
    languages
        .iter()
        .filter_map(|c| t.language(c))
        .for_each(|i| bits.insert(i));
    bits
}

/// What a text of an entity with `themes` and the named `topics` is about: its concepts, its
/// core concepts, and its topics: the named ones, and under each of its themes where it names
/// none, its core concepts' topics there (a poster who named topics said what it meant).
fn read(
    title: &str,
    description: &str,
    themes: &[ThemeCode],
    topics: &[TopicCode],
) -> (ConceptBits, ConceptBits, Vec<TopicCode>) {
    let thesaurus = Thesaurus::bundled();
    let (concepts, core) = thesaurus.read_entity(title, description);
    let mut all: Vec<TopicCode> = topics.to_vec();
    let named: Vec<ThemeCode> = topics.iter().map(TopicCode::theme).collect();
    for topic in thesaurus.topics_of(&core) {
        let theme = topic.theme();
        if themes.contains(&theme) && !named.contains(&theme) && !all.contains(topic) {
            all.push(*topic);
        }
    }
    (concepts, core, all)
}

pub(crate) fn need_features(state: &NeedState, text: &mut TextModel) -> NeedFeatures {
    let d = &state.details;
    let (concepts, core, all_topics) = read(&d.title, &d.description, &d.themes, &d.topics);
    let (themes, topics) = (theme_mask(&d.themes), topic_bits(&all_topics));
    let languages = language_bits(&d.languages);
    let (support, target_groups) = (
        support_mask(&d.support_types),
        target_mask(&d.target_groups),
    );
    NeedFeatures {
        hot: NeedHot {
            themes,
            topic_themes: topic_theme_mask(&all_topics),
            topics,
            concepts,
            core,
            languages,
            support,
            beneficiary: beneficiary_mask(std::slice::from_ref(&d.beneficiary_type)),
            delivery: delivery_mask(&d.delivery_modes),
            target_groups,
            languages_required: d.languages_required,
            window: Window::from_domain(&d.window),
            inv: Inverses::of(
                themes,
                &topics,
                &languages,
                support,
                target_groups,
                &concepts,
                &core,
            ),
        },
        country: tables().country(&state.country).unwrap_or(u16::MAX),
        partners_wanted: d.partners_wanted,
        doc: text.doc(&d.title, &d.description),
        in_corpus: d.visibility != capmatch_domain::codes::Visibility::Restricted,
    }
}

pub(crate) fn offer_features(state: &OfferState, text: &mut TextModel) -> OfferFeatures {
    let d = &state.details;
    let t = tables();
    let mut coverage: Vec<u16> = d.coverage.iter().filter_map(|g| t.geo(g)).collect();
    coverage.sort_unstable_by_key(|&g| (std::cmp::Reverse(t.level(g)), g));
    coverage.dedup();
    let (concepts, core, all_topics) = read(&d.title, &d.description, &d.themes, &d.topics);
    let (themes, topics) = (theme_mask(&d.themes), topic_bits(&all_topics));
    let languages = language_bits(&d.languages);
    let (support, target_groups) = (
        support_mask(&d.support_types),
        target_mask(&d.target_groups),
    );
    OfferFeatures {
        hot: OfferHot {
            themes,
            topic_themes: topic_theme_mask(&all_topics),
            topics,
            concepts,
            core,
            languages,
            support,
            beneficiaries: beneficiary_mask(&d.beneficiary_types),
            delivery: delivery_mask(&d.delivery_modes),
            target_groups,
            window: Window::from_domain(&d.window),
            capacity: d.capacity,
            remaining: d.capacity,
            experienced: false,
            inv: Inverses::of(
                themes,
                &topics,
                &languages,
                support,
                target_groups,
                &concepts,
                &core,
            ),
        },
        coverage: coverage.into(),
        doc: text.doc(&d.title, &d.description),
    }
}
