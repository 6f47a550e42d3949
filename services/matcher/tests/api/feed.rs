//! The matcher's own internal feed: its decisions, for services only.

use crate::helpers::{coordinator, spawn_stack, state};

#[actix_web::test]
async fn the_feed_serves_every_decision_with_its_pair_to_services_only() {
    let stack = spawn_stack().await;
    let (need, offer, id) = stack.matched_pair("SN", "org-a").await;
    let coordinator = coordinator();
    stack.decided(&coordinator, &id, "shortlist", None).await;
    stack.decided(&coordinator, &id, "introduce", None).await;

    let events = stack.matcher_feed().await;
    let types: Vec<&str> = events
        .iter()
        .map(|e| e["event_type"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(types, vec!["match.shortlisted", "match.introduced"]);
    let introduced = &events[1];
    assert_eq!(introduced["stream"], format!("match-{id}"));
    assert_eq!(introduced["position"], 2);
    assert_eq!(introduced["payload"]["need_id"], need.as_str());
    assert_eq!(introduced["payload"]["offer_id"], offer.as_str());
    assert_eq!(introduced["payload"]["provider_org"], "org-a");
    assert_eq!(introduced["payload"]["need_country"], "SN");

    let head = stack
        .matcher()
        .get("/internal/head", Some(&crate::helpers::service()))
        .await;
    assert_eq!(head.body["position"], 2, "{head:?}");
    for token in [coordinator, state("SN")] {
        stack
            .matcher()
            .get("/internal/events", Some(&token))
            .await
            .assert_problem(403, "forbidden");
    }
    stack
        .matcher()
        .get("/internal/events", None)
        .await
        .assert_problem(401, "unauthenticated");
}
