//! The development secret: random, 0600, round-trips, refuses loose permissions.

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use capmatch_auth::{AuthConfig, DevSecret, DevSecretError, KeySource, TokenSigner, Verifier};
use capmatch_domain::actor::{Actor, Role};

use crate::helpers::{AUDIENCE, ISSUER};

#[test]
fn generated_secrets_are_32_random_bytes() {
    let a = DevSecret::generate().expect("a secret");
    let b = DevSecret::generate().expect("a secret");
    assert_eq!(a.as_bytes().len(), 32);
    assert_ne!(a, b);
    assert!(!format!("{a:?}").contains(&format!("{:?}", a.as_bytes())));
}

#[test]
fn a_saved_secret_is_owner_only_and_loads_back() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("dev.secret");
    let secret = DevSecret::generate().expect("a secret");
    secret.save(&path).expect("saved");
    let mode = std::fs::metadata(&path)
        .expect("metadata")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    assert_eq!(DevSecret::load(&path).expect("loaded"), secret);
    assert_eq!(
        std::fs::read_dir(dir.path()).expect("listing").count(),
        1,
        "no temp file left"
    );
}

#[test]
fn a_secret_file_others_can_read_is_refused() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("dev.secret");
    DevSecret::generate()
        .expect("a secret")
        .save(&path)
        .expect("saved");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    assert!(matches!(
        DevSecret::load(&path),
        Err(DevSecretError::InsecurePermissions { .. })
    ));
}

#[test]
fn a_short_or_garbled_secret_file_is_refused() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("dev.secret");
    std::fs::write(&path, "abcd\n").expect("written");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    assert!(matches!(
        DevSecret::load(&path),
        Err(DevSecretError::TooShort { len: 2 })
    ));
    std::fs::write(&path, "not hex at all").expect("written");
    assert!(matches!(
        DevSecret::load(&path),
        Err(DevSecretError::NotHex { .. })
    ));
}

#[test]
fn load_or_generate_creates_once_then_reuses() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("dev.secret");
    let first = DevSecret::load_or_generate(&path).expect("generated");
    let second = DevSecret::load_or_generate(&path).expect("loaded");
    assert_eq!(first, second);
}

#[test]
fn serve_and_token_share_the_secret_file() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("dev.secret");
    let secret = DevSecret::load_or_generate(&path).expect("generated");

    // `capmatch token` signs with the file's secret...
    let token = TokenSigner::from_dev_secret(&secret, ISSUER, AUDIENCE)
        .mint(
            &Actor::new("dev", Role::Coordinator),
            Duration::from_secs(60),
        )
        .expect("a token");

    // ...and `capmatch serve` verifies with it, from memory or from the file.
    let in_memory = Verifier::new(AuthConfig::development(ISSUER, AUDIENCE, &secret)).expect("ok");
    assert_eq!(
        in_memory.verify(&token).map(|a| a.subject),
        Ok("dev".to_owned())
    );
    let mut from_file = AuthConfig::development(ISSUER, AUDIENCE, &secret);
    from_file.keys = vec![KeySource::Hs256File { kid: None, path }];
    let from_file = Verifier::new(from_file).expect("ok");
    assert_eq!(
        from_file.verify(&token).map(|a| a.subject),
        Ok("dev".to_owned())
    );
}
