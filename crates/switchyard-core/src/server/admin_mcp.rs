//! The admin API over MCP servers, their tools, assistants and agent-mode approvals. Changes
//! go through the config file like every other admin change (see `admin_config`). Secret values
//! given as `{"secret": "…"}` in `env` or `headers` go to the secret store and the file gets a
//! `keychain:` reference.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::admin_config::{bad, blocking, change, not_found, object, secret_error};
use super::views::mcp::{Assistant, Server, ServerError, ToolList, ToolSwitch};
use super::views::{DataList, Sorted};
use super::{AppState, JsonBody};
use crate::config::mcp::{AssistantConfig, McpServerConfig, McpTransport};
use crate::error::{ApiError, ErrorCode};
use crate::secrets::Sensitive;

type Result<T, E = ApiError> = std::result::Result<T, E>;

fn server_view(state: &AppState, s: &McpServerConfig) -> Server {
    let pairs = |list: &[(String, crate::config::mcp::McpValue)]| {
        list.iter()
            .map(|(k, v)| (k.clone(), v.display()))
            .collect::<BTreeMap<String, String>>()
    };
    let mut view = Server {
        name: s.name.clone(),
        transport: s.transport.kind(),
        enabled: s.enabled,
        disabled_tools: s.disabled_tools.clone(),
        call_timeout_ms: u64::try_from(s.call_timeout.as_millis()).unwrap_or(u64::MAX),
        command: None,
        args: None,
        env: None,
        cwd: None,
        url: None,
        headers: None,
        status: state.mcp.server_status(&s.name).ok(),
    };
    match &s.transport {
        McpTransport::Stdio {
            command,
            args,
            env,
            cwd,
        } => {
            view.command = Some(command.clone());
            view.args = Some(args.clone());
            view.env = Some(pairs(env));
            view.cwd = Some(cwd.as_ref().map(|c| c.display().to_string()));
        }
        McpTransport::Http { url, headers } | McpTransport::Sse { url, headers } => {
            view.url = Some(url.clone());
            view.headers = Some(pairs(headers));
        }
    }
    view
}

/// The server as the live config has it now; `null` when it is gone.
fn live_server(state: &AppState, name: &str) -> Sorted<Option<Server>> {
    let config = state.runtime.load().config.clone();
    Sorted(
        config
            .mcp_servers
            .iter()
            .find(|s| s.name == name)
            .map(|s| server_view(state, s)),
    )
}

fn find_server(state: &AppState, name: &str) -> Result<McpServerConfig> {
    state
        .runtime
        .load()
        .config
        .mcp_servers
        .iter()
        .find(|s| s.name == name)
        .cloned()
        .ok_or_else(|| not_found("MCP server", name))
}

pub async fn list_servers(State(state): State<Arc<AppState>>) -> Response {
    let config = state.runtime.load().config.clone();
    let data = config
        .mcp_servers
        .iter()
        .map(|s| server_view(&state, s))
        .collect();
    Json(Sorted(DataList { data })).into_response()
}

pub async fn get_server(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
) -> Result<Response> {
    let s = find_server(&state, &name)?;
    Ok(Json(Sorted(server_view(&state, &s))).into_response())
}

/// Moves `{"secret": "…"}` values of `env` and `headers` into the secret store, leaving
/// `keychain:` references in `fields`.
async fn take_secrets(
    state: &AppState,
    server: &str,
    fields: &mut Map<String, Value>,
) -> Result<Vec<String>> {
    let mut to_store: Vec<(String, Sensitive)> = Vec::new();
    for table in ["env", "headers"] {
        let Some(Value::Object(map)) = fields.get_mut(table) else {
            continue;
        };
        for (key, value) in map.iter_mut() {
            if let Value::Object(obj) = value {
                let Some(Value::String(secret)) = obj.get("secret") else {
                    return Err(bad(
                        format!("{table}.{key}: a value is a string or {{\"secret\": \"…\"}}"),
                        &format!("{table}.{key}"),
                    ));
                };
                let entry = crate::config::mcp::secret_entry(server, key);
                to_store.push((entry.clone(), Sensitive::new(secret.clone())));
                *value = Value::String(format!("keychain:{entry}"));
            }
        }
    }
    if to_store.is_empty() {
        return Ok(Vec::new());
    }
    let store = state.secret_store();
    let names: Vec<String> = to_store.iter().map(|(n, _)| n.clone()).collect();
    blocking(move || {
        for (name, value) in &to_store {
            store.set(name, value)?;
        }
        Ok::<_, crate::secrets::SecretError>(())
    })
    .await?
    .map_err(secret_error)?;
    Ok(names)
}

