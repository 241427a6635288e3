//! Discovery: what is out there before anything is configured — the models an upstream lists,
//! local runtimes answering on their usual ports, provider keys present in the environment or a
//! `.env` file. Parsers are pure functions; the fetchers are short-timeout GETs. Key values never
//! appear in results or errors. This module must not read or write config, nor route requests.

use std::time::Duration;

use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderName, HeaderValue};
use serde::Serialize;
use serde_json::Value;

use crate::catalog::{self, AuthStyle, ModelListStyle, Preset};
use crate::secrets::Sensitive;

/// Connect timeout of [`discovery_client`].
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Whole-request timeout of [`list_models`].
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Connect timeout of a local runtime probe.
pub const PROBE_CONNECT_TIMEOUT: Duration = Duration::from_millis(300);
/// Whole-request timeout of a local runtime probe.
pub const PROBE_TIMEOUT: Duration = Duration::from_millis(1500);

/// The `anthropic-version` header sent when listing Anthropic models.
const ANTHROPIC_VERSION: &str = "2023-06-01";
/// Anthropic lists 20 models a page by default; ask for its maximum and follow `has_more`.
const ANTHROPIC_PAGE_LIMIT: u32 = 1000;
const MAX_PAGES: usize = 20;
/// The largest model list accepted (OpenRouter's, the largest known, is a few MB).
const MAX_LIST_BODY: usize = 32 * 1024 * 1024;
/// How much of an error body an error message quotes.
const ERROR_BODY_CHARS: usize = 200;

/// One model as an upstream lists it, with whatever metadata it gives.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DiscoveredModel {
    pub id: String,
    pub context_window: Option<u64>,
    pub max_output: Option<u64>,
    /// US dollars per million input tokens.
    pub input_price: Option<f64>,
    /// US dollars per million output tokens.
    pub output_price: Option<f64>,
    pub vision: Option<bool>,
    pub tools: Option<bool>,
    pub embedding: Option<bool>,
    pub reasoning: Option<bool>,
    pub owned_by: Option<String>,
}

impl DiscoveredModel {
    fn new(id: &str) -> Self {
        Self {
            id: id.to_owned(),
            context_window: None,
            max_output: None,
            input_price: None,
            output_price: None,
            vision: None,
            tools: None,
            embedding: None,
            reasoning: None,
            owned_by: None,
        }
    }
}

/// Why a model list could not be had. URLs are shown without credentials or query; keys never.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DiscoveryError {
    #[error("bad base URL {url:?}: {detail}")]
    BadUrl { url: String, detail: String },
    #[error("cannot build an HTTP client: {0}")]
    Client(String),
    #[error("the key contains characters that cannot be sent in an HTTP header")]
    BadKey,
    #[error(
        "this provider has no model list to fetch; name its models in the config (for Azure, the deployment names)"
    )]
    Unsupported,
    #[error("cannot connect to {url}: {detail}")]
    Connect { url: String, detail: String },
    #[error("{url} did not answer within {after:?}")]
    Timeout { url: String, after: Duration },
    #[error("request to {url} failed: {detail}")]
    Request { url: String, detail: String },
    #[error("{url} answered HTTP {status}: {body}")]
    Status {
        url: String,
        status: u16,
        /// The start of the response body, with the key (if echoed) masked.
        body: String,
    },
    #[error("unparseable model list: {0}")]
    Parse(String),
    #[error("{url} answered with an unparseable model list: {detail}")]
    Unparseable { url: String, detail: String },
}

// ---------------------------------------------------------------------------------------------
// Parsers
// ---------------------------------------------------------------------------------------------

fn parse_json(body: &[u8]) -> Result<Value, DiscoveryError> {
    serde_json::from_slice(body).map_err(|e| DiscoveryError::Parse(format!("not JSON: {e}")))
}

/// The array under `key`, or an error naming what was expected (and an upstream error message
/// if that is what came instead).
fn list_under<'a>(v: &'a Value, key: &str) -> Result<&'a Vec<Value>, DiscoveryError> {
    if let Some(items) = v.get(key).and_then(Value::as_array) {
        return Ok(items);
    }
    let upstream = v
        .get("error")
        .and_then(|e| e.get("message").or(Some(e)))
        .and_then(Value::as_str);
    Err(DiscoveryError::Parse(match upstream {
        Some(message) => format!("the answer is an error: {}", snippet(message, "")),
        None => format!("expected an object with a `{key}` array"),
    }))
}

/// A positive integer given as a number (integral float included) or a numeric string.
fn count(v: Option<&Value>) -> Option<u64> {
    let n = match v? {
        Value::Number(n) => n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f <= u64::MAX as f64)
                .map(|f| f as u64)
        }),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }?;
    (n > 0).then_some(n)
}

/// A non-negative finite number given as a number or a numeric string.
fn amount(v: Option<&Value>) -> Option<f64> {
    let f = match v? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }?;
    (f.is_finite() && f >= 0.0).then_some(f)
}

/// $ per token → $ per million tokens, rounded to shed float noise (0.000003 → 3, not 3.0000000000000004).
fn per_million(per_token: f64) -> f64 {
    (per_token * 1e12).round() / 1e6
}

fn first_count(item: &Value, keys: &[&str]) -> Option<u64> {
    keys.iter().find_map(|k| count(item.get(*k)))
}

fn string_list(v: Option<&Value>) -> Option<Vec<&str>> {
    Some(v?.as_array()?.iter().filter_map(Value::as_str).collect())
}

