//! `switchyard-fake`: runs fake upstreams for out-of-process tests (Python/Node SDK suites).
//! Prints one JSON line with their URLs, then serves until SIGTERM/SIGINT or stdin EOF.

use std::io::{Read as _, Write as _};
use std::process::ExitCode;

use clap::Parser;
use switchyard_testkit::{Dialect, FakeUpstream, refused_base_url};

/// Fake OpenAI/Anthropic upstreams, scriptable over `/__testkit/*`.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// How many OpenAI fakes to start.
    #[arg(long, default_value_t = 1)]
    openai: usize,
    /// How many Anthropic fakes to start.
    #[arg(long, default_value_t = 1)]
    anthropic: usize,
}

/// The one line printed once every fake listens.
#[derive(serde::Serialize)]
struct Ready {
    openai: Vec<String>,
    anthropic: Vec<String>,
    refused: String,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = Args::parse();
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            #[expect(
                clippy::print_stderr,
                reason = "the binary reports its own start-up failure"
            )]
            {
                eprintln!("switchyard-fake: {e}");
            }
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> std::io::Result<()> {
    let mut fakes = Vec::new();
    for _ in 0..args.openai {
        fakes.push(FakeUpstream::start(Dialect::OpenAi).await?);
    }
    for _ in 0..args.anthropic {
        fakes.push(FakeUpstream::start(Dialect::Anthropic).await?);
    }
    let urls = |dialect: Dialect| -> Vec<String> {
        fakes
            .iter()
            .filter(|f| f.dialect() == dialect)
            .map(FakeUpstream::base_url)
            .collect()
    };
    let line = serde_json::to_string(&Ready {
        openai: urls(Dialect::OpenAi),
        anthropic: urls(Dialect::Anthropic),
        refused: refused_base_url(),
    })?;
    {
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "{line}")?;
        stdout.flush()?;
    }
    wait_for_shutdown().await?;
    drop(fakes);
    Ok(())
}

/// Returns on SIGTERM, SIGINT, or end of stdin (the harness that started us has gone).
async fn wait_for_shutdown() -> std::io::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    // Blocking stdin reads belong on a plain thread; it ends with the process.
    let (closed_tx, closed_rx) = tokio::sync::oneshot::channel::<()>();
    std::thread::spawn(move || {
        let mut stdin = std::io::stdin().lock();
        let mut buf = [0u8; 1024];
        while matches!(stdin.read(&mut buf), Ok(n) if n > 0) {}
        drop(closed_tx);
    });
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
        _ = closed_rx => {}
    }
    Ok(())
}
