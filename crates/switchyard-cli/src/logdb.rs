//! The request log as the CLI sees it: which data folder to read, opening its database read-only
//! (so `stats` and `requests` work whether or not a gateway is running), the arguments every
//! read command shares, and their failures. Printing lives in `output`; queries in the core.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::Duration;

use switchyard_core::config::{self, Config, ConfigError};
use switchyard_core::record::now_ms;
use switchyard_core::store::{Store, StoreError, parse_window};

/// The database file the gateway keeps in its data folder.
const DB_FILE: &str = "switchyard.db";

/// Arguments of every command that reads the log.
#[derive(Debug, clap::Args)]
pub struct Common {
    /// Config file whose `data_dir` holds the log [default: $SWITCHYARD_HOME/config.toml if it
    /// exists, else $SWITCHYARD_HOME]
    #[arg(long, short, global = true)]
    pub config: Option<PathBuf>,
    /// Print JSON instead of a table
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error("no request log yet at {}: the gateway has not served a request", .0.display())]
    NoLog(PathBuf),
    #[error("no request log at {}: the config switches it off (log.enabled = false)", .0.display())]
    LogDisabled(PathBuf),
    #[error("no request {id:?} in the log at {}", .db.display())]
    NotFound { id: String, db: PathBuf },
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
    #[error("cannot encode JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("{0}")]
    Message(String),
    /// Arguments clap cannot reject by itself; exit 2 like its own usage errors.
    #[error("{0}")]
    Usage(String),
}

/// A config, as `serve` would load it: the given file, else the default one if it exists.
fn load_config(path: Option<&Path>) -> Result<Option<Config>, ConfigError> {
    match path {
        Some(path) => Config::load(path).map(Some),
        None => {
            let path = config::default_config_path();
            if path.exists() {
                Config::load(&path).map(Some)
            } else {
                Ok(None)
            }
        }
    }
}

/// The request log of the gateway `serve` would run with these arguments.
pub struct Log {
    pub store: Store,
    pub db: PathBuf,
}

impl Log {
    pub async fn open(common: &Common) -> Result<Self, Failure> {
        let config = load_config(common.config.as_deref())?;
        let dir = config
            .as_ref()
            .map_or_else(config::data_dir, |c| c.data_dir.clone());
        let db = dir.join(DB_FILE);
        if config.as_ref().is_some_and(|c| !c.log.enabled) {
            // The database may exist for playground sessions; requests are not in it.
            return Err(Failure::LogDisabled(db));
        }
        if !db.exists() {
            return Err(match config {
                Some(c) if !c.log.enabled => Failure::LogDisabled(db),
                _ => Failure::NoLog(db),
            });
        }
        let store = Store::open_read_only(&dir).await?;
        Ok(Self { store, db })
    }

    pub async fn close(self) {
        self.store.close().await;
    }
}

/// Runs one read command on a small single-thread runtime.
pub fn block_on<T>(f: impl Future<Output = Result<T, Failure>>) -> Result<T, Failure> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Failure::Runtime)?
        .block_on(f)
}

/// `--window`: a length like `24h`, `7d`, `30d` (also `30m`).
#[derive(Debug, Clone)]
pub struct Window {
    pub text: String,
    pub length: Duration,
}

impl Window {
    /// `(since, until)` in unix ms, ending now.
    pub fn range(&self) -> (i64, i64) {
        let until = now_ms();
        let length = i64::try_from(self.length.as_millis()).unwrap_or(i64::MAX);
        (until.saturating_sub(length), until)
    }
}

pub fn parse_window_arg(s: &str) -> Result<Window, String> {
    parse_window(s)
        .map(|length| Window {
            text: s.to_owned(),
            length,
        })
        .ok_or_else(|| "not a window like 24h, 7d or 30d".to_owned())
}

/// `--since`: unix milliseconds, or a window back from now.
#[derive(Debug, Clone, Copy)]
pub enum Since {
    At(i64),
    Back(Duration),
}

impl Since {
    pub fn to_ms(self) -> i64 {
        match self {
            Self::At(ms) => ms,
            Self::Back(d) => {
                now_ms().saturating_sub(i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            }
        }
    }
}

pub fn parse_since_arg(s: &str) -> Result<Since, String> {
    if let Ok(ms) = s.parse::<i64>() {
        return Ok(Since::At(ms));
    }
    parse_window(s)
        .map(Since::Back)
        .ok_or_else(|| "neither unix milliseconds nor a window like 24h, 7d".to_owned())
}
