//! The `switchyard` command: `serve` runs the gateway headless, `check-config` validates a
//! config file, `stats` and `requests` read the request log, `routing` shows a running
//! gateway's routing table, and the rest edit the config. All behaviour lives in
//! `switchyard-core`; this crate only parses arguments and prints.

mod gateway;
mod logdb;
mod manage;
mod mcp;
mod output;
mod requests;
mod routing;
mod stats;

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use switchyard_core::Gateway;
use switchyard_core::config::{self, Config, ConfigError};

#[derive(Debug, Parser)]
#[command(
    name = "switchyard",
    version,
    about = "A local AI gateway: one OpenAI-compatible endpoint in front of every model you use."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the gateway until interrupted (SIGINT/SIGTERM stop it gracefully).
    Serve {
        /// Config file [default: $SWITCHYARD_HOME/config.toml]
        #[arg(long, short)]
        config: Option<PathBuf>,
        /// Address to listen on, overriding the config's `listen` (port 0 picks a free port)
        #[arg(long, short)]
        listen: Option<SocketAddr>,
        /// Worker threads. One is the fastest for a local gateway: it serves over ten thousand
        /// requests a second and avoids cross-core hand-offs; raise it on a busy server.
        #[arg(long, env = "SWITCHYARD_THREADS", default_value_t = 1)]
        threads: usize,
    },
    /// Validate a config file and print every problem with its path.
    CheckConfig {
        /// Config file [default: $SWITCHYARD_HOME/config.toml]
        path: Option<PathBuf>,
    },
    /// Request counts, errors, latency percentiles, tokens and cost from the request log.
    Stats(stats::Args),
    /// The newest requests in the log, or everything about one (`requests show ID`).
    Requests(requests::Args),
    /// Upstream providers: list, add (from a preset), show, rm, enable, disable, set-key, test,
    /// import a .env file.
    Providers {
        #[command(subcommand)]
        cmd: manage::ProvidersCmd,
        #[command(flatten)]
        target: manage::Target,
    },
    /// The models clients can use, with their capabilities.
    Models {
        #[command(subcommand)]
        cmd: manage::ModelsCmd,
        #[command(flatten)]
        target: manage::Target,
    },
    /// Client keys: create (shown once), list, revoke.
    Keys {
        #[command(subcommand)]
        cmd: manage::KeysCmd,
        #[command(flatten)]
        target: manage::Target,
    },
    /// MCP servers for assistants and agent mode: add, list, rm, enable, disable, tools.
    Mcp {
        #[command(subcommand)]
        cmd: mcp::McpCmd,
        #[command(flatten)]
        target: manage::Target,
    },
    /// Every alias and pool of the running gateway: members in the order the next request
    /// would try them, with latency, time to first token, error rate, in flight and circuit.
    /// Reads `GET /admin/routing` with the admin or read-only key in $SWITCHYARD_API_KEY.
    Routing(routing::RoutingArgs),
    /// Aliases (virtual models over `provider/model` targets): list, add, rm.
    Aliases {
        #[command(subcommand)]
        cmd: routing::AliasesCmd,
        #[command(flatten)]
        target: manage::Target,
    },
    /// Capability pools (every model that meets a requirement): list, add, rm, rebuild.
    Pools {
        #[command(subcommand)]
        cmd: routing::PoolsCmd,
        #[command(flatten)]
        target: manage::Target,
    },
    /// First run: find local runtimes and provider keys in the environment, add them, and add a
    /// ready `smart` pool over the tool-capable models.
    Init(manage::InitArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SWITCHYARD_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,rmcp=warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    match cli.command {
        Command::Serve {
            config,
            listen,
            threads,
        } => serve(config, listen, threads),
        Command::CheckConfig { path } => check_config(path),
        Command::Stats(args) => report(stats::run(&args)),
        Command::Requests(args) => report(requests::run(&args)),
        Command::Providers { cmd, target } => report(manage::providers(&cmd, &target)),
        Command::Models { cmd, target } => report(manage::models(&cmd, &target)),
        Command::Keys { cmd, target } => report(manage::keys(&cmd, &target)),
        Command::Mcp { cmd, target } => report(mcp::run(&cmd, &target)),
        Command::Routing(args) => report(routing::routing(&args)),
        Command::Aliases { cmd, target } => report(routing::aliases(&cmd, &target)),
        Command::Pools { cmd, target } => report(routing::pools(&cmd, &target)),
        Command::Init(args) => report(manage::init(&args)),
    }
}

