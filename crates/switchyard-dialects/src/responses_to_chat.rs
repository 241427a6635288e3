//! A Responses client (`/v1/responses`) served by an OpenAI-compatible chat upstream: here the
//! request side (input items → chat messages, Responses tools → functions, `text.format` →
//! `response_format`); the answer side ([`answer`]: a chat answer → output items and the
//! Response object, usage both ways, a native Responses upstream's error events) and the stream
//! side ([`events`]: chat chunks → Responses events) are its submodules. No I/O.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value, json};

pub mod answer;
pub mod events;

pub use answer::{
    Echo, call_item, chars, ending, estimated_usage, message_item, output_items, reasoning_item,
    stream_error, to_response, token_counts, usage_json,
};

use crate::anthropic_to_chat::{chat_message, text_part};
use crate::chunks::fastrand_id;
use crate::error::InvalidRequest;
use crate::openai::{
    ChatMessage, ChatRequest, Content, ContentPart, FunctionCall, FunctionDef, ImageUrl,
    NamedFunction, NamedToolChoice, Role, StreamOptions, Tool, ToolCall, ToolChoice,
};
use crate::responses::{CreateResponse, Input};

/// The function a `local_shell` tool becomes for a chat model.
pub const LOCAL_SHELL: &str = "local_shell";

/// Item types that record what a hosted tool did upstream: history a chat model cannot use,
/// so they are left out of the translation.
const HOSTED_HISTORY: &[&str] = &[
    "reasoning",
    "web_search_call",
    "file_search_call",
    "computer_call",
    "computer_call_output",
    "image_generation_call",
    "code_interpreter_call",
    "mcp_list_tools",
    "mcp_approval_request",
    "mcp_approval_response",
    "mcp_call",
    "compaction",
    "tool_search_call",
    "tool_search_output",
];

fn invalid(param: impl Into<String>, message: &str) -> InvalidRequest {
    InvalidRequest::at(param, message)
}

/// A new id with an OpenAI-style prefix (`resp`, `msg`, `fc`…).
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", fastrand_id())
}

/// The checks OpenAI makes first; returns the model asked for.
pub fn validate(req: &CreateResponse) -> Result<&str, InvalidRequest> {
    let model = req.model.as_deref().map(str::trim).unwrap_or_default();
    if model.is_empty() {
        return Err(invalid(
            "model",
            "Field required: name a model (GET /v1/models lists them)",
        ));
    }
    if req.input.is_none() && req.previous_response_id.is_none() {
        return Err(invalid(
            "input",
            "Field required: give the input as a string or a list of items",
        ));
    }
    if req.max_output_tokens == Some(0) {
        return Err(invalid("max_output_tokens", "must be at least 1"));
    }
    Ok(req.model.as_deref().unwrap_or_default())
}

/// The request's input as items: a string is one user message.
pub fn input_items(req: &CreateResponse) -> Vec<Value> {
    match &req.input {
        None => Vec::new(),
        Some(Input::Text(text)) => vec![json!({
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": text}],
        })],
        Some(Input::Items(items)) => items.clone(),
    }
}

/// What the translation knows that building output items needs: which function names stand
/// for `custom` tools (their calls go back as `custom_tool_call`), for `local_shell`, or for
/// a member of a `namespace` tool (flattened to `namespace__name` for the chat model).
#[derive(Debug, Clone, Default)]
pub struct ToolKinds {
    pub custom: HashSet<String>,
    pub local_shell: bool,
    pub namespaced: HashMap<String, (String, String)>,
}

impl ToolKinds {
    /// The namespace and the name a chat model's function name stands for.
    pub fn split<'a>(&'a self, flat: &'a str) -> (Option<&'a str>, &'a str) {
        match self.namespaced.get(flat) {
            Some((namespace, name)) => (Some(namespace), name),
            None => (None, flat),
        }
    }
}

/// The one function name a chat model sees for a namespace's member.
fn flat_name(namespace: Option<&str>, name: &str) -> String {
    match namespace.filter(|n| !n.is_empty()) {
        Some(namespace) => format!("{namespace}__{name}"),
        None => name.to_owned(),
    }
}

