//! A state's capacity-building need: wire types, commands, events and the pure aggregate.
//!
//! Only the state's own focal point, or a coordinator on its behalf (recorded as such), may
//! post or change a need. Lifecycle: `open` → `fulfilled` | `withdrawn`; both ends
//! are terminal.

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::actor::{Actor, Role};
use crate::codes::{
    BeneficiaryType, CountryCode, DeliveryMode, LanguageCode, SupportType, TargetGroup, Visibility,
};
use crate::error::DomainError;
use crate::event::{DomainEvent, EventDecodeError, check_version, decode, payload};
pub use crate::ids::NeedId;
use crate::taxonomy::{ThemeCode, TopicCode};
use crate::validate::{Checker, limits, present, reason};
use crate::window::TimeWindow;

/// Where a need is in its life.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum NeedStatus {
    /// Visible to matching; may be revised.
    Open,
    /// The state has the help it asked for. Terminal.
    Fulfilled,
    /// The state no longer wants help. Terminal.
    Withdrawn,
}

impl NeedStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Fulfilled => "fulfilled",
            Self::Withdrawn => "withdrawn",
        }
    }
}

impl fmt::Display for NeedStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The validated, revisable content of a need: everything but its id, country and status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NeedDetails {
    pub title: String,
    pub description: String,
    pub themes: Vec<ThemeCode>,
    /// Finer topics; each refines one of `themes`.
    #[serde(default)]
    pub topics: Vec<TopicCode>,
    pub support_types: Vec<SupportType>,
    pub languages: Vec<LanguageCode>,
    /// When false a language mismatch only lowers a suggestion's score.
    #[serde(default)]
    pub languages_required: bool,
    pub beneficiary_type: BeneficiaryType,
    /// Acceptable delivery modes; both unless the state narrowed them.
    pub delivery_modes: Vec<DeliveryMode>,
    #[serde(flatten)]
    pub window: TimeWindow,
    #[serde(default)]
    pub target_groups: Vec<TargetGroup>,
    pub visibility: Visibility,
    /// How many partners the state would work with on this need.
    pub partners_wanted: u32,
    #[serde(default)]
    pub budget_note: Option<String>,
}

impl NeedDetails {
    /// Wire names of the fields that differ, in declaration order: the audit trail of a revision.
    pub fn changed_fields(&self, other: &NeedDetails) -> Vec<String> {
        let pairs = [
            ("title", self.title != other.title),
            ("description", self.description != other.description),
            ("themes", self.themes != other.themes),
            ("topics", self.topics != other.topics),
            ("support_types", self.support_types != other.support_types),
            ("languages", self.languages != other.languages),
            (
                "languages_required",
                self.languages_required != other.languages_required,
            ),
            (
                "beneficiary_type",
                self.beneficiary_type != other.beneficiary_type,
            ),
            (
                "delivery_modes",
                self.delivery_modes != other.delivery_modes,
            ),
            ("start", self.window.start != other.window.start),
            ("end", self.window.end != other.window.end),
            ("target_groups", self.target_groups != other.target_groups),
            ("visibility", self.visibility != other.visibility),
            (
                "partners_wanted",
                self.partners_wanted != other.partners_wanted,
            ),
            ("budget_note", self.budget_note != other.budget_note),
        ];
        pairs
            .iter()
            .filter(|(_, changed)| *changed)
            .map(|(name, _)| (*name).to_owned())
            .collect()
    }
}

// ---------------------------------------------------------------------------------------------
// Wire types.

