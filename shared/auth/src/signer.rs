//! [`TokenSigner`]: mints tokens for development (`capmatch token`) and tests. Production
//! tokens come from the real issuer; services never sign.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use capmatch_domain::actor::Actor;
use jsonwebtoken::{Algorithm, AlgorithmFamily, EncodingKey, Header};
use serde::Serialize;

use crate::claims::Claims;
use crate::config::{AuthConfigError, MIN_HMAC_SECRET_LEN};
use crate::dev_secret::DevSecret;

/// Signs capmatch tokens with one key, for one issuer and audience.
pub struct TokenSigner {
    algorithm: Algorithm,
    key: EncodingKey,
    kid: Option<String>,
    issuer: String,
    audience: String,
}

impl fmt::Debug for TokenSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSigner")
            .field("algorithm", &self.algorithm)
            .field("kid", &self.kid)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

/// A token could not be signed.
#[derive(Debug, thiserror::Error)]
#[error("cannot sign the token")]
pub struct SignError(#[from] jsonwebtoken::errors::Error);

impl TokenSigner {
    /// HS256 with `secret` (at least 32 bytes).
    pub fn hs256(
        secret: &[u8],
        issuer: impl Into<String>,
        audience: impl Into<String>,
    ) -> Result<Self, AuthConfigError> {
        if secret.len() < MIN_HMAC_SECRET_LEN {
            return Err(AuthConfigError::SecretTooShort {
                key: "signing secret".to_owned(),
                len: secret.len(),
            });
        }
        Ok(Self::with_key(
            Algorithm::HS256,
            EncodingKey::from_secret(secret),
            issuer,
            audience,
        ))
    }

    /// HS256 with the development secret.
    pub fn from_dev_secret(
        secret: &DevSecret,
        issuer: impl Into<String>,
        audience: impl Into<String>,
    ) -> Self {
        Self::with_key(
            Algorithm::HS256,
            EncodingKey::from_secret(secret.as_bytes()),
            issuer,
            audience,
        )
    }

    /// An asymmetric algorithm (RS*, PS*, ES*, EdDSA) with a PKCS#8 (or PKCS#1 for RSA) private
    /// key in PEM.
    pub fn from_pem(
        algorithm: Algorithm,
        private_pem: &[u8],
        issuer: impl Into<String>,
        audience: impl Into<String>,
    ) -> Result<Self, AuthConfigError> {
        let key = match algorithm.family() {
            AlgorithmFamily::Rsa => EncodingKey::from_rsa_pem(private_pem),
            AlgorithmFamily::Ec => EncodingKey::from_ec_pem(private_pem),
            AlgorithmFamily::Ed => EncodingKey::from_ed_pem(private_pem),
            AlgorithmFamily::Hmac => {
                return Err(AuthConfigError::AlgorithmMismatch {
                    key: "signing key".to_owned(),
                    algorithm,
                });
            }
        }
        .map_err(|source| AuthConfigError::InvalidKey {
            key: "signing key".to_owned(),
            source,
        })?;
        Ok(Self::with_key(algorithm, key, issuer, audience))
    }

    /// An HMAC algorithm other than HS256 (HS384, HS512): for tests that need a token the
    /// verifier must refuse.
    pub fn hmac(
        algorithm: Algorithm,
        secret: &[u8],
        issuer: impl Into<String>,
        audience: impl Into<String>,
    ) -> Result<Self, AuthConfigError> {
        if algorithm.family() != AlgorithmFamily::Hmac {
            return Err(AuthConfigError::AlgorithmMismatch {
                key: "signing secret".to_owned(),
                algorithm,
            });
        }
        let signer = Self::hs256(secret, issuer, audience)?;
        Ok(Self {
            algorithm,
            ..signer
        })
    }

    fn with_key(
        algorithm: Algorithm,
        key: EncodingKey,
        issuer: impl Into<String>,
        audience: impl Into<String>,
    ) -> Self {
        Self {
            algorithm,
            key,
            kid: None,
            issuer: issuer.into(),
            audience: audience.into(),
        }
    }

    /// Puts `kid` in the header of every token.
    pub fn with_kid(mut self, kid: impl Into<String>) -> Self {
        self.kid = Some(kid.into());
        self
    }

    /// The signing algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The claims [`mint`](Self::mint) would sign for `actor`, valid for `ttl` from now.
    pub fn claims(&self, actor: &Actor, ttl: Duration) -> Claims {
        Claims::for_actor(actor, &self.issuer, &self.audience, now(), ttl.as_secs())
    }

    /// A token binding `actor`, valid for `ttl` from now.
    pub fn mint(&self, actor: &Actor, ttl: Duration) -> Result<String, SignError> {
        self.sign(&self.claims(actor, ttl))
    }

    /// Signs arbitrary claims as given (no `iss`/`aud`/`exp` added): tests use it to build
    /// tokens with missing or wrong claims.
    pub fn sign<T: Serialize>(&self, claims: &T) -> Result<String, SignError> {
        let mut header = Header::new(self.algorithm);
        header.kid = self.kid.clone();
        Ok(jsonwebtoken::encode(&header, claims, &self.key)?)
    }
}

/// Seconds since the Unix epoch (0 if the clock is before it).
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
