//! The MCP client fabric: one [`McpHub`] holds a session per configured server, started on first
//! use, restarted with backoff after it dies, and stopped cleanly at shutdown. Tools are offered
//! to models as `server__tool`. The only module that imports `rmcp`; everything it hands out is
//! plain JSON and our own types. [`serve`] is the gateway's own MCP endpoint.

pub mod serve;
mod sessions;
mod shell;
mod sse;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, ClientCapabilities, ClientConfig, Implementation,
};
use rmcp::service::{NotificationContext, RunningService};
use rmcp::{ClientHandler, Peer, RoleClient, ServiceExt as _};
use serde::Serialize;
use serde_json::Value;

use crate::config::mcp::{McpServerConfig, McpTransport, McpValue, TOOL_SEPARATOR};
use crate::secrets::SecretStore;

pub use shell::{login_shell_path, merge_paths};

/// How long a server may take to start and answer `initialize` (first `npx` runs are slow).
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long `tools/list` may take.
const LIST_TIMEOUT: Duration = Duration::from_secs(30);
/// Backoff after a failed start or a death: 1 s, 2 s, 4 s … up to a minute.
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// A server that dies this soon after starting counts as crashing, and waits before restarting.
const CRASH_WINDOW: Duration = Duration::from_secs(30);

/// A tool an MCP server offers, as models see it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ToolInfo {
    /// `server__tool`: what models call.
    pub name: String,
    pub server: String,
    /// The name the server knows it by.
    pub tool: String,
    pub description: Option<String>,
    #[cfg_attr(feature = "ts", ts(type = "unknown"))]
    pub input_schema: Value,
    pub enabled: bool,
}

impl ToolInfo {
    /// The tool as an OpenAI `tools[]` entry.
    pub fn to_openai(&self) -> Value {
        serde_json::json!({
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description.clone().unwrap_or_default(),
                "parameters": self.input_schema,
            }
        })
    }
}

/// What a tool call gave back.
#[derive(Debug, Clone, Serialize)]
pub struct ToolOutcome {
    /// The text fed back to the model: text blocks joined, else the structured result.
    pub text: String,
    pub is_error: bool,
    /// The result's content blocks and structured content, as the server sent them.
    pub raw: Value,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum McpError {
    #[error("no MCP server is named {0:?}")]
    UnknownServer(String),
    #[error("{0:?} is not a tool name of the form server__tool")]
    NotATool(String),
    #[error("MCP server {0:?} is disabled")]
    Disabled(String),
    #[error("tool {0:?} is disabled")]
    ToolDisabled(String),
    #[error("MCP server {server:?} could not start: {message}")]
    Start { server: String, message: String },
    #[error("MCP server {server:?}: {message}")]
    Call { server: String, message: String },
    #[error("tool {tool:?} did not answer within {}", human(*.after))]
    Timeout { tool: String, after: Duration },
    #[error("the gateway is shutting down")]
    ShuttingDown,
}

/// A server's state, for `/statsz`, the admin API and the UI.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ServerStatus {
    pub name: String,
    #[cfg_attr(feature = "ts", ts(type = "\"stdio\" | \"http\" | \"sse\""))]
    pub transport: &'static str,
    pub enabled: bool,
    /// `idle` (not started yet), `starting`, `running`, `failed`, `exited` or `disabled`.
    #[cfg_attr(
        feature = "ts",
        ts(
            type = "\"idle\" | \"starting\" | \"running\" | \"failed\" | \"exited\" | \"disabled\""
        )
    )]
    pub state: &'static str,
    pub error: Option<String>,
    /// Seconds until the next start is allowed after a failure.
    pub retry_in_s: Option<u64>,
    pub tools: Option<usize>,
    pub restarts: u32,
    pub pid: Option<u32>,
    /// What the server called itself in `initialize`.
    #[cfg_attr(
        feature = "ts",
        ts(type = "{ name?: string, version?: string, [key: string]: unknown } | null")
    )]
    pub server_info: Option<Value>,
}

/// All MCP servers the gateway knows. Cheap to clone.
#[derive(Clone)]
pub struct McpHub {
    inner: Arc<HubInner>,
}

impl std::fmt::Debug for McpHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpHub").finish_non_exhaustive()
    }
}