/// The body that posts a need. Codes are plain strings so that every invalid value comes back
/// as a field error (422), all at once.
///
/// Defaults: `languages_required` false, `beneficiary_type` `government`, `delivery_modes`
/// both, `visibility` `registered`, `partners_wanted` 1. `country` comes from a state's token;
/// a coordinator posting on a state's behalf must give it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({
    "title": "Establish a national CSIRT",
    "description": "We need help designing the mandate, services and staffing of a national CSIRT.",
    "themes": ["incident_management_cip"],
    "topics": ["incident_management_cip.csirt_establishment"],
    "support_types": ["technical_assistance", "training"],
    "languages": ["en", "fr"],
    "languages_required": false,
    "beneficiary_type": "government",
    "delivery_modes": ["remote", "in_person"],
    "start": "2027-01-01",
    "end": "2030-12-31",
    "target_groups": ["women"],
    "visibility": "registered",
    "partners_wanted": 2,
    "budget_note": "Co-funding of travel is possible."
})))]
pub struct NeedDraft {
    /// 5 to 200 characters.
    #[schema(required = true, schema_with = crate::schema::field::title)]
    pub title: Option<String>,
    /// 20 to 5000 characters.
    #[schema(required = true, schema_with = crate::schema::field::description)]
    pub description: Option<String>,
    /// Theme codes of the taxonomy; 1 to 20, no duplicates.
    #[schema(required = true, schema_with = crate::schema::field::themes)]
    pub themes: Option<Vec<String>>,
    /// Topic codes, each under one of `themes`; up to 20.
    #[schema(schema_with = crate::schema::field::topics_or_null)]
    pub topics: Option<Vec<String>>,
    /// 1 to 20 support types.
    #[schema(required = true, schema_with = crate::schema::field::support_types)]
    pub support_types: Option<Vec<String>>,
    /// 1 to 20 ISO 639-1 codes.
    #[schema(required = true, schema_with = crate::schema::field::languages)]
    pub languages: Option<Vec<String>>,
    pub languages_required: Option<bool>,
    /// ISO 3166-1 alpha-2; only a coordinator posting on a state's behalf needs it.
    #[schema(schema_with = crate::schema::field::country_or_null)]
    pub country: Option<String>,
    #[schema(schema_with = crate::schema::field::beneficiary_type_or_null)]
    pub beneficiary_type: Option<String>,
    #[schema(schema_with = crate::schema::field::delivery_modes_or_null)]
    pub delivery_modes: Option<Vec<String>>,
    /// `YYYY-MM-DD`, not after `end`.
    #[schema(schema_with = crate::schema::field::start_or_null)]
    pub start: Option<String>,
    /// `YYYY-MM-DD`, not in the past.
    #[schema(schema_with = crate::schema::field::end_or_null)]
    pub end: Option<String>,
    #[schema(schema_with = crate::schema::field::target_groups_or_null)]
    pub target_groups: Option<Vec<String>>,
    #[schema(schema_with = crate::schema::field::visibility_or_null)]
    pub visibility: Option<String>,
    /// 1 to 50.
    #[serde(default, deserialize_with = "crate::validate::whole_number")]
    #[schema(minimum = 1, maximum = 50)]
    pub partners_wanted: Option<i64>,
    /// Up to 500 characters.
    #[schema(schema_with = crate::schema::field::budget_note_or_null)]
    pub budget_note: Option<String>,
}

impl NeedDraft {
    /// Converts the draft into domain values, reporting every invalid field at once.
    ///
    /// `owner` is the country of a state actor's token; `None` for a coordinator, who must then
    /// name the country in the draft.
    pub fn validate(
        &self,
        owner: Option<CountryCode>,
        today: NaiveDate,
    ) -> Result<(CountryCode, NeedDetails), DomainError> {
        // A state naming another country is not an invalid value but a thing it may not do.
        if let (Some(owner), Some(given)) = (
            owner,
            self.country
                .as_deref()
                .and_then(|raw| raw.parse::<CountryCode>().ok()),
        ) && given != owner
        {
            return Err(DomainError::Forbidden(
                "a state posts needs for its own country only",
            ));
        }
        let mut c = Checker::default();
        let country = match (owner, self.country.as_deref()) {
            (Some(owner), None) => Some(owner),
            (Some(_), Some(raw)) => c.code::<CountryCode>("country", raw),
            (None, raw) => c
                .required("country", &raw)
                .and_then(|raw| c.code("country", raw)),
        };
        let title = c
            .required("title", &self.title)
            .and_then(|t| c.text("title", t, limits::TITLE));
        let description = c
            .required("description", &self.description)
            .and_then(|d| c.text("description", d, limits::DESCRIPTION));
        let themes = c
            .required("themes", &self.themes)
            .and_then(|t| c.codes("themes", t, true));
        let topics = c.codes("topics", self.topics.as_deref().unwrap_or_default(), false);
        let support_types = c
            .required("support_types", &self.support_types)
            .and_then(|s| c.codes("support_types", s, true));
        let languages = c
            .required("languages", &self.languages)
            .and_then(|l| c.codes("languages", l, true));
        let beneficiary_type = match &self.beneficiary_type {
            None => Some(BeneficiaryType::Government),
            Some(raw) => c.code("beneficiary_type", raw),
        };
        let delivery_modes = match &self.delivery_modes {
            None => Some(DeliveryMode::ALL.to_vec()),
            Some(raw) => c.codes("delivery_modes", raw, true),
        };
        let start = c.date("start", self.start.as_deref());
        let end = c.date("end", self.end.as_deref());
        let target_groups = c.codes(
            "target_groups",
            self.target_groups.as_deref().unwrap_or_default(),
            false,
        );
        let visibility = match &self.visibility {
            None => Some(Visibility::Registered),
            Some(raw) => c.code("visibility", raw),
        };
        let partners_wanted = c.number(
            "partners_wanted",
            self.partners_wanted.unwrap_or(1),
            limits::PARTNERS_WANTED,
        );
        let budget_note = c.optional_text(
            "budget_note",
            self.budget_note.as_deref(),
            limits::BUDGET_NOTE_MAX,
        );

        if let (Some(themes), Some(topics)) = (&themes, &topics) {
            c.topics_within_themes(themes, topics);
        }
        if let (Some(start), Some(end)) = (start, end) {
            c.window(start, end, today, true);
        }
        let (
            Some(country),
            Some(title),
            Some(description),
            Some(themes),
            Some(topics),
            Some(support_types),
            Some(languages),
            Some(beneficiary_type),
            Some(delivery_modes),
            Some(start),
            Some(end),
            Some(target_groups),
            Some(visibility),
            Some(partners_wanted),
            Some(budget_note),
        ) = (
            country,
            title,
            description,
            themes,
            topics,
            support_types,
            languages,
            beneficiary_type,
            delivery_modes,
            start,
            end,
            target_groups,
            visibility,
            partners_wanted,
            budget_note,
        )
        else {
            return Err(c.into_error());
        };
        c.finish()?;
        let details = NeedDetails {
            title,
            description,
            themes,
            topics,
            support_types,
            languages,
            languages_required: self.languages_required.unwrap_or(false),
            beneficiary_type,
            delivery_modes,
            window: TimeWindow { start, end },
            target_groups,
            visibility,
            partners_wanted,
            budget_note,
        };
        Ok((country, details))
    }
}

