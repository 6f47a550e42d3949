//! The RFC 9457 problem body and the one table of stable problem codes.
//!
//! Every error any capmatch service returns is a [`Problem`] whose `code` comes from
//! [`ProblemCode`]. Clients branch on `code` (or the equivalent `type` URI), never on `title` or
//! `detail`, so a code, once published, is never renamed or given another status.

use actix_web::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Prefix of every `type` URI; the suffix is the code with `_` written as `-`.
pub const PROBLEM_TYPE_BASE: &str = "https://capmatch.dev/problems/";

/// An RFC 9457 problem details body (`application/problem+json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(examples(json!({
    "type": "https://capmatch.dev/problems/validation-failed",
    "title": "Request validation failed",
    "status": 422,
    "detail": "One or more fields are invalid.",
    "code": "validation_failed",
    "errors": [
        { "field": "country", "code": "invalid_country", "message": "not an ISO 3166-1 alpha-2 code" }
    ],
    "request_id": "9f0c2a6e-4c1b-4a53-9d0e-2f6f0c7d1b7a"
})))]
pub struct Problem {
    /// Stable URI naming the problem kind; one-to-one with `code`.
    #[serde(rename = "type")]
    pub type_uri: String,
    /// Short human summary of the kind; may be reworded, so never parse it.
    pub title: String,
    /// The HTTP status, repeated so a body stays meaningful when logged on its own.
    pub status: u16,
    /// What went wrong in this occurrence, written for a human; never a stack trace or a
    /// library message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// URI reference of this occurrence, when the handler has one worth naming.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// Stable snake_case code clients branch on.
    pub code: String,
    /// Per-field errors, on 422 (and, best-effort, on a 400 for a bad query string).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
    /// The request id of this exchange (also in the `X-Request-Id` header), to quote to support.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// One invalid field of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(examples(json!({ "field": "themes[0]", "code": "unknown_theme", "message": "unknown theme" })))]
pub struct FieldError {
    /// Path of the field in the request (`title`, `themes[0]`, `query.limit`); absent when the
    /// error concerns the whole body or the field could not be determined.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Stable snake_case code for this kind of field error (`missing_field`, `invalid_type`...).
    pub code: String,
    /// Human-readable explanation.
    pub message: String,
}

impl FieldError {
    /// An error about one named field.
    pub fn new(
        field: impl Into<String>,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            field: Some(field.into()),
            code: code.into(),
            message: message.into(),
        }
    }

    /// An error about the request as a whole (no single field to blame).
    pub fn whole(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: None,
            code: code.into(),
            message: message.into(),
        }
    }
}

macro_rules! problem_codes {
    ($( $(#[$doc:meta])* $variant:ident => ($status:ident, $code:literal, $slug:literal, $title:literal), )+) => {
        /// The one table of stable problem codes: status, `code`, `type` URI and title.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ProblemCode {
            $( $(#[$doc])* $variant, )+
        }

        impl ProblemCode {
            /// Every code, in table order (for documentation and tests).
            pub const ALL: &'static [ProblemCode] = &[ $( ProblemCode::$variant, )+ ];

            /// The stable snake_case code.
            pub const fn as_str(self) -> &'static str {
                match self { $( ProblemCode::$variant => $code, )+ }
            }

            /// The HTTP status this code is always sent with.
            pub const fn status(self) -> StatusCode {
                match self { $( ProblemCode::$variant => StatusCode::$status, )+ }
            }

            /// The stable `type` URI.
            pub const fn type_uri(self) -> &'static str {
                match self {
                    $( ProblemCode::$variant => concat!("https://capmatch.dev/problems/", $slug), )+
                }
            }

            /// The short human title.
            pub const fn title(self) -> &'static str {
                match self { $( ProblemCode::$variant => $title, )+ }
            }
        }
    };
}

