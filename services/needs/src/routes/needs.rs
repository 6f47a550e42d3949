//! `/v1/needs`: post, list, read, revise, withdraw, fulfil, history.
//!
//! Handlers parse, authorise and format; the rules live in `capmatch_domain::need::decide` and
//! the write path in [`crate::commands`]. A need the caller may not see answers exactly like a
//! need that does not exist (404), in every endpoint, list and count.

use actix_web::http::StatusCode;
use actix_web::http::header::LOCATION;
use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use capmatch_auth::{Authenticated, Caller};
use capmatch_domain::actor::Actor;
use capmatch_domain::codes::{CountryCode, LanguageCode, RegionCode, SupportType};
use capmatch_domain::need::{NeedCommand, NeedDraft, NeedId, NeedPatch, NeedState, NeedStatus};
use capmatch_domain::taxonomy::ThemeCode;
use capmatch_http::{ApiError, FieldError, IfMatch, RequestId, etag_header};
use capmatch_service::filters;
use capmatch_service::openapi::problems;
use capmatch_service::{
    CommandIds, CommandRequest, HistoryEntry, Idempotency, OptionalJson, Outcome, PageRequest,
    body_digest, paginate, read_stream,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::aggregate::{Needs, stream_name};
use crate::state::{AppState, ID_NAMESPACE};

/// A page of needs.
#[derive(Debug, Serialize, ToSchema)]
pub struct NeedPage {
    /// The needs of this page, in creation order.
    pub items: Vec<NeedState>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
    /// How many needs visible to the caller match the filters, over all pages.
    pub total: u64,
}

/// An optional reason given when withdrawing.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WithdrawBody {
    /// Up to 2000 characters.
    #[serde(default)]
    pub reason: Option<String>,
}

/// A need's recorded events.
#[derive(Debug, Serialize, ToSchema)]
pub struct NeedHistory {
    pub need_id: NeedId,
    /// Every event of the need, oldest first.
    pub items: Vec<HistoryEntry>,
}

/// Filters and page of `GET /v1/needs`. Every filter narrows; all are optional.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct NeedListQuery {
    /// A theme code: needs that name this theme.
    #[param(example = "cybercrime")]
    #[param(value_type = Option<ThemeCode>)]
    pub theme: Option<String>,
    /// ISO 3166-1 alpha-2: needs of this country.
    #[param(example = "SN")]
    #[param(value_type = Option<CountryCode>)]
    pub country: Option<String>,
    /// UN M49 region: needs of any country in it.
    #[param(example = "002")]
    #[param(value_type = Option<RegionCode>)]
    pub region: Option<String>,
    /// `open`, `fulfilled` or `withdrawn`.
    #[param(value_type = Option<NeedStatus>)]
    pub status: Option<String>,
    /// A support type the need asks for.
    #[param(value_type = Option<SupportType>)]
    pub support_type: Option<String>,
    /// ISO 639-1: needs that accept this language.
    #[param(value_type = Option<LanguageCode>)]
    pub language: Option<String>,
    /// Free text, case-insensitive, matched in the title and description.
    #[param(max_length = 200)]
    pub q: Option<String>,
    /// Page size, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The parsed filters.
#[derive(Debug, Default)]
struct Filters {
    theme: Option<ThemeCode>,
    country: Option<CountryCode>,
    region: Option<RegionCode>,
    status: Option<NeedStatus>,
    support_type: Option<SupportType>,
    language: Option<LanguageCode>,
    text: Option<String>,
}

