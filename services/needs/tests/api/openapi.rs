//! The OpenAPI document comes from the routing and documents every endpoint fully.

use serde_json::Value;

#[test]
fn the_document_lists_every_public_endpoint_and_nothing_internal() {
    let doc = serde_json::to_value(capmatch_needs::openapi()).expect("json");
    let paths = doc["paths"].as_object().expect("paths");
    let mut names: Vec<_> = paths.keys().cloned().collect();
    names.sort();
    assert_eq!(
        names,
        vec![
            "/v1/needs",
            "/v1/needs/{id}",
            "/v1/needs/{id}/fulfil",
            "/v1/needs/{id}/history",
            "/v1/needs/{id}/withdraw",
            "/v1/taxonomy",
        ]
    );
    let methods = |path: &str| -> Vec<String> {
        let mut m: Vec<_> = paths[path]
            .as_object()
            .expect("item")
            .keys()
            .cloned()
            .collect();
        m.sort();
        m
    };
    assert_eq!(methods("/v1/needs"), vec!["get", "post"]);
    assert_eq!(methods("/v1/needs/{id}"), vec!["get", "patch"]);
    assert!(doc["components"]["securitySchemes"]["bearer_jwt"].is_object());
}

#[test]
fn every_operation_documents_its_problems_as_problem_json() {
    let doc = serde_json::to_value(capmatch_needs::openapi()).expect("json");
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("item") {
            let responses = operation["responses"].as_object().expect("responses");
            let errors: Vec<&Value> = responses
                .iter()
                .filter(|(status, _)| status.starts_with('4') || status.starts_with('5'))
                .map(|(_, r)| r)
                .collect();
            assert!(!errors.is_empty(), "{method} {path} documents no error");
            for error in errors {
                assert_eq!(
                    error["content"]["application/problem+json"]["schema"]["$ref"],
                    "#/components/schemas/Problem",
                    "{method} {path}"
                );
            }
            assert!(
                operation["security"].is_array(),
                "{method} {path} has no security"
            );
        }
    }
    let list = &doc["paths"]["/v1/needs"]["get"]["parameters"];
    let names: Vec<_> = list
        .as_array()
        .expect("parameters")
        .iter()
        .map(|p| p["name"].as_str().unwrap_or_default().to_owned())
        .collect();
    for expected in [
        "theme",
        "country",
        "region",
        "status",
        "support_type",
        "language",
        "q",
        "limit",
        "cursor",
    ] {
        assert!(
            names.contains(&expected.to_owned()),
            "{expected} missing from {names:?}"
        );
    }
}
