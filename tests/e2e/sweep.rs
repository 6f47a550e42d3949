//! The sweep: two `capmatch serve` deployments given the same public data, one of them also a
//! restricted need taken through its whole life (posted, revised, introduced, accepted,
//! declined, dismissed, made public, made restricted again, closed, withdrawn). After each step,
//! every read operation of the API document is made as every kind of caller, on both:
//!
//! - no answer (body or header) to a caller who may not see the need at that step shows its id
//!   or a marker of its text;
//! - every such answer is the twin's, figure for figure (ranks, scores, capacities, totals,
//!   statistics, statuses, versions), once times, event ids and request ids are set aside:
//!   nothing a caller can see moves because the restricted need exists, changes or is decided;
//! - the need's owner and coordinators see it, and read the public needs' suggestions and the
//!   statistics exactly as the twin's.
//!
//! Both deployments are eventually consistent (the feeds between services run behind the
//! writes), so each comparison is asked again until it holds, for a few seconds at most.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use capmatch_domain::actor::Role;
use serde_json::{Value, json};

use crate::helpers::{Api, Deployment, GENEROUS_RATE_LIMIT, Reply, serving};
use crate::journey::{need_body, offer_body, provider, state};

/// Words only the restricted need's text holds.
const MARKERS: [&str; 3] = ["Quokkazebra", "periwinkle-ostrich-4471", "lanternfish-2209"];

/// How long a comparison is asked again before it fails.
const PATIENCE: Duration = Duration::from_secs(10);

/// One deployment with its tokens.
struct Side {
    _dir: tempfile::TempDir,
    d: Deployment,
    api: Api,
}

impl Side {
    async fn start() -> Side {
        let (dir, d, api) = serving(GENEROUS_RATE_LIMIT).await;
        Side { _dir: dir, d, api }
    }

    fn token(&self, caller: &Caller) -> Option<String> {
        caller.role.clone().map(|role| self.d.token(role))
    }

    /// POSTs with an idempotency key, so both sides make the same ids.
    async fn post(&self, path: &str, role: Role, key: &str, body: &Value) -> Reply {
        let token = self.d.token(role);
        let r = self
            .api
            .send(
                "POST",
                path,
                Some(&token),
                Some(body),
                &[("idempotency-key", key)],
            )
            .await;
        assert!(r.status < 300, "{path}: {}", r.raw);
        r
    }

    async fn patch(&self, path: &str, role: Role, body: &Value) -> Reply {
        let token = self.d.token(role);
        let current = self.api.get(path, Some(&token)).await;
        let etag = current.header("etag").unwrap().to_owned();
        let r = self
            .api
            .send(
                "PATCH",
                path,
                Some(&token),
                Some(body),
                &[("if-match", &etag)],
            )
            .await;
        assert_eq!(r.status, 200, "{path}: {}", r.raw);
        r
    }

    /// Waits until the matcher answers `path` (a need's or an offer's suggestions) for a
    /// coordinator: it has read the entity from its feed.
    async fn known_to_the_matcher(&self, path: &str) {
        let coord = self.d.token(Role::Coordinator);
        self.api
            .eventually(path, Some(&coord), "the matcher to know it", |r| {
                r.status == 200
            })
            .await;
    }

    async fn decide(&self, matched: &str, action: &str, role: Role, body: Value) {
        let coord = self.d.token(Role::Coordinator);
        self.api
            .eventually(
                &format!("/v1/matches/{matched}"),
                Some(&coord),
                "the pair",
                |r| r.status == 200,
            )
            .await;
        let path = format!("/v1/matches/{matched}/{action}");
        let key = format!("{matched}-{action}");
        self.post(&path, role, &key, &body).await;
    }
}

/// A kind of caller: its role (`None`: anonymous) and a name for messages.
#[derive(Clone)]
struct Caller {
    name: &'static str,
    role: Option<Role>,
}

fn callers() -> Vec<Caller> {
    let c = |name, role| Caller { name, role };
    vec![
        c("anonymous", None),
        c("state SN (owner)", Some(state("SN"))),
        c("state GH", Some(state("GH"))),
        c("provider cyberaid", Some(provider("cyberaid"))),
        c("provider otherorg", Some(provider("otherorg"))),
        c("provider thirdorg", Some(provider("thirdorg"))),
        c("provider fourthorg", Some(provider("fourthorg"))),
        c("provider fifthorg", Some(provider("fifthorg"))),
        c("coordinator", Some(Role::Coordinator)),
        c("service", Some(Role::Service)),
        c("admin", Some(Role::Admin)),
    ]
}

