//! The gateway's own MCP server at `/mcp` (streamable HTTP through rmcp). What the tools do lives
//! in the server module behind [`Backend`]; this file only speaks MCP.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::transport::StreamableHttpService;
use rmcp::transport::streamable_http_server::StreamableHttpServerConfig;
use rmcp::{ErrorData, RoleServer, ServerHandler};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::sessions::BoundedSessions;

/// A tool the gateway offers.
#[derive(Debug, Clone)]
pub struct ToolSpec {
    pub name: &'static str,
    pub description: &'static str,
    pub input_schema: Value,
}

/// What a tool call gives back.
#[derive(Debug, Clone, Default)]
pub struct ToolReply {
    pub text: String,
    pub structured: Option<Value>,
    /// Images to return inline: (base64 data, MIME type).
    pub images: Vec<(String, String)>,
    pub is_error: bool,
}

impl ToolReply {
    pub fn error(message: impl Into<String>) -> Self {
        Self {
            text: message.into(),
            is_error: true,
            ..Self::default()
        }
    }
}

pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// The gateway side of the `/mcp` tools.
pub trait Backend: Send + Sync + 'static {
    fn tools(&self) -> Vec<ToolSpec>;
    /// Runs a tool; `request` is the HTTP request that carried the call, with the extensions the
    /// gateway's guard put on it (who the caller is).
    fn call(
        &self,
        name: String,
        arguments: Value,
        request: Option<&http::request::Parts>,
    ) -> BoxFuture<ToolReply>;
}

#[derive(Clone)]
struct Handler {
    backend: Arc<dyn Backend>,
}

impl ServerHandler for Handler {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("switchyard", env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "Switchyard, the local AI gateway: generate and understand images, list the \
                 models it routes, and ask any of them for a completion.",
            )
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let tools = self
            .backend
            .tools()
            .into_iter()
            .map(|t| {
                let schema = match t.input_schema {
                    Value::Object(map) => map,
                    _ => serde_json::Map::new(),
                };
                Tool::new(t.name, t.description, Arc::new(schema))
            })
            .collect();
        Ok(ListToolsResult::with_all_items(tools))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let name = request.name.to_string();
        if !self.backend.tools().iter().any(|t| t.name == name) {
            return Err(ErrorData::invalid_params(
                format!("unknown tool {name:?}"),
                None,
            ));
        }
        let args = Value::Object(request.arguments.unwrap_or_default());
        let parts = context.extensions.get::<http::request::Parts>();
        let reply = tokio::select! {
            reply = self.backend.call(name, args, parts) => reply,
            () = context.ct.cancelled() => ToolReply::error("cancelled by the client"),
        };
        let mut content = vec![ContentBlock::text(reply.text)];
        for (data, mime) in reply.images {
            content.push(ContentBlock::image(data, mime));
        }
        let mut result = if reply.is_error {
            CallToolResult::error(content)
        } else {
            CallToolResult::success(content)
        };
        result.structured_content = reply.structured;
        Ok(CallToolResponse::Complete(result))
    }
}

/// How the `/mcp` endpoint holds its sessions and bodies.
#[derive(Debug, Clone, Copy)]
pub struct EndpointSettings {
    pub max_sessions: usize,
    pub session_idle: Duration,
    pub max_body_bytes: usize,
}

/// The `/mcp` endpoint: rmcp's streamable HTTP service over [`BoundedSessions`]. Host, Origin and
/// keys are checked by the gateway's own guard in front of it (a foreign `Origin` gets 403
/// there), so rmcp's copies of those checks are off. Its refusals are rmcp's: JSON-RPC errors, or
/// plain text the caller turns into its own error shape.
#[derive(Clone)]
pub struct Endpoint {
    service: StreamableHttpService<Handler, BoundedSessions>,
    sessions: Arc<BoundedSessions>,
}

impl Endpoint {
    pub fn new(
        backend: Arc<dyn Backend>,
        shutdown: CancellationToken,
        settings: EndpointSettings,
    ) -> Self {
        let handler = Handler { backend };
        let sessions = Arc::new(BoundedSessions::new(
            settings.max_sessions,
            settings.session_idle,
        ));
        let config = StreamableHttpServerConfig::default()
            .disable_allowed_hosts()
            .with_max_request_body_bytes(settings.max_body_bytes)
            .with_cancellation_token(shutdown);
        let service =
            StreamableHttpService::new(move || Ok(handler.clone()), sessions.clone(), config);
        Self { service, sessions }
    }

    /// Answers one HTTP request to `/mcp`.
    pub async fn handle(
        &self,
        request: http::Request<axum::body::Body>,
    ) -> axum::response::Response {
        let starts_session = request.method() == http::Method::POST
            && !request.headers().contains_key("mcp-session-id");
        // A request without a session may open one (`initialize`): make room first, so that a
        // house full of busy sessions is a clear 503 rather than rmcp's internal error.
        if starts_session && let Err(e) = self.sessions.make_room().await {
            let mut response = axum::response::Response::new(axum::body::Body::from(e.to_string()));
            *response.status_mut() = http::StatusCode::SERVICE_UNAVAILABLE;
            return response;
        }
        self.service
            .handle(request)
            .await
            .map(axum::body::Body::new)
    }

    /// How many sessions are open.
    pub fn sessions(&self) -> usize {
        self.sessions.len()
    }
}
