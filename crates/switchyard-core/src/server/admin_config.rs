//! The admin API over the configuration: providers (with their keys and models), aliases,
//! client keys and settings, plus the catalog and first-run discovery. Each change is written
//! back to the config file (comments kept) and applied live. Documented in `docs/admin-api.md`.

use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::views::config::{
    AccessSettings, Added, Alias, ApiKey, ClientKey, CreatedKey, Discovery, KeyList, KeyStatus,
    LimitSettings, LogSettings, ModelsRefreshed, Provider, ProviderTest, RetrySettings,
    RoutingSettings, SecretSettings, Settings, TimeoutSettings, Tls,
};
use super::views::{ObjectList, Sorted};
use super::{AppState, JsonBody};
use crate::access::{self, Role};
use crate::catalog;
use crate::config::edit::{ConfigDoc, EditError};
use crate::config::{Config, ProviderConfig};
use crate::error::{ApiError, ErrorCode};
use crate::onboarding;
use crate::secrets::{SecretRef, SecretStore, Sensitive};

type Result<T, E = ApiError> = std::result::Result<T, E>;

fn edit_error(e: EditError) -> ApiError {
    match e {
        EditError::NotFound(m) => ApiError::of(ErrorCode::NotFound, m),
        EditError::Conflict(m) => ApiError::of(ErrorCode::Conflict, m),
        EditError::Invalid(issues) => {
            let message = issues
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ");
            let param = issues.first().map(|i| i.path.clone()).unwrap_or_default();
            let mut e = ApiError::of(
                ErrorCode::InvalidConfig,
                format!("The change was refused: {message}"),
            );
            if !param.is_empty() {
                e = e.with_param(param);
            }
            e
        }
        EditError::Io(m) => ApiError::internal(m),
    }
}

pub(super) fn bad(message: impl Into<String>, param: &str) -> ApiError {
    ApiError::of(ErrorCode::InvalidRequest, message).with_param(param)
}

pub(super) fn not_found(what: &str, name: &str) -> ApiError {
    ApiError::of(
        ErrorCode::NotFound,
        format!("There is no {what} named {name:?}."),
    )
}

pub(super) fn secret_error(e: crate::secrets::SecretError) -> ApiError {
    ApiError::of(ErrorCode::SecretStoreUnavailable, e.to_string())
}

/// Runs a change against the config file, then installs the result.
pub(super) async fn change<R>(
    state: &Arc<AppState>,
    f: impl FnOnce(&mut ConfigDoc) -> Result<R, EditError>,
) -> Result<R> {
    let Some(file) = state.config_file.clone() else {
        return Err(ApiError::of(
            ErrorCode::NoConfigFile,
            "This gateway was started without a config file, so changes cannot be saved.",
        ));
    };
    let (result, config) = file
        .edit(|doc| {
            let r = f(doc)?;
            Ok(r)
        })
        .await
        .map_err(edit_error)?;
    state.apply(config).await.map_err(|e| {
        ApiError::of(
            ErrorCode::ApplyFailed,
            format!("The file was saved but cannot be applied: {e}"),
        )
    })?;
    // Providers that list no models and were just added or enabled: read their lists.
    refresh_soon(state);
    Ok(result)
}

pub(super) fn object(body: Value, what: &str) -> Result<Map<String, Value>> {
    match body {
        Value::Object(map) => Ok(map),
        _ => Err(bad(format!("{what} must be a JSON object"), "")),
    }
}

pub(super) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::internal(e.to_string()))
}

// ---- catalog and first run ----

pub async fn catalog() -> Response {
    Json(Sorted(ObjectList::new(catalog::presets().to_vec()))).into_response()
}

pub async fn discover(State(state): State<Arc<AppState>>) -> Response {
    let config = state.runtime.load().config.clone();
    let survey = onboarding::survey(&config).await;
    Json(Sorted(Discovery {
        runtimes: survey.runtimes,
        env_keys: survey.env_keys,
        configured_presets: survey.configured_presets,
        secret_store: config.secret_store().describe(),
    }))
    .into_response()
}

