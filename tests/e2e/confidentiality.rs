//! What an attack review reproduced against a running `capmatch serve`, each as a fact an
//! outsider can check with tokens of its own: the nine findings, one test each (numbered as in
//! the review), and the sweep that walks every read of the API document as every kind of caller
//! through a restricted need's whole life (in `sweep.rs`).

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use capmatch_domain::actor::Role;
use serde_json::{Value, json};

use crate::helpers::{
    Api, Deployment, GENEROUS_RATE_LIMIT, Reply, private_tempdir, resident_kib, run_expecting_exit,
    serving,
};
use crate::journey::{need_body, offer_body, provider, state};

async fn post_id(api: &Api, path: &str, token: &str, body: &Value) -> String {
    let r = api.post(path, Some(token), body).await;
    assert_eq!(r.status, 201, "{path}: {}", r.raw);
    r.body["id"].as_str().unwrap().to_owned()
}

async fn decide(api: &Api, matched: &str, action: &str, token: &str, body: Value) -> Reply {
    let r = api
        .post(
            &format!("/v1/matches/{matched}/{action}"),
            Some(token),
            &body,
        )
        .await;
    assert_eq!(r.status, 200, "{action} {matched}: {}", r.raw);
    r
}

/// Waits until the coordinator sees the pair suggested (both feeds have reached the matcher).
async fn suggested(api: &Api, coord: &str, matched: &str) {
    api.eventually(
        &format!("/v1/matches/{matched}"),
        Some(coord),
        "the suggestion",
        |r| r.status == 200,
    )
    .await;
}

fn restricted(title: &str, description: &str) -> Value {
    let mut body = need_body();
    body["title"] = json!(title);
    body["description"] = json!(description);
    body["visibility"] = json!("restricted");
    body
}

/// The problem body without its request id, for comparing two answers.
fn problem(r: &Reply) -> Value {
    let mut body = r.body.clone();
    if let Some(fields) = body.as_object_mut() {
        fields.remove("request_id");
    }
    body
}

// 1. Memory without a token ------------------------------------------------------------------

/// Sends `n` requests with made-up methods and paths, 32 at a time.
async fn send_made_up(api: &Api, n: usize, seed: u64) {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut word = |len: usize, upper: bool| -> String {
        (0..len)
            .map(|_| {
                let c = rng.alphanumeric();
                if upper { c.to_ascii_uppercase() } else { c }
            })
            .collect()
    };
    let prefixes = [
        "/livez/",
        "/v1/",
        "/v1/needs/",
        "/v1/matches/",
        "/docs/",
        "/",
        "/internal/",
    ];
    let requests: Vec<(String, String)> = (0..n)
        .map(|i| {
            let method = format!("X{}", word(4 + i % 9, true));
            let path = format!(
                "{}{}/{}",
                prefixes[i % prefixes.len()],
                word(6, false),
                word(3, false)
            );
            (method, path)
        })
        .collect();
    for chunk in requests.chunks(32) {
        let sent = chunk
            .iter()
            .map(|(method, path)| api.send_bytes(method, path, None, None, &[]));
        for answer in futures_util::future::join_all(sent).await {
            let answer = answer.unwrap();
            assert!(answer.status >= 400, "{}", answer.raw);
        }
    }
}

/// The request series `/metrics` shows.
async fn request_series(api: &Api, admin: &str) -> std::collections::BTreeSet<String> {
    let metrics = api
        .send_bytes("GET", "/metrics", Some(admin), None, &[])
        .await
        .unwrap_or_else(|e| panic!("/metrics unreadable (more than 16 MiB of series?): {e}"));
    assert_eq!(metrics.status, 200, "{}", metrics.raw);
    metrics
        .raw
        .lines()
        .filter(|l| l.starts_with("capmatch_http_"))
        .filter_map(|l| l.rsplit_once(' ').map(|(series, _)| series.to_owned()))
        .collect()
}

