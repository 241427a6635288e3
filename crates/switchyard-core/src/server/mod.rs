//! The HTTP server: shared state, the router with its layers, and the gateway's lifecycle
//! ([`Gateway::start`] → [`GatewayHandle`]) used alike by the CLI, the desktop shell and tests.

mod admin;
mod admin_config;
mod admin_mcp;
mod admin_routing;
pub mod agent;
mod audio;
pub mod auth;
mod chat;
mod completions;
mod dialect_door;
mod doors;
mod edge;
mod embeddings;
mod extract;
mod images;
mod listen;
mod mcp_tools;
mod messages;
mod middleware;
mod models;
mod proxy;
mod recording;
mod relay;
mod responses;
mod routes;
mod sessions;
mod ui;
mod upload;
pub mod views;

pub use ui::{UiFiles, no_ui};

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderMap, HeaderValue};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use chat::chat;
pub use embeddings::embed;
pub use extract::{JsonBody, QueryParams, parse_json};
pub use recording::REQUEST_ID_HEADER;

use axum::body::Bytes;
use axum::response::{IntoResponse as _, Response};

use crate::config::Config;
use crate::config::edit::ConfigFile;
use crate::error::{ApiError, Attempt, attempts_header};
use crate::metrics::Metrics;
use crate::record::{Draft, Recorder};
use crate::routing::failover::Success;
use crate::routing::{Health, Runtime};
use crate::secrets::SecretStore;
use crate::store::{Store, WriterHandle};

pub use crate::error::ATTEMPTS_HEADER;
/// The `provider/model` that answered.
pub const TARGET_HEADER: &str = "x-switchyard-target";

/// State shared by every request. The routing table is swapped whole on reload.
#[derive(Debug)]
pub struct AppState {
    pub runtime: ArcSwap<Runtime>,
    pub health: Arc<Health>,
    /// Model lists read from the upstreams; they outlive config generations.
    pub discovered: std::sync::Mutex<crate::routing::Discovered>,
    /// The file the config came from, when there is one: admin edits are written back to it
    /// and edits made to it by hand are picked up.
    pub config_file: Option<Arc<ConfigFile>>,
    /// The address actually bound, which a reload cannot change.
    pub listen: std::sync::OnceLock<SocketAddr>,
    /// `listen` as the config file has it now (applied at the next start).
    pub configured_listen: std::sync::Mutex<Option<SocketAddr>>,
    /// Serialises reloads so that generations are installed in order.
    reload_lock: tokio::sync::Mutex<()>,
    /// Paused by the user (the desktop tray): `/v1` answers 503 until resumed; the UI and the
    /// admin API keep working.
    pub paused: std::sync::atomic::AtomicBool,
    /// Why the last reload from disk was refused, while the file stays invalid.
    pub reload_error: std::sync::Mutex<Option<String>>,
    pub started: Instant,
    pub metrics: Metrics,
    pub recorder: Recorder,
    /// The request log, when logging is on.
    pub store: Option<Store>,
    /// The database, for what is kept whether or not requests are logged (playground sessions).
    pub db: Option<Store>,
    /// Cancelled when the shutdown grace period is over: requests still running end now, and
    /// still get their rows in the log.
    pub hard_stop: CancellationToken,
    /// The MCP servers the tool loop uses.
    pub mcp: crate::mcp::McpHub,
    /// Agent-mode tool calls waiting for the user's approval.
    pub approvals: agent::Approvals,
    /// Ends the `/mcp` endpoint's sessions and streams at shutdown.
    pub mcp_stop: CancellationToken,
    /// The built UI served at `/ui/`, as the embedding binary passed it.
    pub ui: UiFiles,
}

