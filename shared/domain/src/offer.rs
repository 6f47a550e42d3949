//! A provider's capacity-building offer: wire types, commands, events and the pure aggregate.
//!
//! Only a provider posts offers, for the organisation in its token; that organisation, or a
//! coordinator, changes them. Lifecycle: `open` ⇄ `paused`, and either → `withdrawn` (terminal).

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::actor::{Actor, OrgId, Role};
use crate::codes::{
    BeneficiaryType, CountryCode, DeliveryMode, Funding, Geo, LanguageCode, ProviderType,
    SupportType, TargetGroup,
};
use crate::error::DomainError;
use crate::event::{DomainEvent, EventDecodeError, check_version, decode, payload};
pub use crate::ids::OfferId;
use crate::taxonomy::{ThemeCode, TopicCode};
use crate::validate::{Checker, limits, present, reason};
use crate::window::TimeWindow;

/// Where an offer is in its life.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum OfferStatus {
    /// Available to matching.
    Open,
    /// Temporarily out of matching (e.g. at capacity); may be revised and resumed.
    Paused,
    /// No longer offered. Terminal.
    Withdrawn,
}

impl OfferStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Paused => "paused",
            Self::Withdrawn => "withdrawn",
        }
    }
}

impl fmt::Display for OfferStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The organisation behind an offer, taken from the poster's token, never from the body.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub struct Provider {
    pub org: OrgId,
    pub org_type: ProviderType,
}

/// The validated, revisable content of an offer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OfferDetails {
    pub title: String,
    pub description: String,
    pub themes: Vec<ThemeCode>,
    /// Finer topics; each refines one of `themes`.
    #[serde(default)]
    pub topics: Vec<TopicCode>,
    pub support_types: Vec<SupportType>,
    pub languages: Vec<LanguageCode>,
    /// Countries and M49 regions served; `001` is the world. Never empty.
    pub coverage: Vec<Geo>,
    /// Who in a state may benefit. Never empty.
    pub beneficiary_types: Vec<BeneficiaryType>,
    /// Partnerships the provider can carry at once.
    pub capacity: u32,
    #[serde(flatten)]
    pub window: TimeWindow,
    pub delivery_modes: Vec<DeliveryMode>,
    #[serde(default)]
    pub target_groups: Vec<TargetGroup>,
    pub funding: Funding,
    /// Whether the help comes with conditions ("without conditions" is a principle of capacity building,
    /// so offers must say).
    pub conditions_attached: bool,
    /// What the conditions are; present exactly when `conditions_attached`.
    #[serde(default)]
    pub conditions: Option<String>,
}

impl OfferDetails {
    /// Whether the offer serves the country through any coverage entry.
    pub fn covers(&self, country: &CountryCode) -> bool {
        self.coverage.iter().any(|geo| geo.covers(country))
    }

