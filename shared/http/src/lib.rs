//! The HTTP kit every capmatch service shares, written once.
//!
//! - [`problem`]: the RFC 9457 [`Problem`] body, [`FieldError`], and [`ProblemCode`] — the one
//!   table of stable codes, statuses and `type` URIs.
//! - [`error`]: [`ApiError`], the error handlers return; actix renders it as
//!   `application/problem+json`, 5xx bodies opaque, causes logged.
//! - [`extract`]: `JsonConfig`/`QueryConfig`/`PathConfig` with problem error handlers and the
//!   default service for unknown routes (404) and wrong methods (405).
//! - [`request_id`]: the outermost middleware — `X-Request-Id`, the per-request tracing span,
//!   and problem bodies (with the request id) for every error response.
//! - [`conditional`]: `ETag` rendering and the [`IfMatch`] extractor for optimistic concurrency.
//!
//! A service app is assembled as:
//!
//! ```
//! use actix_web::{App, middleware::from_fn};
//!
//! let app = App::new()
//!     .configure(capmatch_http::extract::configure)
//!     .wrap(from_fn(capmatch_http::request_context));
//! # let _ = app;
//! ```

pub mod conditional;
pub mod error;
pub mod extract;
pub mod problem;
pub mod request_id;

pub use conditional::{IfMatch, etag, etag_header};
pub use error::ApiError;
pub use extract::{AllowedMethods, json_config, json_config_with_limit, path_config, query_config};
pub use problem::{FieldError, PROBLEM_JSON, Problem, ProblemCode};
pub use request_id::{
    ACCESS_TARGET, Access, AccessLog, AnsweredRoute, REQUEST_ID_HEADER, RequestId,
    current_request_id, request_context, route_label,
};