/// Adds what discovery found: `{"runtimes": ["ollama"], "env_keys": ["OPENAI_API_KEY"]}`;
/// keys are copied from the environment into the secret store.
pub async fn discover_apply(
    State(state): State<Arc<AppState>>,
    JsonBody(body): JsonBody<Value>,
) -> Result<Response> {
    let pick = |field: &str| -> Vec<String> {
        body.get(field)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    };
    let (runtimes, env_keys) = (pick("runtimes"), pick("env_keys"));
    let config = state.runtime.load().config.clone();
    let mut survey = onboarding::survey(&config).await;
    survey
        .runtimes
        .retain(|r| runtimes.iter().any(|p| p == r.preset));
    survey
        .env_keys
        .retain(|k| env_keys.iter().any(|v| v == k.env_var));
    let store = config.secret_store();
    let additions =
        blocking(move || onboarding::plan(&survey, Some(&store), |v| std::env::var(v).ok()))
            .await?
            .map_err(secret_error)?;
    let names = change(&state, |doc| onboarding::add_all(doc, &additions)).await?;
    refresh_soon(&state);
    Ok((StatusCode::CREATED, Json(Sorted(Added { added: names }))).into_response())
}

fn refresh_soon(state: &Arc<AppState>) {
    let state = state.clone();
    tokio::spawn(async move {
        state.refresh_models(None, true).await;
    });
}

// ---- providers ----

fn provider_view(state: &AppState, p: &ProviderConfig) -> Provider {
    let runtime = state.runtime.load();
    let live = runtime.providers.iter().find(|q| q.name == p.name);
    let reference = p.api_key.as_ref().map(ToString::to_string);
    let api_key = match (&p.api_key, live.and_then(|l| l.key_problem())) {
        (None, _) => ApiKey {
            reference,
            status: KeyStatus::None,
            problem: None,
        },
        (Some(_), None) => ApiKey {
            reference,
            status: KeyStatus::Set,
            problem: None,
        },
        (Some(_), Some(problem)) => ApiKey {
            reference,
            status: KeyStatus::Unavailable,
            problem: Some(problem.to_string()),
        },
    };
    let discovered = state
        .discovered
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .get(&p.name)
        .map(|m| m.iter().map(|d| d.id.clone()).collect::<Vec<_>>());
    Provider {
        name: p.name.clone(),
        preset: p.preset.clone(),
        kind: if p.azure_api_version.is_some() {
            "azure"
        } else {
            p.kind.as_str()
        },
        base_url: p.base_url.clone(),
        auth: p.auth,
        api_key,
        models: p.models.clone(),
        discovered_models: discovered,
        enabled: p.enabled,
        api_version: p.azure_api_version.clone(),
        responses_api: p.responses_api,
        proxy: match &p.proxy {
            crate::config::ProxySetting::System => None,
            crate::config::ProxySetting::Direct => Some("direct".to_owned()),
            crate::config::ProxySetting::Url(u) => Some(u.clone()),
        },
        tls: Tls {
            ca_file: p.tls.ca_file.as_ref().map(|f| f.display().to_string()),
            accept_invalid_certs: p.tls.accept_invalid_certs,
        },
    }
}

/// A provider as the live config has it now; `null` when it is gone.
fn live_provider(state: &AppState, name: &str) -> Sorted<Option<Provider>> {
    let config = state.runtime.load().config.clone();
    Sorted(config.provider(name).map(|p| provider_view(state, p)))
}

pub async fn list_providers(State(state): State<Arc<AppState>>) -> Response {
    let config = state.runtime.load().config.clone();
    let data = config
        .providers
        .iter()
        .map(|p| provider_view(&state, p))
        .collect();
    Json(Sorted(ObjectList::new(data))).into_response()
}

pub async fn get_provider(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
) -> Result<Response> {
    let config = state.runtime.load().config.clone();
    let p = config
        .provider(&name)
        .ok_or_else(|| not_found("provider", &name))?;
    Ok(Json(Sorted(provider_view(&state, p))).into_response())
}

