//! The themes and topics needs and offers are classified by.
//!
//! The taxonomy is data (`data/taxonomy.json`, shipped with the crate), not logic: services
//! serve [`Taxonomy::get`] as it is, and [`ThemeCode`] / [`TopicCode`] parse against it.
//!
//! Codes are append-only: stored events carry them and are parsed against the taxonomy on
//! replay, so a code may be relabelled but never removed or renamed.

use std::str::FromStr;
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::Schema;
use utoipa::{PartialSchema, ToSchema};

use crate::codes::{CodeError, CodeKind, string_serde};

/// Hand-curated from the GFCE themes and the OEWG pillars (the Open-ended Working Group's norms and confidence-building measures).
const TAXONOMY_JSON: &str = include_str!("../data/taxonomy.json");

/// The full classification, as served to clients.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Taxonomy {
    /// Bumped whenever the file changes, so clients can cache it.
    pub version: u32,
    pub themes: Vec<Theme>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Theme {
    #[schema(example = "cybercrime")]
    pub code: String,
    pub label: String,
    pub description: String,
    pub topics: Vec<Topic>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Topic {
    /// Always `<theme>.<topic>`, so a topic names its theme.
    #[schema(example = "cybercrime.legislation")]
    pub code: String,
    pub label: String,
    pub description: String,
}

/// Parsed once; the file is embedded at compile time and checked by [`Taxonomy::check`] in
/// tests, so parsing cannot fail at run time.
static TAXONOMY: LazyLock<Taxonomy> = LazyLock::new(|| {
    // Infallible in practice: the embedded file is fixed at compile time and a test parses it.
    serde_json::from_str(TAXONOMY_JSON).expect("data/taxonomy.json is valid")
});

impl Taxonomy {
    /// The taxonomy shipped with this build.
    pub fn get() -> &'static Taxonomy {
        &TAXONOMY
    }

    pub fn theme(&self, code: &str) -> Option<&Theme> {
        self.themes.iter().find(|t| t.code == code)
    }

    pub fn topic(&self, code: &str) -> Option<&Topic> {
        let (theme, _) = code.split_once('.')?;
        self.theme(theme)?.topics.iter().find(|t| t.code == code)
    }

    /// Checks the invariants codes rely on: snake_case codes, unique themes, every topic
    /// `<theme>.<name>` under its own theme and unique, and non-empty labels.
    pub fn check(&self) -> Result<(), String> {
        let snake = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        };
        let mut seen = std::collections::BTreeSet::new();
        for theme in &self.themes {
            if !snake(&theme.code) || !seen.insert(theme.code.as_str()) {
                return Err(format!("bad or duplicate theme code {:?}", theme.code));
            }
            if theme.label.trim().is_empty() || theme.description.trim().is_empty() {
                return Err(format!("theme {} lacks a label or description", theme.code));
            }
            for topic in &theme.topics {
                let ok = topic
                    .code
                    .split_once('.')
                    .is_some_and(|(t, name)| t == theme.code && snake(name));
                if !ok || !seen.insert(topic.code.as_str()) {
                    return Err(format!("bad or duplicate topic code {:?}", topic.code));
                }
                if topic.label.trim().is_empty() || topic.description.trim().is_empty() {
                    return Err(format!("topic {} lacks a label or description", topic.code));
                }
            }
        }
        Ok(())
    }
}

/// A theme of the taxonomy, e.g. `cybercrime`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ThemeCode(&'static str);

impl ThemeCode {
    pub fn as_str(&self) -> &'static str {
        self.0
    }

    pub fn theme(&self) -> Option<&'static Theme> {
        Taxonomy::get().theme(self.0)
    }

    pub fn label(&self) -> &'static str {
        self.theme().map(|t| t.label.as_str()).unwrap_or_default()
    }

    pub fn all() -> impl Iterator<Item = ThemeCode> {
        Taxonomy::get()
            .themes
            .iter()
            .map(|t| ThemeCode(t.code.as_str()))
    }
}

impl FromStr for ThemeCode {
    type Err = CodeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Taxonomy::get()
            .theme(s)
            .map(|t| ThemeCode(t.code.as_str()))
            .ok_or_else(|| CodeError::new(CodeKind::Theme, s))
    }
}

string_serde!(ThemeCode);

impl PartialSchema for ThemeCode {
    fn schema() -> RefOr<Schema> {
        crate::schema::code(
            "A theme code of the taxonomy.",
            ThemeCode::all().map(|t| t.as_str()),
            "cybercrime",
        )
    }
}
impl ToSchema for ThemeCode {}

/// A topic of the taxonomy, `<theme>.<topic>`, e.g. `cybercrime.legislation`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TopicCode(&'static str);

impl TopicCode {
    pub fn as_str(&self) -> &'static str {
        self.0
    }

    /// The theme this topic refines: a need or offer naming the topic must name this theme too.
    pub fn theme(&self) -> ThemeCode {
        ThemeCode(
            self.0
                .split_once('.')
                .map(|(theme, _)| theme)
                .unwrap_or(self.0),
        )
    }

    pub fn topic(&self) -> Option<&'static Topic> {
        Taxonomy::get().topic(self.0)
    }

    pub fn label(&self) -> &'static str {
        self.topic().map(|t| t.label.as_str()).unwrap_or_default()
    }

    pub fn all() -> impl Iterator<Item = TopicCode> {
        Taxonomy::get()
            .themes
            .iter()
            .flat_map(|t| &t.topics)
            .map(|t| TopicCode(t.code.as_str()))
    }
}

impl FromStr for TopicCode {
    type Err = CodeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Taxonomy::get()
            .topic(s)
            .map(|t| TopicCode(t.code.as_str()))
            .ok_or_else(|| CodeError::new(CodeKind::Topic, s))
    }
}

string_serde!(TopicCode);

impl PartialSchema for TopicCode {
    fn schema() -> RefOr<Schema> {
        crate::schema::code(
            "A topic code of the taxonomy, `<theme>.<topic>`.",
            TopicCode::all().map(|t| t.as_str()),
            "cybercrime.legislation",
        )
    }
}
impl ToSchema for TopicCode {}
