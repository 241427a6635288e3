//! Configuration in two phases: [`raw`] mirrors the TOML file (unknown keys are errors), then
//! [`Config::from_toml`] validates it into typed settings, reporting every problem with its path
//! (`aliases[0].targets[1]: unknown provider "x"`). Secrets are references here, never values.

pub mod edit;
pub mod keys;
mod log;
pub mod mcp;
pub mod models;
mod providers;
pub mod raw;
mod routing;
pub use routing::{
    AliasConfig, Fallback, PoolConfig, Requirement, RoutingSettings, Strategy, TargetRef,
};
mod secret_ref;
mod server;

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use crate::catalog::{AuthStyle, ModelListStyle};
pub use secret_ref::{BadReference, SecretBackend, SecretRef, valid_ref_name};

pub const DEFAULT_LISTEN: &str = "127.0.0.1:7137";
pub const DEFAULT_AZURE_API_VERSION: &str = "2024-10-21";

/// A validated configuration. Cheap to clone behind an `Arc`; never mutated in place.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    /// Where the request log and media live: `data_dir` in the file, else `$SWITCHYARD_HOME`.
    pub data_dir: PathBuf,
    pub log: LogConfig,
    pub providers: Vec<ProviderConfig>,
    pub aliases: Vec<AliasConfig>,
    /// `[[pools]]`: capability pools, members chosen by what models can do.
    pub pools: Vec<PoolConfig>,
    /// `[routing]`: the strategy of bare-id pools and the global offline fallback.
    pub routing: RoutingSettings,
    pub timeouts: Timeouts,
    pub retry: RetryPolicy,
    pub circuit: CircuitPolicy,
    pub limits: Limits,
    pub access: AccessConfig,
    pub secrets: SecretBackend,
    pub keys: Vec<std::sync::Arc<keys::ClientKey>>,
    pub mcp_servers: Vec<mcp::McpServerConfig>,
    pub assistants: Vec<mcp::AssistantConfig>,
    /// `[mcp]`: the built-in MCP server.
    pub mcp: mcp::McpSettings,
}

/// Who may talk to the gateway, and from which pages.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessConfig {
    /// Every request needs a client key, loopback included. Always on for non-loopback binds.
    pub require_key: bool,
    /// Browser origins (`https://app.example`) allowed to call the API, with CORS.
    pub cors_origins: Vec<String>,
    /// Host names besides localhost/127.0.0.1/[::1] that requests may be addressed to.
    pub allowed_hosts: Vec<String>,
}

impl Config {
    /// Keys are required: asked for, or implied by a non-loopback bind.
    pub fn keys_required(&self) -> bool {
        self.access.require_key || !self.listen.ip().is_loopback()
    }
}

/// How a provider's requests reach it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ProxySetting {
    /// `HTTP_PROXY`/`HTTPS_PROXY`/`NO_PROXY` from the environment.
    #[default]
    System,
    /// Straight to the upstream, whatever the environment says.
    Direct,
    Url(String),
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsPolicy {
    pub ca_file: Option<PathBuf>,
    /// Accept invalid certificates from this provider (its host was named explicitly).
    pub accept_invalid_certs: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderKind {
    /// Any OpenAI-compatible Chat Completions upstream.
    OpenAi,
    /// The native Anthropic Messages API.
    Anthropic,
}

impl ProviderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OpenAi => "openai",
            Self::Anthropic => "anthropic",
        }
    }
}

#[derive(Debug, Clone)]
pub struct ProviderConfig {
    pub name: String,
    /// The catalog preset it was made from, if any.
    pub preset: Option<String>,
    pub kind: ProviderKind,
    /// Without a trailing slash.
    pub base_url: String,
    pub api_key: Option<SecretRef>,
    pub auth: AuthStyle,
    /// Set for Azure OpenAI: deployments in the URL path and this `api-version`.
    pub azure_api_version: Option<String>,
    /// Serves OpenAI's Responses API, which `/v1/responses` then passes through.
    pub responses_api: bool,
    /// How its model list is read.
    pub list_style: ModelListStyle,
    pub proxy: ProxySetting,
    pub tls: TlsPolicy,
    /// Configured capabilities per model id.
    pub capabilities: std::collections::BTreeMap<String, models::Declared>,
    pub models: Vec<String>,
    pub enabled: bool,
    pub timeouts: Timeouts,
    pub prices: std::collections::BTreeMap<String, models::Price>,
}

/// How the log is written and kept.
#[derive(Debug, Clone, PartialEq)]
pub struct LogSettings {
    pub capture_bodies: bool,
    pub max_body_bytes: usize,
    pub retention: Duration,
    pub max_db_bytes: u64,
    pub queue_capacity: usize,
}

impl Default for LogSettings {
    fn default() -> Self {
        Self {
            capture_bodies: true,
            max_body_bytes: 1024 * 1024,
            retention: Duration::from_secs(30 * 86_400),
            max_db_bytes: 2 * 1024 * 1024 * 1024,
            queue_capacity: 8192,
        }
    }
}

