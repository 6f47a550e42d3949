//! Happy paths of every public endpoint.

use serde_json::json;

use crate::helpers::{coordinator, need_body, spawn_app, state};

#[actix_web::test]
async fn a_state_posts_a_need_for_its_country_and_reads_it_back() {
    let app = spawn_app().await;
    let sn = state("SN");
    let posted = app
        .post_need(Some(&sn), &need_body("National CSIRT", "public"), None)
        .await;
    assert_eq!(posted.status, 201, "{posted:?}");
    assert_eq!(posted.etag(), "\"1\"");
    let id = posted.id();
    assert_eq!(
        posted.header("location"),
        Some(format!("/v1/needs/{id}").as_str())
    );
    assert_eq!(posted.body["country"], "SN");
    assert_eq!(posted.body["status"], "open");
    assert_eq!(posted.body["version"], 1);
    assert_eq!(posted.body["posted_on_behalf"], false);

    // Read-your-writes: the GET right after the 201 sees the need.
    let read = app.get_need(None, &id).await;
    assert_eq!(read.status, 200);
    assert_eq!(read.etag(), "\"1\"");
    assert_eq!(read.body, posted.body);
}

#[actix_web::test]
async fn a_coordinator_posts_on_a_states_behalf_naming_the_country() {
    let app = spawn_app().await;
    let mut body = need_body("Cybercrime law review", "registered");
    body["country"] = json!("GH");
    let posted = app.post_need(Some(&coordinator()), &body, None).await;
    assert_eq!(posted.status, 201, "{posted:?}");
    assert_eq!(posted.body["country"], "GH");
    assert_eq!(posted.body["posted_on_behalf"], true);
}

#[actix_web::test]
async fn a_revision_changes_the_given_fields_and_bumps_the_version() {
    let app = spawn_app().await;
    let sn = state("SN");
    let id = app
        .create_need(&sn, &need_body("National CSIRT", "public"))
        .await;
    let revised = app
        .revise(
            Some(&sn),
            &id,
            Some("\"1\""),
            &json!({ "title": "National CSIRT, phase two", "partners_wanted": 3 }),
        )
        .await;
    assert_eq!(revised.status, 200, "{revised:?}");
    assert_eq!(revised.etag(), "\"2\"");
    assert_eq!(revised.body["title"], "National CSIRT, phase two");
    assert_eq!(revised.body["partners_wanted"], 3);
    let read = app.get_need(None, &id).await;
    assert_eq!(read.body, revised.body);
    assert_eq!(read.etag(), "\"2\"");
}

#[actix_web::test]
async fn a_revision_that_changes_nothing_records_nothing() {
    let app = spawn_app().await;
    let sn = state("SN");
    let id = app
        .create_need(&sn, &need_body("National CSIRT", "public"))
        .await;
    let same = app
        .revise(
            Some(&sn),
            &id,
            Some("\"1\""),
            &json!({ "title": "National CSIRT" }),
        )
        .await;
    assert_eq!(same.status, 200, "{same:?}");
    assert_eq!(same.etag(), "\"1\"");
    let history = app.history(Some(&sn), &id).await;
    assert_eq!(history.body["items"].as_array().map(Vec::len), Some(1));
}

#[actix_web::test]
async fn a_need_is_withdrawn_with_a_reason_and_another_is_fulfilled() {
    let app = spawn_app().await;
    let sn = state("SN");
    let first = app
        .create_need(&sn, &need_body("First need", "public"))
        .await;
    let withdrawn = app
        .withdraw(
            Some(&sn),
            &first,
            Some(&json!({ "reason": "Covered by a regional programme." })),
            None,
        )
        .await;
    assert_eq!(withdrawn.status, 200, "{withdrawn:?}");
    assert_eq!(withdrawn.body["status"], "withdrawn");
    assert_eq!(
        withdrawn.body["withdraw_reason"],
        "Covered by a regional programme."
    );
    assert_eq!(withdrawn.etag(), "\"2\"");

    let second = app
        .create_need(&sn, &need_body("Second need", "public"))
        .await;
    // A coordinator may act on the state's behalf, and no body is needed.
    let fulfilled = app.fulfil(Some(&coordinator()), &second, None).await;
    assert_eq!(fulfilled.status, 200, "{fulfilled:?}");
    assert_eq!(fulfilled.body["status"], "fulfilled");
    let withdrawn_without_reason = app.withdraw(Some(&sn), &second, None, None).await;
    withdrawn_without_reason.assert_problem(409, "invalid_transition");
}

