//! Measuring the matching: labelled sets and their metrics, real case files, tuning and
//! cross-validation, and seeded synthetic workloads ([`synth`]) for benchmarks and tests. Kept
//! apart from the engine (`capmatch-engine`), which it drives only through its public API; the
//! `capmatch eval` and `capmatch demo` commands read their cases through it.
//!
//! The synthetic set (`data/eval.json`) holds needs and offers written for this project, and for each
//! need the offers a well-informed coordinator would pick. [`evaluate`] ranks every eligible
//! offer for each need and reports hit@1 (the first suggestion is one of the picks), hit@3 (one
//! of the first three is) and the mean reciprocal rank of the first pick (0 when a pick is not
//! suggested at all). [`tune`] is a coordinate ascent over [`Weights`] on MRR.

use std::fmt;

use capmatch_domain::codes::{
    BeneficiaryType, CountryCode, DeliveryMode, Funding, Geo, LanguageCode, ProviderType,
    SupportType, TargetGroup, Visibility,
};
use capmatch_domain::ids::{NeedId, OfferId};
use capmatch_domain::need::{NeedDetails, NeedState, NeedStatus};
use capmatch_domain::offer::{OfferDetails, OfferState, OfferStatus, Provider};
use capmatch_domain::taxonomy::{ThemeCode, TopicCode};
use capmatch_domain::window::TimeWindow;
use chrono::{DateTime, NaiveDate};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use capmatch_engine::{Engine, EngineError, MatcherConfig, Outcome, Weights};

pub mod synth;

const BUNDLED: &str = include_str!("../data/eval.json");

/// The evaluation set as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvalSet {
    pub version: u32,
    /// What the set is and how it was labelled.
    pub about: String,
    pub offers: Vec<EvalOffer>,
    pub needs: Vec<EvalNeed>,
}

fn default_beneficiaries() -> Vec<BeneficiaryType> {
    BeneficiaryType::ALL.to_vec()
}

fn default_delivery() -> Vec<DeliveryMode> {
    DeliveryMode::ALL.to_vec()
}

fn default_capacity() -> u32 {
    2
}

fn default_partners() -> u32 {
    1
}

fn default_provider() -> ProviderType {
    ProviderType::Ngo
}

fn default_funding() -> Funding {
    Funding::SelfFunded
}

