//! The claims capmatch tokens carry and their conversion into a typed [`Actor`].
//!
//! | claim | required | meaning |
//! |---|---|---|
//! | `sub` | always | who; recorded on every event |
//! | `role` | always | `state`, `provider`, `coordinator`, `admin` or `service` |
//! | `exp`, `iss`, `aud` | always | validity window, issuer, audience |
//! | `country` | role `state` | ISO 3166-1 alpha-2 of the state |
//! | `org`, `org_type` | role `provider` | the organisation and its provider type |

use std::str::FromStr;

use capmatch_domain::actor::{Actor, OrgId, Role};
use capmatch_domain::codes::{CountryCode, ProviderType};
use serde::{Deserialize, Serialize};

use crate::error::AuthError;

/// Longest `sub` accepted; it is stored on events and shown in histories.
pub const MAX_SUBJECT_LEN: usize = 256;

/// A capmatch token's claims, as signed by [`TokenSigner`](crate::TokenSigner).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub role: String,
    pub iss: String,
    pub aud: String,
    /// Expiry, seconds since the Unix epoch.
    pub exp: u64,
    /// Issued at, seconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<u64>,
    /// Not before, seconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_type: Option<String>,
}

impl Claims {
    /// The claims binding `actor`, valid from `now` (Unix seconds) for `ttl_seconds`.
    pub fn for_actor(
        actor: &Actor,
        issuer: impl Into<String>,
        audience: impl Into<String>,
        now: u64,
        ttl_seconds: u64,
    ) -> Self {
        let (country, org, org_type) = match &actor.role {
            Role::State { country } => (Some(country.as_str().to_owned()), None, None),
            Role::Provider { org, org_type } => (
                None,
                Some(org.as_str().to_owned()),
                Some(org_type.as_str().to_owned()),
            ),
            Role::Coordinator | Role::Admin | Role::Service => (None, None, None),
        };
        Self {
            sub: actor.subject.clone(),
            role: actor.role.name().to_owned(),
            iss: issuer.into(),
            aud: audience.into(),
            exp: now.saturating_add(ttl_seconds),
            iat: Some(now),
            nbf: None,
            country,
            org,
            org_type,
        }
    }

    /// The typed actor these claims bind, with the same checks as verification.
    pub fn actor(&self) -> Result<Actor, AuthError> {
        actor_from_claims(
            Some(&self.sub),
            Some(&self.role),
            self.country.as_deref(),
            self.org.as_deref(),
            self.org_type.as_deref(),
        )
    }
}

/// The claims read from a verified token: only what binds the actor (the registered claims are
/// checked by `jsonwebtoken`'s validation), all optional so a missing one is named in the error.
#[derive(Debug, Deserialize)]
pub(crate) struct ActorClaims {
    #[serde(default)]
    pub sub: Option<String>,
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default)]
    pub country: Option<String>,
    #[serde(default)]
    pub org: Option<String>,
    #[serde(default)]
    pub org_type: Option<String>,
    /// Checked by `jsonwebtoken`; read here to know how long the token may be remembered.
    #[serde(default)]
    pub exp: Option<serde_json::Number>,
}

impl ActorClaims {
    pub(crate) fn actor(&self) -> Result<Actor, AuthError> {
        actor_from_claims(
            self.sub.as_deref(),
            self.role.as_deref(),
            self.country.as_deref(),
            self.org.as_deref(),
            self.org_type.as_deref(),
        )
    }
}

/// Builds the typed actor from raw claim values: `sub` and `role` required, role-specific
/// claims required and parsed, unknown roles refused.
pub fn actor_from_claims(
    sub: Option<&str>,
    role: Option<&str>,
    country: Option<&str>,
    org: Option<&str>,
    org_type: Option<&str>,
) -> Result<Actor, AuthError> {
    let sub = sub.ok_or(AuthError::MissingClaim("sub"))?;
    if sub.is_empty() || sub.len() > MAX_SUBJECT_LEN || sub.chars().any(char::is_control) {
        return Err(AuthError::InvalidClaim("sub"));
    }
    let role = match role.ok_or(AuthError::MissingClaim("role"))? {
        "state" => {
            let country = country.ok_or(AuthError::MissingClaim("country"))?;
            let country =
                CountryCode::from_str(country).map_err(|_| AuthError::InvalidClaim("country"))?;
            Role::State { country }
        }
        "provider" => {
            let org = org.ok_or(AuthError::MissingClaim("org"))?;
            let org_type = org_type.ok_or(AuthError::MissingClaim("org_type"))?;
            Role::Provider {
                org: OrgId::from_str(org).map_err(|_| AuthError::InvalidClaim("org"))?,
                org_type: ProviderType::from_str(org_type)
                    .map_err(|_| AuthError::InvalidClaim("org_type"))?,
            }
        }
        "coordinator" => Role::Coordinator,
        "admin" => Role::Admin,
        "service" => Role::Service,
        _ => return Err(AuthError::UnknownRole),
    };
    Ok(Actor::new(sub, role))
}