problem_codes! {
    /// The request is malformed in a way no more specific code covers.
    BadRequest => (BAD_REQUEST, "bad_request", "bad-request", "Bad request"),
    /// The body is not syntactically valid JSON.
    MalformedJson => (BAD_REQUEST, "malformed_json", "malformed-json", "Malformed JSON body"),
    /// The query string could not be parsed into the endpoint's parameters.
    InvalidQuery => (BAD_REQUEST, "invalid_query", "invalid-query", "Invalid query parameters"),
    /// No bearer token where one is needed, or a token that was refused.
    Unauthenticated => (UNAUTHORIZED, "unauthenticated", "unauthenticated", "Authentication required"),
    /// The caller is known but its role may not do this.
    Forbidden => (FORBIDDEN, "forbidden", "forbidden", "Forbidden"),
    /// No such resource, or not visible to this caller.
    NotFound => (NOT_FOUND, "not_found", "not-found", "Not found"),
    /// The resource exists but not with this method.
    MethodNotAllowed => (METHOD_NOT_ALLOWED, "method_not_allowed", "method-not-allowed", "Method not allowed"),
    /// The request conflicts with the current state of the resource.
    Conflict => (CONFLICT, "conflict", "conflict", "Conflict"),
    /// The command is not allowed from the resource's current lifecycle state.
    InvalidTransition => (CONFLICT, "invalid_transition", "invalid-transition", "Invalid state transition"),
    /// The resource to create already exists.
    AlreadyExists => (CONFLICT, "already_exists", "already-exists", "Already exists"),
    /// A request with the same `Idempotency-Key` is still being processed.
    RequestInProgress => (CONFLICT, "request_in_progress", "request-in-progress", "Request already in progress"),
    /// `If-Match` names a version that is no longer current.
    PreconditionFailed => (PRECONDITION_FAILED, "precondition_failed", "precondition-failed", "Precondition failed"),
    /// The body is larger than the endpoint accepts.
    PayloadTooLarge => (PAYLOAD_TOO_LARGE, "payload_too_large", "payload-too-large", "Payload too large"),
    /// The body's `Content-Type` is missing or not JSON.
    UnsupportedMediaType => (UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", "unsupported-media-type", "Unsupported media type"),
    /// The body is JSON but its values are invalid; see `errors`.
    ValidationFailed => (UNPROCESSABLE_ENTITY, "validation_failed", "validation-failed", "Request validation failed"),
    /// An `Idempotency-Key` was reused with a different request.
    IdempotencyKeyReused => (UNPROCESSABLE_ENTITY, "idempotency_key_reused", "idempotency-key-reused", "Idempotency key reused"),
    /// A conditional header (`If-Match`) is required and missing.
    PreconditionRequired => (PRECONDITION_REQUIRED, "precondition_required", "precondition-required", "Precondition required"),
    /// The caller sent too many requests; see `Retry-After`.
    TooManyRequests => (TOO_MANY_REQUESTS, "too_many_requests", "too-many-requests", "Too many requests"),
    /// An unexpected server error; the body says nothing more, the log has the cause.
    Internal => (INTERNAL_SERVER_ERROR, "internal", "internal", "Internal server error"),
    /// A dependency is down or the service is not ready.
    Unavailable => (SERVICE_UNAVAILABLE, "unavailable", "unavailable", "Service unavailable"),
    /// A dependency did not answer in time.
    GatewayTimeout => (GATEWAY_TIMEOUT, "gateway_timeout", "gateway-timeout", "Gateway timeout"),
}

impl ProblemCode {
    /// The code a bare error status is reported with when nothing more specific is known
    /// (for example an empty 405 from actix's router). `None` for a status outside the table.
    pub fn for_status(status: StatusCode) -> Option<ProblemCode> {
        Some(match status.as_u16() {
            400 => ProblemCode::BadRequest,
            401 => ProblemCode::Unauthenticated,
            403 => ProblemCode::Forbidden,
            404 => ProblemCode::NotFound,
            405 => ProblemCode::MethodNotAllowed,
            409 => ProblemCode::Conflict,
            412 => ProblemCode::PreconditionFailed,
            413 => ProblemCode::PayloadTooLarge,
            415 => ProblemCode::UnsupportedMediaType,
            422 => ProblemCode::ValidationFailed,
            428 => ProblemCode::PreconditionRequired,
            429 => ProblemCode::TooManyRequests,
            500 => ProblemCode::Internal,
            503 => ProblemCode::Unavailable,
            504 => ProblemCode::GatewayTimeout,
            _ => return None,
        })
    }
}

impl std::fmt::Display for ProblemCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Problem {
    /// A problem of kind `code` with no detail.
    pub fn new(code: ProblemCode) -> Self {
        Self {
            type_uri: code.type_uri().to_owned(),
            title: code.title().to_owned(),
            status: code.status().as_u16(),
            detail: None,
            instance: None,
            code: code.as_str().to_owned(),
            errors: None,
            request_id: None,
        }
    }

    /// The problem for a bare error status: the table's code when it has one, otherwise an
    /// RFC 9457 `about:blank` problem titled with the status's reason phrase.
    pub fn for_status(status: StatusCode) -> Self {
        match ProblemCode::for_status(status) {
            Some(code) => Self::new(code),
            None => Self {
                type_uri: "about:blank".to_owned(),
                title: status.canonical_reason().unwrap_or("Error").to_owned(),
                status: status.as_u16(),
                detail: None,
                instance: None,
                code: format!("http_{}", status.as_u16()),
                errors: None,
                request_id: None,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_code_is_unique_snake_case_and_its_type_uri_matches() {
        let mut seen = HashSet::new();
        for code in ProblemCode::ALL {
            let s = code.as_str();
            assert!(seen.insert(s), "duplicate code {s}");
            assert!(s.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{s}");
            let expected = format!("{PROBLEM_TYPE_BASE}{}", s.replace('_', "-"));
            assert_eq!(code.type_uri(), expected);
            assert!(code.status().is_client_error() || code.status().is_server_error());
        }
    }

    #[test]
    fn for_status_agrees_with_the_table() {
        for code in ProblemCode::ALL {
            let generic = ProblemCode::for_status(code.status()).map(ProblemCode::status);
            assert_eq!(generic, Some(code.status()));
        }
        assert_eq!(
            Problem::for_status(StatusCode::IM_A_TEAPOT).type_uri,
            "about:blank"
        );
    }
}
