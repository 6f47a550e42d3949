//! What the matcher can be tuned by: [`MatcherConfig`], deserialisable from the service's
//! configuration file, with defaults tuned on the labelled evaluation set (see the README).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Everything the engine reads from configuration. Every field has a default, so an empty
/// table (`{}`) is a valid configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct MatcherConfig {
    /// Suggestions shown per need and per offer, and the depth the plan draws pairs from.
    pub top_k: usize,
    /// Entries kept per list, at least `top_k`. The slack lets an offer leave a list without a
    /// rescan of that list's candidates: only when a list falls below `top_k` is it recomputed.
    pub keep: usize,
    pub weights: Weights,
    pub theme_fit: ThemeFit,
    pub geography: GeoSpecificity,
    pub text: TextConfig,
    pub experience: ExperienceConfig,
}

impl Default for MatcherConfig {
    fn default() -> Self {
        Self {
            top_k: 20,
            keep: 40,
            weights: Weights::default(),
            theme_fit: ThemeFit::default(),
            geography: GeoSpecificity::default(),
            text: TextConfig::default(),
            experience: ExperienceConfig::default(),
        }
    }
}

/// How far what the review workflow taught moves a score (see [`crate::experience`]): each is
/// the share of the distance to 1 (track record, shortlists) or to 0 (dismissals) that a
/// score moves with many similar cases; one case moves it half as far.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ExperienceConfig {
    /// Partnerships the provider completed for similar needs in the need's area.
    pub track_record: f32,
    /// Similar needs coordinators shortlisted or introduced the offer for.
    pub shortlisted: f32,
    /// Similar needs coordinators dismissed the offer for.
    pub dismissed: f32,
}

impl Default for ExperienceConfig {
    fn default() -> Self {
        Self {
            track_record: 0.3,
            shortlisted: 0.1,
            dismissed: 0.2,
        }
    }
}

/// How much each soft component counts on each side of the reciprocal score.
///
/// Each side's fit is the weighted mean of its components (a component that does not apply,
/// such as target groups when the need names none, drops out of the mean); the pair's score is
/// the harmonic mean of the two fits, so a match that only one side would want scores low.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Weights {
    /// How well the offer serves what the need asks for.
    pub need: NeedWeights,
    /// How well the need falls within what the offer is for.
    pub offer: OfferWeights,
}

/// Need-side weights. Defaults: tuned on the evaluation set (README, "Matching quality").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct NeedWeights {
    pub language: f32,
    pub theme: f32,
    pub support: f32,
    pub geography: f32,
    pub time: f32,
    pub target_groups: f32,
    pub text: f32,
    pub capacity: f32,
    /// What both texts are about, by the thesaurus's concepts, in any language (0 by default:
    /// on real cases the concepts' cosine ranked worse than the topics they give the theme
    /// component; see the README).
    pub concepts: f32,
}

impl Default for NeedWeights {
    fn default() -> Self {
        Self {
            language: 0.20,
            theme: 0.25,
            support: 0.45,
            geography: 0.30,
            time: 0.05,
            target_groups: 0.05,
            text: 0.15,
            capacity: 0.05,
            concepts: 0.0,
        }
    }
}

/// Offer-side weights. Defaults: tuned on the evaluation set (README, "Matching quality").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct OfferWeights {
    pub language: f32,
    pub theme: f32,
    /// An offer aimed at a country or sub-region is about the needs there more than a
    /// world-wide one is about any single need.
    pub geography: f32,
    pub time: f32,
    pub target_groups: f32,
    pub text: f32,
    /// An offer of exactly the kind of help asked for is about the need more than one of
    /// every kind is (share of the offer's support types the need asks for).
    pub support: f32,
    pub concepts: f32,
}

impl Default for OfferWeights {
    fn default() -> Self {
        Self {
            language: 0.60,
            theme: 0.40,
            geography: 0.10,
            time: 0.10,
            target_groups: 0.10,
            text: 0.20,
            support: 0.0,
            concepts: 0.0,
        }
    }
}

impl Weights {
    /// Names of the tunable weights, in the order of [`Weights::get`] and [`Weights::set`].
    pub const NAMES: [&'static str; 17] = [
        "need.language",
        "need.theme",
        "need.support",
        "need.geography",
        "need.time",
        "need.target_groups",
        "need.text",
        "need.capacity",
        "need.concepts",
        "offer.language",
        "offer.theme",
        "offer.geography",
        "offer.time",
        "offer.target_groups",
        "offer.text",
        "offer.support",
        "offer.concepts",
    ];

    fn slot(&mut self, index: usize) -> Option<&mut f32> {
        let (n, o) = (&mut self.need, &mut self.offer);
        Some(match index {
            0 => &mut n.language,
            1 => &mut n.theme,
            2 => &mut n.support,
            3 => &mut n.geography,
            4 => &mut n.time,
            5 => &mut n.target_groups,
            6 => &mut n.text,
            7 => &mut n.capacity,
            8 => &mut n.concepts,
            9 => &mut o.language,
            10 => &mut o.theme,
            11 => &mut o.geography,
            12 => &mut o.time,
            13 => &mut o.target_groups,
            14 => &mut o.text,
            15 => &mut o.support,
            16 => &mut o.concepts,
            _ => return None,
        })
    }

