//! Configuration in two phases: [`raw`] mirrors the TOML file (unknown keys are errors), then
//! [`Config::from_toml`] validates it into typed settings, reporting every problem with its path
//! (`aliases[0].targets[1]: unknown provider "x"`). Secrets are references here, never values.

pub mod edit;
pub mod mcp;
pub mod raw;

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use crate::catalog::{AuthStyle, ModelListStyle};
use crate::secrets::SecretRef;

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
    pub timeouts: Timeouts,
    pub retry: RetryPolicy,
    pub circuit: CircuitPolicy,
    pub limits: Limits,
    pub access: AccessConfig,
    pub secrets: crate::secrets::SecretBackend,
    pub keys: Vec<std::sync::Arc<crate::access::ClientKey>>,
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
    /// The store `keychain:` references are read from.
    pub fn secret_store(&self) -> crate::secrets::SecretStore {
        match &self.secrets {
            crate::secrets::SecretBackend::Keychain => crate::secrets::SecretStore::keychain(),
            crate::secrets::SecretBackend::File(path) => {
                crate::secrets::SecretStore::file(path.clone())
            }
        }
    }

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
    pub capabilities: std::collections::BTreeMap<String, crate::capabilities::Declared>,
    pub models: Vec<String>,
    pub enabled: bool,
    pub timeouts: Timeouts,
    pub prices: std::collections::BTreeMap<String, crate::record::Price>,
}

/// The request log: on by default, bodies captured, 30 days kept.
#[derive(Debug, Clone, PartialEq)]
pub struct LogConfig {
    pub enabled: bool,
    pub settings: crate::store::LogSettings,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            settings: crate::store::LogSettings::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetRef {
    pub provider: String,
    pub model: String,
}

impl fmt::Display for TargetRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.provider, self.model)
    }
}

#[derive(Debug, Clone)]
pub struct AliasConfig {
    pub name: String,
    pub targets: Vec<TargetRef>,
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
            timeouts: Timeouts::default(),
            retry: RetryPolicy::default(),
            circuit: CircuitPolicy::default(),
            limits: Limits::default(),
            access: AccessConfig::default(),
            secrets: crate::secrets::SecretBackend::Keychain,
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
            if let crate::secrets::SecretBackend::File(file) = &mut config.secrets
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

    let listen = match raw
        .listen
        .as_deref()
        .unwrap_or(DEFAULT_LISTEN)
        .parse::<SocketAddr>()
    {
        Ok(addr) => addr,
        Err(_) => {
            push(
                "listen".into(),
                format!(
                    "{:?} is not an address like \"127.0.0.1:7137\"",
                    raw.listen.unwrap_or_default()
                ),
            );
            SocketAddr::from(([127, 0, 0, 1], 7137))
        }
    };

    let timeouts = timeouts_from(&raw.timeouts, Timeouts::default(), "timeouts", &mut push);