#[actix_web::test]
async fn finding_1_made_up_methods_and_paths_add_no_series_and_no_memory() {
    let (_dir, d, api) = serving(GENEROUS_RATE_LIMIT).await;
    let admin = d.token(Role::Admin);
    // A first round makes every series such requests can reach (`other` method, unmatched
    // route, each status) and warms the allocator.
    send_made_up(&api, 2_000, 1).await;
    // (The first read of `/metrics` makes the series that count reads of `/metrics`.)
    request_series(&api, &admin).await;
    let series = request_series(&api, &admin).await;
    let before = resident_kib(d.pid("serve"));
    send_made_up(&api, 10_000, 2).await;
    let after = resident_kib(d.pid("serve"));
    let now = request_series(&api, &admin).await;
    let new: Vec<_> = now.difference(&series).collect();
    assert!(
        new.is_empty(),
        "10 000 made-up methods and paths made new series: {new:#?}"
    );
    println!("resident memory: {before} KiB before, {after} KiB after 10 000 made-up requests");
    assert!(
        after < before + 8 * 1024,
        "resident memory grew from {before} KiB to {after} KiB"
    );
}

// 2. Access that outlives the partnership ------------------------------------------------------

#[actix_web::test]
async fn finding_2_a_provider_loses_a_restricted_need_when_its_partnership_ends() {
    let (_dir, d, api) = serving(GENEROUS_RATE_LIMIT).await;
    let (sn, coord, ngo) = (
        d.token(state("SN")),
        d.token(Role::Coordinator),
        d.token(provider("cyberaid")),
    );
    let marker = "Wombatlantern";
    let declined = post_id(
        &api,
        "/v1/needs",
        &sn,
        &restricted(
            &format!("{marker} cyber crisis plan"),
            "Confidential national CSIRT governance, staffing plan, playbooks and exercises.",
        ),
    )
    .await;
    let completed = post_id(
        &api,
        "/v1/needs",
        &sn,
        &restricted(
            "Zanzibarite incident response programme",
            "Confidential national CSIRT staffing, playbooks and exercises for incident response.",
        ),
    )
    .await;
    let offer = post_id(&api, "/v1/offers", &ngo, &offer_body()).await;
    let (m1, m2) = (
        format!("{declined}~{offer}"),
        format!("{completed}~{offer}"),
    );
    for m in [&m1, &m2] {
        suggested(&api, &coord, m).await;
        decide(&api, m, "shortlist", &coord, json!({})).await;
        decide(&api, m, "introduce", &coord, json!({})).await;
    }
    api.eventually(
        &format!("/v1/needs/{declined}"),
        Some(&ngo),
        "the introduced provider to see the need",
        |r| r.status == 200,
    )
    .await;

    // The provider declines one; the other is agreed and completed.
    decide(&api, &m1, "decline", &ngo, json!({"reason": "not for us"})).await;
    decide(&api, &m2, "accept", &sn, json!({})).await;
    decide(&api, &m2, "accept", &ngo, json!({})).await;
    decide(&api, &m2, "complete", &coord, json!({"outcome": "done"})).await;
    // After the decline, the state writes more of its plan.
    let revision = "Kelpfalcon-after-the-decline";
    let current = api.get(&format!("/v1/needs/{declined}"), Some(&sn)).await;
    let revised = api
        .send(
            "PATCH",
            &format!("/v1/needs/{declined}"),
            Some(&sn),
            Some(&json!({"description": format!("{revision}: the next phase of the plan, with its budget.")})),
            &[("if-match", current.header("etag").unwrap())],
        )
        .await;
    assert_eq!(revised.status, 200, "{}", revised.raw);

    // From then on, both needs are gone for the provider, everywhere.
    for need in [&declined, &completed] {
        api.eventually(
            &format!("/v1/needs/{need}"),
            Some(&ngo),
            "the need to be gone for the provider",
            |r| r.status == 404,
        )
        .await;
    }
    let probes = [
        format!("/v1/needs/{declined}"),
        format!("/v1/needs/{declined}/history"),
        format!("/v1/needs/{completed}"),
        format!("/v1/matches/{m1}"),
        format!("/v1/matches/why?need_id={declined}&offer_id={offer}"),
        format!("/v1/offers/{offer}/matches"),
        "/v1/needs".to_owned(),
        format!("/v1/needs?q={marker}"),
        format!("/v1/needs?q={revision}"),
        "/v1/needs?q=Zanzibarite".to_owned(),
        "/v1/needs?country=SN".to_owned(),
    ];
    for probe in &probes {
        let r = api.get(probe, Some(&ngo)).await;
        for secret in [
            declined.as_str(),
            completed.as_str(),
            marker,
            revision,
            "Zanzibarite",
        ] {
            assert!(!r.raw.contains(secret), "{probe} shows {secret}: {}", r.raw);
        }
    }
    assert_eq!(
        api.get(&format!("/v1/matches/{m1}"), Some(&ngo))
            .await
            .status,
        404
    );
    let list = api.get("/v1/needs", Some(&ngo)).await;
    assert_eq!(list.body["total"], 0, "{}", list.raw);
    // A completed partnership keeps its own record for the provider, not the need.
    let record = api.get(&format!("/v1/matches/{m2}"), Some(&ngo)).await;
    assert_eq!(record.status, 200, "{}", record.raw);
    assert_eq!(record.body["status"], "completed");
    assert_eq!(record.body["outcome"], "done");
    assert!(record.body.get("need_title").is_none(), "{}", record.raw);
    // The owner still sees everything.
    let own = api.get(&format!("/v1/needs/{declined}"), Some(&sn)).await;
    assert!(own.raw.contains(revision), "{}", own.raw);
}

