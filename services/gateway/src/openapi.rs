//! The one API document: each service's utoipa document merged, with the bearer-JWT scheme, the
//! product's description and licence. Served at `/openapi.json`, with Swagger UI at `/docs`.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ComponentsBuilder, InfoBuilder, LicenseBuilder, OpenApi, OpenApiBuilder};

/// The name of the security scheme every protected operation refers to.
pub const BEARER: &str = "bearer";

/// Merges the services' documents into the public one.
pub fn merged(services: impl IntoIterator<Item = OpenApi>) -> OpenApi {
    let mut doc = OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("capmatch")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "Matches the cyber capacity-building needs of states with the offers of \
                     providers, and lets coordinators review the suggested partnerships. Every \
                     change is an append-only, hash-chained event. Errors are RFC 9457 \
                     `application/problem+json`. Send `Authorization: Bearer <JWT>`; public \
                     needs, offers, statistics and the taxonomy need no token.",
                ))
                .license(Some(LicenseBuilder::new().name("Apache-2.0").build())),
        )
        .components(Some(
            ComponentsBuilder::new()
                .security_scheme(
                    BEARER,
                    SecurityScheme::Http(
                        HttpBuilder::new()
                            .scheme(HttpAuthScheme::Bearer)
                            .bearer_format("JWT")
                            .build(),
                    ),
                )
                .build(),
        ))
        .build();
    for service in services {
        doc.merge(service);
    }
    doc
}
