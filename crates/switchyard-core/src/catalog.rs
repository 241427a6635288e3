//! Provider presets: what Switchyard knows about well-known upstreams (cloud APIs and local
//! runtimes) before the user configures anything — base URL, how the key is sent, where keys
//! conventionally live, how to list models. Pure data and lookup; no I/O, no config types.

use serde::Serialize;

/// The wire protocol a preset speaks. Kept apart from `config::ProviderKind` so the catalog can
/// describe upstreams the gateway may not route to yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum PresetKind {
    /// OpenAI Chat Completions (and the many APIs compatible with it).
    OpenAi,
    /// Anthropic Messages.
    Anthropic,
    /// Azure OpenAI: OpenAI's shapes under per-deployment URLs with an `api-version`.
    Azure,
}

impl PresetKind {
    /// The name used in config files: `openai`, `anthropic`, `azure`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OpenAi => "openai",
            Self::Anthropic => "anthropic",
            Self::Azure => "azure",
        }
    }
}

/// How an upstream wants its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum AuthStyle {
    /// `Authorization: Bearer KEY`.
    Bearer,
    /// `x-api-key: KEY` (Anthropic). Spelled as in the config file.
    #[serde(rename = "x-api-key")]
    XApiKey,
    /// `api-key: KEY` (Azure OpenAI).
    #[serde(rename = "api-key")]
    ApiKeyHeader,
    /// No key is ever sent.
    None,
}

/// How an upstream lists its models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum ModelListStyle {
    /// `GET {base}/models` → `{"data": [{"id", ...}]}`.
    OpenAi,
    /// `GET {base}/v1/models` with `x-api-key` and `anthropic-version`.
    Anthropic,
    /// `GET {root}/api/tags` → `{"models": [{"name", "details": {...}}]}`.
    Ollama,
    /// No listing (Azure deployments are named in the config).
    None,
}

/// A well-known upstream.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Preset {
    /// Stable identifier, also the suggested provider name.
    pub id: &'static str,
    pub display_name: &'static str,
    pub kind: PresetKind,
    /// The default base URL. When `needs_base_url` is set this is a template (with `{...}`
    /// placeholders) that only shows the shape.
    pub base_url: &'static str,
    pub auth: AuthStyle,
    /// Environment variables that conventionally hold its key, preferred first.
    pub key_env: &'static [&'static str],
    /// False for local runtimes, which accept requests without a key.
    pub key_required: bool,
    /// Runs on this machine (loopback base URL).
    pub local: bool,
    /// The user must give the base URL (Azure: one per resource).
    pub needs_base_url: bool,
    pub models: ModelListStyle,
    /// Default `api-version` query parameter (Azure).
    pub api_version: Option<&'static str>,
    pub docs_url: &'static str,
    /// Where to create a key; empty for local runtimes.
    pub key_url: &'static str,
}

/// Every preset, cloud APIs first, then local runtimes.
#[must_use]
pub fn presets() -> &'static [Preset] {
    PRESETS
}

/// The preset with this id.
#[must_use]
pub fn preset(id: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.id == id)
}

/// A cloud API speaking OpenAI's protocol with a Bearer key.
const fn cloud(
    id: &'static str,
    display_name: &'static str,
    base_url: &'static str,
    key_env: &'static [&'static str],
    docs_url: &'static str,
    key_url: &'static str,
) -> Preset {
    Preset {
        id,
        display_name,
        kind: PresetKind::OpenAi,
        base_url,
        auth: AuthStyle::Bearer,
        key_env,
        key_required: true,
        local: false,
        needs_base_url: false,
        models: ModelListStyle::OpenAi,
        api_version: None,
        docs_url,
        key_url,
    }
}

/// A runtime on this machine speaking OpenAI's protocol; a key is optional.
const fn local(
    id: &'static str,
    display_name: &'static str,
    base_url: &'static str,
    auth: AuthStyle,
    models: ModelListStyle,
    docs_url: &'static str,
) -> Preset {
    Preset {
        id,
        display_name,
        kind: PresetKind::OpenAi,
        base_url,
        auth,
        key_env: &[],
        key_required: false,
        local: true,
        needs_base_url: false,
        models,
        api_version: None,
        docs_url,
        key_url: "",
    }
}

