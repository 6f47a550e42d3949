//! Optimistic concurrency: of two revisions based on the same version, exactly one wins.

use serde_json::json;

use crate::helpers::{offer_body, provider, spawn_app};

#[actix_web::test]
async fn two_concurrent_revisions_of_the_same_version_one_succeeds_one_gets_412() {
    let app = spawn_app().await;
    let org = provider("org-a");
    for round in 0..5 {
        let id = app
            .create_offer(
                &org,
                &offer_body(&format!("Offer number {round}"), &["002"]),
            )
            .await;
        let (seven, eight) = (json!({ "capacity": 7 }), json!({ "capacity": 8 }));
        let (a, b) = tokio::join!(
            app.revise(Some(&org), &id, Some("\"1\""), &seven),
            app.revise(Some(&org), &id, Some("\"1\""), &eight),
        );
        let mut statuses = [a.status, b.status];
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 412], "{a:?} {b:?}");
        let winner = if a.status == 200 { &a } else { &b };
        let read = app.get_offer(None, &id).await;
        assert_eq!(read.etag(), "\"2\"");
        assert_eq!(read.body["capacity"], winner.body["capacity"]);
    }
}
