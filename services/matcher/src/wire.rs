//! What the matcher's endpoints answer.

use std::collections::BTreeMap;

use capmatch_domain::actor::OrgId;
use capmatch_domain::codes::CountryCode;
use capmatch_domain::ids::{MatchId, NeedId, OfferId};
use capmatch_domain::need::NeedState;
use capmatch_domain::offer::OfferState;
use capmatch_domain::partnership::{MatchState, MatchStatus, Pair, Side};
use capmatch_service::HistoryEntry;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use capmatch_engine::explain::{Explanation, Reason};
use capmatch_engine::score::Components;

/// A match as the review workflow left it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MatchView {
    #[serde(flatten)]
    pub state: MatchState,
    /// Introduced, and still waiting for a party after the configured time
    /// (`stale_after_hours`, 14 days by default).
    pub stale: bool,
    /// While introduced: the parties that have not accepted yet.
    pub waiting_for: Vec<Side>,
}

impl MatchView {
    pub fn new(state: MatchState, stale: bool) -> Self {
        let waiting_for = state.waiting_for();
        Self {
            state,
            stale,
            waiting_for,
        }
    }
}

/// The state of a pair no one has decided on yet: suggested, version 0.
pub fn suggested_state(need: &NeedState, offer: &OfferState) -> MatchState {
    let pair = Pair {
        need_id: need.id,
        offer_id: offer.id,
        need_country: need.country,
        provider_org: offer.provider.org.clone(),
    };
    MatchState {
        id: pair.match_id(),
        pair,
        status: MatchStatus::Suggested,
        need_accepted: false,
        offer_accepted: false,
        introduced_at: None,
        agreed_at: None,
        reason: None,
        outcome: None,
        declined_by: None,
        close_reason: None,
        updated_at: need.updated_at.max(offer.updated_at),
        version: 0,
    }
}

/// One offer suggested for a need.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SuggestedOffer {
    pub match_id: MatchId,
    /// 1-based place in the need's list, best first.
    pub rank: u32,
    pub offer_id: OfferId,
    pub offer_title: String,
    #[schema(value_type = String, example = "org-cyberaid")]
    pub provider_org: OrgId,
    /// Harmonic mean of the two fits, in [0, 1].
    pub score: f32,
    pub need_fit: f32,
    pub offer_fit: f32,
    pub components: Components,
    pub reasons: Vec<Reason>,
    /// The pair's review status: `suggested` until a coordinator decides on it.
    pub status: MatchStatus,
    pub stale: bool,
}

/// A page of a need's suggested offers.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SuggestedOfferPage {
    pub need_id: NeedId,
    pub items: Vec<SuggestedOffer>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
    /// Suggestions over all pages.
    pub total: u64,
}

/// One need suggested for an offer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SuggestedNeed {
    pub match_id: MatchId,
    /// 1-based place among the suggestions the caller may see, best first.
    pub rank: u32,
    pub need_id: NeedId,
    pub need_title: String,
    #[schema(value_type = String, example = "SN")]
    pub need_country: CountryCode,
    pub score: f32,
    pub need_fit: f32,
    pub offer_fit: f32,
    pub components: Components,
    pub reasons: Vec<Reason>,
    pub status: MatchStatus,
    pub stale: bool,
}

/// A page of an offer's suggested needs: only needs the caller may see, counted and ranked
/// among themselves.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SuggestedNeedPage {
    pub offer_id: OfferId,
    pub items: Vec<SuggestedNeed>,
    pub next_cursor: Option<String>,
    pub total: u64,
}

/// A match in the coordinators' queue.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QueueItem {
    #[serde(flatten)]
    pub view: MatchView,
    pub need_title: String,
    pub offer_title: String,
    /// The pair's current score; absent when it breaks a hard rule now (e.g. the need was
    /// withdrawn) or while the index loads.
    pub score: Option<f32>,
}

/// A page of the queue.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QueuePage {
    pub items: Vec<QueueItem>,
    pub next_cursor: Option<String>,
    pub total: u64,
}

/// One match with its recorded decisions.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MatchDetail {
    #[serde(flatten)]
    pub view: MatchView,
    /// The need's title; absent when the caller may not see the need itself (the provider of
    /// a completed partnership on a restricted need keeps the match's record, not the need).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub need_title: Option<String>,
    pub offer_title: String,
    pub score: Option<f32>,
    /// Every decision, oldest first: who (`actor`, `actor_role`), when (`recorded_at`), and
    /// the note, reason or outcome (`payload.text`).
    pub history: Vec<HistoryEntry>,
}