struct HubInner {
    slots: Mutex<HashMap<String, Arc<Slot>>>,
    /// Tool calls since start by (server, tool, outcome), for `/metrics`.
    calls: Mutex<std::collections::BTreeMap<(String, String, &'static str), u64>>,
    secrets: Mutex<SecretStore>,
    http: reqwest::Client,
    closing: AtomicBool,
}

struct Slot {
    /// Swapped in place when only tool switches or the timeout change.
    config: arc_swap::ArcSwap<McpServerConfig>,
    /// Held while starting, so concurrent first calls start one process.
    live: tokio::sync::Mutex<Option<Live>>,
    status: Mutex<SlotStatus>,
    tools: Mutex<Option<Arc<Vec<ToolInfo>>>>,
    /// Set by `notifications/tools/list_changed`.
    tools_stale: AtomicBool,
    restarts: AtomicU32,
}

struct Live {
    service: RunningService<RoleClient, HubClient>,
    peer: Peer<RoleClient>,
    pid: Option<u32>,
}

#[derive(Default)]
struct SlotStatus {
    starting: bool,
    error: Option<String>,
    failures: u32,
    retry_at: Option<Instant>,
    pid: Option<u32>,
    server_info: Option<Value>,
    ever_started: bool,
    started_at: Option<Instant>,
    /// Deaths in a row, each within [`CRASH_WINDOW`] of its start.
    quick_deaths: u32,
}

/// The pause before the `n`th retry (n ≥ 1): 1 s, 2 s, 4 s … up to [`MAX_BACKOFF`].
fn backoff(n: u32) -> Duration {
    Duration::from_secs(1u64 << n.saturating_sub(1).min(6)).min(MAX_BACKOFF)
}

/// Our side of each session: names us, and hears when the tool list changes.
struct HubClient {
    slot: Weak<Slot>,
}

impl ClientHandler for HubClient {
    async fn on_tool_list_changed(&self, _context: NotificationContext<RoleClient>) {
        if let Some(slot) = self.slot.upgrade() {
            tracing::info!(server = %slot.cfg().name, "MCP server says its tools changed");
            slot.tools_stale.store(true, Ordering::Release);
        }
    }

    fn get_info(&self) -> ClientConfig {
        ClientConfig::new(
            ClientCapabilities::default(),
            Implementation::new("switchyard", env!("CARGO_PKG_VERSION")),
        )
    }
}

impl McpHub {
    pub fn new(servers: &[McpServerConfig], secrets: SecretStore) -> Self {
        crate::providers::install_crypto_provider();
        let hub = Self {
            inner: Arc::new(HubInner {
                slots: Mutex::new(HashMap::new()),
                calls: Mutex::new(std::collections::BTreeMap::new()),
                secrets: Mutex::new(secrets),
                http: reqwest::Client::builder()
                    .connect_timeout(Duration::from_secs(10))
                    .tcp_nodelay(true)
                    .build()
                    .unwrap_or_default(),
                closing: AtomicBool::new(false),
            }),
        };
        hub.apply(servers, None);
        hub
    }

    /// Takes a new config: unchanged servers keep their sessions; changed, disabled and removed
    /// ones are stopped (in the background) and start afresh on next use.
    pub fn apply(&self, servers: &[McpServerConfig], secrets: Option<SecretStore>) {
        if let Some(s) = secrets {
            *lock(&self.inner.secrets) = s;
        }
        let mut stopped = Vec::new();
        {
            let mut slots = lock(&self.inner.slots);
            let mut next = HashMap::with_capacity(servers.len());
            for config in servers {
                let keep = slots
                    .remove(&config.name)
                    .filter(|old| same_session(&old.cfg(), config));
                let slot = match keep {
                    Some(old) => {
                        // At most the tool switches or the timeout changed: keep the session.
                        if *old.cfg() != *config {
                            old.config.store(Arc::new(config.clone()));
                            old.tools_stale.store(true, Ordering::Release);
                        }
                        old
                    }
                    None => Arc::new(Slot::new(config.clone())),
                };
                next.insert(config.name.clone(), slot);
            }
            stopped.extend(slots.drain().map(|(_, s)| s));
            *slots = next;
        }
        for slot in stopped {
            tokio::spawn(async move { slot.stop().await });
        }
    }

