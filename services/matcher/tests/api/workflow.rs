//! The review workflow over HTTP: the whole journey, and every refusal by role,
//! transition and field.

use actix_web::http::Method;
use serde_json::{Value, json};

use crate::helpers::{
    coordinator, items, need_body, offer_body, poll, provider, send, spawn_stack, spawn_stack_with,
    state,
};

fn note(text: &str) -> Value {
    json!({ "note": text })
}

fn reason(text: &str) -> Value {
    json!({ "reason": text })
}

#[actix_web::test]
async fn a_partnership_goes_from_suggested_to_completed() {
    let stack = spawn_stack().await;
    let (need, offer, id) = stack.matched_pair("SN", "org-a").await;
    let (coordinator, sn, org_a) = (coordinator(), state("SN"), provider("org-a"));

    let shortlisted = stack
        .decide(
            Some(&coordinator),
            &id,
            "shortlist",
            Some(&note("Strong fit")),
        )
        .await;
    assert_eq!(shortlisted.status, 200, "{shortlisted:?}");
    assert_eq!(shortlisted.etag(), "\"1\"");
    assert_eq!(shortlisted.body["status"], "shortlisted");
    assert_eq!(shortlisted.body["id"], id.as_str());
    assert_eq!(shortlisted.body["need_id"], need.as_str());
    assert_eq!(shortlisted.body["offer_id"], offer.as_str());
    assert_eq!(shortlisted.body["need_country"], "SN");
    assert_eq!(shortlisted.body["provider_org"], "org-a");
    assert_eq!(shortlisted.body["version"], 1);

    // The suggestion lists show the decision at once (read-your-writes).
    let list = stack.need_matches(Some(&sn), &need).await;
    assert_eq!(items(&list)[0]["status"], "shortlisted");

    let introduced = stack.decided(&coordinator, &id, "introduce", None).await;
    assert_eq!(introduced["status"], "introduced");
    assert_eq!(introduced["stale"], false);
    assert_eq!(introduced["waiting_for"], json!(["need", "offer"]));
    assert!(introduced["introduced_at"].is_string());

    let accepted = stack.decided(&sn, &id, "accept", None).await;
    assert_eq!(accepted["status"], "introduced");
    assert_eq!(accepted["need_accepted"], true);
    assert_eq!(accepted["waiting_for"], json!(["offer"]));

    let agreed = stack.decided(&org_a, &id, "accept", None).await;
    assert_eq!(agreed["status"], "agreed");
    assert_eq!(agreed["offer_accepted"], true);
    assert!(agreed["agreed_at"].is_string());
    assert_eq!(agreed["version"], 5, "accept, accept and agreed: {agreed}");

    let completed = stack
        .decide(
            Some(&coordinator),
            &id,
            "complete",
            Some(&json!({"outcome": "The CSIRT handled its first national incident."})),
        )
        .await;
    assert_eq!(completed.status, 200, "{completed:?}");
    assert_eq!(completed.etag(), "\"6\"");
    assert_eq!(completed.body["status"], "completed");
    assert_eq!(
        completed.body["outcome"],
        "The CSIRT handled its first national incident."
    );

    // One match with its whole history: who, when, what.
    for token in [&coordinator, &sn, &org_a] {
        let reply = stack.get_match(Some(token), &id).await;
        assert_eq!(reply.status, 200, "{reply:?}");
        assert_eq!(reply.etag(), "\"6\"");
        assert_eq!(reply.body["need_title"], "National CSIRT");
        assert_eq!(reply.body["offer_title"], "CSIRT mentoring");
        let history = reply.body["history"].as_array().expect("history");
        let types: Vec<&str> = history
            .iter()
            .map(|e| e["event_type"].as_str().unwrap_or_default())
            .collect();
        assert_eq!(
            types,
            vec![
                "match.shortlisted",
                "match.introduced",
                "match.accepted",
                "match.accepted",
                "match.agreed",
                "match.completed",
            ]
        );
        assert_eq!(history[0]["actor"], "coordinator:1");
        assert_eq!(history[0]["actor_role"], "coordinator");
        assert_eq!(history[0]["payload"]["text"], "Strong fit");
        assert!(history[0]["recorded_at"].is_string());
        assert_eq!(history[2]["actor"], "state:SN");
        assert_eq!(history[3]["actor"], "user@org-a");
    }
    // Others never learn of it.
    for token in [state("GH"), provider("org-b")] {
        stack
            .get_match(Some(&token), &id)
            .await
            .assert_problem(404, "not_found");
    }
    stack
        .get_match(None, &id)
        .await
        .assert_problem(401, "unauthenticated");
}

