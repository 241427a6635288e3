//! Where a secret lives, as the config names it: `env:VAR` or `keychain:NAME`, and which store
//! holds the `keychain:` ones. Resolving a reference to its value is `secrets`'s work.

use std::fmt;
use std::path::{Path, PathBuf};

use super::{expand_home, raw};

/// Where a secret lives. The config file holds this, never the secret itself.
#[derive(Clone, PartialEq, Eq)]
pub enum SecretRef {
    Env(String),
    Keychain(String),
}

impl fmt::Debug for SecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for SecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Env(var) => write!(f, "env:{var}"),
            Self::Keychain(name) => write!(f, "keychain:{name}"),
        }
    }
}

/// Letters, digits, '-', '_' and '.', at most 128 of them: names of env vars and keychain entries.
pub fn valid_ref_name(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 128
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

impl SecretRef {
    /// Parses `env:VAR` or `keychain:NAME`. Anything else is refused with a message that says why,
    /// because a literal key in a config file is exactly what this type exists to prevent.
    pub fn parse(s: &str) -> Result<Self, String> {
        if let Some(var) = s.strip_prefix("env:") {
            if valid_ref_name(var) {
                return Ok(Self::Env(var.to_owned()));
            }
            return Err(format!(
                "{s:?}: an environment variable name is letters, digits and '_'"
            ));
        }
        if let Some(name) = s.strip_prefix("keychain:") {
            if valid_ref_name(name) {
                return Ok(Self::Keychain(name.to_owned()));
            }
            return Err(format!(
                "{s:?}: a keychain entry name is letters, digits, '-', '_' and '.'"
            ));
        }
        Err("must be a reference, \"env:VAR\" or \"keychain:NAME\", never the key itself".into())
    }
}

/// Where `keychain:NAME` references are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretBackend {
    /// The OS keychain: Secret Service (gnome-keyring, KWallet) on Linux and BSD, the login
    /// Keychain on macOS, Credential Manager on Windows.
    Keychain,
    /// A TOML file of `name = "value"` lines that only its owner may read (mode 0600). For
    /// machines without a keychain; chosen explicitly, never as a silent fallback.
    File(PathBuf),
}

pub(super) fn backend(
    raw: &raw::RawSecrets,
    data_dir: &Path,
    push: &mut impl FnMut(String, String),
) -> SecretBackend {
    match raw.backend.as_deref() {
        None | Some("keychain") => {
            if raw.file.is_some() {
                push(
                    "secrets.file".into(),
                    "only used with backend = \"file\"".into(),
                );
            }
            SecretBackend::Keychain
        }
        Some("file") => SecretBackend::File(
            raw.file
                .as_deref()
                .map_or_else(|| data_dir.join("secrets.toml"), expand_home),
        ),
        Some(other) => {
            push(
                "secrets.backend".into(),
                format!("unknown backend {other:?} (expected \"keychain\" or \"file\")"),
            );
            SecretBackend::Keychain
        }
    }
}