    /// The weight named `NAMES[index]`.
    pub fn get(&self, index: usize) -> Option<f32> {
        self.clone().slot(index).map(|w| *w)
    }

    /// Every weight, in the order of [`Weights::NAMES`].
    pub fn all(&self) -> Vec<f32> {
        (0..Self::NAMES.len()).filter_map(|i| self.get(i)).collect()
    }

    /// Sets the weight named `NAMES[index]`; false if there is no such weight.
    pub fn set(&mut self, index: usize, value: f32) -> bool {
        match self.slot(index) {
            Some(w) => {
                *w = value;
                true
            }
            None => false,
        }
    }
}

/// How shared themes and topics turn into the theme component.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ThemeFit {
    /// Share of the component that comes from themes; the rest comes from topics.
    pub theme_share: f32,
    /// Topic credit when one side names no topics (a generic offer for the whole theme, or a
    /// need that did not narrow it): below any shared topic, above disjoint topics.
    pub generic_topic_credit: f32,
}

impl Default for ThemeFit {
    fn default() -> Self {
        Self {
            theme_share: 0.3,
            generic_topic_credit: 0.4,
        }
    }
}

/// The geography component by how precisely the offer aims at the need's country: through the
/// most specific coverage entry that includes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct GeoSpecificity {
    /// The country itself is in the coverage.
    pub country: f32,
    /// An M49 intermediate region (`011` Western Africa, `029` Caribbean).
    pub intermediate_region: f32,
    /// An M49 sub-region (`202` Sub-Saharan Africa, `035` South-eastern Asia).
    pub sub_region: f32,
    /// An M49 region (`002` Africa, `142` Asia).
    pub region: f32,
    /// The world (`001`).
    pub world: f32,
}

impl Default for GeoSpecificity {
    fn default() -> Self {
        Self {
            country: 1.0,
            intermediate_region: 0.85,
            sub_region: 0.75,
            region: 0.55,
            world: 0.3,
        }
    }
}

impl GeoSpecificity {
    /// By level: 0 world, 1 region, 2 sub-region, 3 intermediate region, 4 country.
    pub(crate) fn by_level(&self) -> [f32; 5] {
        [
            self.world,
            self.region,
            self.sub_region,
            self.intermediate_region,
            self.country,
        ]
    }
}

/// Text relevance: BM25 term weights over titles and descriptions, compared by cosine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct TextConfig {
    /// BM25 term-frequency saturation.
    pub k1: f32,
    /// BM25 length normalisation.
    pub b: f32,
    /// How many times a title word counts against a description word.
    pub title_weight: u16,
    /// Document frequencies are a snapshot of the corpus (open needs and open offers); the
    /// snapshot, and every score that depends on it, is refreshed when the corpus size has
    /// drifted by more than this fraction since the last one. `None`: only on an explicit
    /// `refresh_text_stats`.
    pub refresh_ratio: Option<f32>,
}

impl Default for TextConfig {
    fn default() -> Self {
        Self {
            k1: 1.2,
            b: 0.75,
            title_weight: 2,
            refresh_ratio: Some(0.25),
        }
    }
}

impl MatcherConfig {
    /// Why the configuration cannot be used, if it cannot.
    pub fn check(&self) -> Result<(), String> {
        if self.top_k == 0 {
            return Err("top_k must be at least 1".into());
        }
        if self.keep < self.top_k {
            return Err("keep must be at least top_k".into());
        }
        if self.keep > 100_000 {
            return Err("keep must be at most 100000".into());
        }
        let finite = |x: f32| x.is_finite() && x >= 0.0;
        if !self.weights.all().into_iter().all(finite) {
            return Err("weights must be finite and not negative".into());
        }
        // Target groups and concepts may not apply; the rest must leave each side something
        // to weigh.
        let (n, o) = (&self.weights.need, &self.weights.offer);
        let need = n.language + n.theme + n.support + n.geography + n.time + n.text + n.capacity;
        let offer = o.language + o.theme + o.geography + o.time + o.text + o.support;
        if need <= 0.0 || offer <= 0.0 {
            return Err(
                "each side needs a positive weight besides target groups and concepts".into(),
            );
        }
        let unit = |x: f32| (0.0..=1.0).contains(&x);
        let g = &self.geography;
        let geo = [
            g.country,
            g.intermediate_region,
            g.sub_region,
            g.region,
            g.world,
        ];
        let t = &self.theme_fit;
        if !geo
            .iter()
            .chain(&[t.theme_share, t.generic_topic_credit])
            .all(|&x| unit(x))
        {
            return Err("geography and theme_fit values must lie in [0, 1]".into());
        }
        // Above one half, a generic offer could outrank one sharing a topic.
        if t.generic_topic_credit > 0.5 {
            return Err("theme_fit.generic_topic_credit must be at most 0.5".into());
        }
        let e = &self.experience;
        if ![e.track_record, e.shortlisted, e.dismissed]
            .iter()
            .all(|&x| unit(x))
        {
            return Err("experience values must lie in [0, 1]".into());
        }
        let x = &self.text;
        if !(x.k1.is_finite() && x.k1 >= 0.0 && unit(x.b)) {
            return Err("text.k1 must be >= 0 and text.b in [0, 1]".into());
        }
        if x.refresh_ratio.is_some_and(|r| !(r.is_finite() && r > 0.0)) {
            return Err("text.refresh_ratio must be positive".into());
        }
        Ok(())
    }
}
