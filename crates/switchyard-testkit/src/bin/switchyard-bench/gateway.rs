//! The gateway under test as a child process: a throwaway SWITCHYARD_HOME with a config that
//! points at the fake, start-up until it prints its URL, memory readings, and shutdown.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};

/// A running gateway process.
pub struct Gateway {
    child: Child,
    pid: u32,
    /// The gateway's OpenAI base URL (ends in `/v1`).
    pub base_url: String,
    home: tempfile::TempDir,
}

/// Resident memory of a process, in kB.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Memory {
    pub peak_kb: u64,
    pub current_kb: u64,
}

const START_TIMEOUT: Duration = Duration::from_secs(30);

impl Gateway {
    /// Writes the config and starts `<bin> serve --config <path> --listen 127.0.0.1:0`.
    pub async fn spawn(bin: &Path, upstream_base_url: &str) -> Result<Self, String> {
        let home = tempfile::Builder::new()
            .prefix("switchyard-bench-")
            .tempdir()
            .map_err(|e| format!("temp dir: {e}"))?;
        let config = home.path().join("config.toml");
        let config_text = format!(
            "listen = \"127.0.0.1:0\"\n\n[[providers]]\nname = \"fake\"\nkind = \"openai\"\n\
             base_url = \"{upstream_base_url}\"\nmodels = [\"bench-model\"]\n"
        );
        std::fs::write(&config, config_text).map_err(|e| format!("write config: {e}"))?;
        let log_path = home.path().join("gateway.log");
        let log = std::fs::File::create(&log_path).map_err(|e| format!("log file: {e}"))?;
        let mut child = Command::new(bin)
            .arg("serve")
            .arg("--config")
            .arg(&config)
            .arg("--listen")
            .arg("127.0.0.1:0")
            .env("SWITCHYARD_HOME", home.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot start `{}`: {e}", bin.display()))?;
        let pid = child.id().ok_or("gateway exited at once")?;
        let stdout = child.stdout.take().ok_or("gateway stdout missing")?;
        let mut lines = BufReader::new(stdout).lines();
        let found = tokio::time::timeout(START_TIMEOUT, async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(url) = first_url(&line) {
                    return Some(url);
                }
            }
            None
        })
        .await;
        let base_url = match found {
            Ok(Some(url)) => url,
            Ok(None) => {
                return Err(format!(
                    "gateway exited before printing its URL; its log:\n{}",
                    log_tail(&log_path)
                ));
            }
            Err(_) => {
                return Err(format!(
                    "gateway printed no URL within {START_TIMEOUT:?}; its log:\n{}",
                    log_tail(&log_path)
                ));
            }
        };
        // Keep draining stdout so the gateway never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Self {
            child,
            pid,
            base_url,
            home,
        })
    }

    /// Peak (VmHWM) and current (VmRSS) resident memory.
    pub fn memory(&self) -> Option<Memory> {
        memory_of(self.pid)
    }

    /// SIGTERM, then SIGKILL if it has not exited within five seconds.
    pub async fn stop(mut self) -> Result<(), String> {
        let term = Command::new("kill")
            .arg("-TERM")
            .arg(self.pid.to_string())
            .status()
            .await;
        let exited = match term {
            Ok(status) if status.success() => {
                tokio::time::timeout(Duration::from_secs(5), self.child.wait())
                    .await
                    .is_ok()
            }
            _ => false,
        };
        if !exited {
            self.child
                .kill()
                .await
                .map_err(|e| format!("cannot kill gateway: {e}"))?;
        }
        drop(self.home);
        Ok(())
    }
}

/// The first `http://…` URL in a line, without trailing punctuation or slash.
fn first_url(line: &str) -> Option<String> {
    let start = line.find("http://")?;
    let url = line[start..]
        .split(|c: char| c.is_whitespace() || c == '"' || c == '\'' || c == ',' || c == ')')
        .next()?;
    Some(url.trim_end_matches(['/', '.']).to_owned())
}

fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

/// Reads VmHWM and VmRSS from `/proc/<pid>/status`.
pub fn memory_of(pid: u32) -> Option<Memory> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| -> Option<u64> {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kb| kb.parse().ok())
    };
    Some(Memory {
        peak_kb: field("VmHWM:")?,
        current_kb: field("VmRSS:")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_first_url() {
        assert_eq!(
            first_url("switchyard ready: http://127.0.0.1:4000/v1 (admin http://x)").as_deref(),
            Some("http://127.0.0.1:4000/v1")
        );
        assert_eq!(first_url("no url here"), None);
        assert_eq!(
            first_url("listening on http://127.0.0.1:1/v1/.").as_deref(),
            Some("http://127.0.0.1:1/v1")
        );
    }
}
