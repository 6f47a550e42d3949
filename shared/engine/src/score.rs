//! The pair model: hard rules that exclude a pair, soft components in [0, 1], and the
//! reciprocal score.
//!
//! **Hard rules** (a pair that breaks one is never suggested, and [`crate::Engine::explain`]
//! names each one it breaks): both open, offer not paused, at least one shared theme, the
//! offer's coverage includes the need's country (directly, through an M49 region, or `001`),
//! the need's beneficiary type is eligible, the windows overlap where both are given, a shared
//! language when the need marks its languages required, a common delivery mode, and the pair
//! not dismissed.
//!
//! *Delivery mode is a rule, not a component*: the domain defines a need's delivery modes as
//! the modes it accepts (both unless the state narrowed them), so a state that asked for
//! in-person help only has said a remote-only offer does not serve it.
//!
//! **Soft components** (see [`Components`]) make two fits: the need side (how well the offer
//! serves what the need asks) and the offer side (how well the need falls within what the
//! offer is for). Each is the weighted mean of its components; the score is their harmonic
//! mean, so a pair only one side would want scores low.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::config::MatcherConfig;
use crate::experience::{Tally, weight};
use crate::features::{NeedHot, OfferHot, Window};

/// A rule whose failure keeps a pair out of the suggestions.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum HardRule {
    /// The need is fulfilled or withdrawn.
    NeedNotOpen,
    /// The offer is withdrawn.
    OfferNotOpen,
    /// The offer is paused.
    OfferPaused,
    NoSharedTheme,
    CountryNotCovered,
    BeneficiaryNotEligible,
    WindowsDisjoint,
    /// The need requires its languages and the offer speaks none of them.
    RequiredLanguageMissing,
    NoCommonDeliveryMode,
    /// A coordinator dismissed the pair.
    Dismissed,
}

impl HardRule {
    pub const ALL: [HardRule; 10] = [
        HardRule::NeedNotOpen,
        HardRule::OfferNotOpen,
        HardRule::OfferPaused,
        HardRule::NoSharedTheme,
        HardRule::CountryNotCovered,
        HardRule::BeneficiaryNotEligible,
        HardRule::WindowsDisjoint,
        HardRule::RequiredLanguageMissing,
        HardRule::NoCommonDeliveryMode,
        HardRule::Dismissed,
    ];

    pub(crate) fn bit(self) -> u16 {
        1 << (self as u16)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::NeedNotOpen => "need_not_open",
            Self::OfferNotOpen => "offer_not_open",
            Self::OfferPaused => "offer_paused",
            Self::NoSharedTheme => "no_shared_theme",
            Self::CountryNotCovered => "country_not_covered",
            Self::BeneficiaryNotEligible => "beneficiary_not_eligible",
            Self::WindowsDisjoint => "windows_disjoint",
            Self::RequiredLanguageMissing => "required_language_missing",
            Self::NoCommonDeliveryMode => "no_common_delivery_mode",
            Self::Dismissed => "dismissed",
        }
    }
}

/// A soft component, as named in reasons.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Component {
    Language,
    Theme,
    Support,
    Geography,
    Time,
    TargetGroups,
    Text,
    Capacity,
    /// What both texts are about, by the thesaurus's concepts.
    Concepts,
    /// Partnerships the provider completed for similar needs nearby.
    TrackRecord,
    /// How coordinators decided on the offer for similar needs.
    Feedback,
}

impl Component {
    pub const ALL: [Component; 11] = [
        Component::Language,
        Component::Theme,
        Component::Support,
        Component::Geography,
        Component::Time,
        Component::TargetGroups,
        Component::Text,
        Component::Capacity,
        Component::Concepts,
        Component::TrackRecord,
        Component::Feedback,
    ];
}

