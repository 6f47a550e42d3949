//! Visibility across the services: a restricted need reaches a provider only through a
//! coordinator's introduction, which the needs service learns from the matcher's feed.

use crate::helpers::{
    coordinator, items, need_body, offer_body, poll, provider, spawn_stack, state,
};

#[actix_web::test]
async fn a_restricted_need_reaches_its_provider_only_through_an_introduction() {
    let stack = spawn_stack().await;
    let (org_a, coordinator) = (provider("org-a"), coordinator());
    let offer = stack
        .post_offer(&org_a, &offer_body("CSIRT mentoring", &["SN"], 2))
        .await;
    let public = stack
        .post_need(&state("SN"), &need_body("National CSIRT", "public"))
        .await;
    let restricted = stack
        .post_need(
            &state("SN"),
            &need_body("Confidential national cyber strategy", "restricted"),
        )
        .await;
    stack.wait_for_suggestion(&public, &offer).await;
    stack.wait_for_suggestion(&restricted, &offer).await;
    let id = format!("{restricted}~{offer}");

    // Before: the needs service hides it from the provider, and so does the matcher.
    stack
        .needs()
        .get(&format!("/v1/needs/{restricted}"), Some(&org_a))
        .await
        .assert_problem(404, "not_found");
    let theirs = stack.offer_matches(Some(&org_a), &offer).await;
    assert_eq!(theirs.status, 200, "{theirs:?}");
    assert_eq!(theirs.body["total"], 1, "{theirs:?}");
    let listed: Vec<_> = items(&theirs)
        .iter()
        .map(|i| i["need_id"].clone())
        .collect();
    assert_eq!(listed, vec![serde_json::json!(public)]);
    assert_eq!(items(&theirs)[0]["rank"], 1);
    let text = theirs.body.to_string();
    assert!(!text.contains(&restricted), "{text}");
    assert!(!text.contains("Confidential"), "{text}");
    // The coordinator sees both.
    let all = stack.offer_matches(Some(&coordinator), &offer).await;
    assert_eq!(all.body["total"], 2, "{all:?}");
    // Nor does the restricted need's match exist for the provider.
    stack
        .get_match(Some(&org_a), &id)
        .await
        .assert_problem(404, "not_found");
    stack
        .decide(Some(&org_a), &id, "accept", None)
        .await
        .assert_problem(404, "not_found");
    stack
        .matcher()
        .get(
            &format!("/v1/matches/why?need_id={restricted}&offer_id={offer}"),
            Some(&org_a),
        )
        .await
        .assert_problem(404, "not_found");

    stack.decided(&coordinator, &id, "shortlist", None).await;
    // Shortlisting introduces no one.
    stack
        .get_match(Some(&org_a), &id)
        .await
        .assert_problem(404, "not_found");
    stack.decided(&coordinator, &id, "introduce", None).await;

    // After: the needs service learns the introduction from the matcher's feed.
    let need = poll(
        "the needs service to show the need to the provider",
        || async {
            let reply = stack
                .needs()
                .get(&format!("/v1/needs/{restricted}"), Some(&org_a))
                .await;
            (reply.status == 200).then_some(reply)
        },
    )
    .await;
    assert_eq!(need.body["title"], "Confidential national cyber strategy");
    // Another provider still sees nothing.
    stack
        .needs()
        .get(&format!("/v1/needs/{restricted}"), Some(&provider("org-b")))
        .await
        .assert_problem(404, "not_found");
    // The matcher lists it for the provider now, and shows the match.
    let theirs = stack.offer_matches(Some(&org_a), &offer).await;
    assert_eq!(theirs.body["total"], 2, "{theirs:?}");
    let reply = stack.get_match(Some(&org_a), &id).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(
        reply.body["need_title"],
        "Confidential national cyber strategy"
    );
    let accepted = stack.decided(&org_a, &id, "accept", None).await;
    assert_eq!(accepted["offer_accepted"], true);
}
