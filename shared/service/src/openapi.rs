//! OpenAPI pieces every service document shares: the base document (info, the bearer-JWT
//! security scheme, the problem schemas) and problem responses to list in `#[utoipa::path]`:
//!
//! ```text
//! #[utoipa::path(
//!     responses((status = 200, body = NeedState), problems::NotFound, problems::Unauthorized),
//!     security((), (BEARER = [])),
//! )]
//! ```

use std::collections::BTreeMap;

use capmatch_http::{FieldError, PROBLEM_JSON, Problem};
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::Operation;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, InfoBuilder, OpenApi, OpenApiBuilder, Ref, RefOr,
    ResponseBuilder, response::Response,
};

/// Name of the bearer-JWT security scheme in every document.
pub const BEARER: &str = "bearer_jwt";

/// The document a service's routing fills in: info, the `bearer_jwt` scheme, `Problem` and
/// `FieldError` schemas.
pub fn base_document(title: &str, version: &str, description: &str) -> OpenApi {
    let components = ComponentsBuilder::new()
        .security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "A JWT from the capmatch issuer with `sub`, `role`, `exp`, `iss`, `aud` \
                         and the role's own claims (`country` for states, `org` and `org_type` \
                         for providers).",
                    ))
                    .build(),
            ),
        )
        .schema_from::<Problem>()
        .schema_from::<FieldError>()
        .build();
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title(title)
                .version(version)
                .description(Some(description))
                .build(),
        )
        .components(Some(components))
        .build()
}

/// A problem+json response referring to the `Problem` schema.
pub fn problem_response(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            PROBLEM_JSON,
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .build()
}

/// Problem responses, one per status, for `responses(...)` of `#[utoipa::path]`.
pub mod problems {
    use super::*;

