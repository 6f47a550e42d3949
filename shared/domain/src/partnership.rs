//! Partnerships (matches) between one need and one offer, and their review workflow:
//!
//! ```text
//! suggested --shortlist--> shortlisted --introduce--> introduced --both accept--> agreed --complete--> completed
//!     |                         |                         |                          |
//!     +--dismiss (reason)-------+                         +--either declines (reason)+--> declined
//! any open state --need or offer withdrawn or fulfilled--> closed
//! ```
//!
//! A suggested match has no events: it exists because the matcher suggests it. Its first decision
//! creates its stream, and every event carries the [`Pair`] so that a feed consumer (the needs
//! service learning introductions, the statistics) needs nothing else.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::actor::{Actor, OrgId, Role};
use crate::codes::CountryCode;
use crate::error::{DomainError, FieldError};
use crate::event::{DomainEvent, EventDecodeError, check_version, decode, payload};
use crate::ids::{MatchId, NeedId, OfferId};

/// Reasons, notes and outcomes are free text of at most this many characters.
pub const TEXT_MAX: usize = 2000;

/// Where a partnership stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MatchStatus {
    Suggested,
    Shortlisted,
    Dismissed,
    Introduced,
    Agreed,
    Declined,
    Completed,
    Closed,
}

impl MatchStatus {
    pub const ALL: [MatchStatus; 8] = [
        Self::Suggested,
        Self::Shortlisted,
        Self::Dismissed,
        Self::Introduced,
        Self::Agreed,
        Self::Declined,
        Self::Completed,
        Self::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Suggested => "suggested",
            Self::Shortlisted => "shortlisted",
            Self::Dismissed => "dismissed",
            Self::Introduced => "introduced",
            Self::Agreed => "agreed",
            Self::Declined => "declined",
            Self::Completed => "completed",
            Self::Closed => "closed",
        }
    }

    /// Still going somewhere: a withdrawal of either side closes it.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            Self::Suggested | Self::Shortlisted | Self::Introduced | Self::Agreed
        )
    }

    /// Holds a share of the offer's capacity: the parties have been put in touch.
    pub fn uses_capacity(self) -> bool {
        matches!(self, Self::Introduced | Self::Agreed)
    }

    /// The need is shared with the offer's provider while the partnership is in this status:
    /// introduced (the parties are deciding) or agreed (they work together). Every other
    /// status ends it, completed included: the work is done, and what the state writes next
    /// is its own again (see [`crate::visibility`]).
    pub fn shares_need(self) -> bool {
        matches!(self, Self::Introduced | Self::Agreed)
    }
}

impl std::str::FromStr for MatchStatus {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        Self::ALL.into_iter().find(|m| m.as_str() == s).ok_or(())
    }
}

/// The two parties of a partnership.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// The state that owns the need.
    Need,
    /// The provider organisation that owns the offer.
    Offer,
}

/// What a match is about, fixed by its first event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Pair {
    pub need_id: NeedId,
    pub offer_id: OfferId,
    /// The need's owner: its state accepts or declines for the need side.
    #[schema(value_type = String, example = "SN")]
    pub need_country: CountryCode,
    /// The offer's owner: this organisation accepts or declines for the offer side.
    #[schema(value_type = String, example = "org-cyberaid")]
    pub provider_org: OrgId,
}

impl Pair {
    pub fn match_id(&self) -> MatchId {
        MatchId::for_pair(self.need_id, self.offer_id)
    }

    /// The side `actor` speaks for, if any.
    pub fn side_of(&self, actor: &Actor) -> Option<Side> {
        match &actor.role {
            Role::State { country } if *country == self.need_country => Some(Side::Need),
            Role::Provider { org, .. } if *org == self.provider_org => Some(Side::Offer),
            _ => None,
        }
    }
}

/// Why a match was closed without the parties deciding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CloseReason {
    NeedWithdrawn,
    NeedFulfilled,
    OfferWithdrawn,
}

/// A decision on a match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MatchCommand {
    /// Coordinator: keep this suggestion for review.
    Shortlist { note: Option<String> },
    /// Coordinator: not this pair (reason required). A dismissed pair is never suggested again.
    Dismiss { reason: Option<String> },
    /// Coordinator: put the parties in touch. The provider may now see a restricted need.
    Introduce { note: Option<String> },
    /// A party accepts; with both sides, the partnership is agreed.
    Accept,
    /// A party declines (reason required).
    Decline { reason: Option<String> },
    /// Coordinator: the agreed partnership is done; its outcome is recorded.
    Complete { outcome: Option<String> },
    /// The matcher itself: the need or the offer went away.
    Close { reason: CloseReason },
}

