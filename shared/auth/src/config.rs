//! [`AuthConfig`]: who issues tokens, for whom, with which algorithms and keys.
//!
//! In TOML (the service's configuration file):
//!
//! ```toml
//! [auth]
//! issuer = "https://auth.capmatch.dev"
//! audience = "capmatch"
//! algorithms = ["RS256", "EdDSA"]
//! leeway_seconds = 30
//!
//! [[auth.keys]]
//! source = "pem_file"
//! kid = "2026-01"
//! algorithm = "RS256"
//! path = "/etc/capmatch/keys/issuer-2026-01.pem"
//!
//! [[auth.keys]]
//! source = "jwks_file"
//! path = "/etc/capmatch/keys/issuer.jwks.json"
//! ```
//!
//! For development, one HS256 key: `source = "hs256_file"` with the path of a [`DevSecret`]
//! file, or `source = "hs256"` with the secret inline.
//!
//! [`DevSecret`]: crate::DevSecret

use std::fmt;
use std::path::PathBuf;

use jsonwebtoken::Algorithm;
use serde::Deserialize;

use crate::dev_secret::{DevSecret, DevSecretError};

/// Shortest HS256 secret accepted: 32 bytes (256 bits), the size of the HMAC output.
pub const MIN_HMAC_SECRET_LEN: usize = 32;

/// Default clock-skew allowance for `exp` and `nbf`.
pub const DEFAULT_LEEWAY_SECONDS: u64 = 30;

/// How tokens are verified. Deserialisable, so it can come from a configuration file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    /// The only accepted `iss`.
    pub issuer: String,
    /// The only accepted `aud` (a token's `aud` array must contain it).
    pub audience: String,
    /// Pinned algorithms: a token whose header `alg` is not listed is refused, whatever its
    /// key. Every key's algorithm must be listed.
    pub algorithms: Vec<Algorithm>,
    /// Clock-skew allowance for `exp` and `nbf`, in seconds.
    #[serde(default = "default_leeway")]
    pub leeway_seconds: u64,
    /// Where the verification keys come from. A token names its key by `kid`; only when a
    /// single key is configured may a token omit `kid`.
    pub keys: Vec<KeySource>,
}

fn default_leeway() -> u64 {
    DEFAULT_LEEWAY_SECONDS
}

impl AuthConfig {
    /// The development setup: one HS256 key from a [`DevSecret`], no `kid` needed.
    pub fn development(
        issuer: impl Into<String>,
        audience: impl Into<String>,
        secret: &DevSecret,
    ) -> Self {
        Self {
            issuer: issuer.into(),
            audience: audience.into(),
            algorithms: vec![Algorithm::HS256],
            leeway_seconds: DEFAULT_LEEWAY_SECONDS,
            keys: vec![KeySource::Hs256 {
                kid: None,
                secret: Secret::new(secret.as_bytes()),
            }],
        }
    }
}

/// One place verification keys come from.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum KeySource {
    /// An HS256 secret given inline (development only; at least 32 bytes).
    Hs256 {
        #[serde(default)]
        kid: Option<String>,
        secret: Secret,
    },
    /// An HS256 secret read from a [`DevSecret`] file (hex, mode 0600).
    Hs256File {
        #[serde(default)]
        kid: Option<String>,
        path: PathBuf,
    },
    /// A public key in PEM (SPKI `PUBLIC KEY`, or PKCS#1 `RSA PUBLIC KEY`) given inline.
    Pem {
        #[serde(default)]
        kid: Option<String>,
        algorithm: Algorithm,
        pem: String,
    },
    /// A public key in a PEM file.
    PemFile {
        #[serde(default)]
        kid: Option<String>,
        algorithm: Algorithm,
        path: PathBuf,
    },
    /// A JWK set file. Each key's `alg` (or, failing that, its key type and curve) fixes its
    /// algorithm; keys marked `"use": "enc"` are skipped; symmetric (`oct`) keys are refused.
    JwksFile { path: PathBuf },
}

/// Secret bytes that never appear in `Debug` output or logs.
#[derive(Clone, Deserialize)]
#[serde(from = "String")]
pub struct Secret(Vec<u8>);

impl Secret {
    /// Wraps secret bytes.
    pub fn new(bytes: &[u8]) -> Self {
        Self(bytes.to_vec())
    }

    /// The secret bytes.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value.into_bytes())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret([redacted; {} bytes])", self.0.len())
    }
}

/// A configuration that cannot verify tokens safely. Raised at startup, never per request.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthConfigError {
    #[error("auth issuer must not be empty")]
    EmptyIssuer,
    #[error("auth audience must not be empty")]
    EmptyAudience,
    #[error("auth algorithms must list at least one algorithm")]
    NoAlgorithms,
    #[error("auth keys must list at least one key")]
    NoKeys,
    #[error("HS256 secret {key} is {len} bytes; at least {MIN_HMAC_SECRET_LEN} are required")]
    SecretTooShort { key: String, len: usize },
    #[error("key {key} uses {algorithm:?}, which is not in the allowed algorithms")]
    AlgorithmNotAllowed { key: String, algorithm: Algorithm },
    #[error("key {key}: {algorithm:?} cannot be used with this kind of key")]
    AlgorithmMismatch { key: String, algorithm: Algorithm },
    #[error("kid {0:?} is used by more than one key")]
    DuplicateKid(String),
    #[error("key {key} has no kid; with more than one key every key needs a kid")]
    MissingKid { key: String },
    #[error("cannot read key file {path}")]
    ReadKey {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("key {key} is not a valid key")]
    InvalidKey {
        key: String,
        #[source]
        source: jsonwebtoken::errors::Error,
    },
    #[error("JWK set {path} is invalid: {reason}")]
    InvalidJwks { path: PathBuf, reason: String },
    #[error("cannot load the development secret")]
    DevSecret(#[from] DevSecretError),
}
