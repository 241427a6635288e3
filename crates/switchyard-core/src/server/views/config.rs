//! Views of the configuration: providers with their key status, aliases, client keys,
//! settings, and what first-run discovery found.

use serde::Serialize;

use crate::access::Role;
use crate::catalog::AuthStyle;
use crate::config::{Fallback, Strategy};
use crate::discovery::{FoundKey, FoundRuntime};

/// A provider as the settings page shows it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename = "ProviderView"))]
pub struct Provider {
    pub name: String,
    pub preset: Option<String>,
    /// `openai`, `anthropic` or `azure`.
    pub kind: &'static str,
    pub base_url: String,
    pub auth: AuthStyle,
    pub api_key: ApiKey,
    pub models: Vec<String>,
    /// What the upstream's own list offered at the last refresh; `null` before one.
    pub discovered_models: Option<Vec<String>>,
    pub enabled: bool,
    /// Azure's `api-version`.
    pub api_version: Option<String>,
    pub responses_api: bool,
    /// `null`: the system proxy; `"direct"`; or a proxy URL.
    pub proxy: Option<String>,
    pub tls: Tls,
}

/// Where a provider's key comes from, never the key itself.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename = "ProviderKey"))]
pub struct ApiKey {
    /// `env:VAR` or `keychain:NAME`.
    #[serde(rename = "ref")]
    pub reference: Option<String>,
    pub status: KeyStatus,
    /// Why the key cannot be read, when it cannot.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub problem: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum KeyStatus {
    None,
    Set,
    Unavailable,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename = "ProviderTls"))]
pub struct Tls {
    pub ca_file: Option<String>,
    pub accept_invalid_certs: bool,
}

/// `POST /admin/providers/{name}/test`: `ok` is `null` when there is no model list to try.
#[derive(Debug, Clone, Default, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ProviderTest {
    pub ok: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub latency_ms: Option<u64>,
    /// How many models the upstream listed.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub models: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub error: Option<String>,
}

/// `POST /admin/providers/{name}/models/refresh`.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ModelsRefreshed {
    pub ok: bool,
    pub models: usize,
}

/// `GET /admin/discover`: local runtimes and provider keys found on this machine.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Discovery {
    pub runtimes: Vec<FoundRuntime>,
    pub env_keys: Vec<FoundKey>,
    pub configured_presets: Vec<String>,
    pub secret_store: String,
}

/// `POST /admin/discover`: the providers added.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Added {
    pub added: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Alias {
    pub name: String,
    /// `provider/model`, as written; the order tried depends on `strategy`.
    pub targets: Vec<String>,
    /// Each target's weight, in the order of `targets` (only `weighted` reads them).
    pub weights: Vec<u32>,
    pub strategy: Strategy,
    pub fallback: Fallback,
}

/// A client key, without its secret.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ClientKey {
    pub name: String,
    pub role: Role,
    /// `null`: every model.
    pub models: Option<Vec<String>>,
    /// The key's first characters, to recognise it by.
    pub prefix: Option<String>,
    pub created: Option<String>,
}

impl From<&crate::access::ClientKey> for ClientKey {
    fn from(k: &crate::access::ClientKey) -> Self {
        Self {
            name: k.name.clone(),
            role: k.role,
            models: k.models.clone(),
            prefix: k.prefix.clone(),
            created: k.created.clone(),
        }
    }
}

/// `GET /admin/keys`.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct KeyList {
    #[cfg_attr(feature = "ts", ts(type = "\"list\""))]
    pub object: &'static str,
    pub data: Vec<ClientKey>,
    /// Whether `/v1` asks for a key.
    pub require_key: bool,
}

/// `POST /admin/keys`: the new key, shown this once.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CreatedKey {
    #[serde(flatten)]
    pub view: ClientKey,
    pub key: String,
    pub note: &'static str,
}

/// `GET /admin/settings`; `PATCH` adds `restart_required`.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Settings {
    /// The configured address.
    pub listen: String,
    /// The address bound, once listening (it differs for port 0).
    pub listening_on: Option<String>,
    pub data_dir: String,
    pub config_file: Option<String>,
    /// Why the config file on disk was not applied, while it is not.
    pub reload_error: Option<String>,
    pub access: AccessSettings,
    pub secrets: SecretSettings,
    pub log: LogSettings,
    pub timeouts: TimeoutSettings,
    pub retry: RetrySettings,
    pub limits: LimitSettings,
    pub routing: RoutingSettings,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub restart_required: Option<bool>,
}

/// `[routing]`: written back through `PATCH /admin/settings` with `{"routing": {...}}`.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RoutingSettings {
    /// The strategy of a bare model id that several providers serve.
    pub default_strategy: Strategy,
    /// Every alias and pool falls back to a local model when offline.
    pub offline_fallback: bool,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AccessSettings {
    pub require_key: bool,
    pub keys_required: bool,
    pub cors_origins: Vec<String>,
    pub allowed_hosts: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SecretSettings {
    /// Where secrets go, in words.
    pub store: String,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LogSettings {
    pub enabled: bool,
    pub capture_bodies: bool,
    pub max_body_bytes: usize,
    pub retention_days: u64,
    pub max_db_mb: u64,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TimeoutSettings {
    pub connect_ms: u64,
    pub first_token_ms: u64,
    pub idle_ms: u64,
    pub total_ms: u64,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RetrySettings {
    pub rounds: u32,
    pub backoff_ms: u64,
    pub max_backoff_ms: u64,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LimitSettings {
    pub max_body_bytes: usize,
    pub max_upload_bytes: usize,
    pub shutdown_grace_ms: u64,
}
