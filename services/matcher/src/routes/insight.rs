//! Looking into the matching: why a pair is or is not suggested
//! (`GET /v1/matches/why?need_id=..&offer_id=..`), the capacity-aware plan (`GET /v1/plan`), and
//! the public transparency statistics (`GET /v1/stats`).

use std::collections::{BTreeSet, HashMap};

use actix_web::{HttpResponse, get, web};
use capmatch_auth::Authenticated;
use capmatch_domain::codes::{CountryCode, Geo, RegionCode};
use capmatch_domain::ids::{MatchId, NeedId, OfferId};
use capmatch_domain::partnership::MatchStatus;
use capmatch_http::ApiError;
use capmatch_service::openapi::problems;
use chrono::{DateTime, Utc};

use crate::error::engine_error;
use crate::knowledge::{Knowledge, counted};
use crate::state::AppState;
use crate::wire::{
    MatchCounts, NeedCounts, OfferCounts, PlanView, PlannedMatch, PublicStats, WhyQuery, WhyView,
};
use capmatch_engine::explain::Explanation;

/// What the statistics cover, said in every answer.
pub const STATS_SCOPE: &str = "Needs are counted only when public or registered: restricted \
     needs, and every match of one, are left out of every figure, so no figure moves when a \
     restricted need is posted, changed or matched. Matches are counted by their review status \
     once a coordinator has decided on them.";

/// Why a pair is or is not suggested: every hard rule it breaks, or its score, components,
/// reasons and rank. For coordinators and the need's state; the state sees the need's side of
/// the ranking only (the offer's side would count other states' needs).
#[utoipa::path(
    tag = "matches",
    params(WhyQuery),
    responses(
        (status = 200, description = "The explanation.", body = WhyView),
        problems::BadRequest, problems::Unauthorized, problems::Forbidden, problems::NotFound,
        problems::Internal, problems::Unavailable,
    ),
    security(("bearer_jwt" = [])),
)]
#[get("/matches/why")]
pub async fn why(
    caller: Authenticated,
    query: web::Query<WhyQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let actor = &caller.0;
    let WhyQuery { need_id, offer_id } = query.into_inner();
    let knowledge = state.knowledge.read();
    let engine = knowledge.engine()?;
    let need = knowledge
        .need(need_id)
        .filter(|n| knowledge.is_visible(&n.state, Some(actor)))
        .ok_or_else(ApiError::not_found)?;
    knowledge.offer(offer_id).ok_or_else(ApiError::not_found)?;
    let coordinator = actor.role.is_coordinator();
    if !coordinator && actor.role.country() != Some(&need.state.country) {
        return Err(ApiError::forbidden(
            "Only the need's state and coordinators may ask why a pair is or is not suggested.",
        ));
    }
    let mut explanation = engine.explain(need_id, offer_id).map_err(engine_error)?;
    if !coordinator {
        need_side_only(&mut explanation);
    }
    let match_id = MatchId::for_pair(need_id, offer_id);
    Ok(HttpResponse::Ok().json(WhyView {
        match_id,
        status: knowledge.status_of(match_id),
        explanation,
    }))
}

/// Drops the offer's side of the ranking: how many needs compete for the offer counts needs the
/// caller may not know of.
fn need_side_only(explanation: &mut Explanation) {
    explanation.offer_standing = None;
    if let (Some(score), Some(standing)) = (explanation.score, explanation.need_standing) {
        explanation.summary = format!(
            "Score {score:.2}: ranked {} of {} offers for this need{}.",
            standing.rank,
            standing.of,
            if standing.shown {
                ""
            } else {
                ", below the suggestions shown"
            }
        );
    }
}

/// The capacity-aware plan over the current suggestions. Coordinators only: it counts every
/// partnership under way against its offer's capacity, those on restricted needs included.
#[utoipa::path(
    tag = "matches",
    responses(
        (status = 200, description = "The plan.", body = PlanView),
        problems::Unauthorized, problems::Forbidden, problems::Internal, problems::Unavailable,
    ),
    security(("bearer_jwt" = [])),
)]
#[get("/plan")]
pub async fn plan(
    caller: Authenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    if !caller.0.role.is_coordinator() {
        return Err(ApiError::forbidden("Only coordinators may see the plan."));
    }
    let knowledge = state.knowledge.read();
    // Partnerships past shortlisting are under way (or over): the plan is for what remains.
    let mut taken: HashMap<NeedId, u32> = HashMap::new();
    for entry in knowledge.decided_in_order() {
        if entry.state.status.uses_capacity() {
            *taken.entry(entry.state.pair.need_id).or_default() += 1;
        }
    }
    let decided = |need: NeedId, offer: OfferId| {
        knowledge
            .decided(MatchId::for_pair(need, offer))
            .is_some_and(|e| {
                !matches!(
                    e.state.status,
                    MatchStatus::Suggested | MatchStatus::Shortlisted
                )
            })
    };
    let plan = knowledge.engine()?.plan_with(
        decided,
        |need| taken.get(&need).copied().unwrap_or(0),
        |offer| knowledge.hidden_load(offer),
    );
    let assignments = plan
        .assignments
        .iter()
        .map(|a| {
            let match_id = MatchId::for_pair(a.need, a.offer);
            PlannedMatch {
                match_id,
                need_id: a.need,
                offer_id: a.offer,
                score: a.score,
                status: knowledge.status_of(match_id),
            }
        })
        .collect();
    Ok(HttpResponse::Ok().json(PlanView {
        assignments,
        total_score: plan.total,
        pairs_considered: plan.pairs_considered,
    }))
}

