//! Suggestions for a need and for an offer: who sees them, what each item carries, their order
//! and pages; and why a pair is or is not suggested.

use crate::helpers::{
    coordinator, items, need_body, offer_body, poll, provider, spawn_stack, state,
};

#[actix_web::test]
async fn suggestions_appear_for_a_need_and_for_its_offer_once_both_are_posted() {
    let stack = spawn_stack().await;
    let (need, offer, match_id) = stack.matched_pair("SN", "org-a").await;

    let reply = stack.need_matches(Some(&state("SN")), &need).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(reply.body["need_id"], need.as_str());
    assert_eq!(reply.body["total"], 1);
    let item = &items(&reply)[0];
    assert_eq!(item["match_id"], match_id.as_str());
    assert_eq!(item["offer_id"], offer.as_str());
    assert_eq!(item["offer_title"], "CSIRT mentoring");
    assert_eq!(item["provider_org"], "org-a");
    assert_eq!(item["rank"], 1);
    assert_eq!(item["status"], "suggested");
    assert_eq!(item["stale"], false);
    let score = item["score"].as_f64().expect("a score");
    assert!(score > 0.0 && score <= 1.0, "{item}");
    assert!(
        item["components"]["theme"]
            .as_f64()
            .expect("a theme component")
            > 0.0
    );
    assert!(
        !item["reasons"].as_array().expect("reasons").is_empty(),
        "{item}"
    );

    let reply = stack.offer_matches(Some(&provider("org-a")), &offer).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(reply.body["total"], 1);
    let item = &items(&reply)[0];
    assert_eq!(item["need_id"], need.as_str());
    assert_eq!(item["need_title"], "National CSIRT");
    assert_eq!(item["need_country"], "SN");
    assert_eq!(item["match_id"], match_id.as_str());
    assert_eq!(item["status"], "suggested");
}

