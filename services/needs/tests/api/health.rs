//! `/livez` and `/readyz`.

use crate::helpers::spawn_app;

#[actix_web::test]
async fn the_service_is_live_and_ready_once_started() {
    let app = spawn_app().await;
    let live = app.get("/livez", None).await;
    assert_eq!(live.status, 200);
    let ready = app.get("/readyz", None).await;
    assert_eq!(ready.status, 200, "{ready:?}");
    assert_eq!(ready.body["status"], "ready");
    assert_eq!(ready.body["checks"]["store"]["ok"], true);
    // Positions move with every write, restricted needs included: not for the public.
    assert!(
        ready.body["checks"]["store"].get("detail").is_none(),
        "{ready:?}"
    );
    let ready = app.get("/readyz", Some(&crate::helpers::service())).await;
    assert_eq!(
        ready.body["checks"]["matcher_feed"]["detail"]["configured"],
        false
    );
}
