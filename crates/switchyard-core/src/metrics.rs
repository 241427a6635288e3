//! In-memory counters since start, rendered as Prometheus text (`/metrics`) and JSON
//! (`/statsz`). Updated once per finished request from its record.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Instant;

use serde::Serialize;

use crate::record::{LogCounters, RequestRecord};
use crate::routing::circuit::CircuitState;
use crate::routing::health::Figures;

/// Upper bounds in seconds for both latency histograms.
const BOUNDS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0,
];

#[derive(Debug, Clone, Default)]
struct Histogram {
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

impl Histogram {
    fn observe(&mut self, seconds: f64) {
        if self.counts.is_empty() {
            self.counts = vec![0; BOUNDS.len()];
        }
        if let Some(i) = BOUNDS.iter().position(|b| seconds <= *b) {
            self.counts[i] += 1;
        }
        self.sum += seconds;
        self.count += 1;
    }
}

/// Everything counted for one (requested model, provider) pair.
#[derive(Debug, Default)]
struct Series {
    statuses: BTreeMap<u16, u64>,
    latency: Histogram,
    ttft: Histogram,
    /// prompt, completion, cached, reasoning
    tokens: [u64; 4],
}

const TOKEN_KINDS: [&str; 4] = ["prompt", "completion", "cached", "reasoning"];

/// model → provider → series; looked up by `&str`, so counting allocates nothing once a pair
/// has been seen.
type Table = BTreeMap<String, BTreeMap<String, Series>>;

#[derive(Debug)]
pub struct Metrics {
    started: Instant,
    pub in_flight: AtomicI64,
    inner: Mutex<Table>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            started: Instant::now(),
            in_flight: AtomicI64::new(0),
            inner: Mutex::new(Table::new()),
        }
    }
}

impl Metrics {
    pub fn observe(&self, r: &RequestRecord) {
        let model = r.requested_model.as_deref().unwrap_or_default();
        let provider = r.provider.as_deref().unwrap_or_default();
        let mut table = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if !table.contains_key(model) {
            table.insert(model.to_owned(), BTreeMap::new());
        }
        let Some(providers) = table.get_mut(model) else {
            return;
        };
        if !providers.contains_key(provider) {
            providers.insert(provider.to_owned(), Series::default());
        }
        let Some(series) = providers.get_mut(provider) else {
            return;
        };
        *series.statuses.entry(r.status).or_default() += 1;
        series.latency.observe(r.latency_ms / 1000.0);
        if let Some(ttft) = r.ttft_ms {
            series.ttft.observe(ttft / 1000.0);
        }
        if let Some(t) = &r.tokens {
            for (slot, n) in
                series
                    .tokens
                    .iter_mut()
                    .zip([t.prompt, t.completion, t.cached, t.reasoning])
            {
                *slot += n;
            }
        }
    }

