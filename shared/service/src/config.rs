//! Configuration every service shares: where to listen and with which limits ([`ServerConfig`]),
//! and how to follow another service's event feed ([`PeerConfig`]). All of it deserialises, so
//! the `capmatch` binary can load it from TOML or the environment.

use std::io;
use std::net::TcpListener;
use std::path::PathBuf;
use std::time::Duration;

use capmatch_auth::Secret;
use serde::Deserialize;

/// Default limit on JSON request bodies: 64 KiB.
pub const DEFAULT_BODY_LIMIT_BYTES: usize = capmatch_http::extract::DEFAULT_JSON_LIMIT;

/// How a service listens.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// `host:port` to listen on; port 0 lets the system pick a free port (tests, embedded runs).
    /// `None` (only a program can say it, not a file): the service has no listener of its own
    /// and is served through another app of its process, as the gateway serves the others
    /// under `capmatch serve`.
    #[serde(default = "default_bind")]
    pub bind: Option<String>,
    /// Largest request body accepted; a larger one is answered 413 before it is read.
    #[serde(default = "default_body_limit")]
    pub body_limit_bytes: usize,
    /// Worker threads; `None` uses one per core.
    #[serde(default)]
    pub workers: Option<usize>,
    /// How long a graceful stop lets requests in flight finish before it cuts them.
    #[serde(default = "default_shutdown_timeout")]
    pub shutdown_timeout_seconds: u64,
    /// Longest a write waits for the service's own read model to include it (read-your-writes)
    /// before answering 503.
    #[serde(default = "default_write_wait_ms")]
    pub write_wait_ms: u64,
}

fn default_bind() -> Option<String> {
    Some("127.0.0.1:0".to_owned())
}

fn default_body_limit() -> usize {
    DEFAULT_BODY_LIMIT_BYTES
}

fn default_shutdown_timeout() -> u64 {
    10
}

fn default_write_wait_ms() -> u64 {
    5_000
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            bind: default_bind(),
            body_limit_bytes: default_body_limit(),
            workers: None,
            shutdown_timeout_seconds: default_shutdown_timeout(),
            write_wait_ms: default_write_wait_ms(),
        }
    }
}

impl ServerConfig {
    /// The config with `bind` replaced.
    pub fn with_bind(mut self, bind: impl Into<String>) -> Self {
        self.bind = Some(bind.into());
        self
    }

    /// The config of a service served only through another app of its process: no listener.
    pub fn in_process(mut self) -> Self {
        self.bind = None;
        self
    }

    /// Binds the listener now, so the port is known (and taken) before the server runs; `None`
    /// when the service has no listener of its own.
    pub fn listen(&self) -> io::Result<Option<TcpListener>> {
        self.bind.as_deref().map(TcpListener::bind).transpose()
    }

    /// [`ServerConfig::write_wait_ms`] as a duration.
    pub fn write_wait(&self) -> Duration {
        Duration::from_millis(self.write_wait_ms)
    }
}

/// Another capmatch service whose internal event feed this one follows.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeerConfig {
    /// Base URL of the peer, plain HTTP: `http://127.0.0.1:8083`. The feed is
    /// `{url}/internal/events`.
    pub url: String,
    /// How to obtain the service token the feed requires.
    pub token: ServiceTokenConfig,
    #[serde(default)]
    pub follow: FollowConfig,
}

/// Where a service gets the bearer token it presents to a peer's internal feed.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "source", rename_all = "snake_case", deny_unknown_fields)]
pub enum ServiceTokenConfig {
    /// A token minted elsewhere (by the real issuer), used as is.
    Static { token: Secret },
    /// Minted here with an HS256 secret, for the issuer and audience of the service's own
    /// `auth` configuration (development and the all-in-one `capmatch serve`).
    Hs256 { secret: Secret },
    /// Like `hs256`, with the secret read from a development secret file (hex, mode 0600).
    Hs256File { path: PathBuf },
}

/// Tuning of a feed follower.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FollowConfig {
    /// How long each long-poll asks the peer to wait for new events (at most 30 000).
    #[serde(default = "default_wait_ms")]
    pub wait_ms: u64,
    /// Events asked for per request (at most 1000).
    #[serde(default = "default_batch")]
    pub batch: usize,
    /// First pause after a failed request; doubles with each further failure.
    #[serde(default = "default_backoff_initial_ms")]
    pub backoff_initial_ms: u64,
    /// Longest pause between retries while the peer is down.
    #[serde(default = "default_backoff_max_ms")]
    pub backoff_max_ms: u64,
}

fn default_wait_ms() -> u64 {
    20_000
}

fn default_batch() -> usize {
    500
}

fn default_backoff_initial_ms() -> u64 {
    100
}

fn default_backoff_max_ms() -> u64 {
    10_000
}

impl Default for FollowConfig {
    fn default() -> Self {
        Self {
            wait_ms: default_wait_ms(),
            batch: default_batch(),
            backoff_initial_ms: default_backoff_initial_ms(),
            backoff_max_ms: default_backoff_max_ms(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_config_may_be_empty_and_takes_the_defaults() {
        let config: ServerConfig = serde_json::from_str("{}").expect("defaults");
        assert_eq!(config.bind.as_deref(), Some("127.0.0.1:0"));
        assert_eq!(config.body_limit_bytes, 64 * 1024);
        assert!(serde_json::from_str::<ServerConfig>(r#"{"bnid":"x"}"#).is_err());
    }

    #[test]
    fn a_peer_names_its_token_source() {
        let peer: PeerConfig = serde_json::from_str(
            r#"{"url":"http://127.0.0.1:1","token":{"source":"static","token":"abc"}}"#,
        )
        .expect("a peer");
        assert!(matches!(peer.token, ServiceTokenConfig::Static { .. }));
        assert_eq!(peer.follow.batch, 500);
        // The secret never shows in debug output.
        assert!(!format!("{peer:?}").contains("abc"));
    }
}
