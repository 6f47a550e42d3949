//! The needs service's configuration (`Deserialize`, for the `capmatch` binary's TOML).

use std::path::{Path, PathBuf};

use capmatch_auth::{AuthConfig, Verifier};
use capmatch_service::{FeedFrom, ServerConfig};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NeedsConfig {
    #[serde(default)]
    pub server: ServerConfig,
    /// The service keeps its event log in `<data_dir>/needs`.
    pub data_dir: PathBuf,
    /// How callers' tokens are verified.
    pub auth: AuthConfig,
    /// The process's verifier, when it runs beside others that share it (`capmatch serve`);
    /// built from `auth` when absent.
    #[serde(skip)]
    pub verifier: Option<Verifier>,
    /// The matcher, whose feed says which providers were introduced to which needs. Without it
    /// no provider ever sees a restricted need.
    #[serde(default)]
    pub matcher: Option<FeedFrom>,
}

impl NeedsConfig {
    /// The directory of the service's event store.
    pub fn store_dir(&self) -> PathBuf {
        store_dir(&self.data_dir)
    }
}

/// `<data_dir>/needs`.
pub fn store_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("needs")
}
