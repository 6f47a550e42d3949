//! The offers service's configuration (`Deserialize`, for the `capmatch` binary's TOML).

use std::path::{Path, PathBuf};

use capmatch_auth::{AuthConfig, Verifier};
use capmatch_service::ServerConfig;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OffersConfig {
    #[serde(default)]
    pub server: ServerConfig,
    /// The service keeps its event log in `<data_dir>/offers`.
    pub data_dir: PathBuf,
    /// How callers' tokens are verified.
    pub auth: AuthConfig,
    /// The process's verifier, when it runs beside others that share it (`capmatch serve`);
    /// built from `auth` when absent.
    #[serde(skip)]
    pub verifier: Option<Verifier>,
}

impl OffersConfig {
    /// The directory of the service's event store.
    pub fn store_dir(&self) -> PathBuf {
        store_dir(&self.data_dir)
    }
}

/// `<data_dir>/offers`.
pub fn store_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("offers")
}
