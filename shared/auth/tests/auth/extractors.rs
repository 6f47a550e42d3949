//! `Caller`, `require_role` and `ServiceCaller` through a tiny app.

use std::time::Duration;

use capmatch_domain::actor::{Actor, Role};
use serde_json::json;

use crate::helpers::*;

fn bearer(role: Role) -> String {
    let token = hs_signer()
        .mint(&Actor::new("u", role), Duration::from_secs(60))
        .expect("a token");
    format!("Bearer {token}")
}

fn state() -> Role {
    Role::State {
        country: "GH".parse().expect("a country"),
    }
}

#[actix_web::test]
async fn no_authorization_header_is_anonymous() {
    let reply = call(Some(hs_verifier()), "/whoami", &[]).await;
    assert_eq!(reply.status.as_u16(), 200);
    assert_eq!(reply.json(), json!({"anonymous": true, "actor": null}));
    // Without a verifier too: anonymous callers need none.
    let reply = call(None, "/whoami", &[]).await;
    assert_eq!(reply.status.as_u16(), 200);
}

#[actix_web::test]
async fn the_bearer_scheme_is_case_insensitive() {
    let header = bearer(Role::Admin).replacen("Bearer", "bearer", 1);
    let reply = call(Some(hs_verifier()), "/whoami", &[&header]).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.body);
}

#[actix_web::test]
async fn require_role_is_401_for_anonymous_and_403_for_other_roles() {
    let reply = call(Some(hs_verifier()), "/coordination", &[]).await;
    assert_eq!(reply.status.as_u16(), 401);
    assert_eq!(reply.header("www-authenticate"), Some("Bearer"));

    let reply = call(Some(hs_verifier()), "/coordination", &[&bearer(state())]).await;
    assert_eq!(reply.status.as_u16(), 403, "{}", reply.body);
    assert_eq!(reply.json()["code"], json!("forbidden"));

    let reply = call(
        Some(hs_verifier()),
        "/coordination",
        &[&bearer(Role::Coordinator)],
    )
    .await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.body);
}

#[actix_web::test]
async fn internal_endpoints_take_service_tokens_only() {
    let reply = call(Some(hs_verifier()), "/internal/feed", &[]).await;
    assert_eq!(reply.status.as_u16(), 401);

    for role in [state(), Role::Coordinator, Role::Admin] {
        let reply = call(Some(hs_verifier()), "/internal/feed", &[&bearer(role)]).await;
        assert_eq!(reply.status.as_u16(), 403, "{}", reply.body);
    }

    let reply = call(
        Some(hs_verifier()),
        "/internal/feed",
        &[&bearer(Role::Service)],
    )
    .await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.body);
    assert_eq!(reply.json()["role"], json!("service"));
}

#[actix_web::test]
async fn a_token_without_a_verifier_in_app_data_is_an_opaque_500() {
    let reply = call(None, "/whoami", &[&bearer(Role::Admin)]).await;
    assert_eq!(reply.status.as_u16(), 500);
    assert!(!reply.body.contains("Verifier"), "{}", reply.body);
}
