//! The HTTP server: shared state, the router with its layers, and the gateway's lifecycle
//! ([`Gateway::start`] → [`GatewayHandle`]) used alike by the CLI, the desktop shell and tests.

mod admin;
mod chat;
mod embeddings;
mod extract;
mod middleware;
mod models;
mod recording;
mod routes;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderMap, HeaderValue};
use axum::serve::ListenerExt as _;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use chat::chat;
pub use embeddings::embed;
pub use extract::{JsonBody, QueryParams, parse_json};
pub use recording::REQUEST_ID_HEADER;

use axum::body::Bytes;
use axum::response::{IntoResponse as _, Response};

use crate::config::Config;
use crate::error::{ApiError, Attempt, attempts_header};
use crate::metrics::Metrics;
use crate::record::{Draft, Recorder};
use crate::routing::{Breakers, Runtime, Target};
use crate::store::{Store, WriterHandle};

/// Lists every target tried and how each ended: `alpha/gpt-4o-mini=503, beta/claude=ok`.
pub const ATTEMPTS_HEADER: &str = "x-switchyard-attempts";
/// The `provider/model` that answered.
pub const TARGET_HEADER: &str = "x-switchyard-target";

/// State shared by every request. The routing table is swapped whole on reload.
#[derive(Debug)]
pub struct AppState {
    pub runtime: ArcSwap<Runtime>,
    pub breakers: Arc<Breakers>,
    pub started: Instant,
    pub metrics: Metrics,
    pub recorder: Recorder,
    /// The request log, when logging is on.
    pub store: Option<Store>,
    /// Cancelled when the shutdown grace period is over: requests still running end now, and
    /// still get their rows in the log.
    pub hard_stop: CancellationToken,
}

impl AppState {
    pub fn circuits(&self) -> Vec<(String, crate::routing::circuit::CircuitState)> {
        self.breakers
            .snapshot()
            .into_iter()
            .map(|(target, b)| (target, b.state()))
            .collect()
    }
}

/// Notes in the log draft who answered, after which attempts, at what price.
fn note_target(draft: &Draft, runtime: &Runtime, target: &Target, attempts: &[Attempt]) {
    if !draft.is_attached() {
        return;
    }
    let price = runtime
        .config
        .provider(&target.provider.name)
        .and_then(|p| p.prices.get(&target.model))
        .copied();
    draft.update(|d| {
        d.provider = Some(target.provider.name.clone());
        d.model = Some(target.model.clone());
        d.attempts = attempts.to_vec();
        d.price = price;
    });
}

/// Answers an error, noting it (and the attempts behind it) in the log draft.
fn fail(draft: &Draft, e: ApiError) -> Response {
    if draft.is_attached() {
        let body = serde_json::to_vec(&e.openai_json()).ok().map(Bytes::from);
        draft.update(|d| {
            d.error = Some(e.message().to_owned());
            if let Some(last) = e.inner().attempts.last() {
                // The target that answered last, so failures count against their provider.
                if d.provider.is_none() {
                    if let Some((provider, model)) = last.target.split_once('/') {
                        d.provider = Some(provider.to_owned());
                        d.model = Some(model.to_owned());
                    }
                }
                d.attempts.clone_from(&e.inner().attempts);
            }
            d.response_body = body;
        });
    }
    e.into_response()
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

fn success_headers(headers: &mut HeaderMap, target: &Target, attempts: &[Attempt]) {
    if let Some(v) = attempts_header(attempts) {
        headers.insert(ATTEMPTS_HEADER, v);
    }
    if let Ok(v) = HeaderValue::from_str(&target.label) {
        headers.insert(TARGET_HEADER, v);
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(
        "refusing to listen on {0}: only loopback addresses (127.0.0.1, ::1) are allowed until client keys protect the gateway"
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
    /// Builds the router for a config; exposed for in-process tests and embedding.
    pub fn router(
        config: Config,
        recorder: Recorder,
        store: Option<Store>,
    ) -> Result<(Router, Arc<AppState>), StartError> {
        let breakers = Arc::new(Breakers::default());
        let limit = config.limits.max_body_bytes;
        let runtime = Runtime::build(config, breakers.clone()).map_err(StartError::Config)?;
        for p in &runtime.providers {
            if let Some(problem) = p.key_problem() {
                tracing::warn!(provider = %p.name, "{problem}; its requests will fail until it is set");
            }
        }
        let state = Arc::new(AppState {
            runtime: ArcSwap::from_pointee(runtime),
            breakers,
            started: Instant::now(),
            metrics: Metrics::default(),
            recorder,
            store,
            hard_stop: CancellationToken::new(),
        });
        let router = routes::routes(&state)
            .fallback(middleware::not_found)
            .method_not_allowed_fallback(middleware::method_not_allowed)
            .layer(DefaultBodyLimit::max(limit))
            .layer(axum::middleware::from_fn(middleware::loopback_host))
            .with_state(state.clone());
        Ok((router, state))
    }

    /// Binds, starts serving, and returns once the gateway accepts connections.
    pub async fn start(config: Config) -> Result<GatewayHandle, StartError> {
        let addr = config.listen;
        if !addr.ip().is_loopback() {
            return Err(StartError::NotLoopback(addr));
        }
        let (store, recorder, writer) = if config.log.enabled {
            let store = Store::open(&config.data_dir).await?;
            let (recorder, writer) = store.start_writer(config.log.settings.clone());
            (Some(store), recorder, Some(writer))
        } else {
            (None, Recorder::disabled(), None)
        };
        let (router, state) = Self::router(config, recorder, store)?;
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| StartError::Bind { addr, source })?;
        let local = listener
            .local_addr()
            .map_err(|source| StartError::Bind { addr, source })?;
        let listener = listener.tap_io(|tcp| {
            // Nagle would hold small SSE frames back for tens of milliseconds.
            let _ = tcp.set_nodelay(true);
        });
        let stop = CancellationToken::new();
        let signal = stop.clone();
        let task = tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async move { signal.cancelled().await })
                .await
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

    /// Replaces the live config. Requests already running finish on the one they started with.
    pub fn reload(&self, config: Config) -> Result<(), String> {
        let runtime = Runtime::build(config, self.state.breakers.clone())?;
        self.state.runtime.store(Arc::new(runtime));
        Ok(())
    }

    /// Stops accepting connections at once, lets in-flight requests finish for up to `grace`,
    /// then drops whatever is left, and finally drains the request log.
    pub async fn shutdown(self, grace: Duration) -> std::io::Result<()> {
        self.stop.cancel();
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
