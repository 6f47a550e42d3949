//! Every bad token is refused: the reason is precise for the log, the 401 is the same for all.

use capmatch_auth::signer::now;
use capmatch_auth::{Algorithm, AuthError, TokenSigner, Verifier};
use serde_json::json;

use crate::helpers::*;

/// Asserts `verifier` refuses `token` for `reason`, and that the HTTP answer is the generic 401.
async fn assert_refused(make_verifier: fn() -> Verifier, token: &str, reason: AuthError) {
    assert_eq!(
        make_verifier().verify(token),
        Err(reason.clone()),
        "token: {token}"
    );
    let reply = call_with_token(make_verifier(), token).await;
    assert_generic_401(&reply);
}

#[actix_web::test]
async fn a_token_signed_with_another_secret_is_refused() {
    let other = TokenSigner::hs256(b"another-secret-of-at-least-32-bytes!!", ISSUER, AUDIENCE)
        .expect("a signer");
    let token = other.sign(&claims()).expect("a token");
    assert_refused(hs_verifier, &token, AuthError::BadSignature).await;
}

#[actix_web::test]
async fn a_tampered_payload_is_refused() {
    let token = hs_signer().sign(&claims()).expect("a token");
    let parts: Vec<&str> = token.split('.').collect();
    let forged = handmade(
        &json!({"alg": "HS256", "typ": "JWT"}),
        &claims_with(json!({"role": "admin"})),
        parts[2],
    );
    assert_refused(hs_verifier, &forged, AuthError::BadSignature).await;
}

#[actix_web::test]
async fn an_algorithm_that_is_not_pinned_is_refused() {
    let hs384 = TokenSigner::hmac(Algorithm::HS384, SECRET, ISSUER, AUDIENCE).expect("a signer");
    let token = hs384.sign(&claims()).expect("a token");
    assert_refused(
        hs_verifier,
        &token,
        AuthError::AlgorithmNotAllowed("HS384".into()),
    )
    .await;

    let rs256 = pem_signer(Algorithm::RS256, "rsa_private.pem", "pem-rsa");
    let token = rs256.sign(&claims()).expect("a token");
    assert_refused(
        hs_verifier,
        &token,
        AuthError::AlgorithmNotAllowed("RS256".into()),
    )
    .await;
}

#[actix_web::test]
async fn an_hs256_token_keyed_with_the_rsa_public_key_is_refused() {
    // The classic key-confusion attack: HMAC keyed with the verifier's public key bytes.
    let public = read_key("rsa_public.pem");
    let confused = TokenSigner::hs256(&public, ISSUER, AUDIENCE).expect("a signer");
    let token = confused.sign(&claims()).expect("a token");
    assert_refused(
        pem_verifier,
        &token,
        AuthError::AlgorithmNotAllowed("HS256".into()),
    )
    .await;
}

#[actix_web::test]
async fn alg_none_is_refused_in_every_spelling() {
    for alg in ["none", "None", "NONE", "nOnE"] {
        let token = handmade(&json!({"alg": alg, "typ": "JWT"}), &claims(), "");
        assert_refused(
            hs_verifier,
            &token,
            AuthError::AlgorithmNotAllowed(alg.into()),
        )
        .await;
    }
}

#[actix_web::test]
async fn a_token_with_an_hs256_header_and_no_signature_is_refused() {
    let token = handmade(&json!({"alg": "HS256"}), &claims(), "");
    assert_refused(hs_verifier, &token, AuthError::BadSignature).await;
}

#[actix_web::test]
async fn an_expired_token_is_refused() {
    let token = hs_signer()
        .sign(&claims_with(json!({"exp": now() - 3600})))
        .expect("a token");
    assert_refused(hs_verifier, &token, AuthError::Expired).await;
}

#[actix_web::test]
async fn a_token_not_valid_yet_is_refused() {
    let token = hs_signer()
        .sign(&claims_with(json!({"nbf": now() + 3600})))
        .expect("a token");
    assert_refused(hs_verifier, &token, AuthError::NotYetValid).await;
}

