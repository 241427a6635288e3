//! The gateway's own MCP server at `/mcp` (streamable HTTP through rmcp). What the tools do lives
//! in the server module behind [`Backend`]; this file only speaks MCP.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::transport::StreamableHttpService;
use rmcp::transport::streamable_http_server::StreamableHttpServerConfig;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::{ErrorData, RoleServer, ServerHandler};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

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
    fn call(&self, name: String, arguments: Value) -> BoxFuture<ToolReply>;
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
        let reply = tokio::select! {
            reply = self.backend.call(name, args) => reply,
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

/// The `/mcp` tower service. Host, Origin and keys are checked by the gateway's own guard in
/// front of it (a foreign `Origin` gets 403 there), so rmcp's copies of those checks are off.
pub fn service(
    backend: Arc<dyn Backend>,
    shutdown: CancellationToken,
) -> StreamableHttpService<impl ServerHandler + Clone, LocalSessionManager> {
    let handler = Handler { backend };
    let config = StreamableHttpServerConfig::default()
        .disable_allowed_hosts()
        .with_cancellation_token(shutdown);
    StreamableHttpService::new(
        move || Ok(handler.clone()),
        Arc::new(LocalSessionManager::default()),
        config,
    )
}
