//! `GET /v1/taxonomy`: the themes and topics needs and offers are classified by.

use actix_web::{HttpResponse, get};
use capmatch_domain::taxonomy::Taxonomy;
use capmatch_service::openapi::problems;

/// The taxonomy of themes and topics (public).
#[utoipa::path(
    tag = "taxonomy",
    responses(
        (status = 200, description = "The taxonomy in force.", body = Taxonomy),
        problems::Internal,
    ),
    security(()),
)]
#[get("/taxonomy")]
pub async fn get_taxonomy() -> HttpResponse {
    HttpResponse::Ok().json(Taxonomy::get())
}
