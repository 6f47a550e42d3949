//! The `capmatch` command itself: tokens, configuration layers, verification, the committed API
//! document, and the development-mode guard. Runs the real binary.
#![allow(clippy::unwrap_used)]

use std::path::Path;

mod deploy;
use std::process::{Command, Output};

use capmatch_auth::{AuthConfig, DevSecret, Verifier};
use capmatch_domain::actor::Role;
use capmatch_eventstore::{EventStore, ExpectedVersion, NewEvent, Options};

fn capmatch(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_capmatch"))
        .args(args)
        .current_dir(dir)
        .env_remove("CAPMATCH_CONFIG")
        .env_remove("CAPMATCH_DATA_DIR")
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn verifier(data_dir: &Path) -> Verifier {
    let secret = DevSecret::load(&data_dir.join("dev-secret")).unwrap();
    Verifier::new(AuthConfig::development("capmatch-dev", "capmatch", &secret)).unwrap()
}

#[test]
fn a_development_token_carries_the_role_and_its_binding() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    type RoleCheck = fn(&Role) -> bool;
    let cases: [(&[&str], RoleCheck); 3] = [
        (
            &["--role", "state", "--country", "gm"],
            |r| matches!(r, Role::State { country } if country.as_str() == "GM"),
        ),
        (
            &[
                "--role",
                "provider",
                "--org",
                "cyberaid",
                "--org-type",
                "ngo",
            ],
            |r| matches!(r, Role::Provider { org, .. } if org.as_str() == "cyberaid"),
        ),
        (&["--role", "coordinator", "--ttl", "30m"], |r| {
            matches!(r, Role::Coordinator)
        }),
    ];
    for (args, check) in cases {
        let mut all = vec!["token", "--data-dir", data.to_str().unwrap()];
        all.extend_from_slice(args);
        let out = capmatch(dir.path(), &all);
        assert!(out.status.success(), "{}", text(&out));
        let token = String::from_utf8(out.stdout).unwrap();
        let actor = verifier(&data).verify(token.trim()).unwrap();
        assert!(check(&actor.role), "{args:?} gave {actor:?}");
    }
}

#[test]
fn the_development_secret_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let out = capmatch(dir.path(), &["token", "--role", "admin", "--data-dir", "d"]);
    assert!(out.status.success(), "{}", text(&out));
    let mode = std::fs::metadata(dir.path().join("d/dev-secret"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn inconsistent_token_flags_are_refused_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    for (args, says) in [
        (&["token", "--role", "state"][..], "--country"),
        (&["token", "--role", "provider", "--org", "x"], "--org-type"),
        (
            &[
                "token",
                "--role",
                "provider",
                "--org",
                "x",
                "--org-type",
                "ngo",
                "--country",
                "FR",
            ],
            "does not apply",
        ),
        (
            &["token", "--role", "state", "--country", "ZZ"],
            "--country",
        ),
        (&["token", "--role", "admin", "--ttl", "forever"], "--ttl"),
    ] {
        let out = capmatch(dir.path(), args);
        assert!(!out.status.success(), "{args:?}");
        assert!(text(&out).contains(says), "{args:?}: {}", text(&out));
    }
}

#[test]
fn configuration_layers_file_then_environment_then_flags() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("capmatch.toml"),
        "data_dir = \"from-file\"\n",
    )
    .unwrap();
    let run = |env: Option<&str>, flag: Option<&str>| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_capmatch"));
        cmd.args(["token", "--role", "admin"])
            .current_dir(dir.path())
            .env_remove("CAPMATCH_CONFIG")
            .env_remove("CAPMATCH_DATA_DIR");
        if let Some(env) = env {
            cmd.env("CAPMATCH_DATA_DIR", env);
        }
        if let Some(flag) = flag {
            cmd.args(["--data-dir", flag]);
        }
        assert!(cmd.output().unwrap().status.success());
    };
    run(None, None);
    assert!(dir.path().join("from-file/dev-secret").exists());
    run(Some("from-env"), None);
    assert!(dir.path().join("from-env/dev-secret").exists());
    run(Some("from-env-2"), Some("from-flag"));
    assert!(dir.path().join("from-flag/dev-secret").exists());
    assert!(!dir.path().join("from-env-2").exists());
}

#[test]
fn an_unknown_configuration_key_is_an_error_not_ignored() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("capmatch.toml"),
        "[gateway]\nbnd = \"127.0.0.1:1\"\n",
    )
    .unwrap();
    let out = capmatch(dir.path(), &["token", "--role", "admin"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("bnd"), "{}", text(&out));
}

