//! The review workflow: the coordinators' queue (`GET /v1/matches`), one match with its history
//! (`GET /v1/matches/{id}`), and the decisions (`POST /v1/matches/{id}/shortlist`, `dismiss`,
//! `introduce`, `accept`, `decline`, `complete`).
//!
//! Handlers parse, authorise and format; every rule of the workflow lives in
//! `capmatch_domain::partnership::decide` (403, 409, 422) and the write path in
//! [`crate::write`]. Who may see a match is `capmatch_domain::visibility`'s
//! `match_visible_to`, asked the same way by reads and decisions: a match the caller may not
//! see is 404 for both, before anything about the request (`If-Match`, `Idempotency-Key`, the
//! body) is looked at, so a decision tells an outsider exactly what a read does. A provider
//! learns of a match only once it is introduced, and of a match on a restricted need only while
//! the need is shared with it (or, completed, its own record). Shortlisting or introducing a
//! pair that breaks a hard rule is 409 `invalid_transition` naming the rule. Until the index is
//! built (both feeds caught up once) every endpoint here answers 503.

use actix_web::{HttpResponse, get, post, web};
use capmatch_auth::Authenticated;
use capmatch_domain::actor::Actor;
use capmatch_domain::codes::CountryCode;
use capmatch_domain::partnership::{MatchCommand, MatchState, MatchStatus, Pair};
use capmatch_domain::taxonomy::ThemeCode;
use capmatch_http::{ApiError, etag_header};
use capmatch_service::filters;
use capmatch_service::openapi::problems;
use capmatch_service::{
    CommandIds, CommandRequest, HistoryEntry, ListKey, OptionalJson, paginate, read_stream,
};

use crate::aggregate::{Matches, stream_name};
use crate::error::{breaks_hard_rules, engine_error};
use crate::knowledge::Knowledge;
use crate::routes::support::{DecisionContext, match_id, page, respond};
use crate::state::AppState;
use crate::wire::{
    MatchDetail, MatchView, NoteBody, OutcomeBody, QueueItem, QueuePage, QueueQuery, ReasonBody,
    suggested_state,
};

/// The parsed queue filters.
#[derive(Debug, Default)]
struct Filters {
    status: Option<MatchStatus>,
    theme: Option<ThemeCode>,
    country: Option<CountryCode>,
    stale: Option<bool>,
}

impl Filters {
    fn parse(query: &QueueQuery) -> Result<Self, ApiError> {
        let mut errors = Vec::new();
        let status = filters::code("status", query.status.as_deref(), &mut errors);
        let theme = filters::code("theme", query.theme.as_deref(), &mut errors);
        let country = filters::code("country", query.country.as_deref(), &mut errors);
        if errors.is_empty() {
            Ok(Self {
                status,
                theme,
                country,
                stale: query.stale,
            })
        } else {
            Err(ApiError::invalid_query(errors))
        }
    }

    /// Whether the match passes the filters (status aside).
    fn admit(&self, knowledge: &Knowledge, state: &MatchState, stale: bool) -> bool {
        let need = knowledge.need(state.pair.need_id);
        self.theme
            .is_none_or(|t| need.is_some_and(|n| n.state.details.themes.contains(&t)))
            && self.country.is_none_or(|c| state.pair.need_country == c)
            && self.stale.is_none_or(|s| s == stale)
    }
}

fn coordinator(actor: &Actor) -> Result<(), ApiError> {
    if actor.role.is_coordinator() {
        Ok(())
    } else {
        Err(ApiError::forbidden("Only coordinators may do this."))
    }
}