/// Why a new config could not be put in place. The old one stays live.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error(transparent)]
    Build(#[from] crate::routing::BuildError),
    /// The task building the new routing table panicked or was cancelled.
    #[error("reload failed: {0}")]
    Interrupted(#[from] tokio::task::JoinError),
}

impl AppState {
    /// The secret store the live config names.
    pub fn secret_store(&self) -> SecretStore {
        self.runtime.load().config.secret_store()
    }

    /// Installs a new config. Requests already running finish on the generation they started
    /// with. Provider keys are read here, off the async threads.
    pub async fn apply(self: &Arc<Self>, mut config: Config) -> Result<(), ApplyError> {
        let _guard = self.reload_lock.lock().await;
        *self
            .configured_listen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(config.listen);
        if let Some(listen) = self.listen.get() {
            // The socket is bound once; a changed `listen` waits for a restart.
            config.listen = *listen;
        }
        let health = self.health.clone();
        let discovered = self
            .discovered
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        let runtime = tokio::task::spawn_blocking(move || {
            let secrets = config.secret_store();
            Runtime::build(config, health, &secrets, &discovered)
        })
        .await??;
        for p in &runtime.providers {
            if let Some(problem) = p.key_problem() {
                tracing::warn!(provider = %p.name, "{problem}; its requests will fail until it is set");
            }
        }
        self.mcp.apply(
            &runtime.config.mcp_servers,
            Some(runtime.config.secret_store()),
        );
        self.runtime.store(Arc::new(runtime));
        Ok(())
    }

    /// Reads the model lists of the named provider, or of every enabled one that can list
    /// them, then rebuilds the routing table with what was found.
    pub async fn refresh_models(
        self: &Arc<Self>,
        only: Option<&str>,
        missing_only: bool,
    ) -> Vec<(String, Result<usize, crate::discovery::DiscoveryError>)> {
        let runtime = self.runtime.load_full();
        let mut jobs = Vec::new();
        for p in &runtime.providers {
            let Some(pc) = runtime.config.provider(&p.name) else {
                continue;
            };
            let known = self
                .discovered
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .contains_key(&p.name);
            let wanted = match only {
                Some(name) => name == p.name,
                None => pc.enabled && (!missing_only || (pc.models.is_empty() && !known)),
            };
            if !wanted || pc.list_style == crate::config::ModelListStyle::None {
                continue;
            }
            let p = p.clone();
            let style = pc.list_style;
            let auth = pc.auth;
            jobs.push(async move {
                let found = crate::discovery::list_models(
                    p.client(),
                    p.base_url(),
                    auth,
                    p.raw_key(),
                    style,
                )
                .await;
                (p.name.clone(), found)
            });
        }
        let results = futures_util::future::join_all(jobs).await;
        let mut summary = Vec::with_capacity(results.len());
        let mut changed = false;
        {
            let mut discovered = self
                .discovered
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            for (name, found) in results {
                match found {
                    Ok(models) => {
                        summary.push((name.clone(), Ok(models.len())));
                        discovered.insert(name, Arc::new(models));
                        changed = true;
                    }
                    Err(e) => {
                        tracing::warn!(provider = %name, "cannot list its models: {e}");
                        summary.push((name, Err(e)));
                    }
                }
            }
        }
        if changed {
            let config = (*self.runtime.load().config).clone();
            if let Err(e) = self.apply(config).await {
                tracing::warn!("cannot apply the discovered models: {e}");
            }
        }
        summary
    }

    pub fn circuits(&self) -> Vec<(String, crate::routing::circuit::CircuitState)> {
        self.health
            .snapshot()
            .into_iter()
            .map(|(target, b)| (target, b.state()))
            .collect()
    }
}

/// Notes in the log draft who answered, after which attempts, at what price.
fn note_target<T>(draft: &Draft, runtime: &Runtime, ok: &Success<'_, T>) {
    if !draft.is_attached() {
        return;
    }
    let (target, attempts) = (ok.target, &ok.attempts);
    let price = runtime
        .config
        .provider(&target.provider.name)
        .and_then(|p| p.prices.get(&target.model))
        .copied();
    draft.update(|d| {
        d.provider = Some(target.provider.name.clone());
        d.model = Some(target.model.clone());
        d.attempts.clone_from(attempts);
        d.strategy = ok.strategy;
        d.price = price;
    });
}

/// Answers an error, noting it (and the attempts behind it) in the log draft.
fn fail(draft: &Draft, e: ApiError) -> Response {
    let body = e.render();
    if draft.is_attached() {
        draft.update(|d| {
            d.error = Some(e.message().to_owned());
            let tried = e
                .inner()
                .attempts
                .iter()
                .rfind(|a| !a.outcome.starts_with("skipped("));
            if let Some(last) = tried {
                // The target that answered last, so failures count against their provider
                // (a member skipped for this request was not asked, so it is not blamed).
                if d.provider.is_none()
                    && let Some((provider, model)) = last.target.split_once('/')
                {
                    d.provider = Some(provider.to_owned());
                    d.model = Some(model.to_owned());
                }
            }
            if !e.inner().attempts.is_empty() {
                d.attempts.clone_from(&e.inner().attempts);
            }
            d.strategy = e.inner().strategy;
            d.response_body = Some(body.clone());
        });
    }
    e.into_response_with(body)
}

/// A 200 JSON answer, captured in the log draft.
fn json_response<T: serde::Serialize>(draft: &Draft, value: &T) -> Result<Response, ApiError> {
    let body =
        Bytes::from(serde_json::to_vec(value).map_err(|e| ApiError::internal(e.to_string()))?);
    draft.update(|d| d.response_body = Some(body.clone()));
    Ok((
        axum::http::StatusCode::OK,
        [(
            axum::http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response())
}

/// A 200 `text/event-stream` answer of this body, unbuffered by proxies on the way.
fn sse_response(
    body: impl futures_util::Stream<Item = Result<Bytes, std::convert::Infallible>> + Send + 'static,
) -> Response {
    let mut response = Response::new(axum::body::Body::from_stream(body));
    let headers = response.headers_mut();
    headers.insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(
        axum::http::header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache"),
    );
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}

/// Which target answered and what was tried first, for a typed answer's response headers.
#[derive(Debug)]
pub struct Served {
    label: String,
    attempts: Vec<Attempt>,
    strategy: Option<&'static str>,
}

impl Served {
    /// Takes the trail from `ok` (after [`note_target`] has copied it into the log draft).
    fn new<T>(ok: &mut Success<'_, T>) -> Self {
        Self {
            label: ok.target.label.clone(),
            attempts: std::mem::take(&mut ok.attempts),
            strategy: ok.strategy,
        }
    }

    fn headers(&self, headers: &mut HeaderMap) {
        served_headers(headers, &self.label, self.strategy, &self.attempts);
    }
}

fn served_headers(
    headers: &mut HeaderMap,
    label: &str,
    strategy: Option<&'static str>,
    attempts: &[Attempt],
) {
    if let Some(v) = attempts_header(strategy, attempts) {
        headers.insert(ATTEMPTS_HEADER, v);
    }
    if let Ok(v) = HeaderValue::from_str(label) {
        headers.insert(TARGET_HEADER, v);
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(
        "refusing to listen on {0}: other machines could reach it, so create a client key first (`switchyard keys create NAME`); every request will need one"
    )]
    NotLoopback(SocketAddr),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("{0}")]
    Config(String),
    #[error("{0}")]
    Store(#[from] crate::store::StoreError),
}

pub struct Gateway;

impl Gateway {
    /// Builds the router for a config; exposed for in-process tests and embedding. Reads
    /// provider keys, which may block: call it before serving, or from a blocking thread.
    pub fn router(
        config: Config,
        recorder: Recorder,
        store: Option<Store>,
    ) -> Result<(Router, Arc<AppState>), StartError> {
        let db = store.clone();
        Self::router_with_file(config, recorder, store, db, None, no_ui)
    }

    fn router_with_file(
        config: Config,
        recorder: Recorder,
        store: Option<Store>,
        db: Option<Store>,
        config_file: Option<Arc<ConfigFile>>,
        ui: UiFiles,
    ) -> Result<(Router, Arc<AppState>), StartError> {
        let health = Arc::new(Health::default());
        let limit = config.limits.max_body_bytes;
        let secrets = config.secret_store();
        if config
            .providers
            .iter()
            .any(|p| matches!(p.api_key, Some(crate::secrets::SecretRef::Keychain(_))))
            && let Err(e) = secrets.probe()
        {
            tracing::warn!("{e}");
        }
        let mcp = crate::mcp::McpHub::new(&config.mcp_servers, secrets.clone());
        let runtime = Runtime::build(config, health.clone(), &secrets, &Default::default())
            .map_err(|e| StartError::Config(e.to_string()))?;
        for p in &runtime.providers {
            if let Some(problem) = p.key_problem() {
                tracing::warn!(provider = %p.name, "{problem}; its requests will fail until it is set");
            }
        }
        let state = Arc::new(AppState {
            runtime: ArcSwap::from_pointee(runtime),
            health,
            discovered: std::sync::Mutex::default(),
            config_file,
            listen: std::sync::OnceLock::new(),
            configured_listen: std::sync::Mutex::new(None),
            reload_lock: tokio::sync::Mutex::new(()),
            paused: std::sync::atomic::AtomicBool::new(false),
            reload_error: std::sync::Mutex::new(None),
            started: Instant::now(),
            metrics: Metrics::default(),
            recorder,
            store,
            db,
            hard_stop: CancellationToken::new(),
            mcp,
            approvals: agent::Approvals::default(),
            mcp_stop: CancellationToken::new(),
            ui,
        });
        let router = routes::routes(&state)
            .fallback(middleware::not_found)
            .method_not_allowed_fallback(middleware::method_not_allowed)
            .layer(DefaultBodyLimit::max(limit))
            .layer(axum::middleware::from_fn_with_state(
                state.clone(),
                auth::guard,
            ))
            .layer(axum::middleware::from_fn_with_state(
                state.clone(),
                edge::edge,
            ))
            // Outside the guard, so that its refusals on `/v1/messages` get Anthropic's shape.
            .layer(axum::middleware::from_fn(messages::anthropic_errors))
            .with_state(state.clone());
        Ok((router, state))
    }

    /// Binds, starts serving, and returns once the gateway accepts connections.
    pub async fn start(config: Config) -> Result<GatewayHandle, StartError> {
        Self::start_with(config, None).await
    }

    /// Like [`Gateway::start`], with the file the config came from: admin edits are written
    /// back to it, and edits made on disk are applied without a restart (an invalid edit is
    /// refused and the last good config stays live). The file need not exist yet.
    pub async fn start_with(
        config: Config,
        config_file: Option<std::path::PathBuf>,
    ) -> Result<GatewayHandle, StartError> {
        Self::start_with_ui(config, config_file, no_ui).await
    }

    /// Like [`Gateway::start_with`], serving the built UI at `/ui/` from `ui` (the binaries
    /// pass `switchyard_ui_assets::find`). The UI comes in from outside so that rebuilding it
    /// recompiles only the small assets crate and the binary, never the gateway.
    pub async fn start_with_ui(
        config: Config,
        config_file: Option<std::path::PathBuf>,
        ui: UiFiles,
    ) -> Result<GatewayHandle, StartError> {
        let addr = config.listen;
        let cap = listen::connection_cap(
            config.limits.max_connections,
            listen::raise_open_file_limit(),
        );
        if !addr.ip().is_loopback()
            && !config
                .keys
                .iter()
                .any(|k| k.role >= crate::access::Role::User)
        {
            return Err(StartError::NotLoopback(addr));
        }
        // The database also keeps playground sessions, so it is opened even with logging off.
        let db = Store::open(&config.data_dir).await?;
        let (store, recorder, writer) = if config.log.enabled {
            let (recorder, writer) = db.start_writer(config.log.settings.clone());
            (Some(db.clone()), recorder, Some(writer))
        } else {
            (None, Recorder::disabled(), None)
        };
        let file = config_file.map(|p| Arc::new(ConfigFile::new(p, crate::providers::check)));
        // What the file looked like when it was loaded: any later edit is applied.
        let loaded = file.as_ref().and_then(|f| f.stamp());
        // Reading provider keys may block on D-Bus.
        let (router, state) = tokio::task::spawn_blocking(move || {
            Self::router_with_file(config, recorder, store, Some(db), file, ui)
        })
        .await
        .map_err(|e| StartError::Config(format!("start-up failed: {e}")))??;
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| StartError::Bind { addr, source })?;
        let local = listener
            .local_addr()
            .map_err(|source| StartError::Bind { addr, source })?;
        let _ = state.listen.set(local);
        let stop = CancellationToken::new();
        let task = tokio::spawn(listen::serve(
            listener,
            router,
            state.clone(),
            cap,
            stop.clone(),
        ));
        if state.config_file.is_some() {
            tokio::spawn(watch_config(state.clone(), stop.clone(), loaded));
        }
        // Providers that list no models serve what their upstream has: ask it now.
        let discover = state.clone();
        tokio::spawn(async move {
            discover.refresh_models(None, true).await;
        });
        Ok(GatewayHandle {
            addr: local,
            stop,
            task,
            state,
            writer,
        })
    }
}

/// Applies edits made to the config file by hand. Polls its size and modification time: cheap,
/// and immune to the ways editors replace files.
async fn watch_config(
    state: Arc<AppState>,
    stop: CancellationToken,
    mut seen: Option<crate::config::edit::Stamp>,
) {
    let Some(file) = state.config_file.clone() else {
        return;
    };
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(Duration::from_millis(500)) => {}
        }
        let now = file.stamp();
        if now == seen {
            continue;
        }
        seen = now;
        if now.is_none() {
            continue;
        }
        match file.load().await {
            Ok(config) => match state.apply(config).await {
                Ok(()) => {
                    tracing::info!("{}: changes applied", file.path().display());
                    let discover = state.clone();
                    tokio::spawn(async move {
                        discover.refresh_models(None, true).await;
                    });
                    *state
                        .reload_error
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
                }
                Err(e) => note_reload_error(&state, e.to_string()),
            },
            Err(e) => note_reload_error(&state, e.to_string()),
        }
    }
}

fn note_reload_error(state: &AppState, error: String) {
    tracing::warn!("config not reloaded, the last good one stays live: {error}");
    *state
        .reload_error
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(error);
}

/// A running gateway. Stop it with [`GatewayHandle::shutdown`].
#[derive(Debug)]
pub struct GatewayHandle {
    addr: SocketAddr,
    stop: CancellationToken,
    task: JoinHandle<std::io::Result<()>>,
    state: Arc<AppState>,
    writer: Option<WriterHandle>,
}

impl GatewayHandle {
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The OpenAI base URL clients use: `http://127.0.0.1:PORT/v1`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    pub fn state(&self) -> &Arc<AppState> {
        &self.state
    }

    /// Pauses or resumes the model API: while paused, `/v1` answers 503 with a clear message.
    /// Requests already running finish.
    pub fn set_paused(&self, paused: bool) {
        self.state
            .paused
            .store(paused, std::sync::atomic::Ordering::Relaxed);
    }

    pub fn is_paused(&self) -> bool {
        self.state.paused.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Requests logged since local midnight (UTC midnight where the offset is unknown).
    pub async fn requests_since(&self, since_ms: i64) -> Option<i64> {
        let store = self.state.store.as_ref()?;
        let stats = store
            .stats("today", since_ms, crate::record::now_ms() + 1)
            .await
            .ok()?;
        Some(stats.total.requests)
    }

    /// Replaces the live config. Requests already running finish on the one they started with.
    pub async fn reload(&self, config: Config) -> Result<(), ApplyError> {
        self.state.apply(config).await
    }

    /// Stops accepting connections at once, lets in-flight requests finish for up to `grace`,
    /// then drops whatever is left, and finally drains the request log.
    pub async fn shutdown(self, grace: Duration) -> std::io::Result<()> {
        self.stop.cancel();
        // `/mcp` streams would otherwise hold the graceful shutdown open.
        self.state.mcp_stop.cancel();
        let mut task = self.task;
        let served = match tokio::time::timeout(grace, &mut task).await {
            Ok(Ok(result)) => result,
            Ok(Err(join)) => Err(std::io::Error::other(join)),
            Err(_) => {
                tracing::warn!("grace period over: ending the requests still running");
                self.state.hard_stop.cancel();
                // Each of them records its row as it ends; give them a moment to do so.
                let deadline = Instant::now() + Duration::from_secs(2);
                while self
                    .state
                    .metrics
                    .in_flight
                    .load(std::sync::atomic::Ordering::Relaxed)
                    > 0
                    && Instant::now() < deadline
                {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                task.abort();
                let _ = task.await;
                Ok(())
            }
        };
        // Stdio servers are stopped (their whole process group) before we go.
        self.state.mcp.shutdown().await;
        if let Some(writer) = self.writer {
            writer.close().await;
        }
        served
    }

    /// Waits until the server stops by itself (it only does on an I/O error).
    pub async fn wait(&mut self) -> std::io::Result<()> {
        match (&mut self.task).await {
            Ok(result) => result,
            Err(join) => Err(std::io::Error::other(join)),
        }
    }
}
