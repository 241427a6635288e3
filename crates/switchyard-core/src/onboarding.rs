//! Adding providers the way people expect: from a catalog preset and a key, and the ready
//! `smart` pool over what was found. Shared by `switchyard init`, `switchyard providers
//! add|import` and the admin API, so the CLI and the UI make exactly the same config entries.
//! Keys go to the secret store, never to the file.

use serde_json::{Map, Value, json};

use crate::catalog::{self, Preset};
use crate::config::Config;
use crate::config::edit::{ConfigDoc, EditError};
use crate::discovery::{self, FoundKey, FoundRuntime};
use crate::secrets::{SecretError, SecretRef, SecretStore, Sensitive};

/// The secret store entry that holds a provider's key.
pub fn key_entry_name(provider: &str) -> String {
    format!("provider.{provider}")
}

/// Saves a provider's key in the store and returns the reference the config keeps. Blocking.
pub fn store_provider_key(
    store: &SecretStore,
    provider: &str,
    key: &Sensitive,
) -> Result<SecretRef, SecretError> {
    let name = key_entry_name(provider);
    store.set(&name, key)?;
    Ok(SecretRef::Keychain(name))
}

/// What a first run finds on this machine.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Survey {
    /// Local runtimes answering on their usual ports, with their models.
    pub runtimes: Vec<FoundRuntime>,
    /// Provider keys present in the environment (names only, never values).
    pub env_keys: Vec<FoundKey>,
    /// Presets that are already configured (by preset, or by their URL in a hand-written
    /// entry), so nothing is offered twice.
    pub configured_presets: Vec<String>,
    /// Provider names already taken.
    pub provider_names: Vec<String>,
}

pub async fn survey(config: &Config) -> Survey {
    survey_with(config, &discovery::default_local_probes(), |v| {
        std::env::var(v).ok()
    })
    .await
}

