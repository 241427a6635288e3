//! `switchyard providers|models|keys|init`: the config file edited through the core, exactly as
//! the admin API edits it (comments kept, every change validated first). A running gateway
//! picks the changes up by itself. Keys are read from stdin or the environment, never argv.

use std::io::{BufRead as _, IsTerminal as _};
use std::path::PathBuf;
use std::process::ExitCode;

use serde_json::{Map, Value, json};
use switchyard_core::access::{self, Role};
use switchyard_core::config::edit::{ConfigDoc, ConfigFile, EditError};
use switchyard_core::config::{self, Config};
use switchyard_core::routing::{Health, Runtime};
use switchyard_core::secrets::{SecretRef, SecretStore, Sensitive};
use switchyard_core::{catalog, discovery, onboarding};

use crate::logdb::{Failure, block_on};
use crate::output::{self, Table};

#[derive(Debug, clap::Args)]
pub struct Target {
    /// Config file [default: $SWITCHYARD_HOME/config.toml]; created if missing
    #[arg(long, short, global = true)]
    config: Option<PathBuf>,
    /// Print JSON instead of a table
    #[arg(long, global = true)]
    pub(crate) json: bool,
}

impl Target {
    pub(crate) fn path(&self) -> PathBuf {
        self.config
            .clone()
            .unwrap_or_else(config::default_config_path)
    }

    /// The config as it is now; an absent file is an empty config.
    pub(crate) fn load(&self) -> Result<Config, Failure> {
        let path = self.path();
        if path.exists() {
            Ok(Config::load(&path)?)
        } else {
            Ok(Config::from_file_text("", &path).unwrap_or_default())
        }
    }

    fn file(&self) -> ConfigFile {
        ConfigFile::new(self.path(), switchyard_core::providers::check)
    }
}

/// Applies one change to the config file, validated as a whole before it is written.
pub(crate) fn edit<R>(
    target: &Target,
    change: impl FnOnce(&mut ConfigDoc) -> Result<R, EditError>,
) -> Result<(R, Config), Failure> {
    block_on(async {
        target
            .file()
            .edit(change)
            .await
            .map_err(|e| Failure::Message(e.to_string()))
    })
}

#[derive(Debug, clap::Subcommand)]
pub enum ProvidersCmd {
    /// Every provider, its key's status and its models.
    List,
    /// Add a provider, from a catalog preset (`switchyard providers catalog`) or by hand.
    Add {
        name: String,
        /// A catalog preset: openai, anthropic, gemini, groq, ollama…
        #[arg(long)]
        preset: Option<String>,
        /// openai, anthropic or azure (not needed with a preset)
        #[arg(long)]
        kind: Option<String>,
        #[arg(long)]
        base_url: Option<String>,
        /// Read the key from this environment variable at every start (kept as `env:VAR`)
        #[arg(long, conflicts_with = "key_stdin")]
        key_env: Option<String>,
        /// Read the key from stdin and keep it in the OS keychain
        #[arg(long)]
        key_stdin: bool,
        /// The models it serves, comma-separated (default: whatever it lists)
        #[arg(long, value_delimiter = ',')]
        models: Option<Vec<String>>,
    },
    /// One provider in full.
    Show {
        name: String,
    },
    /// Remove a provider (and the key Switchyard kept for it).
    Rm {
        name: String,
    },
    Enable {
        name: String,
    },
    Disable {
        name: String,
    },
    /// Store a provider's key in the OS keychain, read from stdin:
    /// `printf %s "$KEY" | switchyard providers set-key NAME`
    SetKey {
        name: String,
    },
    /// Check that a provider answers, by reading its model list.
    Test {
        name: String,
    },
    /// Add a provider for every known key in a .env file (keys go to the keychain).
    Import {
        #[arg(long, short = 'f')]
        file: PathBuf,
        /// Show what would be added, change nothing
        #[arg(long)]
        dry_run: bool,
    },
    /// The presets providers can be made from.
    Catalog,
}

#[derive(Debug, clap::Subcommand)]
pub enum ModelsCmd {
    /// Every model id clients can use, with its capabilities.
    List {
        /// Ask providers without a configured model list for theirs
        #[arg(long)]
        discover: bool,
    },
    /// One model's capability matrix, with the source of each field.
    Show {
        id: String,
        #[arg(long)]
        discover: bool,
    },
}

