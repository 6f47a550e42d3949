//! Extractor configuration: failures of `web::Json`, `web::Query` and `web::Path`, unknown
//! routes and wrong methods all become problems from the one table.
//!
//! | failure | status | code |
//! |---|---|---|
//! | body larger than the limit | 413 | `payload_too_large` |
//! | `Content-Type` missing or not JSON | 415 | `unsupported_media_type` |
//! | body is not JSON (syntax, truncated) | 400 | `malformed_json` |
//! | body is JSON of the wrong shape (unknown/missing field, wrong type, bad value) | 422 | `validation_failed` |
//! | query string does not parse | 400 | `invalid_query` |
//! | path segment does not parse (e.g. not a UUID) | 404 | `not_found` |
//! | no route for the path | 404 | `not_found` |
//! | a route for the path, not for the method | 405 | `method_not_allowed` |
//!
//! Field errors are built from serde's message, sanitised: the offending field name is kept
//! when serde names it, values the client sent are not echoed, Rust type names are replaced by
//! JSON words, and the line/column suffix is dropped.

use actix_web::error::{JsonPayloadError, PathError, PayloadError, QueryPayloadError};
use actix_web::http::header::HeaderValue;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::error::ApiError;
use crate::problem::FieldError;

/// Default limit for JSON bodies: 64 KiB.
pub const DEFAULT_JSON_LIMIT: usize = 64 * 1024;

/// Installs [`json_config`], [`query_config`], [`path_config`] and [`default_service`] on an
/// app or scope: `App::new().configure(capmatch_http::extract::configure)`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(json_config())
        .app_data(query_config())
        .app_data(path_config())
        .default_service(web::to(default_service));
}

/// `web::JsonConfig` with the default 64 KiB limit and the problem error handler.
pub fn json_config() -> web::JsonConfig {
    json_config_with_limit(DEFAULT_JSON_LIMIT)
}

/// `web::JsonConfig` with a limit of `limit` bytes and the problem error handler.
pub fn json_config_with_limit(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(limit)
        .error_handler(move |err, _req| json_error(err, limit).into())
}

/// `web::QueryConfig` whose failures are 400 `invalid_query` with best-effort field errors.
pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err, _req| query_error(&err).into())
}

/// `web::PathConfig` whose failures are 404 `not_found`: a path that does not parse names no
/// resource.
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|err, _req| path_error(&err).into())
}

/// Default service: 405 `method_not_allowed` when some route matches the path with another
/// method, else 404 `not_found`. An app (or scope) carrying an [`AllowedMethods`] table answers
/// from it, with `Allow`: the table lists the routes it serves, where the resource map of an app
/// serving several APIs under one prefix (the gateway mounting the services) searches only the
/// first of them. Without a table, the resource map decides.
pub async fn default_service(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let path = req.path();
    let known = match req.app_data::<web::Data<AllowedMethods>>() {
        Some(table) => table.allow(path).map(Some),
        None => req.resource_map().has_resource(path).then_some(None),
    };
    match known {
        Some(allow) => Err(ApiError::method_not_allowed(allow)),
        None => Err(ApiError::not_found()),
    }
}

/// Which methods each route template accepts, so a 405 can carry `Allow` (RFC 9110 §15.5.6).
/// Templates are paths whose `{name}` segments match any one segment: `/v1/needs/{id}`.
#[derive(Debug, Clone, Default)]
pub struct AllowedMethods {
    routes: Vec<(Vec<Segment>, HeaderValue)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Any,
}

impl AllowedMethods {
    /// A table from `(template, methods)` pairs; methods are upper-cased and listed once each.
    /// A template listed twice gets the union of its methods.
    pub fn new<'a>(routes: impl IntoIterator<Item = (&'a str, Vec<String>)>) -> Self {
        let mut merged: Vec<(Vec<Segment>, Vec<String>)> = Vec::new();
        for (template, methods) in routes {
            let segments = parse_template(template);
            let slot = match merged.iter().position(|(s, _)| *s == segments) {
                Some(i) => &mut merged[i].1,
                None => {
                    merged.push((segments, Vec::new()));
                    let last = merged.len() - 1;
                    &mut merged[last].1
                }
            };
            for method in methods {
                let method = method.to_ascii_uppercase();
                if !slot.contains(&method) {
                    slot.push(method);
                }
            }
        }
        let routes = merged
            .into_iter()
            .filter_map(|(segments, methods)| {
                HeaderValue::from_str(&methods.join(", "))
                    .ok()
                    .map(|value| (segments, value))
            })
            .collect();
        Self { routes }
    }

    /// The `Allow` value for `path`: literal segments win over `{name}` ones, as in the router.
    pub fn allow(&self, path: &str) -> Option<HeaderValue> {
        let parts: Vec<&str> = path.trim_end_matches('/').split('/').collect();
        self.routes
            .iter()
            .filter(|(segments, _)| {
                segments.len() == parts.len()
                    && segments.iter().zip(&parts).all(|(s, p)| match s {
                        Segment::Literal(l) => l == p,
                        Segment::Any => !p.is_empty(),
                    })
            })
            .max_by_key(|(segments, _)| {
                segments
                    .iter()
                    .filter(|s| matches!(s, Segment::Literal(_)))
                    .count()
            })
            .map(|(_, value)| value.clone())
    }
}