    /// Wire names of the fields that differ, in declaration order.
    pub fn changed_fields(&self, other: &OfferDetails) -> Vec<String> {
        let pairs = [
            ("title", self.title != other.title),
            ("description", self.description != other.description),
            ("themes", self.themes != other.themes),
            ("topics", self.topics != other.topics),
            ("support_types", self.support_types != other.support_types),
            ("languages", self.languages != other.languages),
            ("coverage", self.coverage != other.coverage),
            (
                "beneficiary_types",
                self.beneficiary_types != other.beneficiary_types,
            ),
            ("capacity", self.capacity != other.capacity),
            ("start", self.window.start != other.window.start),
            ("end", self.window.end != other.window.end),
            (
                "delivery_modes",
                self.delivery_modes != other.delivery_modes,
            ),
            ("target_groups", self.target_groups != other.target_groups),
            ("funding", self.funding != other.funding),
            (
                "conditions_attached",
                self.conditions_attached != other.conditions_attached,
            ),
            ("conditions", self.conditions != other.conditions),
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

/// The body that posts an offer. Codes are plain strings so that every invalid value comes back
/// as a field error (422), all at once.
///
/// Defaults: `beneficiary_types` all four (an offer that names no restriction restricts
/// nothing, so it is never silently unmatched), `capacity` 1, `delivery_modes` both.
/// `funding` and `conditions_attached` are required: providers must state them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({
    "title": "CSIRT set-up mentoring",
    "description": "Experienced incident responders mentor a new national CSIRT through its first year.",
    "themes": ["incident_management_cip"],
    "topics": ["incident_management_cip.csirt_establishment"],
    "support_types": ["mentoring_exchange", "training"],
    "languages": ["en", "fr"],
    "coverage": ["002", "FJ"],
    "beneficiary_types": ["government"],
    "capacity": 3,
    "start": "2027-01-01",
    "end": "2030-06-30",
    "delivery_modes": ["remote"],
    "target_groups": ["women", "youth"],
    "funding": "self_funded",
    "conditions_attached": false
})))]
pub struct OfferDraft {
    /// 5 to 200 characters.
    #[schema(required = true, schema_with = crate::schema::field::title)]
    pub title: Option<String>,
    /// 20 to 5000 characters.
    #[schema(required = true, schema_with = crate::schema::field::description)]
    pub description: Option<String>,
    /// 1 to 20 theme codes.
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
    /// 1 to 20 country (`FR`) or M49 region (`011`, `001` for the world) codes.
    #[schema(required = true, schema_with = crate::schema::field::coverage)]
    pub coverage: Option<Vec<String>>,
    #[schema(schema_with = crate::schema::field::beneficiary_types_or_null)]
    pub beneficiary_types: Option<Vec<String>>,
    /// 1 to 1000.
    #[serde(default, deserialize_with = "crate::validate::whole_number")]
    #[schema(minimum = 1, maximum = 1000)]
    pub capacity: Option<i64>,
    /// `YYYY-MM-DD`, not after `end`.
    #[schema(schema_with = crate::schema::field::start_or_null)]
    pub start: Option<String>,
    /// `YYYY-MM-DD`, not in the past.
    #[schema(schema_with = crate::schema::field::end_or_null)]
    pub end: Option<String>,
    #[schema(schema_with = crate::schema::field::delivery_modes_or_null)]
    pub delivery_modes: Option<Vec<String>>,
    #[schema(schema_with = crate::schema::field::target_groups_or_null)]
    pub target_groups: Option<Vec<String>>,
    #[schema(required = true, schema_with = crate::schema::field::funding)]
    pub funding: Option<String>,
    #[schema(required = true, value_type = bool)]
    pub conditions_attached: Option<bool>,
    /// Up to 1000 characters; required exactly when `conditions_attached` is true.
    #[schema(schema_with = crate::schema::field::conditions_or_null)]
    pub conditions: Option<String>,
}