/// Why a pair is or is not suggested.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WhyView {
    pub match_id: MatchId,
    pub status: MatchStatus,
    #[serde(flatten)]
    pub explanation: Explanation,
}

/// One introduction the plan proposes.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PlannedMatch {
    pub match_id: MatchId,
    pub need_id: NeedId,
    pub offer_id: OfferId,
    pub score: f32,
    /// The pair's review status now.
    pub status: MatchStatus,
}

/// The capacity-aware plan: the assignment of offers to needs among the suggested pairs that
/// maximises the total score, each offer within its remaining capacity, each need within the
/// partners it wants.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PlanView {
    pub assignments: Vec<PlannedMatch>,
    pub total_score: f64,
    /// Suggested pairs the plan chose among.
    pub pairs_considered: usize,
}

/// Counts by one key (a status, theme or M49 region code), in key order.
pub type Counts = BTreeMap<String, u64>;

/// Needs counted for the public statistics.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct NeedCounts {
    pub total: u64,
    /// `open`, `fulfilled`, `withdrawn`.
    pub by_status: Counts,
    /// By theme code; a need with several themes counts under each.
    pub by_theme: Counts,
    /// By the UN M49 region (`002` Africa, `019` Americas, `142` Asia, `150` Europe, `009`
    /// Oceania) of the need's country.
    pub by_region: Counts,
}

/// Offers counted for the public statistics.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct OfferCounts {
    pub total: u64,
    /// `open`, `paused`, `withdrawn`.
    pub by_status: Counts,
    pub by_theme: Counts,
    /// By the UN M49 regions the offer covers (`001` for world-wide coverage); an offer
    /// covering several regions counts under each.
    pub by_region: Counts,
}

/// Matches counted for the public statistics.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct MatchCounts {
    /// Pairs currently suggested or decided.
    pub total: u64,
    /// `suggested` (pairs in the current suggestions nobody has decided on yet), `shortlisted`,
    /// `dismissed`, `introduced`, `agreed`, `declined`, `completed`, `closed`.
    pub by_status: Counts,
}

/// Public transparency statistics.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublicStats {
    /// What these figures cover.
    #[schema(
        example = "Public and registered needs only: restricted needs, and every match of one, are left out of every figure."
    )]
    pub scope: String,
    pub needs: NeedCounts,
    pub offers: OfferCounts,
    pub matches: MatchCounts,
    /// Median time, in hours, from a need's posting to its first agreed partnership, over the
    /// needs counted here that have one.
    pub median_hours_to_agreement: Option<f64>,
    /// How many needs that median is taken over.
    pub needs_with_agreement: u64,
}

/// The body of `shortlist` and `introduce`: an optional note for the record.
#[derive(Debug, Default, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteBody {
    /// Up to 2000 characters.
    #[serde(default)]
    pub note: Option<String>,
}

/// The body of `dismiss` and `decline`: the reason, required.
#[derive(Debug, Default, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonBody {
    /// 1 to 2000 characters; required.
    #[schema(required = true)]
    #[serde(default)]
    pub reason: Option<String>,
}

/// The body of `complete`: the partnership's outcome, required.
#[derive(Debug, Default, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OutcomeBody {
    /// 1 to 2000 characters; required.
    #[schema(required = true)]
    #[serde(default)]
    pub outcome: Option<String>,
}

/// `limit` and `cursor` of a suggestion list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page size, 1 to 100 (default from the configuration, 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The pair `GET /v1/matches/why` explains.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct WhyQuery {
    /// The need's id.
    #[param(value_type = uuid::Uuid)]
    pub need_id: NeedId,
    /// The offer's id.
    #[param(value_type = uuid::Uuid)]
    pub offer_id: OfferId,
}

/// Filters and page of the coordinators' queue.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct QueueQuery {
    /// A match status. Without it the queue lists every decided match; `suggested` lists the
    /// suggested pairs no one has decided on yet.
    #[param(example = "introduced")]
    #[param(value_type = Option<MatchStatus>)]
    pub status: Option<String>,
    /// A theme code the need names.
    #[param(value_type = Option<capmatch_domain::taxonomy::ThemeCode>)]
    pub theme: Option<String>,
    /// ISO 3166-1 alpha-2: matches of needs of this country.
    #[param(value_type = Option<CountryCode>)]
    pub country: Option<String>,
    /// `true`: only stale matches; `false`: only matches that are not stale.
    pub stale: Option<bool>,
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}