    fn slot(&self, name: &str) -> Result<Arc<Slot>, McpError> {
        lock(&self.inner.slots)
            .get(name)
            .cloned()
            .ok_or_else(|| McpError::UnknownServer(name.to_owned()))
    }

    pub fn server_names(&self) -> Vec<String> {
        let mut names: Vec<String> = lock(&self.inner.slots).keys().cloned().collect();
        names.sort();
        names
    }

    pub fn status(&self) -> Vec<ServerStatus> {
        let mut slots: Vec<Arc<Slot>> = lock(&self.inner.slots).values().cloned().collect();
        slots.sort_by_key(|s| s.cfg().name.clone());
        slots.iter().map(|s| s.status()).collect()
    }

    pub fn server_status(&self, name: &str) -> Result<ServerStatus, McpError> {
        Ok(self.slot(name)?.status())
    }

    /// A server's tools, starting it if needed. Disabled tools are listed with `enabled: false`.
    pub async fn tools(&self, server: &str) -> Result<Arc<Vec<ToolInfo>>, McpError> {
        let slot = self.slot(server)?;
        if !slot.cfg().enabled {
            return Err(McpError::Disabled(server.to_owned()));
        }
        slot.tools(&self.inner).await
    }

    /// The enabled tools of these servers (all enabled servers when `None`), fetched
    /// concurrently. A server that cannot start is reported, not fatal: the others still serve.
    pub async fn tools_of(
        &self,
        servers: Option<&[String]>,
    ) -> (Vec<ToolInfo>, Vec<(String, McpError)>) {
        let slots: Vec<Arc<Slot>> = {
            let all = lock(&self.inner.slots);
            match servers {
                Some(names) => names.iter().filter_map(|n| all.get(n).cloned()).collect(),
                None => all.values().cloned().collect(),
            }
        };
        let mut failed = Vec::new();
        let named = servers.is_some();
        let jobs = slots
            .into_iter()
            .filter(|s| {
                let enabled = s.cfg().enabled;
                if !enabled && named {
                    // Asked for by name: say why it gives no tools.
                    failed.push((
                        s.cfg().name.clone(),
                        McpError::Disabled(s.cfg().name.clone()),
                    ));
                }
                enabled
            })
            .map(|slot| async move {
                let name = slot.cfg().name.clone();
                (name, slot.tools(&self.inner).await)
            });
        let mut tools = Vec::new();
        for (name, result) in futures_util::future::join_all(jobs).await {
            match result {
                Ok(list) => tools.extend(list.iter().filter(|t| t.enabled).cloned()),
                Err(e) => failed.push((name, e)),
            }
        }
        tools.sort_by(|a, b| a.name.cmp(&b.name));
        (tools, failed)
    }

    /// Calls `server__tool`. Dropping the future cancels the call: the server is sent
    /// `notifications/cancelled` (and the call counts as `cancelled` in `/metrics`).
    pub async fn call(&self, qualified: &str, arguments: Value) -> Result<ToolOutcome, McpError> {
        let mut count = CallCount {
            hub: &self.inner,
            name: split_tool_name(qualified).ok(),
            outcome: "cancelled",
        };
        let result = self.call_inner(qualified, arguments).await;
        count.outcome = match &result {
            Ok(o) if o.is_error => "tool_error",
            Ok(_) => "ok",
            Err(McpError::Timeout { .. }) => "timeout",
            Err(_) => "failed",
        };
        result
    }

    /// Prometheus text: tool calls by server, tool and outcome, and servers by state.
    pub fn render_prometheus(&self, out: &mut String) {
        use std::fmt::Write as _;
        let calls = lock(&self.inner.calls);
        out.push_str("# HELP switchyard_mcp_tool_calls_total MCP tool calls run by the gateway, by server, tool and outcome (ok, tool_error, failed, timeout, cancelled).\n");
        out.push_str("# TYPE switchyard_mcp_tool_calls_total counter\n");
        for ((server, tool, outcome), n) in calls.iter() {
            let _ = writeln!(
                out,
                "switchyard_mcp_tool_calls_total{{server=\"{}\",tool=\"{}\",outcome=\"{outcome}\"}} {n}",
                escape_label(server),
                escape_label(tool)
            );
        }
        drop(calls);
        out.push_str("# HELP switchyard_mcp_server_up Whether an MCP server's session is running (1) or not (0).\n");
        out.push_str("# TYPE switchyard_mcp_server_up gauge\n");
        for st in self.status() {
            let _ = writeln!(
                out,
                "switchyard_mcp_server_up{{server=\"{}\",state=\"{}\"}} {}",
                escape_label(&st.name),
                st.state,
                u8::from(st.state == "running")
            );
        }
    }