// 3. Inference through figures ----------------------------------------------------------------

/// What the public need's state reads of the offer's suggestion and its explanation, and what
/// anyone reads of the statistics.
async fn seen(api: &Api, sn: &str, public: &str, offer: &str) -> (Value, Value, Value) {
    let list = api
        .get(&format!("/v1/needs/{public}/matches"), Some(sn))
        .await;
    let item = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["offer_id"] == offer)
        .cloned()
        .unwrap();
    let why = api
        .get(
            &format!("/v1/matches/why?need_id={public}&offer_id={offer}"),
            Some(sn),
        )
        .await;
    let stats = api.get("/v1/stats", None).await;
    (item, why.body, stats.body)
}

#[actix_web::test]
async fn finding_3_no_figure_moves_when_a_restricted_need_takes_an_offers_capacity() {
    let (_dir, d, api) = serving(GENEROUS_RATE_LIMIT).await;
    let (sn, gh, coord, ngo) = (
        d.token(state("SN")),
        d.token(state("GH")),
        d.token(Role::Coordinator),
        d.token(provider("cyberaid")),
    );
    let public = post_id(&api, "/v1/needs", &sn, &need_body()).await;
    let mut offer = offer_body();
    offer["capacity"] = json!(2);
    let offer = post_id(&api, "/v1/offers", &ngo, &offer).await;
    let hidden = post_id(
        &api,
        "/v1/needs",
        &gh,
        &restricted(
            "Confidential CSIRT plan",
            "Confidential national CSIRT governance, staffing plan, playbooks and exercises.",
        ),
    )
    .await;
    suggested(&api, &coord, &format!("{public}~{offer}")).await;
    suggested(&api, &coord, &format!("{hidden}~{offer}")).await;

    let before = seen(&api, &sn, &public, &offer).await;
    assert!(
        before.0.to_string().contains("room for 2 more"),
        "{}",
        before.0
    );
    let m = format!("{hidden}~{offer}");
    decide(&api, &m, "shortlist", &coord, json!({})).await;
    decide(&api, &m, "introduce", &coord, json!({})).await;
    assert_eq!(
        seen(&api, &sn, &public, &offer).await,
        before,
        "after the introduction"
    );
    decide(&api, &m, "accept", &gh, json!({})).await;
    decide(&api, &m, "accept", &ngo, json!({})).await;
    assert_eq!(
        seen(&api, &sn, &public, &offer).await,
        before,
        "after the agreement"
    );
}