/// The request log: on by default, bodies captured, 30 days kept.
#[derive(Debug, Clone, PartialEq)]
pub struct LogConfig {
    pub enabled: bool,
    pub settings: LogSettings,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            settings: LogSettings::default(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timeouts {
    /// TCP (and TLS) connect to the upstream.
    pub connect: Duration,
    /// From sending the request to the first meaningful event (or the whole non-streamed body).
    pub first_token: Duration,
    /// Longest silence between two stream events once the stream is committed.
    pub idle: Duration,
    /// The whole request, every retry and fallback included.
    pub total: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(10),
            first_token: Duration::from_secs(120),
            idle: Duration::from_secs(120),
            total: Duration::from_secs(600),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// How many passes over the target list; a single target is tried this many times.
    pub rounds: u32,
    pub backoff: Duration,
    pub max_backoff: Duration,
    /// A `Retry-After` longer than this is not waited for: the error goes back to the client.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            rounds: 2,
            backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
            max_retry_after: Duration::from_secs(20),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CircuitPolicy {
    pub enabled: bool,
    pub window: Duration,
    pub min_requests: u32,
    pub failure_rate: f64,
    pub cooldown: Duration,
}

impl Default for CircuitPolicy {
    fn default() -> Self {
        Self {
            enabled: true,
            window: Duration::from_secs(60),
            min_requests: 5,
            failure_rate: 0.5,
            cooldown: Duration::from_secs(15),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    pub max_body_bytes: usize,
    /// The largest upload (multipart audio or images) the media doors accept.
    pub max_upload_bytes: usize,
    pub shutdown_grace: Duration,
    /// Client connections open at once; one more is answered 503 and closed.
    pub max_connections: usize,
    /// The request line's target (path and query), and all header lines together.
    pub max_uri_bytes: usize,
    pub max_header_bytes: usize,
    /// To send a request's headers, once its first byte has arrived.
    pub header_read_timeout: Duration,
    /// Longest silence inside a request body (a big upload may take as long as it needs).
    pub body_idle_timeout: Duration,
    /// How long a connection may sit between requests.
    pub keep_alive_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 32 * 1024 * 1024,
            // OpenAI's own limit for audio files.
            max_upload_bytes: 25 * 1024 * 1024,
            shutdown_grace: Duration::from_secs(10),
            max_connections: 1024,
            max_uri_bytes: 8 * 1024,
            max_header_bytes: 32 * 1024,
            header_read_timeout: Duration::from_secs(10),
            body_idle_timeout: Duration::from_secs(30),
            keep_alive_timeout: Duration::from_secs(60),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 7137)),
            data_dir: data_dir(),
            log: LogConfig::default(),
            providers: Vec::new(),
            aliases: Vec::new(),
            pools: Vec::new(),
            routing: RoutingSettings::default(),
            timeouts: Timeouts::default(),
            retry: RetryPolicy::default(),
            circuit: CircuitPolicy::default(),
            limits: Limits::default(),
            access: AccessConfig::default(),
            secrets: SecretBackend::Keychain,
            keys: Vec::new(),
            mcp_servers: Vec::new(),
            assistants: Vec::new(),
            mcp: mcp::McpSettings::default(),
        }
    }
}

/// One problem in a config file, with the path of the offending value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigIssue {
    pub path: String,
    pub message: String,
}

impl fmt::Display for ConfigIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} has {} problem(s):\n{}", .source_name, .issues.len(), render_issues(.issues))]
    Invalid {
        source_name: String,
        issues: Vec<ConfigIssue>,
    },
}

fn render_issues(issues: &[ConfigIssue]) -> String {
    issues
        .iter()
        .map(|i| format!("  {i}"))
        .collect::<Vec<_>>()
        .join("\n")
}

impl Config {
    /// Reads and validates a config file. A missing file is an error here; callers that accept
    /// "no config yet" check for existence first.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_file_text(&text, path).map_err(|issues| ConfigError::Invalid {
            source_name: path.display().to_string(),
            issues,
        })
    }

    /// Validates the text of the file at `path`; relative paths in it are relative to the file,
    /// not to wherever we were started.
    pub fn from_file_text(text: &str, path: &Path) -> Result<Self, Vec<ConfigIssue>> {
        let mut config = Self::from_toml(text)?;
        if let Some(dir) = path.parent() {
            if config.data_dir.is_relative() {
                config.data_dir = dir.join(&config.data_dir);
            }
            if let SecretBackend::File(file) = &mut config.secrets
                && file.is_relative()
            {
                *file = dir.join(&*file);
            }
            for s in &mut config.mcp_servers {
                if let mcp::McpTransport::Stdio { cwd: Some(cwd), .. } = &mut s.transport
                    && cwd.is_relative()
                {
                    *cwd = dir.join(&*cwd);
                }
            }
            for p in &mut config.providers {
                if let Some(ca) = &mut p.tls.ca_file
                    && ca.is_relative()
                {
                    *ca = dir.join(&*ca);
                }
            }
        }
        Ok(config)
    }

    /// Parses and validates TOML text, returning every problem found.
    pub fn from_toml(text: &str) -> Result<Self, Vec<ConfigIssue>> {
        let raw = parse_raw(text).map_err(|issue| vec![issue])?;
        validate(raw)
    }

    pub fn provider(&self, name: &str) -> Option<&ProviderConfig> {
        self.providers.iter().find(|p| p.name == name)
    }
}

