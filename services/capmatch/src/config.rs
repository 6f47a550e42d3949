//! Configuration, layered: built-in defaults < `capmatch.toml` (or `--config`) < `CAPMATCH_*`
//! environment variables (`__` separates levels: `CAPMATCH_GATEWAY__BIND=0.0.0.0:8080`) <
//! command-line flags.

use std::path::{Path, PathBuf};

use capmatch_auth::{AuthConfig, Secret};
use capmatch_engine::MatcherConfig;
use capmatch_gateway::{CorsConfig, RateLimitConfig, TrustedProxies};
use capmatch_service::ServerConfig;
use figment::Figment;
use figment::providers::{Env, Format, Toml};
use serde::Deserialize;

/// The file read when no `--config` is given, if it exists.
pub const DEFAULT_CONFIG_FILE: &str = "capmatch.toml";
/// Default data directory: one store per service below it.
pub const DEFAULT_DATA_DIR: &str = "./data";
/// The development secret's file name inside the data directory.
pub const DEV_SECRET_FILE: &str = "dev-secret";
/// Default addresses. The gateway is the public one; the services' are used when each runs as
/// its own process (`capmatch needs` …); `capmatch serve` gives them free loopback ports.
pub const GATEWAY_BIND: &str = "127.0.0.1:8080";
pub const NEEDS_BIND: &str = "127.0.0.1:8081";
pub const OFFERS_BIND: &str = "127.0.0.1:8082";
pub const MATCHER_BIND: &str = "127.0.0.1:8083";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    #[serde(default)]
    pub log: LogConfig,
    /// Token verification for production identity providers. Absent: development mode, with a
    /// random HS256 secret kept in the data directory.
    #[serde(default)]
    pub auth: Option<AuthConfig>,
    #[serde(default)]
    pub development: DevelopmentConfig,
    /// How services authenticate to each other's internal feeds when an identity provider is
    /// configured (in development mode they sign their own service token).
    #[serde(default)]
    pub peers: PeersConfig,
    #[serde(default)]
    pub gateway: GatewaySection,
    #[serde(default = "needs_section")]
    pub needs: ServiceSection,
    #[serde(default = "offers_section")]
    pub offers: ServiceSection,
    #[serde(default)]
    pub matcher: MatcherSection,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// One readable line per event, for people.
    #[default]
    Human,
    /// One JSON object per line, for log collectors.
    Json,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    #[serde(default)]
    pub format: LogFormat,
    /// A `tracing` filter; `RUST_LOG` overrides it.
    #[serde(default = "default_filter")]
    pub filter: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            format: LogFormat::Human,
            filter: default_filter(),
        }
    }
}

/// Development mode: tokens signed with a generated secret. Never meant for the open network.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DevelopmentConfig {
    #[serde(default = "default_issuer")]
    pub issuer: String,
    #[serde(default = "default_audience")]
    pub audience: String,
    /// Development mode on a non-loopback address is refused unless this is set.
    #[serde(default)]
    pub allow_on_public_address: bool,
    /// Where the development secret lives (default `<data_dir>/dev-secret`); separate processes
    /// with separate data directories share it through this path.
    #[serde(default)]
    pub secret_file: Option<PathBuf>,
}

impl Default for DevelopmentConfig {
    fn default() -> Self {
        DevelopmentConfig {
            issuer: default_issuer(),
            audience: default_audience(),
            allow_on_public_address: false,
            secret_file: None,
        }
    }
}

/// A service token from the identity provider, for the internal feeds (role `service`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeersConfig {
    #[serde(default)]
    pub service_token: Option<Secret>,
    /// A file holding the token (a mounted secret), read at start.
    #[serde(default)]
    pub service_token_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewaySection {
    #[serde(default = "gateway_bind")]
    pub bind: String,
    #[serde(default = "default_timeout_ms")]
    pub upstream_timeout_ms: u64,
    #[serde(default = "default_body_limit")]
    pub body_limit_bytes: usize,
    #[serde(default)]
    pub workers: Option<usize>,
    #[serde(default = "default_shutdown_timeout")]
    pub shutdown_timeout_seconds: u64,
    #[serde(default)]
    pub rate_limit: RateLimitConfig,
    #[serde(default)]
    pub cors: CorsConfig,
    /// Reverse proxies whose `Forwarded` / `X-Forwarded-For` name the client (addresses or
    /// networks); none by default.
    #[serde(default)]
    pub trusted_proxies: TrustedProxies,
}

impl Default for GatewaySection {
    fn default() -> Self {
        GatewaySection {
            bind: gateway_bind(),
            upstream_timeout_ms: default_timeout_ms(),
            body_limit_bytes: default_body_limit(),
            workers: None,
            shutdown_timeout_seconds: default_shutdown_timeout(),
            rate_limit: RateLimitConfig::default(),
            cors: CorsConfig::default(),
            trusted_proxies: TrustedProxies::default(),
        }
    }
}

impl GatewaySection {
    pub fn server(&self) -> ServerConfig {
        ServerConfig {
            bind: Some(self.bind.clone()),
            body_limit_bytes: self.body_limit_bytes,
            workers: self.workers,
            shutdown_timeout_seconds: self.shutdown_timeout_seconds,
            ..ServerConfig::default()
        }
    }
}

