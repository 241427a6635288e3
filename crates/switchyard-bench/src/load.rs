//! The closed-loop load generator: one keep-alive hyper HTTP/1 connection per worker, fixed
//! request count per round, latency histograms in nanoseconds. Knows nothing about gateways.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hdrhistogram::Histogram;
use http_body_util::{BodyExt as _, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::task::JoinSet;

/// Where requests go.
#[derive(Debug, Clone)]
pub struct Target {
    /// Human name for messages ("direct", "gateway").
    pub name: &'static str,
    pub addr: SocketAddr,
    /// `host` header value.
    pub host: String,
    /// Path of the chat completions endpoint, e.g. `/v1/chat/completions`.
    pub path: String,
    /// The model name to ask for.
    pub model: &'static str,
}

impl Target {
    /// Parses an `http://host:port/prefix` base URL.
    pub async fn from_base_url(
        name: &'static str,
        base: &str,
        model: &'static str,
    ) -> Result<Self, String> {
        let rest = base
            .strip_prefix("http://")
            .ok_or_else(|| format!("{name}: only http:// base URLs are supported, got `{base}`"))?;
        let (authority, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let addr = tokio::net::lookup_host(authority)
            .await
            .map_err(|e| format!("{name}: cannot resolve `{authority}`: {e}"))?
            .next()
            .ok_or_else(|| format!("{name}: `{authority}` has no address"))?;
        let prefix = prefix.trim_end_matches('/');
        let path = if prefix.is_empty() {
            "/chat/completions".to_owned()
        } else {
            format!("/{prefix}/chat/completions")
        };
        Ok(Self {
            name,
            addr,
            host: authority.to_owned(),
            path,
            model,
        })
    }

    /// A small, realistic chat request body.
    pub fn body(&self, stream: bool) -> Bytes {
        let body = serde_json::json!({
            "model": self.model,
            "messages": [
                {"role": "system", "content": "You are a concise assistant."},
                {"role": "user", "content": "Summarise why tail latency matters for interactive tools in one sentence."}
            ],
            "temperature": 0.2,
            "max_tokens": 256,
            "stream": stream,
        });
        Bytes::from(body.to_string())
    }
}

/// What one round measured.
#[derive(Debug)]
pub struct RoundStats {
    /// Latency (non-streaming) or time to the first content token (streaming), in nanoseconds.
    pub latency: Histogram<u64>,
    pub ok: usize,
    pub errors: usize,
    pub elapsed: Duration,
    /// The first error seen, for the report.
    pub first_error: Option<String>,
}

impl RoundStats {
    /// Requests answered, whatever the answer (connection failures count too).
    pub fn sent(&self) -> usize {
        self.ok + self.errors
    }

    pub fn rps(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The quantile in microseconds.
    pub fn quantile_us(&self, q: f64) -> f64 {
        self.latency.value_at_quantile(q) as f64 / 1000.0
    }
}

fn new_histogram() -> Result<Histogram<u64>, String> {
    Histogram::new_with_bounds(1, 120_000_000_000, 3).map_err(|e| format!("histogram: {e}"))
}

async fn connect(target: &Target) -> Result<SendRequest<Full<Bytes>>, String> {
    let stream = TcpStream::connect(target.addr)
        .await
        .map_err(|e| format!("{}: connect {}: {e}", target.name, target.addr))?;
    stream
        .set_nodelay(true)
        .map_err(|e| format!("{}: nodelay: {e}", target.name))?;
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("{}: handshake: {e}", target.name))?;
    tokio::spawn(conn);
    Ok(sender)
}

/// One timed exchange: `Ok(Ok(ns))` for a 200, `Ok(Err(_))` for another status, `Err(_)` when
/// the connection failed.
async fn exchange(
    sender: &mut SendRequest<Full<Bytes>>,
    target: &Target,
    body: &Bytes,
    stream: bool,
) -> Result<Result<u64, String>, String> {
    sender
        .ready()
        .await
        .map_err(|e| format!("{}: connection: {e}", target.name))?;
    let request = http::Request::post(target.path.as_str())
        .header(http::header::HOST, target.host.as_str())
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(Full::new(body.clone()))
        .map_err(|e| format!("{}: request: {e}", target.name))?;
    let started = Instant::now();
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| format!("{}: send: {e}", target.name))?;
    let status = response.status();
    let mut body = response.into_body();
    let mut first_token = None;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| format!("{}: body: {e}", target.name))?;
        if first_token.is_none() && frame.data_ref().is_some_and(|d| has_token(d)) {
            first_token = Some(started.elapsed());
        }
    }
    let total = started.elapsed();
    if status != http::StatusCode::OK {
        return Ok(Err(format!("{}: status {status}", target.name)));
    }
    let measured = if stream {
        first_token.unwrap_or(total)
    } else {
        total
    };
    Ok(Ok(u64::try_from(measured.as_nanos()).unwrap_or(u64::MAX)))
}

