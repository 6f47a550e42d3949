//! Extractor failures become problems from the table.

use actix_web::test::TestRequest;

use crate::helpers::{TEST_LIMIT, call};

fn post_json(body: &str) -> TestRequest {
    TestRequest::post()
        .uri("/items")
        .insert_header(("content-type", "application/json"))
        .set_payload(body.to_owned())
}

#[actix_web::test]
async fn a_valid_body_is_accepted() {
    let reply = call(post_json(r#"{"title":"CSIRT","count":2}"#)).await;
    assert_eq!(reply.status.as_u16(), 201, "{}", reply.body);
}

#[actix_web::test]
async fn malformed_json_is_a_400_malformed_json() {
    let reply = call(post_json(r#"{"title": "CSIRT", "count": "#)).await;
    let problem = reply.problem(400, "malformed_json");
    assert!(problem.detail.expect("a detail").contains("not valid JSON"));

    let reply = call(post_json(r#"{"title": oops}"#)).await;
    reply.problem(400, "malformed_json");
}

#[actix_web::test]
async fn an_unknown_field_is_a_422_naming_the_field() {
    let reply = call(post_json(r#"{"title":"CSIRT","count":2,"colour":"red"}"#)).await;
    let problem = reply.problem(422, "validation_failed");
    let errors = problem.errors.expect("field errors");
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].field.as_deref(), Some("colour"));
    assert_eq!(errors[0].code, "unknown_field");
    assert!(
        !reply.body.contains("expected"),
        "no list of internal fields: {}",
        reply.body
    );
}

#[actix_web::test]
async fn a_missing_field_is_a_422_naming_the_field() {
    let reply = call(post_json(r#"{"title":"CSIRT"}"#)).await;
    let problem = reply.problem(422, "validation_failed");
    let errors = problem.errors.expect("field errors");
    assert_eq!(errors[0].field.as_deref(), Some("count"));
    assert_eq!(errors[0].code, "missing_field");
}

#[actix_web::test]
async fn a_wrong_type_is_a_422_without_echo_or_rust_types() {
    let reply = call(post_json(
        r#"{"title":"CSIRT","count":"confidential plan"}"#,
    ))
    .await;
    let problem = reply.problem(422, "validation_failed");
    let errors = problem.errors.expect("field errors");
    assert_eq!(errors[0].code, "invalid_type");
    assert_eq!(errors[0].message, "invalid type; expected an integer");
    assert!(!reply.body.contains("confidential plan"), "{}", reply.body);
    assert!(!reply.body.contains("u32"), "{}", reply.body);

    let reply = call(post_json(r#"["not", "an", "object"]"#)).await;
    reply.problem(422, "validation_failed");
    assert!(!reply.body.contains("NewItem"), "{}", reply.body);
    assert!(!reply.body.contains("struct"), "{}", reply.body);
}

#[actix_web::test]
async fn a_body_over_the_limit_is_a_413() {
    let big = format!(r#"{{"title":"{}","count":1}}"#, "x".repeat(TEST_LIMIT));
    let reply = call(post_json(&big)).await;
    let problem = reply.problem(413, "payload_too_large");
    assert!(
        problem
            .detail
            .expect("a detail")
            .contains(&TEST_LIMIT.to_string())
    );
}

#[actix_web::test]
async fn a_streamed_body_over_the_limit_is_a_413() {
    // No Content-Length: the limit is enforced while reading.
    let big = format!(r#"{{"title":"{}","count":1}}"#, "x".repeat(TEST_LIMIT));
    let req = post_json(&big);
    let mut req = req.to_request();
    req.headers_mut().remove("content-length");
    let app = actix_web::test::init_service(
        actix_web::App::new()
            .app_data(capmatch_http::json_config_with_limit(TEST_LIMIT))
            .route(
                "/items",
                actix_web::web::post().to(|_: actix_web::web::Json<serde_json::Value>| async {
                    actix_web::HttpResponse::Ok().finish()
                }),
            )
            .wrap(actix_web::middleware::from_fn(
                capmatch_http::request_context,
            )),
    )
    .await;
    let res = actix_web::test::call_service(&app, req).await;
    assert_eq!(res.status().as_u16(), 413);
}

#[actix_web::test]
async fn a_body_that_is_not_json_is_a_415() {
    let reply = call(
        TestRequest::post()
            .uri("/items")
            .insert_header(("content-type", "text/plain"))
            .set_payload(r#"{"title":"CSIRT","count":2}"#),
    )
    .await;
    reply.problem(415, "unsupported_media_type");

    let reply = call(
        TestRequest::post()
            .uri("/items")
            .set_payload(r#"{"title":"x","count":2}"#),
    )
    .await;
    reply.problem(415, "unsupported_media_type");
}

#[actix_web::test]
async fn problem_json_and_charset_are_accepted_as_json() {
    let reply = call(
        TestRequest::post()
            .uri("/items")
            .insert_header(("content-type", "application/json; charset=utf-8"))
            .set_payload(r#"{"title":"CSIRT","count":2}"#),
    )
    .await;
    assert_eq!(reply.status.as_u16(), 201, "{}", reply.body);
}

#[actix_web::test]
async fn a_bad_query_is_a_400_invalid_query() {
    let reply = call(TestRequest::get().uri("/items?limit=lots")).await;
    let problem = reply.problem(400, "invalid_query");
    assert!(
        problem
            .errors
            .is_some_and(|e| e[0].field.as_deref() == Some("query"))
    );
    assert!(!reply.body.contains("lots"), "{}", reply.body);

    let reply = call(TestRequest::get().uri("/items?colour=red")).await;
    let problem = reply.problem(400, "invalid_query");
    let errors = problem.errors.expect("field errors");
    assert_eq!(errors[0].field.as_deref(), Some("query.colour"));
    assert_eq!(errors[0].code, "unknown_field");

    let reply = call(TestRequest::get().uri("/items?limit=5")).await;
    assert_eq!(reply.status.as_u16(), 200);
}

#[actix_web::test]
async fn an_unparsable_id_in_the_path_is_a_404() {
    let reply = call(TestRequest::get().uri("/items/not-a-uuid")).await;
    reply.problem(404, "not_found");
}

#[actix_web::test]
async fn an_unknown_route_is_a_404() {
    let reply = call(TestRequest::get().uri("/nowhere")).await;
    reply.problem(404, "not_found");
}

#[actix_web::test]
async fn a_known_path_with_the_wrong_method_is_a_405() {
    // Routes declared with the method macros: the default service sees the path exists.
    let reply = call(TestRequest::delete().uri("/items")).await;
    reply.problem(405, "method_not_allowed");

    // A `web::resource`: actix's own empty 405 becomes a problem, keeping `Allow`.
    let reply = call(TestRequest::post().uri("/resource")).await;
    reply.problem(405, "method_not_allowed");
    assert_eq!(reply.header("allow"), Some("GET"));
}

#[actix_web::test]
async fn configure_installs_everything_on_an_app() {
    let app = actix_web::test::init_service(
        actix_web::App::new()
            .configure(capmatch_http::extract::configure)
            .route(
                "/echo",
                actix_web::web::post().to(
                    |v: actix_web::web::Json<serde_json::Value>| async move {
                        actix_web::HttpResponse::Ok().json(v.into_inner())
                    },
                ),
            )
            .wrap(actix_web::middleware::from_fn(
                capmatch_http::request_context,
            )),
    )
    .await;
    let big = format!(
        "\"{}\"",
        "x".repeat(capmatch_http::extract::DEFAULT_JSON_LIMIT)
    );
    let req = post_json(&big).uri("/echo").to_request();
    let res = actix_web::test::call_service(&app, req).await;
    assert_eq!(res.status().as_u16(), 413);

    let req = post_json("{").uri("/echo").to_request();
    let res = actix_web::test::call_service(&app, req).await;
    assert_eq!(res.status().as_u16(), 400);

    let req = TestRequest::get().uri("/elsewhere").to_request();
    let res = actix_web::test::call_service(&app, req).await;
    assert_eq!(res.status().as_u16(), 404);
}