#[derive(Debug, clap::Subcommand)]
pub enum KeysCmd {
    /// Create a client key; it is printed once and never stored.
    Create {
        /// The app that will use it: cursor, cline, scripts…
        name: String,
        /// admin, user or read-only
        #[arg(long, default_value = "user")]
        role: String,
        /// Only these models (ids or `provider/*` patterns), comma-separated
        #[arg(long, value_delimiter = ',')]
        models: Option<Vec<String>>,
    },
    List,
    /// Revoke a key: requests with it fail from the next config reload on.
    Revoke {
        name: String,
    },
}

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// Show what was found, change nothing
    #[arg(long)]
    dry_run: bool,
    /// Keep environment keys as `env:VAR` references instead of copying them to the keychain
    #[arg(long)]
    env_refs: bool,
    /// Do not add the ready `smart` pool (tool-capable text models, the fastest first)
    #[arg(long)]
    no_smart: bool,
    #[command(flatten)]
    target: Target,
}

pub fn providers(cmd: &ProvidersCmd, target: &Target) -> Result<ExitCode, Failure> {
    match cmd {
        ProvidersCmd::List => providers_list(target),
        ProvidersCmd::Add {
            name,
            preset,
            kind,
            base_url,
            key_env,
            key_stdin,
            models,
        } => {
            let mut fields = Map::new();
            if let Some(p) = preset {
                fields.insert("preset".into(), json!(p));
            }
            if let Some(k) = kind {
                fields.insert("kind".into(), json!(k));
            }
            if let Some(u) = base_url {
                fields.insert("base_url".into(), json!(u));
            }
            if let Some(m) = models {
                fields.insert("models".into(), json!(m));
            }
            if let Some(var) = key_env {
                let reference = SecretRef::parse(&format!("env:{var}"))
                    .map_err(|e| Failure::Usage(e.to_string()))?;
                fields.insert("api_key".into(), json!(reference.to_string()));
            }
            let config = target.load()?;
            let stored = if *key_stdin {
                let key = read_key(name)?;
                let store = config.secret_store();
                let reference = onboarding::store_provider_key(&store, name, &key)
                    .map_err(|e| Failure::Message(e.to_string()))?;
                fields.insert("api_key".into(), json!(reference.to_string()));
                Some(store)
            } else {
                None
            };
            let result = edit(target, |doc| doc.insert_entry("providers", name, &fields));
            if let (Err(_), Some(store)) = (&result, stored) {
                let _ = store.delete(&onboarding::key_entry_name(name));
            }
            result?;
            crate::note(&format!(
                "added provider {name} to {}",
                target.path().display()
            ));
            Ok(ExitCode::SUCCESS)
        }
        ProvidersCmd::Show { name } => {
            let config = target.load()?;
            let p = config
                .provider(name)
                .ok_or_else(|| Failure::Message(format!("no provider named {name:?}")))?;
            let status = key_status(&config.secret_store(), p.api_key.as_ref());
            let view = json!({
                "name": p.name,
                "preset": p.preset,
                "kind": if p.azure_api_version.is_some() { "azure" } else { p.kind.as_str() },
                "base_url": p.base_url,
                "auth": p.auth,
                "api_key": p.api_key.as_ref().map(ToString::to_string),
                "key_status": status,
                "models": p.models,
                "enabled": p.enabled,
            });
            Ok(output::emit(&output::json(&view)?))
        }
        ProvidersCmd::Rm { name } => {
            let config = target.load()?;
            let Some(p) = config.provider(name) else {
                return Err(Failure::Message(format!("no provider named {name:?}")));
            };
            let owned = matches!(&p.api_key, Some(SecretRef::Keychain(k)) if *k == onboarding::key_entry_name(name));
            edit(target, |doc| {
                doc.remove_entry("providers", name);
                Ok(())
            })?;
            if owned {
                let _ = config
                    .secret_store()
                    .delete(&onboarding::key_entry_name(name));
            }
            crate::note(&format!("removed provider {name}"));
            Ok(ExitCode::SUCCESS)
        }
        ProvidersCmd::Enable { name } | ProvidersCmd::Disable { name } => {
            let enabled = matches!(cmd, ProvidersCmd::Enable { .. });
            let mut fields = Map::new();
            fields.insert("enabled".into(), json!(enabled));
            edit(target, |doc| doc.update_entry("providers", name, &fields))?;
            crate::note(&format!(
                "{} provider {name}",
                if enabled { "enabled" } else { "disabled" }
            ));
            Ok(ExitCode::SUCCESS)
        }
        ProvidersCmd::SetKey { name } => {
            let config = target.load()?;
            if config.provider(name).is_none() {
                return Err(Failure::Message(format!("no provider named {name:?}")));
            }
            let key = read_key(name)?;
            let store = config.secret_store();
            let reference = onboarding::store_provider_key(&store, name, &key)
                .map_err(|e| Failure::Message(e.to_string()))?;
            let mut fields = Map::new();
            fields.insert("api_key".into(), json!(reference.to_string()));
            edit(target, |doc| doc.update_entry("providers", name, &fields))?;
            crate::note(&format!(
                "stored the key for {name} in {}",
                store.describe()
            ));
            Ok(ExitCode::SUCCESS)
        }
        ProvidersCmd::Test { name } => provider_test(target, name),
        ProvidersCmd::Import { file, dry_run } => import(target, file, *dry_run),
        ProvidersCmd::Catalog => {
            if target.json {
                return Ok(output::emit(&output::json(&catalog::presets())?));
            }
            let mut t = Table::new(&[
                ("PRESET", false),
                ("NAME", false),
                ("BASE URL", false),
                ("KEY FROM", false),
            ]);
            for p in catalog::presets() {
                t.row(vec![
                    p.id.into(),
                    p.display_name.into(),
                    p.base_url.into(),
                    if p.key_env.is_empty() {
                        "-".into()
                    } else {
                        p.key_env.join(", ")
                    },
                ]);
            }
            let mut out = String::new();
            t.render(&mut out);
            Ok(output::emit(&out))
        }
    }
}

