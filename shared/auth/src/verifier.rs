//! [`Verifier`]: checks a bearer token and returns the typed [`Actor`] it binds.
//!
//! In order: the header is parsed by hand first, so a token whose `alg` is not pinned
//! (including `none`) is refused before any key is touched; the key is chosen by `kid` (a
//! token may omit `kid` only when exactly one key is configured); the header's `alg` must be
//! the key's own algorithm; then `jsonwebtoken` checks the signature and `exp`/`nbf`/`iss`/`aud`
//! (all required, with `sub`); finally the role and its claims are parsed into an [`Actor`].

use std::fmt;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use capmatch_domain::actor::Actor;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, JwkSet, PublicKeyUse};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, Validation};
use serde::Deserialize;

use crate::claims::ActorClaims;
use crate::config::{AuthConfig, AuthConfigError, KeySource, MIN_HMAC_SECRET_LEN};
use crate::dev_secret::DevSecret;
use crate::error::AuthError;
use crate::remembered::Remembered;
use crate::signer::now;

/// Longest token considered; anything longer is refused before decoding.
pub const MAX_TOKEN_LEN: usize = 8 * 1024;

/// The bytes of a `token68` (RFC 9110 §11.2) as JWS compact serialisation uses them: letters,
/// digits, `-._~+/=`. Checked before a token is decoded; a remembered token passed already.
static TOKEN68: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric()
            || matches!(c, b'-' | b'.' | b'_' | b'~' | b'+' | b'/' | b'=');
        b += 1;
    }
    table
};

/// Verifies capmatch bearer tokens. Build once at startup; a clone is the same verifier (its
/// keys and the tokens it remembers are shared), so a process shares one (`web::Data`).
#[derive(Clone)]
pub struct Verifier(Arc<Rules>);

/// What a verifier holds.
struct Rules {
    keys: Vec<VerificationKey>,
    algorithms: Vec<Algorithm>,
    /// Tokens accepted before, until their `exp` (see `remembered`).
    remembered: Remembered,
}

struct VerificationKey {
    kid: Option<String>,
    algorithm: Algorithm,
    key: DecodingKey,
    /// Pinned to `algorithm`, with issuer, audience, leeway and required claims.
    validation: Validation,
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys: Vec<_> = self
            .0
            .keys
            .iter()
            .map(|k| (k.kid.as_deref().unwrap_or("-"), k.algorithm))
            .collect();
        f.debug_struct("Verifier")
            .field("keys", &keys)
            .field("algorithms", &self.0.algorithms)
            .finish()
    }
}

/// The part of the JOSE header read before any key is chosen.
#[derive(Deserialize)]
struct RawHeader {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    crit: Option<serde_json::Value>,
}

impl Verifier {
    /// Checks `config` and loads every key. Fails on anything that would make verification
    /// unsafe or ambiguous: no keys, short secrets, key algorithms not pinned, duplicate or
    /// missing kids, unreadable or invalid keys.
    pub fn new(config: AuthConfig) -> Result<Self, AuthConfigError> {
        if config.issuer.trim().is_empty() {
            return Err(AuthConfigError::EmptyIssuer);
        }
        if config.audience.trim().is_empty() {
            return Err(AuthConfigError::EmptyAudience);
        }
        if config.algorithms.is_empty() {
            return Err(AuthConfigError::NoAlgorithms);
        }

        let mut loaded = Vec::new();
        for source in &config.keys {
            load_source(source, &mut loaded)?;
        }
        if loaded.is_empty() {
            return Err(AuthConfigError::NoKeys);
        }

        let mut keys: Vec<VerificationKey> = Vec::with_capacity(loaded.len());
        for LoadedKey {
            label,
            kid,
            algorithm,
            key,
            ..
        } in loaded
        {
            if !config.algorithms.contains(&algorithm) {
                return Err(AuthConfigError::AlgorithmNotAllowed {
                    key: label,
                    algorithm,
                });
            }
            if key.family() != algorithm.family() {
                return Err(AuthConfigError::AlgorithmMismatch {
                    key: label,
                    algorithm,
                });
            }
            if let Some(kid) = &kid
                && keys.iter().any(|k| k.kid.as_ref() == Some(kid))
            {
                return Err(AuthConfigError::DuplicateKid(kid.clone()));
            }
            let mut validation = Validation::new(algorithm);
            validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
            validation.set_issuer(&[config.issuer.as_str()]);
            validation.set_audience(&[config.audience.as_str()]);
            validation.leeway = config.leeway_seconds;
            validation.validate_exp = true;
            validation.validate_nbf = true;
            validation.validate_aud = true;
            keys.push(VerificationKey {
                kid,
                algorithm,
                key,
                validation,
            });
        }
        if keys.len() > 1
            && let Some(pos) = keys.iter().position(|k| k.kid.is_none())
        {
            return Err(AuthConfigError::MissingKid {
                key: format!("#{}", pos + 1),
            });
        }
        Ok(Self(Arc::new(Rules {
            keys,
            algorithms: config.algorithms,
            remembered: Remembered::default(),
        })))
    }