/// One decision, as recorded. Every event carries the pair.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MatchDecided {
    pub match_id: MatchId,
    #[serde(flatten)]
    pub pair: Pair,
    #[schema(value_type = Object)]
    pub by: Actor,
    pub at: DateTime<Utc>,
    /// The note, reason or outcome given with the decision, if any.
    pub text: Option<String>,
    /// The side that accepted or declined.
    pub side: Option<Side>,
    /// Why the matcher closed it.
    pub close_reason: Option<CloseReason>,
}

/// The events of a match's stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MatchEvent {
    Shortlisted(MatchDecided),
    Dismissed(MatchDecided),
    Introduced(MatchDecided),
    Accepted(MatchDecided),
    Agreed(MatchDecided),
    Declined(MatchDecided),
    Completed(MatchDecided),
    Closed(MatchDecided),
}

impl MatchEvent {
    pub const SHORTLISTED: &'static str = "match.shortlisted";
    pub const DISMISSED: &'static str = "match.dismissed";
    pub const INTRODUCED: &'static str = "match.introduced";
    pub const ACCEPTED: &'static str = "match.accepted";
    pub const AGREED: &'static str = "match.agreed";
    pub const DECLINED: &'static str = "match.declined";
    pub const COMPLETED: &'static str = "match.completed";
    pub const CLOSED: &'static str = "match.closed";
    const VERSION: u32 = 1;

    pub fn decided(&self) -> &MatchDecided {
        match self {
            Self::Shortlisted(d)
            | Self::Dismissed(d)
            | Self::Introduced(d)
            | Self::Accepted(d)
            | Self::Agreed(d)
            | Self::Declined(d)
            | Self::Completed(d)
            | Self::Closed(d) => d,
        }
    }
}

impl DomainEvent for MatchEvent {
    const TYPES: &'static [&'static str] = &[
        Self::SHORTLISTED,
        Self::DISMISSED,
        Self::INTRODUCED,
        Self::ACCEPTED,
        Self::AGREED,
        Self::DECLINED,
        Self::COMPLETED,
        Self::CLOSED,
    ];

    fn event_type(&self) -> &'static str {
        match self {
            Self::Shortlisted(_) => Self::SHORTLISTED,
            Self::Dismissed(_) => Self::DISMISSED,
            Self::Introduced(_) => Self::INTRODUCED,
            Self::Accepted(_) => Self::ACCEPTED,
            Self::Agreed(_) => Self::AGREED,
            Self::Declined(_) => Self::DECLINED,
            Self::Completed(_) => Self::COMPLETED,
            Self::Closed(_) => Self::CLOSED,
        }
    }

    fn schema_version(&self) -> u32 {
        Self::VERSION
    }

    fn to_payload(&self) -> serde_json::Value {
        payload(self.decided())
    }

    fn from_stored(
        event_type: &str,
        version: u32,
        payload: serde_json::Value,
    ) -> Result<Self, EventDecodeError> {
        let wrap: fn(MatchDecided) -> MatchEvent = match event_type {
            Self::SHORTLISTED => Self::Shortlisted,
            Self::DISMISSED => Self::Dismissed,
            Self::INTRODUCED => Self::Introduced,
            Self::ACCEPTED => Self::Accepted,
            Self::AGREED => Self::Agreed,
            Self::DECLINED => Self::Declined,
            Self::COMPLETED => Self::Completed,
            Self::CLOSED => Self::Closed,
            other => return Err(EventDecodeError::UnknownType(other.to_owned())),
        };
        check_version(event_type, version, Self::VERSION)?;
        Ok(wrap(decode(event_type, payload)?))
    }
}

/// A match as its decisions built it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MatchState {
    pub id: MatchId,
    #[serde(flatten)]
    pub pair: Pair,
    pub status: MatchStatus,
    pub need_accepted: bool,
    pub offer_accepted: bool,
    /// When the coordinator introduced the parties: the clock for the stale flag.
    pub introduced_at: Option<DateTime<Utc>>,
    pub agreed_at: Option<DateTime<Utc>>,
    /// The dismissal or decline reason, or the completion outcome.
    pub reason: Option<String>,
    pub outcome: Option<String>,
    pub declined_by: Option<Side>,
    pub close_reason: Option<CloseReason>,
    pub updated_at: DateTime<Utc>,
    /// Events applied: the stream version.
    pub version: u64,
}

