//! The public API under `/v1`, registered through `utoipa-actix-web` so the OpenAPI document is
//! generated from this routing and nothing else.
//!
//! - [`suggestions`]: `GET /v1/needs/{id}/matches`, `GET /v1/offers/{id}/matches`.
//! - [`matches`](mod@matches): `GET /v1/matches` (the queue), `GET /v1/matches/{id}`, and the decisions
//!   `POST /v1/matches/{id}/{shortlist,dismiss,introduce,accept,decline,complete}`.
//! - [`insight`]: `GET /v1/matches/why?need_id=..&offer_id=..`, `GET /v1/plan`, `GET /v1/stats`.

use actix_web::App;
use utoipa_actix_web::AppExt;
use utoipa_actix_web::scope::Scope;

pub mod insight;
pub mod matches;
pub mod suggestions;
pub mod support;

/// The `/v1` scope with every public endpoint of the service.
pub fn api() -> Scope<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    utoipa_actix_web::scope("/v1")
        .service(suggestions::need_matches)
        .service(suggestions::offer_matches)
        .service(matches::list_matches)
        // Before `/matches/{id}`, which would take `why` for an id.
        .service(insight::why)
        .service(matches::get_match)
        .service(matches::shortlist)
        .service(matches::dismiss)
        .service(matches::introduce)
        .service(matches::accept)
        .service(matches::decline)
        .service(matches::complete)
        .service(insight::plan)
        .service(insight::stats)
}

/// The service's OpenAPI document, generated from [`api`].
pub fn openapi() -> utoipa::openapi::OpenApi {
    let base = capmatch_service::openapi::base_document(
        "capmatch matcher",
        env!("CARGO_PKG_VERSION"),
        "Suggested partnerships between needs and offers, each with a score and its reasons; \
         the coordinators' review workflow (shortlist, dismiss, introduce, accept, decline, \
         complete); why a pair is or is not suggested; the capacity-aware plan; and public \
         statistics that leave restricted needs out.",
    );
    let (_, mut doc) = App::new()
        .into_utoipa_app()
        .openapi(base)
        .service(api())
        .split_for_parts();
    capmatch_service::openapi::describe_protocol(&mut doc);
    doc
}