/// The Responses request as a chat request: `instructions` first, then `history` (a stored
/// conversation this one continues), then the input items.
pub fn to_chat_request(
    req: &CreateResponse,
    history: &[Value],
    items: &[Value],
) -> Result<(ChatRequest, ToolKinds), InvalidRequest> {
    let mut messages = Vec::new();
    if let Some(instructions) = &req.instructions {
        let text = match instructions {
            Value::String(s) => s.clone(),
            Value::Array(items) => items
                .iter()
                .map(|i| content_text(&i["content"]))
                .collect::<Vec<_>>()
                .join("\n\n"),
            Value::Null => String::new(),
            _ => return Err(invalid("instructions", "must be a string")),
        };
        if !text.is_empty() {
            messages.push(chat_message(Role::System, Some(Content::Text(text))));
        }
    }
    for (i, item) in history.iter().enumerate() {
        push_item(item, &format!("previous_response_id[{i}]"), &mut messages)?;
    }
    for (i, item) in items.iter().enumerate() {
        push_item(item, &format!("input[{i}]"), &mut messages)?;
    }
    if messages.is_empty() {
        return Err(invalid(
            "input",
            "there is nothing to send: the input is empty",
        ));
    }
    let (tools, kinds) = tools(req.tools.as_deref().unwrap_or_default())?;
    let mut extra = Map::new();
    if let Some(format) = response_format(req.text.as_ref())? {
        extra.insert("response_format".into(), format);
    }
    let stream = req.is_stream();
    let chat = ChatRequest {
        model: req.model.clone().unwrap_or_default(),
        messages,
        stream: stream.then_some(true),
        stream_options: stream.then(|| StreamOptions {
            include_usage: Some(true),
            extra: Map::new(),
        }),
        tool_choice: if tools.is_empty() {
            None
        } else {
            tool_choice(req.tool_choice.as_ref())
        },
        tools: (!tools.is_empty()).then_some(tools),
        parallel_tool_calls: req.parallel_tool_calls.filter(|_| req.tools.is_some()),
        max_tokens: req.max_output_tokens,
        max_completion_tokens: None,
        temperature: req.temperature,
        top_p: req.top_p,
        stop: None,
        n: None,
        user: req.user.clone().filter(Value::is_string),
        reasoning_effort: req.reasoning.as_ref().and_then(|r| {
            r["effort"]
                .as_str()
                .filter(|e| *e != "none")
                .map(str::to_owned)
        }),
        extra,
    };
    Ok((chat, kinds))
}

/// The text of a content value (a string or parts), parts joined.
fn content_text(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p["text"].as_str().or_else(|| p["refusal"].as_str()))
            .collect::<Vec<_>>()
            .join(""),
        _ => String::new(),
    }
}

/// Content parts as chat content: plain text when there is only text.
fn content(value: &Value, at: &str) -> Result<Option<Content>, InvalidRequest> {
    let parts = match value {
        Value::Null => return Ok(None),
        Value::String(s) => return Ok(Some(Content::Text(s.clone()))),
        Value::Array(parts) => parts,
        _ => return Err(invalid(at, "must be a string or a list of content parts")),
    };
    let mut out = Vec::with_capacity(parts.len());
    for (j, part) in parts.iter().enumerate() {
        let at = format!("{at}[{j}]");
        match part["type"].as_str().unwrap_or_default() {
            "input_text" | "output_text" | "text" | "summary_text" | "reasoning_text" => {
                out.push(text_part(part["text"].as_str().unwrap_or_default()));
            }
            "refusal" => out.push(text_part(part["refusal"].as_str().unwrap_or_default())),
            "input_image" => {
                let Some(url) = part["image_url"]
                    .as_str()
                    .or_else(|| part["image_url"]["url"].as_str())
                else {
                    return Err(invalid(
                        format!("{at}.image_url"),
                        "give the image as a URL or a data: URL; uploaded file ids cannot be sent to this model",
                    ));
                };
                out.push(ContentPart {
                    kind: "image_url".into(),
                    text: None,
                    image_url: Some(ImageUrl {
                        url: url.to_owned(),
                        detail: part["detail"]
                            .as_str()
                            .filter(|d| *d != "auto")
                            .map(str::to_owned),
                    }),
                    extra: Map::new(),
                });
            }
            "input_file" => {
                let Some(data) = part["file_data"].as_str() else {
                    return Err(invalid(
                        format!("{at}.file_data"),
                        "give the file inline as file_data; uploaded file ids and URLs cannot be sent to this model",
                    ));
                };
                let mut extra = Map::new();
                extra.insert(
                    "file".into(),
                    json!({
                        "file_data": data,
                        "filename": part["filename"].as_str().unwrap_or("file.pdf"),
                    }),
                );
                out.push(ContentPart {
                    kind: "file".into(),
                    text: None,
                    image_url: None,
                    extra,
                });
            }
            other => {
                return Err(invalid(
                    format!("{at}.type"),
                    &format!(
                        "content part {other:?} cannot be sent to this model (text, images and inline files can)"
                    ),
                ));
            }
        }
    }
    if out.iter().all(|p| p.kind == "text") {
        let text: String = out.iter().filter_map(|p| p.text.as_deref()).collect();
        return Ok(Some(Content::Text(text)));
    }
    Ok(Some(Content::Parts(out)))
}