/// Takes a literal `api_key` out of a body, stores it, and puts the reference in its place.
/// `api_key` may also be a reference (`env:VAR`, `keychain:NAME`), which is kept as is.
async fn take_key(
    config: &Config,
    provider: &str,
    fields: &mut Map<String, Value>,
) -> Result<Option<KeyUndo>> {
    let Some(value) = fields.remove("api_key") else {
        return Ok(None);
    };
    match value {
        Value::Null => {
            fields.insert("api_key".into(), Value::Null);
            Ok(None)
        }
        Value::String(s) if SecretRef::parse(&s).is_ok() => {
            fields.insert("api_key".into(), Value::String(s));
            Ok(None)
        }
        Value::String(s) if !s.trim().is_empty() => {
            let store = config.secret_store();
            let name = provider.to_owned();
            let key = Sensitive::new(s.trim().to_owned());
            let saved = store.clone();
            let (previous, reference) = blocking(move || {
                let previous = saved.get(&onboarding::key_entry_name(&name))?;
                onboarding::store_provider_key(&saved, &name, &key).map(|r| (previous, r))
            })
            .await?
            .map_err(secret_error)?;
            fields.insert("api_key".into(), json!(reference.to_string()));
            Ok(Some(KeyUndo {
                store,
                entry: onboarding::key_entry_name(provider),
                previous,
            }))
        }
        _ => Err(bad(
            "api_key must be the key, or a reference like \"env:VAR\"",
            "api_key",
        )),
    }
}

/// What a stored key replaced, to put back when the change that brought it is refused.
struct KeyUndo {
    store: SecretStore,
    entry: String,
    previous: Option<Sensitive>,
}

impl KeyUndo {
    async fn undo(self) {
        let _ = blocking(move || match &self.previous {
            Some(old) => self.store.set(&self.entry, old).map(|()| true),
            None => self.store.delete(&self.entry),
        })
        .await;
    }
}

/// Runs a change that came with a new key; a refused change leaves the old key in place.
async fn change_with_key<R>(
    state: &Arc<AppState>,
    undo: Option<KeyUndo>,
    f: impl FnOnce(&mut ConfigDoc) -> Result<R, EditError>,
) -> Result<R> {
    let result = change(state, f).await;
    if result.is_err()
        && let Some(undo) = undo
    {
        undo.undo().await;
    }
    result
}