/// Whether a body frame carries the first token: a non-empty `"content":"…"` delta. The role-only
/// opening chunk does not count, on either side, so direct and gateway figures compare the same
/// moment (the gateway holds the role chunk back until the stream has content to commit to).
fn has_token(data: &[u8]) -> bool {
    const NEEDLE: &[u8] = b"\"content\":\"";
    data.windows(NEEDLE.len() + 1)
        .any(|w| w.starts_with(NEEDLE) && w[NEEDLE.len()] != b'"')
}

/// Runs `requests` requests over `concurrency` connections as fast as answers come back.
pub async fn round(
    target: &Target,
    concurrency: usize,
    requests: usize,
    stream: bool,
) -> Result<RoundStats, String> {
    let body = target.body(stream);
    let mut senders = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        senders.push(connect(target).await?);
    }
    let remaining = Arc::new(AtomicUsize::new(requests));
    let started = Instant::now();
    let mut workers = JoinSet::new();
    for mut sender in senders {
        let remaining = Arc::clone(&remaining);
        let target = target.clone();
        let body = body.clone();
        workers.spawn(async move {
            let mut stats = WorkerStats::new()?;
            while claim(&remaining) {
                match exchange(&mut sender, &target, &body, stream).await {
                    Ok(Ok(ns)) => {
                        stats.ok += 1;
                        stats.latency.saturating_record(ns);
                    }
                    Ok(Err(message)) => stats.error(message),
                    Err(message) => {
                        stats.error(message);
                        // The connection is gone: one new one, or this worker stops.
                        match connect(&target).await {
                            Ok(fresh) => sender = fresh,
                            Err(message) => {
                                stats.error(message);
                                break;
                            }
                        }
                    }
                }
            }
            Ok::<_, String>(stats)
        });
    }
    let mut total = RoundStats {
        latency: new_histogram()?,
        ok: 0,
        errors: 0,
        elapsed: Duration::ZERO,
        first_error: None,
    };
    while let Some(joined) = workers.join_next().await {
        let stats = joined.map_err(|e| format!("worker: {e}"))??;
        total
            .latency
            .add(&stats.latency)
            .map_err(|e| format!("histogram: {e}"))?;
        total.ok += stats.ok;
        total.errors += stats.errors;
        if total.first_error.is_none() {
            total.first_error = stats.first_error;
        }
    }
    total.elapsed = started.elapsed();
    Ok(total)
}

fn claim(remaining: &AtomicUsize) -> bool {
    remaining
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
        .is_ok()
}

struct WorkerStats {
    latency: Histogram<u64>,
    ok: usize,
    errors: usize,
    first_error: Option<String>,
}

impl WorkerStats {
    fn new() -> Result<Self, String> {
        Ok(Self {
            latency: new_histogram()?,
            ok: 0,
            errors: 0,
            first_error: None,
        })
    }

    fn error(&mut self, message: String) {
        self.errors += 1;
        if self.first_error.is_none() {
            self.first_error = Some(message);
        }
    }
}
