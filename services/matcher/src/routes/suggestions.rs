//! Suggestions: `GET /v1/needs/{id}/matches` (the need's best offers) and
//! `GET /v1/offers/{id}/matches` (the offer's best needs).
//!
//! A need the caller may not see answers 404 exactly like a need that does not exist. An
//! offer's suggestions hold only needs its provider may see: a restricted need appears there
//! only while it is shared with the provider's organisation (an introduced or agreed
//! partnership); otherwise it is not listed, not counted, takes no place in the ranks and
//! pushes no other need off the list. Scores and reasons (an offer's remaining capacity among
//! them) are computed without restricted needs, so they are the same as if none existed.
//!
//! Until the index is built (both feeds caught up once) these answer 503: the matcher cannot
//! yet tell an unknown need from one it has not heard of.

use actix_web::{HttpResponse, get, web};
use capmatch_auth::Authenticated;
use capmatch_domain::ids::{MatchId, NeedId, OfferId};
use capmatch_http::ApiError;
use capmatch_service::openapi::problems;
use capmatch_service::{ListKey, paginate};

use crate::error::engine_error;
use crate::routes::support::page;
use crate::state::AppState;
use crate::wire::{
    PageQuery, SuggestedNeed, SuggestedNeedPage, SuggestedOffer, SuggestedOfferPage,
};

/// The offers suggested for a need, best first, each with its score, components, reasons and
/// review status. For the need's state and coordinators.
#[utoipa::path(
    tag = "matches",
    params(("id" = uuid::Uuid, Path, description = "The need's id."), PageQuery),
    responses(
        (status = 200, description = "A page of suggested offers, by score.", body = SuggestedOfferPage),
        problems::BadRequest, problems::Unauthorized, problems::Forbidden, problems::NotFound,
        problems::Internal, problems::Unavailable,
    ),
    security(("bearer_jwt" = [])),
)]
#[get("/needs/{id}/matches")]
pub async fn need_matches(
    caller: Authenticated,
    id: web::Path<NeedId>,
    query: web::Query<PageQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let actor = &caller.0;
    let request = page(&state, query.limit, query.cursor.as_deref())?;
    let need_id = id.into_inner();
    let knowledge = state.knowledge.read();
    let engine = knowledge.engine()?;
    let need = knowledge
        .need(need_id)
        .filter(|n| knowledge.is_visible(&n.state, Some(actor)))
        .ok_or_else(ApiError::not_found)?;
    let owner = actor.role.is_coordinator() || actor.role.country() == Some(&need.state.country);
    if !owner {
        return Err(ApiError::forbidden(
            "Only the need's state and coordinators may see its suggestions.",
        ));
    }
    let suggestions = engine
        .suggestions_for_need(need_id, engine.config().top_k)
        .map_err(engine_error)?;
    let mut rank = 0u32;
    let items = suggestions.into_iter().filter_map(|s| {
        let offer = knowledge.offer(s.offer)?;
        let match_id = MatchId::for_pair(need_id, s.offer);
        let decided = knowledge.decided(match_id);
        rank += 1;
        Some((
            ListKey::rank(u64::from(rank)),
            SuggestedOffer {
                match_id,
                rank,
                offer_id: s.offer,
                offer_title: offer.state.details.title.clone(),
                provider_org: offer.state.provider.org.clone(),
                score: s.score,
                need_fit: s.need_fit,
                offer_fit: s.offer_fit,
                components: s.components,
                reasons: s.reasons,
                status: knowledge.status_of(match_id),
                stale: decided.is_some_and(|m| state.is_stale(&m.state)),
            },
        ))
    });
    let page = paginate(items, request);
    Ok(HttpResponse::Ok().json(SuggestedOfferPage {
        need_id,
        items: page.items,
        next_cursor: page.next_cursor,
        total: page.total,
    }))
}

/// The needs suggested for an offer, best first, among the needs the caller may see. For the
/// offer's provider organisation and coordinators.
#[utoipa::path(
    tag = "matches",
    params(("id" = uuid::Uuid, Path, description = "The offer's id."), PageQuery),
    responses(
        (status = 200, description = "A page of suggested needs, by score.", body = SuggestedNeedPage),
        problems::BadRequest, problems::Unauthorized, problems::Forbidden, problems::NotFound,
        problems::Internal, problems::Unavailable,
    ),
    security(("bearer_jwt" = [])),
)]
#[get("/offers/{id}/matches")]
pub async fn offer_matches(
    caller: Authenticated,
    id: web::Path<OfferId>,
    query: web::Query<PageQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let actor = &caller.0;
    let request = page(&state, query.limit, query.cursor.as_deref())?;
    let offer_id = id.into_inner();
    let knowledge = state.knowledge.read();
    let engine = knowledge.engine()?;
    let offer = knowledge.offer(offer_id).ok_or_else(ApiError::not_found)?;
    let owner = actor.role.is_coordinator() || actor.role.org() == Some(&offer.state.provider.org);
    if !owner {
        return Err(ApiError::forbidden(
            "Only the offer's provider and coordinators may see its suggestions.",
        ));
    }
    // Visibility before the cut: a need the caller may not see takes no place, no rank and
    // no count, and the next visible one moves up.
    let visible = |need: NeedId| {
        knowledge
            .need(need)
            .is_some_and(|n| knowledge.is_visible(&n.state, Some(actor)))
    };
    let suggestions = engine
        .suggestions_for_offer_where(offer_id, engine.config().top_k, visible)
        .map_err(engine_error)?;
    let items = suggestions.into_iter().filter_map(|s| {
        let need = knowledge.need(s.need)?;
        let match_id = MatchId::for_pair(s.need, offer_id);
        let decided = knowledge.decided(match_id);
        let rank = s.rank;
        Some((
            ListKey::rank(u64::from(rank)),
            SuggestedNeed {
                match_id,
                rank,
                need_id: s.need,
                need_title: need.state.details.title.clone(),
                need_country: need.state.country,
                score: s.score,
                need_fit: s.need_fit,
                offer_fit: s.offer_fit,
                components: s.components,
                reasons: s.reasons,
                status: knowledge.status_of(match_id),
                stale: decided.is_some_and(|m| state.is_stale(&m.state)),
            },
        ))
    });
    let page = paginate(items, request);
    Ok(HttpResponse::Ok().json(SuggestedNeedPage {
        offer_id,
        items: page.items,
        next_cursor: page.next_cursor,
        total: page.total,
    }))
}
