//! The whole journey through the gateway of `capmatch serve`: post, match, review, agree,
//! complete; stop; verify; restart; everything still there.

use capmatch_domain::actor::Role;
use serde_json::{Value, json};

use crate::helpers::{Api, Deployment, run};

pub fn state(country: &str) -> Role {
    Role::State {
        country: country.parse().unwrap(),
    }
}

pub fn provider(org: &str) -> Role {
    Role::Provider {
        org: org.parse().unwrap(),
        org_type: "ngo".parse().unwrap(),
    }
}

pub fn need_body() -> Value {
    json!({
        "title": "Establishing a national CSIRT",
        "description": "Senegal asks for help to establish its national computer security incident \
                        response team: governance, staffing plan, playbooks and first exercises.",
        "themes": ["incident_management_cip"],
        "topics": ["incident_management_cip.csirt_establishment"],
        "support_types": ["technical_assistance", "training"],
        "languages": ["fr"],
        "visibility": "public"
    })
}

pub fn offer_body() -> Value {
    json!({
        "title": "CSIRT set-up and mentoring for West Africa",
        "description": "A francophone team of incident responders helps new national CSIRTs in \
                        West Africa: governance, staffing, playbooks, exercises and mentoring.",
        "themes": ["incident_management_cip"],
        "topics": ["incident_management_cip.csirt_establishment"],
        "support_types": ["technical_assistance", "training", "mentoring_exchange"],
        "languages": ["fr", "en"],
        "coverage": ["011"],
        "capacity": 3,
        "funding": "self_funded",
        "conditions_attached": false
    })
}

/// Posts a need and an offer that fit, waits for the suggestion, and takes the partnership
/// through every step. Returns (need id, offer id, match id).
pub async fn journey(d: &Deployment, api: &Api) -> (String, String, String) {
    let sn = d.token(state("SN"));
    let ngo = d.token(provider("cyberaid"));
    let coord = d.token(Role::Coordinator);

    let need = api.post("/v1/needs", Some(&sn), &need_body()).await;
    assert_eq!(need.status, 201, "{}", need.raw);
    assert!(
        need.header("x-request-id").is_some(),
        "the gateway returns a request id"
    );
    assert_eq!(need.header("etag"), Some("\"1\""));
    let need_id = need.body["id"].as_str().unwrap().to_owned();
    let offer = api.post("/v1/offers", Some(&ngo), &offer_body()).await;
    assert_eq!(offer.status, 201, "{}", offer.raw);
    let offer_id = offer.body["id"].as_str().unwrap().to_owned();

    let path = format!("/v1/needs/{need_id}/matches");
    let suggestions = api
        .eventually(&path, Some(&coord), "the suggestion", |r| {
            r.status == 200
                && r.body["items"]
                    .as_array()
                    .is_some_and(|items| items.iter().any(|i| i["offer_id"] == offer_id.as_str()))
        })
        .await;
    let item = suggestions.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["offer_id"] == offer_id.as_str())
        .unwrap()
        .clone();
    assert_eq!(item["status"], "suggested");
    assert!(item["score"].as_f64().unwrap() > 0.0);
    assert!(
        !item["reasons"].as_array().unwrap().is_empty(),
        "a suggestion explains itself"
    );
    let match_id = item["match_id"].as_str().unwrap().to_owned();

    let step = |action: &'static str, token: String, body: Value, expect: &'static str| {
        let path = format!("/v1/matches/{match_id}/{action}");
        async move {
            let r = api.post(&path, Some(&token), &body).await;
            assert_eq!(r.status, 200, "{action}: {}", r.raw);
            assert_eq!(r.body["status"], expect, "{action}: {}", r.raw);
        }
    };
    step("shortlist", coord.clone(), json!({}), "shortlisted").await;
    step(
        "introduce",
        coord.clone(),
        json!({"note": "Please meet in Dakar"}),
        "introduced",
    )
    .await;
    step("accept", sn.clone(), json!({}), "introduced").await;
    step("accept", ngo.clone(), json!({}), "agreed").await;
    step(
        "complete",
        coord.clone(),
        json!({"outcome": "CSIRT operational; 12 analysts trained"}),
        "completed",
    )
    .await;

    let detail = api
        .get(&format!("/v1/matches/{match_id}"), Some(&coord))
        .await;
    assert_eq!(detail.status, 200, "{}", detail.raw);
    assert_eq!(detail.body["status"], "completed");
    assert!(
        detail.body["history"].as_array().unwrap().len() >= 6,
        "{}",
        detail.raw
    );
    (need_id, offer_id, match_id)
}

#[actix_web::test]
async fn the_whole_journey_survives_a_restart_and_verifies() {
    let dir = crate::helpers::private_tempdir();
    let mut d = Deployment::all_in_one(dir.path());
    let api = Api::new(&d.gateway);
    d.wait_ready(&api).await;
    let (need_id, offer_id, match_id) = journey(&d, &api).await;

    let status = d.terminate("serve");
    assert!(status.success(), "serve exited with {status}\n{}", d.logs());
    let (verified, report) = run(&["verify"], dir.path());
    assert!(verified.success(), "{report}");
    for store in ["needs", "offers", "matcher"] {
        assert!(report.contains(&format!("{store:<8} intact")), "{report}");
    }

    d.start("serve");
    d.wait_ready(&api).await;
    let coord = d.token(Role::Coordinator);
    let need = api.get(&format!("/v1/needs/{need_id}"), Some(&coord)).await;
    assert_eq!(need.status, 200, "{}", need.raw);
    let offer = api
        .get(&format!("/v1/offers/{offer_id}"), Some(&coord))
        .await;
    assert_eq!(offer.status, 200, "{}", offer.raw);
    let detail = api
        .get(&format!("/v1/matches/{match_id}"), Some(&coord))
        .await;
    assert_eq!(detail.body["status"], "completed", "{}", detail.raw);
    let stats = api.get("/v1/stats", None).await;
    assert_eq!(stats.status, 200, "{}", stats.raw);

    // Operations: Prometheus metrics for every service of the process, for operators only.
    assert_eq!(api.get("/metrics", None).await.status, 401);
    assert_eq!(api.get("/metrics", Some(&coord)).await.status, 403);
    let metrics = api.get("/metrics", Some(&d.token(Role::Service))).await;
    assert_eq!(metrics.status, 200);
    // The services of one process read each other's feeds from their stores, not over HTTP.
    assert!(
        !metrics.raw.contains("route=\"/internal/events\""),
        "{}",
        metrics.raw
    );
    for series in [
        "capmatch_http_request_duration_seconds_bucket",
        // The gateway serves the services' APIs itself: its series name the service's route.
        "capmatch_http_requests_total{method=\"GET\",route=\"/v1/needs/{id}\",service=\"gateway\",status=\"200\"}",
        "capmatch_store_events_appended{service=\"matcher\"}",
        "capmatch_store_head_position{service=\"needs\"}",
        "capmatch_feed_lag_events{feed=\"needs\",service=\"matcher\"}",
        "capmatch_matcher_index_size{kind=\"needs\"}",
    ] {
        assert!(
            metrics.raw.contains(series),
            "{series} missing from\n{}",
            metrics.raw
        );
    }
    d.terminate_all();
}
