//! A restricted need exists only for its state, coordinators and the providers it is shared
//! with (introduced or agreed partnerships); a registered need only for authenticated callers.

use crate::helpers::{
    OFFER, coordinator, decision_event, introduced_event, need_body, provider, spawn_app,
    spawn_fake_matcher, spawn_on, state, unused_address,
};

#[actix_web::test]
async fn a_restricted_need_does_not_exist_for_other_states_providers_or_anonymous_callers() {
    let app = spawn_app().await;
    let sn = state("SN");
    let public = app
        .create_need(&sn, &need_body("Public need", "public"))
        .await;
    let restricted = app
        .create_need(&sn, &need_body("Confidential strategy", "restricted"))
        .await;

    for outsider in [Some(state("GH")), Some(provider("org-a")), None] {
        let token = outsider.as_deref();
        app.get_need(token, &restricted)
            .await
            .assert_problem(404, "not_found");
        let list = app.list(token, "").await;
        assert_eq!(list.item_ids(), vec![public.clone()], "{token:?}");
        assert_eq!(list.body["total"], 1, "{token:?}");
        // Not even a text search finds it, nor a count by country.
        let search = app.list(token, "q=confidential").await;
        assert_eq!(search.body["total"], 0);
        let by_country = app.list(token, "country=SN").await;
        assert_eq!(by_country.body["total"], 1);
        if token.is_some() {
            app.history(token, &restricted)
                .await
                .assert_problem(404, "not_found");
            app.withdraw(token, &restricted, None, None)
                .await
                .assert_problem(404, "not_found");
        }
    }

    for insider in [sn.clone(), coordinator()] {
        let read = app.get_need(Some(&insider), &restricted).await;
        assert_eq!(read.status, 200);
        let list = app.list(Some(&insider), "").await;
        assert_eq!(list.body["total"], 2);
        assert_eq!(app.history(Some(&insider), &restricted).await.status, 200);
    }
}

#[actix_web::test]
async fn a_registered_need_is_invisible_to_anonymous_callers_only() {
    let app = spawn_app().await;
    let id = app
        .create_need(&state("SN"), &need_body("Registered need", "registered"))
        .await;
    app.get_need(None, &id)
        .await
        .assert_problem(404, "not_found");
    assert_eq!(app.list(None, "").await.body["total"], 0);
    for token in [provider("org-a"), state("GH"), coordinator()] {
        assert_eq!(app.get_need(Some(&token), &id).await.status, 200);
        assert_eq!(app.list(Some(&token), "").await.body["total"], 1);
    }
}

#[actix_web::test]
async fn a_provider_introduced_by_the_matcher_sees_the_restricted_need() {
    // Post the need first, so its id is known to the matcher's feed.
    let app = spawn_app().await;
    let sn = state("SN");
    let restricted = app
        .create_need(&sn, &need_body("Confidential strategy", "restricted"))
        .await;
    let other = app
        .create_need(&sn, &need_body("Another confidential plan", "restricted"))
        .await;
    let data_dir = app.stop().await;

    let matcher = spawn_fake_matcher(vec![introduced_event(1, &restricted, "org-a")]);
    let app = spawn_on(data_dir, Some(matcher.url.clone())).await;
    app.wait_for_readiness("the matcher feed", |body| {
        body["checks"]["matcher_feed"]["detail"]["checkpoint"] == 1
    })
    .await;

    let introduced = provider("org-a");
    let read = app.get_need(Some(&introduced), &restricted).await;
    assert_eq!(read.status, 200, "{read:?}");
    let list = app.list(Some(&introduced), "").await;
    assert_eq!(list.item_ids(), vec![restricted.clone()]);
    assert_eq!(list.body["total"], 1);
    // Seeing is all an introduction gives: no history, no changes, and not the other need.
    app.history(Some(&introduced), &restricted)
        .await
        .assert_problem(403, "forbidden");
    app.get_need(Some(&introduced), &other)
        .await
        .assert_problem(404, "not_found");
    // Another provider still sees nothing.
    app.get_need(Some(&provider("org-b")), &restricted)
        .await
        .assert_problem(404, "not_found");
    matcher.stop().await;
}

#[actix_web::test]
async fn a_provider_no_longer_sees_a_restricted_need_once_the_partnership_ends() {
    let app = spawn_app().await;
    let sn = state("SN");
    let mut needs = Vec::new();
    for title in [
        "Declined plan",
        "Closed plan",
        "Completed plan",
        "Agreed plan",
    ] {
        needs.push(app.create_need(&sn, &need_body(title, "restricted")).await);
    }
    let data_dir = app.stop().await;
    // One partnership per need, with org-a, each introduced and then taken to its end.
    let mut feed = Vec::new();
    let ends = [
        vec!["match.declined"],
        vec!["match.closed"],
        vec!["match.accepted", "match.agreed", "match.completed"],
        vec!["match.accepted", "match.agreed"],
    ];
    for (need, end) in needs.iter().zip(&ends) {
        for event_type in std::iter::once(&"match.shortlisted")
            .chain(std::iter::once(&"match.introduced"))
            .chain(end.iter())
        {
            let position = feed.len() as u64 + 1;
            feed.push(decision_event(position, event_type, need, OFFER, "org-a"));
        }
    }
    let last = feed.len();
    let matcher = spawn_fake_matcher(feed);
    let app = spawn_on(data_dir, Some(matcher.url.clone())).await;
    app.wait_for_readiness("the matcher feed", |body| {
        body["checks"]["matcher_feed"]["detail"]["checkpoint"] == last
    })
    .await;

    let org_a = provider("org-a");
    for (need, visible) in needs.iter().zip([false, false, false, true]) {
        let read = app.get_need(Some(&org_a), need).await;
        assert_eq!(read.status, if visible { 200 } else { 404 }, "{read:?}");
    }
    let list = app.list(Some(&org_a), "").await;
    assert_eq!(list.item_ids(), vec![needs[3].clone()]);
    assert_eq!(list.body["total"], 1);
    assert_eq!(app.list(Some(&org_a), "q=plan").await.body["total"], 1);
    matcher.stop().await;
}

#[actix_web::test]
async fn the_service_stays_ready_and_serves_while_the_matcher_is_down() {
    let app = crate::helpers::spawn_app_with_matcher(&unused_address()).await;
    let body = app
        .wait_for_readiness("a failed matcher request", |body| {
            body["checks"]["matcher_feed"]["detail"]["consecutive_failures"]
                .as_u64()
                .is_some_and(|n| n > 0)
        })
        .await;
    assert_eq!(body["status"], "ready");
    assert_eq!(body["checks"]["matcher_feed"]["ok"], false);
    assert_eq!(body["checks"]["matcher_feed"]["required"], false);
    let id = app
        .create_need(&state("SN"), &need_body("Still served", "public"))
        .await;
    assert_eq!(app.get_need(None, &id).await.status, 200);
}
