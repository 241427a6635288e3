//! The app's log: tracing to a file in the data folder's `logs/`, a new file each day and the
//! last seven kept, and to stderr. Secrets never reach it: the core wraps them in `Sensitive`,
//! and the shell logs nothing but paths, ports and timings.

use std::path::{Path, PathBuf};

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::writer::MakeWriterExt as _;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

const PREFIX: &str = "switchyard";
const SUFFIX: &str = "log";
const KEEP_FILES: usize = 7;

/// Logs to `dir` and stderr, filtered by `SWITCHYARD_LOG` (default `info`). When the folder
/// cannot be written, logs to stderr alone and says why.
pub fn init(dir: &Path) {
    let filter = || {
        EnvFilter::try_from_env("SWITCHYARD_LOG")
            .unwrap_or_else(|_| EnvFilter::new("info,rmcp=warn"))
    };
    let file = switchyard_core::files::create_dir(dir)
        .map_err(|e| e.to_string())
        .and_then(|()| {
            tracing_appender::rolling::Builder::new()
                .rotation(tracing_appender::rolling::Rotation::DAILY)
                .filename_prefix(PREFIX)
                .filename_suffix(SUFFIX)
                .max_log_files(KEEP_FILES)
                .build(dir)
                .map_err(|e| e.to_string())
        });
    // Written synchronously: the shell logs little, and a line must not be lost at exit.
    let stderr = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    match file {
        Ok(file) => {
            let file = tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(file.with_max_level(tracing::Level::TRACE));
            tracing_subscriber::registry()
                .with(filter())
                .with(stderr)
                .with(file)
                .init();
        }
        Err(e) => {
            tracing_subscriber::registry()
                .with(filter())
                .with(stderr)
                .init();
            tracing::warn!(
                "cannot log to {}: {e}; logging to stderr only",
                dir.display()
            );
        }
    }
}

/// The file being written now: the newest `switchyard.*.log` in `dir`.
pub fn current_file(dir: &Path) -> Option<PathBuf> {
    std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .filter(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            name.starts_with(PREFIX) && name.ends_with(SUFFIX)
        })
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .max()
        .map(|(_, path)| path)
}
