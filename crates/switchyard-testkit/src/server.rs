//! The fake upstream server: `FakeUpstream` (its handle), the shared script/record state, the
//! accept loop, per-connection keep-alive, routing, and executing planned actions on the socket.
//! Wire shapes live in the dialect modules; deciding what to send lives in `plan`.

use std::collections::VecDeque;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::{AbortHandle, JoinSet};

use crate::http::{Conn, Framing, LAST_CHUNK, Request, push_chunk, push_head};
use crate::plan::{self, Action, Body, Ctx, End, Endpoint, Response};
use crate::script::{Dialect, Script};
use crate::{anthropic, control, fixture, ollama, openai};

/// One request the fake received.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// HTTP method.
    pub method: String,
    /// Path including the query string.
    pub path: String,
    /// Headers with lowercased names, in arrival order.
    pub headers: Vec<(String, String)>,
    /// The request body (de-chunked).
    pub body: Bytes,
    /// When the whole request had arrived.
    pub at: Instant,
}

impl Recorded {
    /// The first header with this name (case-insensitive).
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body parsed as JSON, if it is JSON.
    #[must_use]
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// The body parsed as a multipart form (fields and files in order), if it is one.
    #[must_use]
    pub fn multipart(&self) -> Option<Vec<crate::media::FormPart>> {
        crate::media::parse_multipart(&self.body)
    }
}

/// A client that went away before its response was complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Disconnect {
    /// Index of the request (in arrival order) whose response was cut short.
    pub request_index: usize,
    /// When the fake noticed.
    pub at: Instant,
}

/// A fake upstream listening on `127.0.0.1:<ephemeral>`. Dropping it stops the server and
/// closes every connection it holds.
#[derive(Debug)]
pub struct FakeUpstream {
    shared: Arc<Shared>,
    addr: SocketAddr,
    accept: AbortHandle,
}

impl Drop for FakeUpstream {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

impl FakeUpstream {
    /// Binds `127.0.0.1:0` and starts serving on the current tokio runtime.
    ///
    /// # Errors
    /// When the listener cannot be bound.
    pub async fn start(dialect: Dialect) -> io::Result<Self> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(dialect));
        let accept = tokio::spawn(accept_loop(listener, Arc::clone(&shared))).abort_handle();
        Ok(Self {
            shared,
            addr,
            accept,
        })
    }

    /// The dialect this fake speaks.
    #[must_use]
    pub fn dialect(&self) -> Dialect {
        self.shared.dialect
    }

    /// The socket address it listens on.
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// OpenAI: `http://127.0.0.1:PORT/v1`; Anthropic: `http://127.0.0.1:PORT`.
    #[must_use]
    pub fn base_url(&self) -> String {
        match self.shared.dialect {
            Dialect::OpenAi => format!("http://{}/v1", self.addr),
            Dialect::Anthropic => format!("http://{}", self.addr),
        }
    }

    /// Queues a script; each request to a model endpoint takes the oldest one.
    pub fn push(&self, script: Script) {
        self.shared.push(script);
    }

    /// The script used when the queue is empty (initially a default `Reply`).
    pub fn set_default(&self, script: Script) {
        self.shared.set_default(script);
    }

    /// Turns recording of request details on (the default) or off. Off, requests are still
    /// counted and indexed but `requests()` stays as it was: for load tests that would
    /// otherwise keep every request in memory.
    pub fn set_recording(&self, on: bool) {
        self.shared.recording.store(on, Ordering::Relaxed);
    }

    /// Every request received (control requests aside), in arrival order.
    #[must_use]
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.lock().requests.clone()
    }

    /// How many requests were received (control requests aside).
    #[must_use]
    pub fn request_count(&self) -> usize {
        self.shared.lock().count
    }

    /// Waits until at least `n` requests have arrived; `false` on timeout.
    pub async fn wait_for_requests(&self, n: usize, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.shared.requests_changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.request_count() >= n {
                return true;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.request_count() >= n;
            }
        }
    }

    /// Every disconnect seen so far.
    #[must_use]
    pub fn disconnects(&self) -> Vec<Disconnect> {
        self.shared.lock().disconnects.clone()
    }

    /// The next disconnect not yet returned by this method, waiting up to `timeout` for one.
    pub async fn wait_for_disconnect(&self, timeout: Duration) -> Option<Disconnect> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.shared.disconnected.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(d) = self.shared.take_disconnect() {
                return Some(d);
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.shared.take_disconnect();
            }
        }
    }
}