fn non_empty_str(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// Embedding models are named so nearly everywhere (`text-embedding-3-small`, `mistral-embed`,
/// `nomic-embed-text`); only ever a positive hint.
fn named_embedding(id: &str) -> Option<bool> {
    id.to_ascii_lowercase().contains("embed").then_some(true)
}

/// Parses an OpenAI-style model list: `{"data": [{"id", "owned_by", ...}]}` (or a bare array, as
/// Together answers). Understands the extra metadata of OpenRouter (`context_length`, `pricing`
/// in $/token, `architecture`, `supported_parameters`), Groq (`context_window`,
/// `max_completion_tokens`), Mistral (`max_context_length`, `capabilities`), vLLM
/// (`max_model_len`), Together (`context_length`, `type`, `pricing` in $/1M), Fireworks
/// (`supports_image_input`, `supports_tools`) and LM Studio's `/api/v0/models` (`type`,
/// `max_context_length`). Entries without a string `id` are skipped.
pub fn parse_openai_models(body: &[u8]) -> Result<Vec<DiscoveredModel>, DiscoveryError> {
    let v = parse_json(body)?;
    let items = match &v {
        Value::Array(items) => items,
        _ => list_under(&v, "data")?,
    };
    Ok(items.iter().filter_map(openai_model).collect())
}

fn openai_model(item: &Value) -> Option<DiscoveredModel> {
    let id = item.get("id")?.as_str()?;
    let mut m = DiscoveredModel::new(id);
    let top = item.get("top_provider");
    let arch = item.get("architecture");
    let caps = item.get("capabilities");
    let kind = item
        .get("type")
        .and_then(Value::as_str)
        .map(str::to_ascii_lowercase);
    let params = string_list(item.get("supported_parameters"));

    m.context_window = first_count(
        item,
        &[
            "context_length",
            "context_window",
            "max_context_length",
            "max_model_len",
        ],
    )
    .or_else(|| count(top.and_then(|t| t.get("context_length"))));
    m.max_output = count(top.and_then(|t| t.get("max_completion_tokens")))
        .or_else(|| first_count(item, &["max_completion_tokens", "max_output_tokens"]));

    if let Some(pricing) = item.get("pricing") {
        // OpenRouter: strings of $ per token (negative for "variable", e.g. its auto router).
        // Together: numbers of $ per million tokens.
        m.input_price = amount(pricing.get("prompt"))
            .map(per_million)
            .or_else(|| amount(pricing.get("input")));
        m.output_price = amount(pricing.get("completion"))
            .map(per_million)
            .or_else(|| amount(pricing.get("output")));
    }

    let input_modalities = string_list(arch.and_then(|a| a.get("input_modalities")));
    let output_modalities = string_list(arch.and_then(|a| a.get("output_modalities")));
    m.vision = input_modalities
        .map(|ms| ms.contains(&"image"))
        .or_else(|| {
            let modality = arch?.get("modality")?.as_str()?;
            let (inputs, _) = modality.split_once("->")?;
            Some(inputs.contains("image"))
        })
        .or_else(|| caps?.get("vision")?.as_bool())
        .or_else(|| item.get("supports_image_input")?.as_bool())
        .or_else(|| (kind.as_deref() == Some("vlm")).then_some(true));
    m.tools = params
        .as_ref()
        .map(|ps| ps.contains(&"tools"))
        .or_else(|| caps?.get("function_calling")?.as_bool())
        .or_else(|| item.get("supports_tools")?.as_bool());
    m.reasoning = params
        .as_ref()
        .map(|ps| ps.contains(&"reasoning") || ps.contains(&"include_reasoning"));
    m.embedding = output_modalities
        .map(|ms| ms.iter().any(|o| o.starts_with("embedding")))
        .or_else(|| match kind.as_deref()? {
            "embedding" | "embeddings" => Some(true),
            "llm" | "vlm" | "chat" | "language" | "code" => Some(false),
            _ => None,
        })
        .or_else(|| named_embedding(id));
    m.owned_by =
        non_empty_str(item.get("owned_by")).or_else(|| non_empty_str(item.get("organization")));
    Some(m)
}

/// Parses an Anthropic model list page: `{"data": [{"id", "type": "model", "display_name",
/// "created_at", ...}], "has_more", "last_id"}`. Optional `capabilities` (`image_input`,
/// `thinking`), `max_input_tokens` and `max_tokens` are read when present.
pub fn parse_anthropic_models(body: &[u8]) -> Result<Vec<DiscoveredModel>, DiscoveryError> {
    parse_anthropic_page(body).map(|page| page.models)
}

struct AnthropicPage {
    models: Vec<DiscoveredModel>,
    /// The cursor for the next page, when there is one.
    next: Option<String>,
}

fn parse_anthropic_page(body: &[u8]) -> Result<AnthropicPage, DiscoveryError> {
    let v = parse_json(body)?;
    let items = list_under(&v, "data")?;
    let models: Vec<DiscoveredModel> = items
        .iter()
        .filter_map(|item| {
            let mut m = DiscoveredModel::new(item.get("id")?.as_str()?);
            let supported = |name: &str| {
                item.get("capabilities")?
                    .get(name)?
                    .get("supported")?
                    .as_bool()
            };
            m.vision = supported("image_input");
            m.reasoning = supported("thinking");
            m.context_window = count(item.get("max_input_tokens"));
            m.max_output = count(item.get("max_tokens"));
            Some(m)
        })
        .collect();
    let has_more = v.get("has_more").and_then(Value::as_bool) == Some(true);
    let next = has_more
        .then(|| non_empty_str(v.get("last_id")))
        .flatten()
        .or_else(|| {
            has_more
                .then(|| models.last().map(|m| m.id.clone()))
                .flatten()
        });
    Ok(AnthropicPage { models, next })
}

/// Parses Ollama's `GET /api/tags`: `{"models": [{"name", "model", "details": {"family",
/// "families", "parameter_size", ...}}]}`. A `clip` or `mllama` family (a vision projector)
/// means vision; an `embed` name or a BERT family means an embedding model.
pub fn parse_ollama_tags(body: &[u8]) -> Result<Vec<DiscoveredModel>, DiscoveryError> {
    let v = parse_json(body)?;
    let items = list_under(&v, "models")?;
    Ok(items
        .iter()
        .filter_map(|item| {
            let id =
                non_empty_str(item.get("name")).or_else(|| non_empty_str(item.get("model")))?;
            let mut m = DiscoveredModel::new(&id);
            let details = item.get("details");
            let family = details
                .and_then(|d| d.get("family"))
                .and_then(Value::as_str);
            let families = string_list(details.and_then(|d| d.get("families"))).unwrap_or_default();
            let has_family = |f: &str| family == Some(f) || families.contains(&f);
            // Newer vision models (gemma3, qwen2.5vl…) show no projector family, so absence
            // proves nothing: only ever a positive answer.
            m.vision = (has_family("clip") || has_family("mllama")).then_some(true);
            m.embedding = named_embedding(&id)
                .or_else(|| (has_family("bert") || has_family("nomic-bert")).then_some(true));
            Some(m)
        })
        .collect())
}

// ---------------------------------------------------------------------------------------------
// Fetching
// ---------------------------------------------------------------------------------------------

/// An HTTP client for [`list_models`]: 2 s connect timeout, no redirects.
pub fn discovery_client() -> Result<reqwest::Client, DiscoveryError> {
    build_client(CONNECT_TIMEOUT, REQUEST_TIMEOUT, false)
}

fn build_client(
    connect: Duration,
    total: Duration,
    no_proxy: bool,
) -> Result<reqwest::Client, DiscoveryError> {
    crate::providers::install_crypto_provider();
    let mut builder = reqwest::Client::builder()
        .connect_timeout(connect)
        .timeout(total)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("switchyard/", env!("CARGO_PKG_VERSION")));
    if no_proxy {
        builder = builder.no_proxy();
    }
    builder
        .build()
        .map_err(|e| DiscoveryError::Client(crate::providers::error_chain(&e)))
}

/// Fetches a provider's model list. `base_url` is the configured base (e.g.
/// `http://127.0.0.1:11434/v1`); Ollama style asks the URL root (a trailing `/v1` stripped) for
/// `/api/tags`, Anthropic style asks `{base}/v1/models` (following pages). `key` is the raw key,
/// sent per `auth`. The request is bounded by [`REQUEST_TIMEOUT`]; build the client with
/// [`discovery_client`] for the matching connect timeout.
pub async fn list_models(
    client: &reqwest::Client,
    base_url: &str,
    auth: AuthStyle,
    key: Option<&str>,
    style: ModelListStyle,
) -> Result<Vec<DiscoveredModel>, DiscoveryError> {
    fetch_models(client, base_url, auth, key, style, REQUEST_TIMEOUT).await
}

async fn fetch_models(
    client: &reqwest::Client,
    base_url: &str,
    auth: AuthStyle,
    key: Option<&str>,
    style: ModelListStyle,
    timeout: Duration,
) -> Result<Vec<DiscoveredModel>, DiscoveryError> {
    if style == ModelListStyle::None {
        return Err(DiscoveryError::Unsupported);
    }
    let url = models_url(base_url, style)?;
    let key = key.map(str::trim).filter(|k| !k.is_empty());
    let headers = request_headers(auth, key, style)?;
    let get = |url: reqwest::Url| fetch(client, url, headers.clone(), key, timeout);
    match style {
        ModelListStyle::None => Err(DiscoveryError::Unsupported),
        ModelListStyle::OpenAi => {
            parse_openai_models(&get(url.clone()).await?).map_err(|e| unparseable(&url, e))
        }
        ModelListStyle::Ollama => {
            parse_ollama_tags(&get(url.clone()).await?).map_err(|e| unparseable(&url, e))
        }
        ModelListStyle::Anthropic => {
            let mut models = Vec::new();
            let mut after: Option<String> = None;
            for _ in 0..MAX_PAGES {
                let mut page_url = url.clone();
                {
                    let mut query = page_url.query_pairs_mut();
                    query.append_pair("limit", &ANTHROPIC_PAGE_LIMIT.to_string());
                    if let Some(after) = &after {
                        query.append_pair("after_id", after);
                    }
                }
                let body = get(page_url).await?;
                let page = parse_anthropic_page(&body).map_err(|e| unparseable(&url, e))?;
                models.extend(page.models);
                match page.next {
                    Some(next) if after.as_ref() != Some(&next) => after = Some(next),
                    _ => break,
                }
            }
            Ok(models)
        }
    }
}