/// The body that revises a need: every field optional, at least one present. `start`, `end`
/// and `budget_note` may be `null` to clear them. A need's country never changes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(min_properties = 1, examples(json!({
    "title": "Establish and train a national CSIRT",
    "partners_wanted": 3,
    "end": null
})))]
pub struct NeedPatch {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = crate::schema::field::title_or_null)]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = crate::schema::field::description_or_null)]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = crate::schema::field::themes_or_null)]
    pub themes: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = crate::schema::field::topics_or_null)]
    pub topics: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = crate::schema::field::support_types_or_null)]
    pub support_types: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = crate::schema::field::languages_or_null)]
    pub languages: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub languages_required: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = crate::schema::field::beneficiary_type_or_null)]
    pub beneficiary_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = crate::schema::field::delivery_modes_or_null)]
    pub delivery_modes: Option<Vec<String>>,
    /// `null` clears the start.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(schema_with = crate::schema::field::start_or_null)]
    pub start: Option<Option<String>>,
    /// `null` clears the end.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(schema_with = crate::schema::field::end_or_null)]
    pub end: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = crate::schema::field::target_groups_or_null)]
    pub target_groups: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = crate::schema::field::visibility_or_null)]
    pub visibility: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[serde(default, deserialize_with = "crate::validate::whole_number")]
    #[schema(minimum = 1, maximum = 50)]
    pub partners_wanted: Option<i64>,
    /// `null` clears the note.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(schema_with = crate::schema::field::budget_note_or_null)]
    pub budget_note: Option<Option<String>>,
}

impl NeedPatch {
    fn is_empty(&self) -> bool {
        *self == NeedPatch::default()
    }