/// A URL on which connections are refused, for as long as the process lives: a port held by a
/// socket that is bound but never listens. The kernel answers a connect with a reset, and no
/// other listener (a fake, a gateway started later) can be given the port, which a port bound
/// and released could be.
#[must_use]
pub fn refused_base_url() -> String {
    static HELD: Mutex<Vec<tokio::net::TcpSocket>> = Mutex::new(Vec::new());
    let held = tokio::net::TcpSocket::new_v4().and_then(|socket| {
        socket.bind((Ipv4Addr::LOCALHOST, 0).into())?;
        let port = socket.local_addr()?.port();
        Ok((socket, port))
    });
    let port = match held {
        Ok((socket, port)) => {
            HELD.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(socket);
            port
        }
        // Port 9 (discard) has no listener on a normal machine.
        Err(_) => 9,
    };
    format!("http://127.0.0.1:{port}/v1")
}

/// State shared by the handle and every connection task.
#[derive(Debug)]
pub(crate) struct Shared {
    pub dialect: Dialect,
    state: Mutex<State>,
    recording: AtomicBool,
    tool_counter: AtomicU64,
    requests_changed: Notify,
    disconnected: Notify,
}

#[derive(Debug)]
pub(crate) struct State {
    queue: VecDeque<Arc<Script>>,
    default: Arc<Script>,
    pub requests: Vec<Recorded>,
    count: usize,
    pub disconnects: Vec<Disconnect>,
    disconnects_taken: usize,
}

impl State {
    /// The oldest queued script, or the default.
    fn next_script(&mut self) -> Arc<Script> {
        self.queue
            .pop_front()
            .unwrap_or_else(|| Arc::clone(&self.default))
    }

    fn new() -> Self {
        Self {
            queue: VecDeque::new(),
            default: Arc::new(Script::default()),
            requests: Vec::new(),
            count: 0,
            disconnects: Vec::new(),
            disconnects_taken: 0,
        }
    }
}

impl Shared {
    fn new(dialect: Dialect) -> Self {
        Self {
            dialect,
            state: Mutex::new(State::new()),
            recording: AtomicBool::new(true),
            tool_counter: AtomicU64::new(0),
            requests_changed: Notify::new(),
            disconnected: Notify::new(),
        }
    }

    /// Locks the state; a panic elsewhere cannot leave it inconsistent, so poison is ignored.
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn push(&self, script: Script) {
        self.lock().queue.push_back(Arc::new(script));
    }

    pub(crate) fn set_default(&self, script: Script) {
        self.lock().default = Arc::new(script);
    }

    /// Clears the queue, the default, and every record.
    pub(crate) fn reset(&self) {
        *self.lock() = State::new();
    }

    /// Counts and (if recording) records a request, then runs `then` under the same lock.
    fn admit<T>(&self, req: &mut Request, then: impl FnOnce(&mut State) -> T) -> (usize, T) {
        let recorded = self.recording.load(Ordering::Relaxed).then(|| Recorded {
            method: std::mem::take(&mut req.method),
            path: std::mem::take(&mut req.path),
            headers: std::mem::take(&mut req.headers),
            body: req.body.clone(),
            at: Instant::now(),
        });
        let admitted = {
            let mut state = self.lock();
            let index = state.count;
            state.count += 1;
            if let Some(r) = recorded {
                state.requests.push(r);
            }
            (index, then(&mut state))
        };
        self.requests_changed.notify_waiters();
        admitted
    }

    fn disconnect(&self, request_index: usize) {
        self.lock().disconnects.push(Disconnect {
            request_index,
            at: Instant::now(),
        });
        self.disconnected.notify_waiters();
    }