    macro_rules! problems {
        ($( $(#[$doc:meta])* $name:ident => ($status:literal, $description:literal), )+) => {
            $(
                $(#[$doc])*
                #[derive(Debug, Clone, Copy)]
                pub struct $name;

                impl utoipa::IntoResponses for $name {
                    fn responses() -> BTreeMap<String, RefOr<Response>> {
                        BTreeMap::from([(
                            $status.to_owned(),
                            RefOr::T(problem_response($description)),
                        )])
                    }
                }
            )+
        };
    }

    problems! {
        /// 400: malformed JSON, a bad query, header or cursor.
        BadRequest => ("400", "Malformed request: JSON syntax, query string or header (`malformed_json`, `invalid_query`, `bad_request`)."),
        /// 401: no bearer token where one is needed, or a refused token.
        Unauthorized => ("401", "Missing or invalid bearer token (`unauthenticated`)."),
        /// 403: the caller's role or organisation may not do this.
        Forbidden => ("403", "The caller may not do this (`forbidden`)."),
        /// 404: no such resource, or not visible to the caller.
        NotFound => ("404", "No such resource, or not visible to the caller (`not_found`)."),
        /// 409: the action is not allowed from the resource's state.
        Conflict => ("409", "Not allowed in the resource's current state (`invalid_transition`, `already_exists`, `conflict`)."),
        /// 412: `If-Match` names an old version.
        PreconditionFailed => ("412", "`If-Match` names a version that is no longer current (`precondition_failed`)."),
        /// 413: the body is over the limit.
        PayloadTooLarge => ("413", "The body is larger than the service accepts (`payload_too_large`)."),
        /// 415: the body is not sent as JSON.
        UnsupportedMediaType => ("415", "The body must be `application/json` (`unsupported_media_type`)."),
        /// 422: invalid field values, or a reused idempotency key.
        Unprocessable => ("422", "Invalid field values, listed per field (`validation_failed`), or an `Idempotency-Key` reused for another request (`idempotency_key_reused`)."),
        /// 428: `If-Match` is required.
        PreconditionRequired => ("428", "The request must carry `If-Match` (`precondition_required`)."),
        /// 500: unexpected; the body says nothing more.
        Internal => ("500", "Unexpected server error (`internal`); the body is opaque."),
        /// 503: a dependency (the event store) is down.
        Unavailable => ("503", "A dependency is unavailable (`unavailable`); retry later."),
    }
}

/// `If-Match` as [`capmatch_http::IfMatch`] reads it: `*`, or one version tag (`"3"`, `W/"3"`,
/// or the bare `3`).
pub const IF_MATCH_PATTERN: &str = r#"^(\*|(W/)?"[0-9]{1,19}"|[0-9]{1,19})$"#;
/// `Idempotency-Key` as [`crate::idempotency`] reads it: 1 to 200 printable ASCII characters,
/// not starting or ending with a space (HTTP strips those).
pub const IDEMPOTENCY_KEY_PATTERN: &str = "^[!-~]([ -~]{0,198}[!-~])?$";

/// Describes the protocol every service speaks the same way, in every operation of `doc` that
/// takes part in it, from the parsers' own rules: the parameters `If-Match`, `Idempotency-Key`,
/// `cursor` and `limit`, and the `Idempotent-Replayed` header of a success answered again for a
/// retried `Idempotency-Key`. Call it on a service's finished document.
pub fn describe_protocol(doc: &mut OpenApi) {
    use utoipa::openapi::path::ParameterIn;

    for operation in operations(doc) {
        let mut idempotent = false;
        for parameter in operation.parameters.iter_mut().flatten() {
            let RefOr::T(parameter) = parameter else {
                continue;
            };
            let schema = match (&parameter.parameter_in, parameter.name.as_str()) {
                (ParameterIn::Header, "If-Match") => string_schema(IF_MATCH_PATTERN, 1, 23),
                (ParameterIn::Header, "Idempotency-Key") => {
                    idempotent = true;
                    string_schema(IDEMPOTENCY_KEY_PATTERN, 1, 200)
                }
                (ParameterIn::Query, "cursor") => {
                    use crate::pagination::{CURSOR_LEN, CURSOR_PATTERN};
                    string_schema(CURSOR_PATTERN, CURSOR_LEN, CURSOR_LEN)
                }
                (ParameterIn::Query, "limit") => ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(1))
                    .maximum(Some(crate::pagination::MAX_LIMIT))
                    .into(),
                _ => continue,
            };
            parameter.schema = Some(schema);
        }
        if idempotent {
            let successes = operation
                .responses
                .responses
                .iter_mut()
                .filter(|(status, _)| status.starts_with('2'));
            for (_, response) in successes {
                if let RefOr::T(response) = response {
                    response.headers.insert(
                        REPLAYED.to_owned(),
                        HeaderBuilder::new()
                            .schema(Some(
                                ObjectBuilder::new()
                                    .schema_type(Type::String)
                                    .enum_values(Some(["true"])),
                            ))
                            .description(Some(
                                "`true` when this is the answer to an earlier request with the \
                                 same `Idempotency-Key`, repeated without acting again.",
                            ))
                            .build()
                            .into(),
                    );
                }
            }
        }
    }
}

/// The header a replayed answer carries.
pub const REPLAYED: &str = "Idempotent-Replayed";

/// Every operation of `doc`.
pub fn operations(doc: &mut OpenApi) -> impl Iterator<Item = &mut Operation> {
    doc.paths.paths.values_mut().flat_map(|item| {
        [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.patch,
            &mut item.delete,
        ]
        .into_iter()
        .flatten()
    })
}

/// Adds `T`'s schema to the components of `doc`, for a type only parameters refer to (utoipa
/// collects the schemas of bodies and responses, not of parameters).
pub fn add_schema<T: utoipa::ToSchema>(doc: &mut OpenApi) {
    doc.components
        .get_or_insert_with(Default::default)
        .schemas
        .insert(T::name().into_owned(), T::schema());
}

fn string_schema(pattern: &str, min_length: usize, max_length: usize) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(pattern))
        .min_length(Some(min_length))
        .max_length(Some(max_length))
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use utoipa::IntoResponses;

    #[test]
    fn the_base_document_has_the_bearer_scheme_and_the_problem_schema() {
        let doc = base_document("t", "1", "d");
        let components = doc.components.expect("components");
        assert!(components.security_schemes.contains_key(BEARER));
        assert!(components.schemas.contains_key("Problem"));
        assert!(components.schemas.contains_key("FieldError"));
    }

    #[test]
    fn problem_responses_are_problem_json() {
        let responses = problems::NotFound::responses();
        let RefOr::T(response) = &responses["404"] else {
            panic!("an inline response");
        };
        assert!(response.content.contains_key(PROBLEM_JSON));
    }
}
