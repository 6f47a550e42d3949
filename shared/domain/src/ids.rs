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

entity_id! {
    /// Identifies a partnership (a match) between one need and one offer.
    MatchId
}

/// The namespace of match ids: a match is its (need, offer) pair, so its id is derived from the
/// pair and stays the same across any rebuild of the suggestions.
const MATCH_NAMESPACE: Uuid = Uuid::from_u128(0x6d61_7463_6863_6170_6d61_7463_685f_6964);

impl MatchId {
    /// The id of the match between `need` and `offer`.
    pub fn for_pair(need: NeedId, offer: OfferId) -> Self {
        let mut name = [0u8; 32];
        name[..16].copy_from_slice(need.as_uuid().as_bytes());
        name[16..].copy_from_slice(offer.as_uuid().as_bytes());
        Self(Uuid::new_v5(&MATCH_NAMESPACE, &name))
    }
}