fn default_beneficiary() -> BeneficiaryType {
    BeneficiaryType::Government
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvalOffer {
    pub key: String,
    #[serde(default = "default_provider")]
    pub provider_type: ProviderType,
    pub title: String,
    pub description: String,
    pub themes: Vec<ThemeCode>,
    #[serde(default)]
    pub topics: Vec<TopicCode>,
    pub support_types: Vec<SupportType>,
    pub languages: Vec<LanguageCode>,
    pub coverage: Vec<Geo>,
    #[serde(default = "default_beneficiaries")]
    pub beneficiary_types: Vec<BeneficiaryType>,
    #[serde(default = "default_capacity")]
    pub capacity: u32,
    #[serde(default)]
    pub start: Option<NaiveDate>,
    #[serde(default)]
    pub end: Option<NaiveDate>,
    #[serde(default = "default_delivery")]
    pub delivery_modes: Vec<DeliveryMode>,
    #[serde(default)]
    pub target_groups: Vec<TargetGroup>,
    #[serde(default = "default_funding")]
    pub funding: Funding,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvalNeed {
    pub key: String,
    pub country: CountryCode,
    pub title: String,
    pub description: String,
    pub themes: Vec<ThemeCode>,
    #[serde(default)]
    pub topics: Vec<TopicCode>,
    pub support_types: Vec<SupportType>,
    pub languages: Vec<LanguageCode>,
    #[serde(default)]
    pub languages_required: bool,
    #[serde(default = "default_beneficiary")]
    pub beneficiary_type: BeneficiaryType,
    #[serde(default = "default_delivery")]
    pub delivery_modes: Vec<DeliveryMode>,
    #[serde(default)]
    pub start: Option<NaiveDate>,
    #[serde(default)]
    pub end: Option<NaiveDate>,
    #[serde(default)]
    pub target_groups: Vec<TargetGroup>,
    #[serde(default = "default_partners")]
    pub partners_wanted: u32,
    /// Keys of the offers a coordinator would pick, best first.
    pub relevant: Vec<String>,
    /// Keys of offers that played a secondary part: neither right nor wrong, so left out of
    /// the ranking when it is measured.
    #[serde(default)]
    pub related: Vec<String>,
    /// Why those, in a sentence.
    #[serde(default)]
    pub note: String,
}

fn id_of(kind: &str, key: &str) -> Uuid {
    Uuid::new_v5(
        &Uuid::NAMESPACE_URL,
        format!("capmatch:eval:{kind}:{key}").as_bytes(),
    )
}

/// A file of real cases: programmes described as offers, and states' needs, each written as the
/// state asked before help arrived, labelled with the programmes that delivered it
/// (`true_offers`) and those that played a secondary part (`related_offers`). JSON, one object
/// with `offers` and `needs`; fields not read here (sources, notes) are ignored.
#[derive(Debug, Clone, Deserialize)]
pub struct CaseFile {
    pub offers: Vec<CaseOffer>,
    pub needs: Vec<CaseNeed>,
}

/// A programme as an offer.
#[derive(Debug, Clone, Deserialize)]
pub struct CaseOffer {
    pub id: String,
    #[serde(default)]
    pub provider: String,
    pub provider_type: ProviderType,
    pub title: String,
    pub description: String,
    pub themes: Vec<ThemeCode>,
    pub modalities: Vec<SupportType>,
    /// Countries (alpha-2) it works in; or `regions`.
    #[serde(default)]
    pub countries: Vec<CountryCode>,
    /// UN M49 regions it works in, `world` for all of them.
    #[serde(default)]
    pub regions: Vec<String>,
    pub languages: Vec<LanguageCode>,
    pub eligible_beneficiaries: Vec<BeneficiaryType>,
}

/// A state's need as written before help arrived, with the programmes that delivered it.
#[derive(Debug, Clone, Deserialize)]
pub struct CaseNeed {
    pub id: String,
    pub state: CountryCode,
    pub title: String,
    pub description: String,
    pub themes: Vec<ThemeCode>,
    pub modalities: Vec<SupportType>,
    pub languages: Vec<LanguageCode>,
    pub beneficiary_type: BeneficiaryType,
    pub true_offers: Vec<String>,
    #[serde(default)]
    pub related_offers: Vec<String>,
}

impl CaseOffer {
    /// Where it works: its countries, or its regions (`world` is `001`).
    pub fn coverage(&self) -> Result<Vec<Geo>, String> {
        let mut coverage: Vec<Geo> = self.countries.iter().map(|c| Geo::Country(*c)).collect();
        for region in &self.regions {
            let code = if region == "world" { "001" } else { region };
            coverage.push(
                code.parse()
                    .map_err(|e| format!("offer {}: region {region}: {e}", self.id))?,
            );
        }
        Ok(coverage)
    }
}

impl CaseFile {
    pub fn from_json(json: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(json)
    }

    /// The cases as an evaluation set: each need's true offers are its picks, its related
    /// offers left out of the ranking.
    pub fn to_eval_set(&self) -> Result<EvalSet, String> {
        let offers = self
            .offers
            .iter()
            .map(|o| {
                Ok(EvalOffer {
                    key: o.id.clone(),
                    provider_type: o.provider_type,
                    title: o.title.clone(),
                    description: o.description.clone(),
                    themes: o.themes.clone(),
                    topics: Vec::new(),
                    support_types: o.modalities.clone(),
                    languages: o.languages.clone(),
                    coverage: o.coverage()?,
                    beneficiary_types: o.eligible_beneficiaries.clone(),
                    capacity: CASE_CAPACITY,
                    start: None,
                    end: None,
                    delivery_modes: default_delivery(),
                    target_groups: Vec::new(),
                    funding: default_funding(),
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        let needs = self
            .needs
            .iter()
            .map(|n| EvalNeed {
                key: n.id.clone(),
                country: n.state,
                title: n.title.clone(),
                description: n.description.clone(),
                themes: n.themes.clone(),
                topics: Vec::new(),
                support_types: n.modalities.clone(),
                languages: n.languages.clone(),
                languages_required: false,
                beneficiary_type: n.beneficiary_type,
                delivery_modes: default_delivery(),
                start: None,
                end: None,
                target_groups: Vec::new(),
                partners_wanted: default_partners(),
                relevant: n.true_offers.clone(),
                related: n.related_offers.clone(),
                note: String::new(),
            })
            .collect();
        Ok(EvalSet {
            version: 1,
            about: "real cases".into(),
            offers,
            needs,
        })
    }
}

/// The capacity real cases give their offers (the sources do not say): roomy, so capacity
/// decides nothing.
pub const CASE_CAPACITY: u32 = 10;

impl EvalSet {
    /// The set shipped in `data/eval.json`.
    pub fn bundled() -> Result<Self, serde_json::Error> {
        Self::from_json(BUNDLED)
    }

    pub fn from_json(json: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(json)
    }

    pub fn need_id(key: &str) -> NeedId {
        NeedId::from(id_of("need", key))
    }

    pub fn offer_id(key: &str) -> OfferId {
        OfferId::from(id_of("offer", key))
    }

    /// The needs as open domain states, with ids derived from their keys.
    pub fn need_states(&self) -> Vec<NeedState> {
        let at = DateTime::from_timestamp(1_767_225_600, 0).unwrap_or_default();
        self.needs
            .iter()
            .map(|n| NeedState {
                id: Self::need_id(&n.key),
                country: n.country,
                details: NeedDetails {
                    title: n.title.clone(),
                    description: n.description.clone(),
                    themes: n.themes.clone(),
                    topics: n.topics.clone(),
                    support_types: n.support_types.clone(),
                    languages: n.languages.clone(),
                    languages_required: n.languages_required,
                    beneficiary_type: n.beneficiary_type,
                    delivery_modes: n.delivery_modes.clone(),
                    window: TimeWindow {
                        start: n.start,
                        end: n.end,
                    },
                    target_groups: n.target_groups.clone(),
                    visibility: Visibility::Public,
                    partners_wanted: n.partners_wanted,
                    budget_note: None,
                },
                status: NeedStatus::Open,
                posted_on_behalf: false,
                posted_at: at,
                updated_at: at,
                version: 1,
                withdraw_reason: None,
            })
            .collect()
    }

    /// The offers as open domain states, with ids derived from their keys.
    pub fn offer_states(&self) -> Vec<OfferState> {
        let at = DateTime::from_timestamp(1_767_225_600, 0).unwrap_or_default();
        self.offers
            .iter()
            .filter_map(|o| {
                let org = format!("org:eval-{}", o.key).parse().ok()?;
                Some(OfferState {
                    id: Self::offer_id(&o.key),
                    provider: Provider {
                        org,
                        org_type: o.provider_type,
                    },
                    details: OfferDetails {
                        title: o.title.clone(),
                        description: o.description.clone(),
                        themes: o.themes.clone(),
                        topics: o.topics.clone(),
                        support_types: o.support_types.clone(),
                        languages: o.languages.clone(),
                        coverage: o.coverage.clone(),
                        beneficiary_types: o.beneficiary_types.clone(),
                        capacity: o.capacity,
                        window: TimeWindow {
                            start: o.start,
                            end: o.end,
                        },
                        delivery_modes: o.delivery_modes.clone(),
                        target_groups: o.target_groups.clone(),
                        funding: o.funding,
                        conditions_attached: false,
                        conditions: None,
                    },
                    status: OfferStatus::Open,
                    posted_at: at,
                    updated_at: at,
                    version: 1,
                    status_reason: None,
                })
            })
            .collect()
    }

    /// Fold `fold` of `folds` by need position: (the needs outside it, the needs in it); both
    /// keep every offer.
    pub fn split(&self, fold: usize, folds: usize) -> (EvalSet, EvalSet) {
        let pick = |inside: bool| EvalSet {
            needs: self
                .needs
                .iter()
                .enumerate()
                .filter(|(i, _)| (i % folds.max(1) == fold) == inside)
                .map(|(_, n)| n.clone())
                .collect(),
            ..self.clone()
        };
        (pick(false), pick(true))
    }
}

/// How one need fared.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NeedResult {
    pub key: String,
    /// Rank of the best-placed pick, 1-based; `None` if no pick was suggested.
    pub rank: Option<u32>,
    /// Rank of the coordinator's first choice (the first pick listed).
    pub first_choice_rank: Option<u32>,
    /// The offer ranked first, if any.
    pub first: Option<String>,
}

/// The figures for one configuration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvalReport {
    pub needs: usize,
    pub offers: usize,
    pub hit_at_1: f64,
    pub hit_at_3: f64,
    pub mrr: f64,
    /// Mean reciprocal rank of the coordinator's first choice alone: stricter than `mrr`, and
    /// what tuning breaks ties with.
    pub mrr_first_choice: f64,
    pub per_need: Vec<NeedResult>,
}

impl EvalReport {
    /// Orders reports by MRR, then the first choice's MRR, then hit@1, then hit@3.
    fn key(&self) -> (f64, f64, f64, f64) {
        (
            self.mrr,
            self.mrr_first_choice,
            self.hit_at_1,
            self.hit_at_3,
        )
    }
}

impl fmt::Display for EvalReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} needs, {} offers: hit@1 {:.3}  hit@3 {:.3}  MRR {:.3}  (first choice: MRR {:.3})",
            self.needs, self.offers, self.hit_at_1, self.hit_at_3, self.mrr, self.mrr_first_choice
        )?;
        for r in self.per_need.iter().filter(|r| r.rank != Some(1)) {
            writeln!(
                f,
                "  {:<28} pick at {:<5} first: {}",
                r.key,
                r.rank.map_or("-".to_owned(), |x| x.to_string()),
                r.first.as_deref().unwrap_or("-")
            )?;
        }
        Ok(())
    }
}