/// Removes stored secrets again when the change that brought them was refused.
async fn forget_secrets(state: &AppState, names: Vec<String>) {
    if names.is_empty() {
        return;
    }
    let store = state.secret_store();
    let _ = blocking(move || {
        for n in &names {
            let _ = store.delete(n);
        }
    })
    .await;
}

pub async fn create_server(
    State(state): State<Arc<AppState>>,
    JsonBody(body): JsonBody<Value>,
) -> Result<Response> {
    let mut fields = object(body, "the MCP server")?;
    let Some(Value::String(name)) = fields.remove("name") else {
        return Err(bad("an MCP server needs a name", "name"));
    };
    if !crate::config::mcp::valid_server_name(&name) {
        return Err(bad(
            format!(
                "{name:?} must be 1-48 letters, digits, '-' or '_', without \"__\" (it joins server and tool names)"
            ),
            "name",
        ));
    }
    if find_server(&state, &name).is_ok() {
        return Err(taken("an MCP server", &name));
    }
    let stored = take_secrets(&state, &name, &mut fields).await?;
    if let Err(e) = change(&state, |doc| {
        doc.insert_entry("mcp_servers", &name, &fields)
    })
    .await
    {
        forget_secrets(&state, stored).await;
        return Err(e);
    }
    Ok((StatusCode::CREATED, Json(live_server(&state, &name))).into_response())
}

pub async fn update_server(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    JsonBody(body): JsonBody<Value>,
) -> Result<Response> {
    let mut fields = object(body, "the change")?;
    find_server(&state, &name)?;
    let stored = take_secrets(&state, &name, &mut fields).await?;
    if let Err(e) = change(&state, |doc| {
        doc.update_entry("mcp_servers", &name, &fields)
    })
    .await
    {
        forget_secrets(&state, stored).await;
        return Err(e);
    }
    Ok(Json(live_server(&state, &name)).into_response())
}