pub async fn create_provider(
    State(state): State<Arc<AppState>>,
    JsonBody(body): JsonBody<Value>,
) -> Result<Response> {
    let mut fields = object(body, "the provider")?;
    let name = match fields.remove("name") {
        Some(Value::String(n)) => n,
        _ => {
            // A preset alone names the provider after itself.
            match fields.get("preset").and_then(Value::as_str) {
                Some(p) => p.to_owned(),
                None => return Err(bad("a provider needs a name (or a preset)", "name")),
            }
        }
    };
    let config = state.runtime.load().config.clone();
    if config.provider(&name).is_some() {
        return Err(ApiError::of(
            ErrorCode::Conflict,
            format!("A provider named {name:?} exists already."),
        )
        .with_param("name"));
    }
    // Nothing half-written: a key saved for a provider that is refused goes too.
    let undo = take_key(&config, &name, &mut fields).await?;
    change_with_key(&state, undo, |doc| {
        doc.insert_entry("providers", &name, &fields)
    })
    .await?;
    refresh_soon(&state);
    let view = live_provider(&state, &name);
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

pub async fn update_provider(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    JsonBody(body): JsonBody<Value>,
) -> Result<Response> {
    let mut fields = object(body, "the change")?;
    let config = state.runtime.load().config.clone();
    if config.provider(&name).is_none() {
        return Err(not_found("provider", &name));
    }
    let undo = take_key(&config, &name, &mut fields).await?;
    change_with_key(&state, undo, |doc| {
        doc.update_entry("providers", &name, &fields)
    })
    .await?;
    let view = live_provider(&state, &name);
    Ok(Json(view).into_response())
}

pub async fn delete_provider(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
) -> Result<Response> {
    let config = state.runtime.load().config.clone();
    let Some(p) = config.provider(&name) else {
        return Err(not_found("provider", &name));
    };
    let owned_key = matches!(&p.api_key, Some(SecretRef::Keychain(k)) if *k == onboarding::key_entry_name(&name));
    change(&state, |doc| {
        doc.remove_entry("providers", &name);
        Ok(())
    })
    .await?;
    if owned_key {
        let store = config.secret_store();
        let entry = onboarding::key_entry_name(&name);
        let _ = blocking(move || store.delete(&entry)).await;
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `PUT /admin/providers/{name}/key` with `{"api_key": "…"}`: into the secret store, never
/// into the file; the answer never repeats it.
pub async fn set_provider_key(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    JsonBody(body): JsonBody<Value>,
) -> Result<Response> {
    let mut fields = object(body, "the key")?;
    if !matches!(fields.get("api_key"), Some(Value::String(_))) {
        return Err(bad("send {\"api_key\": \"…\"}", "api_key"));
    }
    let config = state.runtime.load().config.clone();
    if config.provider(&name).is_none() {
        return Err(not_found("provider", &name));
    }
    let undo = take_key(&config, &name, &mut fields).await?;
    change_with_key(&state, undo, |doc| {
        doc.update_entry("providers", &name, &fields)
    })
    .await?;
    let view = live_provider(&state, &name);
    Ok(Json(view).into_response())
}

/// Checks that a provider answers, by listing its models.
pub async fn test_provider(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
) -> Result<Response> {
    let runtime = state.runtime.load_full();
    let (Some(p), Some(pc)) = (
        runtime.providers.iter().find(|p| p.name == name),
        runtime.config.provider(&name),
    ) else {
        return Err(not_found("provider", &name));
    };
    if let Some(problem) = p.key_problem() {
        return Ok(Json(Sorted(ProviderTest {
            ok: Some(false),
            error: Some(problem.to_string()),
            ..ProviderTest::default()
        }))
        .into_response());
    }
    if pc.list_style == crate::config::ModelListStyle::None {
        return Ok(Json(Sorted(ProviderTest {
            ok: None,
            error: Some(
                "this provider has no model list to test against; send a chat to check it"
                    .to_owned(),
            ),
            ..ProviderTest::default()
        }))
        .into_response());
    }
    let started = Instant::now();
    let found = crate::discovery::list_models(
        p.client(),
        p.base_url(),
        pc.auth,
        p.raw_key(),
        pc.list_style,
    )
    .await;
    let latency_ms = Some(u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX));
    Ok(Json(Sorted(match found {
        Ok(models) => ProviderTest {
            ok: Some(true),
            latency_ms,
            models: Some(models.len()),
            error: None,
        },
        Err(e) => ProviderTest {
            ok: Some(false),
            latency_ms,
            models: None,
            error: Some(e.to_string()),
        },
    }))
    .into_response())
}

pub async fn provider_models(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
) -> Result<Response> {
    let runtime = state.runtime.load_full();
    if runtime.config.provider(&name).is_none() {
        return Err(not_found("provider", &name));
    }
    let data = runtime
        .models
        .data
        .iter()
        .filter(|m| m.provider.as_deref() == Some(name.as_str()))
        .collect();
    Ok(Json(Sorted(ObjectList::new(data))).into_response())
}

pub async fn refresh_provider_models(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
) -> Result<Response> {
    if state.runtime.load().config.provider(&name).is_none() {
        return Err(not_found("provider", &name));
    }
    let results = state.refresh_models(Some(&name), false).await;
    match results.into_iter().next() {
        Some((_, Ok(count))) => Ok(Json(Sorted(ModelsRefreshed {
            ok: true,
            models: count,
        }))
        .into_response()),
        Some((_, Err(e))) => Err(ApiError::of(ErrorCode::DiscoveryFailed, e.to_string())),
        None => Err(bad("this provider has no model list to read", "name")),
    }
}

/// `PATCH /admin/models/{provider}/{model}` with capability fields; `null` clears one.
pub async fn update_model(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<Value>,
) -> Result<Response> {
    let fields = object(body, "the capabilities")?;
    let Some((provider, model)) = id.split_once('/') else {
        return Err(bad("address a model as provider/model", "id"));
    };
    if state.runtime.load().config.provider(provider).is_none() {
        return Err(not_found("provider", provider));
    }
    let mut caps = Map::new();
    caps.insert(model.to_owned(), Value::Object(fields));
    let mut patch = Map::new();
    patch.insert("capabilities".into(), Value::Object(caps));
    change(&state, |doc| {
        doc.update_entry("providers", provider, &patch)
    })
    .await?;
    let runtime = state.runtime.load();
    let card = runtime.models.data.iter().find(|m| m.id == id);
    Ok(Json(Sorted(card)).into_response())
}

// ---- aliases ----

fn alias_view(a: &crate::config::AliasConfig) -> Sorted<Alias> {
    Sorted(Alias {
        name: a.name.clone(),
        targets: a.targets.iter().map(ToString::to_string).collect(),
        weights: a.targets.iter().map(|t| t.weight).collect(),
        strategy: a.strategy,
        fallback: a.fallback,
    })
}

/// The alias as the live config has it now; `null` when it is gone.
fn live_alias(state: &AppState, name: &str) -> Sorted<Option<Alias>> {
    let config = state.runtime.load().config.clone();
    Sorted(
        config
            .aliases
            .iter()
            .find(|a| a.name == name)
            .map(|a| alias_view(a).0),
    )
}

pub async fn list_aliases(State(state): State<Arc<AppState>>) -> Response {
    let config = state.runtime.load().config.clone();
    let data = config.aliases.iter().map(|a| alias_view(a).0).collect();
    Json(Sorted(ObjectList::new(data))).into_response()
}

pub async fn create_alias(
    State(state): State<Arc<AppState>>,
    JsonBody(body): JsonBody<Value>,
) -> Result<Response> {
    let mut fields = object(body, "the alias")?;
    let Some(Value::String(name)) = fields.remove("name") else {
        return Err(bad("an alias needs a name", "name"));
    };
    change(&state, |doc| doc.insert_entry("aliases", &name, &fields)).await?;
    let view = live_alias(&state, &name);
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

/// `PUT /admin/aliases/{name}` with `{"targets": [...]}`: creates or replaces (reordering).
pub async fn put_alias(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    JsonBody(body): JsonBody<Value>,
) -> Result<Response> {
    let mut fields = object(body, "the alias")?;
    fields.remove("name");
    let existed = state
        .runtime
        .load()
        .config
        .aliases
        .iter()
        .any(|a| a.name == name);
    change(&state, |doc| {
        if doc.entry("aliases", &name).is_some() {
            doc.update_entry("aliases", &name, &fields)
        } else {
            doc.insert_entry("aliases", &name, &fields)
        }
    })
    .await?;
    let view = live_alias(&state, &name);
    let status = if existed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(view)).into_response())
}

pub async fn get_alias(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
) -> Result<Response> {
    let config = state.runtime.load().config.clone();
    config
        .aliases
        .iter()
        .find(|a| a.name == name)
        .map(|a| Json(alias_view(a)).into_response())
        .ok_or_else(|| not_found("alias", &name))
}

pub async fn delete_alias(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
) -> Result<Response> {
    let removed = change(&state, |doc| Ok(doc.remove_entry("aliases", &name))).await?;
    if removed {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(not_found("alias", &name))
    }
}

// ---- client keys ----

pub async fn list_keys(State(state): State<Arc<AppState>>) -> Response {
    let config = state.runtime.load().config.clone();
    Json(Sorted(KeyList {
        object: "list",
        data: config.keys.iter().map(|k| ClientKey::from(&**k)).collect(),
        require_key: config.keys_required(),
    }))
    .into_response()
}

/// `POST /admin/keys` with `{"name", "role"?, "models"?}`. The key is in this answer only.
pub async fn create_key(
    State(state): State<Arc<AppState>>,
    JsonBody(body): JsonBody<Value>,
) -> Result<Response> {
    let fields = object(body, "the key")?;
    let Some(name) = fields
        .get("name")
        .and_then(Value::as_str)
        .map(str::to_owned)
    else {
        return Err(bad("a key needs a name (the app that will use it)", "name"));
    };
    let role = match fields.get("role").and_then(Value::as_str) {
        None => Role::User,
        Some(r) => Role::parse(r).ok_or_else(|| {
            bad(
                format!("unknown role {r:?} (admin, user or read-only)"),
                "role",
            )
        })?,
    };
    let models = match fields.get("models") {
        None | Some(Value::Null) => None,
        Some(Value::Array(a)) => Some(
            a.iter()
                .map(|m| m.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| bad("models must be a list of model ids", "models"))?,
        ),
        Some(_) => return Err(bad("models must be a list of model ids", "models")),
    };
    if let Some(extra) = fields
        .keys()
        .find(|k| !matches!(k.as_str(), "name" | "role" | "models"))
    {
        return Err(bad(format!("unknown field {extra:?}"), extra));
    }
    let (key, entry) =
        access::new_key_entry(role, models).map_err(|e| ApiError::internal(e.to_string()))?;
    change(&state, |doc| doc.insert_entry("keys", &name, &entry)).await?;
    let config = state.runtime.load().config.clone();
    let view = config
        .keys
        .iter()
        .find(|k| k.name == name)
        .map(|k| ClientKey::from(&**k))
        .ok_or_else(|| ApiError::internal(format!("the new key {name:?} is not in the config")))?;
    let created = CreatedKey {
        view,
        key: key.expose().to_owned(),
        note: "This is the only time the key is shown; store it now.",
    };
    Ok((StatusCode::CREATED, Json(Sorted(created))).into_response())
}

pub async fn update_key(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    JsonBody(body): JsonBody<Value>,
) -> Result<Response> {
    let fields = object(body, "the change")?;
    if let Some(extra) = fields
        .keys()
        .find(|k| !matches!(k.as_str(), "role" | "models"))
    {
        return Err(bad(
            format!("{extra:?} cannot be changed (only role and models)"),
            extra,
        ));
    }
    change(&state, |doc| doc.update_entry("keys", &name, &fields)).await?;
    let config = state.runtime.load().config.clone();
    config
        .keys
        .iter()
        .find(|k| k.name == name)
        .map(|k| Json(Sorted(ClientKey::from(&**k))).into_response())
        .ok_or_else(|| not_found("key", &name))
}

pub async fn revoke_key(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
) -> Result<Response> {
    let removed = change(&state, |doc| Ok(doc.remove_entry("keys", &name))).await?;
    if removed {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(not_found("key", &name))
    }
}

// ---- settings ----

fn settings_view(state: &AppState, c: &Config) -> Settings {
    let ms = |d: std::time::Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    Settings {
        listen: state
            .configured_listen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .unwrap_or(c.listen)
            .to_string(),
        listening_on: state.listen.get().map(ToString::to_string),
        data_dir: c.data_dir.display().to_string(),
        config_file: state
            .config_file
            .as_ref()
            .map(|f| f.path().display().to_string()),
        reload_error: state
            .reload_error
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone(),
        access: AccessSettings {
            require_key: c.access.require_key,
            keys_required: c.keys_required(),
            cors_origins: c.access.cors_origins.clone(),
            allowed_hosts: c.access.allowed_hosts.clone(),
        },
        secrets: SecretSettings {
            store: c.secret_store().describe(),
        },
        log: LogSettings {
            enabled: c.log.enabled,
            capture_bodies: c.log.settings.capture_bodies,
            max_body_bytes: c.log.settings.max_body_bytes,
            retention_days: c.log.settings.retention.as_secs() / 86_400,
            max_db_mb: c.log.settings.max_db_bytes / (1024 * 1024),
        },
        routing: RoutingSettings {
            default_strategy: c.routing.default_strategy,
            offline_fallback: c.routing.offline_fallback,
        },
        timeouts: TimeoutSettings {
            connect_ms: ms(c.timeouts.connect),
            first_token_ms: ms(c.timeouts.first_token),
            idle_ms: ms(c.timeouts.idle),
            total_ms: ms(c.timeouts.total),
        },
        retry: RetrySettings {
            rounds: c.retry.rounds,
            backoff_ms: ms(c.retry.backoff),
            max_backoff_ms: ms(c.retry.max_backoff),
        },
        limits: LimitSettings {
            max_body_bytes: c.limits.max_body_bytes,
            max_upload_bytes: c.limits.max_upload_bytes,
            shutdown_grace_ms: ms(c.limits.shutdown_grace),
        },
        restart_required: None,
    }
}

pub async fn get_settings(State(state): State<Arc<AppState>>) -> Response {
    let config = state.runtime.load().config.clone();
    Json(Sorted(settings_view(&state, &config))).into_response()
}

/// `PATCH /admin/settings` with the config file's own keys: `{"listen": …, "log": {…}}`.
/// `listen` and the log settings take effect at the next start; the answer says so.
pub async fn update_settings(
    State(state): State<Arc<AppState>>,
    JsonBody(body): JsonBody<Value>,
) -> Result<Response> {
    let fields = object(body, "the settings")?;
    // Bound once at start: the socket, the log writer, the body limit layer, the breakers.
    let restart = ["listen", "log", "data_dir", "limits", "circuit_breaker"]
        .iter()
        .any(|k| fields.contains_key(*k));
    change(&state, |doc| doc.update_settings(&fields)).await?;
    let config = state.runtime.load().config.clone();
    let mut view = settings_view(&state, &config);
    view.restart_required = Some(restart);
    Ok(Json(Sorted(view)).into_response())
}
