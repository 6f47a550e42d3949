//! Track record and coordinators' feedback come from the event log: a completed partnership
//! raises the provider's suggestions for similar needs in the same area, a dismissal lowers the
//! offer for similar needs, each with a reason, and both survive a restart (rebuilt by replay).

use serde_json::{Value, json};

use crate::helpers::{
    Stack, coordinator, items, need_body, offer_body, poll, provider, spawn_stack, state,
};

/// The coordinator's suggestion of `offer` for `need`, once its reasons contain `reason`.
async fn suggestion_saying(stack: &Stack, need: &str, offer: &str, reason: &str) -> Value {
    let coordinator = coordinator();
    poll(&format!("a suggestion saying {reason:?}"), || async {
        let reply = stack.need_matches(Some(&coordinator), need).await;
        items(&reply).into_iter().find(|item| {
            item["offer_id"] == offer
                && item["reasons"]
                    .as_array()
                    .is_some_and(|r| r.iter().any(|r| r["text"] == reason))
        })
    })
    .await
}

fn component(item: &Value, name: &str) -> f64 {
    item["components"][name].as_f64().unwrap_or(0.0)
}

/// A Senegalese need for a national CSIRT and org-a's offer for Western Africa, suggested.
async fn senegal_and_org_a(stack: &Stack) -> (String, String) {
    let need = stack
        .post_need(&state("SN"), &need_body("National CSIRT", "public"))
        .await;
    let offer = stack
        .post_offer(
            &provider("org-a"),
            &offer_body("CSIRT mentoring", &["011"], 3),
        )
        .await;
    stack.wait_for_suggestion(&need, &offer).await;
    (need, offer)
}

/// A Gambian need like Senegal's.
async fn gambia(stack: &Stack) -> String {
    stack
        .post_need(&state("GM"), &need_body("National CSIRT", "public"))
        .await
}

#[actix_web::test]
async fn a_completed_partnership_in_western_africa_raises_the_provider_for_the_next_similar_need() {
    let mut stack = spawn_stack().await;
    let coordinator = coordinator();
    let (first, offer) = senegal_and_org_a(&stack).await;
    let generalist = stack
        .post_offer(
            &provider("org-b"),
            &offer_body("CSIRT mentoring", &["011"], 3),
        )
        .await;
    let id = format!("{first}~{offer}");
    stack.decided(&coordinator, &id, "shortlist", None).await;
    stack.decided(&coordinator, &id, "introduce", None).await;
    stack.decided(&state("SN"), &id, "accept", None).await;
    stack.decided(&provider("org-a"), &id, "accept", None).await;
    stack
        .decided(
            &coordinator,
            &id,
            "complete",
            Some(&json!({"outcome": "The CSIRT handled its first national incident."})),
        )
        .await;

    // Gambia lies in Western Africa too; the two offers are alike but for org-a's record.
    let second = gambia(&stack).await;
    let reason = "the provider has completed 1 similar partnership in Western Africa";
    let proven = suggestion_saying(&stack, &second, &offer, reason).await;
    let other = stack.wait_for_suggestion(&second, &generalist).await;
    assert!(component(&proven, "track_record") > 0.0, "{proven}");
    assert_eq!(component(&other, "track_record"), 0.0, "{other}");
    assert!(
        proven["score"].as_f64() > other["score"].as_f64(),
        "{proven} against {other}"
    );
    assert!(proven["rank"].as_u64() < other["rank"].as_u64());

    stack.restart_matcher().await;
    let replayed = suggestion_saying(&stack, &second, &offer, reason).await;
    assert_eq!(replayed["score"], proven["score"], "rebuilt from the log");
}

#[actix_web::test]
async fn a_dismissal_lowers_the_offer_for_similar_needs_and_says_so() {
    let stack = spawn_stack().await;
    let coordinator = coordinator();
    let (first, offer) = senegal_and_org_a(&stack).await;
    let second = gambia(&stack).await;
    let before = stack.wait_for_suggestion(&second, &offer).await;
    assert_eq!(component(&before, "feedback"), 0.0, "{before}");

    stack
        .decided(
            &coordinator,
            &format!("{first}~{offer}"),
            "dismiss",
            Some(&json!({"reason": "Their trainers do not work in French"})),
        )
        .await;
    let after = poll("the dismissal to count for the similar need", || async {
        let reply = stack.need_matches(Some(&coordinator), &second).await;
        items(&reply)
            .into_iter()
            .find(|i| i["offer_id"] == offer && component(i, "feedback") < 0.0)
    })
    .await;
    assert!(
        after["score"].as_f64() < before["score"].as_f64(),
        "{after} against {before}"
    );
    let reasons = after["reasons"].as_array().expect("reasons");
    assert!(
        reasons.contains(&json!({
            "component": "feedback",
            "text": "coordinators dismissed this offer for 1 similar need",
        })),
        "{after}"
    );
}