    async fn call_inner(&self, qualified: &str, arguments: Value) -> Result<ToolOutcome, McpError> {
        let (server, tool) = split_tool_name(qualified)?;
        let slot = self.slot(server)?;
        if !slot.cfg().enabled {
            return Err(McpError::Disabled(server.to_owned()));
        }
        let peer = slot.connect(&self.inner).await?;
        // The model calls the exposed name; the server knows the tool by its own.
        let listed = lock(&slot.tools).clone();
        let tool = listed
            .as_ref()
            .and_then(|list| list.iter().find(|t| t.name == qualified))
            .map_or_else(|| tool.to_owned(), |t| t.tool.clone());
        if !slot.cfg().tool_enabled(&tool) {
            return Err(McpError::ToolDisabled(qualified.to_owned()));
        }
        let mut params = CallToolRequestParams::new(tool);
        match arguments {
            Value::Object(map) => params = params.with_arguments(map),
            Value::Null => {}
            other => {
                return Err(McpError::Call {
                    server: server.to_owned(),
                    message: format!("tool arguments must be a JSON object, not {other}"),
                });
            }
        }
        let timeout = slot.cfg().call_timeout;
        let answer = tokio::time::timeout(timeout, peer.call_tool_once(params))
            .await
            .map_err(|_| McpError::Timeout {
                tool: qualified.to_owned(),
                after: timeout,
            })?;
        match answer {
            Ok(CallToolResponse::Complete(result)) => {
                let raw = serde_json::to_value(&result).unwrap_or(Value::Null);
                Ok(outcome(raw))
            }
            Ok(_) => Err(McpError::Call {
                server: server.to_owned(),
                message: "the server asked for more input or started a task, which the gateway does not support".into(),
            }),
            Err(e) => {
                if peer.is_transport_closed() {
                    slot.died(format!("the session closed: {e}"));
                }
                Err(McpError::Call {
                    server: server.to_owned(),
                    message: e.to_string(),
                })
            }
        }
    }

    /// Stops a server's session now (it starts again on next use) and clears its backoff.
    pub async fn restart(&self, server: &str) -> Result<(), McpError> {
        let slot = self.slot(server)?;
        slot.stop().await;
        *lock(&slot.status) = SlotStatus::default();
        Ok(())
    }

    /// Stops every session: stdio servers get their stdin closed, then SIGTERM, then SIGKILL
    /// (the whole process group, so `npx` leaves no children behind).
    pub async fn shutdown(&self) {
        self.inner.closing.store(true, Ordering::Release);
        let slots: Vec<Arc<Slot>> = lock(&self.inner.slots).values().cloned().collect();
        futures_util::future::join_all(slots.iter().map(|s| s.stop())).await;
    }
}

impl Slot {
    fn cfg(&self) -> Arc<McpServerConfig> {
        self.config.load_full()
    }

    fn new(config: McpServerConfig) -> Self {
        Self {
            config: arc_swap::ArcSwap::from_pointee(config),
            live: tokio::sync::Mutex::new(None),
            status: Mutex::new(SlotStatus::default()),
            tools: Mutex::new(None),
            tools_stale: AtomicBool::new(false),
            restarts: AtomicU32::new(0),
        }
    }

