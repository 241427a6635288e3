//! Upstream providers: one module per wire protocol, dispatched by [`ProviderKind`].
//! Mapping between formats is done by pure functions in those modules; this file owns the
//! HTTP client, authentication, and turning HTTP failures into classified [`UpstreamError`]s.

pub mod anthropic;
pub mod anthropic_native;
pub mod media;
pub mod openai;
pub mod passthrough;
pub mod responses;
pub mod scrub;

use std::pin::Pin;
use std::time::{Duration, SystemTime};

use futures_util::Stream;
use reqwest::header::{HeaderMap, HeaderValue};

use std::borrow::Cow;
use switchyard_dialects::openai::{
    ChatChunk, ChatRequest, ChatResponse, EmbeddingsRequest, EmbeddingsResponse,
};

use reqwest::header::HeaderName;

use crate::config::{AuthStyle, ProviderConfig, ProviderKind, ProxySetting, Timeouts};
use crate::error::UpstreamError;
use crate::secrets::{SecretError, SecretRef, SecretStore, Sensitive};
use switchyard_dialects::error::default_error_type;

/// A stream of well-formed chat chunks (see [`chunks`]); the last one may be a usage chunk.
pub type ChunkStream = Pin<Box<dyn Stream<Item = Result<ChatChunk, UpstreamError>> + Send>>;

/// The largest single SSE event accepted from an upstream.
pub const MAX_UPSTREAM_EVENT: usize = 16 * 1024 * 1024;
/// The largest non-streamed upstream body accepted.
pub const MAX_UPSTREAM_BODY: usize = 64 * 1024 * 1024;

/// A configured upstream, ready to call. Built once per config generation.
#[derive(Debug)]
pub struct Provider {
    pub name: String,
    pub kind: ProviderKind,
    pub models: Vec<String>,
    pub timeouts: Timeouts,
    /// Serves OpenAI's Responses API, so `/v1/responses` passes through to it.
    pub responses_api: bool,
    /// Endpoint URLs, parsed once.
    urls: Urls,
    /// The authentication header, built once; `Err` says why the key is unavailable.
    auth: Result<Option<(HeaderName, HeaderValue)>, KeyProblem>,
    key: Option<Sensitive>,
    /// Takes the key back out of whatever the upstream answers.
    scrub: scrub::Scrubber,
    /// Azure OpenAI: the deployment goes in the path and this in the query.
    azure_api_version: Option<String>,
    base_url: String,
    client: reqwest::Client,
}

/// Why a provider's settings cannot be run. Each names the provider or the setting to change.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SetupError {
    #[error("provider {provider}: bad proxy: {detail}")]
    Proxy { provider: String, detail: String },
    #[error("provider {provider}: cannot read tls.ca_file {path}: {detail}")]
    CaFileUnreadable {
        provider: String,
        path: String,
        detail: String,
    },
    #[error("provider {provider}: tls.ca_file {path} is not PEM: {detail}")]
    CaFileNotPem {
        provider: String,
        path: String,
        detail: String,
    },
    #[error("provider {provider}: tls.ca_file {path} holds no certificate")]
    CaFileEmpty { provider: String, path: String },
    #[error("provider {provider}: cannot build its HTTP client: {detail}")]
    Client { provider: String, detail: String },
    #[error("provider {provider}: bad base_url: {detail}")]
    BaseUrl { provider: String, detail: String },
}

/// Why a provider's key cannot be sent. The provider still runs; its requests fail with this.
#[derive(Debug, Clone, thiserror::Error)]
pub enum KeyProblem {
    #[error("its key ({reference}) is unavailable: {source}")]
    Unavailable {
        reference: SecretRef,
        source: SecretError,
    },
    #[error("its key has characters that cannot go in an HTTP header")]
    NotHeaderSafe,
}

