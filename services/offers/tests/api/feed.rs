//! The internal event feed: service role only, in order, long-polling.

use std::time::{Duration, Instant};

use crate::helpers::{coordinator, offer_body, provider, service, spawn_app, state};

#[actix_web::test]
async fn the_feed_is_for_the_service_role_only() {
    let app = spawn_app().await;
    app.feed(None, "")
        .await
        .assert_problem(401, "unauthenticated");
    for token in [state("SN"), provider("org-a"), coordinator()] {
        app.feed(Some(&token), "")
            .await
            .assert_problem(403, "forbidden");
    }
    let head = app.get("/internal/head", Some(&service())).await;
    assert_eq!(head.status, 200);
    assert_eq!(head.body["position"], 0);
}

#[actix_web::test]
async fn the_feed_serves_events_in_order_and_long_polls_for_the_next() {
    let app = spawn_app().await;
    let org = provider("org-a");
    let id = app
        .create_offer(&org, &offer_body("CSIRT mentoring", &["002"]))
        .await;
    app.act("pause", Some(&org), &id, None, None).await;

    let page = app.feed(Some(&service()), "").await;
    let types: Vec<_> = page.body["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| {
            (
                e["position"].as_u64(),
                e["event_type"].as_str().map(str::to_owned),
            )
        })
        .collect();
    assert_eq!(
        types,
        vec![
            (Some(1), Some("offer.posted".to_owned())),
            (Some(2), Some("offer.paused".to_owned())),
        ]
    );

    let started = Instant::now();
    let token = service();
    let poll = app.feed(Some(&token), "after=2&wait_ms=20000");
    let resume = async {
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        app.act("resume", Some(&org), &id, None, None).await
    };
    let (page, resumed) = tokio::join!(poll, resume);
    assert_eq!(resumed.status, 200);
    assert_eq!(page.body["events"][0]["position"], 3);
    assert_eq!(page.body["events"][0]["event_type"], "offer.resumed");
    assert!(started.elapsed() < Duration::from_secs(10));
}
