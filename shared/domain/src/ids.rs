//! Entity ids. Chosen by the service (random v4 UUIDs) before `decide`, so `decide` stays pure
//! and a retried post can reuse the id it was first given.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

macro_rules! entity_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
            ToSchema,
        )]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh random id.
            pub fn new() -> Self {
                Self(Uuid::new_v4())
            }

            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                Self(id)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

entity_id! {
    /// Identifies a need for its whole life.
    NeedId
}

entity_id! {
    /// Identifies an offer for its whole life.
    OfferId
}

/// Identifies a partnership (a match): its (need, offer) pair, written `{need}~{offer}`. The id
/// is the pair itself, so it is the same before any decision, after any rebuild of the
/// suggestions, and needs no table to be resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MatchId {
    pub need: NeedId,
    pub offer: OfferId,
}

impl MatchId {
    /// The id of the match between `need` and `offer`.
    pub fn for_pair(need: NeedId, offer: OfferId) -> Self {
        MatchId { need, offer }
    }
}

impl fmt::Display for MatchId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}~{}", self.need, self.offer)
    }
}

/// A match id that is not `{need uuid}~{offer uuid}`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a match id is <need id>~<offer id>")]
pub struct MatchIdError;

impl FromStr for MatchId {
    type Err = MatchIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (need, offer) = s.split_once('~').ok_or(MatchIdError)?;
        Ok(MatchId {
            need: need.parse().map_err(|_| MatchIdError)?,
            offer: offer.parse().map_err(|_| MatchIdError)?,
        })
    }
}

impl Serialize for MatchId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for MatchId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl utoipa::PartialSchema for MatchId {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some(
                "The match's (need, offer) pair: `<need id>~<offer id>`.",
            ))
            .examples([serde_json::json!(
                "0f8fad5b-d9cb-469f-a165-70867728950e~7c9e6679-7425-40de-944b-e07fc1f90ae7"
            )])
            .into()
    }
}

impl ToSchema for MatchId {}
