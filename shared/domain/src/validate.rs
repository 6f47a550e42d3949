//! Turning raw wire values into domain values while collecting every field error, so a client
//! learns about all its mistakes from one 422 rather than one per round trip.

use std::ops::RangeInclusive;
use std::str::FromStr;

use chrono::NaiveDate;

use crate::codes::CodeError;
use crate::error::{DomainError, FieldError};
use crate::taxonomy::{ThemeCode, TopicCode};

/// Limits shared by needs and offers.
pub mod limits {
    use std::ops::RangeInclusive;

    /// Title length in characters.
    pub const TITLE: RangeInclusive<usize> = 5..=200;
    /// Description length in characters.
    pub const DESCRIPTION: RangeInclusive<usize> = 20..=5000;
    /// Budget note length in characters.
    pub const BUDGET_NOTE_MAX: usize = 500;
    /// Offer condition text length in characters.
    pub const CONDITIONS_MAX: usize = 1000;
    /// Withdraw (and pause) reason length in characters.
    pub const REASON_MAX: usize = 500;
    /// Entries in any list field but an offer's coverage.
    pub const LIST_MAX: usize = 20;
    /// Entries in an offer's coverage: every country and every region, so a programme that
    /// works in dozens of countries lists each of them.
    pub const COVERAGE_MAX: usize = 281;
    /// Partners a need asks for.
    pub const PARTNERS_WANTED: RangeInclusive<i64> = 1..=50;
    /// Partnerships an offer can carry at once.
    pub const CAPACITY: RangeInclusive<i64> = 1..=1000;
}

/// Collects field errors while parsing; each method returns `None` when the value was invalid
/// (and the error recorded), so callers can go on checking the other fields.
#[derive(Debug, Default)]
pub(crate) struct Checker {
    errors: Vec<FieldError>,
}

impl Checker {
    pub(crate) fn push(&mut self, field: impl Into<String>, code: &'static str, msg: String) {
        self.errors.push(FieldError::new(field, code, msg));
    }

    /// `Ok(())` when nothing was recorded, otherwise every error.
    pub(crate) fn finish(self) -> Result<(), DomainError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(DomainError::Validation(self.errors))
        }
    }

    pub(crate) fn into_error(self) -> DomainError {
        DomainError::Validation(self.errors)
    }

    /// A field the draft must carry.
    pub(crate) fn required<'a, T>(&mut self, field: &str, raw: &'a Option<T>) -> Option<&'a T> {
        if raw.is_none() {
            self.push(field, "required", format!("{field} is required"));
        }
        raw.as_ref()
    }

    /// Text whose length in characters lies in `len`: at least the minimum once trimmed (of
    /// [`crate::schema::TRIMMED`]), at most the maximum as sent. Stored trimmed.
    pub(crate) fn text(
        &mut self,
        field: &str,
        raw: &str,
        len: RangeInclusive<usize>,
    ) -> Option<String> {
        let text = raw.trim_matches(crate::schema::TRIMMED);
        let count = text.chars().count();
        if count < *len.start() {
            let code = if count == 0 { "required" } else { "too_short" };
            self.push(
                field,
                code,
                format!("{field} must be at least {} characters", len.start()),
            );
            None
        } else if raw.chars().count() > *len.end() {
            self.push(
                field,
                "too_long",
                format!("{field} must be at most {} characters", len.end()),
            );
            None
        } else {
            Some(text.to_owned())
        }
    }

    /// Optional trimmed text of at most `max` characters; blank counts as absent.
    /// The outer `None` means invalid.
    pub(crate) fn optional_text(
        &mut self,
        field: &str,
        raw: Option<&str>,
        max: usize,
    ) -> Option<Option<String>> {
        match raw {
            None => Some(None),
            Some(text) if text.chars().count() > max => {
                self.push(
                    field,
                    "too_long",
                    format!("{field} must be at most {max} characters"),
                );
                None
            }
            Some(text) if text.trim_matches(crate::schema::TRIMMED).is_empty() => Some(None),
            Some(text) => self.text(field, text, 1..=max).map(Some),
        }
    }

    /// A single code.
    pub(crate) fn code<T: FromStr<Err = CodeError>>(
        &mut self,
        field: &str,
        raw: &str,
    ) -> Option<T> {
        match raw.parse() {
            Ok(value) => Some(value),
            Err(err) => {
                self.push(field, "unknown_code", err.to_string());
                None
            }
        }
    }

    /// A set of codes given as a list: at most [`limits::LIST_MAX`] entries, no duplicates,
    /// non-empty when `non_empty`. Keeps the client's order.
    pub(crate) fn codes<T: FromStr<Err = CodeError> + PartialEq>(
        &mut self,
        field: &str,
        raw: &[String],
        non_empty: bool,
    ) -> Option<Vec<T>> {
        self.codes_up_to(field, raw, non_empty, limits::LIST_MAX)
    }

    /// [`Checker::codes`] with at most `max` entries.
    pub(crate) fn codes_up_to<T: FromStr<Err = CodeError> + PartialEq>(
        &mut self,
        field: &str,
        raw: &[String],
        non_empty: bool,
        max: usize,
    ) -> Option<Vec<T>> {
        let before = self.errors.len();
        if non_empty && raw.is_empty() {
            self.push(
                field,
                "empty",
                format!("{field} must have at least one entry"),
            );
        }
        if raw.len() > max {
            self.push(
                field,
                "too_many",
                format!("{field} may have at most {max} entries"),
            );
            return None;
        }
        let mut values = Vec::with_capacity(raw.len());
        for (i, item) in raw.iter().enumerate() {
            let path = format!("{field}[{i}]");
            if raw[..i].contains(item) {
                self.push(
                    path,
                    "duplicate",
                    format!("{item:?} is listed more than once"),
                );
            } else if let Some(value) = self.code::<T>(&path, item) {
                if values.contains(&value) {
                    // Same code spelt differently ("fr" and "FR").
                    self.push(
                        path,
                        "duplicate",
                        format!("{item:?} is listed more than once"),
                    );
                } else {
                    values.push(value);
                }
            }
        }
        (self.errors.len() == before).then_some(values)
    }

    /// An optional ISO 8601 calendar date (`2025-03-31`). The outer `None` means invalid.
    pub(crate) fn date(&mut self, field: &str, raw: Option<&str>) -> Option<Option<NaiveDate>> {
        // Exactly `YYYY-MM-DD` (RFC 3339 full-date): chrono alone would also take `2025-3-1`.
        let shaped = |t: &str| {
            t.len() == 10
                && t.bytes().enumerate().all(|(i, b)| match i {
                    4 | 7 => b == b'-',
                    _ => b.is_ascii_digit(),
                })
        };
        match raw {
            None => Some(None),
            Some(text) => match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
                Ok(date) if shaped(text) => Some(Some(date)),
                _ => {
                    self.push(
                        field,
                        "invalid_date",
                        format!("{field} must be a date like 2025-03-31"),
                    );
                    None
                }
            },
        }
    }

    /// A whole number in `range`.
    pub(crate) fn number(
        &mut self,
        field: &str,
        raw: i64,
        range: RangeInclusive<i64>,
    ) -> Option<u32> {
        match u32::try_from(raw) {
            Ok(n) if range.contains(&raw) => Some(n),
            _ => {
                self.push(
                    field,
                    "out_of_range",
                    format!(
                        "{field} must be between {} and {}",
                        range.start(),
                        range.end()
                    ),
                );
                None
            }
        }
    }

    /// Each topic refines a theme that is itself selected.
    pub(crate) fn topics_within_themes(&mut self, themes: &[ThemeCode], topics: &[TopicCode]) {
        for (i, topic) in topics.iter().enumerate() {
            if !themes.contains(&topic.theme()) {
                self.push(
                    format!("topics[{i}]"),
                    "theme_not_selected",
                    format!(
                        "topic {topic} requires theme {} to be selected",
                        topic.theme()
                    ),
                );
            }
        }
    }

    /// `start <= end`, and, when `check_end` (the window is being set), the end is not already
    /// past: a window that closed before it was posted can never be met.
    pub(crate) fn window(
        &mut self,
        start: Option<NaiveDate>,
        end: Option<NaiveDate>,
        today: NaiveDate,
        check_end: bool,
    ) {
        if let (Some(start), Some(end)) = (start, end)
            && start > end
        {
            self.push(
                "start",
                "start_after_end",
                format!("start {start} is after end {end}"),
            );
        }
        if let Some(end) = end
            && check_end
            && end < today
        {
            self.push("end", "end_in_past", format!("end {end} is in the past"));
        }
    }
}