    fn take_disconnect(&self) -> Option<Disconnect> {
        let mut state = self.lock();
        let next = state.disconnects.get(state.disconnects_taken).copied();
        if next.is_some() {
            state.disconnects_taken += 1;
        }
        next
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    // Connection tasks live in the set, so aborting this task closes them all.
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    conns.spawn(serve(stream, Arc::clone(&shared)));
                }
                // Out of file descriptors or similar: back off instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(5)).await,
            },
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
}

/// What to do with the connection after a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Next {
    KeepAlive,
    Close,
}

async fn serve(stream: TcpStream, shared: Arc<Shared>) {
    let _ = stream.set_nodelay(true);
    let mut conn = Conn::new(stream);
    while let Ok(Some(req)) = conn.read_request().await {
        if handle(&shared, &mut conn, req).await == Next::Close {
            return;
        }
    }
}

/// Numbers Responses ids across every fake in the process (and across resets), so a gateway
/// that keeps responses from several fakes never sees one id twice.
static RESPONSE_NUMBERS: AtomicU64 = AtomicU64::new(1);

/// Where a request goes.
enum Route {
    Control,
    Models,
    /// Ollama's native model list, `GET /api/tags` (OpenAI dialect only).
    OllamaTags,
    Model(Endpoint),
    CountTokens,
    NotFound,
}

/// The route path without a leading `/v1` (so `/v1/models` and `/models` are the same, and the
/// control endpoints also work under an OpenAI base URL).
fn strip_v1(path: &str) -> &str {
    path.strip_prefix("/v1")
        .filter(|rest| rest.starts_with('/'))
        .unwrap_or(path)
}