/// The public data both sides hold: four needs (three public, one registered) and five offers.
/// Each is posted once the matcher knows the one before, so both matchers see them in the same
/// order and take their text statistics at the same points; nine documents in the corpus, so
/// that the restricted need, once public, starts no refresh of those statistics on one side
/// only (a residual effect the matcher's README measures).
struct Ids {
    needs: Vec<String>,
    offers: Vec<String>,
    restricted: String,
}

const ORGS: [&str; 5] = ["cyberaid", "otherorg", "thirdorg", "fourthorg", "fifthorg"];

async fn public_data(side: &Side) -> (Vec<String>, Vec<String>) {
    let mut needs = Vec::new();
    for (i, (country, visibility)) in [
        ("SN", "public"),
        ("SN", "public"),
        ("GH", "public"),
        ("GH", "registered"),
    ]
    .into_iter()
    .enumerate()
    {
        let mut body = need_body();
        body["visibility"] = json!(visibility);
        body["title"] = json!(format!("Public need {i}: a national CSIRT"));
        let r = side
            .post("/v1/needs", state(country), &format!("need-{i}"), &body)
            .await;
        let id = r.body["id"].as_str().unwrap().to_owned();
        side.known_to_the_matcher(&format!("/v1/needs/{id}/matches"))
            .await;
        needs.push(id);
    }
    let mut offers = Vec::new();
    for (i, org) in ORGS.into_iter().enumerate() {
        let mut body = offer_body();
        body["capacity"] = json!(2);
        body["title"] = json!(format!("CSIRT programme {i} for West Africa"));
        let r = side
            .post("/v1/offers", provider(org), &format!("offer-{i}"), &body)
            .await;
        let id = r.body["id"].as_str().unwrap().to_owned();
        side.known_to_the_matcher(&format!("/v1/offers/{id}/matches"))
            .await;
        offers.push(id);
    }
    (needs, offers)
}

/// Every GET of the API document, with its path filled in for each entity it can name.
/// Returns (path, whether it names or lists the restricted need).
async fn reads(api: &Api, ids: &Ids) -> Vec<(String, bool)> {
    let doc = api.get("/openapi.json", None).await;
    let mut templates = BTreeSet::new();
    for (path, item) in doc.body["paths"].as_object().unwrap() {
        if item.get("get").is_some() {
            templates.insert(path.clone());
        }
    }
    let r = ids.restricted.as_str();
    let all_needs: Vec<&str> = ids.needs.iter().map(String::as_str).chain([r]).collect();
    let pairs: Vec<(&str, &str)> = all_needs
        .iter()
        .flat_map(|n| ids.offers.iter().map(move |o| (*n, o.as_str())))
        .collect();
    let mut out = Vec::new();
    let mut covered = BTreeSet::new();
    let mut add = |template: &str, path: String, names: bool| {
        covered.insert(template.to_owned());
        out.push((path, names));
    };
    for template in &templates {
        match template.as_str() {
            "/v1/needs" => {
                add(template, "/v1/needs".into(), true);
                add(template, "/v1/needs?limit=2".into(), true);
                add(template, "/v1/needs?country=SN&status=open".into(), true);
                for marker in MARKERS {
                    add(template, format!("/v1/needs?q={marker}"), true);
                }
            }
            "/v1/needs/{id}" | "/v1/needs/{id}/history" | "/v1/needs/{id}/matches" => {
                for need in &all_needs {
                    add(template, template.replace("{id}", need), *need == r);
                }
            }
            "/v1/offers" => add(template, "/v1/offers".into(), false),
            "/v1/offers/{id}" | "/v1/offers/{id}/history" => {
                for offer in &ids.offers {
                    add(template, template.replace("{id}", offer), false);
                }
            }
            // An offer's suggestions may list the restricted need.
            "/v1/offers/{id}/matches" => {
                for offer in &ids.offers {
                    add(template, template.replace("{id}", offer), true);
                }
            }
            "/v1/matches" => {
                add(template, "/v1/matches".into(), true);
                add(template, "/v1/matches?status=suggested".into(), true);
            }
            "/v1/matches/{id}" => {
                for (n, o) in &pairs {
                    add(template, format!("/v1/matches/{n}~{o}"), *n == r);
                }
            }
            "/v1/matches/why" => {
                for (n, o) in &pairs {
                    add(
                        template,
                        format!("/v1/matches/why?need_id={n}&offer_id={o}"),
                        *n == r,
                    );
                }
            }
            "/v1/plan" => add(template, "/v1/plan".into(), true),
            "/v1/stats" | "/v1/taxonomy" => add(template, template.clone(), false),
            _ => {}
        }
    }
    let missing: Vec<_> = templates.difference(&covered).collect();
    assert!(
        missing.is_empty(),
        "read operations the sweep does not make: {missing:?}"
    );
    out
}