    let mut providers: Vec<ProviderConfig> = Vec::with_capacity(raw.providers.len());
    for (i, p) in raw.providers.into_iter().enumerate() {
        let at = |field: &str| format!("providers[{i}].{field}");
        if !valid_name(&p.name) {
            push(at("name"), format!("{:?} must be {NAME_RULE}", p.name));
        } else if providers.iter().any(|q| q.name == p.name) {
            push(at("name"), format!("duplicate provider name {:?}", p.name));
        }
        let preset = match p.preset.as_deref() {
            None => None,
            Some(id) => {
                let found = crate::catalog::preset(id);
                if found.is_none() {
                    let known: Vec<_> = crate::catalog::presets().iter().map(|p| p.id).collect();
                    push(
                        at("preset"),
                        format!("unknown preset {id:?} (known: {})", known.join(", ")),
                    );
                }
                found
            }
        };
        let kind_name = p
            .kind
            .as_deref()
            .or_else(|| preset.map(|pr| pr.kind.as_str()));
        let (kind, azure) = match kind_name {
            Some("openai") => (ProviderKind::OpenAi, false),
            Some("anthropic") => (ProviderKind::Anthropic, false),
            Some("azure") => (ProviderKind::OpenAi, true),
            Some(other) => {
                push(
                    at("kind"),
                    format!(
                        "unknown kind {other:?} (expected \"openai\", \"anthropic\" or \"azure\")"
                    ),
                );
                (ProviderKind::OpenAi, false)
            }
            None => {
                push(
                    at("kind"),
                    "missing: give a kind (\"openai\", \"anthropic\", \"azure\") or a preset"
                        .into(),
                );
                (ProviderKind::OpenAi, false)
            }
        };
        let base_url = match (&p.base_url, preset) {
            (Some(url), _) => url.trim_end_matches('/').to_owned(),
            (None, Some(pr)) if !pr.needs_base_url => pr.base_url.to_owned(),
            (None, Some(pr)) => {
                push(
                    at("base_url"),
                    format!(
                        "missing: the {} preset needs your own URL, like {}",
                        pr.id, pr.base_url
                    ),
                );
                String::new()
            }
            (None, None) => {
                push(at("base_url"), "missing".into());
                String::new()
            }
        };
        let mut base_host = None;
        if !base_url.is_empty() {
            match reqwest::Url::parse(&base_url) {
                Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {
                    base_host = url.host_str().map(str::to_owned);
                }
                _ => push(
                    at("base_url"),
                    format!("{base_url:?} is not an http(s) URL"),
                ),
            }
        }
        let auth = match p.auth.as_deref() {
            Some("bearer") => AuthStyle::Bearer,
            Some("x-api-key") => AuthStyle::XApiKey,
            Some("api-key") => AuthStyle::ApiKeyHeader,
            Some("none") => AuthStyle::None,
            Some(other) => {
                push(
                    at("auth"),
                    format!(
                        "unknown auth {other:?} (expected \"bearer\", \"x-api-key\", \"api-key\" or \"none\")"
                    ),
                );
                AuthStyle::Bearer
            }
            None => match (preset, kind, azure) {
                (Some(pr), _, _) if pr.kind.as_str() == kind_name.unwrap_or_default() => pr.auth,
                (_, _, true) => AuthStyle::ApiKeyHeader,
                (_, ProviderKind::Anthropic, _) => AuthStyle::XApiKey,
                _ => AuthStyle::Bearer,
            },
        };
        let azure_api_version = if azure {
            Some(
                p.api_version
                    .clone()
                    .or_else(|| preset.and_then(|pr| pr.api_version.map(str::to_owned)))
                    .unwrap_or_else(|| DEFAULT_AZURE_API_VERSION.to_owned()),
            )
        } else {
            if p.api_version.is_some() {
                push(
                    at("api_version"),
                    "only Azure providers take an api_version".into(),
                );
            }
            None
        };
        let responses_api = match p.responses_api {
            Some(true) if kind != ProviderKind::OpenAi || azure => {
                push(
                    at("responses_api"),
                    "only OpenAI-kind providers (not Azure) can pass the Responses API through"
                        .into(),
                );
                false
            }
            Some(on) => on,
            None => preset.is_some_and(|pr| pr.id == "openai"),
        };
        let list_style = match (preset, kind, azure) {
            (Some(pr), _, _) => pr.models,
            (_, _, true) => ModelListStyle::None,
            (_, ProviderKind::Anthropic, _) => ModelListStyle::Anthropic,
            _ => ModelListStyle::OpenAi,
        };
        let proxy = match p.proxy.as_deref() {
            None => ProxySetting::System,
            Some("direct") => ProxySetting::Direct,
            Some(url) => match reqwest::Url::parse(url) {
                Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {
                    ProxySetting::Url(url.to_owned())
                }
                _ => {
                    push(
                        at("proxy"),
                        format!("{url:?} is not a proxy URL (http://host:port) or \"direct\""),
                    );
                    ProxySetting::System
                }
            },
        };
        let tls = TlsPolicy {
            ca_file: p.tls.ca_file.as_deref().map(expand_home),
            accept_invalid_certs: match &p.tls.accept_invalid_certs_host {
                None => false,
                Some(host)
                    if base_host
                        .as_deref()
                        .is_some_and(|h| h.eq_ignore_ascii_case(host)) =>
                {
                    true
                }
                Some(host) => {
                    push(
                        at("tls.accept_invalid_certs_host"),
                        format!(
                            "{host:?} is not this provider's host ({}); the exception applies to its own host only",
                            base_host.as_deref().unwrap_or("none")
                        ),
                    );
                    false
                }
            },
        };
        let mut capabilities = std::collections::BTreeMap::new();
        for (model, raw) in &p.capabilities {
            match crate::capabilities::Declared::from_raw(raw) {
                Ok(declared) => {
                    capabilities.insert(model.clone(), declared);
                }
                Err(msg) => push(format!("providers[{i}].capabilities.{model}"), msg),
            }
        }
        let api_key = match p.api_key.as_deref().map(SecretRef::parse) {
            None => None,
            Some(Ok(r)) => Some(r),
            Some(Err(msg)) => {
                push(at("api_key"), msg);
                None
            }
        };
        for (j, m) in p.models.iter().enumerate() {
            if m.trim().is_empty() {
                push(
                    format!("providers[{i}].models[{j}]"),
                    "empty model id".into(),
                );
            } else if p.models[..j].contains(m) {
                push(
                    format!("providers[{i}].models[{j}]"),
                    format!("duplicate model {m:?}"),
                );
            }
        }
        let provider_timeouts = timeouts_from(&p.timeouts, timeouts, &at("timeouts"), &mut push);
        let mut prices = std::collections::BTreeMap::new();
        for (model, price) in &p.prices {
            let valid = |v: f64| v.is_finite() && v >= 0.0;
            if !valid(price.input) || !valid(price.output) || !price.cached_input.is_none_or(valid)
            {
                push(
                    format!("providers[{i}].prices.{model}"),
                    "prices must be non-negative numbers".into(),
                );
            }
            prices.insert(
                model.clone(),
                crate::record::Price {
                    input: price.input,
                    output: price.output,
                    cached: price.cached_input,
                },
            );
        }
        providers.push(ProviderConfig {
            name: p.name,
            preset: preset.map(|pr| pr.id.to_owned()),
            kind,
            base_url,
            api_key,
            auth,
            azure_api_version,
            responses_api,
            list_style,
            proxy,
            tls,
            capabilities,
            models: p.models,
            enabled: p.enabled,
            timeouts: provider_timeouts,
            prices,
        });
    }