#[actix_web::test]
async fn each_decision_is_refused_to_a_role_that_may_not_take_it() {
    let stack = spawn_stack().await;
    let (_, _, id) = stack.matched_pair("SN", "org-a").await;
    let (coordinator, sn, org_a) = (coordinator(), state("SN"), provider("org-a"));

    for action in ["shortlist", "introduce", "complete"] {
        stack
            .decide(Some(&sn), &id, action, Some(&json!({})))
            .await
            .assert_problem(403, "forbidden");
    }
    stack
        .decide(Some(&sn), &id, "dismiss", Some(&reason("No")))
        .await
        .assert_problem(403, "forbidden");
    stack
        .decide(None, &id, "shortlist", None)
        .await
        .assert_problem(401, "unauthenticated");
    // Before the introduction the match does not exist for its provider.
    for action in ["shortlist", "accept"] {
        stack
            .decide(Some(&org_a), &id, action, None)
            .await
            .assert_problem(404, "not_found");
    }
    stack
        .get_match(Some(&org_a), &id)
        .await
        .assert_problem(404, "not_found");

    stack.decided(&coordinator, &id, "shortlist", None).await;
    stack.decided(&coordinator, &id, "introduce", None).await;
    assert_eq!(stack.get_match(Some(&org_a), &id).await.status, 200);
    // Only the parties accept or decline: a coordinator, who sees the match, may not (403);
    // another state or provider does not see it, and is told what a read tells it (404).
    for (token, status, code) in [
        (coordinator.clone(), 403, "forbidden"),
        (state("GH"), 404, "not_found"),
        (provider("org-b"), 404, "not_found"),
    ] {
        let read = stack.get_match(Some(&token), &id).await.status;
        assert_eq!(read, if status == 403 { 200 } else { 404 });
        stack
            .decide(Some(&token), &id, "accept", None)
            .await
            .assert_problem(status, code);
        stack
            .decide(Some(&token), &id, "decline", Some(&reason("Not ours")))
            .await
            .assert_problem(status, code);
    }
    // A party may not shortlist, introduce or complete.
    for token in [&sn, &org_a] {
        stack
            .decide(
                Some(token),
                &id,
                "complete",
                Some(&json!({"outcome": "Done"})),
            )
            .await
            .assert_problem(403, "forbidden");
    }
}

#[actix_web::test]
async fn a_decision_out_of_order_is_an_invalid_transition() {
    let stack = spawn_stack().await;
    let (_, _, id) = stack.matched_pair("SN", "org-a").await;
    let (coordinator, sn, org_a) = (coordinator(), state("SN"), provider("org-a"));

    stack
        .decide(Some(&coordinator), &id, "introduce", None)
        .await
        .assert_problem(409, "invalid_transition");
    stack
        .decide(Some(&sn), &id, "accept", None)
        .await
        .assert_problem(409, "invalid_transition");
    stack
        .decide(
            Some(&coordinator),
            &id,
            "complete",
            Some(&json!({"outcome": "x"})),
        )
        .await
        .assert_problem(409, "invalid_transition");
    stack.decided(&coordinator, &id, "shortlist", None).await;
    stack
        .decide(Some(&coordinator), &id, "shortlist", None)
        .await
        .assert_problem(409, "invalid_transition");
    stack.decided(&coordinator, &id, "introduce", None).await;
    stack
        .decide(
            Some(&coordinator),
            &id,
            "dismiss",
            Some(&reason("Too late")),
        )
        .await
        .assert_problem(409, "invalid_transition");
    stack.decided(&sn, &id, "accept", None).await;
    stack
        .decide(Some(&sn), &id, "accept", None)
        .await
        .assert_problem(409, "invalid_transition");
    let declined = stack
        .decided(
            &org_a,
            &id,
            "decline",
            Some(&reason("No capacity this year")),
        )
        .await;
    assert_eq!(declined["status"], "declined");
    assert_eq!(declined["declined_by"], "offer");
    assert_eq!(declined["reason"], "No capacity this year");
    stack
        .decide(Some(&sn), &id, "accept", None)
        .await
        .assert_problem(409, "invalid_transition");
}

