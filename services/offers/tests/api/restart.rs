//! Everything survives a restart on the same data directory.

use serde_json::json;

use crate::helpers::{offer_body, provider, service, spawn_app};

#[actix_web::test]
async fn a_restart_keeps_every_offer_version_and_history() {
    let app = spawn_app().await;
    let org = provider("org-a");
    let id = app
        .create_offer(&org, &offer_body("CSIRT mentoring", &["002"]))
        .await;
    app.revise(Some(&org), &id, Some("\"1\""), &json!({ "capacity": 4 }))
        .await;
    app.act("pause", Some(&org), &id, None, None).await;
    let before = app.list(None, "").await;
    let history_before = app.history(Some(&org), &id).await;
    let feed_before = app.feed(Some(&service()), "limit=1000").await;

    let app = app.restart().await;
    assert_eq!(app.list(None, "").await.body, before.body);
    assert_eq!(app.history(Some(&org), &id).await.body, history_before.body);
    assert_eq!(
        app.feed(Some(&service()), "limit=1000").await.body,
        feed_before.body
    );
    let resumed = app.act("resume", Some(&org), &id, None, None).await;
    assert_eq!(resumed.status, 200, "{resumed:?}");
    assert_eq!(resumed.etag(), "\"4\"");
}
