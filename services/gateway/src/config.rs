//! The gateway's configuration (loaded by the `capmatch` binary from defaults, `capmatch.toml`
//! and `CAPMATCH_*` variables).

use std::time::Duration;

use capmatch_service::ServerConfig;
use serde::Deserialize;

use crate::client::TrustedProxies;

/// Where the gateway listens and what it talks to.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewayConfig {
    /// Where to listen (port 0 picks a free port), the body limit (larger requests get a 413 at
    /// the edge), workers, and how long a stop lets requests finish.
    #[serde(default)]
    pub server: ServerConfig,
    pub upstreams: Upstreams,
    /// How long an upstream may take before the caller gets a 504.
    #[serde(default = "default_timeout_ms")]
    pub upstream_timeout_ms: u64,
    #[serde(default)]
    pub rate_limit: RateLimitConfig,
    #[serde(default)]
    pub cors: CorsConfig,
    /// Reverse proxies in front of the gateway whose `Forwarded` / `X-Forwarded-For` headers
    /// name the client (addresses or networks, e.g. `["10.0.0.0/8"]`). Empty by default: the
    /// headers are then ignored, and every caller is its connection's peer.
    #[serde(default)]
    pub trusted_proxies: TrustedProxies,
}

/// Base URLs of the services (`http://127.0.0.1:8081`, no trailing slash).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Upstreams {
    pub needs: String,
    pub offers: String,
    pub matcher: String,
}

/// Per-caller token bucket: `per_second` sustained, `burst` at once, on every path. A caller is
/// its token's subject, or its client address when anonymous (a refused token, too, is charged
/// to its client address).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitConfig {
    #[serde(default = "default_per_second")]
    pub per_second: u32,
    #[serde(default = "default_burst")]
    pub burst: u32,
    /// Off only for load benchmarks.
    #[serde(default = "default_true")]
    pub enabled: bool,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        RateLimitConfig {
            per_second: default_per_second(),
            burst: default_burst(),
            enabled: true,
        }
    }
}

/// Cross-origin access: closed unless origins are listed.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorsConfig {
    /// Exact origins (`https://coordination.example.org`) allowed to call the API from a browser.
    #[serde(default)]
    pub allowed_origins: Vec<String>,
    /// How long browsers may cache a preflight answer.
    #[serde(default = "default_max_age")]
    pub max_age_seconds: usize,
}

impl GatewayConfig {
    pub fn upstream_timeout(&self) -> Duration {
        Duration::from_millis(self.upstream_timeout_ms)
    }
}

fn default_timeout_ms() -> u64 {
    10_000
}
fn default_per_second() -> u32 {
    50
}
fn default_burst() -> u32 {
    100
}
fn default_true() -> bool {
    true
}
fn default_max_age() -> usize {
    600
}
