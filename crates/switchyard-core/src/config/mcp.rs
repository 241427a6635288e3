//! MCP servers the gateway uses and the assistants built on them, validated from
//! `[[mcp_servers]]` and `[[assistants]]`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use super::SecretRef;
use super::raw::{RawAssistant, RawMcp, RawMcpServer};

/// How long one tool call may run unless the server's `call_timeout_ms` says otherwise.
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(120);
/// Model rounds an assistant may take unless `max_iterations` says otherwise.
pub const DEFAULT_MAX_ITERATIONS: u32 = 10;
/// The separator between a server's name and its tool's name: `time__get_current_time`.
pub const TOOL_SEPARATOR: &str = "__";

/// `[mcp]`: the built-in MCP server at `/mcp`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct McpSettings {
    /// Folders `understand_image` may read besides the data folder's `images/`; absolute.
    pub image_folders: Vec<PathBuf>,
    /// `understand_image` may fetch URLs whose addresses are loopback, private or link-local.
    pub allow_private_urls: bool,
    /// Sessions kept at once; a new one beyond this ends the longest idle one.
    pub max_sessions: usize,
    /// A session with no request for this long is ended.
    pub session_idle: Duration,
}

impl Default for McpSettings {
    fn default() -> Self {
        Self {
            image_folders: Vec::new(),
            allow_private_urls: false,
            max_sessions: 256,
            session_idle: Duration::from_secs(600),
        }
    }
}

pub(super) fn validate_settings(raw: RawMcp, push: &mut impl FnMut(String, String)) -> McpSettings {
    let defaults = McpSettings::default();
    let mut image_folders = Vec::with_capacity(raw.image_folders.len());
    for (i, folder) in raw.image_folders.iter().enumerate() {
        let path = super::expand_home(folder);
        let at = format!("mcp.image_folders[{i}]");
        if !path.is_absolute() {
            push(
                at,
                format!("{folder:?} must be an absolute path or start with ~/"),
            );
        } else if path.parent().is_none() || dirs::home_dir().is_some_and(|h| h == path) {
            push(
                at,
                format!("{folder:?} would open every file below it; name a folder of images"),
            );
        } else {
            image_folders.push(path);
        }
    }
    let max_sessions = raw.max_sessions.unwrap_or(256);
    if !(1..=10_000).contains(&max_sessions) {
        push(
            "mcp.max_sessions".into(),
            "must be between 1 and 10000".into(),
        );
    }
    if raw.session_idle_ms == Some(0) {
        push(
            "mcp.session_idle_ms".into(),
            "must be greater than 0".into(),
        );
    }
    McpSettings {
        image_folders,
        allow_private_urls: raw
            .allow_private_urls
            .unwrap_or(defaults.allow_private_urls),
        max_sessions: usize::try_from(max_sessions).unwrap_or(defaults.max_sessions),
        session_idle: raw
            .session_idle_ms
            .map_or(defaults.session_idle, Duration::from_millis),
    }
}

/// One MCP server, as configured.
#[derive(Debug, Clone, PartialEq)]
pub struct McpServerConfig {
    pub name: String,
    pub transport: McpTransport,
    pub enabled: bool,
    /// Tool names (without the server prefix) that models never see.
    pub disabled_tools: Vec<String>,
    pub call_timeout: Duration,
}

impl McpServerConfig {
    pub fn tool_enabled(&self, tool: &str) -> bool {
        !self.disabled_tools.iter().any(|t| t == tool)
    }

    /// The keychain entries Switchyard stored for this server's env or headers
    /// (see [`secret_entry`]), which go when the server goes.
    pub fn owned_secret_entries(&self) -> Vec<String> {
        let prefix = format!("keychain:{}", secret_entry(&self.name, ""));
        let values = match &self.transport {
            McpTransport::Stdio { env, .. } => env,
            McpTransport::Http { headers, .. } | McpTransport::Sse { headers, .. } => headers,
        };
        values
            .iter()
            .filter_map(|(_, v)| {
                v.display()
                    .strip_prefix(&prefix)
                    .map(|rest| secret_entry(&self.name, rest))
            })
            .collect()
    }
}

