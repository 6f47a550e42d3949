//! `/v1/offers`: post, list, read, revise, pause, resume, withdraw, history.
//!
//! Handlers parse, authorise and format; the rules live in `capmatch_domain::offer::decide` and
//! the write path in `capmatch_service::Writer`. Offers are public; changing one is for its
//! organisation (or a coordinator), and so is its history.

use actix_web::http::StatusCode;
use actix_web::http::header::LOCATION;
use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use capmatch_auth::{Authenticated, Caller};
use capmatch_domain::actor::Actor;
use capmatch_domain::codes::{CountryCode, LanguageCode, RegionCode, SupportType};
use capmatch_domain::offer::{
    OfferCommand, OfferDraft, OfferId, OfferPatch, OfferState, OfferStatus,
};
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

use crate::aggregate::{Offers, stream_name};
use crate::state::{AppState, ID_NAMESPACE};

/// A page of offers.
#[derive(Debug, Serialize, ToSchema)]
pub struct OfferPage {
    /// The offers of this page, in creation order.
    pub items: Vec<OfferState>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
    /// How many offers match the filters, over all pages.
    pub total: u64,
}

/// An optional reason, when pausing or withdrawing.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonBody {
    /// Up to 2000 characters.
    #[serde(default)]
    pub reason: Option<String>,
}

/// An offer's recorded events.
#[derive(Debug, Serialize, ToSchema)]
pub struct OfferHistory {
    pub offer_id: OfferId,
    /// Every event of the offer, oldest first.
    pub items: Vec<HistoryEntry>,
}

/// Filters and page of `GET /v1/offers`. Every filter narrows; all are optional.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OfferListQuery {
    /// A theme code: offers that name this theme.
    #[param(example = "cybercrime")]
    #[param(value_type = Option<ThemeCode>)]
    pub theme: Option<String>,
    /// ISO 3166-1 alpha-2: offers that serve this country, directly or through a region or
    /// the world.
    #[param(example = "SN")]
    #[param(value_type = Option<CountryCode>)]
    pub country: Option<String>,
    /// UN M49 region: offers that serve some country of it.
    #[param(example = "002")]
    #[param(value_type = Option<RegionCode>)]
    pub region: Option<String>,
    /// `open`, `paused` or `withdrawn`.
    #[param(value_type = Option<OfferStatus>)]
    pub status: Option<String>,
    /// A support type the offer provides.
    #[param(value_type = Option<SupportType>)]
    pub support_type: Option<String>,
    /// ISO 639-1: offers delivered in this language.
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
    status: Option<OfferStatus>,
    support_type: Option<SupportType>,
    language: Option<LanguageCode>,
    text: Option<String>,
}

