//! Turns round measurements into the bench report: medians over rounds, added latency (gateway
//! over direct, and request-log capture on over off), target checks, the table printed to stdout
//! and the JSON written to `bench-results/latest.json`.

use std::fmt::Write as _;

use serde::Serialize;

use crate::gateway::{LogCounters, Memory};
use crate::load::RoundStats;

/// Added p50 at c=1 and c=64 must stay at or under this.
pub const TARGET_ADDED_P50_US: f64 = 100.0;
/// Added p99 at c=1 and c=64 must stay at or under this.
pub const TARGET_ADDED_P99_US: f64 = 1000.0;
/// Peak RSS of the gateway must stay at or under this.
pub const TARGET_PEAK_RSS_MB: f64 = 40.0;
/// What capturing requests in the log (on − off) may add to p99 at c=64.
pub const TARGET_CAPTURE_P99_US: f64 = 500.0;
/// What a request through the 4-member pool may add to p50 over a single-target request.
pub const TARGET_POOL_OVER_SINGLE_P50_US: f64 = 10.0;

/// The whole report, as written to JSON.
#[derive(Debug, Serialize)]
pub struct Report {
    pub generated_at_unix: u64,
    pub gateway_bin: String,
    pub self_test: bool,
    pub quick: bool,
    pub rounds: usize,
    pub cpus: usize,
    pub non_streaming: Vec<Comparison>,
    pub streaming_ttft: Comparison,
    pub gateway_memory: Option<Memory>,
    pub request_log: RequestLog,
    pub routing: Routing,
    pub errors: usize,
    pub first_error: Option<String>,
    pub targets: Vec<Check>,
}

/// The request log's cost and health: the same binary with `[log] enabled = false` and `true`,
/// their rounds interleaved with the direct ones at c=1 and c=64. Everything else in the report
/// (`non_streaming`, `streaming_ttft`, `gateway_memory`) is the log-on gateway, the default.
#[derive(Debug, Serialize)]
pub struct RequestLog {
    /// Log off vs log on, at c=1 and c=64.
    pub capture: Vec<Capture>,
    /// Direct vs the log-off gateway, from the same rounds (`gateway` is the log-off one).
    pub log_off_vs_direct: Vec<Comparison>,
    /// The log-off gateway after its c=1 and c=64 rounds (all it runs).
    pub log_off_memory: Option<Memory>,
    /// The log-on gateway at the same point, before its c=256 and streaming rounds.
    pub log_on_memory_after_capture_rounds: Option<Memory>,
    /// Requests sent to the log-on gateway over the whole run (probes and warm-ups included).
    pub log_on_requests_sent: usize,
    /// [median, max] over the log-on gateway's rounds of the time from the round's last answer
    /// until its last row was committed (other sides' rounds start only then); `None` in
    /// self-test.
    pub writer_catch_up_ms: Option<[f64; 2]>,
    /// The log-on gateway's `/metrics` counters after the run; `None` in self-test.
    pub log_on_counters: Option<LogCounters>,
    /// Size of the log-on gateway's data folder (`switchyard.db`, `-wal`, `-shm`) at the end.
    pub log_on_db_bytes: Option<u64>,
}

/// Log off vs log on at one concurrency.
#[derive(Debug, Serialize)]
pub struct Capture {
    pub concurrency: usize,
    pub requests_per_round: usize,
    pub log_off: Side,
    pub log_on: Side,
    /// Median over rounds of (log-on round p50 − log-off round p50).
    pub added_p50_us: f64,
    /// Median over rounds of (log-on round p99 − log-off round p99).
    pub added_p99_us: f64,
    pub added_p50_range_us: [f64; 2],
    pub added_p99_range_us: [f64; 2],
    /// The first error seen on either side, warm-up included.
    pub first_error: Option<String>,
}