    /// Whether `other` is this verifier (a clone of it): a verdict of one is the other's (see
    /// `extract::Caller`).
    pub fn same_as(&self, other: &Verifier) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// Whether `token` was accepted before and is remembered still: verifying it again is a
    /// lookup, not a signature check.
    pub fn remembers(&self, token: &str) -> bool {
        self.0.remembered.get(token, now()).is_some()
    }

    /// Verifies `token` (without the `Bearer ` prefix) and returns the actor it binds. A token
    /// accepted before is looked up until its `exp` instead of being checked again.
    pub fn verify(&self, token: &str) -> Result<Actor, AuthError> {
        if token.is_empty() || token.len() > MAX_TOKEN_LEN {
            return Err(AuthError::Malformed);
        }
        let at = now();
        if let Some(actor) = self.0.remembered.get(token, at) {
            return Ok(actor);
        }
        if !token.bytes().all(|b| TOKEN68[usize::from(b)]) {
            return Err(AuthError::Malformed);
        }
        let (actor, expires) = self.check(token)?;
        if let Some(expires) = expires {
            self.0.remembered.remember(token, &actor, expires, at);
        }
        Ok(actor)
    }

    /// The full check of `token`: the actor it binds and its `exp`, when that is a whole number.
    fn check(&self, token: &str) -> Result<(Actor, Option<u64>), AuthError> {
        let header = raw_header(token)?;
        let Ok(alg) = Algorithm::from_str(&header.alg) else {
            return Err(AuthError::AlgorithmNotAllowed(printable(&header.alg)));
        };
        if !self.0.algorithms.contains(&alg) {
            return Err(AuthError::AlgorithmNotAllowed(printable(&header.alg)));
        }
        if header.crit.is_some() {
            return Err(AuthError::UnsupportedCritical);
        }
        let key = match (&header.kid, self.0.keys.as_slice()) {
            (Some(kid), keys) => keys
                .iter()
                .find(|k| k.kid.as_deref() == Some(kid.as_str()))
                .ok_or(AuthError::UnknownKid)?,
            (None, [only]) => only,
            (None, _) => return Err(AuthError::MissingKid),
        };
        if key.algorithm != alg {
            return Err(AuthError::AlgorithmKeyMismatch);
        }
        let data = jsonwebtoken::decode::<ActorClaims>(token, &key.key, &key.validation)
            .map_err(|e| AuthError::from_jwt(&e))?;
        let actor = data.claims.actor()?;
        Ok((actor, data.claims.exp.and_then(|exp| exp.as_u64())))
    }
}