/// Where a style's model list lives under `base_url`.
fn models_url(base_url: &str, style: ModelListStyle) -> Result<reqwest::Url, DiscoveryError> {
    let base = base_url.trim().trim_end_matches('/');
    let bad = |detail: String| DiscoveryError::BadUrl {
        url: base_url.to_owned(),
        detail,
    };
    if base.contains('{') {
        return Err(bad(
            "it is a template: fill in the placeholder (e.g. your Azure resource name)".into(),
        ));
    }
    let url = match style {
        ModelListStyle::OpenAi | ModelListStyle::None => format!("{base}/models"),
        // Anthropic's documented base has no /v1; accept it either way.
        ModelListStyle::Anthropic if base.ends_with("/v1") => format!("{base}/models"),
        ModelListStyle::Anthropic => format!("{base}/v1/models"),
        ModelListStyle::Ollama => format!("{}/api/tags", base.strip_suffix("/v1").unwrap_or(base)),
    };
    let url = reqwest::Url::parse(&url).map_err(|e| bad(e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("not an http(s) URL".into()));
    }
    Ok(url)
}

fn request_headers(
    auth: AuthStyle,
    key: Option<&str>,
    style: ModelListStyle,
) -> Result<HeaderMap, DiscoveryError> {
    let mut headers = HeaderMap::new();
    if let Some(key) = key {
        let header = match auth {
            AuthStyle::Bearer => Some((AUTHORIZATION, format!("Bearer {key}"))),
            AuthStyle::XApiKey => Some((HeaderName::from_static("x-api-key"), key.to_owned())),
            AuthStyle::ApiKeyHeader => Some((HeaderName::from_static("api-key"), key.to_owned())),
            AuthStyle::None => None,
        };
        if let Some((name, value)) = header {
            let mut value = HeaderValue::from_str(&value).map_err(|_| DiscoveryError::BadKey)?;
            value.set_sensitive(true);
            headers.insert(name, value);
        }
    }
    if style == ModelListStyle::Anthropic {
        headers.insert(
            HeaderName::from_static("anthropic-version"),
            HeaderValue::from_static(ANTHROPIC_VERSION),
        );
    }
    Ok(headers)
}

/// GETs `url` and returns the body of a success response, bounded.
async fn fetch(
    client: &reqwest::Client,
    url: reqwest::Url,
    headers: HeaderMap,
    key: Option<&str>,
    timeout: Duration,
) -> Result<Vec<u8>, DiscoveryError> {
    let shown = display_url(&url);
    let failed = |e: reqwest::Error| classify(e, &shown, timeout);
    let mut response = client
        .get(url)
        .headers(headers)
        .header(reqwest::header::ACCEPT, "application/json")
        .timeout(timeout)
        .send()
        .await
        .map_err(failed)?;
    let status = response.status();
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(failed)? {
        if body.len() + chunk.len() > MAX_LIST_BODY {
            return Err(DiscoveryError::Request {
                url: shown,
                detail: format!("the answer is larger than {MAX_LIST_BODY} bytes"),
            });
        }
        body.extend_from_slice(&chunk);
        // An error body is only quoted in part; don't wait for all of it.
        if !status.is_success() && body.len() > 4 * ERROR_BODY_CHARS {
            break;
        }
    }
    if !status.is_success() {
        return Err(DiscoveryError::Status {
            url: shown,
            status: status.as_u16(),
            body: snippet(&String::from_utf8_lossy(&body), key.unwrap_or_default()),
        });
    }
    Ok(body)
}

fn classify(e: reqwest::Error, url: &str, timeout: Duration) -> DiscoveryError {
    let url = url.to_owned();
    if e.is_timeout() {
        return DiscoveryError::Timeout {
            url,
            after: timeout,
        };
    }
    let connect = e.is_connect();
    let detail = crate::providers::error_chain(&e.without_url());
    if connect {
        DiscoveryError::Connect { url, detail }
    } else {
        DiscoveryError::Request { url, detail }
    }
}

fn unparseable(url: &reqwest::Url, e: DiscoveryError) -> DiscoveryError {
    match e {
        DiscoveryError::Parse(detail) => DiscoveryError::Unparseable {
            url: display_url(url),
            detail,
        },
        other => other,
    }
}

/// The URL without user info or query, for messages.
fn display_url(url: &reqwest::Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.set_query(None);
    shown.set_fragment(None);
    shown.to_string()
}