/// A service's own address and limits, and the URL its peers reach it at when it runs as its
/// own process.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceSection {
    pub bind: String,
    pub url: String,
    #[serde(default = "default_body_limit")]
    pub body_limit_bytes: usize,
    #[serde(default)]
    pub workers: Option<usize>,
    #[serde(default = "default_shutdown_timeout")]
    pub shutdown_timeout_seconds: u64,
    /// Longest a write waits for the service's read model before answering 503.
    #[serde(default = "default_write_wait_ms")]
    pub write_wait_ms: u64,
}

impl ServiceSection {
    /// The kit's server settings, listening on `bind`, or on nothing when the service is
    /// served through the gateway of its process.
    pub fn server(&self, bind: Option<&str>) -> ServerConfig {
        ServerConfig {
            bind: bind.map(str::to_owned),
            body_limit_bytes: self.body_limit_bytes,
            workers: self.workers,
            shutdown_timeout_seconds: self.shutdown_timeout_seconds,
            write_wait_ms: self.write_wait_ms,
        }
    }
}

/// The matcher's address and limits, as for every service, and its own settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatcherSection {
    #[serde(default = "matcher_bind")]
    pub bind: String,
    #[serde(default = "matcher_url")]
    pub url: String,
    #[serde(default = "default_body_limit")]
    pub body_limit_bytes: usize,
    #[serde(default)]
    pub workers: Option<usize>,
    #[serde(default = "default_shutdown_timeout")]
    pub shutdown_timeout_seconds: u64,
    #[serde(default = "default_write_wait_ms")]
    pub write_wait_ms: u64,
    /// Weights, list sizes and the text model; the defaults are tuned on the evaluation set.
    #[serde(default)]
    pub engine: MatcherConfig,
    /// An introduced match waiting for a party longer than this is flagged stale.
    #[serde(default = "default_stale_after_hours")]
    pub stale_after_hours: u64,
    /// Items per page of suggestion lists and the queue when no `limit` is given.
    #[serde(default = "default_page_size")]
    pub page_size: i64,
}

impl Default for MatcherSection {
    fn default() -> Self {
        MatcherSection {
            bind: matcher_bind(),
            url: matcher_url(),
            body_limit_bytes: default_body_limit(),
            workers: None,
            shutdown_timeout_seconds: default_shutdown_timeout(),
            write_wait_ms: default_write_wait_ms(),
            engine: MatcherConfig::default(),
            stale_after_hours: default_stale_after_hours(),
            page_size: default_page_size(),
        }
    }
}

impl MatcherSection {
    /// The settings every service has.
    pub fn service(&self) -> ServiceSection {
        ServiceSection {
            bind: self.bind.clone(),
            url: self.url.clone(),
            body_limit_bytes: self.body_limit_bytes,
            workers: self.workers,
            shutdown_timeout_seconds: self.shutdown_timeout_seconds,
            write_wait_ms: self.write_wait_ms,
        }
    }
}

impl Config {
    /// Loads the layers. `file`: `--config`, else `capmatch.toml` when it exists.
    pub fn load(file: Option<&Path>) -> Result<Config, Box<figment::Error>> {
        let mut figment = Figment::new();
        match file {
            Some(path) => figment = figment.merge(Toml::file_exact(path)),
            None if Path::new(DEFAULT_CONFIG_FILE).exists() => {
                figment = figment.merge(Toml::file_exact(DEFAULT_CONFIG_FILE));
            }
            None => {}
        }
        figment = figment.merge(Env::prefixed("CAPMATCH_").split("__").ignore(&["config"]));
        figment.extract().map_err(Box::new)
    }

    /// Loads a configuration from TOML text alone (defaults below it, nothing above): how the
    /// deployment examples are checked against the code.
    pub fn from_toml(text: &str) -> Result<Config, Box<figment::Error>> {
        Figment::new()
            .merge(Toml::string(text))
            .extract()
            .map_err(Box::new)
    }

    /// The development secret of the data directory.
    pub fn dev_secret_path(&self) -> PathBuf {
        match &self.development.secret_file {
            Some(path) => path.clone(),
            None => self.data_dir.join(DEV_SECRET_FILE),
        }
    }
}

fn default_data_dir() -> PathBuf {
    PathBuf::from(DEFAULT_DATA_DIR)
}
fn default_filter() -> String {
    "info,actix_server=warn".to_owned()
}
fn default_issuer() -> String {
    "capmatch-dev".to_owned()
}
fn default_audience() -> String {
    "capmatch".to_owned()
}
fn gateway_bind() -> String {
    GATEWAY_BIND.to_owned()
}
fn default_timeout_ms() -> u64 {
    10_000
}
fn default_body_limit() -> usize {
    64 * 1024
}
fn default_shutdown_timeout() -> u64 {
    10
}
fn default_write_wait_ms() -> u64 {
    5_000
}
fn section(bind: &str) -> ServiceSection {
    ServiceSection {
        bind: bind.to_owned(),
        url: format!("http://{bind}"),
        body_limit_bytes: default_body_limit(),
        workers: None,
        shutdown_timeout_seconds: default_shutdown_timeout(),
        write_wait_ms: default_write_wait_ms(),
    }
}
fn needs_section() -> ServiceSection {
    section(NEEDS_BIND)
}
fn offers_section() -> ServiceSection {
    section(OFFERS_BIND)
}
fn matcher_bind() -> String {
    MATCHER_BIND.to_owned()
}
fn matcher_url() -> String {
    format!("http://{MATCHER_BIND}")
}
fn default_stale_after_hours() -> u64 {
    capmatch_matcher::config::DEFAULT_STALE_AFTER_HOURS
}
fn default_page_size() -> i64 {
    capmatch_matcher::config::DEFAULT_PAGE_SIZE
}
