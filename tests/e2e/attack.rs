//! The attacker's view: every operation of the API document against every kind of caller
//! (an explicit authorisation matrix), a confidentiality sweep for a restricted need, and
//! malformed and hostile input.

use std::collections::BTreeSet;
use std::time::Instant;

use capmatch_domain::actor::Role;
use serde_json::{Value, json};

use crate::helpers::{Api, Deployment, GENEROUS_RATE_LIMIT, Reply};
use crate::journey::{need_body, offer_body, provider, state};

/// The kinds of caller, in the order of the matrix's columns.
const CALLERS: [&str; 12] = [
    "anonymous",
    "state SN (owner)",
    "state GH",
    "provider cyberaid (owner)",
    "provider otherorg",
    "coordinator",
    "service",
    "admin",
    "expired",
    "wrong-secret",
    "wrong-audience",
    "alg-none",
];

fn tokens(d: &Deployment) -> Vec<Option<String>> {
    let mut t = vec![
        None,
        Some(d.token(state("SN"))),
        Some(d.token(state("GH"))),
        Some(d.token(provider("cyberaid"))),
        Some(d.token(provider("otherorg"))),
        Some(d.token(Role::Coordinator)),
        Some(d.token(Role::Service)),
        Some(d.token(Role::Admin)),
    ];
    t.extend(d.bad_tokens().into_iter().map(|(_, token)| Some(token)));
    assert_eq!(t.len(), CALLERS.len());
    t
}

/// What a target refers to: the restricted need of SN, a public need of SN, the offer of
/// cyberaid, or the match between the restricted need and the offer.
#[derive(Clone, Copy, Debug)]
enum Target {
    None,
    RestrictedNeed,
    PublicNeed,
    Offer,
    Match,
    /// `why` takes the need and the offer in the query.
    Why,
}

/// The state a write's fresh fixture is brought to before the call (`None`: no fixture).
type Prepare = Option<&'static str>;

struct Row {
    method: &'static str,
    template: &'static str,
    target: Target,
    prepare: Prepare,
    body: fn() -> Value,
    /// One class per caller, in the order of [`CALLERS`]: `2xx`, `401`, `403`, `404`, or `inv`
    /// (the role may, but the call is invalid as made: 409 or 422).
    expect: &'static str,
}

fn empty() -> Value {
    json!({})
}
fn reason() -> Value {
    json!({"reason": "not a fit"})
}
fn outcome() -> Value {
    json!({"outcome": "done"})
}
fn revise() -> Value {
    json!({"title": "A revised title for this item"})
}
fn restricted_need() -> Value {
    let mut b = need_body();
    b["visibility"] = json!("restricted");
    b
}

const R: Option<&str> = None;