    fn status(&self) -> ServerStatus {
        let st = lock(&self.status);
        let running = self
            .live
            .try_lock()
            .ok()
            .map(|l| l.as_ref().map(|l| !l.peer.is_transport_closed()));
        let state = if !self.cfg().enabled {
            "disabled"
        } else if st.starting || running.is_none() {
            "starting"
        } else if running == Some(Some(true)) {
            "running"
        } else if st.error.is_some() {
            "failed"
        } else if running == Some(Some(false)) {
            "exited"
        } else {
            "idle"
        };
        let retry_in_s = st
            .retry_at
            .and_then(|t| t.checked_duration_since(Instant::now()))
            .map(|d| d.as_secs() + 1);
        ServerStatus {
            name: self.cfg().name.clone(),
            transport: self.cfg().transport.kind(),
            enabled: self.cfg().enabled,
            state,
            error: st.error.clone(),
            retry_in_s,
            tools: lock(&self.tools).as_ref().map(|t| t.len()),
            restarts: self.restarts.load(Ordering::Relaxed),
            pid: if state == "running" { st.pid } else { None },
            server_info: st.server_info.clone(),
        }
    }

    fn died(&self, why: String) {
        let mut st = lock(&self.status);
        st.error = Some(why);
    }

    /// The live session's peer, starting (or restarting) the server if needed.
    async fn connect(self: &Arc<Self>, hub: &HubInner) -> Result<Peer<RoleClient>, McpError> {
        if hub.closing.load(Ordering::Acquire) {
            return Err(McpError::ShuttingDown);
        }
        let mut live = self.live.lock().await;
        if let Some(l) = live.as_ref() {
            if !l.peer.is_transport_closed() {
                return Ok(l.peer.clone());
            }
            tracing::warn!(server = %self.cfg().name, "MCP server exited; restarting");
            let mut st = lock(&self.status);
            // A server that keeps dying soon after it starts is restarted with growing pauses.
            let soon = st.started_at.is_some_and(|t| t.elapsed() < CRASH_WINDOW);
            st.quick_deaths = if soon { st.quick_deaths + 1 } else { 0 };
            // The first death restarts at once; a second in a row waits.
            if st.quick_deaths > 1 {
                st.retry_at = Some(Instant::now() + backoff(st.quick_deaths - 1));
                st.error = Some(format!(
                    "it exited {} time(s) within {} s of starting",
                    st.quick_deaths,
                    CRASH_WINDOW.as_secs()
                ));
            }
        }
        if let Some(mut old) = live.take() {
            let _ = old.service.close().await;
        }
        {
            let st = lock(&self.status);
            if let (Some(at), Some(error)) = (st.retry_at, &st.error)
                && at > Instant::now()
            {
                let wait = at.saturating_duration_since(Instant::now()).as_secs() + 1;
                return Err(McpError::Start {
                    server: self.cfg().name.clone(),
                    message: format!("{error} (next try in {wait} s)"),
                });
            }
        }
        lock(&self.status).starting = true;
        let started = tokio::time::timeout(START_TIMEOUT, self.start(hub)).await;
        let mut st = lock(&self.status);
        st.starting = false;
        let result = match started {
            Ok(r) => r,
            Err(_) => Err(format!(
                "it did not finish starting within {} s",
                START_TIMEOUT.as_secs()
            )),
        };
        match result {
            Ok(l) => {
                if st.ever_started {
                    self.restarts.fetch_add(1, Ordering::Relaxed);
                }
                st.ever_started = true;
                st.started_at = Some(Instant::now());
                st.error = None;
                st.failures = 0;
                st.retry_at = None;
                st.pid = l.pid;
                st.server_info = l
                    .service
                    .peer_info()
                    .and_then(|i| serde_json::to_value(&i.server_info).ok());
                let peer = l.peer.clone();
                *live = Some(l);
                self.tools_stale.store(true, Ordering::Release);
                tracing::info!(server = %self.cfg().name, "MCP server started");
                Ok(peer)
            }
            Err(message) => {
                st.failures += 1;
                st.retry_at = Some(Instant::now() + backoff(st.failures));
                st.error = Some(message.clone());
                tracing::warn!(server = %self.cfg().name, error = %message, "MCP server failed to start");
                Err(McpError::Start {
                    server: self.cfg().name.clone(),
                    message,
                })
            }
        }
    }