impl OfferDraft {
    /// Converts the draft into domain values, reporting every invalid field at once.
    pub fn validate(&self, today: NaiveDate) -> Result<OfferDetails, DomainError> {
        let mut c = Checker::default();
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
        let coverage = c
            .required("coverage", &self.coverage)
            .and_then(|g| c.codes_up_to("coverage", g, true, limits::COVERAGE_MAX));
        let beneficiary_types = match &self.beneficiary_types {
            None => Some(BeneficiaryType::ALL.to_vec()),
            Some(raw) => c.codes("beneficiary_types", raw, true),
        };
        let capacity = c.number("capacity", self.capacity.unwrap_or(1), limits::CAPACITY);
        let start = c.date("start", self.start.as_deref());
        let end = c.date("end", self.end.as_deref());
        let delivery_modes = match &self.delivery_modes {
            None => Some(DeliveryMode::ALL.to_vec()),
            Some(raw) => c.codes("delivery_modes", raw, true),
        };
        let target_groups = c.codes(
            "target_groups",
            self.target_groups.as_deref().unwrap_or_default(),
            false,
        );
        let funding = c
            .required("funding", &self.funding)
            .and_then(|f| c.code("funding", f));
        let conditions_attached = c.required("conditions_attached", &self.conditions_attached);
        let conditions = c.optional_text(
            "conditions",
            self.conditions.as_deref(),
            limits::CONDITIONS_MAX,
        );

        if let (Some(themes), Some(topics)) = (&themes, &topics) {
            c.topics_within_themes(themes, topics);
        }
        if let (Some(start), Some(end)) = (start, end) {
            c.window(start, end, today, true);
        }
        if let (Some(attached), Some(text)) = (conditions_attached, &conditions) {
            c.conditions(*attached, text.as_deref());
        }
        let (
            Some(title),
            Some(description),
            Some(themes),
            Some(topics),
            Some(support_types),
            Some(languages),
            Some(coverage),
            Some(beneficiary_types),
            Some(capacity),
            Some(start),
            Some(end),
            Some(delivery_modes),
            Some(target_groups),
            Some(funding),
            Some(&conditions_attached),
            Some(conditions),
        ) = (
            title,
            description,
            themes,
            topics,
            support_types,
            languages,
            coverage,
            beneficiary_types,
            capacity,
            start,
            end,
            delivery_modes,
            target_groups,
            funding,
            conditions_attached,
            conditions,
        )
        else {
            return Err(c.into_error());
        };
        c.finish()?;
        Ok(OfferDetails {
            title,
            description,
            themes,
            topics,
            support_types,
            languages,
            coverage,
            beneficiary_types,
            capacity,
            window: TimeWindow { start, end },
            delivery_modes,
            target_groups,
            funding,
            conditions_attached,
            conditions,
        })
    }
}

/// The body that revises an offer: every field optional, at least one present. `start`, `end`
/// and `conditions` may be `null` to clear them; setting `conditions_attached` to false clears
/// `conditions` too.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(min_properties = 1, examples(json!({
    "capacity": 5,
    "coverage": ["002", "054"]
})))]
pub struct OfferPatch {
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
    #[schema(schema_with = crate::schema::field::coverage_or_null)]
    pub coverage: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = crate::schema::field::beneficiary_types_or_null)]
    pub beneficiary_types: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[serde(default, deserialize_with = "crate::validate::whole_number")]
    #[schema(minimum = 1, maximum = 1000)]
    pub capacity: Option<i64>,
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
    #[schema(schema_with = crate::schema::field::delivery_modes_or_null)]
    pub delivery_modes: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = crate::schema::field::target_groups_or_null)]
    pub target_groups: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = crate::schema::field::funding_or_null)]
    pub funding: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conditions_attached: Option<bool>,
    /// `null` clears the text.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(schema_with = crate::schema::field::conditions_or_null)]
    pub conditions: Option<Option<String>>,
}

impl OfferPatch {
    fn is_empty(&self) -> bool {
        *self == OfferPatch::default()
    }

    /// The details after applying this patch to `current`, reporting every invalid field.
    /// Cross-field rules are checked on the result.
    pub fn apply(
        &self,
        current: &OfferDetails,
        today: NaiveDate,
    ) -> Result<OfferDetails, DomainError> {
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
        if let Some(Some(v)) = self
            .coverage
            .as_ref()
            .map(|g| c.codes_up_to("coverage", g, true, limits::COVERAGE_MAX))
        {
            next.coverage = v;
        }
        if let Some(Some(v)) = self
            .beneficiary_types
            .as_ref()
            .map(|b| c.codes("beneficiary_types", b, true))
        {
            next.beneficiary_types = v;
        }
        if let Some(Some(v)) = self
            .capacity
            .map(|n| c.number("capacity", n, limits::CAPACITY))
        {
            next.capacity = v;
        }
        if let Some(Some(v)) = self.start.as_ref().map(|s| c.date("start", s.as_deref())) {
            next.window.start = v;
        }
        if let Some(Some(v)) = self.end.as_ref().map(|e| c.date("end", e.as_deref())) {
            next.window.end = v;
        }
        if let Some(Some(v)) = self
            .delivery_modes
            .as_ref()
            .map(|d| c.codes("delivery_modes", d, true))
        {
            next.delivery_modes = v;
        }
        if let Some(Some(v)) = self
            .target_groups
            .as_ref()
            .map(|t| c.codes("target_groups", t, false))
        {
            next.target_groups = v;
        }
        if let Some(Some(v)) = self.funding.as_ref().map(|f| c.code("funding", f)) {
            next.funding = v;
        }
        if let Some(attached) = self.conditions_attached {
            next.conditions_attached = attached;
            if !attached && self.conditions.is_none() {
                next.conditions = None;
            }
        }
        if let Some(Some(v)) = self
            .conditions
            .as_ref()
            .map(|t| c.optional_text("conditions", t.as_deref(), limits::CONDITIONS_MAX))
        {
            next.conditions = v;
        }
        c.topics_within_themes(&next.themes, &next.topics);
        let window_touched = self.start.is_some() || self.end.is_some();
        c.window(next.window.start, next.window.end, today, window_touched);
        c.conditions(next.conditions_attached, next.conditions.as_deref());
        c.finish().map(|()| next)
    }
}

