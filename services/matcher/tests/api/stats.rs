//! Public statistics: open to anyone, and blind to restricted needs.

use serde_json::{Value, json};

use crate::helpers::{coordinator, need_body, offer_body, provider, spawn_stack, state};

#[actix_web::test]
async fn statistics_count_public_figures_and_never_a_restricted_need() {
    let stack = spawn_stack().await;
    let (_, offer, id) = stack.matched_pair("SN", "org-a").await;
    let registered = stack
        .post_need(&state("KE"), &need_body("Cybercrime law", "registered"))
        .await;
    let coordinator = coordinator();
    let org_b = provider("org-b");
    let ke_offer = stack
        .post_offer(&org_b, &offer_body("Mentoring in Kenya", &["KE"], 1))
        .await;
    stack.wait_for_suggestion(&registered, &ke_offer).await;
    stack.decided(&coordinator, &id, "shortlist", None).await;

    let before = stack.matcher().get("/v1/stats", None).await;
    assert_eq!(
        before.status, 200,
        "anonymous callers read statistics: {before:?}"
    );
    let body = &before.body;
    assert_eq!(body["needs"]["total"], 2, "{body}");
    assert_eq!(body["needs"]["by_status"], json!({"open": 2}));
    assert_eq!(
        body["needs"]["by_theme"],
        json!({"incident_management_cip": 2})
    );
    assert_eq!(body["needs"]["by_region"], json!({"002": 2}));
    assert_eq!(body["offers"]["total"], 2);
    assert_eq!(body["offers"]["by_region"], json!({"002": 2}));
    assert_eq!(body["matches"]["by_status"], json!({"shortlisted": 1}));
    assert!(
        body["scope"]
            .as_str()
            .unwrap_or_default()
            .contains("restricted")
    );

    // A restricted need, suggested, shortlisted, introduced: no figure moves.
    let restricted = stack
        .post_need(
            &state("SN"),
            &need_body("Secret incident response plan", "restricted"),
        )
        .await;
    stack.wait_for_suggestion(&restricted, &offer).await;
    let hidden = format!("{restricted}~{offer}");
    stack
        .decided(&coordinator, &hidden, "shortlist", None)
        .await;
    stack
        .decided(&coordinator, &hidden, "introduce", None)
        .await;
    let after = stack.matcher().get("/v1/stats", Some(&coordinator)).await;
    assert_eq!(after.body, before.body);
    let text = after.body.to_string();
    assert!(!text.contains(&restricted), "{text}");
    assert!(!text.contains("Secret"), "{text}");
}

#[actix_web::test]
async fn statistics_give_the_median_time_to_an_agreed_partnership() {
    let stack = spawn_stack().await;
    let (_, _, id) = stack.matched_pair("SN", "org-a").await;
    let none = stack.matcher().get("/v1/stats", None).await;
    assert_eq!(none.body["median_hours_to_agreement"], Value::Null);
    assert_eq!(none.body["needs_with_agreement"], 0);
    let coordinator = coordinator();
    stack.decided(&coordinator, &id, "shortlist", None).await;
    stack.decided(&coordinator, &id, "introduce", None).await;
    stack.decided(&state("SN"), &id, "accept", None).await;
    stack.decided(&provider("org-a"), &id, "accept", None).await;
    let stats = stack.matcher().get("/v1/stats", None).await;
    assert_eq!(stats.body["needs_with_agreement"], 1);
    let hours = stats.body["median_hours_to_agreement"]
        .as_f64()
        .expect("a median");
    assert!((0.0..1.0).contains(&hours), "{hours}");
    assert_eq!(stats.body["matches"]["by_status"], json!({"agreed": 1}));
}