// 4. Workflow state through preconditions --------------------------------------------------------

#[actix_web::test]
async fn finding_4_a_caller_who_may_not_see_a_match_gets_the_same_404_whatever_it_sends() {
    let (_dir, d, api) = serving(GENEROUS_RATE_LIMIT).await;
    let (sn, gh, coord, ngo, other) = (
        d.token(state("SN")),
        d.token(state("GH")),
        d.token(Role::Coordinator),
        d.token(provider("cyberaid")),
        d.token(provider("otherorg")),
    );
    let public = post_id(&api, "/v1/needs", &sn, &need_body()).await;
    let offer = post_id(&api, "/v1/offers", &ngo, &offer_body()).await;
    let m = format!("{public}~{offer}");
    suggested(&api, &coord, &m).await;
    decide(&api, &m, "shortlist", &coord, json!({})).await;

    for (who, token) in [
        ("state GH", &gh),
        ("provider otherorg", &other),
        ("cyberaid before its introduction", &ngo),
    ] {
        let read = api.get(&format!("/v1/matches/{m}"), Some(token)).await;
        assert_eq!(read.status, 404, "{who}: {}", read.raw);
        for (action, body) in [
            ("shortlist", json!({})),
            ("introduce", json!({})),
            ("accept", json!({})),
            ("decline", json!({"reason": "x"})),
            ("dismiss", json!({"reason": "x"})),
            ("complete", json!({"outcome": "x"})),
        ] {
            for headers in [
                vec![("if-match", "\"99\"")],
                vec![("if-match", "\"1\"")],
                vec![("idempotency-key", "probe-1")],
                vec![],
            ] {
                let r = api
                    .send(
                        "POST",
                        &format!("/v1/matches/{m}/{action}"),
                        Some(token),
                        Some(&body),
                        &headers,
                    )
                    .await;
                assert_eq!(
                    (r.status, problem(&r)),
                    (404, problem(&read)),
                    "{who} {action} {headers:?}: {}",
                    r.raw
                );
            }
        }
    }
    // A caller who sees the need but may not change it is refused before its If-Match is
    // compared: nothing about the need's version is told.
    let r = api
        .send(
            "PATCH",
            &format!("/v1/needs/{public}"),
            Some(&gh),
            Some(&json!({"title": "Another title for it"})),
            &[("if-match", "\"99\"")],
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.raw);
}

// 5. Hidden events counted through positions ------------------------------------------------------

#[actix_web::test]
async fn finding_5_cursors_and_history_carry_no_log_position() {
    let (_dir, d, api) = serving(GENEROUS_RATE_LIMIT).await;
    let (sn, coord) = (d.token(state("SN")), d.token(Role::Coordinator));
    let first = post_id(&api, "/v1/needs", &sn, &need_body()).await;
    // Hidden events between two public needs.
    let hidden = post_id(
        &api,
        "/v1/needs",
        &sn,
        &restricted("Hidden plan", "A confidential plan for incident response."),
    )
    .await;
    for i in 0..3 {
        let current = api.get(&format!("/v1/needs/{hidden}"), Some(&sn)).await;
        let r = api
            .send(
                "PATCH",
                &format!("/v1/needs/{hidden}"),
                Some(&sn),
                Some(&json!({"title": format!("Hidden plan, revision {i}")})),
                &[("if-match", current.header("etag").unwrap())],
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.raw);
    }
    let second = post_id(&api, "/v1/needs", &sn, &need_body()).await;
    let third = post_id(&api, "/v1/needs", &sn, &need_body()).await;

    // Where each public need's events stand in the log, as only a coordinator may read.
    let mut positions = Vec::new();
    for need in [&first, &second, &third] {
        let history = api
            .get(&format!("/v1/needs/{need}/history"), Some(&coord))
            .await;
        positions.push(history.body["items"][0]["position"].as_u64().unwrap());
    }
    assert!(positions[1] - positions[0] > 1, "{positions:?}");
    // An anonymous caller pages through the public needs one at a time.
    let mut cursors = Vec::new();
    let mut path = "/v1/needs?limit=1".to_owned();
    loop {
        let page = api.get(&path, None).await;
        assert_eq!(page.status, 200, "{}", page.raw);
        let Some(cursor) = page.body["next_cursor"].as_str() else {
            break;
        };
        cursors.push(cursor.to_owned());
        path = format!("/v1/needs?limit=1&cursor={cursor}");
    }
    assert_eq!(cursors.len(), 2, "{cursors:?}");
    for cursor in &cursors {
        assert!(
            !cursor.bytes().all(|b| b.is_ascii_digit()),
            "a cursor is not a number: {cursor}"
        );
        for position in &positions {
            assert_ne!(cursor, &position.to_string());
        }
    }
    // The owner's history shows the need's own versions, without global positions.
    let own = api
        .get(&format!("/v1/needs/{second}/history"), Some(&sn))
        .await;
    assert_eq!(own.status, 200);
    let item = &own.body["items"][0];
    assert_eq!(item["version"], 1);
    assert!(item.get("position").is_none(), "{}", own.raw);
}