impl MatchState {
    pub fn replay<'a>(events: impl IntoIterator<Item = &'a MatchEvent>) -> Option<MatchState> {
        events.into_iter().fold(None, evolve)
    }

    /// Introduced and still waiting for a party after `threshold`.
    pub fn is_stale(&self, now: DateTime<Utc>, threshold: chrono::Duration) -> bool {
        self.status == MatchStatus::Introduced
            && self.introduced_at.is_some_and(|at| now - at > threshold)
    }

    /// The party (or parties) the match waits for, while introduced.
    pub fn waiting_for(&self) -> Vec<Side> {
        if self.status != MatchStatus::Introduced {
            return Vec::new();
        }
        let mut out = Vec::new();
        if !self.need_accepted {
            out.push(Side::Need);
        }
        if !self.offer_accepted {
            out.push(Side::Offer);
        }
        out
    }
}

/// Who may ask for `command` on the match of `pair` at all, whatever the match's status: a
/// coordinator reviews (shortlist, dismiss, introduce, complete), the parties answer (accept,
/// decline), and the matcher or a coordinator closes. The write path asks this before it
/// answers a retried request or checks `If-Match`; [`decide`] asks it again. Pure.
pub fn authorize(
    state: Option<&MatchState>,
    pair: &Pair,
    command: &MatchCommand,
    actor: &Actor,
) -> Result<(), DomainError> {
    let pair = state.map_or(pair, |s| &s.pair);
    match command {
        MatchCommand::Shortlist { .. }
        | MatchCommand::Dismiss { .. }
        | MatchCommand::Introduce { .. }
        | MatchCommand::Complete { .. } => coordinator(actor),
        MatchCommand::Accept => party(pair, actor, ONLY_PARTIES_ACCEPT).map(|_| ()),
        MatchCommand::Decline { .. } => party(pair, actor, ONLY_PARTIES_DECLINE).map(|_| ()),
        MatchCommand::Close { .. } => match actor.role {
            Role::Service | Role::Coordinator => Ok(()),
            _ => Err(DomainError::Forbidden(
                "matches are closed by the matcher when a need or offer goes away",
            )),
        },
    }
}

const ONLY_PARTIES_ACCEPT: &str = "only the need's state or the offer's provider may accept";
const ONLY_PARTIES_DECLINE: &str = "only the need's state or the offer's provider may decline";

/// The side `actor` answers for; 403 (`refusal`) when it is neither party.
fn party(pair: &Pair, actor: &Actor, refusal: &'static str) -> Result<Side, DomainError> {
    pair.side_of(actor).ok_or(DomainError::Forbidden(refusal))
}