// ---------------------------------------------------------------------------------------------
// Commands and events.

/// What an actor asks of an offer. Carries raw wire values; `decide` validates them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OfferCommand {
    Post { id: OfferId, draft: OfferDraft },
    Revise { patch: OfferPatch },
    Pause { reason: Option<String> },
    Resume,
    Withdraw { reason: Option<String> },
}

/// An offer was posted by a provider for its organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OfferPosted {
    pub offer_id: OfferId,
    pub provider: Provider,
    pub details: OfferDetails,
    pub by: Actor,
    pub at: DateTime<Utc>,
}

/// An offer's content changed: the whole new content and the names of the changed fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OfferRevised {
    pub offer_id: OfferId,
    pub details: OfferDetails,
    pub changed: Vec<String>,
    pub by: Actor,
    /// A coordinator, not the provider, made the change.
    pub on_behalf: bool,
    pub at: DateTime<Utc>,
}

/// The offer left matching for a while.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OfferPaused {
    pub offer_id: OfferId,
    #[serde(default)]
    pub reason: Option<String>,
    pub by: Actor,
    pub on_behalf: bool,
    pub at: DateTime<Utc>,
}

/// The offer is back in matching.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OfferResumed {
    pub offer_id: OfferId,
    pub by: Actor,
    pub on_behalf: bool,
    pub at: DateTime<Utc>,
}

/// The offer is no longer available.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OfferWithdrawn {
    pub offer_id: OfferId,
    #[serde(default)]
    pub reason: Option<String>,
    pub by: Actor,
    pub on_behalf: bool,
    pub at: DateTime<Utc>,
}

/// Everything that can happen to an offer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OfferEvent {
    Posted(OfferPosted),
    Revised(OfferRevised),
    Paused(OfferPaused),
    Resumed(OfferResumed),
    Withdrawn(OfferWithdrawn),
}

impl OfferEvent {
    pub const POSTED: &'static str = "offer.posted";
    pub const REVISED: &'static str = "offer.revised";
    pub const PAUSED: &'static str = "offer.paused";
    pub const RESUMED: &'static str = "offer.resumed";
    pub const WITHDRAWN: &'static str = "offer.withdrawn";
    /// The schema version every offer event is written with.
    pub const VERSION: u32 = 1;

    pub fn offer_id(&self) -> OfferId {
        match self {
            Self::Posted(e) => e.offer_id,
            Self::Revised(e) => e.offer_id,
            Self::Paused(e) => e.offer_id,
            Self::Resumed(e) => e.offer_id,
            Self::Withdrawn(e) => e.offer_id,
        }
    }

    pub fn actor(&self) -> &Actor {
        match self {
            Self::Posted(e) => &e.by,
            Self::Revised(e) => &e.by,
            Self::Paused(e) => &e.by,
            Self::Resumed(e) => &e.by,
            Self::Withdrawn(e) => &e.by,
        }
    }

    pub fn at(&self) -> DateTime<Utc> {
        match self {
            Self::Posted(e) => e.at,
            Self::Revised(e) => e.at,
            Self::Paused(e) => e.at,
            Self::Resumed(e) => e.at,
            Self::Withdrawn(e) => e.at,
        }
    }
}

