//! The request record: what one request through `/v1/*` looked like, built up while it runs
//! ([`Draft`]) and handed to the log writer when it ends ([`Recorder`]). Submitting never waits:
//! a full queue hands the row to a task that waits for room, so no row is dropped while the
//! writer lives. Nothing here talks to the database; `store` does.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use bytes::Bytes;
use serde::Serialize;
use tokio::sync::mpsc;

use crate::error::Attempt;
pub use switchyard_dialects::tokens::TokenCounts;

/// One finished request, as stored.
#[derive(Debug, Clone, Serialize)]
pub struct RequestRecord {
    pub id: String,
    /// Unix time in milliseconds.
    pub started_at_ms: i64,
    pub method: String,
    pub endpoint: String,
    /// The client's User-Agent.
    pub client: Option<String>,
    /// The name of the client key used, once client keys exist.
    pub key_name: Option<String>,
    pub requested_model: Option<String>,
    pub provider: Option<String>,
    pub model: Option<String>,
    pub stream: bool,
    /// The HTTP status the client saw; 499 when it went away first.
    pub status: u16,
    pub outcome: Outcome,
    pub error: Option<String>,
    pub latency_ms: f64,
    pub ttft_ms: Option<f64>,
    pub tokens: Option<TokenCounts>,
    pub cost_usd: Option<f64>,
    pub attempts: Vec<Attempt>,
    /// The strategy of the alias or pool it went through; `None` for a pinned model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strategy: Option<String>,
    /// The tool loop's steps (model rounds, tool calls, results), when one ran.
    #[serde(skip)]
    pub steps: Vec<serde_json::Value>,
    #[serde(skip)]
    pub request_body: Option<Bytes>,
    #[serde(skip)]
    pub response_body: Option<Bytes>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Answered in full.
    Ok,
    /// Answered with an error, before or during the response.
    Error,
    /// The client went away before the answer was complete.
    ClientClosed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Error => "error",
            Self::ClientClosed => "client_closed",
        }
    }
}

pub use crate::config::models::Price;

// `Price` is the config's; what a request cost is worked out here, beside the token counts.
impl Price {
    pub fn cost(&self, t: &TokenCounts) -> f64 {
        let cached = t.cached.min(t.prompt);
        let fresh = t.prompt - cached;
        (fresh as f64 * self.input
            + cached as f64 * self.cached.unwrap_or(self.input)
            + t.completion as f64 * self.output)
            / 1_000_000.0
    }
}

/// What a handler learns about a request while serving it. Cheap to clone; a detached draft
/// (no recording) ignores every update.
#[derive(Debug, Clone, Default)]
pub struct Draft(Option<Arc<Mutex<DraftInner>>>);

#[derive(Debug, Default)]
pub struct DraftInner {
    /// When the gateway received the request.
    pub started: Option<Instant>,
    pub requested_model: Option<String>,
    pub provider: Option<String>,
    pub model: Option<String>,
    pub stream: bool,
    pub error: Option<String>,
    pub ttft_ms: Option<f64>,
    pub tokens: Option<TokenCounts>,
    pub price: Option<Price>,
    pub attempts: Vec<Attempt>,
    pub strategy: Option<&'static str>,
    pub steps: Vec<serde_json::Value>,
    pub request_body: Option<Bytes>,
    pub response_body: Option<Bytes>,
    /// The response body ended in an error the status does not show (a mid-stream failure).
    pub failed_in_body: bool,
}

impl Draft {
    pub fn attached(started: Instant) -> Self {
        Self(Some(Arc::new(Mutex::new(DraftInner {
            started: Some(started),
            ..DraftInner::default()
        }))))
    }

    /// Milliseconds since the request arrived, if known.
    pub fn elapsed_ms(&self) -> Option<f64> {
        let inner = self.0.as_ref()?;
        let started = inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .started?;
        Some(ms_since(started))
    }

    pub fn is_attached(&self) -> bool {
        self.0.is_some()
    }

    /// Applies `f` to the draft, if this request is being recorded.
    pub fn update(&self, f: impl FnOnce(&mut DraftInner)) {
        if let Some(inner) = &self.0 {
            let mut guard = inner
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            f(&mut guard);
        }
    }

    /// Records that the answer failed after its status went out (a mid-stream failure), and why,
    /// and says so in the gateway's log: the one place every door reports such failures, so
    /// they all log alike, whether or not the request log is on.
    pub fn fail_in_body(&self, error: String) {
        let mut target = None;
        self.update(|d| {
            target = d.provider.clone().map(|p| match &d.model {
                Some(m) => format!("{p}/{m}"),
                None => p,
            });
            d.failed_in_body = true;
            d.error = Some(error.clone());
        });
        tracing::warn!(
            upstream = target.as_deref().unwrap_or("-"),
            "the answer failed after it had begun: {error}"
        );
    }

    pub fn take(&self) -> DraftInner {
        match &self.0 {
            Some(inner) => std::mem::take(
                &mut *inner
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner),
            ),
            None => DraftInner::default(),
        }
    }
}