/// What choosing costs: the same (log-off) gateway asked for one pinned target and for the bare
/// id that a pool of providers serves, rounds of direct, single and pool interleaved.
#[derive(Debug, Serialize)]
pub struct Routing {
    pub concurrency: usize,
    pub rounds: usize,
    pub requests_per_round: usize,
    /// Members of the pool, all at the same fake upstream.
    pub pool_members: usize,
    pub pool_strategy: &'static str,
    /// Direct vs the gateway asked for `fake/bench-model`.
    pub single: Comparison,
    /// Direct vs the gateway asked for `bench-model`, the pool.
    pub pool: Comparison,
    /// Median over rounds of (pool round p50 − single round p50).
    pub pool_over_single_p50_us: f64,
    /// Median over rounds of (pool round p99 − single round p99).
    pub pool_over_single_p99_us: f64,
    pub pool_over_single_p50_range_us: [f64; 2],
}

impl Routing {
    /// From the warm-up and the rounds, each [direct, single target, pool].
    pub fn from_rounds(
        concurrency: usize,
        requests_per_round: usize,
        (pool_members, pool_strategy): (usize, &'static str),
        warmup: [&RoundStats; 3],
        rounds: &[[&RoundStats; 3]],
    ) -> Self {
        let with = |a: usize, b: usize| -> Vec<[&RoundStats; 2]> {
            rounds.iter().map(|r| [r[a], r[b]]).collect()
        };
        let over = paired([warmup[1], warmup[2]], &with(1, 2));
        Self {
            concurrency,
            rounds: rounds.len(),
            requests_per_round,
            pool_members,
            pool_strategy,
            single: Comparison::from_rounds(
                concurrency,
                requests_per_round,
                [warmup[0], warmup[1]],
                &with(0, 1),
            ),
            pool: Comparison::from_rounds(
                concurrency,
                requests_per_round,
                [warmup[0], warmup[2]],
                &with(0, 2),
            ),
            pool_over_single_p50_us: over.added_p50_us,
            pool_over_single_p99_us: over.added_p99_us,
            pool_over_single_p50_range_us: over.added_p50_range_us,
        }
    }

    /// Errors of the pool side (direct's and the single target's are counted with theirs).
    pub fn errors(&self) -> usize {
        self.pool.errors()
    }
}

/// Direct vs gateway at one concurrency.
#[derive(Debug, Serialize)]
pub struct Comparison {
    pub concurrency: usize,
    pub requests_per_round: usize,
    pub direct: Side,
    pub gateway: Side,
    /// Median over rounds of (gateway round p50 − direct round p50).
    pub added_p50_us: f64,
    /// Median over rounds of (gateway round p99 − direct round p99).
    pub added_p99_us: f64,
    /// Smallest and largest per-round added p50.
    pub added_p50_range_us: [f64; 2],
    /// Smallest and largest per-round added p99.
    pub added_p99_range_us: [f64; 2],
    /// The first error seen on either side, warm-up included.
    pub first_error: Option<String>,
}

/// One side's figures: medians over rounds, and the rounds themselves.
#[derive(Debug, Serialize)]
pub struct Side {
    pub p50_us: f64,
    pub p99_us: f64,
    pub rps: f64,
    pub errors: usize,
    pub rounds: Vec<RoundFigures>,
}

/// One round's figures.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct RoundFigures {
    pub p50_us: f64,
    pub p99_us: f64,
    pub rps: f64,
}

/// One target line.
#[derive(Debug, Serialize)]
pub struct Check {
    pub what: String,
    pub value: String,
    pub limit: String,
    /// `None` when there was nothing to measure (e.g. memory in self-test).
    pub pass: Option<bool>,
}

pub fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => 0.0,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

fn range(values: &[f64]) -> [f64; 2] {
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if values.is_empty() {
        [0.0, 0.0]
    } else {
        [min, max]
    }
}

fn figures(stats: &RoundStats) -> RoundFigures {
    RoundFigures {
        p50_us: stats.quantile_us(0.5),
        p99_us: stats.quantile_us(0.99),
        rps: stats.rps(),
    }
}