// 6. Rate limits with holes -------------------------------------------------------------------

#[actix_web::test]
async fn finding_6_forged_tokens_and_every_public_path_are_charged_and_proxies_are_opt_in() {
    let tight = [
        ("CAPMATCH_GATEWAY__RATE_LIMIT__PER_SECOND", "1"),
        ("CAPMATCH_GATEWAY__RATE_LIMIT__BURST", "5"),
        ("CAPMATCH_GATEWAY__TRUSTED_PROXIES", "[\"127.0.0.1\"]"),
    ];
    let (_dir, d, api) = serving(&tight).await;
    // Behind the trusted proxy (this test, on loopback) each check is its own client.
    let from = |client: &'static str| [("x-forwarded-for", client)];

    let good = d.token(Role::Coordinator);
    let (head, _) = good.rsplit_once('.').unwrap();
    let forged = format!("Bearer {head}.{}", "A".repeat(43));
    let mut statuses = Vec::new();
    for _ in 0..8 {
        let mut headers = from("198.51.100.1").to_vec();
        headers.push(("authorization", forged.as_str()));
        statuses.push(
            api.send("GET", "/v1/needs", None, None, &headers)
                .await
                .status,
        );
    }
    assert_eq!(statuses[..5], [401; 5], "{statuses:?}");
    assert_eq!(statuses[5..], [429; 3], "{statuses:?}");

    for (i, path) in [
        "/readyz",
        "/livez",
        "/openapi.json",
        "/docs/",
        "/metrics",
        "/v1/stats",
    ]
    .into_iter()
    .enumerate()
    {
        let client = [
            "198.51.100.11",
            "198.51.100.12",
            "198.51.100.13",
            "198.51.100.14",
            "198.51.100.15",
            "198.51.100.16",
        ][i];
        let mut statuses = Vec::new();
        for _ in 0..7 {
            statuses.push(
                api.send("GET", path, None, None, &from(client))
                    .await
                    .status,
            );
        }
        assert!(
            statuses[..5].iter().all(|s| *s != 429),
            "{path}: {statuses:?}"
        );
        assert_eq!(statuses[5..], [429, 429], "{path}: {statuses:?}");
    }
    // Another client behind the same proxy has a bucket of its own.
    let other = api
        .send("GET", "/v1/stats", None, None, &from("198.51.100.99"))
        .await;
    assert_eq!(other.status, 200, "{}", other.raw);
}

