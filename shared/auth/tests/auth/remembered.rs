//! A verifier remembers the tokens it accepted: asking again gives the same answer, and
//! nothing that was not accepted in full gets through on the strength of one that was.

use capmatch_auth::AuthError;
use capmatch_auth::signer::now;
use capmatch_domain::actor::{Actor, Role};
use serde_json::json;

use crate::helpers::*;

fn coordinator() -> Actor {
    Actor::new("user-1", Role::Coordinator)
}

#[test]
fn an_accepted_token_is_accepted_again_as_the_same_actor() {
    let verifier = hs_verifier();
    let token = hs_signer().sign(&claims()).expect("a token");
    for _ in 0..3 {
        assert_eq!(verifier.verify(&token), Ok(coordinator()));
    }
}

#[test]
fn a_token_differing_from_an_accepted_one_is_checked_in_full() {
    let verifier = hs_verifier();
    let token = hs_signer().sign(&claims()).expect("a token");
    assert_eq!(verifier.verify(&token), Ok(coordinator()));

    // The same claims and header under another signature.
    let (signed, signature) = token.rsplit_once('.').expect("three parts");
    let mut other = signature.as_bytes().to_vec();
    other[0] = if other[0] == b'A' { b'B' } else { b'A' };
    let forged = format!("{signed}.{}", String::from_utf8(other).expect("ASCII"));
    assert_eq!(verifier.verify(&forged), Err(AuthError::BadSignature));

    // Other claims under the accepted token's signature.
    let elevated = handmade(
        &json!({"alg": "HS256", "typ": "JWT"}),
        &claims_with(json!({"role": "admin"})),
        signature,
    );
    assert_eq!(verifier.verify(&elevated), Err(AuthError::BadSignature));

    // And the accepted one still is.
    assert_eq!(verifier.verify(&token), Ok(coordinator()));
}

#[test]
fn a_refused_token_stays_refused() {
    let verifier = hs_verifier();
    let expired = hs_signer()
        .sign(&claims_with(json!({"exp": now() - 3600})))
        .expect("a token");
    for _ in 0..3 {
        assert_eq!(verifier.verify(&expired), Err(AuthError::Expired));
    }
}

#[test]
fn a_token_past_its_exp_is_checked_again_within_the_leeway() {
    // Accepted thanks to the leeway, never remembered: each ask is a full check.
    let verifier = hs_verifier();
    let late = hs_signer()
        .sign(&claims_with(json!({"exp": now() - 5})))
        .expect("a token");
    for _ in 0..2 {
        assert_eq!(verifier.verify(&late), Ok(coordinator()));
    }
}
