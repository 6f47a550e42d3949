//! The one API document: each service's utoipa document merged onto the kit's base (the
//! `bearer_jwt` scheme every operation refers to, the problem schemas), with the product's
//! description and what the edge itself answers on every operation ([`describe_edge`]). Served
//! at `/openapi.json`, with Swagger UI at `/docs`.

use capmatch_service::openapi::{operations, problem_response};
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{LicenseBuilder, OpenApi, Ref, RefOr, ServerBuilder};

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
    describe_edge(&mut doc);
    doc
}

/// What the gateway answers before, or instead of, the service (see [`crate::edge`]), on every
/// operation of the API, where the service's own document does not say it already: a refused
/// token (401, even where no token is needed), a declared body over the limit (413), the rate
/// limit (429, with `Retry-After`), a service down or not ready (503) or too slow (504).
pub fn describe_edge(doc: &mut OpenApi) {
    let answers = [
        (
            "401",
            "Unauthenticated",
            "Missing or invalid bearer token (`unauthenticated`): a token that is sent is \
             checked even where none is needed.",
        ),
        (
            "413",
            "PayloadTooLarge",
            "The declared body is larger than the gateway accepts (`payload_too_large`).",
        ),
        (
            "429",
            "TooManyRequests",
            "Too many requests from this caller (`too_many_requests`): its token's subject, or \
             its address when it sent no token or one not yet accepted. `Retry-After` says when \
             to try again.",
        ),
        (
            "503",
            "Unavailable",
            "The service is unavailable (`unavailable`): down, stopping, or still catching up \
             with the events it follows; retry later.",
        ),
        (
            "504",
            "GatewayTimeout",
            "The service did not answer within the gateway's timeout (`gateway_timeout`). A \
             change may have taken effect: retrying with the same `Idempotency-Key` or \
             `If-Match` is safe.",
        ),
    ];
    let components = doc.components.get_or_insert_with(Default::default);
    for (status, name, description) in answers {
        let mut response = problem_response(description);
        if status == "429" {
            response.headers.insert(
                "Retry-After".to_owned(),
                HeaderBuilder::new()
                    .schema(Some(
                        ObjectBuilder::new()
                            .schema_type(Type::Integer)
                            .minimum(Some(0)),
                    ))
                    .description(Some("Seconds to wait before the next request."))
                    .build()
                    .into(),
            );
        }
        components
            .responses
            .insert(name.to_owned(), RefOr::T(response));
    }
    for operation in operations(doc) {
        for (status, name, _) in answers {
            operation
                .responses
                .responses
                .entry(status.to_owned())
                .or_insert_with(|| RefOr::Ref(Ref::from_response_name(name)));
        }
    }
}
