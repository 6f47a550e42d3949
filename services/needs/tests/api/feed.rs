//! The internal event feed: service role only, in order, long-polling.

use std::time::{Duration, Instant};

use crate::helpers::{coordinator, need_body, provider, service, spawn_app, state};

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
        app.get("/internal/head", Some(&token))
            .await
            .assert_problem(403, "forbidden");
    }
    assert_eq!(app.feed(Some(&service()), "").await.status, 200);
}

#[actix_web::test]
async fn the_feed_serves_every_event_in_order_from_any_position() {
    let app = spawn_app().await;
    let sn = state("SN");
    let a = app
        .create_need(&sn, &need_body("First need", "restricted"))
        .await;
    let b = app
        .create_need(&sn, &need_body("Second need", "public"))
        .await;
    app.fulfil(Some(&sn), &a, None).await;

    let page = app.feed(Some(&service()), "").await;
    assert_eq!(page.status, 200, "{page:?}");
    let events = page.body["events"].as_array().expect("events");
    let positions: Vec<_> = events.iter().map(|e| e["position"].as_u64()).collect();
    assert_eq!(positions, vec![Some(1), Some(2), Some(3)]);
    let types: Vec<_> = events.iter().map(|e| e["event_type"].as_str()).collect();
    assert_eq!(
        types,
        vec![
            Some("need.posted"),
            Some("need.posted"),
            Some("need.fulfilled")
        ]
    );
    assert_eq!(events[0]["stream"], format!("need-{a}"));
    assert_eq!(events[1]["payload"]["need_id"], b.as_str());
    assert_eq!(page.body["head"]["position"], 3);
    assert_eq!(page.body["head"]["hash"], events[2]["hash"]);

    let rest = app.feed(Some(&service()), "after=1&limit=1").await;
    let events = rest.body["events"].as_array().expect("events");
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["position"], 2);

    let head = app.get("/internal/head", Some(&service())).await;
    assert_eq!(head.body["position"], 3);

    for query in ["limit=0", "limit=1001", "wait_ms=30001", "after=-1"] {
        app.feed(Some(&service()), query)
            .await
            .assert_problem(400, "invalid_query");
    }
}

#[actix_web::test]
async fn a_long_poll_returns_as_soon_as_an_event_arrives() {
    let app = spawn_app().await;
    let started = Instant::now();
    let token = service();
    let poll = app.feed(Some(&token), "after=0&wait_ms=20000");
    let post = async {
        // Let the poll reach the service first; either order must work.
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        app.create_need(&state("SN"), &need_body("Arrives later", "public"))
            .await
    };
    let (page, _) = tokio::join!(poll, post);
    assert_eq!(page.status, 200, "{page:?}");
    assert_eq!(page.body["events"][0]["position"], 1);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the poll waited too long"
    );
}

#[actix_web::test]
async fn a_long_poll_with_nothing_new_answers_empty_after_the_wait() {
    let app = spawn_app().await;
    let started = Instant::now();
    let page = app.feed(Some(&service()), "after=0&wait_ms=200").await;
    assert_eq!(page.status, 200);
    assert_eq!(page.body["events"].as_array().map(Vec::len), Some(0));
    assert_eq!(page.body["head"]["position"], 0);
    assert!(started.elapsed() >= Duration::from_millis(200));
}