/// The matrix. Columns: anon SN GH cyberaid otherorg coordinator service admin | expired
/// wrong-secret wrong-audience alg-none.
const MATRIX: &[Row] = &[
    row(
        "GET",
        "/v1/matches",
        Target::None,
        R,
        "401 403 403 403 403 2xx 403 403 401 401 401 401",
    ),
    row(
        "GET",
        "/v1/matches/why",
        Target::Why,
        R,
        "401 2xx 404 404 404 2xx 404 404 401 401 401 401",
    ),
    row(
        "GET",
        "/v1/matches/{id}",
        Target::Match,
        R,
        "401 2xx 404 404 404 2xx 404 404 401 401 401 401",
    ),
    row(
        "GET",
        "/v1/needs",
        Target::None,
        R,
        "2xx 2xx 2xx 2xx 2xx 2xx 2xx 2xx 401 401 401 401",
    ),
    row(
        "GET",
        "/v1/needs/{id}",
        Target::RestrictedNeed,
        R,
        "404 2xx 404 404 404 2xx 404 404 401 401 401 401",
    ),
    row(
        "GET",
        "/v1/needs/{id}",
        Target::PublicNeed,
        R,
        "2xx 2xx 2xx 2xx 2xx 2xx 2xx 2xx 401 401 401 401",
    ),
    row(
        "GET",
        "/v1/needs/{id}/history",
        Target::RestrictedNeed,
        R,
        "401 2xx 404 404 404 2xx 404 404 401 401 401 401",
    ),
    row(
        "GET",
        "/v1/needs/{id}/history",
        Target::PublicNeed,
        R,
        "401 2xx 403 403 403 2xx 403 403 401 401 401 401",
    ),
    row(
        "GET",
        "/v1/needs/{id}/matches",
        Target::RestrictedNeed,
        R,
        "401 2xx 404 404 404 2xx 404 404 401 401 401 401",
    ),
    row(
        "GET",
        "/v1/needs/{id}/matches",
        Target::PublicNeed,
        R,
        "401 2xx 403 403 403 2xx 403 403 401 401 401 401",
    ),
    row(
        "GET",
        "/v1/offers",
        Target::None,
        R,
        "2xx 2xx 2xx 2xx 2xx 2xx 2xx 2xx 401 401 401 401",
    ),
    row(
        "GET",
        "/v1/offers/{id}",
        Target::Offer,
        R,
        "2xx 2xx 2xx 2xx 2xx 2xx 2xx 2xx 401 401 401 401",
    ),
    row(
        "GET",
        "/v1/offers/{id}/history",
        Target::Offer,
        R,
        "401 403 403 2xx 403 2xx 403 403 401 401 401 401",
    ),
    row(
        "GET",
        "/v1/offers/{id}/matches",
        Target::Offer,
        R,
        "401 403 403 2xx 403 2xx 403 403 401 401 401 401",
    ),
    row(
        "GET",
        "/v1/plan",
        Target::None,
        R,
        "401 403 403 403 403 2xx 403 403 401 401 401 401",
    ),
    row(
        "GET",
        "/v1/stats",
        Target::None,
        R,
        "2xx 2xx 2xx 2xx 2xx 2xx 2xx 2xx 401 401 401 401",
    ),
    row(
        "GET",
        "/v1/taxonomy",
        Target::None,
        R,
        "2xx 2xx 2xx 2xx 2xx 2xx 2xx 2xx 401 401 401 401",
    ),
    // A coordinator may post on a state's behalf, but must then name the country: 422 here.
    Row {
        body: restricted_need,
        ..row(
            "POST",
            "/v1/needs",
            Target::None,
            R,
            "401 2xx 2xx 403 403 inv 403 403 401 401 401 401",
        )
    },
    Row {
        body: offer_body,
        ..row(
            "POST",
            "/v1/offers",
            Target::None,
            R,
            "401 403 403 2xx 2xx 403 403 403 401 401 401 401",
        )
    },
    Row {
        body: revise,
        ..row(
            "PATCH",
            "/v1/needs/{id}",
            Target::RestrictedNeed,
            Some("suggested"),
            "401 2xx 404 404 404 2xx 404 404 401 401 401 401",
        )
    },
    row(
        "POST",
        "/v1/needs/{id}/fulfil",
        Target::RestrictedNeed,
        Some("suggested"),
        "401 2xx 404 404 404 2xx 404 404 401 401 401 401",
    ),
    row(
        "POST",
        "/v1/needs/{id}/withdraw",
        Target::RestrictedNeed,
        Some("suggested"),
        "401 2xx 404 404 404 2xx 404 404 401 401 401 401",
    ),
    Row {
        body: revise,
        ..row(
            "PATCH",
            "/v1/offers/{id}",
            Target::Offer,
            Some("suggested"),
            "401 403 403 2xx 403 2xx 403 403 401 401 401 401",
        )
    },
    row(
        "POST",
        "/v1/offers/{id}/pause",
        Target::Offer,
        Some("suggested"),
        "401 403 403 2xx 403 2xx 403 403 401 401 401 401",
    ),
    row(
        "POST",
        "/v1/offers/{id}/resume",
        Target::Offer,
        Some("paused"),
        "401 403 403 2xx 403 2xx 403 403 401 401 401 401",
    ),
    row(
        "POST",
        "/v1/offers/{id}/withdraw",
        Target::Offer,
        Some("suggested"),
        "401 403 403 2xx 403 2xx 403 403 401 401 401 401",
    ),
    row(
        "POST",
        "/v1/matches/{id}/shortlist",
        Target::Match,
        Some("suggested"),
        "401 403 404 404 404 2xx 404 404 401 401 401 401",
    ),
    Row {
        body: reason,
        ..row(
            "POST",
            "/v1/matches/{id}/dismiss",
            Target::Match,
            Some("suggested"),
            "401 403 404 404 404 2xx 404 404 401 401 401 401",
        )
    },
    row(
        "POST",
        "/v1/matches/{id}/introduce",
        Target::Match,
        Some("shortlisted"),
        "401 403 404 404 404 2xx 404 404 401 401 401 401",
    ),
    row(
        "POST",
        "/v1/matches/{id}/accept",
        Target::Match,
        Some("introduced"),
        "401 2xx 404 2xx 404 403 404 404 401 401 401 401",
    ),
    Row {
        body: reason,
        ..row(
            "POST",
            "/v1/matches/{id}/decline",
            Target::Match,
            Some("introduced"),
            "401 2xx 404 2xx 404 403 404 404 401 401 401 401",
        )
    },
    Row {
        body: outcome,
        ..row(
            "POST",
            "/v1/matches/{id}/complete",
            Target::Match,
            Some("agreed"),
            "401 403 404 403 404 2xx 404 404 401 401 401 401",
        )
    },
];

