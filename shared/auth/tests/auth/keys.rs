//! RS256, ES256 and EdDSA from PEM files and from a JWK set; kid selection.

use std::time::Duration;

use capmatch_auth::{Algorithm, KeySource, Verifier};
use capmatch_domain::actor::{Actor, Role};

use crate::helpers::*;

fn admin() -> Actor {
    Actor::new("ops-1", Role::Admin)
}

const ASYMMETRIC: [(Algorithm, &str, &str); 3] = [
    (Algorithm::RS256, "rsa_private.pem", "rsa"),
    (Algorithm::ES256, "ec_private.pem", "ec"),
    (Algorithm::EdDSA, "ed_private.pem", "ed"),
];

#[actix_web::test]
async fn pem_public_keys_verify_tokens_chosen_by_kid() {
    for (algorithm, private, name) in ASYMMETRIC {
        let signer = pem_signer(algorithm, private, &format!("pem-{name}"));
        let token = signer
            .mint(&admin(), Duration::from_secs(60))
            .expect("a token");
        assert_eq!(pem_verifier().verify(&token), Ok(admin()), "{algorithm:?}");

        let reply = call_with_token(pem_verifier(), &token).await;
        assert_eq!(reply.status.as_u16(), 200, "{algorithm:?}: {}", reply.body);
    }
}

#[actix_web::test]
async fn a_jwks_file_verifies_tokens_chosen_by_kid() {
    let verifier = || {
        Verifier::new(config(
            &[Algorithm::RS256, Algorithm::ES256, Algorithm::EdDSA],
            vec![KeySource::JwksFile {
                path: key_path("jwks.json"),
            }],
        ))
        .expect("a valid config")
    };
    for (algorithm, private, name) in ASYMMETRIC {
        let signer = pem_signer(algorithm, private, &format!("jwks-{name}"));
        let token = signer
            .mint(&admin(), Duration::from_secs(60))
            .expect("a token");
        assert_eq!(verifier().verify(&token), Ok(admin()), "{algorithm:?}");

        let reply = call_with_token(verifier(), &token).await;
        assert_eq!(reply.status.as_u16(), 200, "{algorithm:?}: {}", reply.body);
    }
}

#[actix_web::test]
async fn a_single_key_is_used_for_a_token_without_kid() {
    for (algorithm, private, name) in ASYMMETRIC {
        let public = format!("{name}_public.pem");
        let verifier = Verifier::new(config(
            &[algorithm],
            vec![KeySource::PemFile {
                kid: None,
                algorithm,
                path: key_path(&public),
            }],
        ))
        .expect("a valid config");
        let signer =
            capmatch_auth::TokenSigner::from_pem(algorithm, &read_key(private), ISSUER, AUDIENCE)
                .expect("a signer");
        let token = signer
            .mint(&admin(), Duration::from_secs(60))
            .expect("a token");
        assert_eq!(verifier.verify(&token), Ok(admin()), "{algorithm:?}");
    }
}

#[actix_web::test]
async fn inline_pem_and_jwks_and_hmac_keys_can_be_combined() {
    let verifier = Verifier::new(config(
        &[
            Algorithm::HS256,
            Algorithm::RS256,
            Algorithm::ES256,
            Algorithm::EdDSA,
        ],
        vec![
            KeySource::Hs256 {
                kid: Some("dev".into()),
                secret: capmatch_auth::Secret::new(SECRET),
            },
            KeySource::Pem {
                kid: Some("inline-ec".into()),
                algorithm: Algorithm::ES256,
                pem: String::from_utf8(read_key("ec_public.pem")).expect("utf-8"),
            },
            KeySource::JwksFile {
                path: key_path("jwks.json"),
            },
        ],
    ))
    .expect("a valid config");
    let hs = hs_signer()
        .with_kid("dev")
        .mint(&admin(), Duration::from_secs(60))
        .expect("a token");
    assert_eq!(verifier.verify(&hs), Ok(admin()));
    let ec = pem_signer(Algorithm::ES256, "ec_private.pem", "inline-ec")
        .mint(&admin(), Duration::from_secs(60))
        .expect("a token");
    assert_eq!(verifier.verify(&ec), Ok(admin()));
    let ed = pem_signer(Algorithm::EdDSA, "ed_private.pem", "jwks-ed")
        .mint(&admin(), Duration::from_secs(60))
        .expect("a token");
    assert_eq!(verifier.verify(&ed), Ok(admin()));
}