    async fn start(self: &Arc<Self>, hub: &HubInner) -> Result<Live, String> {
        let handler = HubClient {
            slot: Arc::downgrade(self),
        };
        let secrets = lock(&hub.secrets).clone();
        match &self.cfg().transport {
            McpTransport::Stdio {
                command,
                args,
                env,
                cwd,
            } => {
                let env = resolve_values(env, &secrets).await?;
                let path = shell::child_path().await;
                let mut cmd = tokio::process::Command::new(resolve_command(command, &path));
                cmd.args(args);
                if let Some(p) = &path {
                    cmd.env("PATH", p);
                }
                for (k, v) in &env {
                    cmd.env(k, v);
                }
                if let Some(dir) = cwd {
                    cmd.current_dir(dir);
                }
                let mut wrap = process_wrap::tokio::CommandWrap::from(cmd);
                #[cfg(unix)]
                wrap.wrap(process_wrap::tokio::ProcessGroup::leader());
                #[cfg(windows)]
                wrap.wrap(process_wrap::tokio::JobObject);
                wrap.wrap(process_wrap::tokio::KillOnDrop);
                let (proc, stderr) = rmcp::transport::TokioChildProcess::builder(wrap)
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .map_err(|e| format!("cannot run {command:?}: {e}"))?;
                let pid = proc.id();
                let tail = Arc::new(Mutex::new(String::new()));
                if let Some(stderr) = stderr {
                    tokio::spawn(keep_stderr(self.cfg().name.clone(), stderr, tail.clone()));
                }
                match handler.serve(proc).await {
                    Ok(service) => Ok(Live {
                        peer: service.peer().clone(),
                        service,
                        pid,
                    }),
                    Err(e) => {
                        // Give the stderr reader a moment: the reason is usually there.
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        // The last few lines say why; a whole stack trace does not fit a status line.
                        let said = {
                            let t = lock(&tail);
                            let lines: Vec<&str> = t.trim().lines().collect();
                            lines[lines.len().saturating_sub(6)..].join("\n")
                        };
                        Err(if said.is_empty() {
                            format!("{e}")
                        } else {
                            format!("{e}; it said: {said}")
                        })
                    }
                }
            }
            McpTransport::Http { url, headers } => {
                let headers = header_map(&resolve_values(headers, &secrets).await?)?;
                let config = rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig::with_uri(url.as_str())
                    .custom_headers(headers);
                let transport = rmcp::transport::StreamableHttpClientTransport::with_client(
                    hub.http.clone(),
                    config,
                );
                let service = handler.serve(transport).await.map_err(|e| format!("{e}"))?;
                Ok(Live {
                    peer: service.peer().clone(),
                    service,
                    pid: None,
                })
            }
            McpTransport::Sse { url, headers } => {
                let headers = resolve_values(headers, &secrets).await?;
                let transport = sse::SseTransport::connect(hub.http.clone(), url, &headers).await?;
                let service = handler.serve(transport).await.map_err(|e| format!("{e}"))?;
                Ok(Live {
                    peer: service.peer().clone(),
                    service,
                    pid: None,
                })
            }
        }
    }

    async fn tools(self: &Arc<Self>, hub: &HubInner) -> Result<Arc<Vec<ToolInfo>>, McpError> {
        let peer = self.connect(hub).await?;
        if !self.tools_stale.load(Ordering::Acquire)
            && let Some(t) = lock(&self.tools).clone()
        {
            return Ok(t);
        }
        self.tools_stale.store(false, Ordering::Release);
        let listed = tokio::time::timeout(LIST_TIMEOUT, peer.list_all_tools())
            .await
            .map_err(|_| McpError::Call {
                server: self.cfg().name.clone(),
                message: format!(
                    "tools/list did not answer within {} s",
                    LIST_TIMEOUT.as_secs()
                ),
            })?
            .map_err(|e| McpError::Call {
                server: self.cfg().name.clone(),
                message: e.to_string(),
            })?;
        let list: Vec<ToolInfo> = listed
            .into_iter()
            .map(|t| ToolInfo {
                name: exposed_name(&self.cfg().name, &t.name),
                server: self.cfg().name.clone(),
                enabled: self.cfg().tool_enabled(&t.name),
                tool: t.name.into_owned(),
                description: t.description.map(|d| d.into_owned()),
                input_schema: Value::Object((*t.input_schema).clone()),
            })
            .collect();
        let list = Arc::new(list);
        *lock(&self.tools) = Some(list.clone());
        Ok(list)
    }

