//! [`ApiError`]: the one error type handlers return; actix renders it as a [`Problem`].

use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::{HttpResponse, ResponseError};

use crate::problem::{FieldError, PROBLEM_JSON, Problem, ProblemCode};

type Cause = Box<dyn StdError + Send + Sync + 'static>;

/// The one detail every 401 carries, whatever the reason: the reason belongs in the log.
const UNAUTHENTICATED_DETAIL: &str = "invalid or missing bearer token";

/// An error a handler, extractor or middleware returns; rendered as `application/problem+json`.
///
/// Build one with the constructor named after its code (`ApiError::not_found()`,
/// `ApiError::validation(errors)`...), refine with the `with_*` methods. For a 500 use
/// [`ApiError::internal`]: its cause is logged with the whole chain and never shown.
pub struct ApiError {
    code: ProblemCode,
    detail: Option<String>,
    instance: Option<String>,
    errors: Vec<FieldError>,
    headers: Vec<(HeaderName, HeaderValue)>,
    /// Kept for the log only; never rendered.
    cause: Option<Cause>,
}

impl ApiError {
    /// An error of kind `code`, without detail.
    pub fn new(code: ProblemCode) -> Self {
        Self {
            code,
            detail: None,
            instance: None,
            errors: Vec::new(),
            headers: Vec::new(),
            cause: None,
        }
    }

    /// Adds a human-readable explanation of this occurrence. It is shown to the client: never
    /// put a library or database message here.
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// Names the occurrence (RFC 9457 `instance`).
    pub fn with_instance(mut self, instance: impl Into<String>) -> Self {
        self.instance = Some(instance.into());
        self
    }

    /// Adds per-field errors.
    pub fn with_errors(mut self, errors: impl IntoIterator<Item = FieldError>) -> Self {
        self.errors.extend(errors);
        self
    }

