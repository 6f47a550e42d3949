//! The matcher service's configuration (`Deserialize`, for the `capmatch` binary's TOML).

use std::path::{Path, PathBuf};

use capmatch_auth::{AuthConfig, Verifier};
use capmatch_service::{FeedFrom, ServerConfig};
use serde::Deserialize;

use capmatch_engine::MatcherConfig;

/// Default for [`MatcherServiceConfig::stale_after_hours`]: 14 days.
pub const DEFAULT_STALE_AFTER_HOURS: u64 = 14 * 24;
/// Default for [`MatcherServiceConfig::page_size`].
pub const DEFAULT_PAGE_SIZE: i64 = 20;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatcherServiceConfig {
    #[serde(default)]
    pub server: ServerConfig,
    /// The service keeps its decisions in `<data_dir>/matcher`.
    pub data_dir: PathBuf,
    /// How callers' tokens are verified (and, for `hs256` peer tokens, the issuer and audience
    /// of the service tokens minted for the feeds).
    pub auth: AuthConfig,
    /// The process's verifier, when it runs beside others that share it (`capmatch serve`);
    /// built from `auth` when absent.
    #[serde(skip)]
    pub verifier: Option<Verifier>,
    /// The needs service, whose feed says what states ask for.
    pub needs: FeedFrom,
    /// The offers service, whose feed says what providers offer.
    pub offers: FeedFrom,
    /// The engine: weights, list sizes, text model. An empty table takes the tuned defaults.
    #[serde(default)]
    pub engine: MatcherConfig,
    /// An introduced match still waiting for a party after this long is flagged `stale`, so
    /// coordinators can chase it.
    #[serde(default = "default_stale_after_hours")]
    pub stale_after_hours: u64,
    /// Items per page of the suggestion lists and the queue when the caller gives no `limit`
    /// (1 to 100).
    #[serde(default = "default_page_size")]
    pub page_size: i64,
}

fn default_stale_after_hours() -> u64 {
    DEFAULT_STALE_AFTER_HOURS
}

fn default_page_size() -> i64 {
    DEFAULT_PAGE_SIZE
}

impl MatcherServiceConfig {
    /// The directory of the service's event store.
    pub fn store_dir(&self) -> PathBuf {
        store_dir(&self.data_dir)
    }

    /// Why the configuration cannot be used, if it cannot.
    pub fn check(&self) -> Result<(), String> {
        self.engine.check()?;
        if !(1..=capmatch_service::pagination::MAX_LIMIT).contains(&self.page_size) {
            return Err(format!(
                "page_size must be between 1 and {}",
                capmatch_service::pagination::MAX_LIMIT
            ));
        }
        Ok(())
    }

    /// [`MatcherServiceConfig::stale_after_hours`] as a duration (saturating).
    pub fn stale_after(&self) -> chrono::Duration {
        i64::try_from(self.stale_after_hours)
            .ok()
            .and_then(chrono::Duration::try_hours)
            .unwrap_or(chrono::Duration::MAX)
    }
}

/// `<data_dir>/matcher`.
pub fn store_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("matcher")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_data_dir_auth_and_peers_are_required() {
        let config: MatcherServiceConfig = serde_json::from_value(serde_json::json!({
            "data_dir": "/tmp/x",
            "auth": {
                "issuer": "i", "audience": "a", "algorithms": ["HS256"],
                "keys": [{"source": "hs256", "secret": "0123456789abcdef0123456789abcdef"}],
            },
            "needs": {"url": "http://127.0.0.1:1", "token": {"source": "static", "token": "t"}},
            "offers": {"url": "http://127.0.0.1:2", "token": {"source": "static", "token": "t"}},
        }))
        .expect("a config");
        assert_eq!(config.stale_after_hours, 336);
        assert_eq!(config.page_size, 20);
        assert_eq!(config.engine, MatcherConfig::default());
        assert!(config.check().is_ok());
        assert_eq!(config.store_dir(), PathBuf::from("/tmp/x/matcher"));
    }
}
