//! The real `switchyard` binary, spawned as a process: `serve` and `check-config` (`serve`), and
//! the request log read back with `stats` and `requests`, also after a `kill -9` (`log`), and
//! the routing commands (`routing`).
//! One test binary for the crate; the helpers below are shared.

mod log;
mod manage;
mod routing;
mod serve;

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

pub const BIN: &str = env!("CARGO_BIN_EXE_switchyard");

#[expect(
    clippy::unwrap_used,
    reason = "a test helper: any failure stops the test, as in the tests themselves"
)]
pub fn write_config(dir: &Path, body: &str) -> PathBuf {
    let path = dir.join("config.toml");
    std::fs::write(&path, body).unwrap();
    path
}

/// The admin key in every config `config_for` writes.
pub const ADMIN_TOKEN: &str = "sk-sy-cli-tests-admin-key-0123456789abcdefghijklm";

/// One provider `up` (OpenAI dialect) serving model `m`, plus `extra` TOML, plus an admin key.
pub fn config_for(upstream: &str, extra: &str) -> String {
    format!(
        "{extra}\n[[providers]]\nname = \"up\"\nkind = \"openai\"\nbase_url = \"{upstream}\"\nmodels = [\"m\"]\n\n[[keys]]\nname = \"tests\"\nhash = \"{}\"\nrole = \"admin\"\n",
        switchyard_core::access::KeyHash::of(ADMIN_TOKEN)
    )
}

/// A running `switchyard serve`. Killed on drop, so a failing test leaves no process behind.
pub struct Served {
    child: Option<Child>,
    /// `http://127.0.0.1:PORT`, without `/v1`.
    pub root: String,
    stderr: PathBuf,
}

#[expect(
    clippy::unwrap_used,
    clippy::panic,
    reason = "a test helper: any failure stops the test, as in the tests themselves"
)]
impl Served {
    /// Starts `switchyard serve` on a free port with `SWITCHYARD_HOME=home`; returns once it
    /// has announced its address.
    pub async fn start(home: &Path, config: &Path) -> Self {
        static STARTS: AtomicUsize = AtomicUsize::new(0);
        let stderr = home.join(format!(
            "serve-{}.stderr",
            STARTS.fetch_add(1, Ordering::Relaxed)
        ));
        let mut child = Command::new(BIN)
            .args(["serve", "--listen", "127.0.0.1:0", "--config"])
            .arg(config)
            .env("SWITCHYARD_HOME", home)
            .stdout(Stdio::piped())
            // A file, not a pipe nobody reads: a chatty gateway must never block on stderr.
            .stderr(File::create(&stderr).unwrap())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let line = tokio::task::spawn_blocking(move || {
            let mut line = String::new();
            BufReader::new(stdout).read_line(&mut line).unwrap();
            line
        })
        .await
        .unwrap();
        let base = line
            .trim()
            .strip_prefix("switchyard ready: ")
            .unwrap_or_else(|| panic!("{line:?}; stderr: {}", read(&stderr)));
        assert!(
            base.starts_with("http://127.0.0.1:") && base.ends_with("/v1"),
            "{base}"
        );
        Self {
            root: base.trim_end_matches("/v1").to_owned(),
            child: Some(child),
            stderr,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// Sends a signal (`TERM`, `KILL`) with kill(1).
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.pid().to_string())
            .status()
            .unwrap();
        assert!(status.success(), "kill -{name} failed");
    }

    /// Waits for the process to end; returns its exit status and what it wrote to stderr.
    pub async fn wait(mut self) -> (ExitStatus, String) {
        let mut child = self.child.take().unwrap();
        let status = tokio::task::spawn_blocking(move || child.wait())
            .await
            .unwrap()
            .unwrap();
        (status, read(&self.stderr))
    }

    /// SIGTERM, then checks the graceful stop succeeded; returns stderr.
    pub async fn stop(self) -> String {
        self.signal("TERM");
        let (status, stderr) = self.wait().await;
        assert!(status.success(), "exit {status:?}: {stderr}");
        stderr
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// Runs `switchyard ARGS` to completion with `SWITCHYARD_HOME=home`.
#[expect(
    clippy::unwrap_used,
    reason = "a test helper: any failure stops the test, as in the tests themselves"
)]
pub fn cli(home: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env("SWITCHYARD_HOME", home)
        .output()
        .unwrap()
}

/// Runs `switchyard ARGS`, expects success, and parses stdout as JSON.
#[expect(
    clippy::panic,
    reason = "a test helper: any failure stops the test, as in the tests themselves"
)]
pub fn cli_json(home: &Path, args: &[&str]) -> serde_json::Value {
    let out = cli(home, args);
    assert!(
        out.status.success(),
        "switchyard {args:?}: {:?}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

pub fn client() -> reqwest::Client {
    switchyard_core::providers::install_crypto_provider();
    reqwest::Client::new()
}