/// An answer with what differs between two runs of the same requests set aside: times, event
/// and request ids, and cursors (which carry an item's time).
fn figures(r: &Reply) -> Value {
    fn scrub(v: &mut Value) {
        match v {
            Value::Object(fields) => {
                for (key, value) in fields.iter_mut() {
                    let varies = key.ends_with("_at")
                        || key == "at"
                        || key == "event_id"
                        || key == "request_id"
                        || key == "next_cursor";
                    if varies && !value.is_null() {
                        *value = json!("(varies)");
                    } else {
                        scrub(value);
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(scrub),
            _ => {}
        }
    }
    let mut body = r.body.clone();
    scrub(&mut body);
    json!({"status": r.status, "etag": r.header("etag"), "body": body})
}

/// Whether `r` shows the restricted need anywhere: its id, or a marker of its text.
fn shows(r: &Reply, restricted: &str) -> Option<String> {
    let headers: String = r
        .headers
        .iter()
        .map(|(k, v)| format!("{k}: {v}\n"))
        .collect();
    [restricted]
        .into_iter()
        .chain(MARKERS)
        .find(|s| r.raw.contains(s) || headers.contains(s))
        .map(str::to_owned)
}

/// Who may see the restricted need at a step, besides its owner and coordinators.
struct Seeing {
    everyone: bool,
    providers: &'static [&'static str],
}

/// After a step: every read as every caller, on both sides, until the facts hold.
async fn check(step: &str, with: &Side, without: &Side, ids: &Ids, seeing: &Seeing) -> usize {
    if seeing.everyone {
        return 0;
    }
    let reads = reads(&with.api, ids).await;
    let mut made = 0;
    for caller in callers() {
        let insider = match &caller.role {
            Some(Role::Coordinator) => true,
            Some(Role::State { country }) => country.as_str() == "SN",
            Some(Role::Provider { org, .. }) => seeing.providers.contains(&org.as_str()),
            _ => false,
        };
        let (token_with, token_without) = (with.token(&caller), without.token(&caller));
        for (path, names) in &reads {
            // Insiders see the restricted need: what they read of it, and every list that may
            // hold it, differ from the twin's by design. The public needs' suggestions and the
            // statistics must not (a coordinator's explanation ranks a pair among every need
            // competing for the offer, the restricted one included, by design too).
            let public_suggestions =
                path.starts_with("/v1/needs/") && path.ends_with("/matches") && !*names;
            let public_why = path.starts_with("/v1/matches/why")
                && !*names
                && caller.role != Some(Role::Coordinator);
            let public_figure = path == "/v1/stats" || public_suggestions || public_why;
            if insider && !public_figure {
                continue;
            }
            let deadline = Instant::now() + PATIENCE;
            loop {
                let a = with.api.get(path, token_with.as_deref()).await;
                let b = without.api.get(path, token_without.as_deref()).await;
                made += 2;
                let leak = (!insider).then(|| shows(&a, &ids.restricted)).flatten();
                let (fa, fb) = (figures(&a), figures(&b));
                if leak.is_none() && fa == fb {
                    break;
                }
                if Instant::now() > deadline {
                    match leak {
                        Some(secret) => panic!(
                            "after {step}: GET {path} as {} shows {secret:?}: {} {}",
                            caller.name, a.status, a.raw
                        ),
                        None => panic!(
                            "after {step}: GET {path} as {} differs from the twin without the \
                             restricted need:\nwith:    {fa}\nwithout: {fb}",
                            caller.name
                        ),
                    }
                }
                actix_web::rt::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
    made
}

#[actix_web::test]
async fn no_read_by_anyone_shows_or_moves_with_a_restricted_need_through_its_whole_life() {
    let started = Instant::now();
    let (with, without) = (Side::start().await, Side::start().await);
    let (needs, offers) = public_data(&with).await;
    assert_eq!(public_data(&without).await, (needs.clone(), offers.clone()));
    let mut body = need_body();
    body["visibility"] = json!("restricted");
    body["title"] = json!(format!("{} national crisis plan", MARKERS[0]));
    body["description"] = json!(format!(
        "Confidential: {} national CSIRT governance, staffing plan, playbooks and exercises.",
        MARKERS[1]
    ));
    // Before the restricted need exists the reads name an id no need has.
    let mut ids = Ids {
        needs,
        offers,
        restricted: uuid::Uuid::new_v4().to_string(),
    };
    let none = Seeing {
        everyone: false,
        providers: &[],
    };
    let mut made = check("the start", &with, &without, &ids, &none).await;

    let r = with
        .post("/v1/needs", state("SN"), "restricted", &body)
        .await;
    ids.restricted = r.body["id"].as_str().unwrap().to_owned();
    let need_path = format!("/v1/needs/{}", ids.restricted);
    let pair = |i: usize| format!("{}~{}", ids.restricted, ids.offers[i]);
    made += check("posted", &with, &without, &ids, &none).await;

    let revised = json!({"description": format!(
        "Confidential: {} national CSIRT governance and staffing; {} budget lines.",
        MARKERS[1], MARKERS[2]
    )});
    with.patch(&need_path, state("SN"), &revised).await;
    made += check("revised", &with, &without, &ids, &none).await;

    let coordinator = || Role::Coordinator;
    with.decide(&pair(0), "shortlist", coordinator(), json!({}))
        .await;
    with.decide(&pair(0), "introduce", coordinator(), json!({}))
        .await;
    let cyberaid = Seeing {
        everyone: false,
        providers: &["cyberaid"],
    };
    made += check("introduced to cyberaid", &with, &without, &ids, &cyberaid).await;

    with.decide(&pair(0), "accept", state("SN"), json!({}))
        .await;
    with.decide(&pair(0), "accept", provider("cyberaid"), json!({}))
        .await;
    made += check("accepted by both", &with, &without, &ids, &cyberaid).await;

    with.decide(&pair(1), "shortlist", coordinator(), json!({}))
        .await;
    with.decide(&pair(1), "introduce", coordinator(), json!({}))
        .await;
    with.decide(
        &pair(1),
        "decline",
        provider("otherorg"),
        json!({"reason": "not now"}),
    )
    .await;
    made += check("declined by otherorg", &with, &without, &ids, &cyberaid).await;

    with.decide(
        &pair(2),
        "dismiss",
        coordinator(),
        json!({"reason": "not a fit"}),
    )
    .await;
    made += check("dismissed for thirdorg", &with, &without, &ids, &cyberaid).await;

    with.patch(&need_path, state("SN"), &json!({"visibility": "public"}))
        .await;
    let everyone = Seeing {
        everyone: true,
        providers: &[],
    };
    made += check("made public", &with, &without, &ids, &everyone).await;

    with.patch(
        &need_path,
        state("SN"),
        &json!({"visibility": "restricted"}),
    )
    .await;
    made += check("made restricted again", &with, &without, &ids, &cyberaid).await;

    // Closed: the fourth offer, introduced to the restricted need, is withdrawn (on both sides).
    with.decide(&pair(3), "shortlist", coordinator(), json!({}))
        .await;
    with.decide(&pair(3), "introduce", coordinator(), json!({}))
        .await;
    for side in [&with, &without] {
        let path = format!("/v1/offers/{}/withdraw", ids.offers[3]);
        side.post(
            &path,
            provider("fourthorg"),
            "withdraw-4",
            &json!({"reason": "ended"}),
        )
        .await;
    }
    let coord = with.d.token(Role::Coordinator);
    with.api
        .eventually(
            &format!("/v1/matches/{}", pair(3)),
            Some(&coord),
            "the closing",
            |r| r.body["status"] == "closed",
        )
        .await;
    made += check("closed for fourthorg", &with, &without, &ids, &cyberaid).await;

    let withdraw = format!("{need_path}/withdraw");
    with.post(
        &withdraw,
        state("SN"),
        "withdraw-r",
        &json!({"reason": "done"}),
    )
    .await;
    made += check("withdrawn", &with, &without, &ids, &none).await;

    println!(
        "sweep: {made} reads over 11 steps, 11 kinds of caller, 2 deployments, in {:?}",
        started.elapsed()
    );
}
