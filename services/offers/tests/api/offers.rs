//! Happy paths of every public endpoint.

use serde_json::json;

use crate::helpers::{coordinator, offer_body, provider, spawn_app};

#[actix_web::test]
async fn a_provider_posts_an_offer_for_its_organisation_and_anyone_reads_it() {
    let app = spawn_app().await;
    let posted = app
        .post_offer(
            Some(&provider("org-a")),
            &offer_body("CSIRT mentoring", &["002"]),
            None,
        )
        .await;
    assert_eq!(posted.status, 201, "{posted:?}");
    assert_eq!(posted.etag(), "\"1\"");
    let id = posted.id();
    assert_eq!(
        posted.header("location"),
        Some(format!("/v1/offers/{id}").as_str())
    );
    assert_eq!(posted.body["provider"]["org"], "org-a");
    assert_eq!(posted.body["provider"]["org_type"], "ngo");
    assert_eq!(posted.body["status"], "open");

    // Read-your-writes, and offers are public.
    let read = app.get_offer(None, &id).await;
    assert_eq!(read.status, 200);
    assert_eq!(read.etag(), "\"1\"");
    assert_eq!(read.body, posted.body);
}

#[actix_web::test]
async fn an_offer_is_revised_paused_resumed_and_withdrawn() {
    let app = spawn_app().await;
    let org = provider("org-a");
    let id = app
        .create_offer(&org, &offer_body("CSIRT mentoring", &["002"]))
        .await;
    let revised = app
        .revise(
            Some(&org),
            &id,
            Some("\"1\""),
            &json!({ "capacity": 5, "coverage": ["001"] }),
        )
        .await;
    assert_eq!(revised.status, 200, "{revised:?}");
    assert_eq!(revised.etag(), "\"2\"");
    assert_eq!(revised.body["capacity"], 5);
    assert_eq!(revised.body["coverage"], json!(["001"]));

    let paused = app
        .act(
            "pause",
            Some(&org),
            &id,
            Some(&json!({ "reason": "At capacity." })),
            None,
        )
        .await;
    assert_eq!(paused.status, 200, "{paused:?}");
    assert_eq!(paused.body["status"], "paused");
    assert_eq!(paused.body["status_reason"], "At capacity.");
    let resumed = app.act("resume", Some(&org), &id, None, None).await;
    assert_eq!(resumed.status, 200, "{resumed:?}");
    assert_eq!(resumed.body["status"], "open");
    // A coordinator may act for the provider; the body is optional.
    let withdrawn = app
        .act("withdraw", Some(&coordinator()), &id, None, None)
        .await;
    assert_eq!(withdrawn.status, 200, "{withdrawn:?}");
    assert_eq!(withdrawn.body["status"], "withdrawn");
    assert_eq!(withdrawn.etag(), "\"5\"");
    assert_eq!(app.get_offer(None, &id).await.body, withdrawn.body);
}

#[actix_web::test]
async fn the_history_is_for_the_organisation_and_coordinators() {
    let app = spawn_app().await;
    let org = provider("org-a");
    let id = app
        .create_offer(&org, &offer_body("CSIRT mentoring", &["002"]))
        .await;
    app.act("pause", Some(&org), &id, None, None).await;
    for token in [org.clone(), coordinator()] {
        let history = app.history(Some(&token), &id).await;
        assert_eq!(history.status, 200, "{history:?}");
        let items = history.body["items"].as_array().expect("items");
        assert_eq!(items.len(), 2);
        assert_eq!(items[0]["event_type"], "offer.posted");
        assert_eq!(items[0]["actor"], "user@org-a");
        assert_eq!(items[0]["actor_role"], "provider");
        assert_eq!(items[1]["event_type"], "offer.paused");
        assert_eq!(items[1]["version"], 2);
        assert_eq!(items[0]["payload"]["provider"]["org"], "org-a");
    }
}

#[actix_web::test]
async fn lists_filter_by_every_field_and_page_in_creation_order() {
    let app = spawn_app().await;
    let a = provider("org-a");
    let b = provider("org-b");
    // Africa, in English and French.
    let africa = app
        .create_offer(&a, &offer_body("Mentoring for Africa", &["002"]))
        .await;
    // Senegal only, cybercrime policy advice in French.
    let mut senegal = offer_body("Cybercrime law drafting", &["SN"]);
    senegal["themes"] = json!(["cybercrime"]);
    senegal["support_types"] = json!(["policy_advice"]);
    senegal["languages"] = json!(["fr"]);
    let senegal = app.create_offer(&b, &senegal).await;
    // The whole world, paused.
    let world = app
        .create_offer(&b, &offer_body("Global skills programme", &["001"]))
        .await;
    app.act("pause", Some(&b), &world, None, None).await;
    // Fiji only.
    let fiji = app
        .create_offer(&a, &offer_body("Pacific exercises", &["FJ"]))
        .await;

    let all = app.list(None, "").await;
    assert_eq!(all.status, 200, "{all:?}");
    assert_eq!(
        all.item_ids(),
        vec![africa.clone(), senegal.clone(), world.clone(), fiji.clone()]
    );
    assert_eq!(all.body["total"], 4);

    let cases = [
        ("theme=cybercrime", vec![senegal.clone()]),
        // A country is covered directly, through its region, or through the world.
        (
            "country=SN",
            vec![africa.clone(), senegal.clone(), world.clone()],
        ),
        ("country=GH", vec![africa.clone(), world.clone()]),
        ("country=FJ", vec![world.clone(), fiji.clone()]),
        ("region=054", vec![world.clone(), fiji.clone()]),
        (
            "region=011",
            vec![africa.clone(), senegal.clone(), world.clone()],
        ),
        ("status=paused", vec![world.clone()]),
        (
            "status=open",
            vec![africa.clone(), senegal.clone(), fiji.clone()],
        ),
        ("support_type=policy_advice", vec![senegal.clone()]),
        (
            "language=en",
            vec![africa.clone(), world.clone(), fiji.clone()],
        ),
        ("q=PACIFIC", vec![fiji.clone()]),
        (
            "country=SN&language=fr&theme=cybercrime",
            vec![senegal.clone()],
        ),
    ];
    for (query, expected) in cases {
        let reply = app.list(None, query).await;
        assert_eq!(reply.status, 200, "{query}: {reply:?}");
        assert_eq!(reply.item_ids(), expected, "{query}");
        assert_eq!(reply.body["total"], expected.len(), "{query}");
    }

    let mut seen = Vec::new();
    let mut query = "limit=3".to_owned();
    loop {
        let page = app.list(None, &query).await;
        assert_eq!(page.body["total"], 4);
        seen.extend(page.item_ids());
        match page.body["next_cursor"].as_str() {
            Some(cursor) => query = format!("limit=3&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, vec![africa, senegal, world, fiji]);
}
