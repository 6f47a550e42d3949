use std::sync::atomic::Ordering;

use capmatch_domain::actor::Role;

use crate::helpers::{BOTH_WAYS, Options, TestGateway, body_json, spawn_gateway};

fn options(in_process: bool) -> Options {
    Options {
        in_process,
        ..Options::default()
    }
}

#[actix_web::test]
async fn a_request_reaches_its_owner_with_what_matters_and_comes_back_unchanged() {
    for in_process in BOTH_WAYS {
        let gw = spawn_gateway(options(in_process));
        let token = gw.coordinator();
        let mut res = gw
            .post("/v1/needs/42/withdraw?reason=x&y=1")
            .insert_header(("authorization", format!("Bearer {token}")))
            .insert_header(("idempotency-key", "key-1"))
            .insert_header(("if-match", "\"3\""))
            .insert_header(("x-request-id", "req-abc"))
            .insert_header(("x-private", "must not pass"))
            .insert_header(("content-type", "application/json"))
            .send_body(r#"{"reason":"done"}"#)
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
        assert_eq!(res.headers().get("etag").unwrap(), "\"7\"");
        assert_eq!(res.headers().get("x-request-id").unwrap(), "req-abc");
        let echo = body_json(&mut res).await;
        assert_eq!(echo["service"], "needs");
        assert_eq!(echo["method"], "POST");
        assert_eq!(echo["path"], "/v1/needs/42/withdraw");
        assert_eq!(echo["query"], "reason=x&y=1");
        assert_eq!(echo["body"], r#"{"reason":"done"}"#);
        let headers = &echo["headers"];
        assert_eq!(headers["authorization"], format!("Bearer {token}"));
        assert_eq!(headers["idempotency-key"], "key-1");
        assert_eq!(headers["if-match"], "\"3\"");
        assert_eq!(headers["x-request-id"], "req-abc");
        assert_eq!(headers["content-length"], "17");
        // What the service answers comes back whole, whichever way it was reached.
        assert_eq!(
            res.headers().get("x-internal-secret").unwrap(),
            "upstream-only"
        );
        if in_process {
            // One pipeline: the service's handler serves the very request the client sent.
            assert_eq!(headers["x-private"], "must not pass");
            assert!(headers.get("host").is_some(), "{headers}");
        } else {
            // A hop: only what matters crosses it on the way in.
            assert_eq!(headers["x-forwarded-for"], "127.0.0.1");
            assert!(headers.get("x-private").is_none());
        }
    }
}

/// One answer as the client sees it: the status, every header but `date` (sorted), and the
/// body, unless it echoes the request's headers (which the two ways pass differently; then its
/// length is left out too).
async fn seen(gw: &TestGateway, method: &str, path: &str, headers: &[(&str, String)]) -> String {
    let method = actix_web::http::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = gw
        .client
        .request(method, format!("{}{path}", gw.url))
        .insert_header(("x-request-id", "fixed-request-id"));
    for (name, value) in headers {
        req = req.insert_header((*name, value.as_str()));
    }
    let mut res = req.send().await.unwrap();
    let body = res.body().await.unwrap();
    let body = String::from_utf8_lossy(&body);
    let echo = body.contains("\"headers\"");
    let mut names: Vec<String> = res
        .headers()
        .iter()
        .filter(|(name, _)| name.as_str() != "date")
        .filter(|(name, _)| !(echo && name.as_str() == "content-length"))
        .map(|(name, value)| {
            let value = value.to_str().unwrap_or("?");
            if name.as_str().starts_with("access-control-") {
                // actix-cors writes its lists from a hash set, in an order of its own.
                let mut items: Vec<&str> = value.split(", ").collect();
                items.sort_unstable();
                format!("{name}: {}", items.join(", "))
            } else {
                format!("{name}: {value}")
            }
        })
        .collect();
    names.sort();
    let body = if echo { "(an echo)".into() } else { body };
    format!("{}\n{}\n{body}", res.status(), names.join("\n"))
}

#[actix_web::test]
async fn mounted_and_forwarded_services_give_the_same_statuses_headers_and_problems() {
    let forwarded = spawn_gateway(options(false));
    let mounted = spawn_gateway(options(true));
    // (method, path, headers; `TOKEN` stands for a coordinator's token of the gateway asked)
    type Case = (
        &'static str,
        &'static str,
        &'static [(&'static str, &'static str)],
    );
    let cases: [Case; 13] = [
        ("GET", "/v1/needs", &[]),
        (
            "GET",
            "/v1/needs/1/replayed",
            &[("authorization", "Bearer TOKEN")],
        ),
        (
            "POST",
            "/v1/matches/1/replayed",
            &[("authorization", "Bearer TOKEN")],
        ),
        ("GET", "/v1/matches/1/problem", &[]),
        (
            "GET",
            "/v1/needs",
            &[("authorization", "Bearer not.a.token")],
        ),
        ("GET", "/v1/needs", &[("authorization", "Basic eDp5")]),
        ("POST", "/v1/offers", &[("content-length", "999999")]),
        ("GET", "/v1/internal/events", &[]),
        ("GET", "/internal/head", &[]),
        ("GET", "/v2/needs", &[]),
        ("GET", "/livez", &[]),
        ("GET", "/readyz", &[]),
        ("GET", "/metrics", &[]),
    ];
    for (method, path, headers) in cases {
        let headers_for = |gw: &TestGateway| -> Vec<(&str, String)> {
            let token = gw.coordinator();
            headers
                .iter()
                .map(|(name, value)| (*name, value.replace("TOKEN", &token)))
                .collect()
        };
        let (f, m) = (
            seen(&forwarded, method, path, &headers_for(&forwarded)).await,
            seen(&mounted, method, path, &headers_for(&mounted)).await,
        );
        assert_eq!(f, m, "{method} {path}: forwarded, then mounted");
    }
}

#[actix_web::test]
async fn a_replayed_answer_says_so_whichever_way_the_service_is_reached() {
    for in_process in BOTH_WAYS {
        let gw = spawn_gateway(options(in_process));
        let res = gw.post("/v1/matches/1/replayed").send().await.unwrap();
        assert_eq!(res.status(), 200);
        let header = |name: &str| res.headers().get(name).and_then(|v| v.to_str().ok());
        assert_eq!(header("idempotent-replayed"), Some("true"), "{in_process}");
        assert_eq!(header("etag"), Some("\"2\""), "{in_process}");
        assert_eq!(header("cache-control"), Some("no-store"), "{in_process}");
    }
}

#[actix_web::test]
async fn suggestions_plans_matches_and_stats_go_to_the_matcher() {
    for in_process in BOTH_WAYS {
        let gw = spawn_gateway(options(in_process));
        for (path, owner) in [
            ("/v1/needs/1/matches", "matcher"),
            ("/v1/offers/1/matches", "matcher"),
            ("/v1/matches?status=introduced", "matcher"),
            ("/v1/plan", "matcher"),
            ("/v1/stats", "matcher"),
            ("/v1/offers", "offers"),
            ("/v1/taxonomy", "needs"),
        ] {
            let mut res = gw.get(path).send().await.unwrap();
            assert_eq!(body_json(&mut res).await["service"], owner, "{path}");
        }
    }
}

#[actix_web::test]
async fn internal_paths_are_never_reachable_through_the_gateway() {
    for in_process in BOTH_WAYS {
        let gw = spawn_gateway(options(in_process));
        let service = gw.token(Role::Service);
        for path in [
            "/internal/events?after=0",
            "/internal/head",
            "/v1/internal/events",
            "/v2/needs",
        ] {
            let mut res = gw
                .get(path)
                .insert_header(("authorization", format!("Bearer {service}")))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 404, "{path}");
            assert_eq!(
                res.headers().get("content-type").unwrap(),
                "application/problem+json"
            );
            assert_eq!(body_json(&mut res).await["status"], 404);
        }
        let hits = gw.needs.hits.load(Ordering::SeqCst)
            + gw.matcher.hits.load(Ordering::SeqCst)
            + gw.offers.hits.load(Ordering::SeqCst);
        assert_eq!(hits, 0);
    }
}

#[actix_web::test]
async fn a_bad_token_is_refused_at_the_edge_and_never_reaches_a_service() {
    for in_process in BOTH_WAYS {
        let gw = spawn_gateway(options(in_process));
        for value in ["Bearer not.a.token", "Basic dXNlcjpwYXNz", "Bearer "] {
            let mut res = gw
                .get("/v1/needs")
                .insert_header(("authorization", value))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 401, "{value}");
            assert!(res.headers().get("www-authenticate").is_some());
            let body = body_json(&mut res).await;
            assert_eq!(body["code"], "unauthenticated");
        }
        assert_eq!(gw.needs.hits.load(Ordering::SeqCst), 0);
        // Anonymous callers pass: the service decides what they may see.
        assert_eq!(gw.get("/v1/needs").send().await.unwrap().status(), 201);
    }
}