/// Public transparency statistics: needs and offers by theme, region and status, matches by
/// status, and the median time from a need's posting to its first agreed partnership. Restricted
/// needs are left out of every figure (see `scope`). No token needed.
#[utoipa::path(
    tag = "statistics",
    responses(
        (status = 200, description = "The statistics.", body = PublicStats),
        problems::Internal, problems::Unavailable,
    ),
    security(()),
)]
#[get("/stats")]
pub async fn stats(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let knowledge = state.knowledge.read();
    // Figures from feeds still catching up would be wrong, not just late.
    knowledge.engine()?;
    Ok(HttpResponse::Ok().json(public_stats(&knowledge)))
}

/// The statistics from what the matcher knows.
pub fn public_stats(knowledge: &Knowledge) -> PublicStats {
    let mut needs = NeedCounts::default();
    let mut agreed: HashMap<NeedId, DateTime<Utc>> = HashMap::new();
    for entry in knowledge.needs().filter(|n| counted(&n.state)) {
        let need = &entry.state;
        needs.total += 1;
        bump(&mut needs.by_status, need.status.as_str());
        for theme in &need.details.themes {
            bump(&mut needs.by_theme, theme.as_str());
        }
        bump(&mut needs.by_region, top_region(&need.country).as_str());
        let first = knowledge
            .matches_of_need(need.id)
            .filter_map(|m| m.state.agreed_at)
            .min();
        if let Some(at) = first {
            agreed.insert(need.id, at);
        }
    }

    let mut offers = OfferCounts::default();
    for entry in knowledge.offers() {
        let offer = &entry.state;
        offers.total += 1;
        bump(&mut offers.by_status, offer.status.as_str());
        for theme in &offer.details.themes {
            bump(&mut offers.by_theme, theme.as_str());
        }
        let regions: BTreeSet<&'static str> = offer
            .details
            .coverage
            .iter()
            .map(|geo| coverage_region(geo).as_str())
            .collect();
        for region in regions {
            bump(&mut offers.by_region, region);
        }
    }

    let mut matches = MatchCounts::default();
    for entry in knowledge.decided_in_order() {
        let counted_need = knowledge
            .need(entry.state.pair.need_id)
            .is_some_and(|n| counted(&n.state));
        if counted_need {
            matches.total += 1;
            bump(&mut matches.by_status, entry.state.status.as_str());
        }
    }

    let mut hours: Vec<f64> = agreed
        .iter()
        .filter_map(|(id, at)| {
            let posted = knowledge.need(*id)?.state.posted_at;
            let seconds = (*at - posted).num_seconds().max(0);
            Some(seconds as f64 / 3600.0)
        })
        .collect();
    hours.sort_by(f64::total_cmp);
    PublicStats {
        scope: STATS_SCOPE.to_owned(),
        needs,
        offers,
        matches,
        median_hours_to_agreement: median(&hours),
        needs_with_agreement: hours.len() as u64,
    }
}

fn bump(counts: &mut crate::wire::Counts, key: &str) {
    *counts.entry(key.to_owned()).or_insert(0) += 1;
}

fn median(sorted: &[f64]) -> Option<f64> {
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => sorted.get(n / 2).copied(),
        _ => Some((sorted.get(n / 2 - 1)? + sorted.get(n / 2)?) / 2.0),
    }
}

/// The M49 region (child of the world) a country lies in; the world for a country in none.
fn top_region(country: &CountryCode) -> RegionCode {
    country
        .regions()
        .find(|r| r.parent() == Some(RegionCode::WORLD))
        .unwrap_or(RegionCode::WORLD)
}

/// The M49 region (child of the world) an area lies in; the world for the world itself.
fn coverage_region(geo: &Geo) -> RegionCode {
    match geo {
        Geo::Country(country) => top_region(country),
        Geo::Region(region) => {
            let mut current = *region;
            while let Some(parent) = current.parent() {
                if parent == RegionCode::WORLD {
                    return current;
                }
                current = parent;
            }
            RegionCode::WORLD
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn region(code: &str) -> RegionCode {
        code.parse().expect("a region")
    }

    #[test]
    fn countries_and_areas_fall_in_their_m49_region() {
        let gm: CountryCode = "GM".parse().expect("a country");
        assert_eq!(top_region(&gm), region("002"));
        assert_eq!(coverage_region(&Geo::Region(region("011"))), region("002"));
        assert_eq!(coverage_region(&Geo::Region(region("002"))), region("002"));
        assert_eq!(
            coverage_region(&Geo::Region(RegionCode::WORLD)),
            RegionCode::WORLD
        );
        assert_eq!(coverage_region(&Geo::Country(gm)), region("002"));
    }

    #[test]
    fn the_median_of_an_even_count_is_the_mean_of_the_middle_two() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3.0]), Some(3.0));
        assert_eq!(median(&[1.0, 2.0, 4.0, 10.0]), Some(3.0));
    }
}