#[test]
fn verify_reports_each_store_and_fails_without_any() {
    let dir = tempfile::tempdir().unwrap();
    let out = capmatch(dir.path(), &["verify", "--data-dir", "empty"]);
    assert_eq!(out.status.code(), Some(2));

    let data = dir.path().join("data");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let store = EventStore::open(data.join("needs"), Options::default()).unwrap();
        let e = NewEvent::new(
            uuid::Uuid::new_v4(),
            "need.posted",
            1,
            serde_json::json!({"x": 1}),
        );
        store
            .append("need-1", ExpectedVersion::NoStream, vec![e])
            .await
            .unwrap();
        store.close().await;
    });
    let out = capmatch(
        dir.path(),
        &["verify", "--data-dir", data.to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", text(&out));
    let report = text(&out);
    assert!(report.contains("needs    intact: 1 events"), "{report}");
    assert!(report.contains("offers   no store"), "{report}");
}

#[test]
fn development_mode_refuses_a_public_address_unless_told() {
    let dir = tempfile::tempdir().unwrap();
    let out = capmatch(
        dir.path(),
        &["serve", "--data-dir", "d", "--bind", "0.0.0.0:0"],
    );
    assert!(!out.status.success());
    assert!(
        text(&out).contains("refusing to run in development mode"),
        "{}",
        text(&out)
    );
}

#[test]
fn the_committed_api_document_is_the_one_the_code_serves() {
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../openapi/openapi.json");
    let committed = std::fs::read_to_string(&committed).unwrap_or_default();
    let current = capmatch::openapi::document_json().unwrap();
    assert!(
        committed == current,
        "openapi/openapi.json differs from the code; regenerate it with \
         `cargo run -p capmatch -- openapi > openapi/openapi.json`"
    );
    let out = capmatch(Path::new(env!("CARGO_MANIFEST_DIR")), &["openapi"]);
    assert_eq!(String::from_utf8(out.stdout).unwrap(), current);
}

#[test]
fn every_operation_documents_the_edge_and_every_retriable_one_its_replays() {
    let doc = serde_json::to_value(capmatch::openapi::document()).unwrap();
    let components = &doc["components"]["responses"];
    assert!(
        components["TooManyRequests"]["headers"]["Retry-After"].is_object(),
        "{components}"
    );
    let mut operations = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            operations += 1;
            let responses = operation["responses"].as_object().unwrap();
            for status in ["401", "413", "429", "500", "503", "504"] {
                assert!(
                    responses.contains_key(status),
                    "{method} {path} does not list {status}"
                );
            }
            let retriable = operation["parameters"]
                .as_array()
                .is_some_and(|p| p.iter().any(|p| p["name"] == "Idempotency-Key"));
            for (status, response) in responses.iter().filter(|(s, _)| s.starts_with('2')) {
                assert_eq!(
                    response["headers"]["Idempotent-Replayed"].is_object(),
                    retriable,
                    "{method} {path} {status}"
                );
            }
        }
    }
    assert!(operations >= 29, "{operations}");
}

#[test]
fn probe_succeeds_only_on_200() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = capmatch(
        dir.path(),
        &["probe", &format!("http://127.0.0.1:{port}/readyz")],
    );
    assert!(!out.status.success());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/livez", listener.local_addr().unwrap());
    let server = std::thread::spawn(move || {
        use std::io::{Read, Write};
        let (mut s, _) = listener.accept().unwrap();
        let mut request = Vec::new();
        let mut buf = [0u8; 512];
        while !request.ends_with(b"\r\n\r\n") {
            let n = s.read(&mut buf).unwrap();
            assert!(n > 0, "the probe closed before finishing its request");
            request.extend_from_slice(&buf[..n]);
        }
        s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
            .unwrap();
    });
    let out = capmatch(dir.path(), &["probe", &url]);
    assert!(out.status.success(), "{}", text(&out));
    server.join().unwrap();
}

/// Two programmes and two needs, each need labelled with the programme that delivered it.
const CASES: &str = r#"{
  "offers": [
    {"id": "o-csirt", "provider": "A response-team network", "provider_type": "technical_community",
     "title": "Setting up national CSIRTs",
     "description": "Mentors help governments create national computer incident response teams: mandate, services, staffing, playbooks.",
     "themes": ["incident_management_cip"], "modalities": ["technical_assistance", "training"],
     "regions": ["world"], "languages": ["en", "fr"], "eligible_beneficiaries": ["government"]},
    {"id": "o-law", "provider": "A legal institute", "provider_type": "academia",
     "title": "Cybercrime legislation drafting",
     "description": "Legal experts help draft computer crime laws and train prosecutors and judges on electronic evidence.",
     "themes": ["cybercrime"], "modalities": ["policy_advice", "training"],
     "countries": ["SN", "GM", "GH"], "languages": ["en", "fr"], "eligible_beneficiaries": ["government"]}
  ],
  "needs": [
    {"id": "n-cert", "state": "SN", "title": "A national CERT",
     "description": "We want to establish a national computer emergency response team and train its staff.",
     "themes": ["incident_management_cip"], "modalities": ["technical_assistance"], "languages": ["fr"],
     "beneficiary_type": "government", "true_offers": ["o-csirt"]},
    {"id": "n-law", "state": "GM", "title": "A computer-crime bill",
     "description": "Our laws lack procedural powers for electronic evidence; we need help drafting a bill.",
     "themes": ["cybercrime"], "modalities": ["policy_advice"], "languages": ["en"],
     "beneficiary_type": "government", "true_offers": ["o-law"], "related_offers": ["o-csirt"]}
  ]
}"#;

#[test]
fn eval_scores_a_case_file_through_a_capmatch_of_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let cases = dir.path().join("cases.json");
    std::fs::write(&cases, CASES).unwrap();
    let before = eval_dirs();
    let out = capmatch(
        dir.path(),
        &["eval", "--cases", cases.to_str().unwrap(), "--json"],
    );
    assert!(out.status.success(), "{}", text(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["needs"], 2, "{report}");
    assert_eq!(report["offers"], 2, "{report}");
    assert_eq!(report["hit_at_1"], 1.0, "{report}");
    assert_eq!(report["mrr"], 1.0, "{report}");
    let per_need = report["per_need"].as_array().unwrap();
    assert_eq!(per_need[0]["need"], "n-cert");
    assert_eq!(per_need[0]["rank"], 1);
    assert_eq!(per_need[1]["first"], "o-law");
    // Its own capmatch is gone, with its data directory.
    assert_eq!(eval_dirs(), before, "a data directory was left behind");
}

/// The data directories `capmatch eval` made and has not removed.
fn eval_dirs() -> usize {
    std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("capmatch-eval-")
        })
        .count()
}