fn parse_template(template: &str) -> Vec<Segment> {
    template
        .trim_end_matches('/')
        .split('/')
        .map(|s| {
            if s.starts_with('{') && s.ends_with('}') {
                Segment::Any
            } else {
                Segment::Literal(s.to_owned())
            }
        })
        .collect()
}

/// Maps a JSON extractor failure; `limit` is quoted in the 413 detail.
pub fn json_error(err: JsonPayloadError, limit: usize) -> ApiError {
    match err {
        JsonPayloadError::OverflowKnownLength { limit, .. }
        | JsonPayloadError::Overflow { limit } => ApiError::payload_too_large(limit),
        JsonPayloadError::ContentType => ApiError::unsupported_media_type(),
        JsonPayloadError::Deserialize(err) => serde_json_error(&err),
        JsonPayloadError::Payload(PayloadError::Overflow) => ApiError::payload_too_large(limit),
        JsonPayloadError::Payload(err) => {
            ApiError::bad_request("The request body could not be read.").with_cause(err)
        }
        // Serialising a response is our fault, never the client's.
        JsonPayloadError::Serialize(err) => ApiError::internal(err),
        // `JsonPayloadError` is non-exhaustive: a future variant is still a bad request body.
        other => ApiError::bad_request("The request body could not be read.")
            .with_cause(other.to_string()),
    }
}

/// Maps a `serde_json` error on a request body: syntax and truncation are 400
/// `malformed_json`; a well-formed document of the wrong shape is 422 with a field error.
pub fn serde_json_error(err: &serde_json::Error) -> ApiError {
    use serde_json::error::Category;
    match err.classify() {
        Category::Syntax | Category::Eof | Category::Io => ApiError::malformed_json(format!(
            "The body is not valid JSON (line {}, column {}).",
            err.line(),
            err.column()
        )),
        Category::Data => ApiError::validation([describe_serde_message(&err.to_string(), None)]),
    }
}

fn query_error(err: &QueryPayloadError) -> ApiError {
    match err {
        QueryPayloadError::Deserialize(err) => {
            ApiError::invalid_query([describe_serde_message(&err.to_string(), Some("query"))])
        }
        other => ApiError::invalid_query([]).with_cause(other.to_string()),
    }
}

fn path_error(err: &PathError) -> ApiError {
    ApiError::not_found().with_cause(err.to_string())
}

/// Turns a serde error message into a [`FieldError`] safe to show: the field name when serde
/// gives one, no echoed input, no Rust type names. `prefix` qualifies field names
/// (`query.limit`).
pub fn describe_serde_message(message: &str, prefix: Option<&str>) -> FieldError {
    let message = strip_location(message);
    let qualify = |field: &str| match prefix {
        Some(prefix) => format!("{prefix}.{field}"),
        None => field.to_owned(),
    };

    if let Some(field) = message.strip_prefix("unknown field ").and_then(backticked) {
        return FieldError::new(qualify(field), "unknown_field", "unknown field");
    }
    if let Some(field) = message.strip_prefix("missing field ").and_then(backticked) {
        return FieldError::new(qualify(field), "missing_field", "this field is required");
    }
    if let Some(field) = message
        .strip_prefix("duplicate field ")
        .and_then(backticked)
    {
        return FieldError::new(qualify(field), "duplicate_field", "this field is repeated");
    }
    let whole = |code: &str, text: String| match prefix {
        Some(prefix) => FieldError::new(prefix, code, text),
        None => FieldError::whole(code, text),
    };
    if let Some(rest) = message.strip_prefix("unknown variant ") {
        let expected = rest.split_once(", expected ").map(|(_, e)| e).unwrap_or("");
        return whole(
            "invalid_value",
            format!("unknown value; expected {expected}"),
        );
    }
    if message.starts_with("invalid type: ") {
        return whole(
            "invalid_type",
            format!("invalid type; expected {}", expected_of(message)),
        );
    }
    if message.starts_with("invalid value: ") || message.starts_with("invalid length ") {
        return whole(
            "invalid_value",
            format!("invalid value; expected {}", expected_of(message)),
        );
    }
    // A custom message from a `Deserialize`/`FromStr` implementation (a domain parser, usually
    // written for users). Shown when it looks like prose; otherwise a generic sentence.
    if is_presentable(message) {
        whole("invalid_value", message.to_owned())
    } else {
        whole("invalid_value", "invalid value".to_owned())
    }
}

