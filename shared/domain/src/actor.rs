//! Who is calling: the role and the claims bound to it, as decoded from a JWT by
//! `capmatch-auth`. The domain takes an [`Actor`] and decides; it never reads a token.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::Schema;
use utoipa::{PartialSchema, ToSchema};

use crate::codes::{CodeError, CodeKind, CountryCode, ProviderType, string_serde};

/// A provider organisation's id, as the `org` claim carries it.
///
/// Restricted to 1..=128 characters of `[A-Za-z0-9._:-]`, so it is safe in paths, logs and
/// stream names without escaping.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OrgId(String);

impl OrgId {
    pub const MAX_LEN: usize = 128;

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for OrgId {
    type Err = CodeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let allowed = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-');
        if s.is_empty() || s.len() > Self::MAX_LEN || !s.bytes().all(allowed) {
            return Err(CodeError::new(CodeKind::OrgId, s));
        }
        Ok(Self(s.to_owned()))
    }
}

string_serde!(OrgId);

impl PartialSchema for OrgId {
    fn schema() -> RefOr<Schema> {
        crate::schema::string(
            "Provider organisation id.",
            "^[A-Za-z0-9._:-]{1,128}$",
            "org:cyber-academy",
        )
    }
}
impl ToSchema for OrgId {}

/// The caller's role with the claims that bind it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(tag = "role", rename_all = "snake_case")]
pub enum Role {
    /// A state's focal point, bound to its country.
    State { country: CountryCode },
    /// A provider organisation's user, bound to the organisation and its type.
    Provider { org: OrgId, org_type: ProviderType },
    /// Sees everything, curates partnerships, may post on a state's behalf.
    Coordinator,
    /// Operates the platform (taxonomy, audit); no say over needs or offers.
    Admin,
    /// Another capmatch service reading internal feeds.
    Service,
}

impl Role {
    /// The `role` claim value.
    pub fn name(&self) -> &'static str {
        match self {
            Self::State { .. } => "state",
            Self::Provider { .. } => "provider",
            Self::Coordinator => "coordinator",
            Self::Admin => "admin",
            Self::Service => "service",
        }
    }

    /// The country a state actor speaks for.
    pub fn country(&self) -> Option<&CountryCode> {
        match self {
            Self::State { country } => Some(country),
            _ => None,
        }
    }

    /// The organisation a provider actor acts for.
    pub fn org(&self) -> Option<&OrgId> {
        match self {
            Self::Provider { org, .. } => Some(org),
            _ => None,
        }
    }

    pub fn is_coordinator(&self) -> bool {
        matches!(self, Self::Coordinator)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub struct Actor {
    /// The token's `sub`: recorded on every event so the history says who did it.
    pub subject: String,
    #[serde(flatten)]
    pub role: Role,
}

impl Actor {
    pub fn new(subject: impl Into<String>, role: Role) -> Self {
        Self {
            subject: subject.into(),
            role,
        }
    }
}
