//! Views of MCP servers, their tools and assistants.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::config::mcp::AssistantConfig;
use crate::mcp::{ServerStatus, ToolInfo};

/// An MCP server as configured, with its live status. `command`, `args`, `env` and `cwd` are
/// there for a stdio server, `url` and `headers` for an HTTP or SSE one.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename = "McpServer"))]
pub struct Server {
    pub name: String,
    #[cfg_attr(feature = "ts", ts(type = "\"stdio\" | \"http\" | \"sse\""))]
    pub transport: &'static str,
    pub enabled: bool,
    pub disabled_tools: Vec<String>,
    pub call_timeout_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub command: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub args: Option<Vec<String>>,
    /// Values as the config file has them: plain, or a `keychain:`/`env:` reference.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub env: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub cwd: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub headers: Option<BTreeMap<String, String>>,
    pub status: Option<ServerStatus>,
}

/// `GET /admin/mcp/tools`: the tools, and the servers that could not list theirs.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename = "McpToolList"))]
pub struct ToolList {
    pub data: Vec<ToolInfo>,
    pub errors: Vec<ServerError>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename = "McpServerError"))]
pub struct ServerError {
    pub server: String,
    pub error: String,
}

/// `PUT /admin/mcp/servers/{name}/tools/{tool}`.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename = "McpToolSwitch"))]
pub struct ToolSwitch {
    pub server: String,
    pub tool: String,
    pub enabled: bool,
}

/// An assistant: a model with a system prompt and MCP tools.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Assistant {
    pub name: String,
    pub description: Option<String>,
    pub model: String,
    pub system: Option<String>,
    pub servers: Vec<String>,
    /// `null`: every enabled tool of `servers`.
    pub tools: Option<Vec<String>>,
    pub max_iterations: u32,
}

impl From<&AssistantConfig> for Assistant {
    fn from(a: &AssistantConfig) -> Self {
        Self {
            name: a.name.clone(),
            description: a.description.clone(),
            model: a.model.clone(),
            system: a.system.clone(),
            servers: a.servers.clone(),
            tools: a.tools.clone(),
            max_iterations: a.max_iterations,
        }
    }
}
