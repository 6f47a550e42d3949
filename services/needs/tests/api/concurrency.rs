//! Optimistic concurrency: of two revisions based on the same version, exactly one wins.

use serde_json::json;

use crate::helpers::{need_body, spawn_app, state};

#[actix_web::test]
async fn two_concurrent_revisions_of_the_same_version_one_succeeds_one_gets_412() {
    let app = spawn_app().await;
    let sn = state("SN");
    for round in 0..5 {
        let id = app
            .create_need(&sn, &need_body(&format!("Need number {round}"), "public"))
            .await;
        let first = json!({ "title": "Revised by the first" });
        let second = json!({ "title": "Revised by the second" });
        let (a, b) = tokio::join!(
            app.revise(Some(&sn), &id, Some("\"1\""), &first),
            app.revise(Some(&sn), &id, Some("\"1\""), &second),
        );
        let mut statuses = [a.status, b.status];
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 412], "{a:?} {b:?}");
        let winner = if a.status == 200 { &a } else { &b };
        let read = app.get_need(None, &id).await;
        assert_eq!(read.etag(), "\"2\"");
        assert_eq!(read.body["title"], winner.body["title"]);
    }
}