/// The soft components of a pair, each in [0, 1].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Components {
    /// 0 without a shared language, else `0.5 + 0.5 · shared / need's languages`.
    pub language: f32,
    /// Need's view: `theme_share · shared themes / need's themes + (1 − theme_share) · topics`,
    /// where topics is `0.5 + 0.5 · shared topics / need's topics` when they share one, the
    /// generic credit when either side names no topic within the shared themes, and 0 when
    /// both name topics there and none is shared. A shared topic always beats a shared theme.
    pub theme: f32,
    /// The same from the offer's view (denominators are the offer's themes and topics).
    pub theme_offer: f32,
    /// Share of the need's support types the offer provides.
    pub support: f32,
    /// Share of the offer's support types the need asks for: an offer of exactly the kind of
    /// help asked for fits better than one of every kind.
    pub support_offer: f32,
    /// How precisely the offer's coverage aims at the need's country (configured by level);
    /// counts on both sides.
    pub geography: f32,
    /// Share of the need's window (or, if open-ended, of the offer's) the other covers.
    pub time: f32,
    /// Share of the need's target groups the offer also serves; `None` if it names none.
    pub target_groups: Option<f32>,
    /// Share of the offer's target groups the need also serves; `None` if it names none.
    pub target_groups_offer: Option<f32>,
    /// Cosine of the BM25 term signatures of the two texts.
    pub text: f32,
    /// Cosine of the two texts' concepts (the thesaurus's, in any of its languages): what both
    /// are about, whatever their words; `None` when either text shows none.
    pub concepts: Option<f32>,
    /// Share of the offer's capacity still free.
    pub capacity: f32,
    /// `k / (k + 1)` for the `k` partnerships the provider completed for similar needs in the
    /// need's area; raises the score (see [`crate::experience`]).
    pub track_record: f32,
    /// `s / (s + 1) − d / (d + 1)` for the `s` similar needs coordinators shortlisted the
    /// offer for and the `d` they dismissed it for; moves the score up or down.
    pub feedback: f32,
}

impl Components {
    /// The value a reason for `component` is conditioned on (need's view where two exist).
    pub fn value(&self, component: Component) -> f32 {
        match component {
            Component::Language => self.language,
            Component::Theme => self.theme,
            Component::Support => self.support,
            Component::Geography => self.geography,
            Component::Time => self.time,
            Component::TargetGroups => self.target_groups.unwrap_or(0.0),
            Component::Text => self.text,
            Component::Capacity => self.capacity,
            Component::Concepts => self.concepts.unwrap_or(0.0),
            Component::TrackRecord => self.track_record,
            Component::Feedback => self.feedback,
        }
    }
}

/// The content rules a pair breaks, as [`HardRule::bit`]s: everything but status and
/// dismissal. `level` is the geography level the offer covers the need's country at.
pub(crate) fn content_rules(n: &NeedHot, o: &OfferHot, level: Option<u8>) -> u16 {
    let mut failed = 0;
    if n.themes & o.themes == 0 {
        failed |= HardRule::NoSharedTheme.bit();
    }
    if level.is_none() {
        failed |= HardRule::CountryNotCovered.bit();
    }
    if n.beneficiary & o.beneficiaries == 0 {
        failed |= HardRule::BeneficiaryNotEligible.bit();
    }
    if !n.window.overlaps(&o.window) {
        failed |= HardRule::WindowsDisjoint.bit();
    }
    if n.languages_required && !n.languages.intersects(&o.languages) {
        failed |= HardRule::RequiredLanguageMissing.bit();
    }
    if n.delivery & o.delivery == 0 {
        failed |= HardRule::NoCommonDeliveryMode.bit();
    }
    failed
}

/// Whether a pair found through the candidate index (shared theme and coverage already
/// given) passes the remaining content rules.
#[inline]
pub(crate) fn passes_rest(n: &NeedHot, o: &OfferHot) -> bool {
    n.beneficiary & o.beneficiaries != 0
        && n.delivery & o.delivery != 0
        && n.window.overlaps(&o.window)
        && (!n.languages_required || n.languages.intersects(&o.languages))
}

/// A pair's fits and score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Fit {
    pub need: f32,
    pub offer: f32,
    pub score: f32,
}