#[actix_web::test]
async fn a_wrong_audience_is_refused() {
    let token = hs_signer()
        .sign(&claims_with(json!({"aud": "someone-else"})))
        .expect("a token");
    assert_refused(hs_verifier, &token, AuthError::WrongAudience).await;
    let token = hs_signer()
        .sign(&claims_with(json!({"aud": ["a", "b"]})))
        .expect("a token");
    assert_refused(hs_verifier, &token, AuthError::WrongAudience).await;
}

#[actix_web::test]
async fn a_wrong_issuer_is_refused() {
    let token = hs_signer()
        .sign(&claims_with(json!({"iss": "https://evil.example"})))
        .expect("a token");
    assert_refused(hs_verifier, &token, AuthError::WrongIssuer).await;
}

#[actix_web::test]
async fn each_required_claim_is_required() {
    for claim in ["sub", "role", "exp", "iss", "aud"] {
        let token = hs_signer()
            .sign(&claims_with(json!({ claim: null })))
            .expect("a token");
        assert_refused(hs_verifier, &token, AuthError::MissingClaim(claim)).await;
    }
}

#[actix_web::test]
async fn an_empty_or_oversized_subject_is_refused() {
    for sub in [String::new(), "x".repeat(257), "line\nbreak".to_owned()] {
        let token = hs_signer()
            .sign(&claims_with(json!({ "sub": sub })))
            .expect("a token");
        assert_refused(hs_verifier, &token, AuthError::InvalidClaim("sub")).await;
    }
}

#[actix_web::test]
async fn a_state_token_needs_a_valid_country() {
    let token = hs_signer()
        .sign(&claims_with(json!({"role": "state"})))
        .expect("a token");
    assert_refused(hs_verifier, &token, AuthError::MissingClaim("country")).await;
    let token = hs_signer()
        .sign(&claims_with(json!({"role": "state", "country": "Q9"})))
        .expect("a token");
    assert_refused(hs_verifier, &token, AuthError::InvalidClaim("country")).await;
}

#[actix_web::test]
async fn a_provider_token_needs_org_and_org_type() {
    let provider = |changes: serde_json::Value| {
        let mut c = claims_with(json!({"role": "provider", "org": "org:acme", "org_type": "ngo"}));
        for (k, v) in changes.as_object().expect("object") {
            if v.is_null() {
                c.as_object_mut().expect("object").remove(k);
            } else {
                c[k] = v.clone();
            }
        }
        hs_signer().sign(&c).expect("a token")
    };
    assert_refused(
        hs_verifier,
        &provider(json!({"org": null})),
        AuthError::MissingClaim("org"),
    )
    .await;
    assert_refused(
        hs_verifier,
        &provider(json!({"org_type": null})),
        AuthError::MissingClaim("org_type"),
    )
    .await;
    assert_refused(
        hs_verifier,
        &provider(json!({"org_type": "pirate"})),
        AuthError::InvalidClaim("org_type"),
    )
    .await;
    assert_refused(
        hs_verifier,
        &provider(json!({"org": "has spaces"})),
        AuthError::InvalidClaim("org"),
    )
    .await;
}

#[actix_web::test]
async fn an_unknown_role_is_refused() {
    for role in ["superuser", "Coordinator", ""] {
        let token = hs_signer()
            .sign(&claims_with(json!({ "role": role })))
            .expect("a token");
        assert_refused(hs_verifier, &token, AuthError::UnknownRole).await;
    }
}