#[actix_web::test]
async fn finding_6_without_trusted_proxies_a_forwarded_address_is_not_believed() {
    let tight = [
        ("CAPMATCH_GATEWAY__RATE_LIMIT__PER_SECOND", "1"),
        ("CAPMATCH_GATEWAY__RATE_LIMIT__BURST", "3"),
    ];
    let (_dir, _serving, api) = serving(&tight).await;
    // Readiness polling has used some of this address's bucket: empty the rest under one
    // claimed address, then claim another.
    let api = &api;
    let claiming = |claimed: &'static str| async move {
        let headers = [("x-forwarded-for", claimed)];
        api.send("GET", "/v1/stats", None, None, &headers).await
    };
    let mut limited = false;
    for _ in 0..10 {
        if claiming("203.0.113.1").await.status == 429 {
            limited = true;
            break;
        }
    }
    assert!(limited, "the bucket never emptied");
    assert_eq!(claiming("203.0.113.2").await.status, 429);
}

// 7. Data at rest readable by other users --------------------------------------------------------

/// Every directory below `dir` (itself included) and every file, with its permission bits.
fn modes(dir: &Path, out: &mut Vec<(String, bool, u32)>) {
    let meta = std::fs::metadata(dir).unwrap();
    out.push((
        dir.display().to_string(),
        true,
        meta.permissions().mode() & 0o777,
    ));
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let kind = entry.file_type().unwrap();
        if kind.is_dir() {
            modes(&entry.path(), out);
        } else if kind.is_file() {
            let mode = entry.metadata().unwrap().permissions().mode() & 0o777;
            out.push((entry.path().display().to_string(), false, mode));
        }
    }
}

#[actix_web::test]
async fn finding_7_data_at_rest_is_its_owners_only_and_an_open_directory_is_refused() {
    let dir = private_tempdir();
    // A data directory capmatch makes itself is its owner's only.
    let fresh = dir.path().join("fresh");
    let (status, out) = crate::helpers::run(&["token", "--role", "admin"], &fresh);
    assert!(status.success(), "{out}");
    let mut found = Vec::new();
    modes(&fresh, &mut found);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(
        found
            .iter()
            .all(|(_, dir, mode)| *mode == if *dir { 0o700 } else { 0o600 }),
        "{found:?}"
    );

    // So are the stores and every file in them.
    let mut d = Deployment::all_in_one_with(dir.path(), GENEROUS_RATE_LIMIT);
    let api = Api::new(&d.gateway);
    d.wait_ready(&api).await;
    let sn = d.token(state("SN"));
    post_id(
        &api,
        "/v1/needs",
        &sn,
        &restricted(
            "Private plan",
            "Confidential text of a national plan for incident response.",
        ),
    )
    .await;
    d.terminate_all();
    for store in ["needs", "offers", "matcher"] {
        let mut found = Vec::new();
        modes(&dir.path().join(store), &mut found);
        assert!(
            found.iter().filter(|(_, dir, _)| !dir).count() >= 3,
            "{found:?}"
        );
        let open: Vec<_> = found
            .iter()
            .filter(|(_, dir, mode)| *mode != if *dir { 0o700 } else { 0o600 })
            .collect();
        assert!(open.is_empty(), "not the owner's only: {open:?}");
    }

    // A data directory others may read is refused, with the command that fixes it.
    let shared = dir.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o755)).unwrap();
    let shared_arg = shared.to_str().unwrap();
    for command in ["serve", "needs"] {
        let (status, out) = run_expecting_exit(
            &[command, "--data-dir", shared_arg],
            &[("CAPMATCH_GATEWAY__BIND", "127.0.0.1:0")],
            Duration::from_secs(20),
        );
        assert!(!status.success(), "{command}: {out}");
        assert!(
            out.contains("chmod") && out.contains(shared_arg),
            "{command}: {out}"
        );
    }
    assert_eq!(
        std::fs::read_dir(&shared).unwrap().count(),
        0,
        "nothing written there"
    );

    // With an identity provider, a service token file others may read is refused too.
    let token_file = dir.path().join("service-token");
    std::fs::write(&token_file, "a.b.c\n").unwrap();
    std::fs::set_permissions(&token_file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let config = dir.path().join("capmatch.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = \"{}\"\n[auth]\nissuer = \"i\"\naudience = \"a\"\n\
             algorithms = [\"HS256\"]\n\
             keys = [{{ source = \"hs256_file\", path = \"{}\" }}]\n\
             [peers]\nservice_token_file = \"{}\"\n",
            dir.path().join("production").display(),
            fresh.join("dev-secret").display(),
            token_file.display()
        ),
    )
    .unwrap();
    let (status, out) = run_expecting_exit(
        &["needs", "--config", config.to_str().unwrap()],
        &[],
        Duration::from_secs(20),
    );
    assert!(!status.success(), "{out}");
    assert!(
        out.contains("chmod 600") && out.contains("service-token"),
        "{out}"
    );
}