fn required_str<'a>(item: &'a Value, field: &str, at: &str) -> Result<&'a str, InvalidRequest> {
    item[field]
        .as_str()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| invalid(format!("{at}.{field}"), "Field required"))
}

/// Adds a tool call to the assistant turn in progress, or starts one.
fn push_call(messages: &mut Vec<ChatMessage>, call: ToolCall) {
    if let Some(last) = messages.last_mut()
        && last.role == Role::Assistant
    {
        last.tool_calls.get_or_insert_with(Vec::new).push(call);
        return;
    }
    let mut turn = chat_message(Role::Assistant, None);
    turn.tool_calls = Some(vec![call]);
    messages.push(turn);
}

fn push_item(
    item: &Value,
    at: &str,
    messages: &mut Vec<ChatMessage>,
) -> Result<(), InvalidRequest> {
    if !item.is_object() {
        return Err(invalid(at, "each input item must be an object"));
    }
    let kind = item["type"]
        .as_str()
        .or_else(|| item.get("role").map(|_| "message"))
        .unwrap_or_default();
    match kind {
        "message" => {
            let role = match item["role"].as_str().unwrap_or_default() {
                "user" => Role::User,
                "assistant" => Role::Assistant,
                "system" | "developer" => Role::System,
                other => {
                    return Err(invalid(
                        format!("{at}.role"),
                        &format!(
                            "unknown role {other:?} (expected user, assistant, system or developer)"
                        ),
                    ));
                }
            };
            let content = content(&item["content"], &format!("{at}.content"))?;
            let content = match (role, content) {
                // Assistant and system turns are text for every chat API.
                (Role::Assistant | Role::System, Some(Content::Parts(_))) => {
                    Some(Content::Text(content_text(&item["content"])))
                }
                (_, content) => content,
            };
            messages.push(chat_message(role, content));
        }
        "function_call" => {
            let arguments = match &item["arguments"] {
                Value::String(s) => s.clone(),
                Value::Null => "{}".to_owned(),
                other => other.to_string(),
            };
            let name = flat_name(item["namespace"].as_str(), required_str(item, "name", at)?);
            push_call(
                messages,
                call(required_str(item, "call_id", at)?, &name, arguments),
            );
        }
        "custom_tool_call" => {
            let input = item["input"].as_str().unwrap_or_default();
            let name = flat_name(item["namespace"].as_str(), required_str(item, "name", at)?);
            push_call(
                messages,
                call(
                    required_str(item, "call_id", at)?,
                    &name,
                    json!({"input": input}).to_string(),
                ),
            );
        }
        "local_shell_call" => {
            push_call(
                messages,
                call(
                    required_str(item, "call_id", at)?,
                    LOCAL_SHELL,
                    item["action"].to_string(),
                ),
            );
        }
        "function_call_output" | "custom_tool_call_output" | "local_shell_call_output" => {
            let id = required_str(item, "call_id", at)?;
            let output = match &item["output"] {
                Value::String(s) => Content::Text(s.clone()),
                Value::Null => Content::Text(String::new()),
                parts @ Value::Array(_) => content(parts, &format!("{at}.output"))?
                    .unwrap_or_else(|| Content::Text(String::new())),
                other => Content::Text(other.to_string()),
            };
            let mut turn = chat_message(Role::Tool, Some(output));
            turn.tool_call_id = Some(id.to_owned());
            messages.push(turn);
        }
        "item_reference" => {
            return Err(invalid(
                at,
                "item references cannot be resolved here: send the item itself, or continue with previous_response_id",
            ));
        }
        other if HOSTED_HISTORY.contains(&other) => {}
        "" => return Err(invalid(format!("{at}.type"), "Field required")),
        other => {
            return Err(invalid(
                format!("{at}.type"),
                &format!("input item type {other:?} is not supported for this model"),
            ));
        }
    }
    Ok(())
}

