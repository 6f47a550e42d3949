//! `Idempotency-Key`: a retry returns the original response and writes nothing.

use serde_json::json;

use crate::helpers::{offer_body, provider, spawn_app};

#[actix_web::test]
async fn a_retried_post_returns_the_original_response_and_creates_one_offer() {
    let app = spawn_app().await;
    let org = provider("org-a");
    let body = offer_body("CSIRT mentoring", &["002"]);
    let first = app.post_offer(Some(&org), &body, Some("offer-1")).await;
    assert_eq!(first.status, 201, "{first:?}");
    let again = app.post_offer(Some(&org), &body, Some("offer-1")).await;
    assert_eq!(again.status, 201);
    assert_eq!(again.body, first.body);
    assert_eq!(again.etag(), first.etag());
    assert_eq!(app.list(None, "").await.body["total"], 1);

    app.post_offer(
        Some(&org),
        &offer_body("Other offer", &["002"]),
        Some("offer-1"),
    )
    .await
    .assert_problem(422, "idempotency_key_reused");
    assert_eq!(app.list(None, "").await.body["total"], 1);
}

#[actix_web::test]
async fn a_retried_pause_returns_the_original_response() {
    let app = spawn_app().await;
    let org = provider("org-a");
    let id = app
        .create_offer(&org, &offer_body("CSIRT mentoring", &["002"]))
        .await;
    let reason = json!({ "reason": "At capacity." });
    let first = app
        .act("pause", Some(&org), &id, Some(&reason), Some("p"))
        .await;
    assert_eq!(first.status, 200, "{first:?}");
    let again = app
        .act("pause", Some(&org), &id, Some(&reason), Some("p"))
        .await;
    assert_eq!(again.status, 200, "{again:?}");
    assert_eq!(again.body, first.body);
    assert_eq!(
        app.history(Some(&org), &id).await.body["items"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
}

#[actix_web::test]
async fn a_retry_after_a_restart_still_returns_the_original_response() {
    let app = spawn_app().await;
    let org = provider("org-a");
    let body = offer_body("CSIRT mentoring", &["002"]);
    let first = app.post_offer(Some(&org), &body, Some("durable")).await;
    let app = app.restart().await;
    let again = app.post_offer(Some(&org), &body, Some("durable")).await;
    assert_eq!(again.status, 201);
    assert_eq!(again.body, first.body);
    assert_eq!(app.list(None, "").await.body["total"], 1);
}
