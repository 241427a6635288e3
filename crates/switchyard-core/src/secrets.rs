//! Secret references (`env:VAR`, `keychain:NAME`) and the [`Sensitive`] wrapper that keeps
//! resolved values out of `Debug` output and logs. Config and storage hold references only.
//! This is the only module that may reach an OS keychain.

use std::fmt;

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

impl SecretRef {
    /// Parses `env:VAR` or `keychain:NAME`. Anything else is refused with a message that says why,
    /// because a literal key in a config file is exactly what this type exists to prevent.
    pub fn parse(s: &str) -> Result<Self, String> {
        let valid = |v: &str| {
            !v.is_empty()
                && v.len() <= 128
                && v.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        };
        if let Some(var) = s.strip_prefix("env:") {
            if valid(var) {
                return Ok(Self::Env(var.to_owned()));
            }
            return Err(format!(
                "{s:?}: an environment variable name is letters, digits and '_'"
            ));
        }
        if let Some(name) = s.strip_prefix("keychain:") {
            if valid(name) {
                return Ok(Self::Keychain(name.to_owned()));
            }
            return Err(format!(
                "{s:?}: a keychain entry name is letters, digits, '-', '_' and '.'"
            ));
        }
        Err("must be a reference, \"env:VAR\" or \"keychain:NAME\", never the key itself".into())
    }

    /// Looks the secret up now. Errors say what is missing without revealing anything.
    pub fn resolve(&self) -> Result<Sensitive, SecretError> {
        match self {
            Self::Env(var) => match std::env::var(var) {
                Ok(v) if !v.is_empty() => Ok(Sensitive(v)),
                _ => Err(SecretError::Missing(format!(
                    "environment variable {var} is not set"
                ))),
            },
            Self::Keychain(name) => Err(SecretError::Unavailable(format!(
                "keychain:{name} cannot be read: this build has no OS keychain support yet; use an env: reference"
            ))),
        }
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum SecretError {
    #[error("{0}")]
    Missing(String),
    #[error("{0}")]
    Unavailable(String),
}

/// A resolved secret. `Debug` and `Display` print `***`; only [`Sensitive::expose`] reveals it.
#[derive(Clone, PartialEq, Eq)]
pub struct Sensitive(String);

impl Sensitive {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Sensitive {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Sensitive {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_references_and_refuses_literal_keys() {
        assert_eq!(
            SecretRef::parse("env:ALPHA_KEY"),
            Ok(SecretRef::Env("ALPHA_KEY".into()))
        );
        assert_eq!(
            SecretRef::parse("keychain:openai"),
            Ok(SecretRef::Keychain("openai".into()))
        );
        let err = SecretRef::parse("sk-live-123").unwrap_err();
        assert!(err.contains("never the key itself"), "{err}");
        assert!(SecretRef::parse("env:").is_err());
    }

    #[test]
    fn sensitive_never_prints_its_value() {
        let s = Sensitive::new("sk-very-secret");
        assert_eq!(format!("{s:?} {s}"), "*** ***");
        assert_eq!(s.expose(), "sk-very-secret");
    }
}
