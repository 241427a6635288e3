//! The gateway under test as a child process: a throwaway SWITCHYARD_HOME with a config whose
//! four providers point at the fake (one pinned target, and the bare id as a pool over all four)
//! and that switches the request log on or off, start-up until it prints its URL, memory
//! readings, `/metrics` reads, and shutdown.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Empty};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

/// A running gateway process.
pub struct Gateway {
    child: Child,
    pid: u32,
    /// The gateway's OpenAI base URL (ends in `/v1`).
    pub base_url: String,
    home: tempfile::TempDir,
    /// Where the request log lives when it is on.
    data_dir: Option<std::path::PathBuf>,
}

/// The request log's counters, as `/metrics` shows them.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct LogCounters {
    pub rows_written: u64,
    pub rows_dropped: u64,
    pub queue_overflow: u64,
}

/// Resident memory of a process, in kB.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Memory {
    pub peak_kb: u64,
    pub current_kb: u64,
}

const START_TIMEOUT: Duration = Duration::from_secs(30);

impl Gateway {
    /// Writes the config and starts `<bin> serve --config <path> --listen 127.0.0.1:0`. With
    /// `request_log` the log is on (`[log] enabled = true`, the product default) and writes to a
    /// data folder of this gateway's own; without, `[log] enabled = false`.
    pub async fn spawn(
        bin: &Path,
        upstream_base_url: &str,
        request_log: bool,
    ) -> Result<Self, String> {
        let home = tempfile::Builder::new()
            .prefix("switchyard-bench-")
            .tempdir()
            .map_err(|e| format!("temp dir: {e}"))?;
        let config = home.path().join("config.toml");
        let data_dir = request_log.then(|| home.path().join("data"));
        let data_dir_line = data_dir.as_ref().map_or_else(String::new, |d| {
            format!("data_dir = {}\n", toml_string(&d.to_string_lossy()))
        });
        let config_text = config_text(upstream_base_url, &data_dir_line, request_log);
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
            data_dir,
        })
    }

    /// `GET <path>` on the gateway (outside `/v1`), as text.
    pub async fn get(&self, path: &str) -> Result<String, String> {
        let authority = self
            .base_url
            .strip_prefix("http://")
            .and_then(|rest| rest.split('/').next())
            .ok_or_else(|| format!("not an http:// URL: {}", self.base_url))?;
        let stream = TcpStream::connect(authority)
            .await
            .map_err(|e| format!("GET {path}: connect {authority}: {e}"))?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| format!("GET {path}: handshake: {e}"))?;
        tokio::spawn(conn);
        let request = http::Request::get(path)
            .header(http::header::HOST, authority)
            .body(Empty::<Bytes>::new())
            .map_err(|e| format!("GET {path}: {e}"))?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| format!("GET {path}: {e}"))?;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("GET {path}: body: {e}"))?
            .to_bytes();
        let text = String::from_utf8_lossy(&body).into_owned();
        if status.is_success() {
            Ok(text)
        } else {
            Err(format!("GET {path}: status {status}: {text}"))
        }
    }

    /// The request log's counters from `/metrics`.
    pub async fn log_counters(&self) -> Result<LogCounters, String> {
        let text = self.get("/metrics").await?;
        let read = |name: &str| {
            metric_value(&text, name).ok_or_else(|| format!("/metrics has no `{name}`"))
        };
        Ok(LogCounters {
            rows_written: read("switchyard_log_rows_written_total")?,
            rows_dropped: read("switchyard_log_rows_dropped_total")?,
            queue_overflow: read("switchyard_log_queue_overflow_total")?,
        })
    }

    /// Bytes of the files in the data folder (`switchyard.db`, `-wal`, `-shm`), if the log is on.
    pub fn data_bytes(&self) -> Option<u64> {
        let entries = std::fs::read_dir(self.data_dir.as_ref()?).ok()?;
        Some(
            entries
                .filter_map(Result::ok)
                .filter_map(|e| e.metadata().ok())
                .filter(std::fs::Metadata::is_file)
                .map(|m| m.len())
                .sum(),
        )
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

/// The model every provider serves: `fake/bench-model` pins one provider, the bare id is a pool
/// over all of them.
pub const MODEL: &str = "bench-model";
/// The pinned single target.
pub const SINGLE_TARGET: &str = "fake/bench-model";
/// How many providers serve [`MODEL`], all pointing at the same fake upstream.
pub const POOL_MEMBERS: usize = 4;
/// The strategy of the bare-id pool (`[routing] default_strategy`).
pub const POOL_STRATEGY: &str = "least_latency";

/// The gateway's config: provider `fake` and three more at the same upstream, each serving
/// [`MODEL`], so the bare id is a [`POOL_MEMBERS`]-member pool chosen by [`POOL_STRATEGY`];
/// the request log on or off.
fn config_text(upstream_base_url: &str, data_dir_line: &str, request_log: bool) -> String {
    let mut text = format!(
        "listen = \"127.0.0.1:0\"\n{data_dir_line}\n[routing]\ndefault_strategy = \"{POOL_STRATEGY}\"\n"
    );
    for i in 1..=POOL_MEMBERS {
        let name = if i == 1 {
            "fake".to_owned()
        } else {
            format!("fake-{i}")
        };
        let _ = write!(
            text,
            "\n[[providers]]\nname = \"{name}\"\nkind = \"openai\"\nbase_url = {}\nmodels = [\"{MODEL}\"]\n",
            toml_string(upstream_base_url)
        );
    }
    let _ = write!(text, "\n[log]\nenabled = {request_log}\n");
    text
}

/// Checks that `/v1/models` lists [`MODEL`] as a bare-id pool of [`POOL_MEMBERS`] members
/// chosen by [`POOL_STRATEGY`], so the pool case measures a pool and not a pinned model.
pub fn check_pool_card(models: &str) -> Result<(), String> {
    let list: serde_json::Value =
        serde_json::from_str(models).map_err(|e| format!("/v1/models: {e}"))?;
    let card = list["data"]
        .as_array()
        .and_then(|cards| cards.iter().find(|c| c["id"] == MODEL))
        .ok_or_else(|| format!("/v1/models does not list `{MODEL}`"))?;
    let members = card["targets"].as_array().map_or(0, Vec::len);
    let kind = &card["routing"]["kind"];
    let strategy = &card["routing"]["strategy"];
    if kind == "model_pool" && strategy == POOL_STRATEGY && members == POOL_MEMBERS {
        Ok(())
    } else {
        Err(format!(
            "`{MODEL}` is not a {POOL_MEMBERS}-member {POOL_STRATEGY} pool: kind {kind}, strategy {strategy}, {members} members"
        ))
    }
}

/// A TOML basic string.
fn toml_string(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The value of an unlabelled sample `name value` in Prometheus text.
fn metric_value(text: &str, name: &str) -> Option<u64> {
    text.lines().find_map(|line| {
        let value = line.strip_prefix(name)?.strip_prefix(' ')?;
        value.trim().parse::<f64>().ok().map(|v| v as u64)
    })
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

    #[test]
    fn reads_unlabelled_samples() {
        let text = "# TYPE switchyard_log_rows_written_total counter\n\
                    switchyard_log_rows_written_total 12345\n\
                    switchyard_log_rows_written_total_x 9\n\
                    switchyard_log_rows_dropped_total 0\n";
        assert_eq!(
            metric_value(text, "switchyard_log_rows_written_total"),
            Some(12345)
        );
        assert_eq!(
            metric_value(text, "switchyard_log_rows_dropped_total"),
            Some(0)
        );
        assert_eq!(metric_value(text, "switchyard_uptime_seconds"), None);
    }

    #[test]
    fn the_config_serves_the_model_from_a_pool_of_four() {
        let text = config_text("http://127.0.0.1:9/v1", "", false);
        assert_eq!(text.matches("[[providers]]").count(), POOL_MEMBERS);
        assert_eq!(
            text.matches("models = [\"bench-model\"]").count(),
            POOL_MEMBERS
        );
        assert!(text.contains("name = \"fake\"\n"), "{text}");
        assert!(
            text.contains("default_strategy = \"least_latency\""),
            "{text}"
        );
        assert!(text.ends_with("[log]\nenabled = false\n"), "{text}");
    }

    #[test]
    fn a_pinned_model_card_is_not_taken_for_the_pool() {
        let pool = r#"{"data":[{"id":"bench-model","targets":["fake/bench-model","fake-2/bench-model","fake-3/bench-model","fake-4/bench-model"],"routing":{"kind":"model_pool","strategy":"least_latency"}}]}"#;
        assert_eq!(check_pool_card(pool), Ok(()));
        let pinned = r#"{"data":[{"id":"fake/bench-model","provider":"fake"}]}"#;
        assert!(check_pool_card(pinned).is_err());
        let ordered = pool.replace("least_latency", "ordered");
        assert!(check_pool_card(&ordered).is_err());
    }

    #[test]
    fn quotes_toml_strings() {
        assert_eq!(toml_string("/tmp/a b"), "\"/tmp/a b\"");
        assert_eq!(toml_string("a\"b\\c"), "\"a\\\"b\\\\c\"");
    }
}