/// Reads a key from stdin: one line, or the whole input when piped.
fn read_key(provider: &str) -> Result<Sensitive, Failure> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        crate::note(&format!(
            "Paste the API key for {provider} and press Enter:"
        ));
    }
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .map_err(|e| Failure::Message(format!("cannot read the key from stdin: {e}")))?;
    let key = line.trim();
    if key.is_empty() {
        return Err(Failure::Usage(
            "no key on stdin: `printf %s \"$KEY\" | switchyard providers set-key NAME`".into(),
        ));
    }
    Ok(Sensitive::new(key.to_owned()))
}

fn key_status(store: &SecretStore, key: Option<&SecretRef>) -> String {
    match key {
        None => "none".into(),
        Some(r) => match r.resolve_with(store) {
            Ok(_) => "set".into(),
            Err(e) => format!("unavailable: {e}"),
        },
    }
}

fn providers_list(target: &Target) -> Result<ExitCode, Failure> {
    let config = target.load()?;
    let store = config.secret_store();
    let rows: Vec<Value> = config
        .providers
        .iter()
        .map(|p| {
            json!({
                "name": p.name,
                "preset": p.preset,
                "kind": if p.azure_api_version.is_some() { "azure" } else { p.kind.as_str() },
                "base_url": p.base_url,
                "api_key": p.api_key.as_ref().map(ToString::to_string),
                "key_status": key_status(&store, p.api_key.as_ref()),
                "models": p.models,
                "enabled": p.enabled,
            })
        })
        .collect();
    if target.json {
        return Ok(output::emit(&output::json(&rows)?));
    }
    if rows.is_empty() {
        crate::note(
            "no providers yet: `switchyard init` finds local runtimes and keys in your environment",
        );
        return Ok(ExitCode::SUCCESS);
    }
    let mut t = Table::new(&[
        ("NAME", false),
        ("KIND", false),
        ("BASE URL", false),
        ("KEY", false),
        ("MODELS", true),
        ("ENABLED", false),
    ]);
    for r in &rows {
        let s = |k: &str| r[k].as_str().unwrap_or("-").to_owned();
        let models = r["models"].as_array().map_or(0, Vec::len);
        t.row(vec![
            s("name"),
            r["preset"]
                .as_str()
                .map_or_else(|| s("kind"), str::to_owned),
            s("base_url"),
            format!("{} ({})", s("api_key"), s("key_status")),
            if models == 0 {
                "listed".into()
            } else {
                models.to_string()
            },
            if r["enabled"] == true { "yes" } else { "no" }.into(),
        ]);
    }
    let mut out = String::new();
    t.render(&mut out);
    Ok(output::emit(&out))
}

