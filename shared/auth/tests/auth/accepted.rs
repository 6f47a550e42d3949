//! Valid tokens become the right typed actor.

use std::time::Duration;

use capmatch_auth::signer::now;
use capmatch_domain::actor::{Actor, OrgId, Role};
use serde_json::json;

use crate::helpers::*;

fn actor_of(role: Role) -> Actor {
    Actor::new("user-7", role)
}

fn roles() -> Vec<Role> {
    vec![
        Role::State {
            country: "GH".parse().expect("a country"),
        },
        Role::Provider {
            org: "org:cyber-academy".parse::<OrgId>().expect("an org"),
            org_type: "academia".parse().expect("a provider type"),
        },
        Role::Coordinator,
        Role::Admin,
        Role::Service,
    ]
}

#[actix_web::test]
async fn a_valid_token_for_each_role_yields_the_typed_actor() {
    for role in roles() {
        let actor = actor_of(role);
        let token = hs_signer()
            .mint(&actor, Duration::from_secs(300))
            .expect("a token");
        assert_eq!(hs_verifier().verify(&token), Ok(actor.clone()));

        let reply = call_with_token(hs_verifier(), &token).await;
        assert_eq!(reply.status.as_u16(), 200, "{}", reply.body);
        let body = reply.json();
        assert_eq!(body["anonymous"], json!(false));
        let seen: Actor = serde_json::from_value(body["actor"].clone()).expect("an actor");
        assert_eq!(seen, actor);
    }
}

#[actix_web::test]
async fn claims_written_by_hand_are_read_into_the_same_actor() {
    let token = hs_signer()
        .sign(&claims_with(
            json!({"role": "state", "country": "KE", "sub": "focal-point"}),
        ))
        .expect("a token");
    let actor = hs_verifier().verify(&token).expect("accepted");
    assert_eq!(actor.subject, "focal-point");
    assert_eq!(
        actor.role,
        Role::State {
            country: "KE".parse().expect("a country")
        }
    );
}

#[actix_web::test]
async fn an_audience_array_containing_ours_is_accepted() {
    let token = hs_signer()
        .sign(&claims_with(json!({"aud": ["other", AUDIENCE]})))
        .expect("a token");
    assert_eq!(
        hs_verifier().verify(&token).map(|a| a.role),
        Ok(Role::Coordinator)
    );
}

#[actix_web::test]
async fn clock_skew_within_the_leeway_is_tolerated() {
    let token = hs_signer()
        .sign(&claims_with(json!({"exp": now() - 10})))
        .expect("a token");
    assert!(hs_verifier().verify(&token).is_ok());
    let token = hs_signer()
        .sign(&claims_with(json!({"nbf": now() + 10})))
        .expect("a token");
    assert!(hs_verifier().verify(&token).is_ok());
}

#[actix_web::test]
async fn minted_claims_carry_what_binds_the_role() {
    let provider = &roles()[1];
    let claims = hs_signer().claims(&actor_of(provider.clone()), Duration::from_secs(60));
    assert_eq!(claims.role, "provider");
    assert_eq!(claims.org.as_deref(), Some("org:cyber-academy"));
    assert_eq!(claims.org_type.as_deref(), Some("academia"));
    assert_eq!(claims.country, None);
    assert_eq!(claims.iss, ISSUER);
    assert_eq!(claims.aud, AUDIENCE);
    assert!(claims.exp >= now() + 59 && claims.exp <= now() + 61);
    assert_eq!(claims.actor(), Ok(actor_of(provider.clone())));
}
