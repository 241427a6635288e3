//! `switchyard-bench`, the `make bench` driver: added latency, throughput, streaming TTFT and
//! peak memory of the gateway against a fake upstream, direct and gateway rounds interleaved
//! (method: shared/reference/performance.md). Orchestration only; measuring is in `load`.

mod gateway;
mod load;
mod report;

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use clap::Parser;
use switchyard_testkit::{Dialect, FakeUpstream, Reply, Script};

use crate::gateway::Gateway;
use crate::load::{Target, round};
use crate::report::{Comparison, Report};

/// Measures what the gateway adds to a request, against the same fake upstream called directly.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// The gateway binary (`switchyard`); started as `serve --config P --listen 127.0.0.1:0`.
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
    /// Validate the harness: a second fake upstream stands in for the gateway.
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

async fn run(args: &Args) -> Result<ExitCode, String> {
    let sizes = Sizes::of(args);
    let rounds = args.rounds.max(1);
    let upstream = BackgroundFake::start(args.stream_chunks)?;
    let upstream_url = upstream.fake()?.base_url();
    let (gateway_url, gateway, stand_in) = if args.self_test {
        let stand_in = BackgroundFake::start(args.stream_chunks)?;
        (stand_in.fake()?.base_url(), None, Some(stand_in))
    } else {
        let bin = args
            .gateway_bin
            .as_ref()
            .ok_or("--gateway-bin is required")?;
        progress(&format!(
            "starting {} against {upstream_url}",
            bin.display()
        ));
        let gateway = Gateway::spawn(bin, &upstream_url).await?;
        (gateway.base_url.clone(), Some(gateway), None)
    };
    progress(&format!("direct {upstream_url}, gateway {gateway_url}"));
    let direct = Target::from_base_url("direct", &upstream_url, "bench-model").await?;
    let through = Target::from_base_url("gateway", &gateway_url, "fake/bench-model").await?;
    for target in [&direct, &through] {
        for stream in [false, true] {
            let probe = round(target, 1, 1, stream).await?;
            if let Some(e) = probe.first_error {
                return Err(format!("first request failed: {e}"));
            }
        }
    }

    let mut non_streaming = Vec::new();
    for (concurrency, size) in [(1, sizes.small), (64, sizes.big), (256, sizes.big)] {
        non_streaming.push(compare(&direct, &through, concurrency, size, rounds, false).await?);
    }
    let streaming_ttft = compare(&direct, &through, 1, sizes.ttft, rounds, true).await?;
    let gateway_memory = gateway.as_ref().and_then(Gateway::memory);
    if let Some(gateway) = gateway {
        gateway.stop().await?;
    }
    drop(stand_in);
    drop(upstream);

    let all = || non_streaming.iter().chain(std::iter::once(&streaming_ttft));
    let errors = all().map(Comparison::errors).sum();
    let first_error = all().find_map(|c| c.first_error.clone());
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
        targets: report::checks(&non_streaming, gateway_memory),
        non_streaming,
        streaming_ttft,
        gateway_memory,
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
    Ok(if errors > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn write_json(path: &std::path::Path, report: &Report) -> Result<(), String> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
    }
    let json = serde_json::to_string_pretty(report).map_err(|e| format!("json: {e}"))?;
    std::fs::write(path, json + "\n").map_err(|e| format!("write {}: {e}", path.display()))
}

/// Warm-up, then `rounds` interleaved pairs of rounds (alternating which side goes first).
async fn compare(
    direct: &Target,
    gateway: &Target,
    concurrency: usize,
    requests: usize,
    rounds: usize,
    stream: bool,
) -> Result<Comparison, String> {
    let kind = if stream {
        "streaming TTFT"
    } else {
        "non-streaming"
    };
    progress(&format!(
        "{kind} c={concurrency}: {rounds} rounds x {requests} requests per side"
    ));
    let warm = (requests / 5).max(10);
    let warmup = (
        round(direct, concurrency, warm, stream).await?,
        round(gateway, concurrency, warm, stream).await?,
    );
    let mut pairs = Vec::with_capacity(rounds);
    for i in 0..rounds {
        let pair = if i % 2 == 0 {
            let d = round(direct, concurrency, requests, stream).await?;
            (d, round(gateway, concurrency, requests, stream).await?)
        } else {
            let g = round(gateway, concurrency, requests, stream).await?;
            (round(direct, concurrency, requests, stream).await?, g)
        };
        for (side, stats) in [("direct", &pair.0), ("gateway", &pair.1)] {
            if let Some(e) = &stats.first_error {
                progress(&format!("{side}: {} errors, first: {e}", stats.errors));
            }
        }
        pairs.push(pair);
    }
    Ok(Comparison::from_rounds(
        concurrency,
        requests,
        &warmup,
        &pairs,
    ))
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
