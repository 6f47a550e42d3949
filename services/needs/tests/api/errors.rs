//! Every error status, as problem+json.

use actix_web::http::Method;
use serde_json::json;

use crate::helpers::{BODY_LIMIT, admin, need_body, provider, spawn_app, state};

#[actix_web::test]
async fn malformed_json_is_a_400() {
    let app = spawn_app().await;
    let reply = app
        .send_raw(
            Method::POST,
            "/v1/needs",
            Some(&state("SN")),
            &[],
            Some("application/json"),
            b"{\"title\": ".to_vec(),
        )
        .await;
    reply.assert_problem(400, "malformed_json");
}

#[actix_web::test]
async fn no_token_or_a_bad_token_is_a_401() {
    let app = spawn_app().await;
    let body = need_body("National CSIRT", "public");
    let reply = app.post_need(None, &body, None).await;
    reply.assert_problem(401, "unauthenticated");
    assert!(reply.header("www-authenticate").is_some());
    let reply = app.post_need(Some("not.a.token"), &body, None).await;
    reply.assert_problem(401, "unauthenticated");
    // A bad token is refused even where anonymous callers are welcome.
    let reply = app.list(Some("not.a.token"), "").await;
    reply.assert_problem(401, "unauthenticated");
}

#[actix_web::test]
async fn roles_that_may_not_are_refused_with_403() {
    let app = spawn_app().await;
    let body = need_body("National CSIRT", "registered");
    app.post_need(Some(&provider("org-a")), &body, None)
        .await
        .assert_problem(403, "forbidden");
    app.post_need(Some(&admin()), &body, None)
        .await
        .assert_problem(403, "forbidden");
    // A state may not post for another country.
    let mut other = body.clone();
    other["country"] = json!("GH");
    app.post_need(Some(&state("SN")), &other, None)
        .await
        .assert_problem(403, "forbidden");

    let id = app.create_need(&state("SN"), &body).await;
    // Another state sees the registered need but may not change it or read its history.
    let gh = state("GH");
    app.revise(
        Some(&gh),
        &id,
        Some("\"1\""),
        &json!({ "title": "Taken over" }),
    )
    .await
    .assert_problem(403, "forbidden");
    app.withdraw(Some(&gh), &id, None, None)
        .await
        .assert_problem(403, "forbidden");
    app.history(Some(&gh), &id)
        .await
        .assert_problem(403, "forbidden");
    app.history(Some(&provider("org-a")), &id)
        .await
        .assert_problem(403, "forbidden");
}

#[actix_web::test]
async fn unknown_and_malformed_ids_are_404() {
    let app = spawn_app().await;
    let unknown = uuid::Uuid::new_v4().to_string();
    app.get_need(None, &unknown)
        .await
        .assert_problem(404, "not_found");
    app.get_need(None, "not-a-uuid")
        .await
        .assert_problem(404, "not_found");
    app.withdraw(Some(&state("SN")), &unknown, None, None)
        .await
        .assert_problem(404, "not_found");
    app.get("/v1/nothing-here", None)
        .await
        .assert_problem(404, "not_found");
}

#[actix_web::test]
async fn revising_a_withdrawn_need_is_a_409() {
    let app = spawn_app().await;
    let sn = state("SN");
    let id = app
        .create_need(&sn, &need_body("National CSIRT", "public"))
        .await;
    app.withdraw(Some(&sn), &id, None, None).await;
    app.revise(
        Some(&sn),
        &id,
        Some("\"2\""),
        &json!({ "title": "Revived need" }),
    )
    .await
    .assert_problem(409, "invalid_transition");
}