impl Provider {
    /// Builds the provider, reading its key from `secrets` (which may block on D-Bus).
    pub fn new(config: &ProviderConfig, secrets: &SecretStore) -> Result<Self, SetupError> {
        let client = http_client(config)?;
        let key = match &config.api_key {
            None => Ok(None),
            Some(reference) => reference.resolve_with(secrets).map(Some).map_err(|source| {
                KeyProblem::Unavailable {
                    reference: reference.clone(),
                    source,
                }
            }),
        };
        let auth = key
            .as_ref()
            .map_err(Clone::clone)
            .and_then(|k| k.as_ref().map_or(Ok(None), |k| auth_header(config.auth, k)));
        let key = key.ok().flatten();
        let scrub = scrub::Scrubber::new(key.as_ref().map(Sensitive::expose));
        let url = |path: &str| {
            reqwest::Url::parse(&format!("{}{path}", config.base_url)).map_err(|e| {
                SetupError::BaseUrl {
                    provider: config.name.clone(),
                    detail: e.to_string(),
                }
            })
        };
        // Anthropic's documented base URL has no /v1; accept it either way.
        let messages = if config.base_url.ends_with("/v1") {
            "/messages"
        } else {
            "/v1/messages"
        };
        let urls = Urls {
            chat: url("/chat/completions")?,
            embeddings: url("/embeddings")?,
            images: url("/images/generations")?,
            messages: url(messages)?,
            responses: url("/responses")?,
        };
        Ok(Self {
            name: config.name.clone(),
            urls,
            kind: config.kind,
            models: config.models.clone(),
            timeouts: config.timeouts,
            responses_api: config.responses_api,
            auth,
            key,
            scrub,
            azure_api_version: config.azure_api_version.clone(),
            base_url: config.base_url.clone(),
            client,
        })
    }

    /// The URL of an OpenAI-style endpoint (`chat/completions`, `embeddings`) for a model.
    fn openai_url(
        &self,
        model: &str,
        endpoint: Endpoint,
    ) -> Result<Cow<'_, reqwest::Url>, UpstreamError> {
        let Some(version) = &self.azure_api_version else {
            return Ok(Cow::Borrowed(match endpoint {
                Endpoint::Chat => &self.urls.chat,
                Endpoint::Embeddings => &self.urls.embeddings,
                Endpoint::Images => &self.urls.images,
            }));
        };
        let path = match endpoint {
            Endpoint::Chat => "chat/completions",
            Endpoint::Embeddings => "embeddings",
            Endpoint::Images => "images/generations",
        };
        azure_url(&self.base_url, version, model, path).map(Cow::Owned)
    }

    /// A client for side calls (model lists, connection tests) with this provider's TLS and
    /// proxy settings.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The key itself, for side calls made with another header style (model lists).
    pub fn raw_key(&self) -> Option<&str> {
        self.key.as_ref().map(Sensitive::expose)
    }

    /// The upstream's answer with this provider's key taken out of its headers and body. Every
    /// response from the upstream goes through here before anything reads it.
    pub fn scrubbed(&self, response: reqwest::Response) -> reqwest::Response {
        self.scrub.response(response)
    }

    /// The problem with this provider's key, if any (shown at start-up).
    pub fn key_problem(&self) -> Option<&KeyProblem> {
        self.auth.as_ref().err()
    }

    /// Adds the authentication header, or fails when the key could not be read.
    pub fn authenticate(&self, headers: &mut HeaderMap) -> Result<(), UpstreamError> {
        match &self.auth {
            Ok(Some((name, value))) => {
                headers.insert(name.clone(), value.clone());
                Ok(())
            }
            Ok(None) => Ok(()),
            Err(e) => Err(UpstreamError::Config(e.to_string())),
        }
    }

    pub async fn chat(
        &self,
        req: &ChatRequest,
        model: &str,
    ) -> Result<ChatResponse, UpstreamError> {
        match self.kind {
            ProviderKind::OpenAi => openai::chat(self, req, model).await,
            ProviderKind::Anthropic => anthropic::chat(self, req, model).await,
        }
    }

    pub async fn chat_stream(
        &self,
        req: &ChatRequest,
        model: &str,
    ) -> Result<ChunkStream, UpstreamError> {
        match self.kind {
            ProviderKind::OpenAi => openai::chat_stream(self, req, model).await,
            ProviderKind::Anthropic => anthropic::chat_stream(self, req, model).await,
        }
    }

    pub async fn embeddings(
        &self,
        req: &EmbeddingsRequest,
        model: &str,
    ) -> Result<EmbeddingsResponse, UpstreamError> {
        match self.kind {
            ProviderKind::OpenAi => openai::embeddings(self, req, model).await,
            ProviderKind::Anthropic => Err(UpstreamError::Unsupported {
                message: "Anthropic has no embeddings API; route embeddings to an OpenAI-compatible provider".into(),
                param: Some("model".into()),
            }),
        }
    }

    /// `POST /images/generations` with an OpenAI-shaped body; the answer as JSON.
    pub async fn images_generate(
        &self,
        body: &serde_json::Value,
        model: &str,
    ) -> Result<serde_json::Value, UpstreamError> {
        match self.kind {
            ProviderKind::OpenAi => openai::images_generate(self, body, model).await,
            ProviderKind::Anthropic => Err(UpstreamError::Unsupported {
                message: "Anthropic does not generate images; use an OpenAI-compatible image model"
                    .into(),
                param: Some("model".into()),
            }),
        }
    }

    /// POSTs a JSON body and returns the response once it has a success status.
    async fn post_json(
        &self,
        url: &reqwest::Url,
        body: Vec<u8>,
        headers: HeaderMap,
        dialect: ProviderKind,
    ) -> Result<reqwest::Response, UpstreamError> {
        let response = self
            .client
            .post(url.clone())
            .headers(headers)
            .header(
                reqwest::header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )
            .body(body)
            .send()
            .await
            .map_err(|e| from_reqwest(&e))?;
        let response = self.scrubbed(response);
        if response.status().is_success() {
            Ok(response)
        } else {
            Err(status_error(response, dialect).await)
        }
    }
}

