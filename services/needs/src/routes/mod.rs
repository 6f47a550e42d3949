//! The public API under `/v1`, registered through `utoipa-actix-web` so the OpenAPI document is
//! generated from this routing and nothing else.

use actix_web::App;
use utoipa_actix_web::AppExt;
use utoipa_actix_web::scope::Scope;

pub mod needs;
pub mod taxonomy;

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
        .service(needs::post_need)
        .service(needs::list_needs)
        .service(needs::get_need)
        .service(needs::revise_need)
        .service(needs::withdraw_need)
        .service(needs::fulfil_need)
        .service(needs::need_history)
        .service(taxonomy::get_taxonomy)
}

/// The service's OpenAPI document, generated from [`api`].
pub fn openapi() -> utoipa::openapi::OpenApi {
    let base = capmatch_service::openapi::base_document(
        "capmatch needs",
        env!("CARGO_PKG_VERSION"),
        "States' capacity-building needs: post, revise, withdraw, fulfil, list and audit. \
         Restricted needs are visible only to the owning state, coordinators, and a provider \
         while one of its partnerships on the need is introduced or agreed; to anyone else, \
         and to that provider once the partnership is declined, dismissed, closed or \
         completed, they do not exist (see `Visibility`).",
    );
    let (_, mut doc) = App::new()
        .into_utoipa_app()
        .openapi(base)
        .service(api())
        .split_for_parts();
    capmatch_service::openapi::describe_protocol(&mut doc);
    capmatch_service::openapi::add_schema::<capmatch_domain::codes::RegionCode>(&mut doc);
    doc
}
