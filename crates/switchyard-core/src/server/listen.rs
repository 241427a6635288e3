//! The accept loop: our own, on hyper, so that every client connection has a deadline. A
//! connection gets `limits.header_read_timeout_ms` to send a request's headers (from its first
//! byte, or from the accept for a new connection) and `limits.keep_alive_timeout_ms` between
//! requests; past `limits.max_connections` a new one is answered 503 and closed. While a request
//! runs, the socket is watched for the client leaving, which ends the request (and with it the
//! upstream call) even when hyper has stopped reading. Slow request bodies and oversized heads
//! are the `edge` middleware's business; nothing here knows a route.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::ConnectInfo;
use axum::http::{HeaderValue, Request, Response, header};
use axum::response::IntoResponse as _;
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, Interest, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::AppState;
use crate::config::Limits;
use crate::error::{ApiError, ErrorCode};

/// Connections refused for being over the cap that may be answering at once; past this they
/// are closed without a word, so that a flood cannot pin descriptors on its refusals.
const MAX_REFUSING: usize = 64;
/// How long a refused connection has to send its request and read the 503.
const REFUSAL_DEADLINE: Duration = Duration::from_secs(2);
/// The header fields hyper parses; the `edge` middleware answers more than 100 itself.
const MAX_HEADER_FIELDS: usize = 256;

/// Raises the open-file soft limit to the hard limit, so that the connection cap, not the
/// descriptor table, decides when clients are refused. Returns the limit now in force.
pub fn raise_open_file_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        let (soft, _hard) = rlimit::Resource::NOFILE.get().ok()?;
        match rlimit::increase_nofile_limit(1 << 20) {
            Ok(now) => {
                if now > soft {
                    tracing::info!("open-file limit raised from {soft} to {now}");
                } else {
                    tracing::info!("open-file limit: {now}");
                }
                Some(now)
            }
            Err(e) => {
                tracing::warn!("open-file limit stays at {soft}: cannot raise it: {e}");
                Some(soft)
            }
        }
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// The connection cap in force: the configured one, lowered when the open-file limit could not
/// hold that many clients plus their upstream connections.
pub fn connection_cap(configured: usize, open_files: Option<u64>) -> usize {
    let Some(files) = open_files else {
        return configured;
    };
    // Each client may hold an upstream connection too; keep some for the log, MCP children…
    let room = usize::try_from(files.saturating_sub(64) / 2)
        .unwrap_or(usize::MAX)
        .max(16);
    if room < configured {
        tracing::warn!(
            "serving at most {room} connections at once (limits.max_connections is {configured}, but the open-file limit is {files})"
        );
        return room;
    }
    configured
}

/// Serves `router` on `listener` until `stop`, then waits for the connections to finish
/// (graceful: in-flight requests complete; idle keep-alive connections close at once).
pub(super) async fn serve(
    listener: TcpListener,
    router: Router,
    state: Arc<AppState>,
    cap: usize,
    stop: CancellationToken,
) -> io::Result<()> {
    let open = Arc::new(AtomicUsize::new(0));
    let refusing = Arc::new(AtomicUsize::new(0));
    let refusal = Router::new()
        .fallback(too_many_connections)
        .layer(axum::middleware::from_fn(super::messages::anthropic_errors));
    let (close_tx, close_rx) = watch::channel(());
    let mut warned: Option<Instant> = None;
    let mut warned_full: Option<Instant> = None;
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = stop.cancelled() => break,
        };
        let (tcp, remote) = match accepted {
            Ok(conn) => conn,
            Err(e) if is_connection_error(&e) => continue,
            Err(e) => {
                // Out of descriptors, most likely: wait for some to close rather than spin.
                if warned.is_none_or(|at| at.elapsed() > Duration::from_secs(10)) {
                    tracing::warn!("cannot accept a connection: {e}");
                    warned = Some(Instant::now());
                }
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_millis(100)) => continue,
                    () = stop.cancelled() => break,
                }
            }
        };
        // Nagle would hold small SSE frames back for tens of milliseconds.
        let _ = tcp.set_nodelay(true);
        let limits = state.runtime.load().config.limits;
        if open.load(Ordering::Relaxed) >= cap {
            if warned_full.is_none_or(|at| at.elapsed() > Duration::from_secs(10)) {
                tracing::warn!(
                    "{cap} connections open (limits.max_connections): refusing new ones with 503"
                );
                warned_full = Some(Instant::now());
            }
            if refusing.load(Ordering::Relaxed) < MAX_REFUSING {
                let slot = Slot::take(&refusing);
                tokio::spawn(refuse(tcp, refusal.clone(), limits, slot));
            }
            continue;
        }
        let slot = Slot::take(&open);
        let router = router.clone();
        let stop = stop.clone();
        let close_rx = close_rx.clone();
        tokio::spawn(async move {
            serve_connection(tcp, remote, router, limits, stop).await;
            drop(slot);
            drop(close_rx);
        });
    }
    drop(close_rx);
    drop(listener);
    close_tx.closed().await;
    Ok(())
}

fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// One counted place in a pool (open connections, refusals), given back on drop.
struct Slot(Arc<AtomicUsize>);

impl Slot {
    fn take(count: &Arc<AtomicUsize>) -> Self {
        count.fetch_add(1, Ordering::Relaxed);
        Self(count.clone())
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

fn builder(limits: &Limits) -> auto::Builder<TokioExecutor> {
    // Room for a head somewhat over the limits, so that the `edge` middleware answers it in
    // JSON; past this hyper refuses the head itself.
    let buffer = (2 * (limits.max_header_bytes + limits.max_uri_bytes)).max(64 * 1024);
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        // Our own deadlines below replace hyper's, which also runs between requests.
        .header_read_timeout(None)
        .max_buf_size(buffer)
        .max_headers(MAX_HEADER_FIELDS);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(u32::try_from(buffer).unwrap_or(u32::MAX))
        .enable_connect_protocol();
    builder
}

async fn serve_connection(
    tcp: TcpStream,
    remote: SocketAddr,
    router: Router,
    limits: Limits,
    stop: CancellationToken,
) {
    let activity = Arc::new(Activity::new());
    let tcp = Arc::new(tcp);
    let io = TokioIo::new(Watched {
        inner: tcp.clone(),
        activity: activity.clone(),
        seen_any: false,
    });
    let service = ConnService {
        inner: TowerToHyperService::new(router),
        remote,
        activity: activity.clone(),
    };
    let builder = builder(&limits);
    let conn = builder.serve_connection_with_upgrades(io, service);
    tokio::pin!(conn);
    let mut draining = false;
    loop {
        let deadline = activity.deadline(&limits);
        let busy = deadline.is_none();
        let expire = async {
            match deadline {
                Some((at, _)) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::trace!("connection from {remote} ended: {e}");
                }
                return;
            }
            () = stop.cancelled(), if !draining => {
                draining = true;
                conn.as_mut().graceful_shutdown();
            }
            () = activity.changed.notified() => {}
            left = client_left(&tcp), if busy => {
                if left {
                    // hyper notices this only while it reads, and it stops reading when bytes
                    // wait in its buffer (a stray CRLF, a pipelined request): dropping the
                    // connection drops the request, its upstream call and its body.
                    tracing::debug!("the client at {remote} left mid-request");
                    return;
                }
            }
            () = expire => {
                // Re-read: a request may have started since the deadline was taken.
                if let Some((at, why)) = activity.deadline(&limits)
                    && at <= Instant::now()
                {
                    tracing::debug!("closing the connection from {remote}: {why}");
                    return;
                }
            }
        }
    }
}

/// Waits for the client to close its side of the socket (true), or for a moment when bytes
/// wait unread (false: look again).
async fn client_left(tcp: &TcpStream) -> bool {
    match tcp.ready(Interest::READABLE).await {
        Ok(ready) if ready.is_read_closed() => true,
        Ok(_) => {
            // Readable but open: the bytes are hyper's to read; readiness stays set until it
            // does, so wait a little rather than spin.
            tokio::time::sleep(Duration::from_millis(20)).await;
            false
        }
        Err(_) => true,
    }
}

/// Answers a connection over the cap with a 503 in JSON, then closes it.
async fn refuse(tcp: TcpStream, refusal: Router, limits: Limits, slot: Slot) {
    let mut builder = builder(&limits);
    builder.http1().keep_alive(false);
    let io = TokioIo::new(tcp);
    let service = TowerToHyperService::new(refusal);
    let conn = builder.serve_connection(io, service);
    let _ = tokio::time::timeout(REFUSAL_DEADLINE, conn).await;
    drop(slot);
}

async fn too_many_connections() -> axum::response::Response {
    let mut response = ApiError::of(ErrorCode::TooManyConnections, "The gateway has as many connections open as it serves at once (limits.max_connections); retry shortly, reuse connections, or raise the limit in the gateway's config.")
    .with_retry_after(Some(Duration::from_secs(1)))
    .into_response();
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// Why a connection is closed.
#[derive(Debug, Clone, Copy)]
enum Expiry {
    Headers,
    Idle,
}

impl std::fmt::Display for Expiry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Headers => "no complete request headers within limits.header_read_timeout_ms",
            Self::Idle => "idle for limits.keep_alive_timeout_ms",
        })
    }
}

/// What a connection is doing, for its deadlines.
#[derive(Debug)]
struct Activity {
    phase: Mutex<Phase>,
    /// Woken when a deadline may have moved earlier (a head started, the last request ended).
    changed: Notify,
}