    let mut aliases: Vec<AliasConfig> = Vec::with_capacity(raw.aliases.len());
    for (i, a) in raw.aliases.into_iter().enumerate() {
        if !valid_alias_name(&a.name) {
            push(
                format!("aliases[{i}].name"),
                format!(
                    "{:?} must be 1-128 characters of letters, digits, '-', '_', '.', ':' or '@', not starting with '.'",
                    a.name
                ),
            );
        } else if aliases.iter().any(|b| b.name == a.name) {
            push(
                format!("aliases[{i}].name"),
                format!("duplicate alias name {:?}", a.name),
            );
        } else if providers.iter().any(|p| p.models.contains(&a.name)) {
            push(
                format!("aliases[{i}].name"),
                format!(
                    "{:?} is also a provider's model id; pick another alias name",
                    a.name
                ),
            );
        }
        if a.targets.is_empty() {
            push(
                format!("aliases[{i}].targets"),
                "an alias needs at least one target".into(),
            );
        }
        let mut targets = Vec::with_capacity(a.targets.len());
        for (j, t) in a.targets.iter().enumerate() {
            let at = format!("aliases[{i}].targets[{j}]");
            let Some((provider, model)) = t.split_once('/') else {
                push(at, format!("{t:?} must be written \"provider/model\""));
                continue;
            };
            match providers.iter().find(|p| p.name == provider) {
                None => push(at, format!("unknown provider {provider:?}")),
                Some(p) if !p.models.is_empty() && !p.models.iter().any(|m| m == model) => push(
                    at,
                    format!("provider {provider:?} does not list model {model:?}"),
                ),
                Some(_) => targets.push(TargetRef {
                    provider: provider.to_owned(),
                    model: model.to_owned(),
                }),
            }
        }
        aliases.push(AliasConfig {
            name: a.name,
            targets,
        });
    }

    let defaults = RetryPolicy::default();
    let retry = RetryPolicy {
        rounds: raw.retry.rounds.unwrap_or(defaults.rounds),
        backoff: ms_or(raw.retry.backoff_ms, defaults.backoff),
        max_backoff: ms_or(raw.retry.max_backoff_ms, defaults.max_backoff),
        max_retry_after: ms_or(raw.retry.max_retry_after_ms, defaults.max_retry_after),
    };
    if retry.rounds == 0 || retry.rounds > 10 {
        push("retry.rounds".into(), "must be between 1 and 10".into());
    }

