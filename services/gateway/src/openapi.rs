//! The one API document: each service's utoipa document merged onto the kit's base (the
//! `bearer_jwt` scheme every operation refers to, the problem schemas), with the product's
//! description. Served at `/openapi.json`, with Swagger UI at `/docs`.

use utoipa::openapi::{LicenseBuilder, OpenApi, ServerBuilder};

/// The description at the top of the document.
const DESCRIPTION: &str = "Matches the cyber capacity-building needs of states with the offers \
    of providers (NGOs, companies, academia, donor agencies, international organisations), and \
    lets coordinators review the suggested partnerships. Every change is an append-only, \
    hash-chained event. Errors are RFC 9457 `application/problem+json`. Send \
    `Authorization: Bearer <JWT>`; public needs, offers, statistics and the taxonomy need no \
    token.";

/// Merges the services' documents into the public one.
pub fn merged(services: impl IntoIterator<Item = OpenApi>) -> OpenApi {
    let mut doc = capmatch_service::openapi::base_document(
        "capmatch",
        env!("CARGO_PKG_VERSION"),
        DESCRIPTION,
    );
    doc.info.license = Some(LicenseBuilder::new().name("Apache-2.0").build());
    doc.servers = Some(vec![
        ServerBuilder::new()
            .url("/")
            .description(Some("this gateway"))
            .build(),
    ]);
    for service in services {
        doc.merge(service);
    }
    doc
}