#[actix_web::test]
async fn suggestions_are_ordered_by_score_and_paged_without_overlap() {
    let stack = spawn_stack().await;
    let need = stack
        .post_need(&state("SN"), &need_body("National CSIRT", "public"))
        .await;
    // The same help, aimed ever less precisely at Senegal: the country, West Africa, the world.
    let mut offers = Vec::new();
    for (org, coverage) in [("org-a", "SN"), ("org-b", "011"), ("org-c", "001")] {
        let body = offer_body(&format!("CSIRT mentoring by {org}"), &[coverage], 2);
        offers.push(stack.post_offer(&provider(org), &body).await);
    }
    let coordinator = coordinator();
    let reply = poll("three suggestions", || async {
        let reply = stack.need_matches(Some(&coordinator), &need).await;
        (reply.body["total"] == 3).then_some(reply)
    })
    .await;
    let all = items(&reply);
    let scores: Vec<f64> = all
        .iter()
        .map(|i| i["score"].as_f64().expect("a score"))
        .collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
    assert_eq!(
        all[0]["offer_id"],
        offers[0].as_str(),
        "the precise offer first"
    );
    assert_eq!(
        all[2]["offer_id"],
        offers[2].as_str(),
        "the world-wide offer last"
    );

    let mut seen = Vec::new();
    let mut path = format!("/v1/needs/{need}/matches?limit=2");
    loop {
        let page = stack.matcher().get(&path, Some(&coordinator)).await;
        assert_eq!(page.status, 200, "{page:?}");
        assert_eq!(page.body["total"], 3);
        seen.extend(items(&page).into_iter().map(|i| i["offer_id"].clone()));
        match page.body["next_cursor"].as_str() {
            Some(cursor) => path = format!("/v1/needs/{need}/matches?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    let expected: Vec<_> = all.iter().map(|i| i["offer_id"].clone()).collect();
    assert_eq!(seen, expected);

    let bad = stack
        .matcher()
        .get(
            &format!("/v1/needs/{need}/matches?limit=0"),
            Some(&coordinator),
        )
        .await;
    bad.assert_problem(400, "invalid_query");
    let bad = stack
        .matcher()
        .get(
            &format!("/v1/needs/{need}/matches?cursor=nope"),
            Some(&coordinator),
        )
        .await;
    bad.assert_problem(400, "invalid_query");
}

#[actix_web::test]
async fn only_the_owners_and_coordinators_see_suggestions() {
    let stack = spawn_stack().await;
    let (need, offer, _) = stack.matched_pair("SN", "org-a").await;
    let restricted = stack
        .post_need(
            &state("SN"),
            &need_body("Confidential strategy", "restricted"),
        )
        .await;
    stack.wait_for_suggestion(&restricted, &offer).await;

    for token in [state("SN"), coordinator()] {
        assert_eq!(stack.need_matches(Some(&token), &need).await.status, 200);
        assert_eq!(
            stack.need_matches(Some(&token), &restricted).await.status,
            200
        );
    }
    // They can see the public need, but not its suggestions.
    for token in [state("GH"), provider("org-a"), provider("org-b")] {
        stack
            .need_matches(Some(&token), &need)
            .await
            .assert_problem(403, "forbidden");
    }
    // The restricted need does not exist for them.
    for token in [state("GH"), provider("org-a")] {
        stack
            .need_matches(Some(&token), &restricted)
            .await
            .assert_problem(404, "not_found");
    }
    stack
        .need_matches(None, &need)
        .await
        .assert_problem(401, "unauthenticated");

    for token in [provider("org-a"), coordinator()] {
        assert_eq!(stack.offer_matches(Some(&token), &offer).await.status, 200);
    }
    for token in [provider("org-b"), state("SN")] {
        stack
            .offer_matches(Some(&token), &offer)
            .await
            .assert_problem(403, "forbidden");
    }
    let unknown = uuid::Uuid::new_v4();
    stack
        .need_matches(Some(&coordinator()), &unknown.to_string())
        .await
        .assert_problem(404, "not_found");
    stack
        .offer_matches(Some(&coordinator()), &unknown.to_string())
        .await
        .assert_problem(404, "not_found");
    stack
        .need_matches(Some(&coordinator()), "not-a-uuid")
        .await
        .assert_problem(404, "not_found");
}

#[actix_web::test]
async fn why_names_the_hard_rules_a_pair_breaks_or_its_score_and_rank() {
    let stack = spawn_stack().await;
    let (need, offer, match_id) = stack.matched_pair("SN", "org-a").await;
    // An offer for East Asia only: it does not cover Senegal.
    let far = stack
        .post_offer(
            &provider("org-far"),
            &offer_body("CSIRT mentoring in Asia", &["030"], 1),
        )
        .await;
    let coordinator = coordinator();
    let why = |offer: String, token: String| {
        let stack = &stack;
        let need = need.clone();
        async move {
            stack
                .matcher()
                .get(
                    &format!("/v1/matches/why?need_id={need}&offer_id={offer}"),
                    Some(&token),
                )
                .await
        }
    };
    let reply = poll("the far offer to be known", || async {
        let reply = why(far.clone(), coordinator.clone()).await;
        (reply.status == 200).then_some(reply)
    })
    .await;
    assert_eq!(reply.body["eligible"], false, "{reply:?}");
    let rules: Vec<&str> = reply.body["failed_rules"]
        .as_array()
        .expect("rules")
        .iter()
        .map(|r| r["rule"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(rules, vec!["country_not_covered"], "{reply:?}");
    assert!(reply.body["score"].is_null());
    assert_eq!(reply.body["status"], "suggested");

    let reply = why(offer.clone(), coordinator.clone()).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(reply.body["eligible"], true);
    assert_eq!(reply.body["match_id"], match_id.as_str());
    assert!(reply.body["score"].as_f64().is_some());
    assert_eq!(reply.body["need_standing"]["rank"], 1);
    assert_eq!(reply.body["offer_standing"]["rank"], 1);

    // The need's state sees its own side of the ranking only.
    let reply = why(offer.clone(), state("SN")).await;
    assert_eq!(reply.status, 200, "{reply:?}");
    assert_eq!(reply.body["need_standing"]["rank"], 1);
    assert!(reply.body["offer_standing"].is_null(), "{reply:?}");
    assert!(
        !reply.body["summary"]
            .as_str()
            .unwrap_or_default()
            .contains("needs for this offer"),
        "{reply:?}"
    );

    why(offer.clone(), provider("org-a"))
        .await
        .assert_problem(403, "forbidden");
    why(offer.clone(), state("GH"))
        .await
        .assert_problem(403, "forbidden");
    why(uuid::Uuid::new_v4().to_string(), coordinator.clone())
        .await
        .assert_problem(404, "not_found");
    stack
        .matcher()
        .get(
            &format!("/v1/matches/why?need_id={need}"),
            Some(&coordinator),
        )
        .await
        .assert_problem(400, "invalid_query");
}
