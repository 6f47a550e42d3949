//! Optimistic concurrency over HTTP: a resource's stream version is its `ETag` (`"3"`), and a
//! change names the version it was based on in `If-Match`.
//!
//! - [`etag`] renders a version as a strong entity tag for the `ETag` header.
//! - [`IfMatch`] extracts the required version: missing → 428 `precondition_required`,
//!   unparsable → 400 `bad_request`. Comparing it with the current version (and answering
//!   412 via [`ApiError::precondition_failed`]) is the handler's job.
//! - [`parse_version_tag`] parses `"3"` or `W/"3"`; weak tags are accepted because some
//!   proxies weaken tags they pass on.

use std::future::{Ready, ready};

use actix_web::http::header::{self, HeaderValue};
use actix_web::{FromRequest, HttpRequest};

use crate::error::ApiError;

/// The `ETag` value for `version`: `"3"`.
pub fn etag(version: u64) -> HeaderValue {
    // `"digits"`, written without the formatting machinery: every read answers with one.
    let mut digits = itoa::Buffer::new();
    let digits = digits.format(version).as_bytes();
    let mut text = [b'"'; 22];
    if let Some(inner) = text.get_mut(1..=digits.len()) {
        inner.copy_from_slice(digits);
    }
    // Digits between quotes are always a valid header value; the fallback is unreachable.
    HeaderValue::from_bytes(&text[..digits.len() + 2]).unwrap_or(HeaderValue::from_static("\"\""))
}

/// `(ETag, "\"3\"")`, ready for `HttpResponse::Ok().insert_header(etag_header(3))`.
pub fn etag_header(version: u64) -> (header::HeaderName, HeaderValue) {
    (header::ETAG, etag(version))
}

/// Parses one entity tag holding a version number: `"3"` or `W/"3"`, or the bare `3`
/// (surrounding spaces allowed). `*`, lists and anything else are `None`.
pub fn parse_version_tag(value: &str) -> Option<u64> {
    let value = value.trim();
    // A bare number is taken as the tag it names: some clients drop the quotes.
    let inner = if value.bytes().all(|b| b.is_ascii_digit()) {
        value
    } else {
        let value = value.strip_prefix("W/").unwrap_or(value);
        value.strip_prefix('"')?.strip_suffix('"')?
    };
    if inner.is_empty() || !inner.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    inner.parse().ok()
}

/// The version named by a required `If-Match` header; `None` for `If-Match: *`, which (RFC 9110)
/// asks only that the resource exists, at whatever version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IfMatch(pub Option<u64>);

impl IfMatch {
    /// Reads `If-Match` from `req`: 428 when absent, 400 when not a single version tag.
    pub fn from_request_headers(req: &HttpRequest) -> Result<Self, ApiError> {
        let mut values = req.headers().get_all(header::IF_MATCH);
        let Some(value) = values.next() else {
            return Err(ApiError::precondition_required("If-Match"));
        };
        if values.next().is_some() {
            return Err(invalid_if_match());
        }
        let value = value.to_str().map_err(|_| invalid_if_match())?;
        if value.trim() == "*" {
            return Ok(IfMatch(None));
        }
        parse_version_tag(value)
            .map(|v| IfMatch(Some(v)))
            .ok_or_else(invalid_if_match)
    }

    /// Checks the named version against the `current` one: 412 when they differ (`*` matches
    /// any).
    pub fn check(self, current: u64) -> Result<(), ApiError> {
        match self.0 {
            Some(named) if named != current => Err(ApiError::precondition_failed(named, current)),
            _ => Ok(()),
        }
    }
}

fn invalid_if_match() -> ApiError {
    ApiError::bad_request("If-Match must be a single version tag such as \"3\", or *.")
}

impl FromRequest for IfMatch {
    type Error = ApiError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        ready(Self::from_request_headers(req))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_tags_parse_strong_and_weak() {
        assert_eq!(parse_version_tag("\"3\""), Some(3));
        assert_eq!(parse_version_tag(" W/\"17\" "), Some(17));
        assert_eq!(parse_version_tag("3"), Some(3));
        assert_eq!(parse_version_tag(""), None);
        assert_eq!(parse_version_tag("*"), None);
        assert_eq!(parse_version_tag("\"\""), None);
        assert_eq!(parse_version_tag("\"-1\""), None);
        assert_eq!(parse_version_tag("\"1\", \"2\""), None);
        assert_eq!(parse_version_tag("\"99999999999999999999999\""), None);
    }

    #[test]
    fn etag_is_a_quoted_version() {
        assert_eq!(etag(42), HeaderValue::from_static("\"42\""));
        assert_eq!(etag(0), HeaderValue::from_static("\"0\""));
        assert_eq!(
            etag(u64::MAX),
            HeaderValue::from_static("\"18446744073709551615\"")
        );
    }
}