/// Ranks every eligible offer for each need of the set and measures where the picks land.
pub fn evaluate(set: &EvalSet, config: &MatcherConfig) -> Result<EvalReport, EngineError> {
    evaluate_with(set, config, false, |_| true)
}

/// [`evaluate`] over an engine holding every need and offer of `set`, ranking the needs
/// `ranked` admits. With `history`, each offer's track record holds the needs it is a pick for
/// (as completed partnerships): a need is never its own history, so each need is ranked with
/// the experience of the others only.
pub fn evaluate_with(
    set: &EvalSet,
    config: &MatcherConfig,
    history: bool,
    ranked: impl Fn(&EvalNeed) -> bool,
) -> Result<EvalReport, EngineError> {
    let depth = set.offers.len().max(1);
    let cfg = MatcherConfig {
        top_k: depth,
        keep: depth,
        ..config.clone()
    };
    let mut builder = Engine::builder(cfg)?;
    for n in set.need_states() {
        builder.need(n);
    }
    for o in set.offer_states() {
        builder.offer(o);
    }
    if history {
        for offer in &set.offers {
            let cases: Vec<(NeedId, Outcome)> = set
                .needs
                .iter()
                .filter(|n| n.relevant.contains(&offer.key))
                .map(|n| (EvalSet::need_id(&n.key), Outcome::Completed))
                .collect();
            builder.offer_experience(EvalSet::offer_id(&offer.key), &cases);
        }
    }
    let engine = builder.build();
    let key_of = |id: OfferId| {
        set.offers
            .iter()
            .find(|o| EvalSet::offer_id(&o.key) == id)
            .map(|o| o.key.clone())
    };
    let mut per_need = Vec::with_capacity(set.needs.len());
    for need in set.needs.iter().filter(|n| ranked(n)) {
        let mut ranked = engine.suggestions_for_need(EvalSet::need_id(&need.key), depth)?;
        ranked.retain(|s| key_of(s.offer).is_none_or(|k| !need.related.contains(&k)));
        let rank = ranked
            .iter()
            .position(|s| key_of(s.offer).is_some_and(|k| need.relevant.contains(&k)))
            .map(|i| i as u32 + 1);
        let first_choice_rank = need.relevant.first().and_then(|best| {
            ranked
                .iter()
                .position(|s| key_of(s.offer).as_ref() == Some(best))
                .map(|i| i as u32 + 1)
        });
        per_need.push(NeedResult {
            key: need.key.clone(),
            rank,
            first_choice_rank,
            first: ranked.first().and_then(|s| key_of(s.offer)),
        });
    }
    Ok(report_of(set, per_need))
}