/// The queue: decided matches in the order of their first decision, or with
/// `status=suggested` the suggested pairs no one has decided on yet (by need, then offer),
/// filtered by status, theme, country and staleness. Coordinators only.
#[utoipa::path(
    tag = "matches",
    params(QueueQuery),
    responses(
        (status = 200, description = "A page of matches.", body = QueuePage),
        problems::BadRequest, problems::Unauthorized, problems::Forbidden, problems::Internal,
        problems::Unavailable,
    ),
    security(("bearer_jwt" = [])),
)]
#[get("/matches")]
pub async fn list_matches(
    caller: Authenticated,
    query: web::Query<QueueQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    coordinator(&caller.0)?;
    let request = page(&state, query.limit, query.cursor.as_deref())?;
    let filters = Filters::parse(&query)?;
    let knowledge = state.knowledge.read();
    let engine = knowledge.engine()?;
    let page = if filters.status == Some(MatchStatus::Suggested) {
        let pairs = engine.pairs();
        let items = pairs.into_iter().enumerate().filter_map(|(i, pair)| {
            let need = knowledge.need(pair.need)?;
            let offer = knowledge.offer(pair.offer)?;
            let suggested = suggested_state(&need.state, &offer.state);
            let undecided = knowledge.decided(suggested.id).is_none();
            (undecided && filters.admit(&knowledge, &suggested, false))
                .then(|| (ListKey::rank(i as u64 + 1), (suggested, Some(pair.score))))
        });
        paginate(items, request)
    } else {
        let items = knowledge.decided_in_order().filter_map(|entry| {
            let m = &entry.state;
            let stale = state.is_stale(m);
            (filters.status.is_none_or(|s| m.status == s) && filters.admit(&knowledge, m, stale))
                .then(|| (entry.key, (m.clone(), None)))
        });
        paginate(items, request)
    };
    let items = page
        .items
        .into_iter()
        .map(|(m, score)| queue_item(&state, &knowledge, m, score))
        .collect();
    Ok(HttpResponse::Ok().json(QueuePage {
        items,
        next_cursor: page.next_cursor,
        total: page.total,
    }))
}

fn queue_item(
    state: &AppState,
    knowledge: &Knowledge,
    m: MatchState,
    score: Option<f32>,
) -> QueueItem {
    let (need, offer) = (m.pair.need_id, m.pair.offer_id);
    let score = score.or_else(|| current_score(knowledge, &m));
    let stale = state.is_stale(&m);
    QueueItem {
        need_title: knowledge
            .need(need)
            .map(|n| n.state.details.title.clone())
            .unwrap_or_default(),
        offer_title: knowledge
            .offer(offer)
            .map(|o| o.state.details.title.clone())
            .unwrap_or_default(),
        score,
        view: MatchView::new(m, stale),
    }
}

/// The pair's score now, if it passes every hard rule.
fn current_score(knowledge: &Knowledge, m: &MatchState) -> Option<f32> {
    knowledge
        .engine()
        .ok()?
        .explain(m.pair.need_id, m.pair.offer_id)
        .ok()?
        .score
}

/// One match with its history. For coordinators and the need's state; for the offer's
/// provider once the match has been introduced (404 before), and for a match on a restricted
/// need only while the need is shared with it, or once completed (then without the need's
/// title). A pair no one has decided on is found while it is eligible, as `suggested` with an
/// empty history.
#[utoipa::path(
    tag = "matches",
    params(("id" = String, Path, description = "The match id: `<need id>~<offer id>`.")),
    responses(
        (status = 200, description = "The match and its decisions.", body = MatchDetail,
            headers(("ETag" = String, description = "The match's version, for `If-Match`."))),
        problems::Unauthorized, problems::NotFound, problems::Internal, problems::Unavailable,
    ),
    security(("bearer_jwt" = [])),
)]
#[get("/matches/{id}")]
pub async fn get_match(
    caller: Authenticated,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let actor = &caller.0;
    let id = match_id(&id)?;
    let (m, need_title, offer_title, score) = {
        let knowledge = state.knowledge.read();
        let engine = knowledge.engine()?;
        let (need, offer, decided) = knowledge
            .visible_match(id, actor)
            .ok_or_else(ApiError::not_found)?;
        let m = match decided {
            Some(m) => m.state.clone(),
            None => {
                let eligible = engine
                    .explain(id.need, id.offer)
                    .map_err(engine_error)?
                    .eligible;
                if !eligible {
                    return Err(ApiError::not_found());
                }
                suggested_state(&need.state, &offer.state)
            }
        };
        let score = current_score(&knowledge, &m);
        let need_title = knowledge
            .is_visible(&need.state, Some(actor))
            .then(|| need.state.details.title.clone());
        (m, need_title, offer.state.details.title.clone(), score)
    };
    let events = read_stream(&state.store, &stream_name(id), u64::MAX).await?;
    let coordinator = actor.role.is_coordinator();
    let history = events
        .iter()
        .map(|e| HistoryEntry::from_stored(e, coordinator))
        .collect::<Result<Vec<_>, _>>()?;
    let stale = state.is_stale(&m);
    let version = m.version;
    Ok(HttpResponse::Ok()
        .insert_header(etag_header(version))
        .json(MatchDetail {
            view: MatchView::new(m, stale),
            need_title,
            offer_title,
            score,
            history,
        }))
}