    /// Adds a response header (e.g. `Allow`, `Retry-After`).
    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }

    /// Keeps `cause` for the log (any status). It never reaches the response body.
    pub fn with_cause(mut self, cause: impl Into<Cause>) -> Self {
        self.cause = Some(cause.into());
        self
    }

    /// 400 `bad_request`.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(ProblemCode::BadRequest).with_detail(detail)
    }

    /// 400 `malformed_json`.
    pub fn malformed_json(detail: impl Into<String>) -> Self {
        Self::new(ProblemCode::MalformedJson).with_detail(detail)
    }

    /// 400 `invalid_query`.
    pub fn invalid_query(errors: impl IntoIterator<Item = FieldError>) -> Self {
        Self::new(ProblemCode::InvalidQuery)
            .with_detail("The query string is invalid.")
            .with_errors(errors)
    }

    /// 401 `unauthenticated` with `WWW-Authenticate: Bearer`: no token where one is required.
    pub fn unauthenticated() -> Self {
        Self::new(ProblemCode::Unauthenticated)
            .with_detail(UNAUTHENTICATED_DETAIL)
            .with_header(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"))
    }

    /// 401 `unauthenticated` for a token that was present but refused, with
    /// `WWW-Authenticate: Bearer error="invalid_token"` (RFC 6750). The body is the same
    /// whatever the reason; the reason belongs in the log.
    pub fn invalid_token() -> Self {
        Self::new(ProblemCode::Unauthenticated)
            .with_detail(UNAUTHENTICATED_DETAIL)
            .with_header(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer error=\"invalid_token\""),
            )
    }

    /// 403 `forbidden`.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(ProblemCode::Forbidden).with_detail(detail)
    }

    /// 404 `not_found`.
    pub fn not_found() -> Self {
        Self::new(ProblemCode::NotFound)
    }

    /// 405 `method_not_allowed`; `allow` lists the methods the resource accepts, if known.
    pub fn method_not_allowed(allow: Option<HeaderValue>) -> Self {
        let err = Self::new(ProblemCode::MethodNotAllowed);
        match allow {
            Some(allow) => err.with_header(header::ALLOW, allow),
            None => err,
        }
    }

    /// 409 `conflict`.
    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(ProblemCode::Conflict).with_detail(detail)
    }

    /// 409 `invalid_transition`: the command is not allowed from the current state.
    pub fn invalid_transition(detail: impl Into<String>) -> Self {
        Self::new(ProblemCode::InvalidTransition).with_detail(detail)
    }

    /// 412 `precondition_failed`: `If-Match` named `expected`, the resource is at `actual`.
    pub fn precondition_failed(expected: u64, actual: u64) -> Self {
        Self::new(ProblemCode::PreconditionFailed).with_detail(format!(
            "If-Match names version {expected} but the current version is {actual}."
        ))
    }

    /// 413 `payload_too_large`.
    pub fn payload_too_large(limit_bytes: usize) -> Self {
        Self::new(ProblemCode::PayloadTooLarge).with_detail(format!(
            "The body exceeds the limit of {limit_bytes} bytes."
        ))
    }

    /// 415 `unsupported_media_type`.
    pub fn unsupported_media_type() -> Self {
        Self::new(ProblemCode::UnsupportedMediaType)
            .with_detail("The body must be sent with Content-Type: application/json.")
    }

    /// 422 `validation_failed` with per-field errors.
    pub fn validation(errors: impl IntoIterator<Item = FieldError>) -> Self {
        Self::new(ProblemCode::ValidationFailed)
            .with_detail("One or more fields are invalid.")
            .with_errors(errors)
    }

    /// 428 `precondition_required`: the request must carry `header_name` (e.g. `If-Match`).
    pub fn precondition_required(header_name: &str) -> Self {
        Self::new(ProblemCode::PreconditionRequired)
            .with_detail(format!("This request requires an {header_name} header."))
    }

    /// 429 `too_many_requests`, with `Retry-After` in whole seconds when known.
    pub fn too_many_requests(retry_after: Option<Duration>) -> Self {
        let err = Self::new(ProblemCode::TooManyRequests);
        match retry_after {
            Some(after) => err.with_header(header::RETRY_AFTER, HeaderValue::from(after.as_secs())),
            None => err,
        }
    }

    /// 503 `unavailable`: a dependency is down. `cause` is logged, never shown.
    pub fn unavailable(cause: impl Into<Cause>) -> Self {
        Self::new(ProblemCode::Unavailable).with_cause(cause)
    }

    /// 504 `gateway_timeout`: a dependency did not answer in time.
    pub fn gateway_timeout() -> Self {
        Self::new(ProblemCode::GatewayTimeout)
    }

    /// 500 `internal`: the body is opaque; `cause` and its whole source chain are logged.
    pub fn internal(cause: impl Into<Cause>) -> Self {
        Self::new(ProblemCode::Internal).with_cause(cause)
    }

    /// The code of this error.
    pub fn code(&self) -> ProblemCode {
        self.code
    }

    /// The field errors of this error.
    pub fn field_errors(&self) -> &[FieldError] {
        &self.errors
    }

    /// The extra headers this error is rendered with.
    pub fn headers(&self) -> &[(HeaderName, HeaderValue)] {
        &self.headers
    }

    /// The body this error renders as (without a request id; the request-id middleware adds it).
    pub fn to_problem(&self) -> Problem {
        let mut problem = Problem::new(self.code);
        problem.detail = self.detail.clone();
        problem.instance = self.instance.clone();
        if !self.errors.is_empty() {
            problem.errors = Some(self.errors.clone());
        }
        problem
    }

    /// Renders the response with `request_id` in the body, without logging.
    pub fn render(&self, request_id: Option<&str>) -> HttpResponse {
        let mut problem = self.to_problem();
        problem.request_id = request_id.map(str::to_owned);
        let mut builder = HttpResponse::build(self.code.status());
        for (name, value) in &self.headers {
            builder.insert_header((name.clone(), value.clone()));
        }
        problem_response(builder, &problem)
    }

    /// Logs this error once: 5xx at error level with the whole cause chain, 4xx at debug level.
    fn log(&self) {
        let status = self.code.status();
        if status.is_server_error() {
            let chain = self
                .cause
                .as_deref()
                .map(|c| error_chain(c))
                .unwrap_or_default();
            tracing::error!(code = self.code.as_str(), status = status.as_u16(), cause = %chain, "request failed");
        } else if let Some(cause) = self.cause.as_deref() {
            tracing::debug!(code = self.code.as_str(), status = status.as_u16(), cause = %error_chain(cause), "request refused");
        } else {
            tracing::debug!(
                code = self.code.as_str(),
                status = status.as_u16(),
                "request refused"
            );
        }
    }
}

/// Serialises `problem` into `builder` with the problem+json content type.
pub(crate) fn problem_response(
    mut builder: actix_web::HttpResponseBuilder,
    problem: &Problem,
) -> HttpResponse {
    builder.insert_header((header::CONTENT_TYPE, PROBLEM_JSON));
    match serde_json::to_vec(problem) {
        Ok(body) => builder.body(body),
        // A Problem is plain strings and numbers; this cannot fail, but never panic on it.
        Err(_) => builder.body(r#"{"type":"about:blank","title":"Error","code":"internal"}"#),
    }
}

/// `error: source: source...` on one line, for the log.
pub fn error_chain(err: &dyn StdError) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        out.push_str(": ");
        out.push_str(&cause.to_string());
        source = cause.source();
    }
    out
}

impl fmt::Debug for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiError")
            .field("code", &self.code)
            .field("detail", &self.detail)
            .field("errors", &self.errors)
            .field("cause", &self.cause.as_deref().map(|c| error_chain(c)))
            .finish_non_exhaustive()
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.detail {
            Some(detail) => write!(f, "{}: {detail}", self.code),
            None => write!(f, "{}", self.code),
        }
    }
}

impl StdError for ApiError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.cause
            .as_deref()
            .map(|c| c as &(dyn StdError + 'static))
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.code.status()
    }

    fn error_response(&self) -> HttpResponse {
        self.log();
        self.render(None)
    }
}

impl From<ProblemCode> for ApiError {
    fn from(code: ProblemCode) -> Self {
        Self::new(code)
    }
}
