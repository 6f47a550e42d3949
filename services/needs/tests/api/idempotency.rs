//! `Idempotency-Key`: a retry returns the original response and writes nothing.

use serde_json::json;

use crate::helpers::{coordinator, need_body, spawn_app, state};

#[actix_web::test]
async fn a_retried_post_returns_the_original_response_and_creates_one_need() {
    let app = spawn_app().await;
    let sn = state("SN");
    let body = need_body("National CSIRT", "public");
    let first = app.post_need(Some(&sn), &body, Some("post-1")).await;
    assert_eq!(first.status, 201, "{first:?}");
    let again = app.post_need(Some(&sn), &body, Some("post-1")).await;
    assert_eq!(again.status, 201);
    assert_eq!(again.body, first.body);
    assert_eq!(again.etag(), first.etag());
    assert_eq!(again.header("location"), first.header("location"));
    assert_eq!(app.list(None, "").await.body["total"], 1);

    // Even after the need changed, the retry answers what the first request got.
    let id = first.id();
    app.revise(
        Some(&sn),
        &id,
        Some("\"1\""),
        &json!({ "title": "Changed since" }),
    )
    .await;
    let later = app.post_need(Some(&sn), &body, Some("post-1")).await;
    assert_eq!(later.status, 201);
    assert_eq!(later.body, first.body);
    assert_eq!(app.list(None, "").await.body["total"], 1);
}

#[actix_web::test]
async fn the_same_key_with_another_body_is_a_422() {
    let app = spawn_app().await;
    let sn = state("SN");
    app.post_need(Some(&sn), &need_body("National CSIRT", "public"), Some("k"))
        .await;
    app.post_need(Some(&sn), &need_body("Another need", "public"), Some("k"))
        .await
        .assert_problem(422, "idempotency_key_reused");
    assert_eq!(app.list(None, "").await.body["total"], 1);
}

#[actix_web::test]
async fn keys_belong_to_their_caller() {
    let app = spawn_app().await;
    let body = need_body("National CSIRT", "public");
    let sn = app
        .post_need(Some(&state("SN")), &body, Some("shared-key"))
        .await;
    let mut for_gh = body.clone();
    for_gh["country"] = json!("GH");
    let coord = app
        .post_need(Some(&coordinator()), &for_gh, Some("shared-key"))
        .await;
    assert_eq!((sn.status, coord.status), (201, 201));
    assert_ne!(sn.id(), coord.id());
}

#[actix_web::test]
async fn without_a_key_each_post_creates_a_need() {
    let app = spawn_app().await;
    let sn = state("SN");
    let body = need_body("National CSIRT", "public");
    let a = app.post_need(Some(&sn), &body, None).await;
    let b = app.post_need(Some(&sn), &body, None).await;
    assert_ne!(a.id(), b.id());
    assert_eq!(app.list(None, "").await.body["total"], 2);
}

#[actix_web::test]
async fn a_retried_withdrawal_returns_the_original_response_not_a_conflict() {
    let app = spawn_app().await;
    let sn = state("SN");
    let id = app
        .create_need(&sn, &need_body("National CSIRT", "public"))
        .await;
    let reason = json!({ "reason": "No longer needed." });
    let first = app
        .withdraw(Some(&sn), &id, Some(&reason), Some("w-1"))
        .await;
    assert_eq!(first.status, 200, "{first:?}");
    let again = app
        .withdraw(Some(&sn), &id, Some(&reason), Some("w-1"))
        .await;
    assert_eq!(again.status, 200, "{again:?}");
    assert_eq!(again.body, first.body);
    let other = json!({ "reason": "Another reason." });
    app.withdraw(Some(&sn), &id, Some(&other), Some("w-1"))
        .await
        .assert_problem(422, "idempotency_key_reused");
    let history = app.history(Some(&sn), &id).await;
    assert_eq!(history.body["items"].as_array().map(Vec::len), Some(2));
}

#[actix_web::test]
async fn a_retry_after_a_restart_still_returns_the_original_response() {
    let app = spawn_app().await;
    let sn = state("SN");
    let body = need_body("National CSIRT", "public");
    let first = app.post_need(Some(&sn), &body, Some("durable")).await;
    assert_eq!(first.status, 201);
    let app = app.restart().await;
    let again = app.post_need(Some(&sn), &body, Some("durable")).await;
    assert_eq!(again.status, 201);
    assert_eq!(again.body, first.body);
    app.post_need(
        Some(&sn),
        &need_body("Other body", "public"),
        Some("durable"),
    )
    .await
    .assert_problem(422, "idempotency_key_reused");
    assert_eq!(app.list(None, "").await.body["total"], 1);
}
