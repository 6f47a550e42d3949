//! Keys, signers, claims and a tiny actix app that reports who called.

use std::path::PathBuf;

use actix_web::http::StatusCode;
use actix_web::http::header::HeaderMap;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpResponse, get, test, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use capmatch_auth::{
    Algorithm, AuthConfig, Caller, KeySource, RoleKind, Secret, ServiceCaller, TokenSigner,
    Verifier, signer::now,
};
use capmatch_http::{ApiError, Problem};
use serde_json::{Value, json};

pub const ISSUER: &str = "https://auth.capmatch.test";
pub const AUDIENCE: &str = "capmatch";
pub const SECRET: &[u8] = b"test-secret-that-is-long-enough-for-hs256!";

pub fn key_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/keys")
        .join(name)
}

pub fn read_key(name: &str) -> Vec<u8> {
    std::fs::read(key_path(name)).expect("test key")
}

pub fn config(algorithms: &[Algorithm], keys: Vec<KeySource>) -> AuthConfig {
    AuthConfig {
        issuer: ISSUER.to_owned(),
        audience: AUDIENCE.to_owned(),
        algorithms: algorithms.to_vec(),
        leeway_seconds: 30,
        keys,
    }
}

/// A verifier with the HS256 test secret and no kid.
pub fn hs_verifier() -> Verifier {
    Verifier::new(config(
        &[Algorithm::HS256],
        vec![KeySource::Hs256 {
            kid: None,
            secret: Secret::new(SECRET),
        }],
    ))
    .expect("a valid config")
}

/// A verifier with the three PEM public keys, each with its kid.
pub fn pem_verifier() -> Verifier {
    Verifier::new(config(
        &[Algorithm::RS256, Algorithm::ES256, Algorithm::EdDSA],
        vec![
            pem_file("pem-rsa", Algorithm::RS256, "rsa_public.pem"),
            pem_file("pem-ec", Algorithm::ES256, "ec_public.pem"),
            pem_file("pem-ed", Algorithm::EdDSA, "ed_public.pem"),
        ],
    ))
    .expect("a valid config")
}

pub fn pem_file(kid: &str, algorithm: Algorithm, file: &str) -> KeySource {
    KeySource::PemFile {
        kid: Some(kid.to_owned()),
        algorithm,
        path: key_path(file),
    }
}

pub fn hs_signer() -> TokenSigner {
    TokenSigner::hs256(SECRET, ISSUER, AUDIENCE).expect("a signer")
}

pub fn pem_signer(algorithm: Algorithm, private_file: &str, kid: &str) -> TokenSigner {
    TokenSigner::from_pem(algorithm, &read_key(private_file), ISSUER, AUDIENCE)
        .expect("a signer")
        .with_kid(kid)
}

/// Valid claims for a coordinator; tests remove or change fields.
pub fn claims() -> Value {
    json!({
        "sub": "user-1",
        "role": "coordinator",
        "iss": ISSUER,
        "aud": AUDIENCE,
        "exp": now() + 600,
        "iat": now(),
    })
}

/// `claims()` with `changes` merged in (a `null` removes the field).
pub fn claims_with(changes: Value) -> Value {
    let mut claims = claims();
    let (Some(map), Value::Object(changes)) = (claims.as_object_mut(), changes) else {
        panic!("objects expected");
    };
    for (k, v) in changes {
        if v.is_null() {
            map.remove(&k);
        } else {
            map.insert(k, v);
        }
    }
    claims
}

/// A compact JWS with the given header and claims and an arbitrary (possibly empty) signature.
pub fn handmade(header: &Value, claims: &Value, signature: &str) -> String {
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        signature
    )
}

#[get("/whoami")]
async fn whoami(caller: Caller) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "anonymous": caller.is_anonymous(), "actor": caller.actor() }))
}

#[get("/coordination")]
async fn coordination(caller: Caller) -> Result<HttpResponse, ApiError> {
    let actor = caller.require_role(&[RoleKind::Coordinator, RoleKind::Admin])?;
    Ok(HttpResponse::Ok().json(actor))
}

#[get("/internal/feed")]
async fn feed(service: ServiceCaller) -> HttpResponse {
    HttpResponse::Ok().json(&service.0)
}

#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("a JSON body")
    }
}

/// Calls `path` on the tiny app with `verifier` in app data and the given `Authorization`
/// header values.
pub async fn call(verifier: Option<Verifier>, path: &str, authorization: &[&str]) -> Reply {
    let mut app = App::new();
    if let Some(verifier) = verifier {
        app = app.app_data(web::Data::new(verifier));
    }
    let app = test::init_service(
        app.service(whoami)
            .service(coordination)
            .service(feed)
            .wrap(from_fn(capmatch_http::request_context)),
    )
    .await;
    let mut req = test::TestRequest::get().uri(path);
    for value in authorization {
        req = req.append_header(("authorization", *value));
    }
    let res = test::call_service(&app, req.to_request()).await;
    let status = res.status();
    let headers = res.headers().clone();
    let body = String::from_utf8_lossy(&test::read_body(res).await).into_owned();
    Reply {
        status,
        headers,
        body,
    }
}

/// Calls `/whoami` with `Authorization: Bearer <token>`.
pub async fn call_with_token(verifier: Verifier, token: &str) -> Reply {
    call(Some(verifier), "/whoami", &[&format!("Bearer {token}")]).await
}

/// Words from `jsonwebtoken`'s and our own error names that must never reach a client.
const LEAKS: &[&str] = &[
    "InvalidSignature",
    "ExpiredSignature",
    "ImmatureSignature",
    "InvalidAlgorithm",
    "InvalidAudience",
    "InvalidIssuer",
    "MissingRequiredClaim",
    "jsonwebtoken",
    "Base64",
    "Json",
    "kid",
    "alg",
    "claim",
    "signature",
    "expired",
    "audience",
    "issuer",
    "role",
    "country",
    "org",
];

/// Asserts the generic 401: problem+json, `WWW-Authenticate: Bearer ...`, the one detail, and
/// no library or reason text.
#[track_caller]
pub fn assert_generic_401(reply: &Reply) {
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.body);
    assert_eq!(
        reply.header("content-type"),
        Some("application/problem+json")
    );
    let challenge = reply
        .header("www-authenticate")
        .expect("a WWW-Authenticate header");
    assert!(challenge.starts_with("Bearer"), "{challenge}");
    let problem: Problem = serde_json::from_str(&reply.body).expect("a problem");
    assert_eq!(problem.code, "unauthenticated");
    assert_eq!(
        problem.detail.as_deref(),
        Some("invalid or missing bearer token")
    );
    assert_eq!(problem.errors, None);
    let without_id = reply
        .body
        .replace(problem.request_id.as_deref().unwrap_or(""), "");
    for leak in LEAKS {
        assert!(
            !without_id.contains(leak),
            "401 body leaks {leak:?}: {}",
            reply.body
        );
    }
}