/// The keychain entry for a secret env variable or header of a server: `mcp.SERVER.KEY`, with
/// characters an entry name cannot have replaced by '_'.
pub fn secret_entry(server: &str, key: &str) -> String {
    let safe: String = key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("mcp.{server}.{safe}")
}

#[derive(Debug, Clone, PartialEq)]
pub enum McpTransport {
    /// A child process speaking JSON-RPC on stdin/stdout.
    Stdio {
        command: String,
        args: Vec<String>,
        env: Vec<(String, McpValue)>,
        cwd: Option<PathBuf>,
    },
    /// Streamable HTTP (MCP 2025-03-26 and later).
    Http {
        url: String,
        headers: Vec<(String, McpValue)>,
    },
    /// The older HTTP+SSE transport: a `GET` event stream plus `POST`s to the endpoint it names.
    Sse {
        url: String,
        headers: Vec<(String, McpValue)>,
    },
}

impl McpTransport {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Stdio { .. } => "stdio",
            Self::Http { .. } => "http",
            Self::Sse { .. } => "sse",
        }
    }
}

/// An environment or header value: written as is, or a secret reference resolved when the
/// server starts (`keychain:NAME`, `env:VAR`), so tokens stay out of the config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum McpValue {
    Literal(String),
    Secret(SecretRef),
}

impl McpValue {
    fn parse(s: &str) -> Result<Self, String> {
        if s.starts_with("env:") || s.starts_with("keychain:") {
            SecretRef::parse(s).map(Self::Secret)
        } else {
            Ok(Self::Literal(s.to_owned()))
        }
    }

    /// The value as the config file shows it (a reference, never a resolved secret).
    pub fn display(&self) -> String {
        match self {
            Self::Literal(s) => s.clone(),
            Self::Secret(r) => r.to_string(),
        }
    }
}

/// A model with a system prompt and MCP tools, served as a model id of its own.
#[derive(Debug, Clone, PartialEq)]
pub struct AssistantConfig {
    pub name: String,
    pub description: Option<String>,
    /// A model id or alias the gateway routes.
    pub model: String,
    pub system: Option<String>,
    /// Every enabled tool of these servers…
    pub servers: Vec<String>,
    /// …or only these namespaced tools (`server__tool`), when given.
    pub tools: Option<Vec<String>>,
    pub max_iterations: u32,
}

/// Server and tool names: letters, digits, '-' and '_', with no "__" (it separates the two).
pub fn valid_server_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 48
        && !name.contains(TOOL_SEPARATOR)
        && !name.starts_with('_')
        && !name.ends_with('_')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
}