fn call(id: &str, name: &str, arguments: String) -> ToolCall {
    ToolCall {
        id: id.to_owned(),
        kind: "function".into(),
        function: FunctionCall {
            name: name.to_owned(),
            arguments,
        },
    }
}

/// Responses tools as chat functions. Function tools map one to one (the chat shape is read
/// too); a `custom` tool becomes a function of one string, `input`; `local_shell` a function
/// of the exec action; the members of a `namespace` become functions named
/// `namespace__member`. Hosted tools (web search, file search, tool search…) run only at
/// OpenAI, so they are left out.
fn tools(list: &[Value]) -> Result<(Vec<Tool>, ToolKinds), InvalidRequest> {
    let mut out = Vec::new();
    let mut kinds = ToolKinds::default();
    for (i, tool) in list.iter().enumerate() {
        let at = format!("tools[{i}]");
        if tool["type"] == "namespace" {
            let namespace = required_str(tool, "name", &at)?;
            let members = tool["tools"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default();
            for (j, member) in members.iter().enumerate() {
                let at = format!("{at}.tools[{j}]");
                let name = required_str(member, "name", &at)?;
                let flat = flat_name(Some(namespace), name);
                let Some(mut function) = function_def(member, &at, &flat, &mut kinds)? else {
                    continue;
                };
                if let Some(about) = tool["description"].as_str().filter(|d| !d.is_empty()) {
                    let own = function.description.take().unwrap_or_default();
                    function.description = Some(format!("{about}\n\n{own}").trim_end().to_owned());
                }
                kinds
                    .namespaced
                    .insert(flat, (namespace.to_owned(), name.to_owned()));
                out.push(function_tool(function));
            }
            continue;
        }
        let name = match tool["type"].as_str().unwrap_or("function") {
            "local_shell" => LOCAL_SHELL,
            "function" if tool["function"].is_object() => "",
            "function" | "custom" => required_str(tool, "name", &at)?,
            _ => "",
        };
        if let Some(function) = function_def(tool, &at, name, &mut kinds)? {
            out.push(function_tool(function));
        }
    }
    Ok((out, kinds))
}

fn function_tool(function: FunctionDef) -> Tool {
    Tool {
        kind: "function".into(),
        function,
        extra: Map::new(),
    }
}

/// One Responses tool as the chat function called `name`, or `None` for a hosted tool.
fn function_def(
    tool: &Value,
    at: &str,
    name: &str,
    kinds: &mut ToolKinds,
) -> Result<Option<FunctionDef>, InvalidRequest> {
    let function = match tool["type"].as_str().unwrap_or("function") {
        "function" if tool["function"].is_object() => {
            serde_json::from_value::<FunctionDef>(tool["function"].clone())
                .map_err(|e| invalid(format!("{at}.function"), &e.to_string()))?
        }
        "function" => FunctionDef {
            name: name.to_owned(),
            description: tool["description"].as_str().map(str::to_owned),
            parameters: tool
                .get("parameters")
                .filter(|p| !p.is_null())
                .cloned()
                .or_else(|| Some(json!({"type": "object", "properties": {}}))),
            strict: tool["strict"].as_bool(),
        },
        "custom" => {
            kinds.custom.insert(name.to_owned());
            let mut description = tool["description"].as_str().unwrap_or_default().to_owned();
            if let Some(definition) = tool["format"]["definition"].as_str() {
                let syntax = tool["format"]["syntax"].as_str().unwrap_or("grammar");
                description.push_str(&format!(
                    "\n\nThe input must follow this {syntax} grammar:\n{definition}"
                ));
            }
            FunctionDef {
                name: name.to_owned(),
                description: Some(description),
                parameters: Some(json!({
                    "type": "object",
                    "properties": {"input": {"type": "string", "description": "The tool's whole input, as free text."}},
                    "required": ["input"],
                })),
                strict: None,
            }
        }
        "local_shell" => {
            kinds.local_shell = true;
            FunctionDef {
                name: LOCAL_SHELL.into(),
                description: Some("Runs a command on the user's machine.".into()),
                parameters: Some(json!({
                    "type": "object",
                    "properties": {
                        "command": {"type": "array", "items": {"type": "string"}},
                        "working_directory": {"type": "string"},
                        "timeout_ms": {"type": "integer"},
                    },
                    "required": ["command"],
                })),
                strict: None,
            }
        }
        other => {
            tracing::debug!(tool = other, "a hosted tool is left out for a chat model");
            return Ok(None);
        }
    };
    Ok(Some(function))
}

fn tool_choice(choice: Option<&Value>) -> Option<ToolChoice> {
    match choice? {
        Value::String(mode) => Some(ToolChoice::Mode(mode.clone())),
        Value::Object(o) => {
            let name = match o.get("type").and_then(Value::as_str) {
                Some("function" | "custom") => {
                    let name = o
                        .get("name")
                        .or_else(|| o.get("function").and_then(|f| f.get("name")))
                        .and_then(Value::as_str)?;
                    flat_name(o.get("namespace").and_then(Value::as_str), name)
                }
                Some("local_shell") => LOCAL_SHELL.to_owned(),
                Some("allowed_tools") => {
                    return o
                        .get("mode")
                        .and_then(Value::as_str)
                        .map(|m| ToolChoice::Mode(m.to_owned()));
                }
                _ => return None,
            };
            Some(ToolChoice::Named(NamedToolChoice {
                kind: "function".into(),
                function: NamedFunction { name },
            }))
        }
        _ => None,
    }
}

/// `text.format` as chat's `response_format`.
fn response_format(text: Option<&Value>) -> Result<Option<Value>, InvalidRequest> {
    let Some(format) = text.map(|t| &t["format"]).filter(|f| f.is_object()) else {
        return Ok(None);
    };
    match format["type"].as_str().unwrap_or_default() {
        "text" | "" => Ok(None),
        "json_object" => Ok(Some(json!({"type": "json_object"}))),
        "json_schema" => {
            let mut schema = Map::new();
            schema.insert(
                "name".into(),
                format
                    .get("name")
                    .cloned()
                    .unwrap_or_else(|| json!("output")),
            );
            for field in ["schema", "strict", "description"] {
                if let Some(v) = format.get(field).filter(|v| !v.is_null()) {
                    schema.insert(field.into(), v.clone());
                }
            }
            Ok(Some(json!({"type": "json_schema", "json_schema": schema})))
        }
        other => Err(invalid(
            "text.format.type",
            &format!("unknown format {other:?} (expected text, json_object or json_schema)"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(body: Value) -> CreateResponse {
        serde_json::from_value(body).unwrap()
    }

    #[test]
    fn codex_turns_become_chat_messages_with_calls_and_results_paired() {
        let req = request(json!({
            "model": "m",
            "instructions": "be brief",
            "input": [
                {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "env"}]},
                {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "list files"}]},
                {"type": "reasoning", "summary": [], "encrypted_content": "x"},
                {"type": "function_call", "name": "shell", "arguments": "{\"command\":[\"ls\"]}", "call_id": "c1"},
                {"type": "function_call", "name": "shell", "arguments": "{\"command\":[\"pwd\"]}", "call_id": "c2"},
                {"type": "function_call_output", "call_id": "c1", "output": "a.txt"},
                {"type": "function_call_output", "call_id": "c2", "output": [{"type": "input_text", "text": "/w"}]},
                {"role": "assistant", "content": [{"type": "output_text", "text": "done"}]}
            ],
            "tools": [
                {"type": "function", "name": "shell", "parameters": {"type": "object"}},
                {"type": "custom", "name": "apply_patch", "format": {"type": "grammar", "syntax": "lark", "definition": "start: x"}},
                {"type": "web_search"}
            ]
        }));
        let items = input_items(&req);
        let (chat, kinds) = to_chat_request(&req, &[], &items).unwrap();
        let roles: Vec<_> = chat.messages.iter().map(|m| m.role).collect();
        assert_eq!(
            roles,
            [
                Role::System,
                Role::System,
                Role::User,
                Role::Assistant,
                Role::Tool,
                Role::Tool,
                Role::Assistant
            ]
        );
        let calls = chat.messages[3].tool_calls.as_ref().unwrap();
        assert_eq!(
            calls.len(),
            2,
            "two calls of one turn stay in one assistant message"
        );
        assert_eq!(chat.messages[4].tool_call_id.as_deref(), Some("c1"));
        assert_eq!(chat.messages[5].content.as_ref().unwrap().text(), "/w");
        let tools = chat.tools.unwrap();
        assert_eq!(tools.len(), 2, "the hosted web_search tool is left out");
        assert!(
            tools[1]
                .function
                .description
                .as_deref()
                .unwrap()
                .contains("start: x")
        );
        assert!(kinds.custom.contains("apply_patch"));
    }

    #[test]
    fn custom_tool_calls_go_back_as_custom_items_with_their_raw_input() {
        let kinds = ToolKinds {
            custom: ["apply_patch".to_owned()].into(),
            ..ToolKinds::default()
        };
        let item = call_item(
            &kinds,
            "c9",
            "apply_patch",
            r#"{"input":"*** Begin Patch"}"#,
        );
        assert_eq!(item["type"], "custom_tool_call");
        assert_eq!(item["input"], "*** Begin Patch");
        let item = call_item(&kinds, "c9", "other", "{}");
        assert_eq!(item["type"], "function_call");
    }

    #[test]
    fn namespace_members_are_functions_whose_calls_keep_their_namespace() {
        let req = request(json!({
            "model": "m",
            "input": [
                {"role": "user", "content": "spawn a helper"},
                {"type": "function_call", "namespace": "agents", "name": "spawn", "arguments": "{}", "call_id": "c1"},
                {"type": "function_call_output", "call_id": "c1", "output": "spawned"}
            ],
            "tools": [
                {"type": "namespace", "name": "agents", "description": "Helpers that run beside you.", "tools": [
                    {"type": "function", "name": "spawn", "description": "Starts one.", "parameters": {"type": "object"}},
                    {"type": "custom", "name": "note", "defer_loading": true}
                ]},
                {"type": "tool_search", "execution": "client"}
            ],
            "tool_choice": {"type": "function", "namespace": "agents", "name": "spawn"}
        }));
        let (chat, kinds) = to_chat_request(&req, &[], &input_items(&req)).unwrap();
        let tools = chat.tools.as_ref().unwrap();
        let names: Vec<_> = tools.iter().map(|t| t.function.name.as_str()).collect();
        assert_eq!(names, ["agents__spawn", "agents__note"]);
        assert_eq!(
            tools[0].function.description.as_deref(),
            Some("Helpers that run beside you.\n\nStarts one.")
        );
        let history = chat.messages[1].tool_calls.as_ref().unwrap();
        assert_eq!(history[0].function.name, "agents__spawn");
        let body = serde_json::to_value(&chat).unwrap();
        assert_eq!(body["tool_choice"]["function"]["name"], "agents__spawn");

        let item = call_item(&kinds, "c2", "agents__spawn", "{}");
        assert_eq!(
            (&item["type"], &item["namespace"], &item["name"]),
            (&json!("function_call"), &json!("agents"), &json!("spawn"))
        );
        let item = call_item(&kinds, "c3", "agents__note", r#"{"input":"hi"}"#);
        assert_eq!(
            (
                &item["type"],
                &item["namespace"],
                &item["name"],
                &item["input"]
            ),
            (
                &json!("custom_tool_call"),
                &json!("agents"),
                &json!("note"),
                &json!("hi")
            )
        );
        let item = call_item(&kinds, "c4", "plain", "{}");
        assert!(item.get("namespace").is_none());
    }

    #[test]
    fn bad_items_are_named_by_position() {
        let req = request(
            json!({"model": "m", "input": [{"role": "user", "content": "hi"}, {"type": "function_call", "name": "f"}]}),
        );
        let err = to_chat_request(&req, &[], &input_items(&req)).unwrap_err();
        assert_eq!(err.param.as_deref(), Some("input[1].call_id"));
        let req = request(json!({"model": "m", "input": [{"type": "mystery"}]}));
        let err = to_chat_request(&req, &[], &input_items(&req)).unwrap_err();
        assert_eq!(err.param.as_deref(), Some("input[0].type"));
    }

    #[test]
    fn json_schema_formats_become_response_formats() {
        let req = request(
            json!({"model": "m", "input": "x", "text": {"format": {"type": "json_schema", "name": "out", "schema": {"type": "object"}, "strict": true}}}),
        );
        let (chat, _) = to_chat_request(&req, &[], &input_items(&req)).unwrap();
        assert_eq!(
            chat.extra["response_format"],
            json!({"type": "json_schema", "json_schema": {"name": "out", "schema": {"type": "object"}, "strict": true}})
        );
    }
}
