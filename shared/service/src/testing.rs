//! Test support for the services' integration tests (feature `testing`): an HTTP client that
//! answers [`Reply`] values, and test tokens for every role. Not used by any service at run time.

use std::time::Duration;

use actix_web::http::Method;
use actix_web::http::header::HeaderMap;
use capmatch_auth::{AuthConfig, KeySource, Secret, TokenSigner};
use capmatch_domain::actor::{Actor, Role};
use serde_json::Value;

/// The issuer, audience and HS256 secret test services verify with.
pub const ISSUER: &str = "https://auth.capmatch.test";
pub const AUDIENCE: &str = "capmatch";
pub const SECRET: &[u8] = b"capmatch-test-secret-that-is-long-enough-for-hs256";

/// The development verifier configuration for [`SECRET`].
pub fn auth_config() -> AuthConfig {
    AuthConfig {
        issuer: ISSUER.to_owned(),
        audience: AUDIENCE.to_owned(),
        algorithms: vec![capmatch_auth::Algorithm::HS256],
        leeway_seconds: 30,
        keys: vec![KeySource::Hs256 {
            kid: None,
            secret: Secret::new(SECRET),
        }],
    }
}

/// Mints test tokens.
pub fn signer() -> TokenSigner {
    TokenSigner::hs256(SECRET, ISSUER, AUDIENCE)
        .unwrap_or_else(|e| panic!("the test secret is refused: {e}"))
}

/// A token for `role` with subject `sub`, valid for ten minutes.
pub fn token(sub: &str, role: Role) -> String {
    signer()
        .mint(&Actor::new(sub, role), Duration::from_secs(600))
        .unwrap_or_else(|e| panic!("cannot mint a test token: {e}"))
}

/// A state focal point's token (subject `state:<country>`).
pub fn state(country: &str) -> String {
    let country = country
        .parse()
        .unwrap_or_else(|_| panic!("{country} is not a country"));
    token(&format!("state:{country}"), Role::State { country })
}

/// A provider's token (subject `user@<org>`, org type `ngo`).
pub fn provider(org: &str) -> String {
    let parsed = org
        .parse()
        .unwrap_or_else(|_| panic!("{org} is not an org id"));
    let org_type = "ngo"
        .parse()
        .unwrap_or_else(|_| panic!("ngo is a provider type"));
    token(
        &format!("user@{org}"),
        Role::Provider {
            org: parsed,
            org_type,
        },
    )
}

pub fn coordinator() -> String {
    token("coordinator:1", Role::Coordinator)
}

pub fn service() -> String {
    token("svc:test", Role::Service)
}

pub fn admin() -> String {
    token("admin:1", Role::Admin)
}

/// What a request got back.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    /// The JSON body; a non-JSON body as a string; no body as `null`.
    pub body: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    #[track_caller]
    pub fn etag(&self) -> &str {
        self.header("etag")
            .unwrap_or_else(|| panic!("no ETag in {self:?}"))
    }

    /// The body's `id`.
    #[track_caller]
    pub fn id(&self) -> String {
        self.body["id"]
            .as_str()
            .unwrap_or_else(|| panic!("no id in {self:?}"))
            .to_owned()
    }

    /// The ids of a list's `items`.
    #[track_caller]
    pub fn item_ids(&self) -> Vec<String> {
        self.body["items"]
            .as_array()
            .unwrap_or_else(|| panic!("no items in {self:?}"))
            .iter()
            .map(|n| n["id"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// Asserts a problem+json body with this status and code.
    #[track_caller]
    pub fn assert_problem(&self, status: u16, code: &str) {
        assert_eq!(self.status, status, "unexpected reply: {self:?}");
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "{self:?}"
        );
        assert_eq!(self.body["code"], code, "{self:?}");
        assert_eq!(self.body["status"], status, "{self:?}");
    }
}

/// An HTTP client bound to one service's address.
pub struct TestClient {
    pub address: String,
    client: awc::Client,
}

impl std::fmt::Debug for TestClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestClient")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

impl TestClient {
    /// A client for `http://127.0.0.1:<port>`.
    pub fn new(port: u16) -> Self {
        Self {
            address: format!("http://127.0.0.1:{port}"),
            client: awc::Client::builder()
                .timeout(Duration::from_secs(60))
                .finish(),
        }
    }

    /// Sends a request with an optional bearer token, extra headers and a JSON body.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Reply {
        match body {
            Some(body) => {
                let bytes = serde_json::to_vec(body).unwrap_or_default();
                self.send_raw(
                    method,
                    path,
                    token,
                    headers,
                    Some("application/json"),
                    bytes,
                )
                .await
            }
            None => {
                self.send_raw(method, path, token, headers, None, Vec::new())
                    .await
            }
        }
    }

    /// Sends raw bytes with the given content type.
    pub async fn send_raw(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Reply {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.address));
        if let Some(token) = token {
            request = request.insert_header(("Authorization", format!("Bearer {token}")));
        }
        for (name, value) in headers {
            request = request.insert_header((*name, *value));
        }
        if let Some(content_type) = content_type {
            request = request.insert_header(("Content-Type", content_type));
        }
        let sent = if body.is_empty() && content_type.is_none() {
            request.send().await
        } else {
            request.send_body(body).await
        };
        let mut response = sent.unwrap_or_else(|e| panic!("no answer to {path}: {e}"));
        let bytes = response
            .body()
            .limit(64 * 1024 * 1024)
            .await
            .unwrap_or_else(|e| panic!("no body from {path}: {e}"));
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Reply {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body,
        }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.send(Method::GET, path, token, &[], None).await
    }

    /// `path` with an optional `Idempotency-Key`.
    pub async fn post(
        &self,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        key: Option<&str>,
    ) -> Reply {
        let headers: Vec<(&str, &str)> = key.map(|k| ("Idempotency-Key", k)).into_iter().collect();
        self.send(Method::POST, path, token, &headers, body).await
    }

    /// `PATCH path` with an optional `If-Match`.
    pub async fn patch(
        &self,
        path: &str,
        token: Option<&str>,
        if_match: Option<&str>,
        body: &Value,
    ) -> Reply {
        let headers: Vec<(&str, &str)> = if_match.map(|v| ("If-Match", v)).into_iter().collect();
        self.send(Method::PATCH, path, token, &headers, Some(body))
            .await
    }

    /// Polls `GET path` until `check` holds for the reply, failing after `timeout`.
    pub async fn poll_until(
        &self,
        path: &str,
        timeout: Duration,
        check: impl Fn(&Reply) -> bool,
    ) -> Reply {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let reply = self.get(path, None).await;
            if check(&reply) {
                return reply;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "timed out polling {path}: {reply:?}"
            );
            actix_web::rt::time::sleep(Duration::from_millis(10)).await;
        }
    }
}