    /// The details after applying this patch to `current`, reporting every invalid field.
    /// Cross-field rules (topics under themes, start ≤ end) are checked on the result.
    pub fn apply(
        &self,
        current: &NeedDetails,
        today: NaiveDate,
    ) -> Result<NeedDetails, DomainError> {
        let mut c = Checker::default();
        if self.is_empty() {
            c.push(
                "body",
                "empty_patch",
                "a revision must change at least one field".into(),
            );
            return Err(c.into_error());
        }
        let mut next = current.clone();
        if let Some(Some(v)) = self
            .title
            .as_ref()
            .map(|t| c.text("title", t, limits::TITLE))
        {
            next.title = v;
        }
        if let Some(Some(v)) = self
            .description
            .as_ref()
            .map(|d| c.text("description", d, limits::DESCRIPTION))
        {
            next.description = v;
        }
        if let Some(Some(v)) = self.themes.as_ref().map(|t| c.codes("themes", t, true)) {
            next.themes = v;
        }
        if let Some(Some(v)) = self.topics.as_ref().map(|t| c.codes("topics", t, false)) {
            next.topics = v;
        }
        if let Some(Some(v)) = self
            .support_types
            .as_ref()
            .map(|s| c.codes("support_types", s, true))
        {
            next.support_types = v;
        }
        if let Some(Some(v)) = self
            .languages
            .as_ref()
            .map(|l| c.codes("languages", l, true))
        {
            next.languages = v;
        }
        if let Some(v) = self.languages_required {
            next.languages_required = v;
        }
        if let Some(Some(v)) = self
            .beneficiary_type
            .as_ref()
            .map(|b| c.code("beneficiary_type", b))
        {
            next.beneficiary_type = v;
        }
        if let Some(Some(v)) = self
            .delivery_modes
            .as_ref()
            .map(|d| c.codes("delivery_modes", d, true))
        {
            next.delivery_modes = v;
        }
        if let Some(Some(v)) = self.start.as_ref().map(|s| c.date("start", s.as_deref())) {
            next.window.start = v;
        }
        if let Some(Some(v)) = self.end.as_ref().map(|e| c.date("end", e.as_deref())) {
            next.window.end = v;
        }
        if let Some(Some(v)) = self
            .target_groups
            .as_ref()
            .map(|t| c.codes("target_groups", t, false))
        {
            next.target_groups = v;
        }
        if let Some(Some(v)) = self.visibility.as_ref().map(|v| c.code("visibility", v)) {
            next.visibility = v;
        }
        if let Some(Some(v)) = self
            .partners_wanted
            .map(|p| c.number("partners_wanted", p, limits::PARTNERS_WANTED))
        {
            next.partners_wanted = v;
        }
        if let Some(Some(v)) = self
            .budget_note
            .as_ref()
            .map(|b| c.optional_text("budget_note", b.as_deref(), limits::BUDGET_NOTE_MAX))
        {
            next.budget_note = v;
        }
        c.topics_within_themes(&next.themes, &next.topics);
        // Only a window being set now must still lie ahead; an old one may have passed.
        let window_touched = self.start.is_some() || self.end.is_some();
        c.window(next.window.start, next.window.end, today, window_touched);
        c.finish().map(|()| next)
    }
}

// ---------------------------------------------------------------------------------------------
// Commands and events.

/// What an actor asks of a need. Carries raw wire values; `decide` validates them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NeedCommand {
    Post { id: NeedId, draft: NeedDraft },
    Revise { patch: NeedPatch },
    Fulfil,
    Withdraw { reason: Option<String> },
}

/// A need was posted. `on_behalf` is true when a coordinator posted it for the state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NeedPosted {
    pub need_id: NeedId,
    pub country: CountryCode,
    pub details: NeedDetails,
    pub by: Actor,
    pub on_behalf: bool,
    pub at: DateTime<Utc>,
}

/// A need's content changed. Carries the whole new content (so consumers just replace) and
/// the names of the fields that changed (so the history says what).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NeedRevised {
    pub need_id: NeedId,
    pub details: NeedDetails,
    pub changed: Vec<String>,
    pub by: Actor,
    pub on_behalf: bool,
    pub at: DateTime<Utc>,
}

/// The state has the help it needed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NeedFulfilled {
    pub need_id: NeedId,
    pub by: Actor,
    pub on_behalf: bool,
    pub at: DateTime<Utc>,
}

/// The state no longer seeks help.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NeedWithdrawn {
    pub need_id: NeedId,
    #[serde(default)]
    pub reason: Option<String>,
    pub by: Actor,
    pub on_behalf: bool,
    pub at: DateTime<Utc>,
}

/// Everything that can happen to a need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NeedEvent {
    Posted(NeedPosted),
    Revised(NeedRevised),
    Fulfilled(NeedFulfilled),
    Withdrawn(NeedWithdrawn),
}

impl NeedEvent {
    pub const POSTED: &'static str = "need.posted";
    pub const REVISED: &'static str = "need.revised";
    pub const FULFILLED: &'static str = "need.fulfilled";
    pub const WITHDRAWN: &'static str = "need.withdrawn";
    /// The schema version every need event is written with.
    pub const VERSION: u32 = 1;

