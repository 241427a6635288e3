//! Client keys as the config holds them: a name, the SHA-256 of the key, a role and a model
//! allow-list. Generating keys and looking them up per request is `access`'s work.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;

use sha2::{Digest as _, Sha256};

use super::{NAME_RULE, raw, valid_name};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// Dashboards and `GET /v1/models`: reads, never spends tokens or changes anything.
    ReadOnly,
    /// The model API (`/v1`).
    User,
    /// Everything, the admin API included.
    Admin,
}

impl Role {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "admin" => Some(Self::Admin),
            "user" => Some(Self::User),
            "read-only" | "readonly" | "read_only" => Some(Self::ReadOnly),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::User => "user",
            Self::ReadOnly => "read-only",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A key's SHA-256. Keys are 256 random bits, so a fast hash is enough: nothing to brute-force.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct KeyHash(pub [u8; 32]);

impl fmt::Debug for KeyHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_string())
    }
}

impl fmt::Display for KeyHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("sha256:")?;
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl KeyHash {
    pub fn of(token: &str) -> Self {
        Self(Sha256::digest(token.as_bytes()).into())
    }

    /// Reads `sha256:<64 hex digits>`.
    pub fn parse(s: &str) -> Option<Self> {
        let hex = s.strip_prefix("sha256:")?;
        if hex.len() != 64 {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(hex.get(i * 2..i * 2 + 2)?, 16).ok()?;
        }
        Some(Self(out))
    }
}

/// A client key as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientKey {
    pub name: String,
    pub hash: KeyHash,
    pub role: Role,
    /// `None`: every model. Entries are exact ids, or `prefix*` patterns (`ollama/*`).
    pub models: Option<Vec<String>>,
    pub prefix: Option<String>,
    pub created: Option<String>,
}

impl ClientKey {
    pub fn allows_model(&self, model: &str) -> bool {
        self.models.as_ref().is_none_or(|list| {
            list.iter().any(|m| match m.strip_suffix('*') {
                Some(prefix) => model.starts_with(prefix),
                None => m == model,
            })
        })
    }
}

pub(super) fn keys(
    raw: Vec<raw::RawClientKey>,
    listen: SocketAddr,
    push: &mut impl FnMut(String, String),
) -> Vec<Arc<ClientKey>> {
    let mut keys: Vec<Arc<ClientKey>> = Vec::with_capacity(raw.len());
    for (i, k) in raw.into_iter().enumerate() {
        let at = |field: &str| format!("keys[{i}].{field}");
        if !valid_name(&k.name) {
            push(at("name"), format!("{:?} must be {NAME_RULE}", k.name));
        } else if keys.iter().any(|o| o.name == k.name) {
            push(at("name"), format!("duplicate key name {:?}", k.name));
        }
        let Some(hash) = KeyHash::parse(&k.hash) else {
            push(
                at("hash"),
                "must be \"sha256:\" and 64 hex digits (create keys with `switchyard keys create`)"
                    .into(),
            );
            continue;
        };
        let role = match k.role.as_deref() {
            None => Role::User,
            Some(r) => Role::parse(r).unwrap_or_else(|| {
                push(
                    at("role"),
                    format!("unknown role {r:?} (expected \"admin\", \"user\" or \"read-only\")"),
                );
                Role::User
            }),
        };
        if keys.iter().any(|o| o.hash == hash) {
            push(at("hash"), "the same key is listed twice".into());
        }
        keys.push(Arc::new(ClientKey {
            name: k.name,
            hash,
            role,
            models: k.models,
            prefix: k.prefix,
            created: k.created,
        }));
    }
    if !listen.ip().is_loopback() && !keys.iter().any(|k| k.role >= Role::User) {
        push(
            "listen".into(),
            format!(
                "{listen} is reachable from other machines: create a client key first (`switchyard keys create NAME`), every request will need one"
            ),
        );
    }
    keys
}
