//! The configuration file exactly as users write it: serde types with `deny_unknown_fields`.
//! No validation beyond types lives here; see `validate.rs`.

use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    pub listen: Option<String>,
    pub data_dir: Option<String>,
    #[serde(default)]
    pub providers: Vec<RawProvider>,
    #[serde(default)]
    pub aliases: Vec<RawAlias>,
    #[serde(default)]
    pub pools: Vec<RawPool>,
    #[serde(default)]
    pub routing: RawRouting,
    #[serde(default)]
    pub timeouts: RawTimeouts,
    #[serde(default)]
    pub retry: RawRetry,
    #[serde(default)]
    pub circuit_breaker: RawCircuit,
    #[serde(default)]
    pub limits: RawLimits,
    #[serde(default)]
    pub log: RawLog,
    #[serde(default)]
    pub access: RawAccess,
    #[serde(default)]
    pub secrets: RawSecrets,
    /// Client keys: names, roles and SHA-256 hashes; the keys themselves are shown once and
    /// never stored.
    #[serde(default)]
    pub keys: Vec<RawClientKey>,
    #[serde(default)]
    pub mcp_servers: Vec<RawMcpServer>,
    #[serde(default)]
    pub assistants: Vec<RawAssistant>,
    /// `[mcp]`: the built-in MCP server at `/mcp`.
    #[serde(default)]
    pub mcp: RawMcp,
}

/// `[mcp]`: what the gateway's own MCP tools may read and fetch, and how many sessions it keeps.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMcp {
    /// Folders `understand_image` may read besides the data folder's `images/`.
    #[serde(default)]
    pub image_folders: Vec<String>,
    /// Let `understand_image` fetch URLs on loopback, private and link-local addresses.
    pub allow_private_urls: Option<bool>,
    pub max_sessions: Option<u32>,
    pub session_idle_ms: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAccess {
    pub require_key: Option<bool>,
    #[serde(default)]
    pub cors_origins: Vec<String>,
    #[serde(default)]
    pub allowed_hosts: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSecrets {
    /// `keychain` (the default) or `file`.
    pub backend: Option<String>,
    /// The secrets file when `backend = "file"`; default `secrets.toml` in the data folder.
    pub file: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawClientKey {
    pub name: String,
    /// `sha256:` and 64 hex digits.
    pub hash: String,
    /// `admin`, `user` (the default) or `read-only`.
    pub role: Option<String>,
    /// When present, the only model ids (or `provider/*` patterns) this key may use.
    pub models: Option<Vec<String>>,
    /// The key's first characters, to recognise it in lists.
    pub prefix: Option<String>,
    pub created: Option<String>,
}

/// What a model can do, as configured; every field is optional and overrides discovery.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCapabilities {
    pub input: Option<Vec<String>>,
    pub output: Option<Vec<String>>,
    pub tools: Option<bool>,
    pub reasoning: Option<bool>,
    pub context_window: Option<u64>,
    pub max_output: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTls {
    /// A PEM file of extra root certificates to trust for this provider.
    pub ca_file: Option<String>,
    /// Accept an invalid (self-signed) certificate, only from this host, which must be the
    /// base URL's host.
    pub accept_invalid_certs_host: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLog {
    pub enabled: Option<bool>,
    pub capture_bodies: Option<bool>,
    pub max_body_bytes: Option<u64>,
    pub retention_days: Option<u32>,
    pub max_db_mb: Option<u64>,
    pub queue_capacity: Option<u32>,
}

/// Dollars per million tokens.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPrice {
    pub input: f64,
    pub output: f64,
    pub cached_input: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProvider {
    pub name: String,
    /// A catalog preset (`openai`, `groq`, `ollama`…) that fills in kind, base URL and auth.
    pub preset: Option<String>,
    pub kind: Option<String>,
    pub base_url: Option<String>,
    pub api_key: Option<String>,
    /// `bearer`, `x-api-key`, `api-key` or `none`; defaults from the kind or preset.
    pub auth: Option<String>,
    /// Azure OpenAI's `api-version` query parameter.
    pub api_version: Option<String>,
    /// Whether it serves OpenAI's Responses API (`/responses`), so `/v1/responses` requests
    /// pass through instead of being translated to chat; defaults to true for the `openai`
    /// preset only.
    pub responses_api: Option<bool>,
    /// `http(s)://host:port` to send this provider's requests through, or `direct` to ignore
    /// the proxy environment variables.
    pub proxy: Option<String>,
    #[serde(default)]
    pub tls: RawTls,
    /// Model id → capabilities that override what discovery and names tell.
    #[serde(default)]
    pub capabilities: std::collections::BTreeMap<String, RawCapabilities>,
    #[serde(default)]
    pub models: Vec<String>,
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default)]
    pub timeouts: RawTimeouts,
    /// Model id → price, for cost estimates.
    #[serde(default)]
    pub prices: std::collections::BTreeMap<String, RawPrice>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAlias {
    pub name: String,
    pub targets: Vec<RawTarget>,
    pub strategy: Option<String>,
    /// `"local"`: when every target is unreachable, a local runtime model answers.
    pub fallback: Option<String>,
}

/// An alias target: `"provider/model"`, or `{ model = "provider/model", weight = 3 }`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum RawTarget {
    Plain(String),
    Weighted(RawWeightedTarget),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWeightedTarget {
    pub model: String,
    pub weight: Option<u32>,
}

/// `[[pools]]`: every enabled model that meets `require`, limited to `providers` and `models`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPool {
    pub name: String,
    #[serde(default)]
    pub require: RawRequirement,
    pub strategy: Option<String>,
    #[serde(default)]
    pub providers: Vec<String>,
    /// Model-id patterns (`*` and `?`).
    #[serde(default)]
    pub models: Vec<String>,
    pub fallback: Option<String>,
}

/// What every member of a capability pool must do; absent fields ask nothing.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRequirement {
    #[serde(default)]
    pub input: Vec<String>,
    #[serde(default)]
    pub output: Vec<String>,
    pub tools: Option<bool>,
    pub reasoning: Option<bool>,
    pub min_context: Option<u64>,
    pub min_output: Option<u64>,
}