    pub fn need_id(&self) -> NeedId {
        match self {
            Self::Posted(e) => e.need_id,
            Self::Revised(e) => e.need_id,
            Self::Fulfilled(e) => e.need_id,
            Self::Withdrawn(e) => e.need_id,
        }
    }

    pub fn actor(&self) -> &Actor {
        match self {
            Self::Posted(e) => &e.by,
            Self::Revised(e) => &e.by,
            Self::Fulfilled(e) => &e.by,
            Self::Withdrawn(e) => &e.by,
        }
    }

    pub fn at(&self) -> DateTime<Utc> {
        match self {
            Self::Posted(e) => e.at,
            Self::Revised(e) => e.at,
            Self::Fulfilled(e) => e.at,
            Self::Withdrawn(e) => e.at,
        }
    }
}

impl DomainEvent for NeedEvent {
    const TYPES: &'static [&'static str] = &[
        Self::POSTED,
        Self::REVISED,
        Self::FULFILLED,
        Self::WITHDRAWN,
    ];

    fn event_type(&self) -> &'static str {
        match self {
            Self::Posted(_) => Self::POSTED,
            Self::Revised(_) => Self::REVISED,
            Self::Fulfilled(_) => Self::FULFILLED,
            Self::Withdrawn(_) => Self::WITHDRAWN,
        }
    }

    fn schema_version(&self) -> u32 {
        Self::VERSION
    }

    fn to_payload(&self) -> serde_json::Value {
        match self {
            Self::Posted(e) => payload(e),
            Self::Revised(e) => payload(e),
            Self::Fulfilled(e) => payload(e),
            Self::Withdrawn(e) => payload(e),
        }
    }

    fn from_stored(
        event_type: &str,
        version: u32,
        payload: serde_json::Value,
    ) -> Result<Self, EventDecodeError> {
        let known = Self::TYPES.contains(&event_type);
        if !known {
            return Err(EventDecodeError::UnknownType(event_type.to_owned()));
        }
        check_version(event_type, version, Self::VERSION)?;
        Ok(match event_type {
            Self::POSTED => Self::Posted(decode(event_type, payload)?),
            Self::REVISED => Self::Revised(decode(event_type, payload)?),
            Self::FULFILLED => Self::Fulfilled(decode(event_type, payload)?),
            _ => Self::Withdrawn(decode(event_type, payload)?),
        })
    }
}

// ---------------------------------------------------------------------------------------------
// The aggregate.

/// A need as its events built it: the read model served to clients, and what commands are
/// checked against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NeedState {
    pub id: NeedId,
    pub country: CountryCode,
    #[serde(flatten)]
    pub details: NeedDetails,
    pub status: NeedStatus,
    /// A coordinator posted it on the state's behalf.
    pub posted_on_behalf: bool,
    pub posted_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Events applied so far: equals the stream version, so services can use it as an ETag.
    pub version: u64,
    /// Why the state withdrew it, if it said.
    pub withdraw_reason: Option<String>,
}

impl NeedState {
    /// Folds a stream's events, oldest first.
    pub fn replay<'a>(events: impl IntoIterator<Item = &'a NeedEvent>) -> Option<NeedState> {
        events.into_iter().fold(None, evolve)
    }
}

/// Who may ask for `command` at all, before anything else about it is looked at: a state for
/// its own country's needs, or a coordinator on a state's behalf. The write path asks this
/// before it answers a retried request or checks `If-Match`, so a caller who may not act learns
/// nothing about the need's workflow; [`decide`] asks it again. Pure.
pub fn authorize(
    state: Option<&NeedState>,
    command: &NeedCommand,
    actor: &Actor,
) -> Result<(), DomainError> {
    match (command, state) {
        (NeedCommand::Post { draft, .. }, _) => post_owner(draft, actor).map(|_| ()),
        (_, Some(need)) => on_behalf(need, actor).map(|_| ()),
        (_, None) => Err(DomainError::NotFound),
    }
}

/// The country a post is for when a state posts it (`None`: a coordinator on a state's
/// behalf); 403 for anyone else, or a state naming another country.
fn post_owner(draft: &NeedDraft, actor: &Actor) -> Result<Option<CountryCode>, DomainError> {
    match &actor.role {
        Role::State { country } => {
            let other = draft
                .country
                .as_deref()
                .and_then(|raw| raw.parse::<CountryCode>().ok())
                .is_some_and(|given| given != *country);
            if other {
                return Err(DomainError::Forbidden(
                    "a state may only post needs for its own country",
                ));
            }
            Ok(Some(*country))
        }
        Role::Coordinator => Ok(None),
        _ => Err(DomainError::Forbidden(ONLY_STATE_OR_COORDINATOR)),
    }
}