static PRESETS: &[Preset] = &[
    cloud(
        "openai",
        "OpenAI",
        "https://api.openai.com/v1",
        &["OPENAI_API_KEY"],
        "https://platform.openai.com/docs/api-reference",
        "https://platform.openai.com/api-keys",
    ),
    Preset {
        id: "anthropic",
        display_name: "Anthropic",
        kind: PresetKind::Anthropic,
        base_url: "https://api.anthropic.com",
        auth: AuthStyle::XApiKey,
        key_env: &["ANTHROPIC_API_KEY"],
        key_required: true,
        local: false,
        needs_base_url: false,
        models: ModelListStyle::Anthropic,
        api_version: None,
        docs_url: "https://docs.anthropic.com/en/api/overview",
        key_url: "https://console.anthropic.com/settings/keys",
    },
    cloud(
        "gemini",
        "Google Gemini",
        "https://generativelanguage.googleapis.com/v1beta/openai",
        &["GEMINI_API_KEY", "GOOGLE_API_KEY"],
        "https://ai.google.dev/gemini-api/docs/openai",
        "https://aistudio.google.com/app/apikey",
    ),
    cloud(
        "openrouter",
        "OpenRouter",
        "https://openrouter.ai/api/v1",
        &["OPENROUTER_API_KEY"],
        "https://openrouter.ai/docs",
        "https://openrouter.ai/keys",
    ),
    cloud(
        "groq",
        "Groq",
        "https://api.groq.com/openai/v1",
        &["GROQ_API_KEY"],
        "https://console.groq.com/docs/openai",
        "https://console.groq.com/keys",
    ),
    cloud(
        "mistral",
        "Mistral AI",
        "https://api.mistral.ai/v1",
        &["MISTRAL_API_KEY"],
        "https://docs.mistral.ai/api/",
        "https://console.mistral.ai/api-keys",
    ),
    cloud(
        "deepseek",
        "DeepSeek",
        "https://api.deepseek.com/v1",
        &["DEEPSEEK_API_KEY"],
        "https://api-docs.deepseek.com/",
        "https://platform.deepseek.com/api_keys",
    ),
    cloud(
        "together",
        "Together AI",
        "https://api.together.xyz/v1",
        &["TOGETHER_API_KEY"],
        "https://docs.together.ai/docs/openai-api-compatibility",
        "https://api.together.xyz/settings/api-keys",
    ),
    cloud(
        "xai",
        "xAI",
        "https://api.x.ai/v1",
        &["XAI_API_KEY"],
        "https://docs.x.ai/docs/overview",
        "https://console.x.ai",
    ),
    cloud(
        "fireworks",
        "Fireworks AI",
        "https://api.fireworks.ai/inference/v1",
        &["FIREWORKS_API_KEY"],
        "https://docs.fireworks.ai/tools-sdks/openai-compatibility",
        "https://fireworks.ai/account/api-keys",
    ),
    cloud(
        "cerebras",
        "Cerebras",
        "https://api.cerebras.ai/v1",
        &["CEREBRAS_API_KEY"],
        "https://inference-docs.cerebras.ai",
        "https://cloud.cerebras.ai",
    ),
    Preset {
        id: "azure",
        display_name: "Azure OpenAI",
        kind: PresetKind::Azure,
        base_url: "https://{resource}.openai.azure.com",
        auth: AuthStyle::ApiKeyHeader,
        key_env: &["AZURE_OPENAI_API_KEY"],
        key_required: true,
        local: false,
        needs_base_url: true,
        models: ModelListStyle::None,
        api_version: Some("2024-10-21"),
        docs_url: "https://learn.microsoft.com/azure/ai-services/openai/reference",
        key_url: "https://portal.azure.com",
    },
    // Ollama has no authentication of its own; the others accept an optional Bearer key
    // (Jan's server is configured with one).
    local(
        "ollama",
        "Ollama",
        "http://127.0.0.1:11434/v1",
        AuthStyle::None,
        ModelListStyle::Ollama,
        "https://docs.ollama.com",
    ),
    local(
        "lmstudio",
        "LM Studio",
        "http://127.0.0.1:1234/v1",
        AuthStyle::Bearer,
        ModelListStyle::OpenAi,
        "https://lmstudio.ai/docs/developer/openai-compat",
    ),
    local(
        "llamacpp",
        "llama.cpp server",
        "http://127.0.0.1:8080/v1",
        AuthStyle::Bearer,
        ModelListStyle::OpenAi,
        "https://github.com/ggml-org/llama.cpp/blob/master/tools/server/README.md",
    ),
    local(
        "vllm",
        "vLLM",
        "http://127.0.0.1:8000/v1",
        AuthStyle::Bearer,
        ModelListStyle::OpenAi,
        "https://docs.vllm.ai/en/latest/serving/openai_compatible_server.html",
    ),
    local(
        "jan",
        "Jan",
        "http://127.0.0.1:1337/v1",
        AuthStyle::Bearer,
        ModelListStyle::OpenAi,
        "https://jan.ai/docs/local-api",
    ),
];

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::net::IpAddr;

    use super::*;

    fn valid_name(s: &str) -> bool {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    }

    fn is_loopback(url: &reqwest::Url) -> bool {
        let host = url.host_str().unwrap_or_default();
        let host = host.trim_start_matches('[').trim_end_matches(']');
        host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
    }

    #[test]
    fn ids_are_unique_valid_names() {
        let mut seen = HashSet::new();
        for p in presets() {
            assert!(valid_name(p.id), "{:?} is not a valid name", p.id);
            assert!(seen.insert(p.id), "{} appears twice", p.id);
            assert_eq!(preset(p.id).map(|q| q.id), Some(p.id));
        }
        assert_eq!(seen.len(), 17);
        assert!(preset("nope").is_none());
    }

    #[test]
    fn base_urls_parse_and_local_means_loopback() {
        for p in presets() {
            if p.needs_base_url {
                assert!(
                    p.base_url.contains('{'),
                    "{}: a template shows its slot",
                    p.id
                );
                assert!(!p.local, "{}", p.id);
                continue;
            }
            let url = reqwest::Url::parse(p.base_url)
                .unwrap_or_else(|e| panic!("{}: {:?}: {e}", p.id, p.base_url));
            assert!(matches!(url.scheme(), "http" | "https"), "{}", p.id);
            assert!(!p.base_url.ends_with('/'), "{}: no trailing slash", p.id);
            assert_eq!(p.local, is_loopback(&url), "{}: local ⇔ loopback", p.id);
            if !p.local {
                assert_eq!(url.scheme(), "https", "{}: cloud APIs use TLS", p.id);
            }
        }
    }

    #[test]
    fn keys_and_urls_are_consistent() {
        let mut vars = HashSet::new();
        for p in presets() {
            if p.key_required {
                assert!(!p.key_env.is_empty(), "{}: where does its key live?", p.id);
                assert!(p.key_url.starts_with("https://"), "{}", p.id);
                assert_ne!(p.auth, AuthStyle::None, "{}", p.id);
            }
            assert_eq!(p.local, !p.key_required, "{}", p.id);
            if p.local {
                assert!(p.key_url.is_empty(), "{}", p.id);
            }
            for var in p.key_env {
                assert!(
                    var.chars()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'),
                    "{var}"
                );
                assert!(vars.insert(*var), "{var} belongs to two presets");
            }
            assert!(p.docs_url.starts_with("https://"), "{}", p.id);
            assert_eq!(
                p.api_version.is_some(),
                p.kind == PresetKind::Azure,
                "{}",
                p.id
            );
        }
    }

    #[test]
    fn protocol_facts() {
        let anthropic = preset("anthropic").unwrap();
        assert_eq!(anthropic.kind, PresetKind::Anthropic);
        assert_eq!(anthropic.auth, AuthStyle::XApiKey);
        assert_eq!(anthropic.models, ModelListStyle::Anthropic);
        let azure = preset("azure").unwrap();
        assert_eq!(
            (azure.kind, azure.auth, azure.models),
            (
                PresetKind::Azure,
                AuthStyle::ApiKeyHeader,
                ModelListStyle::None
            )
        );
        assert_eq!(preset("ollama").unwrap().models, ModelListStyle::Ollama);
        assert_eq!(
            preset("gemini").unwrap().key_env,
            ["GEMINI_API_KEY", "GOOGLE_API_KEY"]
        );
        assert_eq!(
            [PresetKind::OpenAi, PresetKind::Anthropic, PresetKind::Azure].map(PresetKind::as_str),
            ["openai", "anthropic", "azure"]
        );
    }

    #[test]
    fn serializes_with_config_names() -> Result<(), serde_json::Error> {
        let v = serde_json::to_value(preset("azure"))?;
        assert_eq!(v["kind"], "azure");
        assert_eq!(v["auth"], "api-key");
        assert_eq!(v["models"], "none");
        assert_eq!(v["api_version"], "2024-10-21");
        let v = serde_json::to_value(preset("openai"))?;
        assert_eq!(v["kind"], "openai");
        assert_eq!(v["models"], "openai");
        assert_eq!(v["key_env"], serde_json::json!(["OPENAI_API_KEY"]));
        Ok(())
    }
}