pub(super) fn validate_servers(
    raw: Vec<RawMcpServer>,
    push: &mut impl FnMut(String, String),
) -> Vec<McpServerConfig> {
    let mut out: Vec<McpServerConfig> = Vec::with_capacity(raw.len());
    for (i, s) in raw.into_iter().enumerate() {
        let at = |field: &str| format!("mcp_servers[{i}].{field}");
        if !valid_server_name(&s.name) {
            push(
                at("name"),
                format!(
                    "{:?} must be 1-48 letters, digits, '-' or '_', without \"__\" (it joins server and tool names)",
                    s.name
                ),
            );
        } else if out.iter().any(|o| o.name == s.name) {
            push(
                at("name"),
                format!("duplicate MCP server name {:?}", s.name),
            );
        }
        let kind = s
            .transport
            .as_deref()
            .unwrap_or(match (&s.command, &s.url) {
                (Some(_), _) => "stdio",
                (None, Some(_)) => "http",
                (None, None) => "",
            });
        let values =
            |map: BTreeMap<String, String>, field: &str, push: &mut dyn FnMut(String, String)| {
                let mut list = Vec::with_capacity(map.len());
                for (k, v) in map {
                    match McpValue::parse(&v) {
                        Ok(value) => list.push((k, value)),
                        Err(e) => push(format!("mcp_servers[{i}].{field}.{k}"), e),
                    }
                }
                list
            };
        let mut push_dyn = |p: String, m: String| push(p, m);
        let transport = match kind {
            "stdio" => {
                let command = s.command.clone().unwrap_or_default();
                if command.trim().is_empty() {
                    push_dyn(
                        at("command"),
                        "a stdio server needs the command that starts it (e.g. \"npx\")".into(),
                    );
                }
                if s.url.is_some() {
                    push_dyn(at("url"), "a stdio server has a command, not a url".into());
                }
                Some(McpTransport::Stdio {
                    command,
                    args: s.args.clone(),
                    env: values(s.env.clone(), "env", &mut push_dyn),
                    cwd: s.cwd.as_deref().map(super::expand_home),
                })
            }
            "http" | "sse" => {
                let url = s.url.clone().unwrap_or_default();
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    push_dyn(
                        at("url"),
                        format!("{url:?} is not an http:// or https:// URL"),
                    );
                }
                if s.command.is_some() {
                    push_dyn(
                        at("command"),
                        format!("a {kind} server has a url, not a command"),
                    );
                }
                let headers = values(s.headers.clone(), "headers", &mut push_dyn);
                Some(if kind == "http" {
                    McpTransport::Http { url, headers }
                } else {
                    McpTransport::Sse { url, headers }
                })
            }
            "" => {
                push_dyn(
                    at("command"),
                    "give a command (a stdio server) or a url (an HTTP server)".into(),
                );
                None
            }
            other => {
                push_dyn(
                    at("transport"),
                    format!("unknown transport {other:?} (stdio, http or sse)"),
                );
                None
            }
        };
        if s.call_timeout_ms == Some(0) {
            push(at("call_timeout_ms"), "must be greater than 0".into());
        }
        if let Some(transport) = transport {
            out.push(McpServerConfig {
                name: s.name,
                transport,
                enabled: s.enabled,
                disabled_tools: s.disabled_tools,
                call_timeout: s
                    .call_timeout_ms
                    .map_or(DEFAULT_CALL_TIMEOUT, Duration::from_millis),
            });
        }
    }
    out
}

pub(super) fn validate_assistants(
    raw: Vec<RawAssistant>,
    servers: &[McpServerConfig],
    taken: &dyn Fn(&str) -> bool,
    push: &mut impl FnMut(String, String),
) -> Vec<AssistantConfig> {
    let mut out: Vec<AssistantConfig> = Vec::with_capacity(raw.len());
    for (i, a) in raw.into_iter().enumerate() {
        let at = |field: &str| format!("assistants[{i}].{field}");
        if !super::valid_name(&a.name) {
            push(
                at("name"),
                format!("{:?} must be {}", a.name, super::NAME_RULE),
            );
        } else if out.iter().any(|o| o.name == a.name) {
            push(at("name"), format!("duplicate assistant name {:?}", a.name));
        } else if taken(&a.name) {
            push(
                at("name"),
                format!("{:?} is already an alias name; pick another", a.name),
            );
        }
        if a.model.trim().is_empty() {
            push(
                at("model"),
                "must name the model or alias that answers".into(),
            );
        } else if a.model == a.name {
            push(
                at("model"),
                "an assistant cannot use itself as its model".into(),
            );
        }
        for (j, s) in a.servers.iter().enumerate() {
            if !servers.iter().any(|c| &c.name == s) {
                push(
                    format!("assistants[{i}].servers[{j}]"),
                    format!("unknown MCP server {s:?}"),
                );
            }
        }
        if let Some(tools) = &a.tools {
            for (j, t) in tools.iter().enumerate() {
                let server = t.split_once(TOOL_SEPARATOR).map(|(s, _)| s);
                if !server.is_some_and(|s| servers.iter().any(|c| c.name == s)) {
                    push(
                        format!("assistants[{i}].tools[{j}]"),
                        format!("{t:?} is not \"server__tool\" for a configured MCP server"),
                    );
                }
            }
        }
        let max_iterations = a.max_iterations.unwrap_or(DEFAULT_MAX_ITERATIONS);
        if !(1..=100).contains(&max_iterations) {
            push(at("max_iterations"), "must be between 1 and 100".into());
        }
        out.push(AssistantConfig {
            name: a.name,
            description: a.description,
            model: a.model,
            system: a.system,
            servers: a.servers,
            tools: a.tools,
            max_iterations,
        });
    }
    out
}