impl Filters {
    fn parse(query: &OfferListQuery) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let status = query.status.as_deref().and_then(|raw| {
            let parsed = match raw.trim() {
                "open" => Some(OfferStatus::Open),
                "paused" => Some(OfferStatus::Paused),
                "withdrawn" => Some(OfferStatus::Withdrawn),
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

    fn admit(&self, offer: &OfferState) -> bool {
        let d = &offer.details;
        self.theme.is_none_or(|t| d.themes.contains(&t))
            && self.country.is_none_or(|c| d.covers(&c))
            && self
                .region
                .is_none_or(|r| r.countries().any(|c| d.covers(&c)))
            && self.status.is_none_or(|s| offer.status == s)
            && self
                .support_type
                .is_none_or(|s| d.support_types.contains(&s))
            && self.language.is_none_or(|l| d.languages.contains(&l))
            && self.text.as_deref().is_none_or(|t| {
                d.title.to_lowercase().contains(t) || d.description.to_lowercase().contains(t)
            })
    }
}

fn respond(status: StatusCode, outcome: Outcome<OfferState>) -> HttpResponse {
    let mut response = HttpResponse::build(status);
    response.insert_header(etag_header(outcome.state.version));
    if status == StatusCode::CREATED {
        response.insert_header((LOCATION, format!("/v1/offers/{}", outcome.state.id)));
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

fn existing(state: &AppState, id: OfferId) -> Result<OfferState, ApiError> {
    state.offer(id).ok_or_else(ApiError::not_found)
}

/// Post an offer for the provider organisation named in the caller's token.
#[utoipa::path(
    tag = "offers",
    request_body = OfferDraft,
    params(
        ("Idempotency-Key" = Option<String>, Header, description = "1 to 200 printable ASCII characters. A retry with the same key and body returns the original response and writes nothing."),
    ),
    responses(
        (status = 201, description = "The offer as posted.", body = OfferState,
            headers(("ETag" = String, description = "The offer's version."), ("Location" = String, description = "The offer's URL."))),
        problems::BadRequest, problems::Unauthorized, problems::Forbidden, problems::PayloadTooLarge,
        problems::UnsupportedMediaType, problems::Unprocessable, problems::Internal, problems::Unavailable,
    ),
    security(("bearer_jwt" = [])),
)]
#[post("/offers")]
pub async fn post_offer(
    caller: Authenticated,
    idempotency: Idempotency,
    request_id: RequestId,
    req: HttpRequest,
    body: web::Json<OfferDraft>,
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
        .create::<Offers>(&request, |id| OfferCommand::Post {
            id: OfferId::from(id),
            draft,
        })
        .await?;
    Ok(respond(StatusCode::CREATED, outcome))
}

/// List offers, filtered, in creation order (public).
#[utoipa::path(
    tag = "offers",
    params(OfferListQuery),
    responses(
        (status = 200, description = "A page of offers.", body = OfferPage),
        problems::BadRequest, problems::Unauthorized, problems::Internal,
    ),
    security((), ("bearer_jwt" = [])),
)]
#[get("/offers")]
pub async fn list_offers(
    _caller: Caller,
    query: web::Query<OfferListQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let page = PageRequest::parse(query.limit, query.cursor.as_deref())?;
    let filters = Filters::parse(&query).map_err(ApiError::invalid_query)?;
    let page = {
        let view = state.offers.read();
        let matches = view
            .in_order()
            .filter(|e| filters.admit(&e.state))
            .map(|e| (e.key, e.state.clone()));
        paginate(matches, page)
    };
    Ok(HttpResponse::Ok().json(OfferPage {
        items: page.items,
        next_cursor: page.next_cursor,
        total: page.total,
    }))
}

/// Read one offer (public).
#[utoipa::path(
    tag = "offers",
    params(("id" = uuid::Uuid, Path, description = "The offer's id.")),
    responses(
        (status = 200, description = "The offer.", body = OfferState,
            headers(("ETag" = String, description = "The offer's version, for `If-Match`."))),
        problems::Unauthorized, problems::NotFound, problems::Internal,
    ),
    security((), ("bearer_jwt" = [])),
)]
#[get("/offers/{id}")]
pub async fn get_offer(
    _caller: Caller,
    id: web::Path<OfferId>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let offers = state.offers.read();
    let entry = offers
        .get(id.into_inner().as_uuid())
        .ok_or_else(ApiError::not_found)?;
    entry.json_response(entry.state.version)
}

/// Revise an offer: only the fields given change (`null` clears `start`, `end`,
/// `conditions`).
#[utoipa::path(
    tag = "offers",
    request_body = OfferPatch,
    params(
        ("id" = uuid::Uuid, Path, description = "The offer's id."),
        ("If-Match" = String, Header, description = "The version the revision is based on, as its ETag: `\"3\"`."),
    ),
    responses(
        (status = 200, description = "The revised offer.", body = OfferState,
            headers(("ETag" = String, description = "The offer's new version."))),
        problems::BadRequest, problems::Unauthorized, problems::Forbidden, problems::NotFound,
        problems::Conflict, problems::PreconditionFailed, problems::PayloadTooLarge,
        problems::UnsupportedMediaType, problems::Unprocessable, problems::PreconditionRequired,
        problems::Internal, problems::Unavailable,
    ),
    security(("bearer_jwt" = [])),
)]
#[patch("/offers/{id}")]
pub async fn revise_offer(
    caller: Authenticated,
    id: web::Path<OfferId>,
    if_match: IfMatch,
    request_id: RequestId,
    body: web::Json<OfferPatch>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let actor = &caller.0;
    let current = existing(&state, id.into_inner())?;
    let request = CommandRequest {
        actor,
        ids: CommandIds::new(ID_NAMESPACE, None, &actor.subject, "", ""),
        request_id: &request_id,
    };
    let command = OfferCommand::Revise {
        patch: body.into_inner(),
    };
    let outcome = state
        .writer()
        .act::<Offers>(&request, current, command, if_match.0)
        .await?;
    Ok(respond(StatusCode::OK, outcome))
}

/// Pause an open offer (it leaves matching until resumed), optionally saying why.
#[utoipa::path(
    tag = "offers",
    request_body(content = Option<ReasonBody>, description = "Optional; may be omitted."),
    params(
        ("id" = uuid::Uuid, Path, description = "The offer's id."),
        ("Idempotency-Key" = Option<String>, Header, description = "A retry with the same key and body returns the original response."),
    ),
    responses(
        (status = 200, description = "The paused offer.", body = OfferState,
            headers(("ETag" = String, description = "The offer's new version."))),
        problems::BadRequest, problems::Unauthorized, problems::Forbidden, problems::NotFound,
        problems::Conflict, problems::PayloadTooLarge, problems::UnsupportedMediaType,
        problems::Unprocessable, problems::Internal, problems::Unavailable,
    ),
    security(("bearer_jwt" = [])),
)]
#[post("/offers/{id}/pause")]
pub async fn pause_offer(
    caller: Authenticated,
    id: web::Path<OfferId>,
    idempotency: Idempotency,
    request_id: RequestId,
    req: HttpRequest,
    body: OptionalJson<ReasonBody>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let actor = &caller.0;
    let current = existing(&state, id.into_inner())?;
    let body = body.into_inner();
    let request = CommandRequest {
        actor,
        ids: command_ids(&idempotency, actor, &req, body.as_ref()),
        request_id: &request_id,
    };
    let command = OfferCommand::Pause {
        reason: body.and_then(|b| b.reason),
    };
    let outcome = state
        .writer()
        .act::<Offers>(&request, current, command, None)
        .await?;
    Ok(respond(StatusCode::OK, outcome))
}

