//! [`TokenSource`]: the bearer token a service presents to a peer's internal feed — given as is,
//! or minted (and re-minted before it expires) by a [`TokenSigner`].

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use capmatch_auth::{AuthConfig, DevSecret, Secret, TokenSigner};
use capmatch_domain::actor::{Actor, Role};

use crate::config::ServiceTokenConfig;

/// How long a minted service token is valid.
const MINTED_TTL: Duration = Duration::from_secs(15 * 60);
/// A minted token is replaced once it has less than this left.
const REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);

/// Where service tokens come from. Cloneable; clones share the cached token.
#[derive(Clone)]
pub struct TokenSource(Arc<Inner>);

enum Inner {
    Static(Secret),
    Minted {
        signer: TokenSigner,
        actor: Actor,
        cached: Mutex<Option<(String, Instant)>>,
    },
}

impl fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &*self.0 {
            Inner::Static(_) => f.write_str("TokenSource::Static([redacted])"),
            Inner::Minted { actor, .. } => f
                .debug_struct("TokenSource::Minted")
                .field("subject", &actor.subject)
                .finish_non_exhaustive(),
        }
    }
}

/// A token could not be had.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("the static service token is not valid text")]
    NotText,
    #[error("cannot mint a service token")]
    Sign(#[from] capmatch_auth::SignError),
    #[error("cannot set up service token signing")]
    Config(#[from] capmatch_auth::AuthConfigError),
    #[error("cannot read the development secret")]
    DevSecret(#[from] capmatch_auth::DevSecretError),
}

impl TokenSource {
    /// A token used as given.
    pub fn fixed(token: impl Into<String>) -> Self {
        Self(Arc::new(Inner::Static(Secret::new(
            token.into().as_bytes(),
        ))))
    }

    /// Tokens minted by `signer` for a `service` actor named `subject` (e.g. `svc:needs`).
    pub fn minted(signer: TokenSigner, subject: impl Into<String>) -> Self {
        Self(Arc::new(Inner::Minted {
            signer,
            actor: Actor::new(subject, Role::Service),
            cached: Mutex::new(None),
        }))
    }

    /// The source a service's configuration names; minted tokens use the issuer and audience
    /// of the service's own `auth` configuration.
    pub fn from_config(
        config: &ServiceTokenConfig,
        auth: &AuthConfig,
        subject: &str,
    ) -> Result<Self, TokenError> {
        match config {
            ServiceTokenConfig::Static { token } => {
                let text = std::str::from_utf8(token.expose()).map_err(|_| TokenError::NotText)?;
                Ok(Self::fixed(text))
            }
            ServiceTokenConfig::Hs256 { secret } => {
                let signer = TokenSigner::hs256(secret.expose(), &auth.issuer, &auth.audience)?;
                Ok(Self::minted(signer, subject))
            }
            ServiceTokenConfig::Hs256File { path } => {
                let secret = DevSecret::load(path)?;
                let signer = TokenSigner::from_dev_secret(&secret, &auth.issuer, &auth.audience);
                Ok(Self::minted(signer, subject))
            }
        }
    }

    /// The token to send now.
    pub fn token(&self) -> Result<String, TokenError> {
        match &*self.0 {
            Inner::Static(secret) => std::str::from_utf8(secret.expose())
                .map(str::to_owned)
                .map_err(|_| TokenError::NotText),
            Inner::Minted {
                signer,
                actor,
                cached,
            } => {
                let mut cached = cached.lock().unwrap_or_else(PoisonError::into_inner);
                let now = Instant::now();
                if let Some((token, until)) = cached.as_ref()
                    && *until > now
                {
                    return Ok(token.clone());
                }
                let token = signer.mint(actor, MINTED_TTL)?;
                *cached = Some((token.clone(), now + (MINTED_TTL - REFRESH_MARGIN)));
                Ok(token)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"a-test-secret-that-is-long-enough-for-hs256";

    #[test]
    fn a_minted_token_is_a_service_token_and_is_reused_until_near_expiry() {
        let signer = TokenSigner::hs256(SECRET, "iss", "aud").expect("signer");
        let source = TokenSource::minted(signer, "svc:test");
        let first = source.token().expect("token");
        assert_eq!(source.token().expect("token"), first);
        let verifier = capmatch_auth::Verifier::new(AuthConfig {
            issuer: "iss".into(),
            audience: "aud".into(),
            algorithms: vec![capmatch_auth::Algorithm::HS256],
            leeway_seconds: 0,
            keys: vec![capmatch_auth::KeySource::Hs256 {
                kid: None,
                secret: Secret::new(SECRET),
            }],
        })
        .expect("verifier");
        let actor = verifier.verify(&first).expect("valid");
        assert_eq!(actor.role, Role::Service);
        assert!(!format!("{source:?}").contains(&first));
    }

    #[test]
    fn a_fixed_token_is_returned_as_given() {
        let source = TokenSource::fixed("abc.def.ghi");
        assert_eq!(source.token().expect("token"), "abc.def.ghi");
        assert!(!format!("{source:?}").contains("abc"));
    }
}