#[actix_web::test]
async fn an_upstream_problem_is_returned_as_the_upstream_wrote_it() {
    for in_process in BOTH_WAYS {
        let gw = spawn_gateway(options(in_process));
        let mut res = gw.get("/v1/matches/1/problem").send().await.unwrap();
        assert_eq!(res.status(), 409);
        let body = body_json(&mut res).await;
        assert_eq!(body["title"], "upstream says no");
    }
}

#[actix_web::test]
async fn a_body_over_the_limit_is_refused_at_the_edge() {
    for in_process in BOTH_WAYS {
        let gw = spawn_gateway(options(in_process));
        let mut res = gw
            .post("/v1/needs")
            .insert_header(("content-type", "application/json"))
            .send_body(vec![b'x'; 4096])
            .await
            .unwrap();
        assert_eq!(res.status(), 413);
        assert_eq!(body_json(&mut res).await["status"], 413);
        assert_eq!(gw.needs.hits.load(Ordering::SeqCst), 0);
    }
}

#[actix_web::test]
async fn the_api_document_and_swagger_ui_are_served_without_the_internet() {
    for in_process in BOTH_WAYS {
        let gw = spawn_gateway(options(in_process));
        let mut res = gw.get("/openapi.json").send().await.unwrap();
        assert_eq!(res.status(), 200);
        let doc = body_json(&mut res).await;
        assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
        assert_eq!(
            doc["components"]["securitySchemes"]["bearer_jwt"]["scheme"],
            "bearer"
        );
        let mut ui = gw.get("/docs/").send().await.unwrap();
        assert_eq!(ui.status(), 200);
        let page = ui.body().await.unwrap();
        assert!(String::from_utf8_lossy(&page).contains("swagger"));
        let mut init = gw.get("/docs/swagger-initializer.js").send().await.unwrap();
        assert_eq!(init.status(), 200);
        assert!(String::from_utf8_lossy(&init.body().await.unwrap()).contains("/openapi.json"));
    }
}