fn side(rounds: &[&RoundStats], extra_errors: usize) -> Side {
    let figs: Vec<RoundFigures> = rounds.iter().map(|s| figures(s)).collect();
    let pick = |f: fn(&RoundFigures) -> f64| median(&mut figs.iter().map(f).collect::<Vec<_>>());
    Side {
        p50_us: pick(|f| f.p50_us),
        p99_us: pick(|f| f.p99_us),
        rps: pick(|f| f.rps),
        errors: rounds.iter().map(|s| s.errors).sum::<usize>() + extra_errors,
        rounds: figs,
    }
}

/// Two sides measured in paired rounds, and what the second adds over the first.
struct Paired {
    base: Side,
    other: Side,
    added_p50_us: f64,
    added_p99_us: f64,
    added_p50_range_us: [f64; 2],
    added_p99_range_us: [f64; 2],
    first_error: Option<String>,
}

/// `warmup` and each of `pairs` are (base, other) rounds run back to back.
fn paired(warmup: [&RoundStats; 2], pairs: &[[&RoundStats; 2]]) -> Paired {
    let first_error = std::iter::once(&warmup)
        .chain(pairs)
        .flatten()
        .find_map(|s| s.first_error.clone());
    let base: Vec<&RoundStats> = pairs.iter().map(|[b, _]| *b).collect();
    let other: Vec<&RoundStats> = pairs.iter().map(|[_, o]| *o).collect();
    let added = |q: f64| -> Vec<f64> {
        pairs
            .iter()
            .map(|[b, o]| o.quantile_us(q) - b.quantile_us(q))
            .collect()
    };
    let added_p50 = added(0.5);
    let added_p99 = added(0.99);
    Paired {
        base: side(&base, warmup[0].errors),
        other: side(&other, warmup[1].errors),
        added_p50_us: median(&mut added_p50.clone()),
        added_p99_us: median(&mut added_p99.clone()),
        added_p50_range_us: range(&added_p50),
        added_p99_range_us: range(&added_p99),
        first_error,
    }
}

impl Comparison {
    /// Builds the comparison from the warm-up and the paired rounds, each [direct, gateway].
    pub fn from_rounds(
        concurrency: usize,
        requests_per_round: usize,
        warmup: [&RoundStats; 2],
        pairs: &[[&RoundStats; 2]],
    ) -> Self {
        let p = paired(warmup, pairs);
        Self {
            concurrency,
            requests_per_round,
            direct: p.base,
            gateway: p.other,
            added_p50_us: p.added_p50_us,
            added_p99_us: p.added_p99_us,
            added_p50_range_us: p.added_p50_range_us,
            added_p99_range_us: p.added_p99_range_us,
            first_error: p.first_error,
        }
    }

    pub fn errors(&self) -> usize {
        self.direct.errors + self.gateway.errors
    }
}

impl Capture {
    /// Builds the comparison from the warm-up and the paired rounds, each [log off, log on].
    pub fn from_rounds(
        concurrency: usize,
        requests_per_round: usize,
        warmup: [&RoundStats; 2],
        pairs: &[[&RoundStats; 2]],
    ) -> Self {
        let p = paired(warmup, pairs);
        Self {
            concurrency,
            requests_per_round,
            log_off: p.base,
            log_on: p.other,
            added_p50_us: p.added_p50_us,
            added_p99_us: p.added_p99_us,
            added_p50_range_us: p.added_p50_range_us,
            added_p99_range_us: p.added_p99_range_us,
            first_error: p.first_error,
        }
    }

    /// Errors of the log-off side (the log-on side's are counted in `non_streaming`).
    pub fn log_off_errors(&self) -> usize {
        self.log_off.errors
    }
}

