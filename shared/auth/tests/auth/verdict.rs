//! A token accepted once in a request is not checked again in it by the same verifier (the
//! gateway's edge, then the handler of a service it mounted: one verifier per process), and
//! never trusted by another verifier.

use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::{Next, from_fn};
use actix_web::{App, HttpResponse, web};
use capmatch_auth::{Algorithm, AuthConfig, Caller, KeySource, Secret, Verifier};
use capmatch_domain::actor::{Actor, Role};

use crate::helpers::*;

const OTHER_SECRET: &[u8] = b"another-secret-that-is-long-enough-for-hs256";

fn hs_config(secret: &[u8]) -> AuthConfig {
    config(
        &[Algorithm::HS256],
        vec![KeySource::Hs256 {
            kid: None,
            secret: Secret::new(secret),
        }],
    )
}

fn verifier(config: AuthConfig) -> Verifier {
    Verifier::new(config).expect("a valid config")
}

/// Checks the caller with `edge` (the app's verifier), then hands the request to a scope whose
/// handler checks it with `inner` (the mounted service).
async fn edge_then_handler(edge_verifier: Verifier, inner: Verifier, authorization: &str) -> Reply {
    async fn edge(
        req: ServiceRequest,
        next: Next<impl MessageBody + 'static>,
    ) -> Result<ServiceResponse<impl MessageBody + 'static>, actix_web::Error> {
        Caller::from_request_sync(req.request())?;
        next.call(req).await
    }
    let app = actix_web::test::init_service(
        App::new()
            .app_data(web::Data::new(edge_verifier))
            .service(web::scope("/api").app_data(web::Data::new(inner)).route(
                "/whoami",
                web::get().to(|caller: Caller| async move {
                    HttpResponse::Ok().json(caller.actor().map(|a| a.subject.clone()))
                }),
            ))
            .wrap(from_fn(edge))
            .wrap(from_fn(capmatch_http::request_context)),
    )
    .await;
    let req = actix_web::test::TestRequest::get()
        .uri("/api/whoami")
        .insert_header(("authorization", authorization))
        .to_request();
    let res = actix_web::test::call_service(&app, req).await;
    let status = res.status();
    let headers = res.headers().clone();
    let body = String::from_utf8_lossy(&actix_web::test::read_body(res).await).into_owned();
    Reply {
        status,
        headers,
        body,
    }
}

fn bearer_for(secret: &[u8], subject: &str) -> String {
    let token = capmatch_auth::TokenSigner::hs256(secret, ISSUER, AUDIENCE)
        .expect("a signer")
        .mint(
            &Actor::new(subject, Role::Coordinator),
            Duration::from_secs(60),
        )
        .expect("a token");
    format!("Bearer {token}")
}

#[actix_web::test]
async fn a_handler_sharing_the_edge_verifier_takes_its_verdict() {
    let shared = hs_verifier();
    assert!(shared.same_as(&shared.clone()));
    assert!(
        !shared.same_as(&hs_verifier()),
        "the same rules, another verifier"
    );
    let reply = edge_then_handler(
        shared.clone(),
        shared,
        &bearer_for(SECRET, "edge-and-handler"),
    )
    .await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.body);
    assert_eq!(reply.body, "\"edge-and-handler\"");
}

#[actix_web::test]
async fn a_handler_with_other_rules_checks_the_token_itself_and_refuses_it() {
    // The edge accepts the token; the handler's verifier trusts another secret only.
    let reply = edge_then_handler(
        hs_verifier(),
        verifier(hs_config(OTHER_SECRET)),
        &bearer_for(SECRET, "edge-only"),
    )
    .await;
    assert_generic_401(&reply);
}
