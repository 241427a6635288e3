//! `switchyard-fake`: runs fake upstreams for out-of-process tests (Python/Node SDK suites).
//! Prints one JSON line with their URLs, then serves until SIGTERM/SIGINT or stdin EOF.

use std::io::{Read as _, Write as _};
use std::process::ExitCode;

use switchyard_testkit::{Dialect, FakeUpstream, refused_base_url};

const USAGE: &str = "\
Fake OpenAI/Anthropic upstreams, scriptable over `/__testkit/*`

Usage: switchyard-fake [OPTIONS]

Options:
      --openai <N>     How many OpenAI fakes to start [default: 1]
      --anthropic <N>  How many Anthropic fakes to start [default: 1]
  -h, --help           Print help
  -V, --version        Print version
";

/// How many fakes of each dialect to start. Two flags, read by hand: the test kit's library
/// stays free of an argument parser that every gateway test would otherwise compile.
#[derive(Debug, PartialEq)]
struct Args {
    openai: usize,
    anthropic: usize,
}

/// What the command line asks for.
#[derive(Debug, PartialEq)]
enum Command {
    Run(Args),
    Help,
    Version,
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Command, String> {
    let mut parsed = Args {
        openai: 1,
        anthropic: 1,
    };
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) => (flag.to_owned(), Some(value.to_owned())),
            None => (arg, None),
        };
        let slot = match flag.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "-V" | "--version" => return Ok(Command::Version),
            "--openai" => &mut parsed.openai,
            "--anthropic" => &mut parsed.anthropic,
            other => return Err(format!("unexpected argument `{other}`\n\n{USAGE}")),
        };
        let value = inline
            .or_else(|| args.next())
            .ok_or_else(|| format!("`{flag}` needs a number"))?;
        *slot = value
            .parse()
            .map_err(|_| format!("`{flag}`: `{value}` is not a number"))?;
    }
    Ok(Command::Run(parsed))
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
    let args = match parse(std::env::args().skip(1)) {
        Ok(Command::Run(args)) => args,
        Ok(Command::Help) => return say(USAGE),
        Ok(Command::Version) => {
            return say(&format!("switchyard-fake {}\n", env!("CARGO_PKG_VERSION")));
        }
        Err(e) => {
            #[expect(
                clippy::print_stderr,
                reason = "the binary reports its own usage errors"
            )]
            {
                eprintln!("error: {e}");
            }
            return ExitCode::from(2);
        }
    };
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

/// Prints `text` (help, version) and exits successfully.
fn say(text: &str) -> ExitCode {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(text.as_bytes()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(_) => ExitCode::FAILURE,
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

#[cfg(test)]
mod tests {
    use super::{Args, Command, parse};

    fn run(args: &[&str]) -> Result<Command, String> {
        parse(args.iter().map(|a| (*a).to_owned()))
    }

    #[test]
    fn flags_take_a_count_separate_or_inline_and_default_to_one() {
        assert_eq!(
            run(&[]),
            Ok(Command::Run(Args {
                openai: 1,
                anthropic: 1
            }))
        );
        assert_eq!(
            run(&["--openai", "2", "--anthropic=0"]),
            Ok(Command::Run(Args {
                openai: 2,
                anthropic: 0
            }))
        );
        assert_eq!(run(&["--help"]), Ok(Command::Help));
        assert_eq!(run(&["-V"]), Ok(Command::Version));
    }

    #[test]
    fn bad_input_is_refused() {
        assert!(run(&["--openai"]).is_err());
        assert!(run(&["--openai", "x"]).is_err());
        assert!(run(&["--gemini", "1"]).is_err());
    }
}