pub async fn survey_with(
    config: &Config,
    probes: &[(&'static str, String)],
    env: impl Fn(&str) -> Option<String>,
) -> Survey {
    let configured_presets: Vec<String> = catalog::presets()
        .iter()
        .filter(|preset| {
            config.providers.iter().any(|p| {
                p.preset.as_deref() == Some(preset.id)
                    || p.base_url.trim_end_matches('/') == preset.base_url.trim_end_matches('/')
            })
        })
        .map(|preset| preset.id.to_owned())
        .collect();
    let runtimes = discovery::find_local_runtimes(probes).await;
    let env_keys = discovery::find_env_keys(env);
    Survey {
        runtimes,
        env_keys,
        configured_presets,
        provider_names: config.providers.iter().map(|p| p.name.clone()).collect(),
    }
}

/// The fields of a new `[[providers]]` entry made from a preset.
pub fn preset_entry(
    preset: &Preset,
    base_url: Option<&str>,
    key: Option<&SecretRef>,
) -> Map<String, Value> {
    let mut fields = Map::new();
    fields.insert("preset".into(), json!(preset.id));
    if let Some(url) = base_url.filter(|u| *u != preset.base_url) {
        fields.insert("base_url".into(), json!(url));
    }
    if let Some(key) = key {
        fields.insert("api_key".into(), json!(key.to_string()));
    }
    fields
}

/// A name based on `wanted` that is not in `taken` (`openai`, then `openai-2`…).
pub fn free_name(taken: &[String], wanted: &str) -> String {
    if !taken.iter().any(|n| n == wanted) {
        return wanted.to_owned();
    }
    (2..)
        .map(|i| format!("{wanted}-{i}"))
        .find(|n| !taken.contains(n))
        .unwrap_or_else(|| wanted.to_owned())
}

/// One provider to add during onboarding.
#[derive(Debug, Clone)]
pub struct Addition {
    pub name: String,
    pub preset: &'static Preset,
    pub base_url: Option<String>,
    pub key: Option<SecretRef>,
}

/// Adds each provider to the document under its planned name; returns the names.
pub fn add_all(doc: &mut ConfigDoc, additions: &[Addition]) -> Result<Vec<String>, EditError> {
    let mut names = Vec::with_capacity(additions.len());
    for a in additions {
        doc.insert_entry(
            "providers",
            &a.name,
            &preset_entry(a.preset, a.base_url.as_deref(), a.key.as_ref()),
        )?;
        names.push(a.name.clone());
    }
    Ok(names)
}

/// The name of the ready pool a first run offers.
pub const SMART_POOL: &str = "smart";

/// The fields of the ready `smart` pool: every enabled model that answers in text and can call
/// tools, the fastest first.
pub fn smart_pool_entry() -> Map<String, Value> {
    let mut require = Map::new();
    require.insert("tools".into(), json!(true));
    require.insert("output".into(), json!(["text"]));
    let mut fields = Map::new();
    fields.insert("require".into(), Value::Object(require));
    fields.insert("strategy".into(), json!("least_latency"));
    fields
}

/// Adds the `smart` pool unless an alias or a pool is already called `smart`; `true` when it
/// was added.
pub fn add_smart_pool(doc: &mut ConfigDoc) -> Result<bool, EditError> {
    if doc.entry("aliases", SMART_POOL).is_some() || doc.entry("pools", SMART_POOL).is_some() {
        return Ok(false);
    }
    doc.insert_entry("pools", SMART_POOL, &smart_pool_entry())?;
    Ok(true)
}

/// What a survey offers, as additions: every runtime found, and every key in the environment
/// whose preset is not configured yet. Env keys become `env:` references unless `store` is
/// given, in which case the key is copied into it (blocking).
pub fn plan(
    survey: &Survey,
    store: Option<&SecretStore>,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Vec<Addition>, SecretError> {
    let mut out: Vec<Addition> = Vec::new();
    // Names are settled before any key is stored, so a key never lands under another
    // provider's entry.
    let mut taken = survey.provider_names.clone();
    let mut name_for = |id: &str| {
        let name = free_name(&taken, id);
        taken.push(name.clone());
        name
    };
    for r in &survey.runtimes {
        if survey.configured_presets.iter().any(|p| p == r.preset) {
            continue;
        }
        if let Some(preset) = catalog::preset(r.preset) {
            out.push(Addition {
                name: name_for(preset.id),
                preset,
                base_url: Some(r.base_url.clone()),
                key: None,
            });
        }
    }
    for k in &survey.env_keys {
        if survey.configured_presets.iter().any(|p| p == k.preset)
            || out.iter().any(|a| a.preset.id == k.preset)
        {
            continue;
        }
        let Some(preset) = catalog::preset(k.preset) else {
            continue;
        };
        let name = name_for(preset.id);
        let key = match store {
            Some(store) => match env(k.env_var) {
                Some(value) => store_provider_key(store, &name, &Sensitive::new(value))?,
                None => continue,
            },
            None => SecretRef::Env(k.env_var.to_owned()),
        };
        out.push(Addition {
            name,
            preset,
            base_url: None,
            key: Some(key),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::{SMART_POOL, add_smart_pool};
    use crate::config::edit::ConfigDoc;
    use crate::config::{Config, Strategy};

    const PROVIDER: &str = "[[providers]]\nname = \"ollama\"\nkind = \"openai\"\nbase_url = \"http://127.0.0.1:11434/v1\"\n";

    fn load(doc: &ConfigDoc) -> Config {
        Config::from_file_text(&doc.text(), Path::new("/tmp/config.toml")).unwrap()
    }

    #[test]
    fn the_smart_pool_asks_for_tools_and_text_and_picks_the_fastest() {
        let mut doc = ConfigDoc::parse(&format!("# mine\n{PROVIDER}")).unwrap();
        assert!(add_smart_pool(&mut doc).unwrap());
        let text = doc.text();
        assert!(text.starts_with("# mine\n"), "{text}");
        let config = load(&doc);
        let pool = config.pools.iter().find(|p| p.name == SMART_POOL).unwrap();
        assert_eq!(pool.require.tools, Some(true));
        assert_eq!(pool.require.output, ["text"]);
        assert!(pool.require.input.is_empty());
        assert_eq!(pool.strategy, Strategy::LeastLatency);
        assert!(pool.providers.is_empty() && pool.models.is_empty());
        // A second run leaves the first one's pool alone.
        assert!(!add_smart_pool(&mut doc).unwrap());
        assert_eq!(doc.text(), text);
    }

    #[test]
    fn an_alias_called_smart_is_never_shadowed() {
        let mut doc = ConfigDoc::parse(&format!(
            "{PROVIDER}models = [\"qwen3\"]\n\n[[aliases]]\nname = \"smart\"\ntargets = [\"ollama/qwen3\"]\n"
        ))
        .unwrap();
        let before = doc.text();
        assert!(!add_smart_pool(&mut doc).unwrap());
        assert_eq!(doc.text(), before);
        assert!(load(&doc).pools.is_empty());
    }
}