#[actix_web::test]
async fn reasons_and_outcomes_are_required_and_bounded() {
    let stack = spawn_stack().await;
    let (_, _, id) = stack.matched_pair("SN", "org-a").await;
    let (coordinator, sn) = (coordinator(), state("SN"));

    let missing = stack.decide(Some(&coordinator), &id, "dismiss", None).await;
    missing.assert_problem(422, "validation_failed");
    assert_eq!(missing.body["errors"][0]["field"], "reason", "{missing:?}");
    stack
        .decide(Some(&coordinator), &id, "dismiss", Some(&reason("   ")))
        .await
        .assert_problem(422, "validation_failed");
    let long = "x".repeat(2001);
    stack
        .decide(Some(&coordinator), &id, "shortlist", Some(&note(&long)))
        .await
        .assert_problem(422, "validation_failed");
    stack
        .decide(
            Some(&coordinator),
            &id,
            "shortlist",
            Some(&json!({"nope": 1})),
        )
        .await
        .assert_problem(422, "validation_failed");
    let malformed = stack
        .matcher()
        .send_raw(
            Method::POST,
            &format!("/v1/matches/{id}/shortlist"),
            Some(&coordinator),
            &[],
            Some("application/json"),
            b"{\"note\":".to_vec(),
        )
        .await;
    malformed.assert_problem(400, "malformed_json");
    let no_body = send(
        stack.matcher(),
        Method::POST,
        &format!("/v1/matches/{id}/shortlist"),
        Some(&coordinator),
        &[],
        None,
    )
    .await;
    assert_eq!(no_body.status, 200, "no body is no note: {no_body:?}");

    stack.decided(&coordinator, &id, "introduce", None).await;
    let missing = stack.decide(Some(&sn), &id, "decline", None).await;
    missing.assert_problem(422, "validation_failed");
    assert_eq!(missing.body["errors"][0]["field"], "reason");
    stack.decided(&sn, &id, "accept", None).await;
    stack.decided(&provider("org-a"), &id, "accept", None).await;
    let missing = stack
        .decide(Some(&coordinator), &id, "complete", Some(&json!({})))
        .await;
    missing.assert_problem(422, "validation_failed");
    assert_eq!(missing.body["errors"][0]["field"], "outcome");
}

#[actix_web::test]
async fn decisions_on_unknown_needs_offers_or_ids_are_not_found() {
    let stack = spawn_stack().await;
    let (need, offer, _) = stack.matched_pair("SN", "org-a").await;
    let coordinator = coordinator();
    let nobody = uuid::Uuid::new_v4();
    for id in [
        format!("{nobody}~{offer}"),
        format!("{need}~{nobody}"),
        "not-a-match".to_owned(),
        need.clone(),
    ] {
        stack
            .decide(Some(&coordinator), &id, "shortlist", None)
            .await
            .assert_problem(404, "not_found");
        stack
            .get_match(Some(&coordinator), &id)
            .await
            .assert_problem(404, "not_found");
    }
}