/// The outcome of [`tune`].
#[derive(Debug, Clone)]
pub struct Tuning {
    pub config: MatcherConfig,
    pub before: EvalReport,
    pub after: EvalReport,
    /// Each accepted change, as "weight: old -> new (MRR)".
    pub steps: Vec<String>,
}

/// Coordinate ascent over the weights: each weight in turn is scaled by a few factors (never
/// to zero: every component stays in the model; a weight at zero tries small values), a change
/// kept only if it ranks better (MRR, then the first choice's MRR, then hit@1, then hit@3), for
/// up to `rounds` passes.
pub fn tune(set: &EvalSet, start: &MatcherConfig, rounds: usize) -> Result<Tuning, EngineError> {
    let coordinates: Vec<Coordinate<'_>> = Weights::NAMES
        .iter()
        .enumerate()
        .map(|(i, name)| Coordinate {
            name,
            get: Box::new(move |c: &MatcherConfig| c.weights.get(i).unwrap_or(0.0)),
            set: Box::new(move |c: &mut MatcherConfig, v| {
                c.weights.set(i, v);
            }),
            values: Box::new(|current| {
                if current == 0.0 {
                    vec![0.05, 0.1, 0.2]
                } else {
                    [0.5, 0.75, 1.25, 1.5, 2.0, 3.0]
                        .iter()
                        .map(|m| (current * m * 1000.0).round() / 1000.0)
                        .collect()
                }
            }),
        })
        .collect();
    ascend(set, start, &coordinates, rounds)
}