impl DomainEvent for OfferEvent {
    const TYPES: &'static [&'static str] = &[
        Self::POSTED,
        Self::REVISED,
        Self::PAUSED,
        Self::RESUMED,
        Self::WITHDRAWN,
    ];

    fn event_type(&self) -> &'static str {
        match self {
            Self::Posted(_) => Self::POSTED,
            Self::Revised(_) => Self::REVISED,
            Self::Paused(_) => Self::PAUSED,
            Self::Resumed(_) => Self::RESUMED,
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
            Self::Paused(e) => payload(e),
            Self::Resumed(e) => payload(e),
            Self::Withdrawn(e) => payload(e),
        }
    }

    fn from_stored(
        event_type: &str,
        version: u32,
        payload: serde_json::Value,
    ) -> Result<Self, EventDecodeError> {
        if !Self::TYPES.contains(&event_type) {
            return Err(EventDecodeError::UnknownType(event_type.to_owned()));
        }
        check_version(event_type, version, Self::VERSION)?;
        Ok(match event_type {
            Self::POSTED => Self::Posted(decode(event_type, payload)?),
            Self::REVISED => Self::Revised(decode(event_type, payload)?),
            Self::PAUSED => Self::Paused(decode(event_type, payload)?),
            Self::RESUMED => Self::Resumed(decode(event_type, payload)?),
            _ => Self::Withdrawn(decode(event_type, payload)?),
        })
    }
}

// ---------------------------------------------------------------------------------------------
// The aggregate.

/// An offer as its events built it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OfferState {
    pub id: OfferId,
    pub provider: Provider,
    #[serde(flatten)]
    pub details: OfferDetails,
    pub status: OfferStatus,
    pub posted_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Events applied so far: equals the stream version, so services can use it as an ETag.
    pub version: u64,
    /// Why the offer was last paused or withdrawn, if said; cleared on resume.
    pub status_reason: Option<String>,
}

impl OfferState {
    /// Folds a stream's events, oldest first.
    pub fn replay<'a>(events: impl IntoIterator<Item = &'a OfferEvent>) -> Option<OfferState> {
        events.into_iter().fold(None, evolve)
    }
}

/// Who may ask for `command` at all, before anything else about it is looked at: a provider
/// posts for its own organisation and changes its own offers; a coordinator may change any
/// offer. The write path asks this before it answers a retried request or checks `If-Match`;
/// [`decide`] asks it again. Pure.
pub fn authorize(
    state: Option<&OfferState>,
    command: &OfferCommand,
    actor: &Actor,
) -> Result<(), DomainError> {
    match (command, state) {
        (OfferCommand::Post { .. }, _) => match actor.role {
            Role::Provider { .. } => Ok(()),
            _ => Err(DomainError::Forbidden("only a provider may post offers")),
        },
        (_, Some(offer)) => on_behalf(offer, actor).map(|_| ()),
        (_, None) => Err(DomainError::NotFound),
    }
}

