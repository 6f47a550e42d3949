use std::time::{Duration, Instant};

use capmatch_domain::actor::Role;
use capmatch_gateway::{CorsConfig, RateLimitConfig};

use capmatch_gateway::TrustedProxies;

use crate::helpers::{BOTH_WAYS, Options, body_json, spawn_gateway};

#[actix_web::test]
async fn a_down_upstream_gives_503_quickly_and_the_others_keep_serving() {
    for in_process in BOTH_WAYS {
        let gw = spawn_gateway(Options {
            offers_down: true,
            in_process,
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
    for in_process in BOTH_WAYS {
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
    for in_process in BOTH_WAYS {
        let ready = spawn_gateway(Options {
            in_process,
            ..Options::default()
        });
        assert_eq!(ready.get("/readyz").send().await.unwrap().status(), 200);
        let gw = spawn_gateway(Options {
            matcher_ready: false,
            in_process,
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
}

fn tight(in_process: bool, trusted_proxies: TrustedProxies) -> Options {
    Options {
        rate_limit: RateLimitConfig {
            per_second: 1,
            burst: 2,
            enabled: true,
        },
        in_process,
        trusted_proxies,
        ..Options::default()
    }
}

#[actix_web::test]
async fn each_caller_has_its_own_rate_limit() {
    for in_process in BOTH_WAYS {
        let gw = spawn_gateway(tight(in_process, TrustedProxies::default()));
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
        // Anonymous callers are limited by address, apart from the coordinator's subject (its
        // first request, whose signature was checked, cost the address one).
        assert_eq!(gw.get("/v1/needs").send().await.unwrap().status(), 201);
        assert_eq!(gw.get("/v1/needs").send().await.unwrap().status(), 429);
    }
}

#[actix_web::test]
async fn refused_tokens_are_charged_to_their_sender_and_then_not_even_checked() {
    for in_process in BOTH_WAYS {
        let gw = spawn_gateway(tight(in_process, TrustedProxies::default()));
        let good = gw.coordinator();
        // The same claims under another signature: well formed, and refused.
        let (head, _) = good.rsplit_once('.').unwrap();
        let forged = format!("{head}.{}", "A".repeat(43));
        let mut statuses = Vec::new();
        for _ in 0..4 {
            let res = gw
                .get("/v1/needs")
                .insert_header(("authorization", format!("Bearer {forged}")))
                .send()
                .await
                .unwrap();
            statuses.push(res.status().as_u16());
        }
        assert_eq!(statuses, [401, 401, 429, 429], "in_process={in_process}");
        // The address's bucket is empty: an anonymous request from it waits too.
        assert_eq!(gw.get("/v1/stats").send().await.unwrap().status(), 429);
        assert_eq!(gw.needs.hits.load(std::sync::atomic::Ordering::SeqCst), 0);
    }
}

#[actix_web::test]
async fn every_public_path_is_rate_limited() {
    for in_process in BOTH_WAYS {
        for path in [
            "/readyz",
            "/livez",
            "/openapi.json",
            "/docs/",
            "/metrics",
            "/nowhere",
        ] {
            let gw = spawn_gateway(tight(in_process, TrustedProxies::default()));
            let mut statuses = Vec::new();
            for _ in 0..3 {
                statuses.push(gw.get(path).send().await.unwrap().status().as_u16());
            }
            assert_ne!(statuses[0], 429, "{path}");
            assert_eq!(statuses[2], 429, "{path}: {statuses:?}");
        }
    }
}

#[actix_web::test]
async fn behind_a_trusted_proxy_each_client_has_its_own_bucket_and_no_one_else_can_claim_one() {
    let send = |gw: &crate::helpers::TestGateway, client: &str| {
        gw.get("/v1/needs")
            .insert_header(("x-forwarded-for", client.to_owned()))
            .send()
    };
    for in_process in BOTH_WAYS {
        // The gateway's own peer (the test, on loopback) is the trusted proxy.
        let trusted = TrustedProxies::parse(&["127.0.0.0/8"]).unwrap();
        let gw = spawn_gateway(tight(in_process, trusted));
        for client in ["198.51.100.1", "198.51.100.2"] {
            assert_eq!(send(&gw, client).await.unwrap().status(), 201, "{client}");
            assert_eq!(send(&gw, client).await.unwrap().status(), 201, "{client}");
            assert_eq!(send(&gw, client).await.unwrap().status(), 429, "{client}");
        }
        // The services learn the client's address, not the proxy's.
        let mut res = send(&gw, "198.51.100.3").await.unwrap();
        if !in_process {
            assert_eq!(
                body_json(&mut res).await["headers"]["x-forwarded-for"],
                "198.51.100.3"
            );
        }

        // Off by default: the header is anyone's to write, so it is not read.
        let gw = spawn_gateway(tight(in_process, TrustedProxies::default()));
        assert_eq!(send(&gw, "198.51.100.1").await.unwrap().status(), 201);
        assert_eq!(send(&gw, "198.51.100.2").await.unwrap().status(), 201);
        assert_eq!(send(&gw, "198.51.100.3").await.unwrap().status(), 429);
    }
}

#[actix_web::test]
async fn cors_is_closed_unless_an_origin_is_configured() {
    for in_process in BOTH_WAYS {
        let closed = spawn_gateway(Options {
            in_process,
            ..Options::default()
        });
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
            in_process,
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
}