#[actix_web::test]
async fn a_pair_that_breaks_a_hard_rule_cannot_be_shortlisted_or_introduced() {
    let stack = spawn_stack().await;
    let need = stack
        .post_need(&state("SN"), &need_body("National CSIRT", "public"))
        .await;
    let far = stack
        .post_offer(
            &provider("org-far"),
            &offer_body("CSIRT mentoring in Asia", &["030"], 1),
        )
        .await;
    let id = format!("{need}~{far}");
    let coordinator = coordinator();
    let reply = poll("the matcher to know the offer", || async {
        let reply = stack
            .decide(Some(&coordinator), &id, "shortlist", None)
            .await;
        (reply.status != 404).then_some(reply)
    })
    .await;
    reply.assert_problem(409, "invalid_transition");
    let detail = reply.body["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("country_not_covered"), "{detail}");
    // An ineligible pair no one decided on is not a match.
    stack
        .get_match(Some(&coordinator), &id)
        .await
        .assert_problem(404, "not_found");
}

#[actix_web::test]
async fn a_dismissed_pair_leaves_the_suggestions_for_good() {
    let stack = spawn_stack().await;
    let (need, offer, id) = stack.matched_pair("SN", "org-a").await;
    let coordinator = coordinator();
    let dismissed = stack
        .decided(
            &coordinator,
            &id,
            "dismiss",
            Some(&reason("The ministry already works with them")),
        )
        .await;
    assert_eq!(dismissed["status"], "dismissed");
    assert_eq!(dismissed["reason"], "The ministry already works with them");
    let list = stack.need_matches(Some(&coordinator), &need).await;
    assert_eq!(list.body["total"], 0, "{list:?}");
    let list = stack.offer_matches(Some(&coordinator), &offer).await;
    assert_eq!(list.body["total"], 0, "{list:?}");
    let why = stack
        .matcher()
        .get(
            &format!("/v1/matches/why?need_id={need}&offer_id={offer}"),
            Some(&coordinator),
        )
        .await;
    assert_eq!(why.body["status"], "dismissed");
    assert_eq!(why.body["failed_rules"][0]["rule"], "dismissed", "{why:?}");
    // Still in the queue, as dismissed.
    let queue = stack
        .matcher()
        .get("/v1/matches?status=dismissed", Some(&coordinator))
        .await;
    assert_eq!(queue.body["total"], 1, "{queue:?}");
}

#[actix_web::test]
async fn if_match_and_idempotency_keys_behave_as_in_every_service() {
    let stack = spawn_stack().await;
    let (_, _, id) = stack.matched_pair("SN", "org-a").await;
    let coordinator = coordinator();
    let path = format!("/v1/matches/{id}/shortlist");

    let stale = send(
        stack.matcher(),
        Method::POST,
        &path,
        Some(&coordinator),
        &[("If-Match", "\"3\"")],
        None,
    )
    .await;
    stale.assert_problem(412, "precondition_failed");
    let bad = send(
        stack.matcher(),
        Method::POST,
        &path,
        Some(&coordinator),
        &[("If-Match", "three")],
        None,
    )
    .await;
    bad.assert_problem(400, "bad_request");

    let first = stack
        .matcher()
        .post(
            &path,
            Some(&coordinator),
            Some(&note("Good")),
            Some("key-1"),
        )
        .await;
    assert_eq!(first.status, 200, "{first:?}");
    let again = stack
        .matcher()
        .post(
            &path,
            Some(&coordinator),
            Some(&note("Good")),
            Some("key-1"),
        )
        .await;
    assert_eq!(
        again.status, 200,
        "a retry is answered, not refused: {again:?}"
    );
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.body, first.body);
    stack
        .matcher()
        .post(
            &path,
            Some(&coordinator),
            Some(&note("Other")),
            Some("key-1"),
        )
        .await
        .assert_problem(422, "idempotency_key_reused");

    let introduce = format!("/v1/matches/{id}/introduce");
    let ok = send(
        stack.matcher(),
        Method::POST,
        &introduce,
        Some(&coordinator),
        &[("If-Match", "\"1\"")],
        None,
    )
    .await;
    assert_eq!(ok.status, 200, "{ok:?}");
    assert_eq!(ok.etag(), "\"2\"");
    let history = stack.get_match(Some(&coordinator), &id).await;
    assert_eq!(history.body["history"].as_array().map(Vec::len), Some(2));
}

