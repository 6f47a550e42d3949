//! `ApiError` renders the table's problem, with the right headers and nothing internal.

use actix_web::test::TestRequest;
use capmatch_http::{Problem, ProblemCode};

use crate::helpers::call;

#[actix_web::test]
async fn every_code_in_the_table_renders_with_its_status_and_type() {
    for code in ProblemCode::ALL {
        let reply = call(TestRequest::get().uri(&format!("/fail/{}", code.as_str()))).await;
        let problem = reply.problem(code.status().as_u16(), code.as_str());
        assert_eq!(problem.title, code.title());
    }
}

#[actix_web::test]
async fn a_500_is_opaque_and_does_not_leak_the_cause() {
    let reply = call(TestRequest::get().uri("/fail/internal")).await;
    let problem = reply.problem(500, "internal");
    assert_eq!(problem.detail, None);
    assert!(!reply.body.contains("disk"), "{}", reply.body);
    assert!(!reply.body.contains("/var/lib"), "{}", reply.body);
}

#[actix_web::test]
async fn errors_of_other_types_are_replaced_by_opaque_problems() {
    let reply = call(TestRequest::get().uri("/fail/foreign")).await;
    reply.problem(500, "internal");
    assert!(!reply.body.contains("sled"), "{}", reply.body);

    let reply = call(TestRequest::get().uri("/fail/foreign-400")).await;
    reply.problem(400, "bad_request");
    assert!(!reply.body.contains("serde"), "{}", reply.body);
}

#[actix_web::test]
async fn a_422_lists_its_field_errors() {
    let reply = call(TestRequest::get().uri("/fail/validation")).await;
    let problem = reply.problem(422, "validation_failed");
    let errors = problem.errors.expect("field errors");
    assert_eq!(errors.len(), 2);
    assert_eq!(errors[0].field.as_deref(), Some("country"));
    assert_eq!(errors[1].code, "unknown_theme");
}

#[actix_web::test]
async fn a_401_asks_for_a_bearer_token() {
    let reply = call(TestRequest::get().uri("/fail/unauthenticated")).await;
    let problem = reply.problem(401, "unauthenticated");
    assert_eq!(
        problem.detail.as_deref(),
        Some("invalid or missing bearer token")
    );
    assert_eq!(reply.header("www-authenticate"), Some("Bearer"));
}

#[actix_web::test]
async fn a_429_says_when_to_retry() {
    let reply = call(TestRequest::get().uri("/fail/too-many")).await;
    reply.problem(429, "too_many_requests");
    assert_eq!(reply.header("retry-after"), Some("7"));
}

#[test]
fn the_problem_schema_carries_an_example() {
    use utoipa::PartialSchema;
    let schema = serde_json::to_value(<Problem as PartialSchema>::schema()).expect("schema json");
    let text = schema.to_string();
    assert!(text.contains("examples"), "{text}");
    assert!(text.contains("validation_failed"), "{text}");
    assert!(text.contains("request_id"), "{text}");
}