    let defaults = CircuitPolicy::default();
    let circuit = CircuitPolicy {
        enabled: raw.circuit_breaker.enabled.unwrap_or(defaults.enabled),
        window: ms_or(raw.circuit_breaker.window_ms, defaults.window),
        min_requests: raw
            .circuit_breaker
            .min_requests
            .unwrap_or(defaults.min_requests),
        failure_rate: raw
            .circuit_breaker
            .failure_rate
            .unwrap_or(defaults.failure_rate),
        cooldown: ms_or(raw.circuit_breaker.cooldown_ms, defaults.cooldown),
    };
    if !(circuit.failure_rate > 0.0 && circuit.failure_rate <= 1.0) {
        push(
            "circuit_breaker.failure_rate".into(),
            "must be in (0, 1]".into(),
        );
    }
    if circuit.min_requests == 0 {
        push(
            "circuit_breaker.min_requests".into(),
            "must be at least 1".into(),
        );
    }

    let defaults = Limits::default();
    let limits = Limits {
        max_body_bytes: raw
            .limits
            .max_body_bytes
            .map_or(defaults.max_body_bytes, |b| {
                usize::try_from(b).unwrap_or(usize::MAX)
            }),
        max_upload_bytes: raw
            .limits
            .max_upload_bytes
            .map_or(defaults.max_upload_bytes, |b| {
                usize::try_from(b).unwrap_or(usize::MAX)
            }),
        shutdown_grace: ms_or(raw.limits.shutdown_grace_ms, defaults.shutdown_grace),
        max_connections: size_or(raw.limits.max_connections, defaults.max_connections),
        max_uri_bytes: size_or(raw.limits.max_uri_bytes, defaults.max_uri_bytes),
        max_header_bytes: size_or(raw.limits.max_header_bytes, defaults.max_header_bytes),
        header_read_timeout: ms_or(
            raw.limits.header_read_timeout_ms,
            defaults.header_read_timeout,
        ),
        body_idle_timeout: ms_or(raw.limits.body_idle_timeout_ms, defaults.body_idle_timeout),
        keep_alive_timeout: ms_or(
            raw.limits.keep_alive_timeout_ms,
            defaults.keep_alive_timeout,
        ),
    };
    for (field, value, least) in [
        ("max_connections", limits.max_connections, 1),
        ("max_uri_bytes", limits.max_uri_bytes, 256),
        ("max_header_bytes", limits.max_header_bytes, 1024),
    ] {
        if value < least {
            push(
                format!("limits.{field}"),
                format!("must be at least {least}"),
            );
        }
    }
    for (field, value) in [
        ("header_read_timeout_ms", limits.header_read_timeout),
        ("body_idle_timeout_ms", limits.body_idle_timeout),
        ("keep_alive_timeout_ms", limits.keep_alive_timeout),
    ] {
        if value.is_zero() {
            push(format!("limits.{field}"), "must be greater than 0".into());
        }
    }
    if limits.max_upload_bytes < 1024 {
        push(
            "limits.max_upload_bytes".into(),
            "must be at least 1024".into(),
        );
    }
    if limits.max_body_bytes < 1024 {
        push(
            "limits.max_body_bytes".into(),
            "must be at least 1024".into(),
        );
    }

    let log_defaults = crate::store::LogSettings::default();
    let log = LogConfig {
        enabled: raw.log.enabled.unwrap_or(true),
        settings: crate::store::LogSettings {
            capture_bodies: raw
                .log
                .capture_bodies
                .unwrap_or(log_defaults.capture_bodies),
            max_body_bytes: raw
                .log
                .max_body_bytes
                .map_or(log_defaults.max_body_bytes, |b| {
                    usize::try_from(b).unwrap_or(usize::MAX)
                }),
            retention: raw.log.retention_days.map_or(log_defaults.retention, |d| {
                Duration::from_secs(u64::from(d) * 86_400)
            }),
            max_db_bytes: raw.log.max_db_mb.map_or(log_defaults.max_db_bytes, |mb| {
                mb.saturating_mul(1024 * 1024)
            }),
            queue_capacity: raw
                .log
                .queue_capacity
                .map_or(log_defaults.queue_capacity, |c| {
                    usize::try_from(c).unwrap_or(usize::MAX)
                }),
        },
    };
    if raw.log.retention_days == Some(0) {
        push("log.retention_days".into(), "must be at least 1".into());
    }
    if raw.log.queue_capacity == Some(0) {
        push("log.queue_capacity".into(), "must be at least 1".into());
    }
    let data_dir = raw.data_dir.as_deref().map_or_else(data_dir, expand_home);