impl Filters {
    fn parse(query: &NeedListQuery) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let status = query.status.as_deref().and_then(|raw| {
            let parsed = match raw.trim() {
                "open" => Some(NeedStatus::Open),
                "fulfilled" => Some(NeedStatus::Fulfilled),
                "withdrawn" => Some(NeedStatus::Withdrawn),
                _ => None,
            };
            if parsed.is_none() {
                errors.push(filters::unknown_code("status"));
            }
            parsed
        });
        let filters = Filters {
            theme: filters::code("theme", query.theme.as_deref(), &mut errors),
            country: filters::code("country", query.country.as_deref(), &mut errors),
            region: filters::code("region", query.region.as_deref(), &mut errors),
            status,
            support_type: filters::code("support_type", query.support_type.as_deref(), &mut errors),
            language: filters::code("language", query.language.as_deref(), &mut errors),
            text: filters::text(query.q.as_deref(), &mut errors),
        };
        if errors.is_empty() {
            Ok(filters)
        } else {
            Err(errors)
        }
    }

    fn admit(&self, need: &NeedState) -> bool {
        let d = &need.details;
        self.theme.is_none_or(|t| d.themes.contains(&t))
            && self.country.is_none_or(|c| need.country == c)
            && self.region.is_none_or(|r| r.contains(&need.country))
            && self.status.is_none_or(|s| need.status == s)
            && self
                .support_type
                .is_none_or(|s| d.support_types.contains(&s))
            && self.language.is_none_or(|l| d.languages.contains(&l))
            && self.text.as_deref().is_none_or(|t| {
                d.title.to_lowercase().contains(t) || d.description.to_lowercase().contains(t)
            })
    }
}

fn respond(status: StatusCode, outcome: Outcome<NeedState>) -> HttpResponse {
    let mut response = HttpResponse::build(status);
    response.insert_header(etag_header(outcome.state.version));
    if status == StatusCode::CREATED {
        response.insert_header((LOCATION, format!("/v1/needs/{}", outcome.state.id)));
    }
    if outcome.replayed {
        response.insert_header((capmatch_service::openapi::REPLAYED, "true"));
    }
    response.json(&outcome.state)
}

fn command_ids<T: Serialize>(
    idempotency: &Idempotency,
    actor: &Actor,
    req: &HttpRequest,
    body: Option<&T>,
) -> CommandIds {
    CommandIds::new(
        ID_NAMESPACE,
        idempotency.key(),
        &actor.subject,
        req.path(),
        &body_digest(body),
    )
}

/// The need with this id if the caller may see it; 404 otherwise.
fn visible(state: &AppState, id: NeedId, actor: Option<&Actor>) -> Result<NeedState, ApiError> {
    state
        .visible_need(id, actor)
        .ok_or_else(ApiError::not_found)
}

/// Post a need. A state posts for its own country; a coordinator posts on a state's behalf and
/// names the `country`.
#[utoipa::path(
    tag = "needs",
    request_body = NeedDraft,
    params(
        ("Idempotency-Key" = Option<String>, Header, description = "1 to 200 printable ASCII characters. A retry with the same key and body returns the original response and writes nothing."),
    ),
    responses(
        (status = 201, description = "The need as posted.", body = NeedState,
            headers(("ETag" = String, description = "The need's version."), ("Location" = String, description = "The need's URL."))),
        problems::BadRequest, problems::Unauthorized, problems::Forbidden, problems::PayloadTooLarge,
        problems::UnsupportedMediaType, problems::Unprocessable, problems::Internal, problems::Unavailable,
    ),
    security(("bearer_jwt" = [])),
)]
#[post("/needs")]
pub async fn post_need(
    caller: Authenticated,
    idempotency: Idempotency,
    request_id: RequestId,
    req: HttpRequest,
    body: web::Json<NeedDraft>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let actor = &caller.0;
    let draft = body.into_inner();
    let request = CommandRequest {
        actor,
        ids: command_ids(&idempotency, actor, &req, Some(&draft)),
        request_id: &request_id,
    };
    let outcome = state
        .writer()
        .create::<Needs>(&request, |id| NeedCommand::Post {
            id: NeedId::from(id),
            draft,
        })
        .await?;
    Ok(respond(StatusCode::CREATED, outcome))
}