#[actix_web::test]
async fn an_unknown_kid_is_refused() {
    let signer = pem_signer(Algorithm::RS256, "rsa_private.pem", "no-such-key");
    let token = signer.sign(&claims()).expect("a token");
    assert_refused(pem_verifier, &token, AuthError::UnknownKid).await;

    // Even with a single key: a kid that is named must match.
    let token = hs_signer()
        .with_kid("unknown")
        .sign(&claims())
        .expect("a token");
    let single_with_kid = || {
        Verifier::new(config(
            &[Algorithm::HS256],
            vec![capmatch_auth::KeySource::Hs256 {
                kid: Some("dev".into()),
                secret: capmatch_auth::Secret::new(SECRET),
            }],
        ))
        .expect("a valid config")
    };
    assert_refused(single_with_kid, &token, AuthError::UnknownKid).await;
}

#[actix_web::test]
async fn a_token_without_kid_is_refused_when_several_keys_exist() {
    let signer = TokenSigner::from_pem(
        Algorithm::RS256,
        &read_key("rsa_private.pem"),
        ISSUER,
        AUDIENCE,
    )
    .expect("a signer");
    let token = signer.sign(&claims()).expect("a token");
    assert_refused(pem_verifier, &token, AuthError::MissingKid).await;
}

#[actix_web::test]
async fn a_token_whose_alg_is_not_its_keys_alg_is_refused() {
    // Signed with the Ed25519 key, but the header names the RSA key.
    let signer = pem_signer(Algorithm::EdDSA, "ed_private.pem", "pem-rsa");
    let token = signer.sign(&claims()).expect("a token");
    assert_refused(pem_verifier, &token, AuthError::AlgorithmKeyMismatch).await;
}

#[actix_web::test]
async fn a_signature_from_another_rsa_key_under_a_known_kid_is_refused() {
    let signer = pem_signer(Algorithm::RS256, "rsa_other_private.pem", "pem-rsa");
    let token = signer.sign(&claims()).expect("a token");
    assert_refused(pem_verifier, &token, AuthError::BadSignature).await;
}

#[actix_web::test]
async fn a_token_with_critical_header_extensions_is_refused() {
    let token = hs_signer().sign(&claims()).expect("a token");
    let signature = token.rsplit('.').next().expect("a signature");
    let token = handmade(
        &json!({"alg": "HS256", "crit": ["exp"], "exp": 1}),
        &claims(),
        signature,
    );
    assert_refused(hs_verifier, &token, AuthError::UnsupportedCritical).await;
}

#[actix_web::test]
async fn malformed_tokens_are_refused() {
    for token in [
        "abc",
        "a.b",
        "a.b.c.d",
        "!!!.@@@.###",
        "eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.c2ln",
    ] {
        assert!(hs_verifier().verify(token).is_err(), "{token}");
        let reply = call_with_token(hs_verifier(), token).await;
        assert_generic_401(&reply);
    }
    let huge = "a".repeat(10_000);
    assert_eq!(hs_verifier().verify(&huge), Err(AuthError::Malformed));
}

#[actix_web::test]
async fn a_bad_authorization_header_is_a_401_not_anonymous() {
    let token = hs_signer().sign(&claims()).expect("a token");
    let two = format!("Bearer {token}");
    for header in [
        vec!["Basic dXNlcjpwYXNz"],
        vec!["Bearer"],
        vec!["Bearer "],
        vec![token.as_str()],
        vec!["Bearer a b"],
        vec![two.as_str(), two.as_str()],
    ] {
        let reply = call(Some(hs_verifier()), "/whoami", &header).await;
        assert_generic_401(&reply);
    }
}

#[actix_web::test]
async fn every_refusal_has_the_same_body_apart_from_the_request_id() {
    let expired = hs_signer()
        .sign(&claims_with(json!({"exp": now() - 3600})))
        .expect("a token");
    let none = handmade(&json!({"alg": "none"}), &claims(), "");
    let mut bodies = Vec::new();
    for token in [expired.as_str(), none.as_str(), "garbage"] {
        let reply = call_with_token(hs_verifier(), token).await;
        let mut problem: capmatch_http::Problem =
            serde_json::from_str(&reply.body).expect("a problem");
        problem.request_id = None;
        bodies.push(problem);
    }
    assert!(bodies.windows(2).all(|w| w[0] == w[1]), "{bodies:?}");
}
