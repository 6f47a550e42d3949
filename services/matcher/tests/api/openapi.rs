//! The OpenAPI document comes from the routing and documents every endpoint fully.

use serde_json::Value;

fn document() -> Value {
    serde_json::to_value(capmatch_matcher::openapi()).expect("json")
}

#[test]
fn the_document_lists_every_public_endpoint_and_nothing_internal() {
    let doc = document();
    let paths = doc["paths"].as_object().expect("paths");
    let mut names: Vec<_> = paths.keys().cloned().collect();
    names.sort();
    assert_eq!(
        names,
        vec![
            "/v1/matches",
            "/v1/matches/why",
            "/v1/matches/{id}",
            "/v1/matches/{id}/accept",
            "/v1/matches/{id}/complete",
            "/v1/matches/{id}/decline",
            "/v1/matches/{id}/dismiss",
            "/v1/matches/{id}/introduce",
            "/v1/matches/{id}/shortlist",
            "/v1/needs/{id}/matches",
            "/v1/offers/{id}/matches",
            "/v1/plan",
            "/v1/stats",
        ]
    );
    assert!(doc["components"]["securitySchemes"]["bearer_jwt"].is_object());
    for schema in [
        "MatchView",
        "MatchDetail",
        "QueuePage",
        "PublicStats",
        "WhyView",
        "PlanView",
    ] {
        assert!(doc["components"]["schemas"][schema].is_object(), "{schema}");
    }
}

#[test]
fn every_operation_documents_its_problems_and_its_security() {
    let doc = document();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("item") {
            let responses = operation["responses"].as_object().expect("responses");
            assert!(responses.contains_key("200"), "{method} {path}");
            let errors: Vec<(&String, &Value)> = responses
                .iter()
                .filter(|(status, _)| status.starts_with('4') || status.starts_with('5'))
                .collect();
            assert!(!errors.is_empty(), "{method} {path} documents no error");
            for (status, error) in errors {
                assert_eq!(
                    error["content"]["application/problem+json"]["schema"]["$ref"],
                    "#/components/schemas/Problem",
                    "{method} {path} {status}"
                );
            }
            let security = operation["security"].as_array().expect("security");
            if path == "/v1/stats" {
                assert!(!responses.contains_key("401"), "statistics are public");
            } else {
                assert!(responses.contains_key("401"), "{method} {path}");
                assert!(
                    security.iter().any(|s| s.get("bearer_jwt").is_some()),
                    "{method} {path}"
                );
            }
        }
    }
}