    async fn stop(&self) {
        let taken = self.live.lock().await.take();
        if let Some(mut l) = taken {
            match l.service.close_with_timeout(Duration::from_secs(8)).await {
                Ok(Some(_)) => {}
                Ok(None) => {
                    tracing::warn!(server = %self.cfg().name, "MCP server was slow to stop")
                }
                Err(e) => {
                    tracing::warn!(server = %self.cfg().name, error = %e, "MCP server stop failed")
                }
            }
            tracing::info!(server = %self.cfg().name, "MCP server stopped");
        }
    }
}

/// `500 ms`, `2 s`, `1.5 s`: a duration as people write it.
fn human(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms} ms")
    } else if ms.is_multiple_of(1000) {
        format!("{} s", ms / 1000)
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

/// The name a model sees for a server's tool: `server__tool`, kept to what OpenAI accepts
/// (`[A-Za-z0-9_-]`, at most 64 characters; longer names end in a short hash instead).
pub fn exposed_name(server: &str, tool: &str) -> String {
    let full: String = format!("{server}{TOOL_SEPARATOR}{tool}")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if full.len() <= 64 {
        return full;
    }
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(format!("{server}\0{tool}").as_bytes());
    let hash: String = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
    format!("{}_{hash}", &full[..55])
}

/// Counts one tool call when dropped, so that a cancelled call is counted too.
struct CallCount<'a> {
    hub: &'a HubInner,
    name: Option<(&'a str, &'a str)>,
    outcome: &'static str,
}

impl Drop for CallCount<'_> {
    fn drop(&mut self) {
        if let Some((server, tool)) = self.name {
            *lock(&self.hub.calls)
                .entry((server.to_owned(), tool.to_owned(), self.outcome))
                .or_insert(0) += 1;
        }
    }
}

fn escape_label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Whether two configs can share one running session (only tool switches differ).
fn same_session(a: &McpServerConfig, b: &McpServerConfig) -> bool {
    a.transport == b.transport && a.enabled && b.enabled
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// `server__tool` → (`server`, `tool`). Tool names may themselves contain `__`.
pub fn split_tool_name(qualified: &str) -> Result<(&str, &str), McpError> {
    qualified
        .split_once(TOOL_SEPARATOR)
        .filter(|(s, t)| !s.is_empty() && !t.is_empty())
        .ok_or_else(|| McpError::NotATool(qualified.to_owned()))
}

/// A tool result as text for the model: text blocks joined, images and resources named,
/// and the structured result when there is nothing else.
fn outcome(raw: Value) -> ToolOutcome {
    let is_error = raw.get("isError").and_then(Value::as_bool).unwrap_or(false);
    let mut parts = Vec::new();
    for block in raw
        .get("content")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        match block.get("type").and_then(Value::as_str) {
            Some("text") => {
                if let Some(t) = block.get("text").and_then(Value::as_str) {
                    parts.push(t.to_owned());
                }
            }
            Some("image" | "audio") => parts.push(format!(
                "[{} {}]",
                block.get("type").and_then(Value::as_str).unwrap_or("media"),
                block.get("mimeType").and_then(Value::as_str).unwrap_or("")
            )),
            Some("resource") => {
                let r = block.get("resource");
                match r.and_then(|r| r.get("text")).and_then(Value::as_str) {
                    Some(t) => parts.push(t.to_owned()),
                    None => parts.push(format!(
                        "[resource {}]",
                        r.and_then(|r| r.get("uri"))
                            .and_then(Value::as_str)
                            .unwrap_or("")
                    )),
                }
            }
            Some("resource_link") => parts.push(format!(
                "[link {}]",
                block.get("uri").and_then(Value::as_str).unwrap_or("")
            )),
            _ => {}
        }
    }
    let mut text = parts.join("\n");
    if text.is_empty()
        && let Some(s) = raw.get("structuredContent")
    {
        text = s.to_string();
    }
    ToolOutcome {
        text,
        is_error,
        raw,
    }
}

async fn resolve_values(
    values: &[(String, McpValue)],
    secrets: &SecretStore,
) -> Result<Vec<(String, String)>, String> {
    let values = values.to_vec();
    let secrets = secrets.clone();
    // Keychain lookups may block on D-Bus.
    tokio::task::spawn_blocking(move || {
        values
            .into_iter()
            .map(|(k, v)| match v {
                McpValue::Literal(s) => Ok((k, s)),
                McpValue::Secret(r) => r
                    .resolve_with(&secrets)
                    .map(|s| (k.clone(), s.expose().to_owned()))
                    .map_err(|e| format!("{k}: {e}")),
            })
            .collect()
    })
    .await
    .map_err(|e| e.to_string())?
}