/// List the needs visible to the caller, filtered, in creation order.
#[utoipa::path(
    tag = "needs",
    params(NeedListQuery),
    responses(
        (status = 200, description = "A page of needs.", body = NeedPage),
        problems::BadRequest, problems::Unauthorized, problems::Internal,
    ),
    security((), ("bearer_jwt" = [])),
)]
#[get("/needs")]
pub async fn list_needs(
    caller: Caller,
    query: web::Query<NeedListQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let page = PageRequest::parse(query.limit, query.cursor.as_deref())?;
    let filters = Filters::parse(&query).map_err(ApiError::invalid_query)?;
    let actor = caller.actor();
    let page = {
        let view = state.needs.read();
        let matches = view
            .in_order()
            .filter(|e| filters.admit(&e.state) && state.is_visible(&e.state, actor))
            .map(|e| (e.key, e.state.clone()));
        paginate(matches, page)
    };
    Ok(HttpResponse::Ok().json(NeedPage {
        items: page.items,
        next_cursor: page.next_cursor,
        total: page.total,
    }))
}

/// Read one need.
#[utoipa::path(
    tag = "needs",
    params(("id" = uuid::Uuid, Path, description = "The need's id.")),
    responses(
        (status = 200, description = "The need.", body = NeedState,
            headers(("ETag" = String, description = "The need's version, for `If-Match`."))),
        problems::Unauthorized, problems::NotFound, problems::Internal,
    ),
    security((), ("bearer_jwt" = [])),
)]
#[get("/needs/{id}")]
pub async fn get_need(
    caller: Caller,
    id: web::Path<NeedId>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let needs = state.needs.read();
    let entry = needs
        .get(id.into_inner().as_uuid())
        .filter(|e| state.is_visible(&e.state, caller.actor()))
        .ok_or_else(ApiError::not_found)?;
    entry.json_response(entry.state.version)
}

/// Revise a need: only the fields given change (`null` clears `start`, `end`, `budget_note`).
#[utoipa::path(
    tag = "needs",
    request_body = NeedPatch,
    params(
        ("id" = uuid::Uuid, Path, description = "The need's id."),
        ("If-Match" = String, Header, description = "The version the revision is based on, as its ETag: `\"3\"`."),
    ),
    responses(
        (status = 200, description = "The revised need.", body = NeedState,
            headers(("ETag" = String, description = "The need's new version."))),
        problems::BadRequest, problems::Unauthorized, problems::Forbidden, problems::NotFound,
        problems::Conflict, problems::PreconditionFailed, problems::PayloadTooLarge,
        problems::UnsupportedMediaType, problems::Unprocessable, problems::PreconditionRequired,
        problems::Internal, problems::Unavailable,
    ),
    security(("bearer_jwt" = [])),
)]
#[patch("/needs/{id}")]
pub async fn revise_need(
    caller: Authenticated,
    id: web::Path<NeedId>,
    if_match: IfMatch,
    request_id: RequestId,
    body: web::Json<NeedPatch>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let actor = &caller.0;
    let current = visible(&state, id.into_inner(), Some(actor))?;
    let request = CommandRequest {
        actor,
        ids: CommandIds::new(ID_NAMESPACE, None, &actor.subject, "", ""),
        request_id: &request_id,
    };
    let command = NeedCommand::Revise {
        patch: body.into_inner(),
    };
    let outcome = state
        .writer()
        .act::<Needs>(&request, current, command, if_match.0)
        .await?;
    Ok(respond(StatusCode::OK, outcome))
}