/// The target lines: added p50/p99 at c=1 and c=64, peak RSS, what capture adds to p99 at c=64,
/// no lost log rows, and what the pool adds to p50 over a single target.
pub fn checks(
    non_streaming: &[Comparison],
    memory: Option<Memory>,
    request_log: &RequestLog,
    routing: &Routing,
) -> Vec<Check> {
    let mut out = Vec::new();
    for c in non_streaming
        .iter()
        .filter(|c| c.concurrency == 1 || c.concurrency == 64)
    {
        out.push(Check {
            what: format!("added p50 at c={}", c.concurrency),
            value: signed_us(c.added_p50_us),
            limit: format!("<= {TARGET_ADDED_P50_US} µs"),
            pass: Some(c.added_p50_us <= TARGET_ADDED_P50_US),
        });
        out.push(Check {
            what: format!("added p99 at c={}", c.concurrency),
            value: signed_us(c.added_p99_us),
            limit: format!("<= {TARGET_ADDED_P99_US} µs"),
            pass: Some(c.added_p99_us <= TARGET_ADDED_P99_US),
        });
    }
    let peak_mb = memory.map(|m| m.peak_kb as f64 / 1024.0);
    out.push(Check {
        what: "gateway peak RSS".to_owned(),
        value: peak_mb.map_or_else(|| "n/a".to_owned(), |mb| format!("{mb:.1} MB")),
        limit: format!("<= {TARGET_PEAK_RSS_MB} MB"),
        pass: peak_mb.map(|mb| mb <= TARGET_PEAK_RSS_MB),
    });
    for c in request_log.capture.iter().filter(|c| c.concurrency == 64) {
        out.push(Check {
            what: "capture adds p99 at c=64".to_owned(),
            value: signed_us(c.added_p99_us),
            limit: format!("<= {TARGET_CAPTURE_P99_US} µs"),
            pass: Some(c.added_p99_us <= TARGET_CAPTURE_P99_US),
        });
    }
    let dropped = request_log.log_on_counters.map(|c| c.rows_dropped);
    out.push(Check {
        what: "log rows dropped".to_owned(),
        value: dropped.map_or_else(|| "n/a".to_owned(), |n| n.to_string()),
        limit: "== 0".to_owned(),
        pass: dropped.map(|n| n == 0),
    });
    out.push(Check {
        what: format!("pool adds p50 at c={}", routing.concurrency),
        value: signed_us(routing.pool_over_single_p50_us),
        limit: format!("<= {TARGET_POOL_OVER_SINGLE_P50_US} µs"),
        pass: Some(routing.pool_over_single_p50_us <= TARGET_POOL_OVER_SINGLE_P50_US),
    });
    out
}

fn mb(kb: u64) -> String {
    format!("{:.1} MB", kb as f64 / 1024.0)
}

/// The "request log capture" section of the table.
fn request_log_table(out: &mut String, log: &RequestLog) {
    let _ = writeln!(
        out,
        "{:<20}{:<24}{:<24}{:<26}{:>12}{:>13}",
        "request log capture",
        "log off p50/p99",
        "log on p50/p99",
        "capture adds p50/p99",
        "rps off",
        "rps on"
    );
    for c in &log.capture {
        let _ = writeln!(
            out,
            "{:<20}{:<24}{:<24}{:<26}{:>12.0}{:>13.0}",
            format!("c={}", c.concurrency),
            pair(us(c.log_off.p50_us), us(c.log_off.p99_us)),
            pair(us(c.log_on.p50_us), us(c.log_on.p99_us)),
            pair(signed_us(c.added_p50_us), signed_us(c.added_p99_us)),
            c.log_off.rps,
            c.log_on.rps,
        );
    }
    for c in &log.log_off_vs_direct {
        let _ = writeln!(
            out,
            "  log-off gateway over direct at c={}: {} p50 / {} p99",
            c.concurrency,
            signed_us(c.added_p50_us),
            signed_us(c.added_p99_us)
        );
    }
    let peak = |m: Option<Memory>| m.map_or_else(|| "n/a".to_owned(), |m| mb(m.peak_kb));
    let _ = writeln!(
        out,
        "peak RSS after the c=1/c=64 rounds: log off {}, log on {}",
        peak(log.log_off_memory),
        peak(log.log_on_memory_after_capture_rounds)
    );
    if let Some([median, max]) = log.writer_catch_up_ms {
        let _ = writeln!(
            out,
            "log writer caught up {median:.1} ms (median) / {max:.1} ms (max) after a log-on round"
        );
    }
    match log.log_on_counters {
        Some(c) => {
            let _ = writeln!(
                out,
                "log rows written: {} of {} requests sent to the log-on gateway",
                c.rows_written, log.log_on_requests_sent
            );
            let _ = writeln!(
                out,
                "log rows dropped: {} (must be 0); queue overflows: {}; database {}",
                c.rows_dropped,
                c.queue_overflow,
                log.log_on_db_bytes
                    .map_or_else(|| "n/a".to_owned(), |b| mb(b / 1024)),
            );
        }
        None => {
            let _ = writeln!(out, "log rows written: n/a\nlog rows dropped: n/a");
        }
    }
}

