//! The public API under `/v1`, registered through `utoipa-actix-web` so the OpenAPI document is
//! generated from this routing and nothing else.

use actix_web::App;
use utoipa_actix_web::AppExt;
use utoipa_actix_web::scope::Scope;

pub mod offers;

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
        .service(offers::post_offer)
        .service(offers::list_offers)
        .service(offers::get_offer)
        .service(offers::revise_offer)
        .service(offers::pause_offer)
        .service(offers::resume_offer)
        .service(offers::withdraw_offer)
        .service(offers::offer_history)
}

/// The service's OpenAPI document, generated from [`api`].
pub fn openapi() -> utoipa::openapi::OpenApi {
    let base = capmatch_service::openapi::base_document(
        "capmatch offers",
        env!("CARGO_PKG_VERSION"),
        "Providers' capacity-building offers: post, revise, pause, resume, withdraw, list and \
         audit. Offers are public; only the offering organisation and coordinators change them \
         or read their history.",
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
