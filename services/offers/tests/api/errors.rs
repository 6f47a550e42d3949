//! Every error status, as problem+json.

use actix_web::http::Method;
use serde_json::json;

use crate::helpers::{admin, coordinator, offer_body, provider, spawn_app, state};

#[actix_web::test]
async fn malformed_json_is_a_400_and_a_foreign_media_type_a_415() {
    let app = spawn_app().await;
    let org = provider("org-a");
    app.send_raw(
        Method::POST,
        "/v1/offers",
        Some(&org),
        &[],
        Some("application/json"),
        b"{".to_vec(),
    )
    .await
    .assert_problem(400, "malformed_json");
    app.send_raw(
        Method::POST,
        "/v1/offers",
        Some(&org),
        &[],
        Some("text/plain"),
        b"x".to_vec(),
    )
    .await
    .assert_problem(415, "unsupported_media_type");
}

#[actix_web::test]
async fn no_token_or_a_bad_token_is_a_401() {
    let app = spawn_app().await;
    let body = offer_body("CSIRT mentoring", &["002"]);
    app.post_offer(None, &body, None)
        .await
        .assert_problem(401, "unauthenticated");
    app.post_offer(Some("garbage"), &body, None)
        .await
        .assert_problem(401, "unauthenticated");
    app.get_offer(Some("garbage"), &uuid::Uuid::new_v4().to_string())
        .await
        .assert_problem(401, "unauthenticated");
}

#[actix_web::test]
async fn only_providers_post_and_only_the_owner_changes_an_offer() {
    let app = spawn_app().await;
    let body = offer_body("CSIRT mentoring", &["002"]);
    for token in [state("SN"), coordinator(), admin()] {
        app.post_offer(Some(&token), &body, None)
            .await
            .assert_problem(403, "forbidden");
    }
    let id = app.create_offer(&provider("org-a"), &body).await;
    let other = provider("org-b");
    app.revise(Some(&other), &id, Some("\"1\""), &json!({ "capacity": 9 }))
        .await
        .assert_problem(403, "forbidden");
    app.act("pause", Some(&other), &id, None, None)
        .await
        .assert_problem(403, "forbidden");
    app.act("withdraw", Some(&state("SN")), &id, None, None)
        .await
        .assert_problem(403, "forbidden");
    app.history(Some(&other), &id)
        .await
        .assert_problem(403, "forbidden");
    app.history(None, &id)
        .await
        .assert_problem(401, "unauthenticated");
}

#[actix_web::test]
async fn unknown_and_malformed_ids_are_404() {
    let app = spawn_app().await;
    let unknown = uuid::Uuid::new_v4().to_string();
    app.get_offer(None, &unknown)
        .await
        .assert_problem(404, "not_found");
    app.get_offer(None, "nope")
        .await
        .assert_problem(404, "not_found");
    app.act("pause", Some(&provider("org-a")), &unknown, None, None)
        .await
        .assert_problem(404, "not_found");
}

#[actix_web::test]
async fn pausing_a_paused_offer_is_a_409() {
    let app = spawn_app().await;
    let org = provider("org-a");
    let id = app
        .create_offer(&org, &offer_body("CSIRT mentoring", &["002"]))
        .await;
    app.act("pause", Some(&org), &id, None, None).await;
    app.act("pause", Some(&org), &id, None, None)
        .await
        .assert_problem(409, "invalid_transition");
    app.act("withdraw", Some(&org), &id, None, None).await;
    app.act("resume", Some(&org), &id, None, None)
        .await
        .assert_problem(409, "invalid_transition");
    app.revise(Some(&org), &id, Some("\"3\""), &json!({ "capacity": 2 }))
        .await
        .assert_problem(409, "invalid_transition");
}

#[actix_web::test]
async fn stale_and_missing_if_match_are_412_and_428() {
    let app = spawn_app().await;
    let org = provider("org-a");
    let id = app
        .create_offer(&org, &offer_body("CSIRT mentoring", &["002"]))
        .await;
    app.revise(Some(&org), &id, Some("\"1\""), &json!({ "capacity": 2 }))
        .await;
    app.revise(Some(&org), &id, Some("\"1\""), &json!({ "capacity": 3 }))
        .await
        .assert_problem(412, "precondition_failed");
    app.revise(Some(&org), &id, None, &json!({ "capacity": 3 }))
        .await
        .assert_problem(428, "precondition_required");
}

#[actix_web::test]
async fn too_large_invalid_and_unknown_bodies_are_413_and_422() {
    let app = spawn_app().await;
    let org = provider("org-a");
    let mut big = offer_body("CSIRT mentoring", &["002"]);
    big["description"] = json!("x".repeat(70 * 1024));
    app.post_offer(Some(&org), &big, None)
        .await
        .assert_problem(413, "payload_too_large");

    let mut invalid = offer_body("CSIRT mentoring", &["ZZ"]);
    invalid["conditions_attached"] = json!(true);
    let reply = app.post_offer(Some(&org), &invalid, None).await;
    reply.assert_problem(422, "validation_failed");
    let fields: Vec<_> = reply.body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["field"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert!(fields.contains(&"coverage[0]".to_owned()), "{fields:?}");
    assert!(fields.contains(&"conditions".to_owned()), "{fields:?}");

    let mut unknown = offer_body("CSIRT mentoring", &["002"]);
    unknown["org"] = json!("org-z");
    let reply = app.post_offer(Some(&org), &unknown, None).await;
    reply.assert_problem(422, "validation_failed");
    assert_eq!(reply.body["errors"][0]["code"], "unknown_field");
}

#[actix_web::test]
async fn bad_list_queries_are_400() {
    let app = spawn_app().await;
    for query in [
        "limit=0",
        "limit=500",
        "cursor=xyz",
        "country=ZZ",
        "status=closed",
        "x=1",
    ] {
        app.list(None, query)
            .await
            .assert_problem(400, "invalid_query");
    }
}