/// Runs a decision on the match named in the path.
#[tracing::instrument(skip_all, fields(match_id = %raw_id, actor_role = actor.role.name()))]
async fn decide(
    state: &AppState,
    actor: &Actor,
    raw_id: &str,
    ids: CommandIds,
    ctx: &DecisionContext,
    command: MatchCommand,
) -> Result<HttpResponse, ApiError> {
    let id = match_id(raw_id)?;
    let (pair, current) = {
        let knowledge = state.knowledge.read();
        // Until both feeds have caught up, an unknown need may just not have arrived yet.
        knowledge.engine()?;
        // Visibility first, as for a read: the same 404 whatever else the request says.
        let (need, offer, decided) = knowledge
            .visible_match(id, actor)
            .ok_or_else(ApiError::not_found)?;
        let current = decided.map(|m| m.state.clone());
        let pair = match &current {
            Some(m) => m.pair.clone(),
            None => Pair {
                need_id: need.state.id,
                offer_id: offer.state.id,
                need_country: need.state.country,
                provider_org: offer.state.provider.org.clone(),
            },
        };
        (pair, current)
    };
    let hard_rules = match &command {
        MatchCommand::Shortlist { .. } => Some("shortlist"),
        MatchCommand::Introduce { .. } => Some("introduce"),
        MatchCommand::Dismiss { .. }
        | MatchCommand::Accept
        | MatchCommand::Decline { .. }
        | MatchCommand::Complete { .. }
        | MatchCommand::Close { .. } => None,
    };
    let request = CommandRequest {
        actor,
        ids,
        request_id: &ctx.request_id,
    };
    let check = |_: &[_]| {
        let Some(action) = hard_rules else {
            return Ok(());
        };
        let knowledge = state.knowledge.read();
        let explanation = knowledge
            .engine()?
            .explain(pair.need_id, pair.offer_id)
            .map_err(engine_error)?;
        if explanation.eligible {
            Ok(())
        } else {
            Err(breaks_hard_rules(action, &explanation.failed_rules))
        }
    };
    let outcome = state
        .writer()
        .act_on::<Matches>(&request, &pair, current, command, ctx.if_match, check)
        .await?;
    Ok(respond(state, outcome))
}

