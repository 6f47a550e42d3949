//! The four services as separate processes: the journey works through the gateway, a stopped
//! service gives 503 quickly while the others keep serving, and after its restart the matcher
//! catches up with nothing lost or doubled.

use std::time::{Duration, Instant};

use capmatch_domain::actor::Role;

use crate::helpers::{Api, Deployment, run};
use crate::journey::{journey, need_body, state};

#[actix_web::test]
async fn four_processes_serve_the_journey_and_survive_a_stopped_service() {
    let dir = crate::helpers::private_tempdir();
    let mut d = Deployment::four_processes(dir.path());
    let api = Api::new(&d.gateway);
    d.wait_ready(&api).await;
    let (need_id, _, _) = journey(&d, &api).await;
    let coord = d.token(Role::Coordinator);

    d.kill("needs");
    let started = Instant::now();
    let down = api.get("/v1/needs", Some(&coord)).await;
    assert_eq!(down.status, 503, "{}", down.raw);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "503 took {:?}",
        started.elapsed()
    );
    assert_eq!(down.body["code"], "unavailable");
    assert_eq!(api.get("/v1/offers", Some(&coord)).await.status, 200);
    assert_eq!(api.get("/v1/matches", Some(&coord)).await.status, 200);
    assert_eq!(api.get("/readyz", None).await.status, 503);

    d.start("needs");
    d.wait_ready(&api).await;
    // A need posted after the restart reaches the matcher: it caught up.
    let sn = d.token(state("SN"));
    let second = api.post("/v1/needs", Some(&sn), &need_body()).await;
    assert_eq!(second.status, 201, "{}", second.raw);
    let second_id = second.body["id"].as_str().unwrap().to_owned();
    api.eventually(
        &format!("/v1/needs/{second_id}/matches"),
        Some(&coord),
        "suggestions after the restart",
        |r| r.status == 200 && r.body["items"].as_array().is_some_and(|i| !i.is_empty()),
    )
    .await;
    // Nothing doubled: the first need's suggestion list still names each offer once.
    let first = api
        .get(&format!("/v1/needs/{need_id}/matches"), Some(&coord))
        .await;
    let offers: Vec<&str> = first.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["offer_id"].as_str().unwrap())
        .collect();
    let mut unique = offers.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(offers.len(), unique.len(), "{}", first.raw);

    d.terminate_all();
    let (verified, report) = run(&["verify"], dir.path());
    assert!(verified.success(), "{report}");
}