/// `serde_json` appends " at line L column C"; drop it.
fn strip_location(message: &str) -> &str {
    match message.rfind(" at line ") {
        Some(at) if message[at..].contains(" column ") => &message[..at],
        _ => message,
    }
}

/// The text between the first pair of backticks.
fn backticked(text: &str) -> Option<&str> {
    let start = text.find('`')? + 1;
    let len = text[start..].find('`')?;
    Some(&text[start..start + len])
}

/// The "expected ..." part of a serde message, in JSON words.
fn expected_of(message: &str) -> &str {
    let expected = message
        .rsplit_once(", expected ")
        .map(|(_, e)| e)
        .unwrap_or("a valid value");
    json_word(expected)
}

fn json_word(expected: &str) -> &str {
    let trimmed = expected.trim();
    match trimmed {
        "u8" | "u16" | "u32" | "u64" | "u128" | "usize" | "i8" | "i16" | "i32" | "i64" | "i128"
        | "isize" => "an integer",
        "f32" | "f64" => "a number",
        "a borrowed string" | "a string" | "char" | "a character" => "a string",
        _ if trimmed.starts_with("struct ")
            || trimmed.starts_with("tuple struct ")
            || trimmed.starts_with("map") =>
        {
            "an object"
        }
        _ if trimmed.starts_with("enum ")
            || trimmed.starts_with("unit struct ")
            || trimmed.starts_with("internally tagged enum")
            || trimmed.starts_with("adjacently tagged enum")
            || trimmed.starts_with("variant identifier")
            || trimmed.starts_with("field identifier") =>
        {
            "one of the allowed values"
        }
        _ if trimmed.starts_with("a sequence") || trimmed.starts_with("tuple") => "an array",
        _ if is_presentable(trimmed) => trimmed,
        _ => "a valid value",
    }
}

fn is_presentable(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 200
        && !text.contains("::")
        && !text.contains("struct ")
        && !text.contains("enum ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_lists_the_methods_of_the_most_specific_template() {
        let table = AllowedMethods::new([
            ("/v1/matches/{id}", vec!["get".to_owned()]),
            ("/v1/matches/why", vec!["GET".to_owned()]),
            ("/v1/needs", vec!["GET".to_owned()]),
            ("/v1/needs", vec!["POST".to_owned(), "GET".to_owned()]),
            ("/v1/needs/{id}", vec!["GET".to_owned(), "PATCH".to_owned()]),
        ]);
        let allow = |path: &str| {
            table
                .allow(path)
                .map(|v| v.to_str().unwrap_or("").to_owned())
        };
        assert_eq!(allow("/v1/needs").as_deref(), Some("GET, POST"));
        assert_eq!(allow("/v1/needs/").as_deref(), Some("GET, POST"));
        assert_eq!(allow("/v1/needs/abc").as_deref(), Some("GET, PATCH"));
        assert_eq!(allow("/v1/matches/why").as_deref(), Some("GET"));
        assert_eq!(allow("/v1/matches/x~y").as_deref(), Some("GET"));
        assert_eq!(allow("/v1/needs/abc/history"), None);
        assert_eq!(allow("/v2/needs"), None);
    }

    #[test]
    fn unknown_field_names_the_field_and_not_the_alternatives() {
        let e = describe_serde_message(
            "unknown field `colour`, expected `title` or `summary` at line 1 column 9",
            None,
        );
        assert_eq!(
            e,
            FieldError::new("colour", "unknown_field", "unknown field")
        );
    }

    #[test]
    fn invalid_type_does_not_echo_the_value_nor_the_rust_type() {
        let e = describe_serde_message(
            "invalid type: string \"secret text\", expected struct NewNeed at line 1 column 20",
            None,
        );
        assert_eq!(e.code, "invalid_type");
        assert_eq!(e.message, "invalid type; expected an object");
        let e = describe_serde_message("invalid type: string \"x\", expected u32", Some("query"));
        assert_eq!(
            e,
            FieldError::new("query", "invalid_type", "invalid type; expected an integer")
        );
    }

    #[test]
    fn custom_messages_with_paths_are_replaced() {
        let e = describe_serde_message("my_crate::codes::CodeError: bad", None);
        assert_eq!(e.message, "invalid value");
        let e = describe_serde_message("`ZZ` is not an ISO 3166-1 alpha-2 country code", None);
        assert_eq!(e.message, "`ZZ` is not an ISO 3166-1 alpha-2 country code");
    }
}
