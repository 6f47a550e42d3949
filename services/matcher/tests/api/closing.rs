//! A withdrawn or fulfilled need, or a withdrawn offer, closes its open matches: one
//! `match.closed` each, by the matcher itself, never doubled by a restart.

use serde_json::{Value, json};

use crate::helpers::{
    Stack, coordinator, need_body, offer_body, poll, provider, spawn_stack, state,
};

/// The match's history event types.
async fn history(stack: &Stack, id: &str) -> Vec<Value> {
    let reply = stack.get_match(Some(&coordinator()), id).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    reply.body["history"].as_array().expect("history").clone()
}

fn closed_count(history: &[Value]) -> usize {
    history
        .iter()
        .filter(|e| e["event_type"] == "match.closed")
        .count()
}

async fn wait_for_status(stack: &Stack, id: &str, status: &str) -> Value {
    let coordinator = coordinator();
    poll(&format!("match {id} to be {status}"), || async {
        let reply = stack.get_match(Some(&coordinator), id).await;
        (reply.body["status"] == status).then_some(reply.body)
    })
    .await
}

#[actix_web::test]
async fn withdrawing_a_need_closes_its_open_matches_exactly_once_even_after_a_restart() {
    let mut stack = spawn_stack().await;
    let sn = state("SN");
    let need = stack
        .post_need(&sn, &need_body("National CSIRT", "public"))
        .await;
    let open = stack
        .post_offer(
            &provider("org-a"),
            &offer_body("CSIRT mentoring", &["SN"], 2),
        )
        .await;
    let done = stack
        .post_offer(
            &provider("org-b"),
            &offer_body("CSIRT training", &["011"], 2),
        )
        .await;
    stack.wait_for_suggestion(&need, &open).await;
    stack.wait_for_suggestion(&need, &done).await;
    let coordinator = coordinator();
    let (open_id, done_id) = (format!("{need}~{open}"), format!("{need}~{done}"));
    stack
        .decided(&coordinator, &open_id, "shortlist", None)
        .await;
    stack
        .decided(&coordinator, &open_id, "introduce", None)
        .await;
    stack
        .decided(
            &coordinator,
            &done_id,
            "dismiss",
            Some(&json!({"reason": "Overlaps"})),
        )
        .await;

    let withdrawn = stack
        .needs()
        .post(
            &format!("/v1/needs/{need}/withdraw"),
            Some(&sn),
            Some(&json!({"reason": "Funded nationally"})),
            None,
        )
        .await;
    assert_eq!(withdrawn.status, 200, "{withdrawn:?}");

    let closed = wait_for_status(&stack, &open_id, "closed").await;
    assert_eq!(closed["close_reason"], "need_withdrawn");
    let events = history(&stack, &open_id).await;
    assert_eq!(closed_count(&events), 1, "{events:?}");
    let last = events.last().expect("an event");
    assert_eq!(last["actor"], "svc:matcher");
    assert_eq!(last["actor_role"], "service");
    // A terminal match stays as it ended.
    assert_eq!(history(&stack, &done_id).await.len(), 1);
    // The need's suggestions are gone, and no new decision can be taken on it.
    assert_eq!(
        stack.need_matches(Some(&coordinator), &need).await.body["total"],
        0
    );
    stack
        .decide(Some(&sn), &open_id, "accept", None)
        .await
        .assert_problem(409, "invalid_transition");

    stack.restart_matcher().await;
    stack.wait_ready().await;
    let events = history(&stack, &open_id).await;
    assert_eq!(closed_count(&events), 1, "{events:?}");
    assert_eq!(history(&stack, &done_id).await.len(), 1);
    let feed = stack.matcher_feed().await;
    let closes = feed
        .iter()
        .filter(|e| e["event_type"] == "match.closed")
        .count();
    assert_eq!(closes, 1, "{feed:?}");
}

#[actix_web::test]
async fn withdrawing_an_offer_closes_its_open_matches_and_frees_nothing_twice() {
    let stack = spawn_stack().await;
    let (need, offer, id) = stack.matched_pair("SN", "org-a").await;
    let coordinator = coordinator();
    stack.decided(&coordinator, &id, "shortlist", None).await;
    stack.decided(&coordinator, &id, "introduce", None).await;
    stack.decided(&state("SN"), &id, "accept", None).await;
    stack.decided(&provider("org-a"), &id, "accept", None).await;

    let withdrawn = stack
        .offers()
        .post(
            &format!("/v1/offers/{offer}/withdraw"),
            Some(&provider("org-a")),
            Some(&json!({"reason": "Programme ended"})),
            None,
        )
        .await;
    assert_eq!(withdrawn.status, 200, "{withdrawn:?}");
    let closed = wait_for_status(&stack, &id, "closed").await;
    assert_eq!(closed["close_reason"], "offer_withdrawn");
    assert_eq!(closed_count(&history(&stack, &id).await), 1);
    assert_eq!(
        stack.need_matches(Some(&coordinator), &need).await.body["total"],
        0
    );
}

#[actix_web::test]
async fn a_fulfilled_need_closes_its_shortlisted_match() {
    let stack = spawn_stack().await;
    let (need, _, id) = stack.matched_pair("SN", "org-a").await;
    stack.decided(&coordinator(), &id, "shortlist", None).await;
    let fulfilled = stack
        .needs()
        .post(
            &format!("/v1/needs/{need}/fulfil"),
            Some(&state("SN")),
            None,
            None,
        )
        .await;
    assert_eq!(fulfilled.status, 200, "{fulfilled:?}");
    let closed = wait_for_status(&stack, &id, "closed").await;
    assert_eq!(closed["close_reason"], "need_fulfilled");
}