#[actix_web::test]
async fn a_stale_if_match_is_a_412_and_a_missing_one_a_428() {
    let app = spawn_app().await;
    let sn = state("SN");
    let id = app
        .create_need(&sn, &need_body("National CSIRT", "public"))
        .await;
    app.revise(
        Some(&sn),
        &id,
        Some("\"1\""),
        &json!({ "title": "Second title" }),
    )
    .await;
    app.revise(
        Some(&sn),
        &id,
        Some("\"1\""),
        &json!({ "title": "Third title" }),
    )
    .await
    .assert_problem(412, "precondition_failed");
    app.revise(Some(&sn), &id, None, &json!({ "title": "Third title" }))
        .await
        .assert_problem(428, "precondition_required");
    app.revise(
        Some(&sn),
        &id,
        Some("three"),
        &json!({ "title": "Third title" }),
    )
    .await
    .assert_problem(400, "bad_request");
}

#[actix_web::test]
async fn a_body_over_the_limit_is_a_413() {
    let app = spawn_app().await;
    let mut body = need_body("National CSIRT", "public");
    body["description"] = json!("x".repeat(BODY_LIMIT + 1));
    app.post_need(Some(&state("SN")), &body, None)
        .await
        .assert_problem(413, "payload_too_large");
}

#[actix_web::test]
async fn a_body_that_is_not_json_is_a_415() {
    let app = spawn_app().await;
    app.send_raw(
        Method::POST,
        "/v1/needs",
        Some(&state("SN")),
        &[],
        Some("text/plain"),
        b"title=CSIRT".to_vec(),
    )
    .await
    .assert_problem(415, "unsupported_media_type");
}

#[actix_web::test]
async fn invalid_and_unknown_fields_are_a_422_listing_the_fields() {
    let app = spawn_app().await;
    let sn = state("SN");
    let mut body = need_body("x", "public");
    body["themes"] = json!(["not_a_theme"]);
    let reply = app.post_need(Some(&sn), &body, None).await;
    reply.assert_problem(422, "validation_failed");
    let fields: Vec<_> = reply.body["errors"]
        .as_array()
        .expect("field errors")
        .iter()
        .map(|e| e["field"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert!(fields.contains(&"title".to_owned()), "{fields:?}");
    assert!(fields.contains(&"themes[0]".to_owned()), "{fields:?}");

    let mut body = need_body("National CSIRT", "public");
    body["colour"] = json!("blue");
    let reply = app.post_need(Some(&sn), &body, None).await;
    reply.assert_problem(422, "validation_failed");
    assert_eq!(reply.body["errors"][0]["field"], "colour");
    assert_eq!(reply.body["errors"][0]["code"], "unknown_field");
}

#[actix_web::test]
async fn an_empty_text_query_means_no_filter_and_other_empty_values_are_400() {
    let app = spawn_app().await;
    app.post_need(
        Some(&state("SN")),
        &need_body("National CSIRT", "public"),
        None,
    )
    .await;
    let all = app.list(None, "").await;
    let empty_text = app.list(None, "q=").await;
    assert_eq!(empty_text.status, 200, "{empty_text:?}");
    assert_eq!(empty_text.body["total"], all.body["total"]);
    assert_eq!(empty_text.body["total"], 1);
    // The document lists the codes each filter takes; the empty string is not one of them.
    for field in [
        "country",
        "region",
        "status",
        "support_type",
        "language",
        "limit",
        "cursor",
    ] {
        app.list(None, &format!("{field}="))
            .await
            .assert_problem(400, "invalid_query");
    }
}

#[actix_web::test]
async fn bad_list_queries_and_keys_are_400() {
    let app = spawn_app().await;
    for query in [
        "limit=0",
        "limit=101",
        "limit=ten",
        "cursor=abc",
        "theme=nope",
        "colour=blue",
    ] {
        app.list(None, query)
            .await
            .assert_problem(400, "invalid_query");
    }
    let long_key = "k".repeat(201);
    for key in ["", long_key.as_str()] {
        app.post_need(
            Some(&state("SN")),
            &need_body("National CSIRT", "public"),
            Some(key),
        )
        .await
        .assert_problem(400, "bad_request");
    }
}

#[actix_web::test]
async fn a_wrong_method_is_a_405() {
    let app = spawn_app().await;
    app.send(Method::DELETE, "/v1/needs", None, &[], None)
        .await
        .assert_problem(405, "method_not_allowed");
}