/// Resume a paused offer.
#[utoipa::path(
    tag = "offers",
    params(
        ("id" = uuid::Uuid, Path, description = "The offer's id."),
        ("Idempotency-Key" = Option<String>, Header, description = "A retry with the same key returns the original response."),
    ),
    responses(
        (status = 200, description = "The resumed offer.", body = OfferState,
            headers(("ETag" = String, description = "The offer's new version."))),
        problems::BadRequest, problems::Unauthorized, problems::Forbidden, problems::NotFound,
        problems::Conflict, problems::Unprocessable, problems::Internal, problems::Unavailable,
    ),
    security(("bearer_jwt" = [])),
)]
#[post("/offers/{id}/resume")]
pub async fn resume_offer(
    caller: Authenticated,
    id: web::Path<OfferId>,
    idempotency: Idempotency,
    request_id: RequestId,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let actor = &caller.0;
    let current = existing(&state, id.into_inner())?;
    let request = CommandRequest {
        actor,
        ids: command_ids::<()>(&idempotency, actor, &req, None),
        request_id: &request_id,
    };
    let outcome = state
        .writer()
        .act::<Offers>(&request, current, OfferCommand::Resume, None)
        .await?;
    Ok(respond(StatusCode::OK, outcome))
}

/// Withdraw an offer (terminal), optionally saying why.
#[utoipa::path(
    tag = "offers",
    request_body(content = Option<ReasonBody>, description = "Optional; may be omitted."),
    params(
        ("id" = uuid::Uuid, Path, description = "The offer's id."),
        ("Idempotency-Key" = Option<String>, Header, description = "A retry with the same key and body returns the original response."),
    ),
    responses(
        (status = 200, description = "The withdrawn offer.", body = OfferState,
            headers(("ETag" = String, description = "The offer's new version."))),
        problems::BadRequest, problems::Unauthorized, problems::Forbidden, problems::NotFound,
        problems::Conflict, problems::PayloadTooLarge, problems::UnsupportedMediaType,
        problems::Unprocessable, problems::Internal, problems::Unavailable,
    ),
    security(("bearer_jwt" = [])),
)]
#[post("/offers/{id}/withdraw")]
pub async fn withdraw_offer(
    caller: Authenticated,
    id: web::Path<OfferId>,
    idempotency: Idempotency,
    request_id: RequestId,
    req: HttpRequest,
    body: OptionalJson<ReasonBody>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let actor = &caller.0;
    let current = existing(&state, id.into_inner())?;
    let body = body.into_inner();
    let request = CommandRequest {
        actor,
        ids: command_ids(&idempotency, actor, &req, body.as_ref()),
        request_id: &request_id,
    };
    let command = OfferCommand::Withdraw {
        reason: body.and_then(|b| b.reason),
    };
    let outcome = state
        .writer()
        .act::<Offers>(&request, current, command, None)
        .await?;
    Ok(respond(StatusCode::OK, outcome))
}

/// An offer's history: every event with its actor, time, type and payload. For the offering
/// organisation and coordinators only.
#[utoipa::path(
    tag = "offers",
    params(("id" = uuid::Uuid, Path, description = "The offer's id.")),
    responses(
        (status = 200, description = "The offer's events, oldest first.", body = OfferHistory),
        problems::Unauthorized, problems::Forbidden, problems::NotFound, problems::Internal,
        problems::Unavailable,
    ),
    security(("bearer_jwt" = [])),
)]
#[get("/offers/{id}/history")]
pub async fn offer_history(
    caller: Authenticated,
    id: web::Path<OfferId>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let actor = &caller.0;
    let offer = existing(&state, id.into_inner())?;
    let owner = actor.role.org() == Some(&offer.provider.org) || actor.role.is_coordinator();
    if !owner {
        return Err(ApiError::forbidden(
            "Only the offering organisation and coordinators may read an offer's history.",
        ));
    }
    let events = read_stream(&state.store, &stream_name(offer.id), u64::MAX).await?;
    let coordinator = actor.role.is_coordinator();
    let items = events
        .iter()
        .map(|e| HistoryEntry::from_stored(e, coordinator))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(HttpResponse::Ok().json(OfferHistory {
        offer_id: offer.id,
        items,
    }))
}