fn route(dialect: Dialect, method: &str, path: &str) -> Route {
    // Ollama serves its native API beside `/v1`, so this one is matched before stripping.
    if (dialect, method, path) == (Dialect::OpenAi, "GET", "/api/tags") {
        return Route::OllamaTags;
    }
    // Azure OpenAI: the deployment is in the path (`api-version` is checked by the caller).
    if let Some(rest) = path.strip_prefix("/openai/deployments/") {
        if dialect == Dialect::OpenAi && method == "POST" {
            match rest.split_once('/') {
                Some((dep, "chat/completions")) if !dep.is_empty() => {
                    return Route::Model(Endpoint::Chat);
                }
                Some((dep, "embeddings")) if !dep.is_empty() => {
                    return Route::Model(Endpoint::Embeddings);
                }
                _ => {}
            }
        }
        return Route::NotFound;
    }
    let path = strip_v1(path);
    if path.starts_with("/__testkit/") {
        return Route::Control;
    }
    match (dialect, method, path) {
        (_, "GET", "/models") => Route::Models,
        (Dialect::OpenAi, "POST", "/chat/completions")
        | (Dialect::Anthropic, "POST", "/messages") => Route::Model(Endpoint::Chat),
        (Dialect::OpenAi, "POST", "/embeddings") => Route::Model(Endpoint::Embeddings),
        (Dialect::OpenAi, "POST", "/images/generations") => Route::Model(Endpoint::Images),
        (Dialect::OpenAi, "POST", "/responses") => Route::Model(Endpoint::Responses),
        (Dialect::OpenAi, "POST", "/completions") => Route::Model(Endpoint::Completions),
        (Dialect::OpenAi, "POST", "/moderations") => Route::Model(Endpoint::Moderations),
        (Dialect::OpenAi, "POST", "/rerank" | "/v2/rerank") => Route::Model(Endpoint::Rerank),
        (Dialect::OpenAi, "POST", "/images/edits") => Route::Model(Endpoint::ImageEdits),
        (Dialect::OpenAi, "POST", "/audio/speech") => Route::Model(Endpoint::Speech),
        (Dialect::OpenAi, "POST", "/audio/transcriptions") => {
            Route::Model(Endpoint::Transcriptions)
        }
        (Dialect::OpenAi, "POST", "/audio/translations") => Route::Model(Endpoint::Translations),
        (Dialect::Anthropic, "POST", "/messages/count_tokens") => Route::CountTokens,
        _ => Route::NotFound,
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

async fn handle(shared: &Shared, conn: &mut Conn, mut req: Request) -> Next {
    let close = !req.keep_alive;
    let dialect = shared.dialect;
    let mut route = route(dialect, &req.method, req.route_path());
    // Azure answers 404 to a deployment call without its api-version.
    if req.route_path().starts_with("/openai/deployments/") && !req.path.contains("api-version=") {
        route = Route::NotFound;
    }
    let (index, action) = match route {
        Route::Control => {
            let response =
                control::handle(shared, &req.method, strip_v1(req.route_path()), &req.body);
            return respond(shared, conn, response, None, close).await;
        }
        Route::Model(endpoint) => {
            let credentials = ["authorization", "x-api-key", "api-key"]
                .iter()
                .find_map(|name| {
                    req.headers
                        .iter()
                        .find(|(n, _)| n == name)
                        .map(|(_, v)| v.clone())
                })
                .unwrap_or_default();
            let (index, script) = shared.admit(&mut req, State::next_script);
            if let Script::Reply(reply) = &*script
                && reply.latency_ms > 0
                && !conn.pause(Duration::from_millis(reply.latency_ms)).await
            {
                shared.disconnect(index);
                return Next::Close;
            }
            let ctx = Ctx {
                credentials: &credentials,
                dialect,
                request_index: index,
                created: unix_now(),
                tool_counter: &shared.tool_counter,
                response_number: RESPONSE_NUMBERS.fetch_add(1, Ordering::Relaxed),
            };
            (index, plan::plan(&ctx, &script, endpoint, &req.body))
        }
        Route::Models => {
            let (index, _) = shared.admit(&mut req, |_| ());
            let body = match dialect {
                Dialect::OpenAi => openai::models_body(unix_now()),
                Dialect::Anthropic => anthropic::models_body(),
            };
            (index, Action::Respond(Response::json(200, body)))
        }
        Route::OllamaTags => {
            let (index, _) = shared.admit(&mut req, |_| ());
            (
                index,
                Action::Respond(Response::json(200, ollama::tags_body())),
            )
        }
        Route::CountTokens => {
            let (index, _) = shared.admit(&mut req, |_| ());
            let body = anthropic::count_tokens_body(req.body.len());
            (index, Action::Respond(Response::json(200, body)))
        }
        Route::NotFound => {
            let message = format!("unknown route: {} {}", req.method, req.path);
            let (index, _) = shared.admit(&mut req, |_| ());
            let response = plan::error_response(dialect, 404, &message, None, index);
            (index, Action::Respond(response))
        }
    };
    match action {
        Action::Respond(response) => respond(shared, conn, response, Some(index), close).await,
        Action::Reset => {
            conn.arm_reset();
            Next::Close
        }
        Action::Stall => {
            conn.wait_gone().await;
            shared.disconnect(index);
            Next::Close
        }
        Action::Fixture { path, delay } => {
            let response = fixture::load(&path, dialect, delay)
                .await
                .unwrap_or_else(|m| plan::error_response(dialect, 500, &m, None, index));
            respond(shared, conn, response, Some(index), close).await
        }
    }
}

/// Writes `response`; `index` is the recorded request it answers (for disconnects).
async fn respond(
    shared: &Shared,
    conn: &mut Conn,
    response: Response,
    index: Option<usize>,
    close: bool,
) -> Next {
    let gone = |shared: &Shared| {
        if let Some(i) = index {
            shared.disconnect(i);
        }
        Next::Close
    };
    let Response {
        status,
        content_type,
        retry_after,
        body,
        end,
    } = response;
    let retry;
    let extra: &[(&str, &str)] = match retry_after.as_deref() {
        Some(value) => {
            retry = [("retry-after", value)];
            &retry
        }
        None => &[],
    };
    let close_header = close && end == End::Complete;
    match body {
        Body::Full(bytes) => {
            let framing = if status == 204 && bytes.is_empty() {
                Framing::NoContent
            } else {
                Framing::Length(bytes.len())
            };
            push_head(
                &mut conn.out,
                status,
                &content_type,
                framing,
                extra,
                close_header,
            );
            conn.out.extend_from_slice(&bytes);
            if conn.write_out().await.is_err() {
                return gone(shared);
            }
        }
        Body::Truncated { declared, sent } => {
            let framing = Framing::Length(declared);
            push_head(
                &mut conn.out,
                status,
                &content_type,
                framing,
                extra,
                close_header,
            );
            conn.out.extend_from_slice(&sent);
            if conn.write_out().await.is_err() {
                return gone(shared);
            }
        }
        Body::Chunks { chunks, delay } => {
            push_head(
                &mut conn.out,
                status,
                &content_type,
                Framing::Chunked,
                extra,
                close_header,
            );
            let last = chunks.len().saturating_sub(1);
            if chunks.is_empty() && end == End::Complete {
                conn.out.extend_from_slice(LAST_CHUNK);
            }
            for (i, chunk) in chunks.iter().enumerate() {
                if i > 0 && !delay.is_zero() && !conn.pause(delay).await {
                    return gone(shared);
                }
                push_chunk(&mut conn.out, chunk);
                if i == last && end == End::Complete {
                    conn.out.extend_from_slice(LAST_CHUNK);
                }
                if conn.write_out().await.is_err() {
                    return gone(shared);
                }
            }
            if chunks.is_empty() && conn.write_out().await.is_err() {
                return gone(shared);
            }
        }
    }
    match end {
        End::Complete if close => Next::Close,
        End::Complete => Next::KeepAlive,
        End::Stall => {
            conn.wait_gone().await;
            gone(shared)
        }
        End::Reset => {
            conn.arm_reset();
            Next::Close
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_by_dialect() {
        assert!(matches!(
            route(Dialect::OpenAi, "POST", "/v1/chat/completions"),
            Route::Model(Endpoint::Chat)
        ));
        assert!(matches!(
            route(Dialect::Anthropic, "POST", "/v1/chat/completions"),
            Route::NotFound
        ));
        assert!(matches!(
            route(Dialect::OpenAi, "POST", "/v1/responses"),
            Route::Model(Endpoint::Responses)
        ));
        assert!(matches!(
            route(Dialect::OpenAi, "POST", "/responses"),
            Route::Model(Endpoint::Responses)
        ));
        assert!(matches!(
            route(Dialect::Anthropic, "POST", "/v1/responses"),
            Route::NotFound
        ));
        assert!(matches!(
            route(Dialect::Anthropic, "GET", "/v1/models"),
            Route::Models
        ));
        assert!(matches!(
            route(Dialect::OpenAi, "POST", "/__testkit/script"),
            Route::Control
        ));
        assert!(matches!(
            route(Dialect::OpenAi, "GET", "/v1/__testkit/requests"),
            Route::Control
        ));
        assert!(matches!(
            route(Dialect::OpenAi, "GET", "/v1models"),
            Route::NotFound
        ));
        assert!(matches!(
            route(Dialect::OpenAi, "GET", "/api/tags"),
            Route::OllamaTags
        ));
        assert!(matches!(
            route(Dialect::OpenAi, "GET", "/v1/api/tags"),
            Route::NotFound
        ));
        assert!(matches!(
            route(Dialect::Anthropic, "GET", "/api/tags"),
            Route::NotFound
        ));
        assert!(matches!(
            route(
                Dialect::OpenAi,
                "POST",
                "/openai/deployments/gpt4o/chat/completions"
            ),
            Route::Model(Endpoint::Chat)
        ));
        assert!(matches!(
            route(
                Dialect::OpenAi,
                "POST",
                "/openai/deployments//chat/completions"
            ),
            Route::NotFound
        ));
    }

    #[test]
    fn refused_urls_point_at_a_closed_port() {
        let url = refused_base_url();
        assert!(url.starts_with("http://127.0.0.1:") && url.ends_with("/v1"));
    }
}