/// Withdraw a need (terminal), optionally saying why.
#[utoipa::path(
    tag = "needs",
    request_body(content = Option<WithdrawBody>, description = "Optional; may be omitted."),
    params(
        ("id" = uuid::Uuid, Path, description = "The need's id."),
        ("Idempotency-Key" = Option<String>, Header, description = "A retry with the same key and body returns the original response."),
    ),
    responses(
        (status = 200, description = "The withdrawn need.", body = NeedState,
            headers(("ETag" = String, description = "The need's new version."))),
        problems::BadRequest, problems::Unauthorized, problems::Forbidden, problems::NotFound,
        problems::Conflict, problems::PayloadTooLarge, problems::UnsupportedMediaType,
        problems::Unprocessable, problems::Internal, problems::Unavailable,
    ),
    security(("bearer_jwt" = [])),
)]
#[post("/needs/{id}/withdraw")]
pub async fn withdraw_need(
    caller: Authenticated,
    id: web::Path<NeedId>,
    idempotency: Idempotency,
    request_id: RequestId,
    req: HttpRequest,
    body: OptionalJson<WithdrawBody>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let actor = &caller.0;
    let current = visible(&state, id.into_inner(), Some(actor))?;
    let body = body.into_inner();
    let request = CommandRequest {
        actor,
        ids: command_ids(&idempotency, actor, &req, body.as_ref()),
        request_id: &request_id,
    };
    let command = NeedCommand::Withdraw {
        reason: body.and_then(|b| b.reason),
    };
    let outcome = state
        .writer()
        .act::<Needs>(&request, current, command, None)
        .await?;
    Ok(respond(StatusCode::OK, outcome))
}

/// Mark a need fulfilled (terminal).
#[utoipa::path(
    tag = "needs",
    params(
        ("id" = uuid::Uuid, Path, description = "The need's id."),
        ("Idempotency-Key" = Option<String>, Header, description = "A retry with the same key returns the original response."),
    ),
    responses(
        (status = 200, description = "The fulfilled need.", body = NeedState,
            headers(("ETag" = String, description = "The need's new version."))),
        problems::BadRequest, problems::Unauthorized, problems::Forbidden, problems::NotFound,
        problems::Conflict, problems::Unprocessable, problems::Internal, problems::Unavailable,
    ),
    security(("bearer_jwt" = [])),
)]
#[post("/needs/{id}/fulfil")]
pub async fn fulfil_need(
    caller: Authenticated,
    id: web::Path<NeedId>,
    idempotency: Idempotency,
    request_id: RequestId,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let actor = &caller.0;
    let current = visible(&state, id.into_inner(), Some(actor))?;
    let request = CommandRequest {
        actor,
        ids: command_ids::<()>(&idempotency, actor, &req, None),
        request_id: &request_id,
    };
    let outcome = state
        .writer()
        .act::<Needs>(&request, current, NeedCommand::Fulfil, None)
        .await?;
    Ok(respond(StatusCode::OK, outcome))
}

/// A need's history: every event with its actor, time, type and payload. For the owning state
/// and coordinators only.
#[utoipa::path(
    tag = "needs",
    params(("id" = uuid::Uuid, Path, description = "The need's id.")),
    responses(
        (status = 200, description = "The need's events, oldest first.", body = NeedHistory),
        problems::Unauthorized, problems::Forbidden, problems::NotFound, problems::Internal,
        problems::Unavailable,
    ),
    security(("bearer_jwt" = [])),
)]
#[get("/needs/{id}/history")]
pub async fn need_history(
    caller: Authenticated,
    id: web::Path<NeedId>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let actor = &caller.0;
    let need = visible(&state, id.into_inner(), Some(actor))?;
    let owner = actor.role.country() == Some(&need.country) || actor.role.is_coordinator();
    if !owner {
        return Err(ApiError::forbidden(
            "Only the owning state and coordinators may read a need's history.",
        ));
    }
    let events = read_stream(&state.store, &stream_name(need.id), u64::MAX).await?;
    let coordinator = actor.role.is_coordinator();
    let items = events
        .iter()
        .map(|e| HistoryEntry::from_stored(e, coordinator))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(HttpResponse::Ok().json(NeedHistory {
        need_id: need.id,
        items,
    }))
}
