//! Configurations that would verify unsafely are refused at startup.

use capmatch_auth::{Algorithm, AuthConfig, AuthConfigError, KeySource, Secret, Verifier};

use crate::helpers::*;

fn hs(kid: Option<&str>, secret: &[u8]) -> KeySource {
    KeySource::Hs256 {
        kid: kid.map(str::to_owned),
        secret: Secret::new(secret),
    }
}

#[test]
fn a_short_hmac_secret_is_a_config_error() {
    let err = Verifier::new(config(&[Algorithm::HS256], vec![hs(None, b"too-short")]))
        .expect_err("refused");
    assert!(
        matches!(err, AuthConfigError::SecretTooShort { len: 9, .. }),
        "{err:?}"
    );
    assert!(capmatch_auth::TokenSigner::hs256(b"short", ISSUER, AUDIENCE).is_err());
}

#[test]
fn a_key_whose_algorithm_is_not_pinned_is_a_config_error() {
    let err = Verifier::new(config(
        &[Algorithm::HS256],
        vec![pem_file("pem-rsa", Algorithm::RS256, "rsa_public.pem")],
    ))
    .expect_err("refused");
    assert!(
        matches!(err, AuthConfigError::AlgorithmNotAllowed { .. }),
        "{err:?}"
    );
}

#[test]
fn kids_must_be_unique_and_present_when_there_are_several_keys() {
    let err = Verifier::new(config(
        &[Algorithm::HS256],
        vec![hs(Some("a"), SECRET), hs(Some("a"), SECRET)],
    ))
    .expect_err("refused");
    assert!(
        matches!(err, AuthConfigError::DuplicateKid(ref k) if k == "a"),
        "{err:?}"
    );

    let err = Verifier::new(config(
        &[Algorithm::HS256],
        vec![hs(Some("a"), SECRET), hs(None, SECRET)],
    ))
    .expect_err("refused");
    assert!(matches!(err, AuthConfigError::MissingKid { .. }), "{err:?}");
}

#[test]
fn empty_settings_are_config_errors() {
    let mut c = config(&[Algorithm::HS256], vec![hs(None, SECRET)]);
    c.issuer = " ".into();
    assert!(matches!(
        Verifier::new(c),
        Err(AuthConfigError::EmptyIssuer)
    ));
    let mut c = config(&[Algorithm::HS256], vec![hs(None, SECRET)]);
    c.audience = String::new();
    assert!(matches!(
        Verifier::new(c),
        Err(AuthConfigError::EmptyAudience)
    ));
    let c = config(&[], vec![hs(None, SECRET)]);
    assert!(matches!(
        Verifier::new(c),
        Err(AuthConfigError::NoAlgorithms)
    ));
    let c = config(&[Algorithm::HS256], vec![]);
    assert!(matches!(Verifier::new(c), Err(AuthConfigError::NoKeys)));
}

#[test]
fn unreadable_or_wrong_keys_are_config_errors() {
    let err = Verifier::new(config(
        &[Algorithm::RS256],
        vec![KeySource::PemFile {
            kid: None,
            algorithm: Algorithm::RS256,
            path: key_path("missing.pem"),
        }],
    ))
    .expect_err("refused");
    assert!(matches!(err, AuthConfigError::ReadKey { .. }), "{err:?}");

    let err = Verifier::new(config(
        &[Algorithm::ES256],
        vec![pem_file("k", Algorithm::ES256, "rsa_public.pem")],
    ))
    .expect_err("refused");
    assert!(matches!(err, AuthConfigError::InvalidKey { .. }), "{err:?}");

    let err = Verifier::new(config(
        &[Algorithm::HS256],
        vec![pem_file("k", Algorithm::HS256, "rsa_public.pem")],
    ))
    .expect_err("refused");
    assert!(
        matches!(err, AuthConfigError::AlgorithmMismatch { .. }),
        "{err:?}"
    );
}

#[test]
fn a_jwks_with_a_symmetric_key_is_a_config_error() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("jwks.json");
    std::fs::write(
        &path,
        r#"{"keys":[{"kty":"oct","kid":"s","k":"c2VjcmV0"}]}"#,
    )
    .expect("written");
    let err = Verifier::new(config(
        &[Algorithm::HS256],
        vec![KeySource::JwksFile { path }],
    ))
    .expect_err("refused");
    assert!(
        matches!(err, AuthConfigError::InvalidJwks { .. }),
        "{err:?}"
    );
}

#[test]
fn the_config_deserialises_from_a_document_and_never_prints_the_secret() {
    let doc = serde_json::json!({
        "issuer": ISSUER,
        "audience": AUDIENCE,
        "algorithms": ["HS256", "RS256"],
        "keys": [
            { "source": "hs256", "kid": "dev", "secret": "a-development-secret-of-32-bytes-or-more" },
            { "source": "pem_file", "kid": "r", "algorithm": "RS256", "path": key_path("rsa_public.pem") },
            { "source": "jwks_file", "path": key_path("jwks.json") },
        ],
    });
    let config: AuthConfig = serde_json::from_value(doc).expect("a config");
    assert_eq!(
        config.leeway_seconds,
        capmatch_auth::config::DEFAULT_LEEWAY_SECONDS
    );
    let printed = format!("{config:?}");
    assert!(!printed.contains("a-development-secret"), "{printed}");
    // The JWKS brings ES256 and EdDSA keys, which this document does not pin.
    assert!(matches!(
        Verifier::new(config),
        Err(AuthConfigError::AlgorithmNotAllowed { .. })
    ));

    let bad = serde_json::json!({
        "issuer": ISSUER, "audience": AUDIENCE, "algorithms": ["none"], "keys": [],
    });
    assert!(
        serde_json::from_value::<AuthConfig>(bad).is_err(),
        "alg none cannot be configured"
    );
}
