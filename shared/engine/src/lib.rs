//! The capmatch matching engine: an in-memory, incrementally maintained index of suggested
//! partnerships between needs and offers, with reasons, explanations and a capacity-aware plan.
//! Pure: no I/O, no clock, no web framework, no store; the matcher service (`capmatch-matcher`)
//! feeds it need and offer states and review decisions, and serves what it answers. Its
//! measurement (labelled sets, metrics, synthetic workloads) is `capmatch-eval`.
//!
//! Module map:
//!
//! - [`engine`]: the [`Engine`] — `upsert_need`, `upsert_offer`, `set_dismissed`,
//!   `set_offer_load`, `suggestions_for_need`, `suggestions_for_offer`, `explain`, `pairs`,
//!   `plan`, `stats` — and its builder for start-up rebuilds. Internally `maintain` keeps the
//!   top lists exact under change and `query` answers.
//! - [`score`]: the pair model: [`HardRule`]s, soft [`Components`] and the reciprocal score.
//! - [`explain`]: [`Suggestion`], [`Reason`] and [`Explanation`], in plain language.
//! - [`text`]: tokeniser, stemmer, corpus statistics and BM25 term signatures.
//! - [`experience`]: what the review workflow taught about an offer (track record, coordinators'
//!   shortlists and dismissals for similar needs), and how it moves a pair's score.
//! - [`concepts`]: the multilingual thesaurus: what a text is about (concepts, and the topics
//!   a poster did not name), whatever its language.
//! - [`plan`]: the min-cost-flow assignment behind [`Engine::plan`].
//! - [`config`]: [`MatcherConfig`] and its [`Weights`], with their defaults.
//! - `features`, `intern`, `index`, `toplist`: compact internal representations (interned
//!   codes as bitsets, windows in days), the (theme × area) candidate indexes, ranked lists
//!   kept exact under change.
//!
//! How a suggestion comes about: an offer is filed in the index under each of its themes ×
//! each area it covers (a country or an M49 region), a need under each of its themes × its
//! country, each entry carrying a copy of the entity's scoring features ("cards"). The offers a
//! need can be matched with are read from the lists of its themes × the areas containing its
//! country (never from a scan of all offers), filtered by the remaining hard rules, scored
//! exactly, and the best `keep` are kept; the need is offered to each of those offers' own
//! lists, which it enters only if it beats their last entry (a mirrored threshold per list
//! means most are never touched). The same happens from each offer's side. A change to one need
//! or offer touches only the lists of what it can reach. See `README.md` in this crate for the
//! model, the defaults and the figures.

pub mod concepts;
pub mod config;
pub mod engine;
pub mod experience;
pub mod explain;
mod features;
mod index;
mod intern;
pub mod plan;
pub mod score;
pub mod text;
mod toplist;

pub use config::{
    ExperienceConfig, GeoSpecificity, MatcherConfig, NeedWeights, OfferWeights, ThemeFit, Weights,
};
pub use engine::{Change, Engine, EngineBuilder, EngineError, ScanMode, ScoredPair, Stats};
pub use experience::{Outcome, Tally};
pub use explain::{Explanation, Reason, RuleFailure, Standing, Suggestion};
pub use plan::{Assignment, Plan};
pub use score::{Component, Components, HardRule};
pub use text::TextStats;
