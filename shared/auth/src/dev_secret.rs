//! [`DevSecret`]: the HS256 secret `capmatch serve` and `capmatch token` share in development.
//!
//! Stored as one line of hex in a file readable by its owner only (mode 0600). Loading refuses
//! a file that group or others may read, as ssh does for private keys.

use std::fmt;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::config::MIN_HMAC_SECRET_LEN;

/// A random HS256 secret of [`DevSecret::LEN`] bytes. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct DevSecret(Vec<u8>);

impl DevSecret {
    /// Bytes in a generated secret.
    pub const LEN: usize = 32;

    /// A fresh secret from the operating system's random source.
    pub fn generate() -> Result<Self, DevSecretError> {
        let mut bytes = vec![0u8; Self::LEN];
        getrandom::fill(&mut bytes).map_err(|e| DevSecretError::Random(e.to_string()))?;
        Ok(Self(bytes))
    }

    /// Wraps existing bytes; at least 32 are required.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, DevSecretError> {
        if bytes.len() < MIN_HMAC_SECRET_LEN {
            return Err(DevSecretError::TooShort { len: bytes.len() });
        }
        Ok(Self(bytes))
    }

    /// The secret bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Reads a secret saved by [`DevSecret::save`].
    pub fn load(path: &Path) -> Result<Self, DevSecretError> {
        let text = read_owner_only(path)?;
        let bytes = hex::decode(text.trim()).map_err(|_| DevSecretError::NotHex {
            path: path.to_owned(),
        })?;
        Self::from_bytes(bytes)
    }

    /// Writes the secret as hex to `path`, readable and writable by the owner only. The file
    /// is written beside `path` and renamed over it, so a reader never sees half a secret.
    pub fn save(&self, path: &Path) -> Result<(), DevSecretError> {
        let io = |source| DevSecretError::Io {
            path: path.to_owned(),
            source,
        };
        let mut tmp_name = path.file_name().unwrap_or_default().to_os_string();
        tmp_name.push(format!(".tmp-{}", std::process::id()));
        let tmp = path.with_file_name(tmp_name);
        let result = (|| {
            let mut file = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&tmp)?;
            file.write_all(hex::encode(&self.0).as_bytes())?;
            file.write_all(b"\n")?;
            file.sync_all()?;
            fs::rename(&tmp, path)
        })();
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result.map_err(io)
    }

    /// Loads the secret at `path`, or generates and saves one when there is no file yet.
    pub fn load_or_generate(path: &Path) -> Result<Self, DevSecretError> {
        match fs::symlink_metadata(path) {
            Ok(_) => Self::load(path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let secret = Self::generate()?;
                secret.save(path)?;
                Ok(secret)
            }
            Err(source) => Err(DevSecretError::Io {
                path: path.to_owned(),
                source,
            }),
        }
    }
}

/// Reads a file that holds a secret (a development secret, a service token), refusing one that
/// group or others may read, as ssh does for private keys.
pub fn read_owner_only(path: &Path) -> Result<String, DevSecretError> {
    let io = |source| DevSecretError::Io {
        path: path.to_owned(),
        source,
    };
    let mode = fs::metadata(path).map_err(io)?.permissions().mode();
    if mode & 0o077 != 0 {
        return Err(DevSecretError::InsecurePermissions {
            path: path.to_owned(),
            mode: mode & 0o777,
        });
    }
    fs::read_to_string(path).map_err(io)
}

impl fmt::Debug for DevSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DevSecret([redacted; {} bytes])", self.0.len())
    }
}

/// Why a development secret could not be made, read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DevSecretError {
    #[error("the operating system's random source failed: {0}")]
    Random(String),
    #[error("a secret of {len} bytes is too short; at least {MIN_HMAC_SECRET_LEN} are required")]
    TooShort { len: usize },
    #[error("{path} may be read by group or others (mode {mode:o}); run chmod 600 on it")]
    InsecurePermissions { path: PathBuf, mode: u32 },
    #[error("{path} does not hold a hex-encoded secret")]
    NotHex { path: PathBuf },
    #[error("I/O error on {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}
