//! List filters from the query string, parsed the same way by every service: each invalid one
//! becomes a field error (`query.<field>`), all reported in one 400 `invalid_query`.

use std::str::FromStr;

use capmatch_http::FieldError;

/// Longest free-text query (`q`) accepted, in characters as sent.
pub const MAX_TEXT: usize = 200;

/// `unknown_code` for `query.<field>`.
pub fn unknown_code(field: &str) -> FieldError {
    FieldError::new(
        format!("query.{field}"),
        "unknown_code",
        format!("not a known {field} code"),
    )
}

/// A code filter: `None` when absent; an error recorded when it does not parse.
pub fn code<T: FromStr>(field: &str, raw: Option<&str>, errors: &mut Vec<FieldError>) -> Option<T> {
    let parsed = raw?.trim().parse().ok();
    if parsed.is_none() {
        errors.push(unknown_code(field));
    }
    parsed
}

/// The free-text filter `q`, lower-cased; blank means no filter.
pub fn text(raw: Option<&str>, errors: &mut Vec<FieldError>) -> Option<String> {
    let raw = raw?;
    if raw.chars().count() > MAX_TEXT {
        errors.push(FieldError::new(
            "query.q",
            "too_long",
            format!("at most {MAX_TEXT} characters"),
        ));
        return None;
    }
    let text = raw.trim().to_lowercase();
    (!text.is_empty()).then_some(text)
}