const fn row(
    method: &'static str,
    template: &'static str,
    target: Target,
    prepare: Prepare,
    expect: &'static str,
) -> Row {
    Row {
        method,
        template,
        target,
        prepare,
        body: empty,
        expect,
    }
}

fn class(status: u16) -> &'static str {
    match status {
        200..=299 => "2xx",
        401 => "401",
        403 => "403",
        404 => "404",
        409 | 422 => "inv",
        _ => "other",
    }
}

/// The ids of one set of fixtures: (restricted need, public need, offer, match).
#[derive(Clone)]
struct Fixture {
    restricted: String,
    public: String,
    offer: String,
    matched: String,
}

async fn post_id(api: &Api, path: &str, token: &str, body: &Value) -> String {
    let r = api.post(path, Some(token), body).await;
    assert_eq!(r.status, 201, "{path}: {}", r.raw);
    r.body["id"].as_str().unwrap().to_owned()
}

/// A restricted need of SN, an offer of cyberaid, their match brought to `stage`, and (when
/// `public`) a public need of SN.
async fn fixture(d: &Deployment, api: &Api, stage: &str, public: bool) -> Fixture {
    let sn = d.token(state("SN"));
    let ngo = d.token(provider("cyberaid"));
    let coord = d.token(Role::Coordinator);
    let restricted = post_id(api, "/v1/needs", &sn, &restricted_need()).await;
    let public = if public {
        post_id(api, "/v1/needs", &sn, &need_body()).await
    } else {
        String::new()
    };
    let offer = post_id(api, "/v1/offers", &ngo, &offer_body()).await;
    let matched = format!("{restricted}~{offer}");
    let path = format!("/v1/matches/{matched}");
    api.eventually(&path, Some(&coord), "the fixture's match", |r| {
        r.status == 200
    })
    .await;
    let steps: &[(&str, &str)] = match stage {
        "suggested" => &[],
        "paused" => &[("/v1/offers/{o}/pause", "ngo")],
        "shortlisted" => &[("shortlist", "coord")],
        "introduced" => &[("shortlist", "coord"), ("introduce", "coord")],
        "agreed" => &[
            ("shortlist", "coord"),
            ("introduce", "coord"),
            ("accept", "sn"),
            ("accept", "ngo"),
        ],
        other => panic!("unknown stage {other}"),
    };
    for (step, who) in steps {
        let token = match *who {
            "sn" => &sn,
            "ngo" => &ngo,
            _ => &coord,
        };
        let p = if step.starts_with('/') {
            step.replace("{o}", &offer)
        } else {
            format!("/v1/matches/{matched}/{step}")
        };
        let r = api.post(&p, Some(token), &json!({})).await;
        assert_eq!(r.status, 200, "{p}: {}", r.raw);
    }
    Fixture {
        restricted,
        public,
        offer,
        matched,
    }
}

fn path_for(row: &Row, f: &Fixture) -> String {
    let id = match row.target {
        Target::RestrictedNeed => &f.restricted,
        Target::PublicNeed => &f.public,
        Target::Offer => &f.offer,
        Target::Match => &f.matched,
        Target::None | Target::Why => "",
    };
    let mut path = row.template.replace("{id}", id);
    if let Target::Why = row.target {
        path = format!("{path}?need_id={}&offer_id={}", f.restricted, f.offer);
    }
    path
}