/// Holds every rule: who may do what, in which status, with which values. Pure.
pub fn decide(
    state: Option<&NeedState>,
    command: NeedCommand,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Vec<NeedEvent>, DomainError> {
    let today = now.date_naive();
    match command {
        NeedCommand::Post { id, draft } => {
            if state.is_some() {
                return Err(DomainError::AlreadyExists);
            }
            let owner = post_owner(&draft, actor)?;
            let (country, details) = draft.validate(owner, today)?;
            Ok(vec![NeedEvent::Posted(NeedPosted {
                need_id: id,
                country,
                details,
                by: actor.clone(),
                on_behalf: owner.is_none(),
                at: now,
            })])
        }
        NeedCommand::Revise { patch } => {
            let need = state.ok_or(DomainError::NotFound)?;
            let on_behalf = on_behalf(need, actor)?;
            require_open(need, "revise")?;
            let details = patch.apply(&need.details, today)?;
            let changed = need.details.changed_fields(&details);
            if changed.is_empty() {
                // Nothing new to record: a revision that restates the need is not an event.
                return Ok(vec![]);
            }
            Ok(vec![NeedEvent::Revised(NeedRevised {
                need_id: need.id,
                details,
                changed,
                by: actor.clone(),
                on_behalf,
                at: now,
            })])
        }
        NeedCommand::Fulfil => {
            let need = state.ok_or(DomainError::NotFound)?;
            let on_behalf = on_behalf(need, actor)?;
            require_open(need, "fulfil")?;
            Ok(vec![NeedEvent::Fulfilled(NeedFulfilled {
                need_id: need.id,
                by: actor.clone(),
                on_behalf,
                at: now,
            })])
        }
        NeedCommand::Withdraw { reason: raw } => {
            let need = state.ok_or(DomainError::NotFound)?;
            let on_behalf = on_behalf(need, actor)?;
            require_open(need, "withdraw")?;
            let reason = reason(raw.as_deref())?;
            Ok(vec![NeedEvent::Withdrawn(NeedWithdrawn {
                need_id: need.id,
                reason,
                by: actor.clone(),
                on_behalf,
                at: now,
            })])
        }
    }
}

/// Applies an event. Holds no rules: whatever was decided is recorded as it was.
pub fn evolve(state: Option<NeedState>, event: &NeedEvent) -> Option<NeedState> {
    match event {
        NeedEvent::Posted(e) => Some(NeedState {
            id: e.need_id,
            country: e.country,
            details: e.details.clone(),
            status: NeedStatus::Open,
            posted_on_behalf: e.on_behalf,
            posted_at: e.at,
            updated_at: e.at,
            version: state.map_or(0, |s| s.version) + 1,
            withdraw_reason: None,
        }),
        NeedEvent::Revised(e) => state.map(|mut s| {
            s.details = e.details.clone();
            s.updated_at = e.at;
            s.version += 1;
            s
        }),
        NeedEvent::Fulfilled(e) => state.map(|mut s| {
            s.status = NeedStatus::Fulfilled;
            s.updated_at = e.at;
            s.version += 1;
            s
        }),
        NeedEvent::Withdrawn(e) => state.map(|mut s| {
            s.status = NeedStatus::Withdrawn;
            s.withdraw_reason = e.reason.clone();
            s.updated_at = e.at;
            s.version += 1;
            s
        }),
    }
}

const ONLY_STATE_OR_COORDINATOR: &str = "only a state or a coordinator may post or change needs";

/// Only the need's own state, or a coordinator on its behalf, may change it.
/// Returns whether the actor acts on the state's behalf.
fn on_behalf(need: &NeedState, actor: &Actor) -> Result<bool, DomainError> {
    match &actor.role {
        Role::State { country } if *country == need.country => Ok(false),
        Role::State { .. } => Err(DomainError::Forbidden(
            "a state may only change its own country's needs",
        )),
        Role::Coordinator => Ok(true),
        _ => Err(DomainError::Forbidden(ONLY_STATE_OR_COORDINATOR)),
    }
}

fn require_open(need: &NeedState, action: &'static str) -> Result<(), DomainError> {
    match need.status {
        NeedStatus::Open => Ok(()),
        other => Err(DomainError::InvalidTransition {
            from: other.as_str(),
            action,
        }),
    }
}