/// The configuration prepared for scoring many pairs: weights as arrays and the reciprocals of
/// each side's weight sum (with and without target groups, which may not apply). Every score
/// the engine computes, in its passes, its scans and its explanations, comes from here, so
/// they agree to the bit.
#[derive(Debug, Clone)]
pub(crate) struct Scorer {
    share: f32,
    credit: f32,
    geo: [f32; 5],
    /// language, theme, support, geography, time, target groups, text, capacity, concepts.
    need: [f32; 9],
    /// language, theme, geography, time, target groups, text, support, concepts.
    offer: [f32; 8],
    /// The reciprocal of each side's weight sum, indexed by whether target groups apply and
    /// whether concepts do.
    inv_need: [[f32; 2]; 2],
    inv_offer: [[f32; 2]; 2],
    /// Track record, shortlists, dismissals: the share of the distance to 1 (or to 0) each
    /// moves a score by, at full weight.
    experience: [f32; 3],
    /// Whether either side weighs the concepts component (when neither does, it is left out:
    /// not shown, not explained).
    concepts: bool,
}

fn inverse(x: f32) -> f32 {
    if x > 0.0 { 1.0 / x } else { 0.0 }
}

impl Scorer {
    pub fn new(cfg: &MatcherConfig) -> Self {
        let (w, v) = (&cfg.weights.need, &cfg.weights.offer);
        let need = [
            w.language,
            w.theme,
            w.support,
            w.geography,
            w.time,
            w.target_groups,
            w.text,
            w.capacity,
            w.concepts,
        ];
        let offer = [
            v.language,
            v.theme,
            v.geography,
            v.time,
            v.target_groups,
            v.text,
            v.support,
            v.concepts,
        ];
        let need_sum: f32 = need.iter().sum();
        let offer_sum: f32 = offer.iter().sum();
        let sums = |sum: f32, groups: f32, concepts: f32| {
            [
                [inverse(sum - groups - concepts), inverse(sum - groups)],
                [inverse(sum - concepts), inverse(sum)],
            ]
        };
        Self {
            share: cfg.theme_fit.theme_share,
            credit: cfg.theme_fit.generic_topic_credit,
            geo: cfg.geography.by_level(),
            need,
            offer,
            inv_need: sums(need_sum, w.target_groups, w.concepts),
            inv_offer: sums(offer_sum, v.target_groups, v.concepts),
            experience: [
                cfg.experience.track_record,
                cfg.experience.shortlisted,
                cfg.experience.dismissed,
            ],
            concepts: w.concepts > 0.0 || v.concepts > 0.0,
        }
    }

    /// Every component, with the text cosine supplied by the caller.
    #[inline(always)]
    pub fn components(
        &self,
        n: &NeedHot,
        o: &OfferHot,
        level: Option<u8>,
        text: f32,
    ) -> Components {
        let shared_langs = n.languages.and(&o.languages).count();
        let language = if shared_langs > 0 {
            0.5 + 0.5 * shared_langs as f32 * n.inv.languages
        } else {
            0.0
        };

        let shared_themes = n.themes & o.themes;
        let (theme, theme_offer) = if shared_themes == 0 {
            (0.0, 0.0)
        } else {
            let shared_topics = n.topics.and(&o.topics).count() as f32;
            // A side that names no topic under the shared themes is generic there.
            let generic =
                n.topic_themes & shared_themes == 0 || o.topic_themes & shared_themes == 0;
            let topic_part = |inv_own: f32| {
                if shared_topics > 0.0 {
                    0.5 + 0.5 * shared_topics * inv_own
                } else if generic {
                    self.credit
                } else {
                    0.0
                }
            };
            let in_common = shared_themes.count_ones() as f32;
            (
                self.share * in_common * n.inv.themes
                    + (1.0 - self.share) * topic_part(n.inv.topics),
                self.share * in_common * o.inv.themes
                    + (1.0 - self.share) * topic_part(o.inv.topics),
            )
        };

        let shared_support = (n.support & o.support).count_ones() as f32;
        let support = shared_support * n.inv.support;
        let support_offer = shared_support * o.inv.support;
        let geography = level.map_or(0.0, |l| {
            self.geo.get(usize::from(l)).copied().unwrap_or(0.0)
        });
        let time = Window::fit(&n.window, &o.window);
        let shared_groups = (n.target_groups & o.target_groups).count_ones() as f32;
        let target_groups = (n.target_groups != 0).then_some(shared_groups * n.inv.target_groups);
        let target_groups_offer =
            (o.target_groups != 0).then_some(shared_groups * o.inv.target_groups);
        let capacity = if o.capacity == 0 {
            0.0
        } else {
            o.remaining.min(o.capacity) as f32 / o.capacity as f32
        };
        // Each concept weighs 1, or 2 when it is core: the dot product of the two weight
        // vectors is Σ (1 + core_n)(1 + core_o) over the shared concepts.
        let shared = n.concepts.and(&o.concepts);
        let dot = shared.count()
            + shared.and(&n.core).count()
            + shared.and(&o.core).count()
            + shared.and(&n.core).and(&o.core).count();
        let concepts = (self.concepts && n.inv.concepts > 0.0 && o.inv.concepts > 0.0)
            .then(|| (dot as f32 * n.inv.concepts * o.inv.concepts).min(1.0));
        Components {
            language,
            theme,
            theme_offer,
            support,
            support_offer,
            geography,
            time,
            target_groups,
            target_groups_offer,
            text,
            capacity,
            concepts,
            track_record: 0.0,
            feedback: 0.0,
        }
    }

