//! The index is a projection the matcher can always rebuild: a restart gives the same
//! suggestions; a peer that is down makes it unready, and once back nothing is lost or doubled.

use serde_json::{Value, json};

use crate::helpers::{
    Stack, coordinator, items, need_body, offer_body, poll, provider, service, spawn_stack, state,
};

/// What the coordinator sees for `need`: (match id, rank, status, score) per suggestion.
async fn suggestions(stack: &Stack, path: &str) -> Vec<(String, u64, String, f64)> {
    let reply = stack.matcher().get(path, Some(&coordinator())).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    items(&reply)
        .iter()
        .map(|i| {
            (
                i["match_id"].as_str().unwrap_or_default().to_owned(),
                i["rank"].as_u64().unwrap_or_default(),
                i["status"].as_str().unwrap_or_default().to_owned(),
                i["score"].as_f64().unwrap_or_default(),
            )
        })
        .collect()
}

fn same(a: &[(String, u64, String, f64)], b: &[(String, u64, String, f64)]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| x.0 == y.0 && x.1 == y.1 && x.2 == y.2 && (x.3 - y.3).abs() < 1e-6)
}

#[actix_web::test]
async fn a_restart_rebuilds_the_same_suggestions() {
    let mut stack = spawn_stack().await;
    let mut needs = Vec::new();
    for (country, title) in [
        ("SN", "National CSIRT"),
        ("GH", "CSIRT staffing"),
        ("NG", "Security operations centre"),
    ] {
        needs.push(
            stack
                .post_need(&state(country), &need_body(title, "public"))
                .await,
        );
    }
    let mut offers = Vec::new();
    for (org, coverage) in [
        ("org-a", "SN"),
        ("org-b", "011"),
        ("org-c", "002"),
        ("org-d", "001"),
    ] {
        let body = offer_body(
            &format!("Incident response help from {org}"),
            &[coverage],
            2,
        );
        offers.push(stack.post_offer(&provider(org), &body).await);
    }
    for need in &needs {
        stack.wait_for_suggestion(need, &offers[3]).await;
    }
    let coordinator = coordinator();
    let first = format!("{}~{}", needs[0], offers[1]);
    stack.decided(&coordinator, &first, "shortlist", None).await;
    let dismissed = format!("{}~{}", needs[1], offers[2]);
    stack
        .decided(
            &coordinator,
            &dismissed,
            "dismiss",
            Some(&json!({"reason": "No"})),
        )
        .await;
    let paths: Vec<String> = needs
        .iter()
        .map(|n| format!("/v1/needs/{n}/matches"))
        .chain(offers.iter().map(|o| format!("/v1/offers/{o}/matches")))
        .collect();
    let mut before = Vec::new();
    for path in &paths {
        before.push(suggestions(&stack, path).await);
    }
    assert!(before.iter().all(|s| !s.is_empty()));

    stack.restart_matcher().await;
    stack.wait_ready().await;
    for (path, expected) in paths.iter().zip(&before) {
        let after = suggestions(&stack, path).await;
        assert!(same(&after, expected), "{path}: {after:?} != {expected:?}");
    }
    let status = stack.get_match(Some(&coordinator), &first).await;
    assert_eq!(status.body["status"], "shortlisted");
}

fn check(body: &Value, name: &str) -> bool {
    body["checks"][name]["ok"].as_bool().unwrap_or(false)
}

#[actix_web::test]
async fn a_peer_that_is_down_makes_the_matcher_unready_and_nothing_is_lost_or_doubled() {
    let mut stack = spawn_stack().await;
    let (need, offer, _) = stack.matched_pair("SN", "org-a").await;

    let dir = stack.stop_offers().await;
    let down = poll("the matcher to notice", || async {
        let reply = stack.matcher().get("/readyz", Some(&service())).await;
        (reply.status == 503).then_some(reply)
    })
    .await;
    down.assert_problem(503, "unavailable");
    assert!(!check(&down.body, "offers_feed"), "{down:?}");
    assert!(check(&down.body, "needs_feed"), "{down:?}");
    // What it knows, it still serves.
    let list = stack.need_matches(Some(&coordinator()), &need).await;
    assert_eq!(list.body["total"], 1);

    stack.start_offers_on(dir).await;
    let second = stack
        .post_offer(
            &provider("org-b"),
            &offer_body("More CSIRT mentoring", &["SN"], 1),
        )
        .await;
    stack.wait_for_suggestion(&need, &second).await;
    stack.wait_ready().await;
    let ready = stack.matcher().get("/readyz", Some(&service())).await;
    let feed = &ready.body["checks"]["offers_feed"]["detail"]["feed"];
    assert_eq!(feed["checkpoint"], feed["peer_head"], "{ready:?}");
    assert_eq!(
        feed["checkpoint"], 2,
        "two offers posted, two events: {ready:?}"
    );

    let list = stack.need_matches(Some(&coordinator()), &need).await;
    let mut offers: Vec<String> = items(&list)
        .iter()
        .map(|i| i["offer_id"].as_str().unwrap_or_default().to_owned())
        .collect();
    offers.sort();
    let mut expected = vec![offer, second];
    expected.sort();
    assert_eq!(offers, expected, "each offer once: {list:?}");
}

#[actix_web::test]
async fn the_matcher_starts_while_a_peer_is_down_and_catches_up_when_it_comes() {
    let mut stack = spawn_stack().await;
    let (need, offer, _) = stack.matched_pair("SN", "org-a").await;
    let dir = stack.stop_offers().await;
    stack.restart_matcher().await;
    let reply = stack.matcher().get("/readyz", Some(&service())).await;
    reply.assert_problem(503, "unavailable");
    // Without the offers the index is not built: suggestions are unavailable, not empty.
    stack
        .need_matches(Some(&coordinator()), &need)
        .await
        .assert_problem(503, "unavailable");
    stack.start_offers_on(dir).await;
    stack.wait_ready().await;
    let list = stack.need_matches(Some(&coordinator()), &need).await;
    assert_eq!(items(&list)[0]["offer_id"], offer.as_str(), "{list:?}");
    assert_eq!(list.body["total"], 1);
}