// 8. Idempotency ids that collide ------------------------------------------------------------------

#[actix_web::test]
async fn finding_8_a_key_is_its_callers_own_and_a_retry_is_answered_only_after_authorisation() {
    let (_dir, d, api) = serving(GENEROUS_RATE_LIMIT).await;
    let sn = |sub: &str| d.token_as(sub, state("SN"));
    let post = |token: String, key: &'static str, body: Value| {
        let api = &api;
        async move {
            api.send(
                "POST",
                "/v1/needs",
                Some(&token),
                Some(&body),
                &[("idempotency-key", key)],
            )
            .await
        }
    };
    // ("alice|x", "k1") and ("alice", "x|k1") are two requests, with the same body or not.
    let a = post(sn("alice|x"), "k1", need_body()).await;
    assert_eq!(a.status, 201, "{}", a.raw);
    let b = post(sn("alice"), "x|k1", need_body()).await;
    assert_eq!(b.status, 201, "{}", b.raw);
    assert!(b.header("idempotent-replayed").is_none(), "{:?}", b.headers);
    assert_ne!(a.body["id"], b.body["id"]);
    let mut other = need_body();
    other["title"] = json!("Another need entirely");
    let c = post(sn("alice\\"), "|k1", other.clone()).await;
    assert_eq!(c.status, 201, "{}", c.raw);
    let c2 = post(sn("alice"), "\\|k1", other).await;
    assert_eq!(c2.status, 201, "{}", c2.raw);
    assert_ne!(c.body["id"], c2.body["id"]);

    // The same subject in a role that may not post a need is refused, not answered from the
    // state's earlier request.
    let original = post(sn("shared-subject"), "k2", need_body()).await;
    assert_eq!(original.status, 201, "{}", original.raw);
    let provider_token = d.token_as("shared-subject", provider("cyberaid"));
    let replay = post(provider_token, "k2", need_body()).await;
    assert_eq!(replay.status, 403, "{}", replay.raw);
    assert!(!replay.raw.contains(original.body["id"].as_str().unwrap()));
}

// 9. Two gateway paths that differ -----------------------------------------------------------------

#[actix_web::test]
async fn finding_9_a_retried_post_says_it_was_replayed_in_both_deployments() {
    for four in [false, true] {
        let dir = private_tempdir();
        let d = if four {
            Deployment::four_processes(dir.path())
        } else {
            Deployment::all_in_one(dir.path())
        };
        let api = Api::new(&d.gateway);
        d.wait_ready(&api).await;
        let sn = d.token(state("SN"));
        let body = need_body();
        let send = || {
            api.send(
                "POST",
                "/v1/needs",
                Some(&sn),
                Some(&body),
                &[("idempotency-key", "retry-me")],
            )
        };
        let first = send().await;
        assert_eq!(first.status, 201, "{}", first.raw);
        assert!(first.header("idempotent-replayed").is_none());
        let retry = send().await;
        assert_eq!(retry.status, 201, "{}", retry.raw);
        assert_eq!(
            retry.header("idempotent-replayed"),
            Some("true"),
            "four processes: {four}"
        );
        assert_eq!(retry.header("etag"), first.header("etag"));
        assert_eq!(retry.header("location"), first.header("location"));
        assert_eq!(retry.body, first.body);
    }
}