impl Checker {
    /// Condition text is given exactly when conditions are attached: an offer must say what
    /// the conditions are, and must not carry stale text after dropping them.
    pub(crate) fn conditions(&mut self, attached: bool, text: Option<&str>) {
        match (attached, text) {
            (true, None) => self.push(
                "conditions",
                "conditions_required",
                "conditions must be described when conditions_attached is true".into(),
            ),
            (false, Some(_)) => self.push(
                "conditions",
                "conditions_not_allowed",
                "conditions must be empty when conditions_attached is false".into(),
            ),
            _ => {}
        }
    }
}

/// An optional free-text reason (withdraw, pause): trimmed, blank means none, at most
/// [`limits::REASON_MAX`] characters.
pub(crate) fn reason(raw: Option<&str>) -> Result<Option<String>, DomainError> {
    let mut c = Checker::default();
    let reason = c.optional_text("reason", raw, limits::REASON_MAX);
    match reason {
        Some(reason) => Ok(reason),
        None => Err(c.into_error()),
    }
}

/// Deserializes `Some(value)` for a present field, so `Option<Option<T>>` tells an absent
/// field (keep) from an explicit `null` (clear) in a patch.
pub(crate) fn present<'de, T, D>(d: D) -> Result<Option<T>, D::Error>
where
    T: serde::Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    T::deserialize(d).map(Some)
}

/// An optional whole number as JSON Schema's `integer` has it: `3` and `3.0` alike (a JSON
/// number with a zero fraction is an integer there). Beyond `i64` it saturates, so the range
/// check reports it; a fraction, or anything not a number, is a type error.
pub(crate) fn whole_number<'de, D>(d: D) -> Result<Option<i64>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    use serde::Deserialize;
    use serde::de::{Error, Unexpected};

    match Option::<serde_json::Number>::deserialize(d)? {
        None => Ok(None),
        Some(n) => {
            if let Some(i) = n.as_i64() {
                Ok(Some(i))
            } else if n.as_u64().is_some() {
                Ok(Some(i64::MAX))
            } else {
                let f = n.as_f64().unwrap_or(f64::NAN);
                if f.is_finite() && f.fract() == 0.0 {
                    // Saturating: out-of-range values become i64::MIN or i64::MAX.
                    #[allow(clippy::cast_possible_truncation)]
                    Ok(Some(f as i64))
                } else {
                    Err(D::Error::invalid_type(
                        Unexpected::Float(f),
                        &"a whole number",
                    ))
                }
            }
        }
    }
}