pub async fn delete_server(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
) -> Result<Response> {
    let server = find_server(&state, &name)?;
    change(&state, |doc| {
        doc.remove_entry("mcp_servers", &name);
        Ok(())
    })
    .await?;
    // Secrets this API stored for the server go with it.
    let owned = server.owned_secret_entries();
    forget_secrets(&state, owned).await;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `409 conflict` naming the field, so that a form can mark it.
fn taken(what: &str, name: &str) -> ApiError {
    ApiError::of(
        ErrorCode::Conflict,
        format!("There is already {what} named {name:?}; pick another name."),
    )
    .with_param("name")
}

fn mcp_error(e: &crate::mcp::McpError) -> ApiError {
    use crate::mcp::McpError as E;
    let code = match e {
        E::UnknownServer(_) | E::NotATool(_) => ErrorCode::NotFound,
        E::Disabled(_) | E::ToolDisabled(_) => ErrorCode::Disabled,
        E::Timeout { .. } => ErrorCode::McpTimeout,
        E::ShuttingDown => ErrorCode::ShuttingDown,
        E::Start { .. } | E::Call { .. } => ErrorCode::McpServerError,
    };
    ApiError::of(code, e.to_string())
}

/// `GET /admin/mcp/servers/{name}/tools`: starts the server if needed.
pub async fn server_tools(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
) -> Result<Response> {
    find_server(&state, &name)?;
    let tools = state.mcp.tools(&name).await.map_err(|e| mcp_error(&e))?;
    Ok(Json(Sorted(DataList {
        data: tools.to_vec(),
    }))
    .into_response())
}

/// `PUT /admin/mcp/servers/{name}/tools/{tool}` with `{"enabled": bool}`.
pub async fn set_tool(
    State(state): State<Arc<AppState>>,
    Path((name, tool)): Path<(String, String)>,
    JsonBody(body): JsonBody<Value>,
) -> Result<Response> {
    let server = find_server(&state, &name)?;
    let Some(enabled) = body.get("enabled").and_then(Value::as_bool) else {
        return Err(bad(
            "send {\"enabled\": true} or {\"enabled\": false}",
            "enabled",
        ));
    };
    let mut disabled = server.disabled_tools.clone();
    disabled.retain(|t| *t != tool);
    if !enabled {
        disabled.push(tool.clone());
    }
    let mut fields = Map::new();
    fields.insert("disabled_tools".into(), json!(disabled));
    change(&state, |doc| {
        doc.update_entry("mcp_servers", &name, &fields)
    })
    .await?;
    Ok(Json(Sorted(ToolSwitch {
        server: name,
        tool,
        enabled,
    }))
    .into_response())
}

pub async fn restart_server(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
) -> Result<Response> {
    find_server(&state, &name)?;
    state.mcp.restart(&name).await.map_err(|e| mcp_error(&e))?;
    Ok(Json(live_server(&state, &name)).into_response())
}

#[derive(Debug, serde::Deserialize)]
pub struct ToolsQuery {
    /// Comma-separated server names; all enabled servers when absent.
    servers: Option<String>,
}

/// `GET /admin/mcp/tools`: every enabled tool of the enabled servers (starting them), plus the
/// servers that could not start. What agent mode offers.
pub async fn all_tools(
    State(state): State<Arc<AppState>>,
    Query(q): Query<ToolsQuery>,
) -> Response {
    let names: Option<Vec<String>> = q.servers.map(|s| {
        s.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    });
    let (tools, failed) = state.mcp.tools_of(names.as_deref()).await;
    let errors = failed
        .iter()
        .map(|(server, e)| ServerError {
            server: server.clone(),
            error: e.to_string(),
        })
        .collect();
    Json(Sorted(ToolList {
        data: tools,
        errors,
    }))
    .into_response()
}

// ---- assistants ----

fn assistant_view(a: &AssistantConfig) -> Sorted<Assistant> {
    Sorted(Assistant::from(a))
}

fn find_assistant(state: &AppState, name: &str) -> Result<AssistantConfig> {
    state
        .runtime
        .load()
        .config
        .assistants
        .iter()
        .find(|a| a.name == name)
        .cloned()
        .ok_or_else(|| not_found("assistant", name))
}

pub async fn list_assistants(State(state): State<Arc<AppState>>) -> Response {
    let config = state.runtime.load().config.clone();
    let data = config.assistants.iter().map(Assistant::from).collect();
    Json(Sorted(DataList { data })).into_response()
}

pub async fn get_assistant(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
) -> Result<Response> {
    Ok(Json(assistant_view(&find_assistant(&state, &name)?)).into_response())
}

pub async fn create_assistant(
    State(state): State<Arc<AppState>>,
    JsonBody(body): JsonBody<Value>,
) -> Result<Response> {
    let mut fields = object(body, "the assistant")?;
    let Some(Value::String(name)) = fields.remove("name") else {
        return Err(bad("an assistant needs a name", "name"));
    };
    if find_assistant(&state, &name).is_ok() {
        return Err(taken("an assistant", &name));
    }
    change(&state, |doc| doc.insert_entry("assistants", &name, &fields)).await?;
    let view = assistant_view(&find_assistant(&state, &name)?);
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

pub async fn update_assistant(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    JsonBody(body): JsonBody<Value>,
) -> Result<Response> {
    let fields = object(body, "the change")?;
    find_assistant(&state, &name)?;
    change(&state, |doc| doc.update_entry("assistants", &name, &fields)).await?;
    Ok(Json(assistant_view(&find_assistant(&state, &name)?)).into_response())
}

pub async fn delete_assistant(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
) -> Result<Response> {
    find_assistant(&state, &name)?;
    change(&state, |doc| {
        doc.remove_entry("assistants", &name);
        Ok(())
    })
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /admin/agent/approvals/{id}` with `{"approve": bool}`: answers a tool call that agent
/// mode is holding for the user.
pub async fn answer_approval(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<Value>,
) -> Result<Response> {
    let Some(approve) = body.get("approve").and_then(Value::as_bool) else {
        return Err(bad(
            "send {\"approve\": true} or {\"approve\": false}",
            "approve",
        ));
    };
    if state.approvals.answer(&id, approve) {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(not_found("tool call waiting for approval", &id))
    }
}