#[actix_web::test]
async fn the_history_lists_every_event_with_actor_time_type_and_payload() {
    let app = spawn_app().await;
    let sn = state("SN");
    let id = app
        .create_need(&sn, &need_body("National CSIRT", "restricted"))
        .await;
    app.revise(
        Some(&coordinator()),
        &id,
        Some("\"1\""),
        &json!({ "partners_wanted": 2 }),
    )
    .await;
    app.fulfil(Some(&sn), &id, None).await;

    for token in [sn.clone(), coordinator()] {
        let history = app.history(Some(&token), &id).await;
        assert_eq!(history.status, 200, "{history:?}");
        let items = history.body["items"].as_array().expect("items");
        let types: Vec<_> = items.iter().map(|e| e["event_type"].clone()).collect();
        assert_eq!(
            types,
            vec![
                json!("need.posted"),
                json!("need.revised"),
                json!("need.fulfilled")
            ]
        );
        assert_eq!(items[0]["actor"], "state:SN");
        assert_eq!(items[0]["actor_role"], "state");
        assert_eq!(items[1]["actor"], "coordinator:1");
        assert_eq!(items[1]["payload"]["changed"], json!(["partners_wanted"]));
        assert_eq!(items[1]["payload"]["on_behalf"], true);
        assert_eq!(items[2]["version"], 3);
        assert!(items[0]["recorded_at"].is_string());
    }
}

#[actix_web::test]
async fn lists_filter_by_every_field_and_page_in_creation_order() {
    let app = spawn_app().await;
    let sn = state("SN");
    let fr = state("FR");
    let mut csirt = need_body("National CSIRT for Senegal", "public");
    csirt["languages"] = json!(["fr"]);
    let csirt = app.create_need(&sn, &csirt).await;
    let mut law = need_body("Cybercrime legislation", "public");
    law["themes"] = json!(["cybercrime"]);
    law["support_types"] = json!(["policy_advice"]);
    law["languages"] = json!(["en"]);
    let law = app.create_need(&sn, &law).await;
    let french = app
        .create_need(&fr, &need_body("Skills programme", "public"))
        .await;
    app.fulfil(Some(&fr), &french, None).await;

    let all = app.list(None, "").await;
    assert_eq!(all.status, 200, "{all:?}");
    assert_eq!(
        all.item_ids(),
        vec![csirt.clone(), law.clone(), french.clone()]
    );
    assert_eq!(all.body["total"], 3);
    assert!(all.body["next_cursor"].is_null());

    let cases = [
        ("theme=cybercrime", vec![law.clone()]),
        ("country=FR", vec![french.clone()]),
        ("region=002", vec![csirt.clone(), law.clone()]),
        ("region=150", vec![french.clone()]),
        ("status=fulfilled", vec![french.clone()]),
        ("status=open", vec![csirt.clone(), law.clone()]),
        ("support_type=policy_advice", vec![law.clone()]),
        ("language=fr", vec![csirt.clone(), french.clone()]),
        ("q=SENEGAL", vec![csirt.clone()]),
        (
            "q=mandate",
            vec![csirt.clone(), law.clone(), french.clone()],
        ),
        (
            "theme=incident_management_cip&country=SN",
            vec![csirt.clone()],
        ),
    ];
    for (query, expected) in cases {
        let reply = app.list(None, query).await;
        assert_eq!(reply.status, 200, "{query}: {reply:?}");
        assert_eq!(reply.item_ids(), expected, "{query}");
        assert_eq!(reply.body["total"], expected.len(), "{query}");
    }

    // Pages of one, following the cursor, see each need once, in order.
    let mut seen = Vec::new();
    let mut query = "limit=1".to_owned();
    loop {
        let page = app.list(None, &query).await;
        assert_eq!(page.status, 200, "{page:?}");
        assert_eq!(page.body["total"], 3);
        seen.extend(page.item_ids());
        match page.body["next_cursor"].as_str() {
            Some(cursor) => query = format!("limit=1&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, vec![csirt, law, french]);
}

#[actix_web::test]
async fn the_taxonomy_is_public() {
    let app = spawn_app().await;
    let reply = app.get("/v1/taxonomy", None).await;
    assert_eq!(reply.status, 200);
    let themes = reply.body["themes"].as_array().expect("themes");
    assert!(themes.iter().any(|t| t["code"] == "cybercrime"));
}
