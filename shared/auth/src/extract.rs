//! Actix extractors: who is calling.
//!
//! - [`Caller`]: `Anonymous` without an `Authorization` header, `Authenticated(actor)` with a
//!   valid bearer token; a header that is present but bad is a 401 problem (with
//!   `WWW-Authenticate: Bearer error="invalid_token"`), never a silent downgrade to anonymous.
//! - [`Authenticated`]: like `Caller`, but anonymous is a 401 too.
//! - [`ServiceCaller`]: internal endpoints: role `service`, else 403; anonymous 401.
//!
//! The [`Verifier`] is looked up in app data as `web::Data<Verifier>`. Why a token was refused
//! is logged (at info level, without the token); the body never says.

use std::fmt;
use std::future::{Ready, ready};

use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use capmatch_domain::actor::{Actor, Role};
use capmatch_http::ApiError;

use crate::error::AuthError;
use crate::verifier::Verifier;

/// A role without the claims that bind it, for [`Caller::require_role`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RoleKind {
    State,
    Provider,
    Coordinator,
    Admin,
    Service,
}

impl RoleKind {
    /// The kind of `role`.
    pub fn of(role: &Role) -> Self {
        match role {
            Role::State { .. } => Self::State,
            Role::Provider { .. } => Self::Provider,
            Role::Coordinator => Self::Coordinator,
            Role::Admin => Self::Admin,
            Role::Service => Self::Service,
        }
    }

    /// The `role` claim value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::State => "state",
            Self::Provider => "provider",
            Self::Coordinator => "coordinator",
            Self::Admin => "admin",
            Self::Service => "service",
        }
    }
}

impl fmt::Display for RoleKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The caller of a request: anonymous, or the actor a valid bearer token binds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    Anonymous,
    Authenticated(Actor),
}

impl Caller {
    /// The actor, if authenticated.
    pub fn actor(&self) -> Option<&Actor> {
        match self {
            Self::Anonymous => None,
            Self::Authenticated(actor) => Some(actor),
        }
    }

    /// The actor, consuming the caller.
    pub fn into_actor(self) -> Option<Actor> {
        match self {
            Self::Anonymous => None,
            Self::Authenticated(actor) => Some(actor),
        }
    }

    /// True without a token.
    pub fn is_anonymous(&self) -> bool {
        matches!(self, Self::Anonymous)
    }

    /// The actor, or 401 `unauthenticated` for an anonymous caller.
    pub fn require(&self) -> Result<&Actor, ApiError> {
        self.actor().ok_or_else(ApiError::unauthenticated)
    }

    /// The actor if its role is one of `roles`: 401 when anonymous, 403 `forbidden` otherwise.
    pub fn require_role(&self, roles: &[RoleKind]) -> Result<&Actor, ApiError> {
        let actor = self.require()?;
        if roles.contains(&RoleKind::of(&actor.role)) {
            Ok(actor)
        } else {
            Err(ApiError::forbidden(format!(
                "The {} role may not perform this operation.",
                actor.role.name()
            )))
        }
    }

    /// Whether `req` carries one bearer token that its verifier has accepted before and still
    /// remembers, so reading the caller costs a lookup rather than a signature check. False
    /// without a token, or without a verifier.
    pub fn has_remembered_token(req: &HttpRequest) -> bool {
        let mut values = req.headers().get_all(header::AUTHORIZATION);
        let (Some(value), None) = (values.next(), values.next()) else {
            return false;
        };
        let Some(verifier) = req.app_data::<web::Data<Verifier>>() else {
            return false;
        };
        bearer_token(value.as_bytes()).is_some_and(|token| verifier.remembers(token))
    }

    /// Reads the caller from a request: no header → anonymous; a bad header or token → 401;
    /// a header but no verifier in app data → 500 (a wiring bug, logged).
    ///
    /// A token accepted once in a request (say at the gateway's edge, then by the handler of the
    /// service it mounted) is not checked again in it by the same verifier.
    pub fn from_request_sync(req: &HttpRequest) -> Result<Self, ApiError> {
        let mut values = req.headers().get_all(header::AUTHORIZATION);
        let Some(value) = values.next() else {
            return Ok(Self::Anonymous);
        };
        let Some(verifier) = req.app_data::<web::Data<Verifier>>() else {
            tracing::error!("no web::Data<Verifier> in app data; cannot check bearer tokens");
            return Err(ApiError::internal(
                "capmatch-auth: Verifier missing from app data",
            ));
        };
        let single = values.next().is_none();
        if single
            && let Some(verdict) = req.extensions().get::<Verdict>()
            && verdict.verifier.same_as(verifier)
            && verdict.header == value
        {
            return Ok(Self::Authenticated(verdict.actor.clone()));
        }
        let token = match (single, bearer_token(value.as_bytes())) {
            (true, Some(token)) => token,
            _ => return Err(refuse(&AuthError::MalformedHeader)),
        };
        match verifier.verify(token) {
            Ok(actor) => {
                req.extensions_mut().insert(Verdict {
                    verifier: Verifier::clone(verifier),
                    header: value.clone(),
                    actor: actor.clone(),
                });
                Ok(Self::Authenticated(actor))
            }
            Err(err) => Err(refuse(&err)),
        }
    }
}

/// A token accepted in this request: by which verifier, from which `Authorization` header, and
/// the actor it binds. Refusals are not kept (they end the request anyway).
#[derive(Debug)]
struct Verdict {
    verifier: Verifier,
    header: header::HeaderValue,
    actor: Actor,
}

/// `Bearer <token68>` (scheme case-insensitive), or `None`.
fn bearer_token(value: &[u8]) -> Option<&str> {
    let value = std::str::from_utf8(value).ok()?;
    let (scheme, token) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let token = token.trim_start_matches(' ');
    // Its characters are the verifier's to check, once it has not seen the token before.
    (!token.is_empty()).then_some(token)
}

/// The one 401 every refusal gets; the reason goes to the log only.
fn refuse(reason: &AuthError) -> ApiError {
    tracing::info!(reason = %reason, "bearer token refused");
    ApiError::invalid_token()
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        ready(Self::from_request_sync(req))
    }
}

/// An authenticated caller of any role; anonymous is a 401.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticated(pub Actor);

impl FromRequest for Authenticated {
    type Error = ApiError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        ready(match Caller::from_request_sync(req) {
            Ok(Caller::Authenticated(actor)) => Ok(Self(actor)),
            Ok(Caller::Anonymous) => Err(ApiError::unauthenticated()),
            Err(err) => Err(err),
        })
    }
}

/// A caller with role `service`, for internal endpoints (event feeds): anonymous is a 401,
/// any other role a 403.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceCaller(pub Actor);

impl FromRequest for ServiceCaller {
    type Error = ApiError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        ready(Caller::from_request_sync(req).and_then(|caller| {
            caller.require_role(&[RoleKind::Service])?;
            Ok(Self(
                caller.into_actor().ok_or_else(ApiError::unauthenticated)?,
            ))
        }))
    }
}