type Getter<'a> = Box<dyn Fn(&MatcherConfig) -> f32 + 'a>;
type Setter<'a> = Box<dyn Fn(&mut MatcherConfig, f32) + 'a>;

/// One setting coordinate ascent moves, and the values it tries from the current one.
struct Coordinate<'a> {
    name: &'a str,
    get: Getter<'a>,
    set: Setter<'a>,
    values: Box<dyn Fn(f32) -> Vec<f32> + 'a>,
}

/// Coordinate ascent: each coordinate in turn takes the value that ranks best
/// ([`EvalReport::key`]), a change kept only if it ranks better, for up to `rounds` passes.
fn ascend(
    set: &EvalSet,
    start: &MatcherConfig,
    coordinates: &[Coordinate<'_>],
    rounds: usize,
) -> Result<Tuning, EngineError> {
    let before = evaluate(set, start)?;
    let mut best_cfg = start.clone();
    let mut best = before.clone();
    let mut steps = Vec::new();
    for _ in 0..rounds {
        let mut improved = false;
        for coordinate in coordinates {
            let current = (coordinate.get)(&best_cfg);
            for value in (coordinate.values)(current) {
                if value == current {
                    continue;
                }
                let mut cfg = best_cfg.clone();
                (coordinate.set)(&mut cfg, value);
                if cfg.check().is_err() {
                    continue;
                }
                let report = evaluate(set, &cfg)?;
                if report.key() > best.key() {
                    steps.push(format!(
                        "{}: {current} -> {value} (MRR {:.3}, first choice {:.3})",
                        coordinate.name, report.mrr, report.mrr_first_choice
                    ));
                    best = report;
                    best_cfg = cfg;
                    improved = true;
                }
            }
        }
        if !improved {
            break;
        }
    }
    Ok(Tuning {
        config: best_cfg,
        before,
        after: best,
        steps,
    })
}

/// One parameter the real-case tuning may move: a named setting of [`MatcherConfig`] and the
/// values it may take.
#[derive(Debug, Clone, Copy)]
pub struct Knob {
    pub name: &'static str,
    pub get: fn(&MatcherConfig) -> f32,
    pub set: fn(&mut MatcherConfig, f32),
    pub values: &'static [f32],
}

/// The few parameters fitted on real cases: how much the offer's language, the geography and
/// what both texts are about (their concepts) count, and how much an offer of exactly the kind
/// of help asked for counts on the offer's side. Everything else keeps its default.
pub const REAL_CASE_KNOBS: [Knob; 4] = [
    Knob {
        name: "offer.language",
        get: |c| c.weights.offer.language,
        set: |c, v| c.weights.offer.language = v,
        values: &[0.05, 0.1, 0.2, 0.4, 0.6],
    },
    Knob {
        name: "geography.world",
        get: |c| c.geography.world,
        set: |c, v| c.geography.world = v,
        values: &[0.3, 0.4, 0.5, 0.6],
    },
    Knob {
        name: "concepts (need and offer)",
        get: |c| c.weights.need.concepts,
        set: |c, v| {
            c.weights.need.concepts = v;
            c.weights.offer.concepts = v;
        },
        values: &[0.0, 0.15, 0.3, 0.5, 0.8],
    },
    Knob {
        name: "offer.support",
        get: |c| c.weights.offer.support,
        set: |c, v| c.weights.offer.support = v,
        values: &[0.0, 0.1, 0.2, 0.4],
    },
];

/// Coordinate ascent over `knobs`: each in turn takes the value of its list that ranks best
/// (MRR, then the first choice's MRR, then hit@1, then hit@3), for up to `rounds` passes.
pub fn tune_knobs(
    set: &EvalSet,
    start: &MatcherConfig,
    knobs: &[Knob],
    rounds: usize,
) -> Result<Tuning, EngineError> {
    let coordinates: Vec<Coordinate<'_>> = knobs
        .iter()
        .map(|knob| Coordinate {
            name: knob.name,
            get: Box::new(knob.get),
            set: Box::new(knob.set),
            values: Box::new(|_| knob.values.to_vec()),
        })
        .collect();
    ascend(set, start, &coordinates, rounds)
}

/// Leave-one-out cross-validation of [`tune_knobs`]: each need is ranked by the configuration
/// tuned on all the others, so no figure comes from parameters fitted on the need it scores
/// (the held-out need is ranked among every need and offer of the set, as the API would hold
/// them; with `history`, see [`evaluate_with`]). Returns the held-out report and, per fold, the
/// tuned values.
pub fn cross_validate(
    set: &EvalSet,
    start: &MatcherConfig,
    knobs: &[Knob],
    rounds: usize,
    history: bool,
) -> Result<(EvalReport, Vec<Vec<f32>>), EngineError> {
    let folds = set.needs.len();
    let mut per_need = Vec::with_capacity(folds);
    let mut chosen = Vec::with_capacity(folds);
    for fold in 0..folds {
        let (train, held) = set.split(fold, folds);
        let tuned = tune_knobs(&train, start, knobs, rounds)?;
        chosen.push(knobs.iter().map(|k| (k.get)(&tuned.config)).collect());
        let held_out = |n: &EvalNeed| held.needs.iter().any(|h| h.key == n.key);
        per_need.extend(evaluate_with(set, &tuned.config, history, held_out)?.per_need);
    }
    Ok((report_of(set, per_need), chosen))
}

/// The figures over `per_need`.
fn report_of(set: &EvalSet, per_need: Vec<NeedResult>) -> EvalReport {
    let count = per_need.len().max(1) as f64;
    let share = |f: &dyn Fn(&NeedResult) -> bool| per_need.iter().filter(|r| f(r)).count() as f64;
    let mrr_of = |rank: fn(&NeedResult) -> Option<u32>| {
        per_need
            .iter()
            .map(|r| rank(r).map_or(0.0, |x| 1.0 / f64::from(x)))
            .sum::<f64>()
            / count
    };
    EvalReport {
        needs: per_need.len(),
        offers: set.offers.len(),
        hit_at_1: share(&|r| r.rank == Some(1)) / count,
        hit_at_3: share(&|r| r.rank.is_some_and(|x| x <= 3)) / count,
        mrr: mrr_of(|r| r.rank),
        mrr_first_choice: mrr_of(|r| r.first_choice_rank),
        per_need,
    }
}