fn runtime(config: Config) -> Result<Runtime, Failure> {
    let store = config.secret_store();
    Runtime::build(config, Default::default(), &store, &Default::default())
        .map_err(|e| Failure::Message(e.to_string()))
}

fn provider_test(target: &Target, name: &str) -> Result<ExitCode, Failure> {
    let config = target.load()?;
    let pc = config
        .provider(name)
        .ok_or_else(|| Failure::Message(format!("no provider named {name:?}")))?
        .clone();
    let rt = runtime(config)?;
    let p = rt
        .providers
        .iter()
        .find(|p| p.name == name)
        .ok_or_else(|| Failure::Message(format!("no provider named {name:?}")))?;
    if let Some(problem) = p.key_problem() {
        return Err(Failure::Message(format!("{name}: {problem}")));
    }
    let started = std::time::Instant::now();
    let found = block_on(async {
        Ok(discovery::list_models(
            p.client(),
            p.base_url(),
            pc.auth,
            p.raw_key(),
            pc.list_style,
        )
        .await)
    })?;
    match found {
        Ok(models) => {
            output::emit(&format!(
                "{name}: ok, {} model(s) listed in {} ms\n",
                models.len(),
                started.elapsed().as_millis()
            ));
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => Err(Failure::Message(format!("{name}: {e}"))),
    }
}

fn import(target: &Target, file: &PathBuf, dry_run: bool) -> Result<ExitCode, Failure> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| Failure::Message(format!("cannot read {}: {e}", file.display())))?;
    let vars = discovery::parse_dotenv(&text)
        .map_err(|e| Failure::Message(format!("{}: {e}", file.display())))?;
    let config = target.load()?;
    let store = config.secret_store();
    let mut additions = Vec::new();
    for (var, value) in &vars {
        let Some(preset) = discovery::preset_for_env_var(var) else {
            continue;
        };
        if config
            .providers
            .iter()
            .any(|p| p.preset.as_deref() == Some(preset.id))
            || additions
                .iter()
                .any(|(p, _): &(&catalog::Preset, _)| p.id == preset.id)
        {
            crate::note(&format!(
                "{var}: {} is configured already, skipped",
                preset.id
            ));
            continue;
        }
        additions.push((preset, value.clone()));
    }
    if additions.is_empty() {
        crate::note(&format!("{}: no provider keys found", file.display()));
        return Ok(ExitCode::SUCCESS);
    }
    for (preset, _) in &additions {
        crate::note(&format!(
            "{}: {}",
            if dry_run { "would add" } else { "adding" },
            preset.id
        ));
    }
    if dry_run {
        return Ok(ExitCode::SUCCESS);
    }
    store.probe().map_err(|e| Failure::Message(e.to_string()))?;
    let mut planned = Vec::new();
    let mut taken: Vec<String> = config.providers.iter().map(|p| p.name.clone()).collect();
    for (preset, value) in &additions {
        // The name first: the key is stored under the entry of the provider it belongs to.
        let name = onboarding::free_name(&taken, preset.id);
        taken.push(name.clone());
        let reference = onboarding::store_provider_key(&store, &name, value)
            .map_err(|e| Failure::Message(e.to_string()))?;
        planned.push(onboarding::Addition {
            name,
            preset,
            base_url: None,
            key: Some(reference),
        });
    }
    let (names, _) = edit(target, |doc| onboarding::add_all(doc, &planned))?;
    crate::note(&format!(
        "added {} (keys in {})",
        names.join(", "),
        store.describe()
    ));
    Ok(ExitCode::SUCCESS)
}