#[derive(Debug)]
struct Urls {
    chat: reqwest::Url,
    embeddings: reqwest::Url,
    images: reqwest::Url,
    messages: reqwest::Url,
    responses: reqwest::Url,
}

/// Installs the process-wide TLS crypto provider (ring). Safe to call any number of times; every
/// HTTP client in the process needs it before it is built.
pub fn install_crypto_provider() {
    // Ignored when already installed: any process-wide provider will do.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

pub(crate) fn from_reqwest(e: &reqwest::Error) -> UpstreamError {
    let detail = error_chain(e);
    if e.is_connect() {
        UpstreamError::Connect(detail)
    } else if e.is_timeout() {
        UpstreamError::Timeout(Duration::ZERO)
    } else if e.is_decode() {
        UpstreamError::Protocol(detail)
    } else {
        UpstreamError::Io(detail)
    }
}

/// An error and its sources, each said once.
pub(crate) fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

/// Reads the whole body of a success response, bounded.
pub(crate) async fn read_body(mut response: reqwest::Response) -> Result<Vec<u8>, UpstreamError> {
    let mut body = Vec::with_capacity(response.content_length().map_or(4096, |n| {
        usize::try_from(n).unwrap_or(4096).min(MAX_UPSTREAM_BODY)
    }));
    while let Some(chunk) = response.chunk().await.map_err(|e| from_reqwest(&e))? {
        if body.len() + chunk.len() > MAX_UPSTREAM_BODY {
            return Err(UpstreamError::Protocol(format!(
                "the answer is larger than {MAX_UPSTREAM_BODY} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Turns an error response into an [`UpstreamError::Status`], keeping the upstream's message.
async fn status_error(response: reqwest::Response, dialect: ProviderKind) -> UpstreamError {
    let status = response.status().as_u16();
    let retry_after = retry_after(response.headers());
    let text = match response.bytes().await {
        Ok(b) => b.slice(..b.len().min(64 * 1024)),
        Err(_) => bytes::Bytes::new(),
    };
    let (kind, code, param, message) = parse_error_body(&text, status, dialect);
    UpstreamError::Status {
        status,
        kind,
        code,
        param,
        message,
        retry_after,
    }
}

/// Reads an error body in either dialect; anything unreadable becomes a short text excerpt.
pub(crate) fn parse_error_body(
    body: &[u8],
    status: u16,
    dialect: ProviderKind,
) -> (String, Option<String>, Option<String>, String) {
    if let Ok(b) = serde_json::from_slice::<switchyard_dialects::anthropic::ErrorBody>(body)
        && b.kind == "error"
        && !b.error.message.is_empty()
    {
        let kind = switchyard_dialects::chat_to_anthropic::openai_error_type(&b.error.kind, status);
        return (kind, Some(b.error.kind), None, b.error.message);
    }
    if let Ok(b) = serde_json::from_slice::<switchyard_dialects::openai::ErrorBody>(body) {
        let kind = b
            .error
            .kind
            .unwrap_or_else(|| default_error_type(status).to_owned());
        return (kind, b.error.code, b.error.param, b.error.message);
    }
    let text = String::from_utf8_lossy(body);
    let excerpt: String = text.trim().chars().take(300).collect();
    let who = match dialect {
        ProviderKind::OpenAi => "upstream",
        ProviderKind::Anthropic => "Anthropic upstream",
    };
    let message = if excerpt.is_empty() {
        format!("the {who} answered HTTP {status} with no body")
    } else {
        format!("the {who} answered HTTP {status}: {excerpt}")
    };
    (default_error_type(status).to_owned(), None, None, message)
}

/// `retry-after-ms`, then `retry-after` as seconds or an HTTP date.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    if let Some(ms) = headers
        .get("retry-after-ms")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|ms| ms.is_finite() && *ms >= 0.0)
    {
        return Some(Duration::from_secs_f64(ms / 1000.0));
    }
    let value = headers.get("retry-after")?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(
        at.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// Azure OpenAI: `{base_url}/openai/deployments/{model}/{path}?api-version={version}`.
fn azure_url(
    base_url: &str,
    version: &str,
    model: &str,
    path: &str,
) -> Result<reqwest::Url, UpstreamError> {
    let mut url = reqwest::Url::parse(base_url)
        .map_err(|e| UpstreamError::Config(format!("bad base_url: {e}")))?;
    url.path_segments_mut()
        .map_err(|()| UpstreamError::Config("bad base_url".into()))?
        .pop_if_empty()
        .extend(["openai", "deployments", model])
        .extend(path.split('/'));
    url.query_pairs_mut().append_pair("api-version", version);
    Ok(url)
}

#[derive(Debug, Clone, Copy)]
enum Endpoint {
    Chat,
    Embeddings,
    Images,
}

fn auth_header(
    style: AuthStyle,
    key: &Sensitive,
) -> Result<Option<(HeaderName, HeaderValue)>, KeyProblem> {
    let (name, text) = match style {
        AuthStyle::None => return Ok(None),
        AuthStyle::Bearer => (
            reqwest::header::AUTHORIZATION,
            format!("Bearer {}", key.expose()),
        ),
        AuthStyle::XApiKey => (
            HeaderName::from_static("x-api-key"),
            key.expose().to_owned(),
        ),
        AuthStyle::ApiKeyHeader => (HeaderName::from_static("api-key"), key.expose().to_owned()),
    };
    let mut value = HeaderValue::from_str(&text).map_err(|_| KeyProblem::NotHeaderSafe)?;
    value.set_sensitive(true);
    Ok(Some((name, value)))
}

/// Whether the gateway can run this provider's settings (its CA file, its proxy) — checked
/// before a config change is written.
pub fn check(config: &ProviderConfig) -> Result<(), SetupError> {
    http_client(config).map(drop)
}

/// The provider's own HTTP client: its connect timeout, TLS policy and proxy.
fn http_client(config: &ProviderConfig) -> Result<reqwest::Client, SetupError> {
    install_crypto_provider();
    let provider = || config.name.clone();
    let mut builder = reqwest::Client::builder()
        .tcp_nodelay(true)
        .connect_timeout(config.timeouts.connect)
        .pool_idle_timeout(Duration::from_secs(90))
        .pool_max_idle_per_host(512)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("switchyard/", env!("CARGO_PKG_VERSION")));
    match &config.proxy {
        ProxySetting::System => {}
        ProxySetting::Direct => builder = builder.no_proxy(),
        ProxySetting::Url(url) => {
            let proxy = reqwest::Proxy::all(url).map_err(|e| SetupError::Proxy {
                provider: provider(),
                detail: e.to_string(),
            })?;
            builder = builder.proxy(proxy);
        }
    }
    if let Some(path) = &config.tls.ca_file {
        let shown = path.display().to_string();
        let pem = std::fs::read(path).map_err(|e| SetupError::CaFileUnreadable {
            provider: provider(),
            path: shown.clone(),
            detail: e.to_string(),
        })?;
        let certs =
            reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| SetupError::CaFileNotPem {
                provider: provider(),
                path: shown.clone(),
                detail: e.to_string(),
            })?;
        if certs.is_empty() {
            return Err(SetupError::CaFileEmpty {
                provider: provider(),
                path: shown,
            });
        }
        for cert in certs {
            builder = builder.add_root_certificate(cert);
        }
    }
    if config.tls.accept_invalid_certs {
        // Scoped by construction: this client only ever talks to the provider's own host,
        // which the config validated against `accept_invalid_certs_host`.
        builder = builder.tls_danger_accept_invalid_certs(true);
    }
    builder.build().map_err(|e| SetupError::Client {
        provider: provider(),
        detail: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_all_three_forms() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("2"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(2)));
        h.insert("retry-after-ms", HeaderValue::from_static("150"));
        assert_eq!(retry_after(&h), Some(Duration::from_millis(150)));
        let mut h = HeaderMap::new();
        let future = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(30));
        h.insert("retry-after", HeaderValue::from_str(&future).unwrap());
        let d = retry_after(&h).unwrap();
        assert!(
            d > Duration::from_secs(27) && d <= Duration::from_secs(30),
            "{d:?}"
        );
    }

    #[test]
    fn error_bodies_of_both_dialects_keep_their_message() {
        let (kind, code, _, msg) = parse_error_body(
            br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
            529,
            ProviderKind::Anthropic,
        );
        assert_eq!(
            (kind.as_str(), code.as_deref(), msg.as_str()),
            ("server_error", Some("overloaded_error"), "Overloaded")
        );
        let (kind, code, _, msg) = parse_error_body(
            br#"{"error":{"message":"maximum context length is 8192","type":"invalid_request_error","code":"context_length_exceeded","param":"messages"}}"#,
            400,
            ProviderKind::OpenAi,
        );
        assert_eq!(
            (kind.as_str(), code.as_deref(), msg.as_str()),
            (
                "invalid_request_error",
                Some("context_length_exceeded"),
                "maximum context length is 8192"
            )
        );
        let (_, _, _, msg) =
            parse_error_body(b"<html>bad gateway</html>", 502, ProviderKind::OpenAi);
        assert!(
            msg.contains("HTTP 502") && msg.contains("bad gateway"),
            "{msg}"
        );
    }

    /// Upstream calls go through each provider's client ([`http_client`]: its timeouts, proxy and
    /// TLS settings). The few other HTTP clients are listed here with why they are not a
    /// provider's; a client built anywhere else (`new`, `builder`, `default`) fails this test.
    #[test]
    fn http_clients_are_built_only_where_listed() {
        use std::collections::BTreeMap;

        let allowed: BTreeMap<&str, usize> = BTreeMap::from([
            // Each provider's client, the shared constructor.
            ("providers/mod.rs", 1),
            // Probes of local runtimes and model lists before a provider exists.
            ("discovery.rs", 1),
            // MCP servers over HTTP, which are not providers.
            ("mcp/mod.rs", 1),
            // /mcp image fetches, confined on purpose: no proxy and a resolver that admits
            // public addresses only, so the address checked is the one connected to.
            ("server/mcp_tools/sources.rs", 1),
        ]);
        let patterns = [
            concat!("Client::", "new()"),
            concat!("Client::", "builder()"),
            concat!("ClientBuilder::", "new()"),
            concat!("Client::", "default()"),
        ];
        let root = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src"));
        let mut found = BTreeMap::new();
        let mut dirs = vec![root.to_path_buf()];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    let n: usize = patterns.iter().map(|p| text.matches(p).count()).sum();
                    if n > 0 {
                        let rel = path.strip_prefix(root).unwrap().to_string_lossy();
                        found.insert(rel.replace('\\', "/"), n);
                    }
                }
            }
        }
        let found: BTreeMap<&str, usize> = found.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        assert_eq!(found, allowed);
    }
}