fn header_map(
    values: &[(String, String)],
) -> Result<HashMap<http::HeaderName, http::HeaderValue>, String> {
    values
        .iter()
        .map(|(k, v)| {
            let name = http::HeaderName::try_from(k.as_str())
                .map_err(|_| format!("{k:?} is not a header name"))?;
            let mut value = http::HeaderValue::try_from(v.as_str())
                .map_err(|_| format!("the value of header {k} is not valid in a header"))?;
            value.set_sensitive(true);
            Ok((name, value))
        })
        .collect()
}

/// A bare command name looked up on the PATH the child will get (the login shell's), so that
/// `npx` installed by nvm or Homebrew is found even when the app was started from the tray.
fn resolve_command(command: &str, path: &Option<String>) -> std::path::PathBuf {
    let as_path = std::path::Path::new(command);
    if as_path.components().count() > 1 {
        return as_path.to_owned();
    }
    if let Some(path) = path {
        for dir in std::env::split_paths(path) {
            let candidate = dir.join(command);
            if candidate.is_file() {
                return candidate;
            }
            #[cfg(windows)]
            for ext in ["exe", "cmd", "bat"] {
                let c = candidate.with_extension(ext);
                if c.is_file() {
                    return c;
                }
            }
        }
    }
    as_path.to_owned()
}

/// Logs what a stdio server writes to stderr and keeps its last lines for error messages.
async fn keep_stderr(
    server: String,
    stderr: tokio::process::ChildStderr,
    tail: Arc<Mutex<String>>,
) {
    use tokio::io::AsyncBufReadExt as _;
    let mut lines = tokio::io::BufReader::new(stderr).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        tracing::debug!(server = %server, "{line}");
        let mut t = lock(&tail);
        t.push_str(&line);
        t.push('\n');
        if t.len() > 2000 {
            let cut = t.len() - 1500;
            let cut = (cut..t.len()).find(|i| t.is_char_boundary(*i)).unwrap_or(0);
            t.drain(..cut);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposed_names_are_what_openai_accepts() {
        assert_eq!(
            exposed_name("time", "get_current_time"),
            "time__get_current_time"
        );
        assert_eq!(exposed_name("fs", "read.file v2"), "fs__read_file_v2");
        let long = exposed_name("server", &"x".repeat(80));
        assert_eq!(long.len(), 64);
        assert_ne!(
            long,
            exposed_name("server", &"x".repeat(81)),
            "distinct tools stay distinct"
        );
        assert_eq!(human(Duration::from_millis(500)), "500 ms");
        assert_eq!(human(Duration::from_secs(120)), "120 s");
        assert_eq!(human(Duration::from_millis(1500)), "1.5 s");
    }

    #[test]
    fn backoff_doubles_up_to_a_minute() {
        let secs: Vec<u64> = (1..=8).map(|n| backoff(n).as_secs()).collect();
        assert_eq!(secs, [1, 2, 4, 8, 16, 32, 60, 60]);
    }

    #[test]
    fn tool_names_split_at_the_first_separator() -> Result<(), McpError> {
        assert_eq!(split_tool_name("time__get_now")?, ("time", "get_now"));
        assert_eq!(split_tool_name("fs__read__file")?, ("fs", "read__file"));
        assert!(split_tool_name("plain").is_err());
        assert!(split_tool_name("__x").is_err());
        Ok(())
    }

    #[test]
    fn results_become_text_for_the_model() {
        let o = outcome(serde_json::json!({
            "content": [{"type": "text", "text": "12:00"}, {"type": "image", "mimeType": "image/png", "data": "AA"}],
            "isError": false
        }));
        assert_eq!(o.text, "12:00\n[image image/png]");
        assert!(!o.is_error);
        let o = outcome(
            serde_json::json!({"content": [], "structuredContent": {"a": 1}, "isError": true}),
        );
        assert_eq!(o.text, r#"{"a":1}"#);
        assert!(o.is_error);
    }
}