fn parse_raw(text: &str) -> Result<raw::RawConfig, ConfigIssue> {
    let de = toml::Deserializer::parse(text).map_err(|e| toml_issue(text, String::new(), &e))?;
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let path = if path == "." { String::new() } else { path };
        toml_issue(text, path, e.inner())
    })
}

fn toml_issue(text: &str, path: String, err: &toml::de::Error) -> ConfigIssue {
    let mut message = err.message().trim_end().to_owned();
    if let Some(span) = err.span() {
        let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
        message.push_str(&format!(" (line {line})"));
    }
    ConfigIssue { path, message }
}

fn validate(raw: raw::RawConfig) -> Result<Config, Vec<ConfigIssue>> {
    let mut issues = Vec::new();
    let mut push = |path: String, message: String| issues.push(ConfigIssue { path, message });

    let listen = server::listen(raw.listen, &mut push);
    let timeouts = timeouts_from(&raw.timeouts, Timeouts::default(), "timeouts", &mut push);
    let providers = providers::providers(raw.providers, timeouts, &mut push);
    let routing_settings = routing::settings(&raw.routing, &mut push);
    let aliases = routing::aliases(raw.aliases, &providers, &mut push);
    let pools = routing::pools(raw.pools, &providers, &aliases, &mut push);
    let retry = routing::retry(&raw.retry, &mut push);
    let circuit = routing::circuit(&raw.circuit_breaker, &mut push);
    let limits = server::limits(&raw.limits, &mut push);
    let log = log::log(&raw.log, &mut push);
    let data_dir = raw.data_dir.as_deref().map_or_else(data_dir, expand_home);
    let access = server::access(&raw.access, &mut push);
    let secrets = secret_ref::backend(&raw.secrets, &data_dir, &mut push);
    let keys = keys::keys(raw.keys, listen, &mut push);
    let mcp_servers = mcp::validate_servers(raw.mcp_servers, &mut push);
    let alias_taken =
        |name: &str| aliases.iter().any(|a| a.name == name) || pools.iter().any(|p| p.name == name);
    let assistants =
        mcp::validate_assistants(raw.assistants, &mcp_servers, &alias_taken, &mut push);
    let mcp = mcp::validate_settings(raw.mcp, &mut push);

    if issues.is_empty() {
        Ok(Config {
            listen,
            data_dir,
            log,
            providers,
            aliases,
            pools,
            routing: routing_settings,
            timeouts,
            retry,
            circuit,
            limits,
            access,
            secrets,
            keys,
            mcp_servers,
            assistants,
            mcp,
        })
    } else {
        Err(issues)
    }
}

fn timeouts_from(
    raw: &raw::RawTimeouts,
    base: Timeouts,
    path: &str,
    push: &mut impl FnMut(String, String),
) -> Timeouts {
    let t = Timeouts {
        connect: ms_or(raw.connect_ms, base.connect),
        first_token: ms_or(raw.first_token_ms, base.first_token),
        idle: ms_or(raw.idle_ms, base.idle),
        total: ms_or(raw.total_ms, base.total),
    };
    for (field, value) in [
        ("connect_ms", t.connect),
        ("first_token_ms", t.first_token),
        ("idle_ms", t.idle),
        ("total_ms", t.total),
    ] {
        if value.is_zero() {
            push(format!("{path}.{field}"), "must be greater than 0".into());
        }
    }
    t
}

fn size_or(value: Option<u64>, default: usize) -> usize {
    value.map_or(default, |v| usize::try_from(v).unwrap_or(usize::MAX))
}

fn ms_or(ms: Option<u64>, default: Duration) -> Duration {
    ms.map_or(default, Duration::from_millis)
}

/// What [`valid_name`] accepts, for messages.
const NAME_RULE: &str =
    "1-64 characters of letters, digits, '-', '_' or '.', not starting with '.'";

/// Provider, key and assistant names end up in URL paths (`/proxy/{provider}/`), headers and
/// logs: a safe set, and never `.`, `..` or another name starting with a dot.
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Alias names are model names clients send, so they may also hold the `:` and `@` of model
/// ids such as `llama3.1:8b` or `claude-sonnet-4@20250514`; otherwise as [`valid_name`].
fn valid_alias_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':' | '@'))
}

fn expand_home(path: &str) -> PathBuf {
    match path.strip_prefix("~/") {
        Some(rest) => dirs::home_dir().unwrap_or_default().join(rest),
        None => PathBuf::from(path),
    }
}

/// Where Switchyard keeps its data: `$SWITCHYARD_HOME`, else the OS config dir.
pub fn data_dir() -> PathBuf {
    if let Some(home) = std::env::var_os("SWITCHYARD_HOME").filter(|h| !h.is_empty()) {
        return PathBuf::from(home);
    }
    dirs::config_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join("switchyard")
}

/// The config file used when no `--config` is given.
pub fn default_config_path() -> PathBuf {
    data_dir().join("config.toml")
}

#[cfg(test)]
mod tests;