#[actix_web::test]
async fn the_queue_lists_decided_matches_with_filters_for_coordinators_only() {
    let stack = spawn_stack().await;
    let (_, _, sn_match) = stack.matched_pair("SN", "org-a").await;
    let (_, _, gh_match) = stack.matched_pair("GH", "org-b").await;
    let coordinator = coordinator();
    stack
        .decided(&coordinator, &sn_match, "shortlist", None)
        .await;
    stack
        .decided(&coordinator, &gh_match, "shortlist", None)
        .await;
    stack
        .decided(&coordinator, &gh_match, "introduce", None)
        .await;

    let queue = |query: &'static str| {
        let stack = &stack;
        let coordinator = coordinator.clone();
        async move {
            let reply = stack
                .matcher()
                .get(&format!("/v1/matches{query}"), Some(&coordinator))
                .await;
            assert_eq!(reply.status, 200, "{query}: {reply:?}");
            items(&reply)
                .iter()
                .map(|i| i["id"].as_str().unwrap_or_default().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(queue("").await, vec![sn_match.clone(), gh_match.clone()]);
    assert_eq!(queue("?status=introduced").await, vec![gh_match.clone()]);
    assert_eq!(queue("?country=SN").await, vec![sn_match.clone()]);
    assert_eq!(queue("?theme=incident_management_cip").await.len(), 2);
    assert!(queue("?theme=cybercrime").await.is_empty());
    assert!(queue("?stale=true").await.is_empty());
    assert_eq!(queue("?stale=false").await.len(), 2);
    assert!(queue("?status=suggested").await.is_empty());
    let first = stack
        .matcher()
        .get("/v1/matches?limit=1", Some(&coordinator))
        .await;
    assert_eq!(first.body["total"], 2);
    let cursor = first.body["next_cursor"].as_str().expect("a cursor");
    let second = stack
        .matcher()
        .get(
            &format!("/v1/matches?limit=1&cursor={cursor}"),
            Some(&coordinator),
        )
        .await;
    assert_eq!(items(&second)[0]["id"], gh_match.as_str());
    let item = &items(&first)[0];
    assert_eq!(item["need_title"], "National CSIRT");
    assert!(item["score"].as_f64().is_some(), "{item}");

    // A fresh pair is listed with `status=suggested`.
    let (_, _, fresh) = stack.matched_pair("NE", "org-c").await;
    let suggested = queue("?status=suggested").await;
    assert!(suggested.contains(&fresh), "{suggested:?}");
    assert!(!suggested.contains(&sn_match));

    stack
        .matcher()
        .get("/v1/matches?status=nope", Some(&coordinator))
        .await
        .assert_problem(400, "invalid_query");
    for token in [state("SN"), provider("org-a")] {
        stack
            .matcher()
            .get("/v1/matches", Some(&token))
            .await
            .assert_problem(403, "forbidden");
    }
}

#[actix_web::test]
async fn an_introduced_match_waiting_too_long_is_flagged_stale() {
    // Zero hours: an introduced match is stale as soon as any time has passed.
    let stack = spawn_stack_with(0).await;
    let (_, _, id) = stack.matched_pair("SN", "org-a").await;
    let coordinator = coordinator();
    let shortlisted = stack.decided(&coordinator, &id, "shortlist", None).await;
    assert_eq!(
        shortlisted["stale"], false,
        "only introduced matches go stale"
    );
    stack.decided(&coordinator, &id, "introduce", None).await;
    let reply = stack.get_match(Some(&coordinator), &id).await;
    assert_eq!(reply.body["stale"], true, "{reply:?}");
    let queue = stack
        .matcher()
        .get("/v1/matches?stale=true", Some(&coordinator))
        .await;
    assert_eq!(items(&queue)[0]["id"], id.as_str());
    let agreed = {
        stack.decided(&state("SN"), &id, "accept", None).await;
        stack.decided(&provider("org-a"), &id, "accept", None).await
    };
    assert_eq!(agreed["stale"], false, "an agreed match waits for no one");
}

#[actix_web::test]
async fn the_plan_assigns_offers_within_their_capacity() {
    let stack = spawn_stack().await;
    let offer = stack
        .post_offer(
            &provider("org-a"),
            &offer_body("CSIRT mentoring", &["011"], 1),
        )
        .await;
    let sn = stack
        .post_need(&state("SN"), &need_body("National CSIRT", "public"))
        .await;
    let gh = stack
        .post_need(&state("GH"), &need_body("National CSIRT", "public"))
        .await;
    stack.wait_for_suggestion(&sn, &offer).await;
    stack.wait_for_suggestion(&gh, &offer).await;
    let coordinator = coordinator();
    let plan = stack.matcher().get("/v1/plan", Some(&coordinator)).await;
    assert_eq!(plan.status, 200, "{plan:?}");
    let assignments = plan.body["assignments"].as_array().expect("assignments");
    assert_eq!(assignments.len(), 1, "capacity 1: {plan:?}");
    assert_eq!(assignments[0]["offer_id"], offer.as_str());
    assert_eq!(assignments[0]["status"], "suggested");
    assert_eq!(plan.body["pairs_considered"], 2);
    assert!(plan.body["total_score"].as_f64().expect("a total") > 0.0);
    for token in [state("SN"), provider("org-a")] {
        stack
            .matcher()
            .get("/v1/plan", Some(&token))
            .await
            .assert_problem(403, "forbidden");
    }
}

#[actix_web::test]
async fn the_plan_is_for_what_remains_once_partnerships_are_under_way() {
    let stack = spawn_stack().await;
    let offer = stack
        .post_offer(
            &provider("org-a"),
            &offer_body("CSIRT mentoring", &["011"], 2),
        )
        .await;
    let sn = stack
        .post_need(&state("SN"), &need_body("National CSIRT", "public"))
        .await;
    let gh = stack
        .post_need(&state("GH"), &need_body("National CSIRT", "public"))
        .await;
    let ml = stack
        .post_need(&state("ML"), &need_body("National CSIRT", "public"))
        .await;
    for need in [&sn, &gh, &ml] {
        stack.wait_for_suggestion(need, &offer).await;
    }
    let coordinator = coordinator();
    let sn_match = format!("{sn}~{offer}");
    stack
        .decided(&coordinator, &sn_match, "shortlist", None)
        .await;
    stack
        .decided(&coordinator, &sn_match, "introduce", None)
        .await;

    // One of the offer's two places is taken by the introduced partnership: the plan assigns
    // the other one only, and never the pair already under way.
    let plan = poll("a plan around the introduction", || async {
        let plan = stack.matcher().get("/v1/plan", Some(&coordinator)).await;
        let assignments = plan.body["assignments"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        (assignments.len() == 1).then_some(plan)
    })
    .await;
    let assignments = plan.body["assignments"].as_array().expect("assignments");
    assert_ne!(assignments[0]["need_id"], sn.as_str(), "{plan:?}");
    assert_eq!(assignments[0]["offer_id"], offer.as_str());
}