/// Holds every rule: who may do what, in which status, with which values. Pure.
pub fn decide(
    state: Option<&OfferState>,
    command: OfferCommand,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Vec<OfferEvent>, DomainError> {
    let today = now.date_naive();
    match command {
        OfferCommand::Post { id, draft } => {
            if state.is_some() {
                return Err(DomainError::AlreadyExists);
            }
            let Role::Provider { org, org_type } = &actor.role else {
                return Err(DomainError::Forbidden("only a provider may post offers"));
            };
            let details = draft.validate(today)?;
            Ok(vec![OfferEvent::Posted(OfferPosted {
                offer_id: id,
                provider: Provider {
                    org: org.clone(),
                    org_type: *org_type,
                },
                details,
                by: actor.clone(),
                at: now,
            })])
        }
        OfferCommand::Revise { patch } => {
            let offer = state.ok_or(DomainError::NotFound)?;
            let on_behalf = on_behalf(offer, actor)?;
            require(offer, &[OfferStatus::Open, OfferStatus::Paused], "revise")?;
            let details = patch.apply(&offer.details, today)?;
            let changed = offer.details.changed_fields(&details);
            if changed.is_empty() {
                // A revision that restates the offer records nothing.
                return Ok(vec![]);
            }
            Ok(vec![OfferEvent::Revised(OfferRevised {
                offer_id: offer.id,
                details,
                changed,
                by: actor.clone(),
                on_behalf,
                at: now,
            })])
        }
        OfferCommand::Pause { reason: raw } => {
            let offer = state.ok_or(DomainError::NotFound)?;
            let on_behalf = on_behalf(offer, actor)?;
            require(offer, &[OfferStatus::Open], "pause")?;
            let reason = reason(raw.as_deref())?;
            Ok(vec![OfferEvent::Paused(OfferPaused {
                offer_id: offer.id,
                reason,
                by: actor.clone(),
                on_behalf,
                at: now,
            })])
        }
        OfferCommand::Resume => {
            let offer = state.ok_or(DomainError::NotFound)?;
            let on_behalf = on_behalf(offer, actor)?;
            require(offer, &[OfferStatus::Paused], "resume")?;
            Ok(vec![OfferEvent::Resumed(OfferResumed {
                offer_id: offer.id,
                by: actor.clone(),
                on_behalf,
                at: now,
            })])
        }
        OfferCommand::Withdraw { reason: raw } => {
            let offer = state.ok_or(DomainError::NotFound)?;
            let on_behalf = on_behalf(offer, actor)?;
            require(offer, &[OfferStatus::Open, OfferStatus::Paused], "withdraw")?;
            let reason = reason(raw.as_deref())?;
            Ok(vec![OfferEvent::Withdrawn(OfferWithdrawn {
                offer_id: offer.id,
                reason,
                by: actor.clone(),
                on_behalf,
                at: now,
            })])
        }
    }
}

/// Applies an event. Holds no rules.
pub fn evolve(state: Option<OfferState>, event: &OfferEvent) -> Option<OfferState> {
    match event {
        OfferEvent::Posted(e) => Some(OfferState {
            id: e.offer_id,
            provider: e.provider.clone(),
            details: e.details.clone(),
            status: OfferStatus::Open,
            posted_at: e.at,
            updated_at: e.at,
            version: state.map_or(0, |s| s.version) + 1,
            status_reason: None,
        }),
        OfferEvent::Revised(e) => state.map(|mut s| {
            s.details = e.details.clone();
            s.updated_at = e.at;
            s.version += 1;
            s
        }),
        OfferEvent::Paused(e) => state.map(|mut s| {
            s.status = OfferStatus::Paused;
            s.status_reason = e.reason.clone();
            s.updated_at = e.at;
            s.version += 1;
            s
        }),
        OfferEvent::Resumed(e) => state.map(|mut s| {
            s.status = OfferStatus::Open;
            s.status_reason = None;
            s.updated_at = e.at;
            s.version += 1;
            s
        }),
        OfferEvent::Withdrawn(e) => state.map(|mut s| {
            s.status = OfferStatus::Withdrawn;
            s.status_reason = e.reason.clone();
            s.updated_at = e.at;
            s.version += 1;
            s
        }),
    }
}

/// Only the offering organisation, or a coordinator, may change an offer.
/// Returns whether the actor acts on the provider's behalf.
fn on_behalf(offer: &OfferState, actor: &Actor) -> Result<bool, DomainError> {
    match &actor.role {
        Role::Provider { org, .. } if *org == offer.provider.org => Ok(false),
        Role::Provider { .. } => Err(DomainError::Forbidden(
            "a provider may only change its own organisation's offers",
        )),
        Role::Coordinator => Ok(true),
        _ => Err(DomainError::Forbidden(
            "only the offering provider or a coordinator may change offers",
        )),
    }
}

fn require(
    offer: &OfferState,
    allowed: &[OfferStatus],
    action: &'static str,
) -> Result<(), DomainError> {
    if allowed.contains(&offer.status) {
        Ok(())
    } else {
        Err(DomainError::InvalidTransition {
            from: offer.status.as_str(),
            action,
        })
    }
}
