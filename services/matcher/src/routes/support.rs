//! Small pieces the handlers share: a decision's request context, match ids in paths, pages,
//! and answering with a match.

use std::future::{Ready, ready};

use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse};
use capmatch_domain::actor::Actor;
use capmatch_domain::ids::MatchId;
use capmatch_domain::partnership::MatchState;
use capmatch_http::{ApiError, IfMatch, RequestId, etag_header};
use capmatch_service::{CommandIds, Idempotency, Outcome, PageRequest, body_digest};
use serde::Serialize;

use crate::aggregate::ID_NAMESPACE;
use crate::state::AppState;
use crate::wire::MatchView;

/// What every decision reads from its request besides the caller, the id and the body: the
/// `Idempotency-Key`, the optional `If-Match` (a decision may name the version it was based on,
/// 412 when stale, or not), the request id and the path. A malformed header is a 400.
#[derive(Debug, Clone)]
pub struct DecisionContext {
    pub idempotency: Idempotency,
    pub if_match: Option<u64>,
    pub request_id: RequestId,
    pub path: String,
}

impl DecisionContext {
    fn from_request_sync(req: &HttpRequest) -> Result<Self, ApiError> {
        let idempotency = Idempotency::from_request_headers(req)?;
        let if_match = if req.headers().contains_key(header::IF_MATCH) {
            IfMatch::from_request_headers(req)?.0
        } else {
            None
        };
        let request_id = match req.extensions().get::<RequestId>() {
            Some(id) => id.clone(),
            None => RequestId::generate(),
        };
        Ok(Self {
            idempotency,
            if_match,
            request_id,
            path: req.path().to_owned(),
        })
    }

    /// The ids of the command: derived from the `Idempotency-Key` when there is one.
    pub fn command_ids<T: Serialize>(&self, actor: &Actor, body: Option<&T>) -> CommandIds {
        CommandIds::new(
            ID_NAMESPACE,
            self.idempotency.key(),
            &actor.subject,
            &self.path,
            &body_digest(body),
        )
    }
}

impl FromRequest for DecisionContext {
    type Error = ApiError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        ready(Self::from_request_sync(req))
    }
}

/// A match id from a path: `<need id>~<offer id>`; anything else names no match (404).
pub fn match_id(raw: &str) -> Result<MatchId, ApiError> {
    raw.parse().map_err(|_| ApiError::not_found())
}

/// The page a list asks for, with the configured default size.
pub fn page(
    state: &AppState,
    limit: Option<i64>,
    cursor: Option<&str>,
) -> Result<PageRequest, ApiError> {
    PageRequest::parse(Some(limit.unwrap_or(state.page_size)), cursor)
}

/// 200 with the match, its version as `ETag`, and `Idempotent-Replayed` on a replay.
pub fn respond(state: &AppState, outcome: Outcome<MatchState>) -> HttpResponse {
    let mut response = HttpResponse::Ok();
    response.insert_header(etag_header(outcome.state.version));
    if outcome.replayed {
        response.insert_header((capmatch_service::openapi::REPLAYED, "true"));
    }
    let stale = state.is_stale(&outcome.state);
    response.json(MatchView::new(outcome.state, stale))
}