/// Shortlist a suggested pair for review. Coordinators; the pair must pass every hard rule.
#[utoipa::path(
    tag = "matches",
    request_body(content = Option<NoteBody>, description = "Optional."),
    params(
        ("id" = String, Path, description = "The match id: `<need id>~<offer id>`."),
        ("Idempotency-Key" = Option<String>, Header, description = "A retry with the same key and body returns the original response and writes nothing."),
        ("If-Match" = Option<String>, Header, description = "The match's version the decision is based on (`\"0\"` for a suggested pair)."),
    ),
    responses(
        (status = 200, description = "The match after the decision.", body = MatchView,
            headers(("ETag" = String, description = "The match's new version."))),
        problems::BadRequest, problems::Unauthorized, problems::Forbidden, problems::NotFound,
        problems::Conflict, problems::PreconditionFailed, problems::PayloadTooLarge,
        problems::UnsupportedMediaType, problems::Unprocessable, problems::Internal,
        problems::Unavailable,
    ),
    security(("bearer_jwt" = [])),
)]
#[post("/matches/{id}/shortlist")]
pub async fn shortlist(
    caller: Authenticated,
    id: web::Path<String>,
    ctx: DecisionContext,
    body: OptionalJson<NoteBody>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let ids = ctx.command_ids(&caller.0, body.as_ref());
    let command = MatchCommand::Shortlist {
        note: body.and_then(|b| b.note),
    };
    decide(&state, &caller.0, &id, ids, &ctx, command).await
}

/// Dismiss a suggested or shortlisted pair, with a reason; it is never suggested again.
/// Coordinators.
#[utoipa::path(
    tag = "matches",
    request_body = ReasonBody,
    params(
        ("id" = String, Path, description = "The match id: `<need id>~<offer id>`."),
        ("Idempotency-Key" = Option<String>, Header, description = "A retry with the same key and body returns the original response and writes nothing."),
        ("If-Match" = Option<String>, Header, description = "The match's version the decision is based on."),
    ),
    responses(
        (status = 200, description = "The match after the decision.", body = MatchView,
            headers(("ETag" = String, description = "The match's new version."))),
        problems::BadRequest, problems::Unauthorized, problems::Forbidden, problems::NotFound,
        problems::Conflict, problems::PreconditionFailed, problems::PayloadTooLarge,
        problems::UnsupportedMediaType, problems::Unprocessable, problems::Internal,
        problems::Unavailable,
    ),
    security(("bearer_jwt" = [])),
)]
#[post("/matches/{id}/dismiss")]
pub async fn dismiss(
    caller: Authenticated,
    id: web::Path<String>,
    ctx: DecisionContext,
    body: OptionalJson<ReasonBody>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let ids = ctx.command_ids(&caller.0, body.as_ref());
    let command = MatchCommand::Dismiss {
        reason: body.and_then(|b| b.reason),
    };
    decide(&state, &caller.0, &id, ids, &ctx, command).await
}

/// Introduce the parties of a shortlisted pair: both may now accept or decline, and the
/// provider may see the need even when it is restricted. Coordinators; the pair must pass
/// every hard rule.
#[utoipa::path(
    tag = "matches",
    request_body(content = Option<NoteBody>, description = "Optional."),
    params(
        ("id" = String, Path, description = "The match id: `<need id>~<offer id>`."),
        ("Idempotency-Key" = Option<String>, Header, description = "A retry with the same key and body returns the original response and writes nothing."),
        ("If-Match" = Option<String>, Header, description = "The match's version the decision is based on."),
    ),
    responses(
        (status = 200, description = "The match after the decision.", body = MatchView,
            headers(("ETag" = String, description = "The match's new version."))),
        problems::BadRequest, problems::Unauthorized, problems::Forbidden, problems::NotFound,
        problems::Conflict, problems::PreconditionFailed, problems::PayloadTooLarge,
        problems::UnsupportedMediaType, problems::Unprocessable, problems::Internal,
        problems::Unavailable,
    ),
    security(("bearer_jwt" = [])),
)]
#[post("/matches/{id}/introduce")]
pub async fn introduce(
    caller: Authenticated,
    id: web::Path<String>,
    ctx: DecisionContext,
    body: OptionalJson<NoteBody>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let ids = ctx.command_ids(&caller.0, body.as_ref());
    let command = MatchCommand::Introduce {
        note: body.and_then(|b| b.note),
    };
    decide(&state, &caller.0, &id, ids, &ctx, command).await
}

