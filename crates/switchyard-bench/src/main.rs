//! `switchyard-bench`, the `make bench` driver: added latency, throughput, streaming TTFT and
//! peak memory of the gateway against a fake upstream, direct and gateway rounds interleaved
//! (method: shared/reference/performance.md). Two gateways from the same binary, one with the
//! request log on (the default, measured everywhere) and one with it off (measured at c=1 and
//! c=64, interleaved with the others), give what capturing requests costs. The log-off gateway is
//! also asked at c=1 for a bare id that four providers serve (a `least_latency` pool), beside its
//! single pinned target, for what choosing costs. Orchestration only; measuring is in `load`.

mod gateway;
mod load;
mod report;

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::Parser;
use switchyard_testkit::{Dialect, FakeUpstream, Reply, Script};

use crate::gateway::{Gateway, LogCounters};
use crate::load::{RoundStats, Target, round};
use crate::report::{Capture, Comparison, Report, RequestLog, Routing};

/// Measures what the gateway adds to a request, against the same fake upstream called directly,
/// and what its request log adds, against the same gateway with the log off.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// The gateway binary (`switchyard`); started twice as `serve --config P --listen 127.0.0.1:0`.
    #[arg(long, required_unless_present = "self_test")]
    gateway_bin: Option<PathBuf>,
    /// Requests per round at c=64 and c=256 (c=1 rounds use a tenth, TTFT rounds a fortieth).
    #[arg(long, default_value_t = 20_000)]
    requests: usize,
    /// Divide every round size by ten.
    #[arg(long)]
    quick: bool,
    /// Rounds per side at each concurrency.
    #[arg(long, default_value_t = 5)]
    rounds: usize,
    /// Where to write the JSON results.
    #[arg(long, default_value = "bench-results/latest.json")]
    out: PathBuf,
    /// How many content chunks the streamed reply has.
    #[arg(long, default_value_t = 20, hide = true)]
    stream_chunks: usize,
    /// Validate the harness: more fake upstreams stand in for the gateways.
    #[arg(long, hide = true)]
    self_test: bool,
}

/// Round sizes derived from the arguments.
struct Sizes {
    big: usize,
    small: usize,
    ttft: usize,
}

impl Sizes {
    fn of(args: &Args) -> Self {
        let big = if args.quick {
            args.requests / 10
        } else {
            args.requests
        }
        .max(10);
        Self {
            big,
            small: (big / 10).max(10),
            ttft: (big / 40).max(10),
        }
    }
}

/// The routing case splits a c=1 side's requests into this many times more rounds.
const ROUTING_ROUND_SPLIT: usize = 5;

/// How long to wait, after the load, for the log writer to commit every row.
const LOG_SETTLE_TIMEOUT: Duration = Duration::from_secs(30);

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args).await {
        Ok(code) => code,
        Err(message) => {
            progress(&format!("bench failed: {message}"));
            ExitCode::from(2)
        }
    }
}

#[expect(
    clippy::print_stderr,
    reason = "progress goes to stderr so stdout holds only the report"
)]
fn progress(message: &str) {
    eprintln!("[bench] {message}");
}

/// The two gateways under test, or the fakes standing in for them in self-test.
struct UnderTest {
    log_on_url: String,
    log_off_url: String,
    log_on: Option<Gateway>,
    log_off: Option<Gateway>,
    _stand_ins: Vec<BackgroundFake>,
}

impl UnderTest {
    async fn start(args: &Args, upstream_url: &str) -> Result<Self, String> {
        if args.self_test {
            let on = BackgroundFake::start(args.stream_chunks)?;
            let off = BackgroundFake::start(args.stream_chunks)?;
            return Ok(Self {
                log_on_url: on.fake()?.base_url(),
                log_off_url: off.fake()?.base_url(),
                log_on: None,
                log_off: None,
                _stand_ins: vec![on, off],
            });
        }
        let bin = args
            .gateway_bin
            .as_ref()
            .ok_or("--gateway-bin is required")?;
        progress(&format!(
            "starting {} twice (request log on, off) against {upstream_url}",
            bin.display()
        ));
        let on = Gateway::spawn(bin, upstream_url, true).await?;
        let off = Gateway::spawn(bin, upstream_url, false).await?;
        Ok(Self {
            log_on_url: on.base_url.clone(),
            log_off_url: off.base_url.clone(),
            log_on: Some(on),
            log_off: Some(off),
            _stand_ins: Vec::new(),
        })
    }
}