    /// Prometheus text exposition format 0.0.4.
    pub fn render(&self, log: &LogCounters, circuits: &[(String, CircuitState)]) -> String {
        let table = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let series = || {
            table
                .iter()
                .flat_map(|(m, ps)| ps.iter().map(move |(p, s)| (m, p, s)))
        };
        let mut out = String::with_capacity(4096);
        let _ = writeln!(
            out,
            "# HELP switchyard_requests_total Requests served, by requested model, provider (the one that answered, or failed last), and HTTP status the client saw (499: it went away)."
        );
        let _ = writeln!(out, "# TYPE switchyard_requests_total counter");
        for (model, provider, s) in series() {
            for (status, n) in &s.statuses {
                let _ = writeln!(
                    out,
                    "switchyard_requests_total{{model=\"{}\",provider=\"{}\",status=\"{status}\"}} {n}",
                    esc(model),
                    esc(provider)
                );
            }
        }
        histogram(
            &mut out,
            "switchyard_request_duration_seconds",
            "Time from request to the end of the response.",
            series().map(|(m, p, s)| (m, p, &s.latency)),
        );
        histogram(
            &mut out,
            "switchyard_time_to_first_token_seconds",
            "Time from request to the first streamed token.",
            series()
                .map(|(m, p, s)| (m, p, &s.ttft))
                .filter(|(_, _, h)| h.count > 0),
        );
        let _ = writeln!(
            out,
            "# HELP switchyard_tokens_total Tokens reported by upstreams, by kind."
        );
        let _ = writeln!(out, "# TYPE switchyard_tokens_total counter");
        for (model, provider, s) in series() {
            if s.tokens.iter().all(|n| *n == 0) {
                continue;
            }
            for (kind, n) in TOKEN_KINDS.iter().zip(s.tokens) {
                let _ = writeln!(
                    out,
                    "switchyard_tokens_total{{model=\"{}\",provider=\"{}\",kind=\"{kind}\"}} {n}",
                    esc(model),
                    esc(provider)
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP switchyard_circuit_state Circuit breaker per provider/model: 0 closed, 1 half-open, 2 open."
        );
        let _ = writeln!(out, "# TYPE switchyard_circuit_state gauge");
        for (target, state) in circuits {
            let v = match state {
                CircuitState::Closed => 0,
                CircuitState::HalfOpen => 1,
                CircuitState::Open => 2,
            };
            let _ = writeln!(
                out,
                "switchyard_circuit_state{{target=\"{}\"}} {v}",
                esc(target)
            );
        }
        let _ = writeln!(
            out,
            "# HELP switchyard_in_flight_requests Requests being served now."
        );
        let _ = writeln!(out, "# TYPE switchyard_in_flight_requests gauge");
        let _ = writeln!(
            out,
            "switchyard_in_flight_requests {}",
            self.in_flight.load(Ordering::Relaxed)
        );
        for (name, help, v) in [
            (
                "switchyard_log_rows_written_total",
                "Request log rows committed to the database.",
                &log.written,
            ),
            (
                "switchyard_log_rows_dropped_total",
                "Request log rows lost. Must stay 0.",
                &log.dropped,
            ),
            (
                "switchyard_log_queue_overflow_total",
                "Rows that found the log queue full and waited off the request path.",
                &log.overflowed,
            ),
        ] {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} counter");
            let _ = writeln!(out, "{name} {}", v.load(Ordering::Relaxed));
        }
        let _ = writeln!(
            out,
            "# HELP switchyard_uptime_seconds Seconds since the gateway started."
        );
        let _ = writeln!(out, "# TYPE switchyard_uptime_seconds gauge");
        let _ = writeln!(
            out,
            "switchyard_uptime_seconds {}",
            self.started.elapsed().as_secs_f64()
        );
        out
    }

    /// The same at a glance, for `/statsz`.
    /// The router's per-target gauges: latency estimates, requests in flight, error rate.
    pub fn render_targets(out: &mut String, targets: &[(String, Figures)]) {
        let _ = writeln!(
            out,
            "# HELP switchyard_target_latency_seconds The router's moving latency estimate per provider/model: kind=\"ttft\" for streams (time to first token), \"total\" otherwise."
        );
        let _ = writeln!(out, "# TYPE switchyard_target_latency_seconds gauge");
        for (target, f) in targets {
            for (kind, v) in [("ttft", f.ttft), ("total", f.total)] {
                if let Some(v) = v {
                    let _ = writeln!(
                        out,
                        "switchyard_target_latency_seconds{{target=\"{}\",kind=\"{kind}\"}} {}",
                        esc(target),
                        v.as_secs_f64()
                    );
                }
            }
        }
        let _ = writeln!(
            out,
            "# HELP switchyard_target_in_flight Requests in flight per provider/model."
        );
        let _ = writeln!(out, "# TYPE switchyard_target_in_flight gauge");
        for (target, f) in targets {
            let _ = writeln!(
                out,
                "switchyard_target_in_flight{{target=\"{}\"}} {}",
                esc(target),
                f.in_flight
            );
        }
        let _ = writeln!(
            out,
            "# HELP switchyard_target_error_rate Moving share of recent attempts that failed, per provider/model."
        );
        let _ = writeln!(out, "# TYPE switchyard_target_error_rate gauge");
        for (target, f) in targets {
            let _ = writeln!(
                out,
                "switchyard_target_error_rate{{target=\"{}\"}} {}",
                esc(target),
                f.error_rate
            );
        }
    }

    pub fn summary(&self, log: &LogCounters, circuits: &[(String, CircuitState)]) -> Summary {
        let table = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut models = Vec::new();
        let (mut total, mut errors, mut tokens) = (0u64, 0u64, 0u64);
        for (model, providers) in table.iter() {
            let (mut n, mut e) = (0u64, 0u64);
            for s in providers.values() {
                tokens += s.tokens.iter().sum::<u64>();
                for (status, count) in &s.statuses {
                    n += count;
                    if *status >= 400 {
                        e += count;
                    }
                }
            }
            total += n;
            errors += e;
            models.push(ModelCount {
                model: model.clone(),
                requests: n,
                errors: e,
            });
        }
        Summary {
            uptime_s: self.started.elapsed().as_secs(),
            in_flight: self.in_flight.load(Ordering::Relaxed),
            requests: total,
            errors,
            tokens,
            models,
            log: LogCounts {
                written: log.written.load(Ordering::Relaxed),
                dropped: log.dropped.load(Ordering::Relaxed),
                queue_overflow: log.overflowed.load(Ordering::Relaxed),
                queue_depth: log.backlog(),
            },
            circuits: circuits
                .iter()
                .map(|(target, state)| CircuitCount {
                    target: target.clone(),
                    state: *state,
                })
                .collect(),
        }
    }
}

/// The counters since start, at a glance.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Summary {
    pub uptime_s: u64,
    pub in_flight: i64,
    pub requests: u64,
    pub errors: u64,
    pub tokens: u64,
    pub models: Vec<ModelCount>,
    pub log: LogCounts,
    pub circuits: Vec<CircuitCount>,
}

/// Requests and errors for one model since start.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ModelCount {
    pub model: String,
    pub requests: u64,
    pub errors: u64,
}

/// The request log writer's counters.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LogCounts {
    pub written: u64,
    pub dropped: u64,
    pub queue_overflow: u64,
    pub queue_depth: u64,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CircuitCount {
    pub target: String,
    pub state: CircuitState,
}

fn histogram<'a>(
    out: &mut String,
    name: &str,
    help: &str,
    series: impl Iterator<Item = (&'a String, &'a String, &'a Histogram)>,
) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} histogram");
    for (model, provider, h) in series {
        let labels = format!("model=\"{}\",provider=\"{}\"", esc(model), esc(provider));
        let mut cumulative = 0;
        for (bound, n) in BOUNDS.iter().zip(&h.counts) {
            cumulative += n;
            let _ = writeln!(out, "{name}_bucket{{{labels},le=\"{bound}\"}} {cumulative}");
        }
        let _ = writeln!(out, "{name}_bucket{{{labels},le=\"+Inf\"}} {}", h.count);
        let _ = writeln!(out, "{name}_sum{{{labels}}} {}", h.sum);
        let _ = writeln!(out, "{name}_count{{{labels}}} {}", h.count);
    }
}

/// Escapes a label value: backslash, double quote and newline.
fn esc(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
