//! Everything survives a restart on the same data directory.

use serde_json::json;

use crate::helpers::{need_body, spawn_app, state};

#[actix_web::test]
async fn a_restart_keeps_every_need_version_and_history() {
    let app = spawn_app().await;
    let sn = state("SN");
    let open = app
        .create_need(&sn, &need_body("Open need", "restricted"))
        .await;
    app.revise(
        Some(&sn),
        &open,
        Some("\"1\""),
        &json!({ "partners_wanted": 4 }),
    )
    .await;
    let gone = app
        .create_need(&sn, &need_body("Withdrawn need", "public"))
        .await;
    app.withdraw(Some(&sn), &gone, None, None).await;
    let before = app.list(Some(&sn), "").await;
    let feed_before = app
        .feed(Some(&crate::helpers::service()), "limit=1000")
        .await;

    let app = app.restart().await;
    let after = app.list(Some(&sn), "").await;
    assert_eq!(after.body, before.body);
    let read = app.get_need(Some(&sn), &open).await;
    assert_eq!(read.etag(), "\"2\"");
    assert_eq!(read.body["partners_wanted"], 4);
    let feed_after = app
        .feed(Some(&crate::helpers::service()), "limit=1000")
        .await;
    assert_eq!(feed_after.body, feed_before.body);

    // And it takes writes again, continuing the versions.
    let revised = app
        .revise(
            Some(&sn),
            &open,
            Some("\"2\""),
            &json!({ "title": "After the restart" }),
        )
        .await;
    assert_eq!(revised.status, 200, "{revised:?}");
    assert_eq!(revised.etag(), "\"3\"");
}