async fn run(args: &Args) -> Result<ExitCode, String> {
    let sizes = Sizes::of(args);
    let rounds = args.rounds.max(1);
    let upstream = BackgroundFake::start(args.stream_chunks)?;
    let upstream_url = upstream.fake()?.base_url();
    let mut under_test = UnderTest::start(args, &upstream_url).await?;
    progress(&format!(
        "direct {upstream_url}, gateway (log on) {}, gateway (log off) {}",
        under_test.log_on_url, under_test.log_off_url
    ));
    let direct = Target::from_base_url("direct", &upstream_url, "bench-model").await?;
    let log_on = Target::from_base_url(
        "gateway (log on)",
        &under_test.log_on_url,
        gateway::SINGLE_TARGET,
    )
    .await?;
    let log_off = Target::from_base_url(
        "gateway (log off)",
        &under_test.log_off_url,
        gateway::SINGLE_TARGET,
    )
    .await?;
    let pool = Target::from_base_url(
        "gateway (log off, pool)",
        &under_test.log_off_url,
        gateway::MODEL,
    )
    .await?;
    if let Some(gateway) = &under_test.log_off {
        // The pool case must measure a pool, not a pinned model.
        gateway::check_pool_card(&gateway.get("/v1/models").await?)?;
    }
    let mut watch = LogWatch {
        gateway: under_test.log_on.as_ref(),
        sent: 0,
        catch_up: Vec::new(),
    };
    for target in [&direct, &log_off, &log_on, &pool] {
        for stream in [false, true] {
            let probe = round(target, 1, 1, stream).await?;
            if let Some(e) = &probe.first_error {
                return Err(format!("{}: first request failed: {e}", target.name));
            }
            if std::ptr::eq(target, &log_on) {
                watch.after(&probe).await?;
            }
        }
    }

    // c=1 and c=64: direct, log off and log on, interleaved.
    let mut non_streaming = Vec::new();
    let mut capture = Vec::new();
    let mut log_off_vs_direct = Vec::new();
    for (concurrency, size) in [(1, sizes.small), (64, sizes.big)] {
        let r = Interleaved::run(
            &[&direct, &log_off, &log_on],
            (&mut watch, &[2]),
            concurrency,
            size,
            rounds,
            false,
        )
        .await?;
        non_streaming.push(Comparison::from_rounds(
            concurrency,
            size,
            r.warmup_pair(0, 2),
            &r.pairs(0, 2),
        ));
        capture.push(Capture::from_rounds(
            concurrency,
            size,
            r.warmup_pair(1, 2),
            &r.pairs(1, 2),
        ));
        log_off_vs_direct.push(Comparison::from_rounds(
            concurrency,
            size,
            r.warmup_pair(0, 1),
            &r.pairs(0, 1),
        ));
    }
    let log_off_memory = under_test.log_off.as_ref().and_then(Gateway::memory);
    let log_on_memory_after_capture_rounds = under_test.log_on.as_ref().and_then(Gateway::memory);
    // Routing: the log-off gateway asked for its pinned target and for the pool, at c=1. Log
    // off: the writer's work between rounds varies the gateway's p50 by more than the 10 µs
    // the pool may add; the log costs both sides the same. The same requests as a c=1 side
    // above, in five times as many rounds, so the single and pool rounds compared run closer
    // together in time, and a burst of other work on the machine sways fewer of the differences
    // whose median is reported.
    let routing_rounds = rounds * ROUTING_ROUND_SPLIT;
    let routing_size = (sizes.small / ROUTING_ROUND_SPLIT).max(10);
    let r = Interleaved::run(
        &[&direct, &log_off, &pool],
        (&mut watch, &[]),
        1,
        routing_size,
        routing_rounds,
        false,
    )
    .await?;
    let routing = Routing::from_rounds(
        1,
        routing_size,
        (gateway::POOL_MEMBERS, gateway::POOL_STRATEGY),
        [&r.warmup[0], &r.warmup[1], &r.warmup[2]],
        &r.rounds
            .iter()
            .map(|x| [&x[0], &x[1], &x[2]])
            .collect::<Vec<_>>(),
    );

    if let Some(gateway) = under_test.log_off.take() {
        // Done with it: its memory and threads leave the machine to the rest.
        gateway.stop().await?;
    }

    // c=256 and streaming: direct and the default (log on) only.
    let r = Interleaved::run(
        &[&direct, &log_on],
        (&mut watch, &[1]),
        256,
        sizes.big,
        rounds,
        false,
    )
    .await?;
    non_streaming.push(Comparison::from_rounds(
        256,
        sizes.big,
        r.warmup_pair(0, 1),
        &r.pairs(0, 1),
    ));
    let r = Interleaved::run(
        &[&direct, &log_on],
        (&mut watch, &[1]),
        1,
        sizes.ttft,
        rounds,
        true,
    )
    .await?;
    let streaming_ttft =
        Comparison::from_rounds(1, sizes.ttft, r.warmup_pair(0, 1), &r.pairs(0, 1));

    let log_on_sent = watch.sent;
    let mut catch_up_ms: Vec<f64> = watch
        .catch_up
        .iter()
        .map(|d| d.as_secs_f64() * 1000.0)
        .collect();
    let gateway_memory = under_test.log_on.as_ref().and_then(Gateway::memory);
    let (log_on_counters, log_on_db_bytes) = match under_test.log_on.take() {
        Some(gateway) => {
            let counters = settled_log_counters(&gateway, log_on_sent).await?;
            let bytes = gateway.data_bytes();
            gateway.stop().await?;
            (Some(counters), bytes)
        }
        None => (None, None),
    };
    drop(under_test);
    drop(upstream);

    let request_log = RequestLog {
        capture,
        log_off_vs_direct,
        log_off_memory,
        log_on_memory_after_capture_rounds,
        log_on_requests_sent: log_on_sent,
        writer_catch_up_ms: (!catch_up_ms.is_empty()).then(|| {
            let max = catch_up_ms.iter().copied().fold(0.0, f64::max);
            [report::median(&mut catch_up_ms), max]
        }),
        log_on_counters,
        log_on_db_bytes,
    };
    let all = || non_streaming.iter().chain(std::iter::once(&streaming_ttft));
    let errors = all().map(Comparison::errors).sum::<usize>()
        + routing.errors()
        + request_log
            .capture
            .iter()
            .map(Capture::log_off_errors)
            .sum::<usize>();
    let first_error = all()
        .chain([&routing.single, &routing.pool])
        .find_map(|c| c.first_error.clone())
        .or_else(|| {
            request_log
                .capture
                .iter()
                .find_map(|c| c.first_error.clone())
        });
    let lost_rows = log_on_counters.is_some_and(|c| c.rows_dropped > 0);
    let report = Report {
        generated_at_unix: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        gateway_bin: args
            .gateway_bin
            .as_ref()
            .map_or_else(|| "(self-test)".to_owned(), |p| p.display().to_string()),
        self_test: args.self_test,
        quick: args.quick,
        rounds,
        cpus: std::thread::available_parallelism().map_or(1, usize::from),
        targets: report::checks(&non_streaming, gateway_memory, &request_log, &routing),
        non_streaming,
        streaming_ttft,
        gateway_memory,
        request_log,
        routing,
        errors,
        first_error,
    };
    let text = report::table(&report);
    {
        let mut stdout = std::io::stdout().lock();
        stdout
            .write_all(text.as_bytes())
            .and_then(|()| stdout.flush())
            .map_err(|e| format!("stdout: {e}"))?;
    }
    write_json(&args.out, &report)?;
    progress(&format!("wrote {}", args.out.display()));
    Ok(if errors > 0 || lost_rows {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Follows the log-on gateway's writer. After each of that gateway's rounds it waits until a row
/// is committed for every request sent so far, so the writer's leftovers never run into the next
/// side's round (the writer runs off the request path, on the same two cores), and keeps how long
/// that took.
struct LogWatch<'a> {
    /// `None` in self-test.
    gateway: Option<&'a Gateway>,
    /// Requests sent to the log-on gateway so far.
    sent: usize,
    /// Per round: from the round's last answer to the last row committed.
    catch_up: Vec<Duration>,
}

impl LogWatch<'_> {
    async fn after(&mut self, stats: &RoundStats) -> Result<(), String> {
        self.sent += stats.sent();
        if let Some(gateway) = self.gateway {
            let started = Instant::now();
            let counters = wait_for_log(gateway, self.sent).await?;
            if counters.rows_written + counters.rows_dropped < as_u64(self.sent) {
                progress(&format!(
                    "the log writer is {} rows behind after {LOG_SETTLE_TIMEOUT:?}",
                    as_u64(self.sent) - counters.rows_written - counters.rows_dropped
                ));
            }
            self.catch_up.push(started.elapsed());
        }
        Ok(())
    }
}

fn as_u64(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// The log counters once the writer has committed (or lost) a row for each of `sent` requests,
/// or after [`LOG_SETTLE_TIMEOUT`], whichever comes first.
async fn wait_for_log(gateway: &Gateway, sent: usize) -> Result<LogCounters, String> {
    let deadline = Instant::now() + LOG_SETTLE_TIMEOUT;
    loop {
        let counters = gateway.log_counters().await?;
        if counters.rows_written + counters.rows_dropped >= as_u64(sent)
            || Instant::now() >= deadline
        {
            return Ok(counters);
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// The log-on gateway's counters at the end of the run.
async fn settled_log_counters(gateway: &Gateway, sent: usize) -> Result<LogCounters, String> {
    let counters = wait_for_log(gateway, sent).await?;
    if counters.rows_written + counters.rows_dropped < as_u64(sent) {
        progress(&format!(
            "the log writer still has {} rows to commit after {LOG_SETTLE_TIMEOUT:?}",
            as_u64(sent) - counters.rows_written - counters.rows_dropped
        ));
    }
    Ok(counters)
}

fn write_json(path: &std::path::Path, report: &Report) -> Result<(), String> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
    }
    let json = serde_json::to_string_pretty(report).map_err(|e| format!("json: {e}"))?;
    std::fs::write(path, json + "\n").map_err(|e| format!("write {}: {e}", path.display()))
}

/// Rounds of several targets at one concurrency: a warm-up of each, then `rounds` rounds of
/// each, back to back, the starting target rotating from one round to the next so no side
/// always goes first. After each round of a watched (log-on) target, its writer catches up.
struct Interleaved {
    /// One warm-up round per target.
    warmup: Vec<RoundStats>,
    /// `rounds[i][t]`: round `i` of target `t`.
    rounds: Vec<Vec<RoundStats>>,
}

impl Interleaved {
    async fn run(
        targets: &[&Target],
        (watch, watched): (&mut LogWatch<'_>, &[usize]),
        concurrency: usize,
        requests: usize,
        rounds: usize,
        stream: bool,
    ) -> Result<Self, String> {
        let kind = if stream {
            "streaming TTFT"
        } else {
            "non-streaming"
        };
        let names: Vec<&str> = targets.iter().map(|t| t.name).collect();
        progress(&format!(
            "{kind} c={concurrency}: {rounds} rounds x {requests} requests per side ({})",
            names.join(", ")
        ));
        let warm = (requests / 5).max(10);
        let mut warmup = Vec::with_capacity(targets.len());
        for (t, target) in targets.iter().enumerate() {
            let stats = round(target, concurrency, warm, stream).await?;
            if watched.contains(&t) {
                watch.after(&stats).await?;
            }
            warmup.push(stats);
        }
        let mut all = Vec::with_capacity(rounds);
        for i in 0..rounds {
            let mut slots: Vec<Option<RoundStats>> = targets.iter().map(|_| None).collect();
            for k in 0..targets.len() {
                let t = (i + k) % targets.len();
                let stats = round(targets[t], concurrency, requests, stream).await?;
                if watched.contains(&t) {
                    watch.after(&stats).await?;
                }
                if let Some(e) = &stats.first_error {
                    progress(&format!(
                        "{}: {} errors, first: {e}",
                        targets[t].name, stats.errors
                    ));
                }
                slots[t] = Some(stats);
            }
            all.push(
                slots
                    .into_iter()
                    .collect::<Option<Vec<_>>>()
                    .ok_or("a round went missing")?,
            );
        }
        Ok(Self {
            warmup,
            rounds: all,
        })
    }

    fn warmup_pair(&self, a: usize, b: usize) -> [&RoundStats; 2] {
        [&self.warmup[a], &self.warmup[b]]
    }

    fn pairs(&self, a: usize, b: usize) -> Vec<[&RoundStats; 2]> {
        self.rounds.iter().map(|r| [&r[a], &r[b]]).collect()
    }
}

/// A fake upstream on its own thread and runtime, so it never shares a worker with the load.
struct BackgroundFake {
    fake: Option<FakeUpstream>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl BackgroundFake {
    fn start(stream_chunks: usize) -> Result<Self, String> {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("fake-upstream".to_owned())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(format!("runtime: {e}")));
                        return;
                    }
                };
                runtime.block_on(async move {
                    match FakeUpstream::start(Dialect::OpenAi).await {
                        Ok(fake) => {
                            let _ = ready_tx.send(Ok(fake));
                            let _ = stop_rx.await;
                        }
                        Err(e) => {
                            let _ = ready_tx.send(Err(format!("fake upstream: {e}")));
                        }
                    }
                });
            })
            .map_err(|e| format!("thread: {e}"))?;
        let fake = ready_rx
            .recv()
            .map_err(|_| "fake upstream thread died".to_owned())??;
        // Hundreds of thousands of requests: count them, don't keep them.
        fake.set_recording(false);
        fake.set_default(Script::Reply(bench_reply(stream_chunks)));
        Ok(Self {
            fake: Some(fake),
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    fn fake(&self) -> Result<&FakeUpstream, String> {
        self.fake
            .as_ref()
            .ok_or_else(|| "fake upstream stopped".to_owned())
    }
}

impl Drop for BackgroundFake {
    fn drop(&mut self) {
        drop(self.fake.take());
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A short answer; streamed as `chunks` content chunks (20 by default), back to back.
fn bench_reply(chunks: usize) -> Reply {
    Reply {
        text: Some(
            "Tail latency matters because every interactive request waits for its slowest \
             hop, so rare stalls become the delays people actually notice."
                .to_owned(),
        ),
        chunks: chunks.max(1),
        ..Reply::default()
    }
}