/// The first [`ERROR_BODY_CHARS`] characters of `text` on one line, with `key` masked.
fn snippet(text: &str, key: &str) -> String {
    let masked;
    let text = if key.len() >= 4 && text.contains(key) {
        masked = text.replace(key, "***");
        masked.as_str()
    } else {
        text
    };
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut chars = flat.chars();
    let mut out: String = chars.by_ref().take(ERROR_BODY_CHARS).collect();
    if chars.next().is_some() {
        out.push('…');
    }
    if out.is_empty() {
        out.push_str("(empty body)");
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Local runtimes
// ---------------------------------------------------------------------------------------------

/// A local runtime answering on its usual port.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FoundRuntime {
    /// The preset id (`ollama`, `lmstudio`, …).
    pub preset: &'static str,
    pub base_url: String,
    pub models: Vec<DiscoveredModel>,
}

/// `(preset id, base URL)` for every local preset in the catalog, at its usual address.
#[must_use]
pub fn default_local_probes() -> Vec<(&'static str, String)> {
    catalog::presets()
        .iter()
        .filter(|p| p.local)
        .map(|p| (p.id, p.base_url.to_owned()))
        .collect()
}

/// Probes each `(preset id, base URL)` concurrently, without a key and without any proxy, with
/// a [`PROBE_CONNECT_TIMEOUT`] connect / [`PROBE_TIMEOUT`] total budget each; returns, in probe
/// order, those that answered their model list. A runtime that demands a key (Jan) or answers
/// with something else is not reported. Unknown preset ids are probed OpenAI-style.
pub async fn find_local_runtimes(probes: &[(&'static str, String)]) -> Vec<FoundRuntime> {
    let Ok(client) = build_client(PROBE_CONNECT_TIMEOUT, PROBE_TIMEOUT, true) else {
        return Vec::new();
    };
    let client = &client;
    let attempts = probes.iter().map(|(id, base_url)| async move {
        let (auth, style) = catalog::preset(id)
            .map_or((AuthStyle::None, ModelListStyle::OpenAi), |p| {
                (p.auth, p.models)
            });
        let models = fetch_models(client, base_url, auth, None, style, PROBE_TIMEOUT)
            .await
            .ok()?;
        Some(FoundRuntime {
            preset: id,
            base_url: base_url.clone(),
            models,
        })
    });
    futures_util::future::join_all(attempts)
        .await
        .into_iter()
        .flatten()
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Keys in the environment and in .env files
// ---------------------------------------------------------------------------------------------

/// A provider key present in the environment: which preset, under which variable. Never the value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FoundKey {
    pub preset: &'static str,
    pub env_var: &'static str,
}

/// For each preset, the first of its `key_env` variables that `lookup` finds set and non-blank.
/// `lookup` is `|name| std::env::var(name).ok()` in production, a map in tests.
pub fn find_env_keys(lookup: impl Fn(&str) -> Option<String>) -> Vec<FoundKey> {
    catalog::presets()
        .iter()
        .filter_map(|p| {
            let env_var = p
                .key_env
                .iter()
                .find(|var| lookup(var).is_some_and(|v| !v.trim().is_empty()))?;
            Some(FoundKey {
                preset: p.id,
                env_var,
            })
        })
        .collect()
}

/// Which preset an environment variable name conventionally belongs to
/// (`OPENAI_API_KEY` → openai).
#[must_use]
pub fn preset_for_env_var(name: &str) -> Option<&'static Preset> {
    catalog::presets()
        .iter()
        .find(|p| p.key_env.contains(&name))
}

/// A malformed `.env` line. The message never quotes the line, which may hold a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct DotenvError {
    /// 1-based.
    pub line: usize,
    pub message: String,
}

fn dotenv_error(line: usize, message: impl Into<String>) -> DotenvError {
    DotenvError {
        line,
        message: message.into(),
    }
}

/// Parses a `.env` file: `NAME=VALUE` lines, an optional `export ` prefix, `#` comment lines and
/// blank lines. Unquoted values are trimmed and end at a ` #` comment; single-quoted values are
/// literal; double-quoted values understand `\n`, `\r`, `\t`, `\"` and `\\`. Quoted values may
/// span lines. A name given twice keeps its first position and its last value.
pub fn parse_dotenv(text: &str) -> Result<Vec<(String, Sensitive)>, DotenvError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out: Vec<(String, Sensitive)> = Vec::new();
    let mut lines = text.lines().enumerate().map(|(i, line)| (i + 1, line));
    while let Some((number, line)) = lines.next() {
        let line = line.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = match line.strip_prefix("export") {
            Some(rest) if rest.starts_with([' ', '\t']) => rest.trim_start(),
            _ => line,
        };
        let Some((name, after_eq)) = line.split_once('=') else {
            return Err(dotenv_error(number, "expected NAME=VALUE"));
        };
        let name = name.trim_end();
        if !valid_env_name(name) {
            return Err(dotenv_error(
                number,
                "a variable name is letters, digits and '_', not starting with a digit",
            ));
        }
        let raw = after_eq.trim_start();
        let value = match raw.chars().next() {
            Some(quote @ ('"' | '\'')) => read_quoted(quote, &raw[1..], number, &mut lines)?,
            _ => unquoted(after_eq),
        };
        let value = Sensitive::new(value);
        match out.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = value,
            None => out.push((name.to_owned(), value)),
        }
    }
    Ok(out)
}

fn valid_env_name(name: &str) -> bool {
    name.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.'))
}

/// An unquoted value: up to a `#` that follows whitespace, trimmed.
fn unquoted(after_eq: &str) -> String {
    let mut prev_space = false;
    let mut end = after_eq.len();
    for (i, c) in after_eq.char_indices() {
        if c == '#' && prev_space {
            end = i;
            break;
        }
        prev_space = c.is_whitespace();
    }
    after_eq[..end].trim().to_owned()
}