/// `[routing]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRouting {
    /// The strategy of a bare model id that several providers serve.
    pub default_strategy: Option<String>,
    /// Every alias and pool falls back to a local model when the network is gone.
    pub offline_fallback: Option<bool>,
}

/// Every timeout in milliseconds; absent fields take the defaults.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTimeouts {
    pub connect_ms: Option<u64>,
    pub first_token_ms: Option<u64>,
    pub idle_ms: Option<u64>,
    pub total_ms: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRetry {
    pub rounds: Option<u32>,
    pub backoff_ms: Option<u64>,
    pub max_backoff_ms: Option<u64>,
    pub max_retry_after_ms: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCircuit {
    pub enabled: Option<bool>,
    pub window_ms: Option<u64>,
    pub min_requests: Option<u32>,
    pub failure_rate: Option<f64>,
    pub cooldown_ms: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLimits {
    pub max_body_bytes: Option<u64>,
    pub max_upload_bytes: Option<u64>,
    pub shutdown_grace_ms: Option<u64>,
    pub max_connections: Option<u64>,
    pub max_header_bytes: Option<u64>,
    pub max_uri_bytes: Option<u64>,
    pub header_read_timeout_ms: Option<u64>,
    pub body_idle_timeout_ms: Option<u64>,
    pub keep_alive_timeout_ms: Option<u64>,
}

fn yes() -> bool {
    true
}

/// `[[mcp_servers]]`: a server whose tools assistants and agent mode can use.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMcpServer {
    pub name: String,
    /// `stdio`, `http` (streamable HTTP) or `sse`; default: `stdio` with a command, `http` with a url.
    pub transport: Option<String>,
    pub command: Option<String>,
    #[serde(default)]
    pub args: Vec<String>,
    /// Environment for a stdio server; values may be `keychain:NAME` or `env:VAR` references.
    #[serde(default)]
    pub env: std::collections::BTreeMap<String, String>,
    pub cwd: Option<String>,
    pub url: Option<String>,
    /// Headers for an HTTP server; values may be references as for `env`.
    #[serde(default)]
    pub headers: std::collections::BTreeMap<String, String>,
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default)]
    pub disabled_tools: Vec<String>,
    pub call_timeout_ms: Option<u64>,
}

/// `[[assistants]]`: a model plus a system prompt and MCP tools, served as a model id.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAssistant {
    pub name: String,
    pub description: Option<String>,
    pub model: String,
    pub system: Option<String>,
    #[serde(default)]
    pub servers: Vec<String>,
    pub tools: Option<Vec<String>>,
    pub max_iterations: Option<u32>,
}