/// Counters of the log pipeline, exported as metrics.
#[derive(Debug, Default)]
pub struct LogCounters {
    pub submitted: AtomicU64,
    pub written: AtomicU64,
    /// Rows lost because the writer was gone. Must stay 0.
    pub dropped: AtomicU64,
    /// Rows that found the queue full and waited for room off the request path.
    pub overflowed: AtomicU64,
}

impl LogCounters {
    /// Rows submitted but neither written nor lost yet.
    pub fn backlog(&self) -> u64 {
        let done = self.written.load(Ordering::Relaxed) + self.dropped.load(Ordering::Relaxed);
        self.submitted.load(Ordering::Relaxed).saturating_sub(done)
    }
}

/// The sending side of the request log.
#[derive(Debug, Clone)]
pub struct Recorder {
    tx: Option<mpsc::Sender<RequestRecord>>,
    pub counters: Arc<LogCounters>,
    pub capture_bodies: bool,
}

impl Recorder {
    /// A recorder that records nothing (no data folder, or logging switched off).
    pub fn disabled() -> Self {
        Self {
            tx: None,
            counters: Arc::new(LogCounters::default()),
            capture_bodies: false,
        }
    }

    pub fn new(
        tx: mpsc::Sender<RequestRecord>,
        counters: Arc<LogCounters>,
        capture_bodies: bool,
    ) -> Self {
        Self {
            tx: Some(tx),
            counters,
            capture_bodies,
        }
    }

    pub fn enabled(&self) -> bool {
        self.tx.is_some()
    }

    /// Queues a finished record without waiting.
    pub fn submit(&self, record: RequestRecord) {
        let Some(tx) = &self.tx else { return };
        self.counters.submitted.fetch_add(1, Ordering::Relaxed);
        match tx.try_send(record) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(record)) => {
                self.counters.overflowed.fetch_add(1, Ordering::Relaxed);
                let tx = tx.clone();
                let counters = self.counters.clone();
                match tokio::runtime::Handle::try_current() {
                    Ok(handle) => {
                        handle.spawn(async move {
                            if tx.send(record).await.is_err() {
                                counters.dropped.fetch_add(1, Ordering::Relaxed);
                            }
                        });
                    }
                    Err(_) => {
                        self.counters.dropped.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                self.counters.dropped.fetch_add(1, Ordering::Relaxed);
                tracing::error!("request log writer is gone: a row was lost");
            }
        }
    }
}

/// Bits of a request key below the milliseconds.
pub const ID_SEQUENCE_BITS: u32 = 19;

/// A time-ordered request id, unique within the process: `req_` + 16 hex digits of
/// `(milliseconds << 19) | sequence`. The store keeps the number as its row key.
pub fn new_request_id(now_ms: i64) -> String {
    static SEQUENCE: AtomicU64 = AtomicU64::new(0);
    let seq = SEQUENCE.fetch_add(1, Ordering::Relaxed) & ((1 << ID_SEQUENCE_BITS) - 1);
    let key = (u64::try_from(now_ms.max(0)).unwrap_or(0) << ID_SEQUENCE_BITS) | seq;
    format!("req_{key:016x}")
}

/// The row key of a request id, if it is one.
pub fn request_key(id: &str) -> Option<i64> {
    let hex = id.strip_prefix("req_")?;
    if hex.len() != 16 {
        return None;
    }
    i64::from_str_radix(hex, 16).ok()
}

/// The request id of a row key.
pub fn request_id(key: i64) -> String {
    format!("req_{key:016x}")
}

/// The smallest row key at or after a time (unix ms).
pub fn key_at(ms: i64) -> i64 {
    ms.max(0).saturating_mul(1 << ID_SEQUENCE_BITS)
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// `2026-11-22T00:31:00Z` (RFC 3339, UTC) for unix milliseconds.
pub fn utc_timestamp(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Elapsed milliseconds since `start`, with microsecond precision.
pub fn ms_since(start: Instant) -> f64 {
    start.elapsed().as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_time_ordered_keys() {
        let a = new_request_id(1_795_307_460_000);
        let b = new_request_id(1_795_307_460_000);
        let c = new_request_id(1_795_307_460_001);
        assert!(a < b && b < c, "{a} {b} {c}");
        let key = request_key(&a).unwrap();
        assert_eq!(request_id(key), a);
        assert!(key >= key_at(1_795_307_460_000) && key < key_at(1_795_307_460_001));
        assert_eq!(request_key("req_nope"), None);
    }

    #[test]
    fn utc_timestamps() {
        assert_eq!(utc_timestamp(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc_timestamp(1_795_307_460_000), "2026-11-22T00:31:00Z");
        assert_eq!(utc_timestamp(951_782_400_000), "2000-02-29T00:00:00Z");
        assert_eq!(utc_timestamp(-1000), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn cost_counts_cached_tokens_at_their_price() {
        let p = Price {
            input: 2.0,
            output: 8.0,
            cached: Some(0.5),
        };
        let t = TokenCounts {
            prompt: 1_000_000,
            completion: 500_000,
            cached: 400_000,
            reasoning: 0,
        };
        assert!((p.cost(&t) - 5.4).abs() < 1e-9);
    }
}