/// Decodes the JOSE header without trusting it.
fn raw_header(token: &str) -> Result<RawHeader, AuthError> {
    let mut parts = token.split('.');
    let (Some(header), Some(_payload), Some(_signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(AuthError::Malformed);
    };
    let bytes = URL_SAFE_NO_PAD
        .decode(header)
        .map_err(|_| AuthError::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| AuthError::Malformed)
}

/// An attacker-chosen `alg`, made safe to log.
fn printable(alg: &str) -> String {
    if alg.len() <= 16 && alg.bytes().all(|b| b.is_ascii_alphanumeric()) {
        alg.to_owned()
    } else {
        "(unprintable)".to_owned()
    }
}

struct LoadedKey {
    /// How the key is named in configuration errors (kid, path or position).
    label: String,
    kid: Option<String>,
    algorithm: Algorithm,
    key: DecodingKey,
}

fn load_source(source: &KeySource, out: &mut Vec<LoadedKey>) -> Result<(), AuthConfigError> {
    match source {
        KeySource::Hs256 { kid, secret } => {
            let label = label(kid.as_deref(), "inline HS256 secret");
            out.push(hmac_key(label, kid.clone(), secret.expose())?);
        }
        KeySource::Hs256File { kid, path } => {
            let secret = DevSecret::load(path)?;
            let label = label(kid.as_deref(), &path.display().to_string());
            out.push(hmac_key(label, kid.clone(), secret.as_bytes())?);
        }
        KeySource::Pem {
            kid,
            algorithm,
            pem,
        } => {
            let label = label(kid.as_deref(), "inline PEM");
            out.push(pem_key(label, kid.clone(), *algorithm, pem.as_bytes())?);
        }
        KeySource::PemFile {
            kid,
            algorithm,
            path,
        } => {
            let pem = read(path)?;
            let label = label(kid.as_deref(), &path.display().to_string());
            out.push(pem_key(label, kid.clone(), *algorithm, &pem)?);
        }
        KeySource::JwksFile { path } => load_jwks(path, out)?,
    }
    Ok(())
}

fn label(kid: Option<&str>, fallback: &str) -> String {
    match kid {
        Some(kid) => format!("kid {kid:?}"),
        None => fallback.to_owned(),
    }
}

fn read(path: &Path) -> Result<Vec<u8>, AuthConfigError> {
    std::fs::read(path).map_err(|source| AuthConfigError::ReadKey {
        path: path.to_owned(),
        source,
    })
}

fn hmac_key(
    label: String,
    kid: Option<String>,
    secret: &[u8],
) -> Result<LoadedKey, AuthConfigError> {
    if secret.len() < MIN_HMAC_SECRET_LEN {
        return Err(AuthConfigError::SecretTooShort {
            key: label,
            len: secret.len(),
        });
    }
    let key = DecodingKey::from_secret(secret);
    Ok(LoadedKey {
        label,
        kid,
        algorithm: Algorithm::HS256,
        key,
    })
}

fn pem_key(
    label: String,
    kid: Option<String>,
    algorithm: Algorithm,
    pem: &[u8],
) -> Result<LoadedKey, AuthConfigError> {
    let key = match algorithm.family() {
        AlgorithmFamily::Rsa => DecodingKey::from_rsa_pem(pem),
        AlgorithmFamily::Ec => DecodingKey::from_ec_pem(pem),
        AlgorithmFamily::Ed => DecodingKey::from_ed_pem(pem),
        AlgorithmFamily::Hmac => {
            return Err(AuthConfigError::AlgorithmMismatch {
                key: label,
                algorithm,
            });
        }
    };
    let key = key.map_err(|source| AuthConfigError::InvalidKey {
        key: label.clone(),
        source,
    })?;
    Ok(LoadedKey {
        label,
        kid,
        algorithm,
        key,
    })
}

fn load_jwks(path: &Path, out: &mut Vec<LoadedKey>) -> Result<(), AuthConfigError> {
    let invalid = |reason: String| AuthConfigError::InvalidJwks {
        path: path.to_owned(),
        reason,
    };
    let set: JwkSet =
        serde_json::from_slice(&read(path)?).map_err(|e| invalid(format!("not a JWK set: {e}")))?;
    for (index, jwk) in set.keys.iter().enumerate() {
        if jwk.common.public_key_use == Some(PublicKeyUse::Encryption) {
            continue;
        }
        let kid = jwk.common.key_id.clone();
        let label = match &kid {
            Some(kid) => format!("kid {kid:?} in {}", path.display()),
            None => format!("key #{} in {}", index + 1, path.display()),
        };
        let algorithm = match jwk.common.key_algorithm {
            Some(alg) => Algorithm::from_str(&alg.to_string())
                .map_err(|_| invalid(format!("{label}: algorithm {alg} is not a JWS algorithm")))?,
            None => match &jwk.algorithm {
                AlgorithmParameters::RSA(_) => Algorithm::RS256,
                AlgorithmParameters::EllipticCurve(p) if p.curve == EllipticCurve::P256 => {
                    Algorithm::ES256
                }
                AlgorithmParameters::EllipticCurve(p) if p.curve == EllipticCurve::P384 => {
                    Algorithm::ES384
                }
                AlgorithmParameters::OctetKeyPair(p) if p.curve == EllipticCurve::Ed25519 => {
                    Algorithm::EdDSA
                }
                _ => return Err(invalid(format!("{label}: cannot tell the key's algorithm"))),
            },
        };
        if matches!(jwk.algorithm, AlgorithmParameters::OctetKey(_))
            || algorithm.family() == AlgorithmFamily::Hmac
        {
            return Err(invalid(format!(
                "{label}: symmetric keys do not belong in a JWK set"
            )));
        }
        let curve_fits = match (&jwk.algorithm, algorithm) {
            (AlgorithmParameters::EllipticCurve(p), Algorithm::ES256) => {
                p.curve == EllipticCurve::P256
            }
            (AlgorithmParameters::EllipticCurve(p), Algorithm::ES384) => {
                p.curve == EllipticCurve::P384
            }
            (AlgorithmParameters::OctetKeyPair(p), Algorithm::EdDSA) => {
                p.curve == EllipticCurve::Ed25519
            }
            (AlgorithmParameters::RSA(_), alg) => alg.family() == AlgorithmFamily::Rsa,
            _ => false,
        };
        if !curve_fits {
            return Err(invalid(format!(
                "{label}: key type does not fit algorithm {algorithm:?}"
            )));
        }
        let key = DecodingKey::from_jwk(jwk).map_err(|source| AuthConfigError::InvalidKey {
            key: label.clone(),
            source,
        })?;
        out.push(LoadedKey {
            label,
            kid,
            algorithm,
            key,
        });
    }
    Ok(())
}