/// The model lists of the enabled providers that configure none, read from each provider as
/// the gateway reads them; a provider that does not answer is noted and left out.
pub(crate) fn discover(config: &Config) -> Result<switchyard_core::routing::Discovered, Failure> {
    let mut discovered = switchyard_core::routing::Discovered::default();
    let rt = runtime(config.clone())?;
    block_on(async {
        for p in &rt.providers {
            let Some(pc) = rt.config.provider(&p.name) else {
                continue;
            };
            if !pc.enabled || !pc.models.is_empty() || pc.list_style == config::ModelListStyle::None
            {
                continue;
            }
            match discovery::list_models(
                p.client(),
                p.base_url(),
                pc.auth,
                p.raw_key(),
                pc.list_style,
            )
            .await
            {
                Ok(models) => {
                    discovered.insert(p.name.clone(), std::sync::Arc::new(models));
                }
                Err(e) => crate::note(&format!("{}: {e}", p.name)),
            }
        }
        Ok(())
    })?;
    Ok(discovered)
}

pub fn models(cmd: &ModelsCmd, target: &Target) -> Result<ExitCode, Failure> {
    let discover = match cmd {
        ModelsCmd::List { discover } | ModelsCmd::Show { discover, .. } => *discover,
    };
    let config = target.load()?;
    let discovered = if discover {
        self::discover(&config)?
    } else {
        Default::default()
    };
    let store = config.secret_store();
    let rt = Runtime::build(
        config,
        std::sync::Arc::new(Health::default()),
        &store,
        &discovered,
    )
    .map_err(|e| Failure::Message(e.to_string()))?;
    match cmd {
        ModelsCmd::Show { id, .. } => {
            let card = rt.models.data.iter().find(|m| m.id == *id).ok_or_else(|| {
                Failure::Message(format!("no model {id:?} (see `switchyard models list`)"))
            })?;
            Ok(output::emit(&output::json(card)?))
        }
        ModelsCmd::List { .. } => {
            if target.json {
                return Ok(output::emit(&output::json(&rt.models.data)?));
            }
            let mut t = Table::new(&[
                ("MODEL", false),
                ("PROVIDER", false),
                ("INPUT", false),
                ("TOOLS", false),
                ("REASONING", false),
                ("CONTEXT", true),
            ]);
            for m in &rt.models.data {
                let c = m.capabilities.clone().unwrap_or_default();
                let flag = |k: &str| if c[k] == true { "yes" } else { "-" }.to_owned();
                t.row(vec![
                    m.id.clone(),
                    // A route shows its kind (alias, pool, model_pool); an assistant says so.
                    m.provider
                        .clone()
                        .unwrap_or_else(|| match (&m.routing, &m.assistant) {
                            (Some(r), _) => r.kind.to_owned(),
                            (None, Some(_)) => "assistant".to_owned(),
                            (None, None) => "alias".to_owned(),
                        }),
                    c["input"]
                        .as_array()
                        .map(|a| {
                            a.iter()
                                .filter_map(Value::as_str)
                                .collect::<Vec<_>>()
                                .join("+")
                        })
                        .unwrap_or_else(|| "-".into()),
                    flag("tools"),
                    flag("reasoning"),
                    c["context_window"]
                        .as_u64()
                        .map_or_else(|| "-".into(), |n| n.to_string()),
                ]);
            }
            let mut out = String::new();
            t.render(&mut out);
            Ok(output::emit(&out))
        }
    }
}

pub fn keys(cmd: &KeysCmd, target: &Target) -> Result<ExitCode, Failure> {
    match cmd {
        KeysCmd::Create { name, role, models } => {
            let role = Role::parse(role).ok_or_else(|| {
                Failure::Usage(format!("unknown role {role:?} (admin, user or read-only)"))
            })?;
            let (key, fields) = access::new_key_entry(role, models.clone())
                .map_err(|e| Failure::Message(e.to_string()))?;
            edit(target, |doc| doc.insert_entry("keys", name, &fields))?;
            crate::note(&format!(
                "created the {role} key {name:?}; it is shown once, store it now:"
            ));
            Ok(output::emit(&format!("{}\n", key.expose())))
        }
        KeysCmd::List => {
            let config = target.load()?;
            if target.json {
                let rows: Vec<Value> = config
                    .keys
                    .iter()
                    .map(|k| json!({"name": k.name, "role": k.role, "models": k.models, "prefix": k.prefix, "created": k.created}))
                    .collect();
                return Ok(output::emit(&output::json(&rows)?));
            }
            let mut t = Table::new(&[
                ("NAME", false),
                ("ROLE", false),
                ("PREFIX", false),
                ("MODELS", false),
                ("CREATED", false),
            ]);
            for k in &config.keys {
                t.row(vec![
                    k.name.clone(),
                    k.role.to_string(),
                    k.prefix.clone().unwrap_or_else(|| "-".into()),
                    k.models
                        .as_ref()
                        .map_or_else(|| "all".into(), |m| m.join(",")),
                    k.created.clone().unwrap_or_else(|| "-".into()),
                ]);
            }
            let mut out = String::new();
            t.render(&mut out);
            Ok(output::emit(&out))
        }
        KeysCmd::Revoke { name } => {
            let (removed, _) = edit(target, |doc| Ok(doc.remove_entry("keys", name)))?;
            if removed {
                crate::note(&format!("revoked the key {name:?}"));
                Ok(ExitCode::SUCCESS)
            } else {
                Err(Failure::Message(format!("no key named {name:?}")))
            }
        }
    }
}

