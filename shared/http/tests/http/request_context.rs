//! Request ids and the per-request span.

use actix_web::test::TestRequest;

use crate::helpers::{Capture, call};

#[actix_web::test]
async fn a_valid_incoming_request_id_is_kept_and_echoed() {
    let reply = call(
        TestRequest::get()
            .uri("/items/6f1e2a9c-0d7b-4b8e-9a55-1c0f3d2e4b6a")
            .insert_header(("x-request-id", "trace-42.a_b")),
    )
    .await;
    assert_eq!(reply.status.as_u16(), 200);
    assert_eq!(reply.header("x-request-id"), Some("trace-42.a_b"));
    assert!(
        reply.body.contains("\"request_id\":\"trace-42.a_b\""),
        "handler sees the same id"
    );
    assert_eq!(reply.header("etag"), Some("\"3\""));
}

#[actix_web::test]
async fn an_unacceptable_request_id_is_replaced_by_a_uuid() {
    for bad in ["has space", "", "<script>", &"x".repeat(129)] {
        let reply = call(
            TestRequest::get()
                .uri("/items?limit=1")
                .insert_header(("x-request-id", bad)),
        )
        .await;
        let id = reply.header("x-request-id").expect("a request id");
        assert_ne!(id, bad);
        assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
    }
}

#[actix_web::test]
async fn without_a_request_id_one_is_generated_and_put_in_problems() {
    let reply = call(TestRequest::get().uri("/nowhere")).await;
    let problem = reply.problem(404, "not_found");
    let id = problem.request_id.expect("a request id");
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
}

#[actix_web::test]
async fn each_request_gets_a_span_with_its_id_and_one_access_line_and_no_token() {
    let capture = Capture::default();
    let _guard = tracing::subscriber::set_default(capture.clone());
    let token = "eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LXRva2Vu.c2ln";
    let reply = call(
        TestRequest::get()
            .uri("/items/6f1e2a9c-0d7b-4b8e-9a55-1c0f3d2e4b6a")
            .insert_header(("x-request-id", "span-test"))
            .insert_header(("authorization", format!("Bearer {token}"))),
    )
    .await;
    assert_eq!(reply.status.as_u16(), 200);

    let spans = capture.spans_named("request");
    assert_eq!(spans.len(), 1, "{}", capture.everything());
    assert_eq!(
        spans[0].get("request_id").map(String::as_str),
        Some("span-test")
    );
    let lines = capture.events_saying("request completed");
    assert_eq!(lines.len(), 1, "{}", capture.everything());
    let line = &lines[0];
    assert_eq!(line.get("in_span").map(String::as_str), Some("request"));
    assert_eq!(line.get("method").map(String::as_str), Some("GET"));
    assert_eq!(line.get("route").map(String::as_str), Some("/items/{id}"));
    assert_eq!(line.get("status").map(String::as_str), Some("200"));
    assert!(line.contains_key("latency_ms"), "{line:?}");
    let everything = capture.everything();
    assert!(!everything.contains(token), "{everything}");
    assert!(!everything.contains("Bearer"), "{everything}");
    // The raw path (an entity id) is not logged: routes are patterns.
    assert!(!everything.contains("6f1e2a9c"), "{everything}");
}

#[actix_web::test]
async fn a_500_logs_its_cause_chain() {
    let capture = Capture::default();
    let _guard = tracing::subscriber::set_default(capture.clone());
    let reply = call(TestRequest::get().uri("/fail/internal")).await;
    reply.problem(500, "internal");
    let everything = capture.everything();
    assert!(
        everything.contains("disk /var/lib/capmatch/needs is full"),
        "{everything}"
    );
}

#[actix_web::test]
async fn an_error_from_an_inner_middleware_is_still_a_problem_with_the_request_id() {
    use actix_web::body::MessageBody;
    use actix_web::dev::{ServiceRequest, ServiceResponse};
    use actix_web::middleware::{Next, from_fn};

    async fn refuse(
        _req: ServiceRequest,
        _next: Next<impl MessageBody>,
    ) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
        Err::<ServiceResponse, _>(
            capmatch_http::ApiError::unavailable(std::io::Error::other("store closed")).into(),
        )
    }

    let app = actix_web::test::init_service(
        actix_web::App::new()
            .route("/", actix_web::web::get().to(actix_web::HttpResponse::Ok))
            .wrap(from_fn(refuse))
            .wrap(from_fn(capmatch_http::request_context)),
    )
    .await;
    let req = TestRequest::get()
        .uri("/")
        .insert_header(("x-request-id", "mw-err"))
        .to_request();
    let err = actix_web::test::try_call_service(&app, req)
        .await
        .expect_err("an error");
    let res = err.error_response();
    assert_eq!(res.status().as_u16(), 503);
    assert_eq!(
        res.headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok()),
        Some("mw-err")
    );
    let body = actix_web::body::to_bytes(res.into_body())
        .await
        .expect("a body");
    let problem: capmatch_http::Problem = serde_json::from_slice(&body).expect("a problem");
    assert_eq!(problem.code, "unavailable");
    assert_eq!(problem.request_id.as_deref(), Some("mw-err"));
    assert!(!String::from_utf8_lossy(&body).contains("store closed"));
}
