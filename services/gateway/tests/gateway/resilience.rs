use std::time::{Duration, Instant};

use capmatch_domain::actor::Role;
use capmatch_gateway::{CorsConfig, RateLimitConfig};

use crate::helpers::{Options, body_json, spawn_gateway};

#[actix_web::test]
async fn a_down_upstream_gives_503_quickly_and_the_others_keep_serving() {
    let gw = spawn_gateway(Options {
        offers_down: true,
        ..Options::default()
    });
    let started = Instant::now();
    let mut res = gw.get("/v1/offers").send().await.unwrap();
    assert_eq!(res.status(), 503);
    assert!(started.elapsed() < Duration::from_secs(5));
    let body = body_json(&mut res).await;
    assert_eq!(body["code"], "unavailable");
    assert!(
        !body.to_string().contains("127.0.0.1"),
        "no internals in the body: {body}"
    );
    assert_eq!(gw.get("/v1/needs").send().await.unwrap().status(), 201);
}

#[actix_web::test]
async fn a_stopping_local_upstream_gives_503_and_the_others_keep_serving() {
    let gw = spawn_gateway(Options {
        in_process: true,
        ..Options::default()
    });
    assert_eq!(gw.get("/v1/offers").send().await.unwrap().status(), 201);
    gw.offers.stop.stop().await;
    let mut res = gw.get("/v1/offers").send().await.unwrap();
    assert_eq!(res.status(), 503);
    assert_eq!(body_json(&mut res).await["code"], "unavailable");
    assert_eq!(gw.get("/v1/needs").send().await.unwrap().status(), 201);
}

#[actix_web::test]
async fn a_slow_upstream_gives_504_within_the_timeout() {
    for in_process in [false, true] {
        let gw = spawn_gateway(Options {
            timeout_ms: 200,
            in_process,
            ..Options::default()
        });
        let started = Instant::now();
        let mut res = gw.get("/v1/needs/1/slow").send().await.unwrap();
        assert_eq!(res.status(), 504, "in_process={in_process}");
        assert!(
            started.elapsed() < Duration::from_millis(1900),
            "answered after the upstream, not the timeout"
        );
        assert_eq!(body_json(&mut res).await["code"], "gateway_timeout");
    }
}

#[actix_web::test]
async fn readiness_reflects_every_upstream() {
    let ready = spawn_gateway(Options::default());
    assert_eq!(ready.get("/readyz").send().await.unwrap().status(), 200);
    let gw = spawn_gateway(Options {
        matcher_ready: false,
        ..Options::default()
    });
    let mut res = gw.get("/readyz").send().await.unwrap();
    assert_eq!(res.status(), 503);
    let body = body_json(&mut res).await;
    let matcher = body["upstreams"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == "matcher")
        .unwrap();
    assert_eq!(matcher["ready"], false);
    assert_eq!(gw.get("/livez").send().await.unwrap().status(), 200);
}

#[actix_web::test]
async fn each_caller_has_its_own_rate_limit() {
    let gw = spawn_gateway(Options {
        rate_limit: RateLimitConfig {
            per_second: 1,
            burst: 2,
            enabled: true,
        },
        ..Options::default()
    });
    let alice = gw.token(Role::Coordinator);
    let send = |token: String| {
        gw.get("/v1/needs")
            .insert_header(("authorization", format!("Bearer {token}")))
            .send()
    };
    assert_eq!(send(alice.clone()).await.unwrap().status(), 201);
    assert_eq!(send(alice.clone()).await.unwrap().status(), 201);
    let mut limited = send(alice).await.unwrap();
    assert_eq!(limited.status(), 429);
    assert!(limited.headers().get("retry-after").is_some());
    assert_eq!(body_json(&mut limited).await["code"], "too_many_requests");
    // Anonymous callers are limited by address, apart from the coordinator's subject.
    assert_eq!(gw.get("/v1/needs").send().await.unwrap().status(), 201);
}

#[actix_web::test]
async fn cors_is_closed_unless_an_origin_is_configured() {
    let closed = spawn_gateway(Options::default());
    let res = closed
        .get("/v1/needs")
        .insert_header(("origin", "https://evil.example"))
        .send()
        .await
        .unwrap();
    assert!(res.headers().get("access-control-allow-origin").is_none());

    let open = spawn_gateway(Options {
        cors: CorsConfig {
            allowed_origins: vec!["https://coord.example".into()],
            max_age_seconds: 60,
        },
        ..Options::default()
    });
    let res = open
        .client
        .request(
            actix_web::http::Method::OPTIONS,
            format!("{}/v1/needs", open.url),
        )
        .insert_header(("origin", "https://coord.example"))
        .insert_header(("access-control-request-method", "POST"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.headers().get("access-control-allow-origin").unwrap(),
        "https://coord.example"
    );
    let res = open
        .get("/v1/needs")
        .insert_header(("origin", "https://other.example"))
        .send()
        .await
        .unwrap();
    assert!(res.headers().get("access-control-allow-origin").is_none());
}