/// A failed read command: a one-line message, exit 1 (2 for bad arguments).
fn report(result: Result<ExitCode, logdb::Failure>) -> ExitCode {
    result.unwrap_or_else(|e| {
        complain(&e.to_string());
        match e {
            logdb::Failure::Usage(_) => ExitCode::from(2),
            _ => ExitCode::FAILURE,
        }
    })
}

fn check_config(path: Option<PathBuf>) -> ExitCode {
    let path = path.unwrap_or_else(config::default_config_path);
    match Config::load(&path) {
        Ok(c) => {
            say(&format!(
                "{}: ok ({} provider(s), {} alias(es), {} pool(s), listen {})",
                path.display(),
                c.providers.len(),
                c.aliases.len(),
                c.pools.len(),
                c.listen
            ));
            ExitCode::SUCCESS
        }
        Err(e) => {
            complain(&e.to_string());
            ExitCode::FAILURE
        }
    }
}

/// The config and the file it lives in. With no `--config` and no file yet, the gateway starts
/// empty and the file is created by the first change made through the admin API or the CLI.
fn load_for_serve(path: Option<PathBuf>) -> Result<(Config, PathBuf), ConfigError> {
    match path {
        Some(path) => Ok((Config::load(&path)?, path)),
        None => {
            let path = config::default_config_path();
            if path.exists() {
                Ok((Config::load(&path)?, path))
            } else {
                tracing::warn!(
                    "no config at {}: starting with no providers; `switchyard init` finds local runtimes and keys",
                    path.display()
                );
                Ok((Config::default(), path))
            }
        }
    }
}

fn serve(config_path: Option<PathBuf>, listen: Option<SocketAddr>, threads: usize) -> ExitCode {
    let (mut config, config_path) = match load_for_serve(config_path) {
        Ok(c) => c,
        Err(e) => {
            complain(&e.to_string());
            return ExitCode::FAILURE;
        }
    };
    if let Some(listen) = listen {
        config.listen = listen;
    }
    let runtime = if threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            // Wake-ups from other threads (the request log's SQLite worker) wait in the global
            // queue, which is checked every 31 polls by default: under load the log writer, woken
            // from that thread several times per row, fell over a second behind and a crash lost
            // that second (tests/it/log.rs, `sigkill_under_load…`). Checking it every poll costs
            // an atomic load when it is empty.
            .global_queue_interval(1)
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .enable_all()
            .build()
    };
    let runtime = match runtime {
        Ok(rt) => rt,
        Err(e) => {
            complain(&format!("cannot start the async runtime: {e}"));
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let grace = config.limits.shutdown_grace;
        let ui = switchyard_ui_assets::find;
        let mut gateway = match Gateway::start_with_ui(config, Some(config_path), ui).await {
            Ok(g) => g,
            Err(e) => {
                complain(&e.to_string());
                return ExitCode::FAILURE;
            }
        };
        say(&format!("switchyard ready: {}", gateway.base_url()));
        tokio::select! {
            () = shutdown_signal() => {
                tracing::info!("shutting down: no new connections; in-flight requests get {grace:?}");
                match gateway.shutdown(grace).await {
                    Ok(()) => ExitCode::SUCCESS,
                    Err(e) => {
                        complain(&format!("shutdown: {e}"));
                        ExitCode::FAILURE
                    }
                }
            }
            result = gateway.wait() => {
                complain(&format!("the server stopped: {result:?}"));
                ExitCode::FAILURE
            }
        }
    })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}

#[expect(clippy::print_stdout, reason = "the CLI's output")]
fn say(line: &str) {
    println!("{line}");
    let _ = std::io::stdout().flush();
}

#[expect(clippy::print_stderr, reason = "the CLI's errors")]
fn complain(line: &str) {
    eprintln!("error: {line}");
}

/// A hint beside the output, kept off stdout so it never mixes with what is piped.
#[expect(clippy::print_stderr, reason = "the CLI's hints")]
fn note(line: &str) {
    eprintln!("{line}");
}
