//! The OpenAPI document comes from the routing and documents every endpoint fully.

#[test]
fn the_document_lists_every_public_endpoint_with_problem_responses() {
    let doc = serde_json::to_value(capmatch_offers::openapi()).expect("json");
    let paths = doc["paths"].as_object().expect("paths");
    let mut names: Vec<_> = paths.keys().cloned().collect();
    names.sort();
    assert_eq!(
        names,
        vec![
            "/v1/offers",
            "/v1/offers/{id}",
            "/v1/offers/{id}/history",
            "/v1/offers/{id}/pause",
            "/v1/offers/{id}/resume",
            "/v1/offers/{id}/withdraw",
        ]
    );
    assert!(doc["components"]["securitySchemes"]["bearer_jwt"].is_object());
    for (path, item) in paths {
        for (method, operation) in item.as_object().expect("item") {
            let responses = operation["responses"].as_object().expect("responses");
            let mut errors = responses
                .iter()
                .filter(|(status, _)| status.starts_with('4') || status.starts_with('5'))
                .peekable();
            assert!(
                errors.peek().is_some(),
                "{method} {path} documents no error"
            );
            for (status, response) in errors {
                assert_eq!(
                    response["content"]["application/problem+json"]["schema"]["$ref"],
                    "#/components/schemas/Problem",
                    "{method} {path} {status}"
                );
            }
        }
    }
    let params = doc["paths"]["/v1/offers"]["get"]["parameters"]
        .as_array()
        .expect("parameters")
        .len();
    assert_eq!(params, 9);
}