    /// Each side's weighted mean of its components, and their harmonic mean.
    #[inline(always)]
    pub fn fit(&self, c: &Components) -> Fit {
        let w = &self.need;
        let concepts = c.concepts.unwrap_or(0.0);
        let with_concepts = usize::from(c.concepts.is_some());
        let need_sum = w[0] * c.language
            + w[1] * c.theme
            + w[2] * c.support
            + w[3] * c.geography
            + w[4] * c.time
            + w[5] * c.target_groups.unwrap_or(0.0)
            + w[6] * c.text
            + w[7] * c.capacity
            + w[8] * concepts;
        let v = &self.offer;
        let offer_sum = v[0] * c.language
            + v[1] * c.theme_offer
            + v[2] * c.geography
            + v[3] * c.time
            + v[4] * c.target_groups_offer.unwrap_or(0.0)
            + v[5] * c.text
            + v[6] * c.support_offer
            + v[7] * concepts;
        let inv_need = self.inv_need[usize::from(c.target_groups.is_some())][with_concepts];
        let inv_offer = self.inv_offer[usize::from(c.target_groups_offer.is_some())][with_concepts];
        let need = (need_sum * inv_need).clamp(0.0, 1.0);
        let offer = (offer_sum * inv_offer).clamp(0.0, 1.0);
        let score = if need + offer > 0.0 {
            2.0 * need * offer / (need + offer)
        } else {
            0.0
        };
        Fit { need, offer, score }
    }

    /// `c` and `fit` with what the offer's record says of the pair (`t`).
    pub fn with_experience(&self, c: &mut Components, fit: Fit, t: &Tally) -> Fit {
        if t.is_empty() {
            return fit;
        }
        let (done, short, dismissed) = (
            weight(t.completed_nearby),
            weight(t.shortlisted),
            weight(t.dismissed),
        );
        c.track_record = done;
        c.feedback = short - dismissed;
        let [track, shortlisted, dismissals] = self.experience;
        let up = (track * done + shortlisted * short).min(1.0);
        let down = (dismissals * dismissed).min(1.0);
        let s = fit.score;
        Fit {
            score: (s + (1.0 - s) * up - s * down).clamp(0.0, 1.0),
            ..fit
        }
    }

    /// Components and fit of a pair, from its parts.
    #[inline]
    pub fn evaluate(
        &self,
        n: &NeedHot,
        o: &OfferHot,
        level: Option<u8>,
        text: f32,
    ) -> (Components, Fit) {
        let c = self.components(n, o, level, text);
        let fit = self.fit(&c);
        (c, fit)
    }
}