/// Holds every rule of the workflow. `pair` describes the match (from the matcher's knowledge
/// of the need and the offer); for an existing match, its recorded pair is used. Pure.
pub fn decide(
    state: Option<&MatchState>,
    pair: &Pair,
    command: MatchCommand,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Vec<MatchEvent>, DomainError> {
    authorize(state, pair, &command, actor)?;
    let pair = state.map_or(pair, |s| &s.pair);
    let status = state.map_or(MatchStatus::Suggested, |s| s.status);
    let event = |text: Option<String>, side: Option<Side>, close_reason| MatchDecided {
        match_id: pair.match_id(),
        pair: pair.clone(),
        by: actor.clone(),
        at: now,
        text,
        side,
        close_reason,
    };
    match command {
        MatchCommand::Shortlist { note } => {
            expect(status, &[MatchStatus::Suggested], "shortlist")?;
            let note = text("note", note, false)?;
            Ok(vec![MatchEvent::Shortlisted(event(note, None, None))])
        }
        MatchCommand::Dismiss { reason } => {
            expect(
                status,
                &[MatchStatus::Suggested, MatchStatus::Shortlisted],
                "dismiss",
            )?;
            let reason = text("reason", reason, true)?;
            Ok(vec![MatchEvent::Dismissed(event(reason, None, None))])
        }
        MatchCommand::Introduce { note } => {
            expect(status, &[MatchStatus::Shortlisted], "introduce")?;
            let note = text("note", note, false)?;
            Ok(vec![MatchEvent::Introduced(event(note, None, None))])
        }
        MatchCommand::Accept => {
            let side = party(pair, actor, ONLY_PARTIES_ACCEPT)?;
            expect(status, &[MatchStatus::Introduced], "accept")?;
            let (need_accepted, offer_accepted) =
                state.map_or((false, false), |s| (s.need_accepted, s.offer_accepted));
            let already = match side {
                Side::Need => need_accepted,
                Side::Offer => offer_accepted,
            };
            if already {
                return Err(DomainError::InvalidTransition {
                    from: "accepted by this party",
                    action: "accept",
                });
            }
            let mut events = vec![MatchEvent::Accepted(event(None, Some(side), None))];
            if need_accepted || offer_accepted {
                events.push(MatchEvent::Agreed(event(None, None, None)));
            }
            Ok(events)
        }
        MatchCommand::Decline { reason } => {
            let side = party(pair, actor, ONLY_PARTIES_DECLINE)?;
            expect(
                status,
                &[MatchStatus::Introduced, MatchStatus::Agreed],
                "decline",
            )?;
            let reason = text("reason", reason, true)?;
            Ok(vec![MatchEvent::Declined(event(reason, Some(side), None))])
        }
        MatchCommand::Complete { outcome } => {
            expect(status, &[MatchStatus::Agreed], "complete")?;
            let outcome = text("outcome", outcome, true)?;
            Ok(vec![MatchEvent::Completed(event(outcome, None, None))])
        }
        MatchCommand::Close { reason } => {
            // A suggestion with no decisions has nothing to close: it simply stops being
            // suggested. Terminal matches stay as they ended.
            if state.is_none() || !status.is_open() {
                return Ok(Vec::new());
            }
            Ok(vec![MatchEvent::Closed(event(None, None, Some(reason)))])
        }
    }
}

/// Applies a decision. Holds no rules.
pub fn evolve(state: Option<MatchState>, event: &MatchEvent) -> Option<MatchState> {
    let d = event.decided();
    let mut s = state.unwrap_or_else(|| MatchState {
        id: d.match_id,
        pair: d.pair.clone(),
        status: MatchStatus::Suggested,
        need_accepted: false,
        offer_accepted: false,
        introduced_at: None,
        agreed_at: None,
        reason: None,
        outcome: None,
        declined_by: None,
        close_reason: None,
        updated_at: d.at,
        version: 0,
    });
    s.version += 1;
    s.updated_at = d.at;
    match event {
        MatchEvent::Shortlisted(_) => s.status = MatchStatus::Shortlisted,
        MatchEvent::Dismissed(d) => {
            s.status = MatchStatus::Dismissed;
            s.reason = d.text.clone();
        }
        MatchEvent::Introduced(d) => {
            s.status = MatchStatus::Introduced;
            s.introduced_at = Some(d.at);
        }
        MatchEvent::Accepted(d) => match d.side {
            Some(Side::Need) => s.need_accepted = true,
            Some(Side::Offer) => s.offer_accepted = true,
            None => {}
        },
        MatchEvent::Agreed(d) => {
            s.status = MatchStatus::Agreed;
            s.agreed_at = Some(d.at);
        }
        MatchEvent::Declined(d) => {
            s.status = MatchStatus::Declined;
            s.declined_by = d.side;
            s.reason = d.text.clone();
        }
        MatchEvent::Completed(d) => {
            s.status = MatchStatus::Completed;
            s.outcome = d.text.clone();
        }
        MatchEvent::Closed(d) => {
            s.status = MatchStatus::Closed;
            s.close_reason = d.close_reason;
        }
    }
    Some(s)
}

fn coordinator(actor: &Actor) -> Result<(), DomainError> {
    match actor.role {
        Role::Coordinator => Ok(()),
        _ => Err(DomainError::Forbidden(
            "only a coordinator may review suggestions",
        )),
    }
}

fn expect(
    status: MatchStatus,
    allowed: &[MatchStatus],
    action: &'static str,
) -> Result<(), DomainError> {
    if allowed.contains(&status) {
        Ok(())
    } else {
        Err(DomainError::InvalidTransition {
            from: status.as_str(),
            action,
        })
    }
}

/// Free text: trimmed; blank counts as absent; `required` refuses absent.
fn text(field: &str, raw: Option<String>, required: bool) -> Result<Option<String>, DomainError> {
    let value = raw.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty());
    let error = match &value {
        None if required => Some(FieldError::new(
            field,
            "required",
            format!("{field} is required"),
        )),
        Some(t) if t.chars().count() > TEXT_MAX => Some(FieldError::new(
            field,
            "too_long",
            format!("{field} must be at most {TEXT_MAX} characters"),
        )),
        _ => None,
    };
    match error {
        Some(e) => Err(DomainError::Validation(vec![e])),
        None => Ok(value),
    }
}
