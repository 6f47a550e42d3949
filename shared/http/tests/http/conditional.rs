//! `If-Match` on a PATCH: required, parsed, compared.

use actix_web::test::TestRequest;

use crate::helpers::call;

const ITEM: &str = "/items/6f1e2a9c-0d7b-4b8e-9a55-1c0f3d2e4b6a";

#[actix_web::test]
async fn a_patch_without_if_match_is_a_428() {
    let reply = call(TestRequest::patch().uri(ITEM)).await;
    reply.problem(428, "precondition_required");
}

#[actix_web::test]
async fn an_unparsable_if_match_is_a_400() {
    for bad in ["3x", "", "**", "\"three\"", "\"1\", \"2\"", "W/3"] {
        let reply = call(
            TestRequest::patch()
                .uri(ITEM)
                .insert_header(("if-match", bad)),
        )
        .await;
        reply.problem(400, "bad_request");
    }
}

#[actix_web::test]
async fn a_stale_if_match_is_a_412() {
    let reply = call(
        TestRequest::patch()
            .uri(ITEM)
            .insert_header(("if-match", "\"2\"")),
    )
    .await;
    let problem = reply.problem(412, "precondition_failed");
    assert!(
        problem
            .detail
            .expect("a detail")
            .contains("current version is 3")
    );
}

#[actix_web::test]
async fn a_current_if_match_strong_or_weak_or_any_is_accepted() {
    for good in ["\"3\"", "W/\"3\"", "*"] {
        let reply = call(
            TestRequest::patch()
                .uri(ITEM)
                .insert_header(("if-match", good)),
        )
        .await;
        assert_eq!(reply.status.as_u16(), 200, "{}", reply.body);
        assert_eq!(reply.header("etag"), Some("\"4\""));
    }
}