/// The (method, path template) pairs of the running server's API document.
async fn documented(api: &Api) -> BTreeSet<(String, String)> {
    let doc = api.get("/openapi.json", None).await;
    assert_eq!(doc.status, 200, "{}", doc.raw);
    let mut ops = BTreeSet::new();
    for (path, item) in doc.body["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if [
                "get", "put", "post", "delete", "patch", "head", "options", "trace",
            ]
            .contains(&method.as_str())
            {
                ops.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    ops
}

fn is_problem(r: &Reply) -> bool {
    r.header("content-type")
        .is_some_and(|c| c.starts_with("application/problem+json"))
        && r.body["status"] == r.status
}

#[actix_web::test]
async fn every_operation_answers_every_caller_as_the_matrix_says() {
    let started = Instant::now();
    let dir = crate::helpers::private_tempdir();
    let d = Deployment::all_in_one_with(dir.path(), GENEROUS_RATE_LIMIT);
    let api = Api::new(&d.gateway);
    d.wait_ready(&api).await;

    // Every documented operation has a row, and every row is a documented operation.
    let ops = documented(&api).await;
    let rows: BTreeSet<(String, String)> = MATRIX
        .iter()
        .map(|r| (r.method.to_owned(), r.template.to_owned()))
        .collect();
    let missing: Vec<_> = ops.difference(&rows).collect();
    assert!(
        missing.is_empty(),
        "operations without a row in the authorisation matrix: {missing:?}"
    );
    let stale: Vec<_> = rows.difference(&ops).collect();
    assert!(
        stale.is_empty(),
        "rows for undocumented operations: {stale:?}"
    );

    let tokens = tokens(&d);
    let coord = d.token(Role::Coordinator);
    let shared = fixture(&d, &api, "suggested", true).await;
    let mut failures = Vec::new();
    for row in MATRIX {
        let expect: Vec<&str> = row.expect.split_whitespace().collect();
        assert_eq!(
            expect.len(),
            CALLERS.len(),
            "{} {}",
            row.method,
            row.template
        );
        for (i, caller) in CALLERS.iter().enumerate() {
            // Reads share one fixture; every write gets its own.
            let f = match row.prepare {
                Some(stage) => fixture(&d, &api, stage, false).await,
                None => shared.clone(),
            };
            let path = path_for(row, &f);
            let mut headers = Vec::new();
            if row.method == "PATCH" {
                let current = api.get(&path, Some(&coord)).await;
                headers.push(current.header("etag").unwrap().to_owned());
            }
            let headers: Vec<(&str, &str)> =
                headers.iter().map(|e| ("if-match", e.as_str())).collect();
            let body = (row.body)();
            let body = (row.method != "GET").then_some(&body);
            let r = api
                .send(row.method, &path, tokens[i].as_deref(), body, &headers)
                .await;
            let got = class(r.status);
            if got != expect[i] {
                failures.push(format!(
                    "{} {} ({:?}) as {caller}: expected {}, got {} {}",
                    row.method, row.template, row.target, expect[i], r.status, r.raw
                ));
            } else if r.status >= 400 && !is_problem(&r) {
                failures.push(format!(
                    "{} {} as {caller}: {} is not problem+json: {:?} {}",
                    row.method, row.template, r.status, r.headers, r.raw
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    println!(
        "authorisation matrix: {} rows x {} callers in {:?}",
        MATRIX.len(),
        CALLERS.len(),
        started.elapsed()
    );
}

#[actix_web::test]
async fn a_restricted_need_never_leaks_to_those_who_may_not_see_it() {
    let dir = crate::helpers::private_tempdir();
    let d = Deployment::all_in_one_with(dir.path(), GENEROUS_RATE_LIMIT);
    let api = Api::new(&d.gateway);
    d.wait_ready(&api).await;
    let sn = d.token(state("SN"));
    let ngo = d.token(provider("cyberaid"));
    let coord = d.token(Role::Coordinator);

    let title = "Quokkazebra national crisis plan";
    let phrase = "periwinkle-ostrich-4471";
    let mut body = restricted_need();
    body["title"] = json!(title);
    body["description"] = json!(format!(
        "Confidential: {phrase} national CSIRT governance, staffing plan, playbooks and exercises."
    ));
    let need = post_id(&api, "/v1/needs", &sn, &body).await;
    let offer = post_id(&api, "/v1/offers", &ngo, &offer_body()).await;
    let matched = format!("{need}~{offer}");
    api.eventually(
        &format!("/v1/matches/{matched}"),
        Some(&coord),
        "the suggestion",
        |r| r.status == 200,
    )
    .await;
    let r = api
        .post(
            &format!("/v1/matches/{matched}/shortlist"),
            Some(&coord),
            &json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.raw);

    // Positive control for the searches: the owner finds it by every probe below.
    for q in ["Quokkazebra", phrase] {
        let r = api.get(&format!("/v1/needs?q={q}"), Some(&sn)).await;
        assert!(
            r.raw.contains(&need),
            "the owner's search for {q}: {}",
            r.raw
        );
    }

    let probes = [
        "/v1/needs".to_owned(),
        "/v1/needs?limit=100".to_owned(),
        "/v1/needs?q=Quokkazebra".to_owned(),
        format!("/v1/needs?q={phrase}"),
        "/v1/needs?q=quokkazebra%20crisis".to_owned(),
        "/v1/needs?country=SN".to_owned(),
        "/v1/needs?region=011".to_owned(),
        "/v1/needs?theme=incident_management_cip".to_owned(),
        "/v1/needs?status=open".to_owned(),
        "/v1/needs?language=fr&support_type=training".to_owned(),
        format!("/v1/needs/{need}"),
        format!("/v1/needs/{need}/history"),
        format!("/v1/needs/{need}/matches"),
        format!("/v1/offers/{offer}"),
        format!("/v1/offers/{offer}/matches"),
        format!("/v1/offers/{offer}/history"),
        "/v1/offers?q=Quokkazebra".to_owned(),
        "/v1/matches".to_owned(),
        "/v1/matches?status=shortlisted".to_owned(),
        "/v1/matches?status=suggested".to_owned(),
        format!("/v1/matches/{matched}"),
        format!("/v1/matches/why?need_id={need}&offer_id={offer}"),
        "/v1/plan".to_owned(),
        "/v1/stats".to_owned(),
        "/v1/taxonomy".to_owned(),
        "/openapi.json".to_owned(),
    ];
    let writes = [
        ("PATCH", format!("/v1/needs/{need}")),
        ("POST", format!("/v1/needs/{need}/withdraw")),
        ("POST", format!("/v1/needs/{need}/fulfil")),
        ("POST", format!("/v1/matches/{matched}/accept")),
        ("POST", format!("/v1/matches/{matched}/introduce")),
    ];
    let mut outsiders: Vec<(String, Option<String>)> = vec![
        ("anonymous".to_owned(), None),
        ("state GH".to_owned(), Some(d.token(state("GH")))),
        (
            "provider cyberaid (not introduced)".to_owned(),
            Some(ngo.clone()),
        ),
        (
            "provider otherorg".to_owned(),
            Some(d.token(provider("otherorg"))),
        ),
        ("service".to_owned(), Some(d.token(Role::Service))),
        ("admin".to_owned(), Some(d.token(Role::Admin))),
    ];
    outsiders.extend(
        d.bad_tokens()
            .into_iter()
            .map(|(name, t)| (name.to_owned(), Some(t))),
    );
    let secrets = [need.as_str(), title, phrase, "Quokkazebra"];
    let mut leaks = Vec::new();
    let mut check = |who: &str, what: &str, r: &Reply| {
        for s in secrets {
            if r.raw.contains(s) {
                leaks.push(format!(
                    "{what} as {who} ({}) shows {s:?}: {}",
                    r.status, r.raw
                ));
            }
        }
    };
    for (who, token) in &outsiders {
        for p in &probes {
            let r = api.get(p, token.as_deref()).await;
            check(who, p, &r);
        }
        for (method, p) in &writes {
            // Ids in the path are the caller's own words; the answer must still say nothing.
            let r = api
                .send(
                    method,
                    p,
                    token.as_deref(),
                    Some(&json!({"title": "x y z w"})),
                    &[],
                )
                .await;
            assert!(r.status >= 400, "{method} {p} as {who}: {}", r.raw);
            check(who, &format!("{method} {p}"), &r);
        }
    }
    assert!(leaks.is_empty(), "{}", leaks.join("\n"));

    // After the introduction, the provider does see it.
    let r = api
        .post(
            &format!("/v1/matches/{matched}/introduce"),
            Some(&coord),
            &json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.raw);
    // The needs service learns the introduction from the matcher's feed, moments later.
    let seen = api
        .eventually(
            &format!("/v1/needs/{need}"),
            Some(&ngo),
            "the introduced provider to see the need",
            |r| r.status == 200,
        )
        .await;
    assert!(
        seen.raw.contains(title) && seen.raw.contains(phrase),
        "{}",
        seen.raw
    );
    // Still hidden from the other provider.
    let other = d.token(provider("otherorg"));
    let hidden = api.get(&format!("/v1/needs/{need}"), Some(&other)).await;
    assert_eq!(hidden.status, 404, "{}", hidden.raw);
}

#[actix_web::test]
async fn hostile_input_gets_a_4xx_problem_and_the_service_stays_healthy() {
    let dir = crate::helpers::private_tempdir();
    let d = Deployment::all_in_one_with(dir.path(), GENEROUS_RATE_LIMIT);
    let api = Api::new(&d.gateway);
    d.wait_ready(&api).await;
    let sn = d.token(state("SN"));
    let ngo = d.token(provider("cyberaid"));
    let json_type = "application/json";

    let mut huge = need_body();
    huge["description"] = json!("a".repeat(70 * 1024));
    let nested = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let mut unknown = need_body();
    unknown["is_admin"] = json!(true);
    let mut partners = need_body();
    partners["partners_wanted"] = json!(0);
    let offer_with = |capacity: &str| {
        let text = offer_body().to_string();
        text.replace("\"capacity\":3", &format!("\"capacity\":{capacity}"))
            .into_bytes()
    };
    // (what, method, path, token, body, extra headers, expected status or 0 for any 4xx)
    type Case<'a> = (
        &'a str,
        &'a str,
        String,
        Option<&'a str>,
        Option<(&'a str, Vec<u8>)>,
        Vec<(&'a str, &'a str)>,
        u16,
    );
    let long_id = "r".repeat(500);
    let cases: Vec<Case> = vec![
        (
            "body > 64 KiB",
            "POST",
            "/v1/needs".into(),
            Some(&sn),
            Some((json_type, huge.to_string().into_bytes())),
            vec![],
            413,
        ),
        (
            "10 000 nested arrays",
            "POST",
            "/v1/needs".into(),
            Some(&sn),
            Some((json_type, nested.into_bytes())),
            vec![],
            0,
        ),
        (
            "invalid UTF-8",
            "POST",
            "/v1/needs".into(),
            Some(&sn),
            Some((json_type, b"{\"title\": \"\xff\xfe\xfd\"}".to_vec())),
            vec![],
            400,
        ),
        (
            "unknown field",
            "POST",
            "/v1/needs".into(),
            Some(&sn),
            Some((json_type, unknown.to_string().into_bytes())),
            vec![],
            0,
        ),
        (
            "partners_wanted 0",
            "POST",
            "/v1/needs".into(),
            Some(&sn),
            Some((json_type, partners.to_string().into_bytes())),
            vec![],
            0,
        ),
        (
            "capacity 10^30",
            "POST",
            "/v1/offers".into(),
            Some(&ngo),
            Some((json_type, offer_with("1000000000000000000000000000000"))),
            vec![],
            0,
        ),
        (
            "capacity -1",
            "POST",
            "/v1/offers".into(),
            Some(&ngo),
            Some((json_type, offer_with("-1"))),
            vec![],
            0,
        ),
        (
            "wrong content type",
            "POST",
            "/v1/needs".into(),
            Some(&sn),
            Some(("text/plain", need_body().to_string().into_bytes())),
            vec![],
            415,
        ),
        (
            "idempotency key with a tab",
            "POST",
            "/v1/needs".into(),
            Some(&sn),
            Some((json_type, need_body().to_string().into_bytes())),
            vec![("idempotency-key", "abc\tdef")],
            400,
        ),
        (
            "limit=0",
            "GET",
            "/v1/needs?limit=0".into(),
            None,
            None,
            vec![],
            400,
        ),
        (
            "limit=10^12",
            "GET",
            "/v1/needs?limit=1000000000000".into(),
            None,
            None,
            vec![],
            400,
        ),
        (
            "limit=-5",
            "GET",
            "/v1/needs?limit=-5".into(),
            None,
            None,
            vec![],
            400,
        ),
        (
            "cursor garbage",
            "GET",
            "/v1/needs?cursor=%00%ff-garbage".into(),
            None,
            None,
            vec![],
            400,
        ),
        (
            "offers cursor garbage",
            "GET",
            "/v1/offers?cursor=zzzz".into(),
            None,
            None,
            vec![],
            400,
        ),
    ];
    let mut failures = Vec::new();
    for (what, method, path, token, body, headers, expected) in cases {
        let r = api
            .send_bytes(method, &path, token, body, &headers)
            .await
            .unwrap();
        let status_ok = if expected == 0 {
            (400..500).contains(&r.status)
        } else {
            r.status == expected
        };
        if !status_ok || !is_problem(&r) {
            failures.push(format!(
                "{what}: expected {expected} problem+json, got {} {:?} {}",
                r.status,
                r.header("content-type"),
                &r.raw[..r.raw.len().min(400)]
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // A method a route does not take is a 405 naming the ones it does, on every service the
    // gateway serves; a path no route has is a 404.
    let need_path = format!("/v1/needs/{}", uuid::Uuid::new_v4());
    for (method, path, allow) in [
        ("TRACE", "/v1/needs", "GET, POST"),
        ("DELETE", need_path.as_str(), "GET, PATCH"),
        ("TRACE", "/v1/offers", "GET, POST"),
        ("PUT", "/v1/matches", "GET"),
        ("TRACE", "/v1/plan", "GET"),
        ("DELETE", "/v1/stats", "GET"),
    ] {
        let r = api
            .send_bytes(method, path, Some(&sn), None, &[])
            .await
            .unwrap();
        assert_eq!(r.status, 405, "{method} {path}: {}", r.raw);
        assert!(is_problem(&r), "{method} {path}: {}", r.raw);
        assert_eq!(r.header("allow"), Some(allow), "{method} {path}");
    }
    let r = api.get("/v1/offers/abc/pause/extra", Some(&sn)).await;
    assert_eq!(r.status, 404, "{}", r.raw);

    // Request ids: a 500-character one is replaced, not echoed.
    let r = api
        .send(
            "GET",
            "/v1/stats",
            None,
            None,
            &[("x-request-id", &long_id)],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.raw);
    let echoed = r.header("x-request-id").unwrap_or("");
    assert!(!echoed.is_empty() && echoed != long_id, "echoed {echoed:?}");
    assert!(!r.raw.contains(&long_id));
    // Control characters written straight to the socket: no header is injected, nothing echoed.
    for request in [
        &b"GET /v1/stats HTTP/1.1\r\nHost: x\r\nX-Request-Id: abc\rx-evil: 1\r\nConnection: close\r\n\r\n"[..],
        &b"GET /v1/stats HTTP/1.1\r\nHost: x\r\nX-Request-Id: abc\x01def\r\nConnection: close\r\n\r\n"[..],
    ] {
        let answer = api.raw_exchange(request).to_lowercase();
        assert!(answer.starts_with("http/1.1 "), "{answer}");
        assert!(
            !answer.lines().any(|l| l.starts_with("x-evil")),
            "{answer}"
        );
        assert!(!answer.contains("abc\x01def"), "{answer}");
    }
    let answer = api.raw_exchange(
        format!(
            "POST /v1/needs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {sn}\r\nIdempotency-Key: k\x01\x02\r\n\
             Content-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}"
        )
        .as_bytes(),
    );
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");

    // Still healthy, and an ordinary POST still works.
    assert_eq!(api.get("/readyz", None).await.status, 200);
    let r = api.post("/v1/needs", Some(&sn), &need_body()).await;
    assert_eq!(r.status, 201, "{}", r.raw);
}