fn us(v: f64) -> String {
    if v.abs() < 10.0 {
        format!("{v:.1} µs")
    } else if v.abs() < 10_000.0 {
        format!("{v:.0} µs")
    } else {
        format!("{:.1} ms", v / 1000.0)
    }
}

fn signed_us(v: f64) -> String {
    if v >= 0.0 {
        format!("+{}", us(v))
    } else {
        us(v)
    }
}

fn pair(a: String, b: String) -> String {
    format!("{a} / {b}")
}

/// The human-readable table.
pub fn table(report: &Report) -> String {
    let mut out = String::new();
    let header = |out: &mut String, first: &str| {
        let _ = writeln!(
            out,
            "{first:<20}{:<24}{:<24}{:<26}{:>12}{:>13}",
            "direct p50/p99", "gateway p50/p99", "added p50/p99", "rps direct", "rps gateway"
        );
    };
    let row = |out: &mut String, label: String, c: &Comparison| {
        let _ = writeln!(
            out,
            "{label:<20}{:<24}{:<24}{:<26}{:>12.0}{:>13.0}",
            pair(us(c.direct.p50_us), us(c.direct.p99_us)),
            pair(us(c.gateway.p50_us), us(c.gateway.p99_us)),
            pair(signed_us(c.added_p50_us), signed_us(c.added_p99_us)),
            c.direct.rps,
            c.gateway.rps,
        );
    };
    let mode = if report.self_test {
        " (self-test: each \"gateway\" is another fake)"
    } else {
        ""
    };
    let _ = writeln!(
        out,
        "switchyard-bench: {} rounds per side, interleaved, medians of rounds; {} CPUs{mode}",
        report.rounds, report.cpus
    );
    header(&mut out, "non-streaming");
    for c in &report.non_streaming {
        row(&mut out, format!("c={}", c.concurrency), c);
    }
    header(&mut out, "streaming TTFT");
    row(&mut out, "c=1".to_owned(), &report.streaming_ttft);
    let routing = &report.routing;
    header(&mut out, &format!("routing c={}", routing.concurrency));
    row(&mut out, "single target".to_owned(), &routing.single);
    row(
        &mut out,
        format!("pool of {}", routing.pool_members),
        &routing.pool,
    );
    let [low, high] = routing.pool_over_single_p50_range_us;
    let _ = writeln!(
        out,
        "  {}-member {} pool over single target (log-off gateway, {} rounds x {} requests): {} p50 / {} p99 (per-round p50 {} .. {})",
        routing.pool_members,
        routing.pool_strategy,
        routing.rounds,
        routing.requests_per_round,
        signed_us(routing.pool_over_single_p50_us),
        signed_us(routing.pool_over_single_p99_us),
        signed_us(low),
        signed_us(high),
    );
    request_log_table(&mut out, &report.request_log);
    match report.gateway_memory {
        Some(m) => {
            let _ = writeln!(
                out,
                "gateway peak RSS (log on, whole run): {:.1} MB (now {:.1} MB)",
                m.peak_kb as f64 / 1024.0,
                m.current_kb as f64 / 1024.0
            );
        }
        None => {
            let _ = writeln!(out, "gateway peak RSS (log on, whole run): n/a");
        }
    }
    let _ = writeln!(out, "errors: {}", report.errors);
    if let Some(e) = &report.first_error {
        let _ = writeln!(out, "first error: {e}");
    }
    let _ = writeln!(
        out,
        "targets: added p50 <= {TARGET_ADDED_P50_US} µs and p99 <= {TARGET_ADDED_P99_US} µs at c=1 and c=64; RSS <= {TARGET_PEAK_RSS_MB} MB; capture adds p99 <= {TARGET_CAPTURE_P99_US} µs at c=64; no lost log rows; the pool adds p50 <= {TARGET_POOL_OVER_SINGLE_P50_US} µs over a single target"
    );
    for check in &report.targets {
        let verdict = match check.pass {
            Some(true) => "PASS",
            Some(false) => "MISS",
            None => "n/a",
        };
        let _ = writeln!(
            out,
            "  {:<24}{:>12}  {:<14}-> {verdict}",
            check.what, check.value, check.limit
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A round whose every request took `us` microseconds.
    fn round_of(us: u64) -> Result<RoundStats, Box<dyn std::error::Error>> {
        let mut latency = hdrhistogram::Histogram::new_with_bounds(1, 120_000_000_000, 3)?;
        latency.record_n(us * 1000, 100)?;
        Ok(RoundStats {
            latency,
            ok: 100,
            errors: 0,
            elapsed: std::time::Duration::from_millis(10),
            first_error: None,
        })
    }

    #[test]
    fn the_pool_is_compared_with_the_single_target_round_by_round()
    -> Result<(), Box<dyn std::error::Error>> {
        // [direct, single, pool] per round: the pool costs 4, 6 and 30 µs more than the single
        // target; the median, 6 µs, is what is reported, not the mean.
        let rounds = [
            [round_of(50)?, round_of(100)?, round_of(104)?],
            [round_of(60)?, round_of(120)?, round_of(126)?],
            [round_of(50)?, round_of(100)?, round_of(130)?],
        ];
        let warmup = [round_of(50)?, round_of(100)?, round_of(100)?];
        let refs: Vec<[&RoundStats; 3]> = rounds.iter().map(|[a, b, c]| [a, b, c]).collect();
        let r = Routing::from_rounds(
            1,
            100,
            (4, "least_latency"),
            [&warmup[0], &warmup[1], &warmup[2]],
            &refs,
        );
        assert!(
            (r.pool_over_single_p50_us - 6.0).abs() < 0.5,
            "{}",
            r.pool_over_single_p50_us
        );
        assert!((r.pool_over_single_p50_range_us[0] - 4.0).abs() < 0.5);
        assert!((r.pool_over_single_p50_range_us[1] - 30.0).abs() < 0.5);
        assert!(
            (r.single.added_p50_us - 50.0).abs() < 0.5,
            "{}",
            r.single.added_p50_us
        );
        assert!(
            (r.pool.added_p50_us - 66.0).abs() < 0.5,
            "{}",
            r.pool.added_p50_us
        );
        assert_eq!(r.errors(), 0);
        let log = RequestLog {
            capture: Vec::new(),
            log_off_vs_direct: Vec::new(),
            log_off_memory: None,
            log_on_memory_after_capture_rounds: None,
            log_on_requests_sent: 0,
            writer_catch_up_ms: None,
            log_on_counters: None,
            log_on_db_bytes: None,
        };
        let check = checks(&[], None, &log, &r)
            .into_iter()
            .find(|c| c.what == "pool adds p50 at c=1")
            .map(|c| c.pass);
        assert_eq!(check, Some(Some(true)));
        Ok(())
    }

    #[test]
    fn medians_and_ranges() {
        assert!((median(&mut [3.0, 1.0, 2.0]) - 2.0).abs() < f64::EPSILON);
        assert!((median(&mut [4.0, 1.0, 2.0, 3.0]) - 2.5).abs() < f64::EPSILON);
        assert_eq!(range(&[2.0, -1.0, 5.0]), [-1.0, 5.0]);
        assert_eq!(signed_us(49.4), "+49 µs");
        assert_eq!(signed_us(-3.26), "-3.3 µs");
        assert_eq!(signed_us(27_275.0), "+27.3 ms");
    }
}