#[derive(Debug, Clone, Copy)]
struct Phase {
    /// Requests being served (several on HTTP/2).
    busy: usize,
    /// When the last request ended (or the connection was accepted).
    idle_since: Instant,
    /// When the head of the next request began to arrive (a new connection: when accepted).
    head_since: Option<Instant>,
    /// HTTP/2 (prior knowledge): frames other than requests flow between requests, so only the
    /// idle deadline applies.
    h2: bool,
}

impl Activity {
    fn new() -> Self {
        let now = Instant::now();
        Self {
            phase: Mutex::new(Phase {
                busy: 0,
                idle_since: now,
                head_since: Some(now),
                h2: false,
            }),
            changed: Notify::new(),
        }
    }

    fn phase(&self) -> std::sync::MutexGuard<'_, Phase> {
        self.phase.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn deadline(&self, limits: &Limits) -> Option<(Instant, Expiry)> {
        let p = *self.phase();
        if p.busy > 0 {
            return None;
        }
        let idle = (p.idle_since + limits.keep_alive_timeout, Expiry::Idle);
        match p.head_since {
            Some(since) if !p.h2 => {
                let headers = (since + limits.header_read_timeout, Expiry::Headers);
                Some(if headers.0 < idle.0 { headers } else { idle })
            }
            _ => Some(idle),
        }
    }

    fn read(&self, first: Option<&[u8]>) {
        let mut p = self.phase();
        if let Some(bytes) = first
            && bytes.starts_with(b"PRI ")
        {
            p.h2 = true;
        }
        if p.busy == 0 && p.head_since.is_none() {
            p.head_since = Some(Instant::now());
            drop(p);
            self.changed.notify_one();
        }
    }

    fn start(self: &Arc<Self>) -> Busy {
        let mut p = self.phase();
        p.busy += 1;
        p.head_since = None;
        drop(p);
        // The connection task starts watching for the client leaving.
        self.changed.notify_one();
        Busy(self.clone())
    }
}

/// A request being served: from its head until its response body is done or dropped.
#[derive(Debug)]
struct Busy(Arc<Activity>);

impl Drop for Busy {
    fn drop(&mut self) {
        let mut p = self.0.phase();
        p.busy = p.busy.saturating_sub(1);
        if p.busy == 0 {
            p.idle_since = Instant::now();
            p.head_since = None;
            drop(p);
            self.0.changed.notify_one();
        }
    }
}

/// The socket, watched for bytes arriving. Shared with the connection task, which waits on its
/// readiness for the client leaving.
struct Watched {
    inner: Arc<TcpStream>,
    activity: Arc<Activity>,
    seen_any: bool,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        loop {
            ready!(self.inner.poll_read_ready(cx))?;
            match self.inner.try_read_buf(buf) {
                Ok(_) => break,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
        if buf.filled().len() > before {
            let first = !self.seen_any;
            self.seen_any = true;
            self.activity.read(first.then(|| &buf.filled()[before..]));
        }
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        loop {
            ready!(self.inner.poll_write_ready(cx))?;
            match self.inner.try_write(buf) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                written => return Poll::Ready(written),
            }
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        loop {
            ready!(self.inner.poll_write_ready(cx))?;
            match self.inner.try_write_vectored(bufs) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                written => return Poll::Ready(written),
            }
        }
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(socket2::SockRef::from(&*self.inner).shutdown(std::net::Shutdown::Write))
    }
}

/// The router for one connection: adds the peer's address, and counts the request as busy
/// until its response body is done.
#[derive(Clone)]
struct ConnService {
    inner: TowerToHyperService<Router>,
    remote: SocketAddr,
    activity: Arc<Activity>,
}

type ServiceFuture =
    Pin<Box<dyn Future<Output = Result<Response<TrackedBody>, Infallible>> + Send>>;

impl hyper::service::Service<Request<Incoming>> for ConnService {
    type Response = Response<TrackedBody>;
    type Error = Infallible;
    type Future = ServiceFuture;

    fn call(&self, req: Request<Incoming>) -> Self::Future {
        let busy = self.activity.start();
        let mut req = req.map(Body::new);
        req.extensions_mut().insert(ConnectInfo(self.remote));
        let response = self.inner.call(req);
        Box::pin(async move {
            let response = response.await?;
            Ok(response.map(|inner| TrackedBody { inner, _busy: busy }))
        })
    }
}

/// A response body that keeps its request counted as busy until it is done or dropped.
struct TrackedBody {
    inner: Body,
    _busy: Busy,
}

impl http_body::Body for TrackedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::connection_cap;

    #[test]
    fn the_cap_fits_the_open_file_limit() {
        assert_eq!(connection_cap(1024, None), 1024);
        assert_eq!(connection_cap(1024, Some(1 << 20)), 1024);
        // Each client may need an upstream socket too, and the process needs some of its own.
        assert_eq!(connection_cap(1024, Some(1024)), 480);
        assert_eq!(connection_cap(1024, Some(10)), 16);
    }
}