pub fn init(args: &InitArgs) -> Result<ExitCode, Failure> {
    let target = &args.target;
    let config = target.load()?;
    let survey = block_on(async { Ok(onboarding::survey(&config).await) })?;
    for r in &survey.runtimes {
        crate::note(&format!(
            "found {} at {} with {} model(s)",
            r.preset,
            r.base_url,
            r.models.len()
        ));
    }
    for k in &survey.env_keys {
        crate::note(&format!(
            "found {} in the environment ({})",
            k.env_var, k.preset
        ));
    }
    if survey.runtimes.is_empty() && survey.env_keys.is_empty() {
        crate::note(
            "found no local runtime (Ollama, LM Studio, llama.cpp, vLLM, Jan) and no provider key in the environment",
        );
        crate::note("add one with `switchyard providers add NAME --preset openai --key-stdin`");
        return Ok(ExitCode::SUCCESS);
    }
    let store = config.secret_store();
    let use_store = !args.env_refs;
    if use_store
        && !args.dry_run
        && let Err(e) = store.probe()
    {
        return Err(Failure::Message(format!(
            "{e}\n(or run `switchyard init --env-refs` to keep reading the keys from the environment)"
        )));
    }
    if args.dry_run {
        let plan = onboarding::plan(&survey, None, |v| std::env::var(v).ok())
            .map_err(|e| Failure::Message(e.to_string()))?;
        for a in &plan {
            crate::note(&format!("would add provider {}", a.name));
        }
        let taken = config
            .aliases
            .iter()
            .any(|a| a.name == onboarding::SMART_POOL)
            || config
                .pools
                .iter()
                .any(|p| p.name == onboarding::SMART_POOL);
        if !args.no_smart && !taken {
            crate::note(&format!("would add the pool {SMART}"));
        }
        return Ok(ExitCode::SUCCESS);
    }
    let plan = onboarding::plan(&survey, use_store.then_some(&store), |v| {
        std::env::var(v).ok()
    })
    .map_err(|e| Failure::Message(e.to_string()))?;
    if plan.is_empty() {
        crate::note("every provider found is configured already");
    } else {
        let (names, _) = edit(target, |doc| onboarding::add_all(doc, &plan))?;
        crate::note(&format!(
            "added {} to {}{}",
            names.join(", "),
            target.path().display(),
            if use_store {
                format!(" (keys in {})", store.describe())
            } else {
                String::new()
            }
        ));
    }
    if !args.no_smart {
        smart_pool(target);
    }
    Ok(ExitCode::SUCCESS)
}

/// How `init` describes the pool it offers.
const SMART: &str =
    "smart: every model that calls tools and answers in text, the fastest first (least_latency)";

/// Adds the ready `smart` pool when no alias or pool has the name. The providers are in the
/// file already, so a refusal here is told, not fatal.
fn smart_pool(target: &Target) {
    match edit(target, onboarding::add_smart_pool) {
        Ok((true, _)) => crate::note(&format!(
            "added the pool {SMART}; ask for the model \"smart\", and see its members with `switchyard pools list --discover`"
        )),
        Ok((false, _)) => crate::note(&format!(
            "an alias or pool called \"{}\" is there already; left as it is",
            onboarding::SMART_POOL
        )),
        Err(e) => crate::note(&format!(
            "did not add the pool \"{}\": {e}",
            onboarding::SMART_POOL
        )),
    }
}