/// Accept an introduced partnership for one's side: the need's state or the offer's provider.
/// Once both sides have accepted, the partnership is agreed.
#[utoipa::path(
    tag = "matches",
    params(
        ("id" = String, Path, description = "The match id: `<need id>~<offer id>`."),
        ("Idempotency-Key" = Option<String>, Header, description = "A retry with the same key and body returns the original response and writes nothing."),
        ("If-Match" = Option<String>, Header, description = "The match's version the decision is based on."),
    ),
    responses(
        (status = 200, description = "The match after the decision.", body = MatchView,
            headers(("ETag" = String, description = "The match's new version."))),
        problems::BadRequest, problems::Unauthorized, problems::Forbidden, problems::NotFound,
        problems::Conflict, problems::PreconditionFailed, problems::Unprocessable,
        problems::Internal, problems::Unavailable,
    ),
    security(("bearer_jwt" = [])),
)]
#[post("/matches/{id}/accept")]
pub async fn accept(
    caller: Authenticated,
    id: web::Path<String>,
    ctx: DecisionContext,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let ids = ctx.command_ids::<()>(&caller.0, None);
    decide(&state, &caller.0, &id, ids, &ctx, MatchCommand::Accept).await
}

/// Decline an introduced or agreed partnership, with a reason: the need's state or the offer's
/// provider.
#[utoipa::path(
    tag = "matches",
    request_body = ReasonBody,
    params(
        ("id" = String, Path, description = "The match id: `<need id>~<offer id>`."),
        ("Idempotency-Key" = Option<String>, Header, description = "A retry with the same key and body returns the original response and writes nothing."),
        ("If-Match" = Option<String>, Header, description = "The match's version the decision is based on."),
    ),
    responses(
        (status = 200, description = "The match after the decision.", body = MatchView,
            headers(("ETag" = String, description = "The match's new version."))),
        problems::BadRequest, problems::Unauthorized, problems::Forbidden, problems::NotFound,
        problems::Conflict, problems::PreconditionFailed, problems::PayloadTooLarge,
        problems::UnsupportedMediaType, problems::Unprocessable, problems::Internal,
        problems::Unavailable,
    ),
    security(("bearer_jwt" = [])),
)]
#[post("/matches/{id}/decline")]
pub async fn decline(
    caller: Authenticated,
    id: web::Path<String>,
    ctx: DecisionContext,
    body: OptionalJson<ReasonBody>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let ids = ctx.command_ids(&caller.0, body.as_ref());
    let command = MatchCommand::Decline {
        reason: body.and_then(|b| b.reason),
    };
    decide(&state, &caller.0, &id, ids, &ctx, command).await
}

/// Record an agreed partnership as completed, with its outcome. Coordinators.
#[utoipa::path(
    tag = "matches",
    request_body = OutcomeBody,
    params(
        ("id" = String, Path, description = "The match id: `<need id>~<offer id>`."),
        ("Idempotency-Key" = Option<String>, Header, description = "A retry with the same key and body returns the original response and writes nothing."),
        ("If-Match" = Option<String>, Header, description = "The match's version the decision is based on."),
    ),
    responses(
        (status = 200, description = "The match after the decision.", body = MatchView,
            headers(("ETag" = String, description = "The match's new version."))),
        problems::BadRequest, problems::Unauthorized, problems::Forbidden, problems::NotFound,
        problems::Conflict, problems::PreconditionFailed, problems::PayloadTooLarge,
        problems::UnsupportedMediaType, problems::Unprocessable, problems::Internal,
        problems::Unavailable,
    ),
    security(("bearer_jwt" = [])),
)]
#[post("/matches/{id}/complete")]
pub async fn complete(
    caller: Authenticated,
    id: web::Path<String>,
    ctx: DecisionContext,
    body: OptionalJson<OutcomeBody>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let ids = ctx.command_ids(&caller.0, body.as_ref());
    let command = MatchCommand::Complete {
        outcome: body.and_then(|b| b.outcome),
    };
    decide(&state, &caller.0, &id, ids, &ctx, command).await
}