    let access = AccessConfig {
        require_key: raw.access.require_key.unwrap_or(false),
        cors_origins: raw
            .access
            .cors_origins
            .iter()
            .map(|o| o.trim_end_matches('/').to_owned())
            .collect(),
        allowed_hosts: raw
            .access
            .allowed_hosts
            .iter()
            .map(|h| h.to_ascii_lowercase())
            .collect(),
    };
    for (i, origin) in access.cors_origins.iter().enumerate() {
        let ok = reqwest::Url::parse(origin).is_ok_and(|u| {
            matches!(u.scheme(), "http" | "https")
                && u.host().is_some()
                && u.path() == "/"
                && u.query().is_none()
        }) && origin != "null";
        if !ok || origin.contains('*') {
            push(
                format!("access.cors_origins[{i}]"),
                format!(
                    "{origin:?} must be an exact origin like \"https://app.example\" or \"http://localhost:3000\" (no wildcards, no path)"
                ),
            );
        }
    }
    for (i, host) in access.allowed_hosts.iter().enumerate() {
        if host.is_empty() || host.contains(['/', ' ', '*']) {
            push(
                format!("access.allowed_hosts[{i}]"),
                format!("{host:?} must be a host name or IP address"),
            );
        }
    }

    let secrets = match raw.secrets.backend.as_deref() {
        None | Some("keychain") => {
            if raw.secrets.file.is_some() {
                push(
                    "secrets.file".into(),
                    "only used with backend = \"file\"".into(),
                );
            }
            crate::secrets::SecretBackend::Keychain
        }
        Some("file") => crate::secrets::SecretBackend::File(
            raw.secrets
                .file
                .as_deref()
                .map_or_else(|| data_dir.join("secrets.toml"), expand_home),
        ),
        Some(other) => {
            push(
                "secrets.backend".into(),
                format!("unknown backend {other:?} (expected \"keychain\" or \"file\")"),
            );
            crate::secrets::SecretBackend::Keychain
        }
    };

    let mut keys: Vec<std::sync::Arc<crate::access::ClientKey>> =
        Vec::with_capacity(raw.keys.len());
    for (i, k) in raw.keys.into_iter().enumerate() {
        let at = |field: &str| format!("keys[{i}].{field}");
        if !valid_name(&k.name) {
            push(at("name"), format!("{:?} must be {NAME_RULE}", k.name));
        } else if keys.iter().any(|o| o.name == k.name) {
            push(at("name"), format!("duplicate key name {:?}", k.name));
        }
        let Some(hash) = crate::access::KeyHash::parse(&k.hash) else {
            push(
                at("hash"),
                "must be \"sha256:\" and 64 hex digits (create keys with `switchyard keys create`)"
                    .into(),
            );
            continue;
        };
        let role = match k.role.as_deref() {
            None => crate::access::Role::User,
            Some(r) => crate::access::Role::parse(r).unwrap_or_else(|| {
                push(
                    at("role"),
                    format!("unknown role {r:?} (expected \"admin\", \"user\" or \"read-only\")"),
                );
                crate::access::Role::User
            }),
        };
        if keys.iter().any(|o| o.hash == hash) {
            push(at("hash"), "the same key is listed twice".into());
        }
        keys.push(std::sync::Arc::new(crate::access::ClientKey {
            name: k.name,
            hash,
            role,
            models: k.models,
            prefix: k.prefix,
            created: k.created,
        }));
    }
    if !listen.ip().is_loopback() && !keys.iter().any(|k| k.role >= crate::access::Role::User) {
        push(
            "listen".into(),
            format!(
                "{listen} is reachable from other machines: create a client key first (`switchyard keys create NAME`), every request will need one"
            ),
        );
    }

    let mcp_servers = mcp::validate_servers(raw.mcp_servers, &mut push);
    let alias_taken = |name: &str| aliases.iter().any(|a| a.name == name);
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