/// A quoted value starting just after its opening quote, continuing onto following lines until
/// the closing quote.
fn read_quoted<'a>(
    quote: char,
    first: &'a str,
    start: usize,
    lines: &mut impl Iterator<Item = (usize, &'a str)>,
) -> Result<String, DotenvError> {
    let mut value = String::new();
    let (mut number, mut current) = (start, first);
    loop {
        let mut chars = current.char_indices();
        while let Some((i, c)) = chars.next() {
            if c == quote {
                let rest = current[i + c.len_utf8()..].trim_start();
                if rest.is_empty() || rest.starts_with('#') {
                    return Ok(value);
                }
                return Err(dotenv_error(
                    number,
                    "unexpected text after the closing quote",
                ));
            }
            if quote == '"' && c == '\\' {
                match chars.next().map(|(_, e)| e) {
                    Some('n') => value.push('\n'),
                    Some('r') => value.push('\r'),
                    Some('t') => value.push('\t'),
                    Some(e @ ('"' | '\\')) => value.push(e),
                    Some(other) => {
                        value.push('\\');
                        value.push(other);
                    }
                    None => value.push('\\'),
                }
                continue;
            }
            value.push(c);
        }
        let Some((next_number, next)) = lines.next() else {
            let kind = if quote == '"' { "double" } else { "single" };
            return Err(dotenv_error(
                start,
                format!("this {kind}-quoted value is never closed"),
            ));
        };
        value.push('\n');
        (number, current) = (next_number, next);
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use switchyard_testkit::{Dialect, FakeUpstream, refused_base_url};

    use super::*;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    fn ids(models: &[DiscoveredModel]) -> Vec<&str> {
        models.iter().map(|m| m.id.as_str()).collect()
    }

    fn find<'a>(models: &'a [DiscoveredModel], id: &str) -> &'a DiscoveredModel {
        models
            .iter()
            .find(|m| m.id == id)
            .unwrap_or_else(|| panic!("no {id} in {:?}", ids(models)))
    }

    // --- OpenAI-style lists --------------------------------------------------------------

    #[test]
    fn openai_plain_list() {
        let body = br#"{"object":"list","data":[
            {"id":"gpt-4o-mini","object":"model","created":1721172741,"owned_by":"system"},
            {"id":"text-embedding-3-small","object":"model","created":1705948997,"owned_by":"system"},
            {"id":"dall-e-3","object":"model","created":1698785189,"owned_by":"system"}]}"#;
        let models = parse_openai_models(body).unwrap();
        assert_eq!(
            ids(&models),
            ["gpt-4o-mini", "text-embedding-3-small", "dall-e-3"]
        );
        let mini = find(&models, "gpt-4o-mini");
        assert_eq!(mini.owned_by.as_deref(), Some("system"));
        assert_eq!(
            (mini.context_window, mini.vision, mini.tools, mini.embedding),
            (None, None, None, None),
            "OpenAI gives no metadata; nothing is invented"
        );
        assert_eq!(
            find(&models, "text-embedding-3-small").embedding,
            Some(true)
        );
    }

    #[test]
    fn openrouter_metadata() {
        let body = br#"{"data":[
          {"id":"anthropic/claude-3.5-sonnet","canonical_slug":"anthropic/claude-3.5-sonnet",
           "name":"Anthropic: Claude 3.5 Sonnet","created":1729555200,"description":"New Claude.",
           "context_length":200000,
           "architecture":{"modality":"text+image->text","input_modalities":["text","image","file"],
                           "output_modalities":["text"],"tokenizer":"Claude","instruct_type":null},
           "pricing":{"prompt":"0.000003","completion":"0.000015","request":"0","image":"0.0048",
                      "web_search":"0","internal_reasoning":"0","input_cache_read":"0.0000003"},
           "top_provider":{"context_length":200000,"max_completion_tokens":8192,"is_moderated":true},
           "per_request_limits":null,
           "supported_parameters":["max_tokens","temperature","tools","tool_choice","stop"]},
          {"id":"deepseek/deepseek-r1:free","name":"DeepSeek: R1 (free)","context_length":163840,
           "architecture":{"modality":"text->text","input_modalities":["text"],"output_modalities":["text"]},
           "pricing":{"prompt":"0","completion":"0"},
           "top_provider":{"context_length":163840,"max_completion_tokens":null,"is_moderated":false},
           "supported_parameters":["max_tokens","temperature","reasoning","include_reasoning"]},
          {"id":"openrouter/auto","context_length":2000000,
           "architecture":{"modality":"text->text"},
           "pricing":{"prompt":"-1","completion":"-1"},"top_provider":{"is_moderated":false}},
          {"id":"openai/text-embedding-3-large","context_length":8192,
           "architecture":{"input_modalities":["text"],"output_modalities":["embeddings"]},
           "pricing":{"prompt":"0.00000013","completion":"0"}}]}"#;
        let models = parse_openai_models(body).unwrap();
        let sonnet = find(&models, "anthropic/claude-3.5-sonnet");
        assert_eq!(sonnet.context_window, Some(200_000));
        assert_eq!(sonnet.max_output, Some(8192));
        assert_eq!(sonnet.input_price, Some(3.0));
        assert_eq!(sonnet.output_price, Some(15.0));
        assert_eq!(sonnet.vision, Some(true));
        assert_eq!(sonnet.tools, Some(true));
        assert_eq!(sonnet.reasoning, Some(false));
        assert_eq!(sonnet.embedding, Some(false));

        let r1 = find(&models, "deepseek/deepseek-r1:free");
        assert_eq!((r1.input_price, r1.output_price), (Some(0.0), Some(0.0)));
        assert_eq!(r1.max_output, None, "null is no number");
        assert_eq!(
            (r1.vision, r1.tools, r1.reasoning),
            (Some(false), Some(false), Some(true))
        );

        let auto = find(&models, "openrouter/auto");
        assert_eq!(
            (auto.input_price, auto.output_price),
            (None, None),
            "-1 means variable"
        );
        assert_eq!(auto.vision, Some(false), "from the older `modality` string");
        assert_eq!(auto.tools, None);

        let emb = find(&models, "openai/text-embedding-3-large");
        assert_eq!(emb.embedding, Some(true));
        assert_eq!(emb.input_price, Some(0.13));
    }

    #[test]
    fn groq_mistral_vllm_fireworks_metadata() {
        let groq = br#"{"object":"list","data":[{"id":"llama-3.3-70b-versatile","object":"model",
            "created":1733447754,"owned_by":"Meta","active":true,"context_window":131072,
            "public_apps":null,"max_completion_tokens":32768}]}"#;
        let m = &parse_openai_models(groq).unwrap()[0];
        assert_eq!(
            (m.context_window, m.max_output),
            (Some(131_072), Some(32_768))
        );
        assert_eq!(m.owned_by.as_deref(), Some("Meta"));

        let mistral = br#"{"object":"list","data":[
            {"id":"pixtral-large-latest","object":"model","created":1739000000,"owned_by":"mistralai",
             "capabilities":{"completion_chat":true,"completion_fim":false,"function_calling":true,
                             "fine_tuning":false,"vision":true,"classification":false},
             "name":"pixtral-large-2411","max_context_length":131072,"aliases":[],
             "deprecation":null,"default_model_temperature":0.7,"type":"base"},
            {"id":"mistral-embed","object":"model","owned_by":"mistralai",
             "capabilities":{"completion_chat":false,"function_calling":false,"vision":false},
             "max_context_length":8192,"type":"base"}]}"#;
        let models = parse_openai_models(mistral).unwrap();
        let pixtral = find(&models, "pixtral-large-latest");
        assert_eq!(pixtral.context_window, Some(131_072));
        assert_eq!((pixtral.vision, pixtral.tools), (Some(true), Some(true)));
        assert_eq!(pixtral.embedding, None);
        let embed = find(&models, "mistral-embed");
        assert_eq!(
            (embed.vision, embed.tools, embed.embedding),
            (Some(false), Some(false), Some(true))
        );

        let vllm = br#"{"object":"list","data":[{"id":"meta-llama/Llama-3.1-8B-Instruct",
            "object":"model","created":1735000000,"owned_by":"vllm",
            "root":"meta-llama/Llama-3.1-8B-Instruct","parent":null,"max_model_len":32768,
            "permission":[{"id":"modelperm-1","object":"model_permission","allow_sampling":true}]}]}"#;
        let m = &parse_openai_models(vllm).unwrap()[0];
        assert_eq!(m.context_window, Some(32_768));
        assert_eq!(m.owned_by.as_deref(), Some("vllm"));

        let fireworks =
            br#"{"object":"list","data":[{"id":"accounts/fireworks/models/llama-v3p1-8b-instruct",
            "object":"model","owned_by":"fireworks","created":1721692800,"kind":"HF_BASE_MODEL",
            "supports_chat":true,"supports_image_input":false,"supports_tools":true,
            "context_length":131072}]}"#;
        let m = &parse_openai_models(fireworks).unwrap()[0];
        assert_eq!(
            (m.vision, m.tools, m.context_window),
            (Some(false), Some(true), Some(131_072))
        );
    }

    #[test]
    fn together_bare_array_and_lm_studio_v0() {
        let together = br#"[
            {"id":"meta-llama/Llama-3.3-70B-Instruct-Turbo","object":"model","created":1733000000,
             "type":"chat","running":false,"display_name":"Meta Llama 3.3 70B Instruct Turbo",
             "organization":"Meta","context_length":131072,
             "pricing":{"hourly":0,"input":0.88,"output":0.88,"base":0,"finetune":0}},
            {"id":"BAAI/bge-large-en-v1.5","object":"model","type":"embedding","organization":"BAAI",
             "context_length":512,"pricing":{"input":0.02,"output":0.02}}]"#;
        let models = parse_openai_models(together).unwrap();
        let llama = find(&models, "meta-llama/Llama-3.3-70B-Instruct-Turbo");
        assert_eq!(
            (llama.input_price, llama.output_price),
            (Some(0.88), Some(0.88))
        );
        assert_eq!(llama.owned_by.as_deref(), Some("Meta"));
        assert_eq!(llama.embedding, Some(false));
        assert_eq!(
            find(&models, "BAAI/bge-large-en-v1.5").embedding,
            Some(true)
        );

        let lmstudio = br#"{"object":"list","data":[
            {"id":"qwen2-vl-7b-instruct","object":"model","type":"vlm","publisher":"mlx-community",
             "arch":"qwen2_vl","compatibility_type":"mlx","quantization":"4bit","state":"not-loaded",
             "max_context_length":32768},
            {"id":"meta-llama-3.1-8b-instruct","object":"model","type":"llm","publisher":"lmstudio-community",
             "arch":"llama","compatibility_type":"gguf","quantization":"Q4_K_M","state":"loaded",
             "max_context_length":131072},
            {"id":"text-embedding-nomic-embed-text-v1.5","object":"model","type":"embeddings",
             "publisher":"nomic-ai","arch":"nomic-bert","state":"not-loaded","max_context_length":2048}]}"#;
        let models = parse_openai_models(lmstudio).unwrap();
        let vl = find(&models, "qwen2-vl-7b-instruct");
        assert_eq!(
            (vl.vision, vl.embedding, vl.context_window),
            (Some(true), Some(false), Some(32_768))
        );
        let llm = find(&models, "meta-llama-3.1-8b-instruct");
        assert_eq!((llm.vision, llm.embedding), (None, Some(false)));
        assert_eq!(
            find(&models, "text-embedding-nomic-embed-text-v1.5").embedding,
            Some(true)
        );
    }

    #[test]
    fn openai_lenient_numbers_and_bad_entries() {
        let body = br#"{"data":[
            {"id":"a","context_length":"4096","max_output_tokens":1024.0},
            {"id":"b","context_length":0,"max_completion_tokens":-5},
            {"object":"model"},
            {"id":42},
            "c"]}"#;
        let models = parse_openai_models(body).unwrap();
        assert_eq!(
            ids(&models),
            ["a", "b"],
            "entries without a string id are skipped"
        );
        assert_eq!(
            (models[0].context_window, models[0].max_output),
            (Some(4096), Some(1024))
        );
        assert_eq!(
            (models[1].context_window, models[1].max_output),
            (None, None)
        );
        assert!(parse_openai_models(br#"{"data":[]}"#).unwrap().is_empty());
    }

    #[test]
    fn openai_unparseable_bodies() {
        let err = parse_openai_models(b"<html>502 Bad Gateway</html>").unwrap_err();
        assert!(
            matches!(&err, DiscoveryError::Parse(m) if m.starts_with("not JSON")),
            "{err}"
        );
        let err = parse_openai_models(br#"{"models":[]}"#).unwrap_err();
        assert_eq!(
            err.to_string(),
            "unparseable model list: expected an object with a `data` array"
        );
        let err = parse_openai_models(
            br#"{"error":{"message":"Incorrect API key provided: sk-pro****abcd.","type":"invalid_request_error"}}"#,
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("Incorrect API key provided"),
            "{err}"
        );
        assert!(parse_openai_models(b"").is_err());
        assert!(parse_openai_models(b"42").is_err());
    }

    #[test]
    fn per_million_sheds_float_noise() {
        assert_eq!(per_million(0.000003), 3.0);
        assert_eq!(per_million(0.0000025), 2.5);
        assert_eq!(per_million(0.00000013), 0.13);
        assert_eq!(per_million(0.0), 0.0);
    }

    // --- Anthropic ------------------------------------------------------------------------

    #[test]
    fn anthropic_list() {
        let body = br#"{"data":[
            {"type":"model","id":"claude-sonnet-4-20250514","display_name":"Claude Sonnet 4",
             "created_at":"2025-05-22T00:00:00Z"},
            {"type":"model","id":"claude-3-5-haiku-20241022","display_name":"Claude Haiku 3.5",
             "created_at":"2024-10-22T00:00:00Z"}],
            "has_more":false,"first_id":"claude-sonnet-4-20250514","last_id":"claude-3-5-haiku-20241022"}"#;
        let models = parse_anthropic_models(body).unwrap();
        assert_eq!(
            ids(&models),
            ["claude-sonnet-4-20250514", "claude-3-5-haiku-20241022"]
        );
        assert_eq!(models[0], DiscoveredModel::new("claude-sonnet-4-20250514"));
        assert!(parse_anthropic_page(body).unwrap().next.is_none());
    }

    #[test]
    fn anthropic_capabilities_and_paging() {
        let body =
            br#"{"data":[{"type":"model","id":"claude-opus-4-6","display_name":"Claude Opus 4.6",
            "created_at":"2026-02-01T00:00:00Z","max_input_tokens":200000,"max_tokens":128000,
            "capabilities":{"batch":{"supported":true},"image_input":{"supported":true},
                            "thinking":{"supported":true,"types":{"enabled":{"supported":true}}}}}],
            "has_more":true,"first_id":"claude-opus-4-6","last_id":"claude-opus-4-6"}"#;
        let page = parse_anthropic_page(body).unwrap();
        let m = &page.models[0];
        assert_eq!((m.vision, m.reasoning), (Some(true), Some(true)));
        assert_eq!(
            (m.context_window, m.max_output),
            (Some(200_000), Some(128_000))
        );
        assert_eq!(page.next.as_deref(), Some("claude-opus-4-6"));

        let err = parse_anthropic_models(
            br#"{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("invalid x-api-key"), "{err}");
    }

    // --- Ollama ---------------------------------------------------------------------------

    #[test]
    fn ollama_tags() {
        let body = br#"{"models":[
            {"name":"llama3.2:latest","model":"llama3.2:latest",
             "modified_at":"2025-01-10T10:00:00.123456789+01:00","size":2019393189,
             "digest":"a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72",
             "details":{"parent_model":"","format":"gguf","family":"llama","families":["llama"],
                        "parameter_size":"3.2B","quantization_level":"Q4_K_M"}},
            {"name":"llava:7b","model":"llava:7b","size":4733363377,
             "details":{"format":"gguf","family":"llama","families":["llama","clip"],
                        "parameter_size":"7B","quantization_level":"Q4_0"}},
            {"name":"llama3.2-vision:11b","model":"llama3.2-vision:11b",
             "details":{"format":"gguf","family":"mllama","families":["mllama"],"parameter_size":"10.7B"}},
            {"name":"nomic-embed-text:latest","model":"nomic-embed-text:latest",
             "details":{"format":"gguf","family":"nomic-bert","families":["nomic-bert"],
                        "parameter_size":"137M","quantization_level":"F16"}},
            {"name":"all-minilm:latest","model":"all-minilm:latest",
             "details":{"format":"gguf","family":"bert","families":["bert"],"parameter_size":"23M"}},
            {"name":"qwen2.5:0.5b","model":"qwen2.5:0.5b","details":{"family":"qwen2","families":null}},
            {"model":"only-model-field:latest"},
            {"size":1}]}"#;
        let models = parse_ollama_tags(body).unwrap();
        assert_eq!(
            ids(&models),
            [
                "llama3.2:latest",
                "llava:7b",
                "llama3.2-vision:11b",
                "nomic-embed-text:latest",
                "all-minilm:latest",
                "qwen2.5:0.5b",
                "only-model-field:latest"
            ]
        );
        let llama = find(&models, "llama3.2:latest");
        assert_eq!((llama.vision, llama.embedding), (None, None));
        assert_eq!(find(&models, "llava:7b").vision, Some(true));
        assert_eq!(find(&models, "llama3.2-vision:11b").vision, Some(true));
        assert_eq!(
            find(&models, "nomic-embed-text:latest").embedding,
            Some(true)
        );
        assert_eq!(find(&models, "all-minilm:latest").embedding, Some(true));
        assert_eq!(find(&models, "qwen2.5:0.5b").vision, None);

        assert!(parse_ollama_tags(br#"{"models":[]}"#).unwrap().is_empty());
        let err = parse_ollama_tags(br#"{"data":[]}"#).unwrap_err();
        assert!(err.to_string().contains("`models` array"), "{err}");
        assert!(parse_ollama_tags(b"404 page not found").is_err());
    }

    // --- URLs, headers, error text ----------------------------------------------------------

    #[test]
    fn model_list_urls() {
        let url = |base: &str, style| models_url(base, style).map(|u| u.to_string());
        assert_eq!(
            url("https://api.openai.com/v1", ModelListStyle::OpenAi).unwrap(),
            "https://api.openai.com/v1/models"
        );
        assert_eq!(
            url("https://api.groq.com/openai/v1/", ModelListStyle::OpenAi).unwrap(),
            "https://api.groq.com/openai/v1/models"
        );
        assert_eq!(
            url("https://api.anthropic.com", ModelListStyle::Anthropic).unwrap(),
            "https://api.anthropic.com/v1/models"
        );
        assert_eq!(
            url("https://api.anthropic.com/v1", ModelListStyle::Anthropic).unwrap(),
            "https://api.anthropic.com/v1/models"
        );
        assert_eq!(
            url("http://127.0.0.1:11434/v1", ModelListStyle::Ollama).unwrap(),
            "http://127.0.0.1:11434/api/tags"
        );
        assert_eq!(
            url("http://127.0.0.1:11434/", ModelListStyle::Ollama).unwrap(),
            "http://127.0.0.1:11434/api/tags"
        );
        assert!(matches!(
            url(
                "https://{resource}.openai.azure.com",
                ModelListStyle::OpenAi
            ),
            Err(DiscoveryError::BadUrl { .. })
        ));
        assert!(matches!(
            url("ftp://example.com", ModelListStyle::OpenAi),
            Err(DiscoveryError::BadUrl { .. })
        ));
        assert!(matches!(
            url("not a url", ModelListStyle::OpenAi),
            Err(DiscoveryError::BadUrl { .. })
        ));
    }

    #[test]
    fn headers_follow_the_auth_style() {
        let h = |auth, key, style| request_headers(auth, key, style).unwrap();
        let bearer = h(AuthStyle::Bearer, Some("sk-1"), ModelListStyle::OpenAi);
        assert_eq!(bearer["authorization"], "Bearer sk-1");
        assert!(bearer["authorization"].is_sensitive());
        let anthropic = h(
            AuthStyle::XApiKey,
            Some("sk-ant"),
            ModelListStyle::Anthropic,
        );
        assert_eq!(anthropic["x-api-key"], "sk-ant");
        assert_eq!(anthropic["anthropic-version"], "2023-06-01");
        assert!(anthropic.get("authorization").is_none());
        let azure = h(AuthStyle::ApiKeyHeader, Some("az"), ModelListStyle::None);
        assert_eq!(azure["api-key"], "az");
        assert!(h(AuthStyle::None, Some("ignored"), ModelListStyle::Ollama).is_empty());
        assert!(h(AuthStyle::Bearer, None, ModelListStyle::OpenAi).is_empty());
        assert_eq!(
            request_headers(AuthStyle::Bearer, Some("bad\nkey"), ModelListStyle::OpenAi),
            Err(DiscoveryError::BadKey)
        );
    }

    #[test]
    fn snippets_are_short_flat_and_masked() {
        let long = "x".repeat(500);
        let s = snippet(&long, "");
        assert_eq!(s.chars().count(), ERROR_BODY_CHARS + 1);
        assert!(s.ends_with('…'));
        assert_eq!(snippet("a\n  b\tc", ""), "a b c");
        assert_eq!(snippet("", ""), "(empty body)");
        assert_eq!(
            snippet("bad key sk-secret-123 given", "sk-secret-123"),
            "bad key *** given"
        );
        let url = reqwest::Url::parse("https://user:pw@example.com/v1/models?key=abc").unwrap();
        assert_eq!(display_url(&url), "https://example.com/v1/models");
    }

    // --- Against the fake upstream -------------------------------------------------------

    #[tokio::test]
    async fn lists_models_from_the_fake_in_each_style() -> TestResult {
        let client = discovery_client()?;
        let fake = FakeUpstream::start(Dialect::OpenAi).await?;
        let openai = list_models(
            &client,
            &fake.base_url(),
            AuthStyle::Bearer,
            Some("sk-test"),
            ModelListStyle::OpenAi,
        )
        .await?;
        assert_eq!(ids(&openai), ["fake-model"]);
        assert_eq!(openai[0].owned_by.as_deref(), Some("testkit"));

        let ollama = list_models(
            &client,
            &fake.base_url(),
            AuthStyle::None,
            Some("ignored"),
            ModelListStyle::Ollama,
        )
        .await?;
        assert_eq!(ids(&ollama), ids(&openai));

        let seen = fake.requests();
        assert_eq!(seen[0].path, "/v1/models");
        assert_eq!(seen[0].header("authorization"), Some("Bearer sk-test"));
        assert_eq!(seen[1].path, "/api/tags");
        assert_eq!(seen[1].header("authorization"), None);

        let anthropic_fake = FakeUpstream::start(Dialect::Anthropic).await?;
        let anthropic = list_models(
            &client,
            &anthropic_fake.base_url(),
            AuthStyle::XApiKey,
            Some("sk-ant-test"),
            ModelListStyle::Anthropic,
        )
        .await?;
        assert_eq!(ids(&anthropic), ["fake-model"]);
        let seen = anthropic_fake.requests();
        assert_eq!(seen[0].path, "/v1/models?limit=1000");
        assert_eq!(seen[0].header("x-api-key"), Some("sk-ant-test"));
        assert_eq!(seen[0].header("anthropic-version"), Some("2023-06-01"));
        Ok(())
    }

    #[tokio::test]
    async fn failures_name_the_url_and_never_the_key() -> TestResult {
        let client = discovery_client()?;
        let key = Some("sk-do-not-show");
        let refused = refused_base_url();
        let err = list_models(
            &client,
            &refused,
            AuthStyle::Bearer,
            key,
            ModelListStyle::OpenAi,
        )
        .await
        .unwrap_err();
        assert!(matches!(err, DiscoveryError::Connect { .. }), "{err:?}");
        let text = err.to_string();
        assert!(
            text.starts_with(&format!("cannot connect to {refused}/models")),
            "{text}"
        );
        assert!(!format!("{text} {err:?}").contains("sk-do-not-show"));

        // The fake answers unknown routes with a JSON 404.
        let fake = FakeUpstream::start(Dialect::OpenAi).await?;
        let base = format!("http://{}/nowhere", fake.addr());
        let err = list_models(
            &client,
            &base,
            AuthStyle::Bearer,
            key,
            ModelListStyle::OpenAi,
        )
        .await
        .unwrap_err();
        let DiscoveryError::Status { url, status, body } = &err else {
            panic!("{err:?}");
        };
        assert_eq!(
            (url.as_str(), *status),
            (format!("{base}/models").as_str(), 404)
        );
        assert!(body.contains("unknown route"), "{body}");
        assert!(err.to_string().contains("answered HTTP 404: {"), "{err}");
        assert!(!format!("{err} {err:?}").contains("sk-do-not-show"));

        let err = list_models(
            &client,
            &base,
            AuthStyle::ApiKeyHeader,
            key,
            ModelListStyle::None,
        )
        .await
        .unwrap_err();
        assert_eq!(err, DiscoveryError::Unsupported);
        Ok(())
    }

    #[tokio::test]
    async fn a_silent_server_times_out() -> TestResult {
        // Connections complete in the kernel's backlog; nothing ever answers.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}/v1", listener.local_addr()?);
        let client = discovery_client()?;
        let after = Duration::from_millis(200);
        let err = fetch_models(
            &client,
            &base,
            AuthStyle::None,
            None,
            ModelListStyle::OpenAi,
            after,
        )
        .await
        .unwrap_err();
        assert_eq!(
            err,
            DiscoveryError::Timeout {
                url: format!("{base}/models"),
                after
            }
        );
        assert!(
            err.to_string().ends_with("did not answer within 200ms"),
            "{err}"
        );
        Ok(())
    }

    #[tokio::test]
    async fn finds_the_runtimes_that_answer() -> TestResult {
        let ollama = FakeUpstream::start(Dialect::OpenAi).await?;
        let lmstudio = FakeUpstream::start(Dialect::OpenAi).await?;
        let anthropic = FakeUpstream::start(Dialect::Anthropic).await?;
        let probes = vec![
            ("ollama", ollama.base_url()),
            ("vllm", refused_base_url()),
            ("lmstudio", lmstudio.base_url()),
            // Answers 404 to /api/tags: not an Ollama.
            ("ollama", anthropic.base_url()),
        ];
        let found = find_local_runtimes(&probes).await;
        let summary: Vec<(&str, &str, Vec<&str>)> = found
            .iter()
            .map(|r| (r.preset, r.base_url.as_str(), ids(&r.models)))
            .collect();
        assert_eq!(
            summary,
            [
                ("ollama", ollama.base_url().as_str(), vec!["fake-model"]),
                ("lmstudio", lmstudio.base_url().as_str(), vec!["fake-model"]),
            ]
        );
        assert_eq!(ollama.requests()[0].path, "/api/tags");
        assert_eq!(lmstudio.requests()[0].path, "/v1/models");
        assert!(find_local_runtimes(&[]).await.is_empty());
        Ok(())
    }

    #[test]
    fn default_probes_cover_the_local_presets() {
        let probes = default_local_probes();
        let ids: Vec<&str> = probes.iter().map(|(id, _)| *id).collect();
        assert_eq!(ids, ["ollama", "lmstudio", "llamacpp", "vllm", "jan"]);
        assert!(
            probes
                .iter()
                .all(|(_, url)| url.starts_with("http://127.0.0.1:"))
        );
        assert!(probes.contains(&("ollama", "http://127.0.0.1:11434/v1".to_owned())));
    }

    // --- Keys -----------------------------------------------------------------------------

    #[test]
    fn env_keys_name_the_variable_never_the_value() {
        let env: HashMap<&str, &str> = HashMap::from([
            ("OPENAI_API_KEY", "sk-openai"),
            ("GOOGLE_API_KEY", "goog"),
            ("ANTHROPIC_API_KEY", "   "),
            ("GROQ_API_KEY", ""),
            ("UNRELATED", "x"),
        ]);
        let found = find_env_keys(|name| env.get(name).map(|v| (*v).to_owned()));
        assert_eq!(
            found,
            [
                FoundKey {
                    preset: "openai",
                    env_var: "OPENAI_API_KEY"
                },
                FoundKey {
                    preset: "gemini",
                    env_var: "GOOGLE_API_KEY"
                },
            ]
        );
        let json = serde_json::to_string(&found).unwrap();
        assert!(
            !json.contains("sk-openai") && !json.contains("goog\""),
            "{json}"
        );

        let both: HashMap<&str, &str> =
            HashMap::from([("GEMINI_API_KEY", "a"), ("GOOGLE_API_KEY", "b")]);
        let found = find_env_keys(|name| both.get(name).map(|v| (*v).to_owned()));
        assert_eq!(found.len(), 1, "one suggestion per preset");
        assert_eq!(
            found[0].env_var, "GEMINI_API_KEY",
            "the preferred variable first"
        );
        assert!(find_env_keys(|_| None).is_empty());
    }

    #[test]
    fn env_var_names_map_to_presets() {
        let id = |name| preset_for_env_var(name).map(|p| p.id);
        assert_eq!(id("OPENAI_API_KEY"), Some("openai"));
        assert_eq!(id("GOOGLE_API_KEY"), Some("gemini"));
        assert_eq!(id("AZURE_OPENAI_API_KEY"), Some("azure"));
        assert_eq!(id("ANTHROPIC_API_KEY"), Some("anthropic"));
        assert_eq!(id("openai_api_key"), None);
        assert_eq!(id("PATH"), None);
    }

    // --- .env -----------------------------------------------------------------------------

    fn dotenv(text: &str) -> Vec<(String, String)> {
        parse_dotenv(text)
            .unwrap_or_else(|e| panic!("{e}"))
            .into_iter()
            .map(|(k, v)| (k, v.expose().to_owned()))
            .collect()
    }

    fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
        expected
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn dotenv_basics() {
        let text = "\u{feff}# provider keys\n\
                    OPENAI_API_KEY=sk-proj-abc123\n\
                    \n\
                    export ANTHROPIC_API_KEY=sk-ant-xyz\n\
                    \texport\tGROQ_API_KEY = gsk_1  \n\
                    EMPTY=\n\
                    SPACED=   hello world   \r\n\
                    _UNDER.SCORE=1\n\
                    exportED=not-a-prefix\n\
                    export=is-a-name\n";
        assert_eq!(
            dotenv(text),
            pairs(&[
                ("OPENAI_API_KEY", "sk-proj-abc123"),
                ("ANTHROPIC_API_KEY", "sk-ant-xyz"),
                ("GROQ_API_KEY", "gsk_1"),
                ("EMPTY", ""),
                ("SPACED", "hello world"),
                ("_UNDER.SCORE", "1"),
                ("exportED", "not-a-prefix"),
                ("export", "is-a-name"),
            ])
        );
        assert!(dotenv("").is_empty());
        assert!(dotenv("# only\n\n   # comments\n").is_empty());
    }

    #[test]
    fn dotenv_comments_and_hashes() {
        let text = "A=value # a comment\n\
                    B=value#not-a-comment\n\
                    C=#starts-with-hash\n\
                    D= # only a comment\n\
                    E=url?x=1&y=2 #c\n\
                    F=a=b=c\n";
        assert_eq!(
            dotenv(text),
            pairs(&[
                ("A", "value"),
                ("B", "value#not-a-comment"),
                ("C", "#starts-with-hash"),
                ("D", ""),
                ("E", "url?x=1&y=2"),
                ("F", "a=b=c"),
            ])
        );
    }

    #[test]
    fn dotenv_quotes() {
        let text = r##"S='literal \n $HOME # not a comment'
D="line1\nline2 \"quoted\" back\\slash\ttab"
E="" # empty
H="#hash inside"
U="unknown \q escape"
M="first
second"
P='-----BEGIN KEY-----
abc
-----END KEY-----'
  X =  "spaced"   # trailing comment
"##;
        assert_eq!(
            dotenv(text),
            pairs(&[
                ("S", r"literal \n $HOME # not a comment"),
                ("D", "line1\nline2 \"quoted\" back\\slash\ttab"),
                ("E", ""),
                ("H", "#hash inside"),
                ("U", r"unknown \q escape"),
                ("M", "first\nsecond"),
                ("P", "-----BEGIN KEY-----\nabc\n-----END KEY-----"),
                ("X", "spaced"),
            ])
        );
    }

    #[test]
    fn dotenv_errors_have_line_numbers_and_no_values() {
        let err = |text: &str| parse_dotenv(text).unwrap_err();
        assert_eq!(
            err("A=1\nsk-live-secret-no-equals\n"),
            DotenvError {
                line: 2,
                message: "expected NAME=VALUE".into()
            }
        );
        assert_eq!(err("A=1\n\n=value\n").line, 3);
        assert_eq!(err("1ABC=x").line, 1);
        assert_eq!(err("MY KEY=x").line, 1);
        assert_eq!(err("MY-KEY=x").line, 1);
        assert_eq!(err("export =x").line, 1);
        let e = err("A=1\nB='sk-secret-unclosed\nC=3\n");
        assert_eq!(
            e,
            DotenvError {
                line: 2,
                message: "this single-quoted value is never closed".into()
            }
        );
        let e = err("A=\"sk-secret\" trailing\n");
        assert_eq!(e.line, 1);
        assert_eq!(e.message, "unexpected text after the closing quote");
        let e = err("A=\"multi\nline\" junk\n");
        assert_eq!(e.line, 2, "reported where the junk is");
        assert_eq!(err("Q='it''s'").line, 1);
        for e in [e, err("B='sk-secret-unclosed"), err("sk-secret")] {
            assert!(!format!("{e} {e:?}").contains("sk-secret"), "{e}");
        }
    }

    #[test]
    fn dotenv_repeats_keep_first_position_last_value() {
        assert_eq!(dotenv("A=1\nB=2\nA=3\n"), pairs(&[("A", "3"), ("B", "2")]));
    }

    #[test]
    fn dotenv_values_are_sensitive() {
        let parsed = parse_dotenv("OPENAI_API_KEY=sk-live-123").unwrap();
        assert_eq!(format!("{parsed:?}"), r#"[("OPENAI_API_KEY", ***)]"#);
    }
}
