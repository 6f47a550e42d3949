//! JWT verification for every capmatch service: each service checks the caller's
//! token itself.
//!
//! - [`config`]: [`AuthConfig`] — issuer, audience, pinned algorithms, leeway, and key
//!   sources (HS256 secret for development; RS/PS/ES/EdDSA public keys from PEM or a JWK set,
//!   chosen by `kid`). Deserialisable from the service's TOML.
//! - [`verifier`]: [`Verifier::new`] checks the configuration once; [`Verifier::verify`] turns
//!   a token into a typed [`Actor`](capmatch_domain::actor::Actor) or an [`AuthError`],
//!   remembering accepted tokens until they expire (`remembered`).
//! - [`claims`]: the wire [`Claims`] and the role rules (`state` needs `country`, `provider`
//!   needs `org` and `org_type`, unknown roles refused).
//! - [`extract`]: actix extractors [`Caller`], [`Authenticated`], [`ServiceCaller`]; every
//!   refusal is the same 401 problem from `capmatch-http`, the reason only in the log.
//! - [`signer`]: [`TokenSigner`] mints tokens for development and tests.
//! - [`dev_secret`]: [`DevSecret`], the random HS256 secret kept in a 0600 file for
//!   `capmatch serve` and `capmatch token`.
//! - [`error`]: [`AuthError`], why a token was refused (for logs).
//!
//! `jsonwebtoken` is re-exported so callers name algorithms with the same version.

pub mod claims;
pub mod config;
pub mod dev_secret;
pub mod error;
pub mod extract;
mod remembered;
pub mod signer;
pub mod verifier;

pub use claims::{Claims, actor_from_claims};
pub use config::{AuthConfig, AuthConfigError, KeySource, Secret};
pub use dev_secret::{DevSecret, DevSecretError, read_owner_only};
pub use error::AuthError;
pub use extract::{Authenticated, Caller, RoleKind, ServiceCaller};
pub use jsonwebtoken;
pub use jsonwebtoken::Algorithm;
pub use signer::{SignError, TokenSigner};
pub use verifier::Verifier;
