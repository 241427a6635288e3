//! `[[providers]]`: each entry checked against its preset, its URLs parsed, its key kept as a
//! reference, its timeouts and prices filled in.

use super::models::{Declared, Price};
use super::{
    AuthStyle, DEFAULT_AZURE_API_VERSION, ModelListStyle, NAME_RULE, ProviderConfig, ProviderKind,
    ProxySetting, SecretRef, Timeouts, TlsPolicy, expand_home, raw, timeouts_from, valid_name,
};

pub(super) fn providers(
    raw: Vec<raw::RawProvider>,
    timeouts: Timeouts,
    push: &mut impl FnMut(String, String),
) -> Vec<ProviderConfig> {
    let mut providers: Vec<ProviderConfig> = Vec::with_capacity(raw.len());
    for (i, p) in raw.into_iter().enumerate() {
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
            match Declared::from_raw(raw) {
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
        let provider_timeouts = timeouts_from(&p.timeouts, timeouts, &at("timeouts"), push);
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
                Price {
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
    providers
}
