//! An Anthropic Messages client (`/v1/messages`) served by an OpenAI-compatible chat upstream:
//! request → [`ChatRequest`], per-target adjustments, [`ChatResponse`] → Message, usage both
//! ways, stop sequences and token estimates; chat chunks → Anthropic stream events are in
//! [`events`]. The inverse of [`crate::chat_to_anthropic`]. No I/O.

use serde_json::{Map, Value, json};

pub mod events;

use crate::error::InvalidRequest;
use crate::messages::{
    Block, CreateMessage, DocumentSource, ImageSource, Role, TextOr, ToolChoice as InChoice,
};
use crate::openai::{
    ChatMessage, ChatRequest, ChatResponse, Content, ContentPart, FunctionCall, FunctionDef,
    ImageUrl, NamedFunction, NamedToolChoice, Role as ChatRole, StreamOptions, Tool, ToolCall,
    ToolChoice, Usage,
};
use crate::tokens::{TokenCounts, estimate_chars};

/// What an image or a PDF is counted as by the estimate: about what Anthropic charges for an
/// image of a megapixel, or a page or two.
const TOKENS_PER_ATTACHMENT: u64 = 1600;

fn invalid(param: impl Into<String>, message: &str) -> InvalidRequest {
    InvalidRequest::at(param, message)
}

/// The checks Anthropic makes before anything else; returns the model asked for.
/// `count_only`: a `count_tokens` body, which has no `max_tokens`.
pub fn validate(req: &CreateMessage, count_only: bool) -> Result<&str, InvalidRequest> {
    let model = req.model.as_deref().map(str::trim).unwrap_or_default();
    if model.is_empty() {
        return Err(invalid(
            "model",
            "Field required: name a model (GET /v1/models lists them)",
        ));
    }
    if !count_only {
        match req.max_tokens {
            None => return Err(invalid("max_tokens", "Field required")),
            Some(0) => return Err(invalid("max_tokens", "must be at least 1")),
            Some(_) => {}
        }
    }
    match &req.messages {
        None => Err(invalid("messages", "Field required")),
        Some(m) if m.is_empty() => Err(invalid("messages", "at least one message is required")),
        Some(_) => Ok(req.model.as_deref().unwrap_or_default()),
    }
}

pub(crate) fn chat_message(role: ChatRole, content: Option<Content>) -> ChatMessage {
    ChatMessage {
        role,
        content,
        name: None,
        tool_calls: None,
        tool_call_id: None,
        reasoning_content: None,
        thinking_blocks: None,
        extra: Map::new(),
    }
}

pub(crate) fn text_part(text: &str) -> ContentPart {
    ContentPart {
        kind: "text".into(),
        text: Some(text.to_owned()),
        image_url: None,
        extra: Map::new(),
    }
}

fn image_part(source: &ImageSource) -> ContentPart {
    let url = match source {
        ImageSource::Base64 { media_type, data } => format!("data:{media_type};base64,{data}"),
        ImageSource::Url { url } => url.clone(),
    };
    ContentPart {
        kind: "image_url".into(),
        text: None,
        image_url: Some(ImageUrl { url, detail: None }),
        extra: Map::new(),
    }
}

/// A PDF becomes an OpenAI `file` part; a text document becomes text.
fn document_part(
    source: &DocumentSource,
    title: Option<&str>,
    at: &str,
) -> Result<ContentPart, InvalidRequest> {
    match source {
        DocumentSource::Base64 { media_type, data } => {
            let mut extra = Map::new();
            extra.insert(
                "file".into(),
                json!({
                    "file_data": format!("data:{media_type};base64,{data}"),
                    "filename": title.unwrap_or("document.pdf"),
                }),
            );
            Ok(ContentPart {
                kind: "file".into(),
                text: None,
                image_url: None,
                extra,
            })
        }
        DocumentSource::Text { data } => Ok(text_part(data)),
        DocumentSource::Content { content } => Ok(text_part(&plain_text(content))),
        DocumentSource::Url { .. } | DocumentSource::Other => Err(invalid(
            format!("{at}.source"),
            "only base64 and text documents can be sent to an OpenAI-compatible model",
        )),
    }
}

fn plain_text(content: &TextOr<Block>) -> String {
    match content {
        TextOr::Text(s) => s.clone(),
        TextOr::Blocks(blocks) => blocks
            .iter()
            .filter_map(|b| match b {
                Block::Text { text } => Some(text.as_str()),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join("\n"),
    }
}

/// One part, or several: a lone text part becomes a plain string, which every
/// OpenAI-compatible server accepts.
fn parts_content(mut parts: Vec<ContentPart>) -> Content {
    if parts.len() == 1 && parts[0].kind == "text" {
        return Content::Text(parts.remove(0).text.unwrap_or_default());
    }
    Content::Parts(parts)
}

/// Claude Code opens its system prompt with a block like `x-anthropic-billing-header:
/// cc_version=…; cc_entrypoint=…;` that only Anthropic's API reads. Other models would take it
/// for instructions, and because it changes between versions it would spoil their prompt caches.
fn is_billing_header(text: &str) -> bool {
    text.trim_start().starts_with("x-anthropic-billing-header:")
}

/// Anthropic request → chat request for an OpenAI-compatible upstream.
///
/// The first [`UPSTREAM_STOPS`] stop sequences are sent upstream, so that generation (and
/// billing) ends there; all of them are also matched here, for upstreams that take fewer or
/// none, and to say which one ended the answer when the gateway sees it
/// (`stop_reason: "stop_sequence"`). `output_config.format` becomes `response_format`.
/// Thinking blocks of earlier assistant
/// turns are left out (their signatures mean nothing to other models); `cache_control` is
/// accepted and ignored.
pub fn to_chat_request(req: &CreateMessage) -> Result<ChatRequest, InvalidRequest> {
    let mut messages = Vec::new();
    if let Some(system) = &req.system {
        let text = match system {
            TextOr::Text(s) => s.clone(),
            TextOr::Blocks(blocks) => blocks
                .iter()
                .map(|b| b.text.as_str())
                .filter(|t| !t.is_empty() && !is_billing_header(t))
                .collect::<Vec<_>>()
                .join("\n\n"),
        };
        if !text.is_empty() {
            messages.push(chat_message(ChatRole::System, Some(Content::Text(text))));
        }
    }
    for (i, m) in req.messages().iter().enumerate() {
        match m.role {
            Role::User => user_turn(&m.content, i, &mut messages)?,
            Role::Assistant => assistant_turn(&m.content, i, &mut messages)?,
            Role::System => system_turn(&m.content, i, &mut messages)?,
        }
    }
    let tools = tools(req)?;
    let (tool_choice, parallel_tool_calls) = match &req.tool_choice {
        Some(choice) if !tools.is_empty() => tool_choice(choice),
        // OpenAI refuses a tool_choice without tools.
        _ => (None, None),
    };
    let mut extra = Map::new();
    if let Some(k) = req.top_k {
        extra.insert("top_k".into(), json!(k));
    }
    if let Some(format) = response_format(req)? {
        extra.insert("response_format".into(), format);
    }
    let stops = req.stops();
    let stream = req.is_stream();
    Ok(ChatRequest {
        model: req.model.clone().unwrap_or_default(),
        messages,
        stream: stream.then_some(true),
        stream_options: stream.then(|| StreamOptions {
            include_usage: Some(true),
            extra: Map::new(),
        }),
        tools: (!tools.is_empty()).then_some(tools),
        tool_choice,
        parallel_tool_calls,
        max_tokens: req.max_tokens,
        max_completion_tokens: None,
        temperature: req.temperature,
        top_p: req.top_p,
        stop: (!stops.is_empty())
            .then(|| crate::openai::Stop::Many(stops.into_iter().take(UPSTREAM_STOPS).collect())),
        n: None,
        user: req
            .metadata
            .as_ref()
            .and_then(|m| m.user_id.clone())
            .map(Value::String),
        reasoning_effort: reasoning_effort(req),
        extra,
    })
}

/// OpenAI's limit on `stop`.
pub const UPSTREAM_STOPS: usize = 4;

/// `output_config.format` (or the beta's `output_format`) as chat's `response_format`.
fn response_format(req: &CreateMessage) -> Result<Option<Value>, InvalidRequest> {
    let (format, param) = match (
        req.output_config.as_ref().and_then(|c| c.format.as_ref()),
        &req.output_format,
    ) {
        (Some(f), _) if !f.is_null() => (f, "output_config.format"),
        (_, Some(f)) if !f.is_null() => (f, "output_format"),
        _ => return Ok(None),
    };
    match format["type"].as_str() {
        Some("json_schema") => {
            let Some(schema) = format.get("schema").filter(|s| s.is_object()) else {
                return Err(invalid(
                    format!("{param}.schema"),
                    "a json_schema output format needs a schema object",
                ));
            };
            Ok(Some(json!({
                "type": "json_schema",
                "json_schema": {"name": "response", "schema": schema},
            })))
        }
        _ => Err(invalid(
            format!("{param}.type"),
            "the output format's type must be json_schema",
        )),
    }
}

/// A system turn inside the conversation stays a system message at the same place: its text
/// blocks, joined; anything else in it is refused.
fn system_turn(
    content: &TextOr<Block>,
    i: usize,
    out: &mut Vec<ChatMessage>,
) -> Result<(), InvalidRequest> {
    if let TextOr::Blocks(blocks) = content
        && let Some(j) = blocks.iter().position(|b| !matches!(b, Block::Text { .. }))
    {
        return Err(invalid(
            format!("messages[{i}].content[{j}].type"),
            "a system message may hold text only",
        ));
    }
    let text = plain_text(content);
    if !text.is_empty() {
        out.push(chat_message(ChatRole::System, Some(Content::Text(text))));
    }
    Ok(())
}

/// A user turn: its tool results become `tool` messages, in order and first (OpenAI wants them
/// right after the assistant's tool calls); the rest, with any images the results carried
/// (tool messages hold text only), follows as one user message.
fn user_turn(
    content: &TextOr<Block>,
    i: usize,
    out: &mut Vec<ChatMessage>,
) -> Result<(), InvalidRequest> {
    let blocks = match content {
        TextOr::Text(text) => {
            out.push(chat_message(
                ChatRole::User,
                Some(Content::Text(text.clone())),
            ));
            return Ok(());
        }
        TextOr::Blocks(blocks) => blocks,
    };
    let mut results = Vec::new();
    let mut attachments = Vec::new();
    let mut parts = Vec::new();
    for (j, block) in blocks.iter().enumerate() {
        let at = format!("messages[{i}].content[{j}]");
        match block {
            Block::Text { text } => parts.push(text_part(text)),
            Block::Image { source } => parts.push(image_part(source)),
            Block::Document { source, title } => {
                parts.push(document_part(source, title.as_deref(), &at)?);
            }
            Block::ToolResult {
                tool_use_id,
                content,
                is_error,
            } => {
                let mut texts = Vec::new();
                match content {
                    None => {}
                    Some(TextOr::Text(s)) => texts.push(s.clone()),
                    Some(TextOr::Blocks(inner)) => {
                        for (k, b) in inner.iter().enumerate() {
                            let at = format!("{at}.content[{k}]");
                            match b {
                                Block::Text { text } => texts.push(text.clone()),
                                Block::Image { source } => attachments.push(image_part(source)),
                                Block::Document { source, title } => {
                                    attachments.push(document_part(source, title.as_deref(), &at)?)
                                }
                                _ => {
                                    return Err(invalid(
                                        format!("{at}.type"),
                                        "tool results may hold text, images and documents",
                                    ));
                                }
                            }
                        }
                    }
                }
                let mut text = texts.join("\n");
                if *is_error == Some(true) {
                    text = format!("Error: {text}");
                }
                let mut m = chat_message(ChatRole::Tool, Some(Content::Text(text)));
                m.tool_call_id = Some(tool_use_id.clone());
                results.push(m);
            }
            // Not meaningful in a user turn; Anthropic ignores them as well.
            Block::Thinking { .. } | Block::RedactedThinking { .. } => {}
            Block::ToolUse { .. } => {
                return Err(invalid(
                    format!("{at}.type"),
                    "tool_use blocks belong in assistant messages",
                ));
            }
            Block::Other => {
                return Err(invalid(
                    format!("{at}.type"),
                    "this kind of content block cannot be sent to an OpenAI-compatible model",
                ));
            }
        }
    }
    out.extend(results);
    attachments.extend(parts);
    if !attachments.is_empty() {
        out.push(chat_message(
            ChatRole::User,
            Some(parts_content(attachments)),
        ));
    }
    Ok(())
}

fn assistant_turn(
    content: &TextOr<Block>,
    i: usize,
    out: &mut Vec<ChatMessage>,
) -> Result<(), InvalidRequest> {
    let blocks = match content {
        TextOr::Text(text) => {
            out.push(chat_message(
                ChatRole::Assistant,
                Some(Content::Text(text.clone())),
            ));
            return Ok(());
        }
        TextOr::Blocks(blocks) => blocks,
    };
    let mut texts: Vec<&str> = Vec::new();
    let mut calls = Vec::new();
    for (j, block) in blocks.iter().enumerate() {
        match block {
            Block::Text { text } => texts.push(text),
            Block::ToolUse { id, name, input } => calls.push(ToolCall {
                id: id.clone(),
                kind: "function".into(),
                function: FunctionCall {
                    name: name.clone(),
                    arguments: if input.is_null() {
                        "{}".to_owned()
                    } else {
                        input.to_string()
                    },
                },
            }),
            // Signed for Anthropic models only; other models neither need nor accept them.
            Block::Thinking { .. } | Block::RedactedThinking { .. } => {}
            // Anthropic's own server tools (web search…) ran upstream of a past answer: what
            // they found is not expressible here, the conversation goes on without it.
            Block::Other => {}
            Block::Image { .. } | Block::Document { .. } | Block::ToolResult { .. } => {
                return Err(invalid(
                    format!("messages[{i}].content[{j}].type"),
                    "assistant messages hold text, thinking and tool_use blocks",
                ));
            }
        }
    }
    if texts.is_empty() && calls.is_empty() {
        return Ok(());
    }
    let mut m = chat_message(
        ChatRole::Assistant,
        (!texts.is_empty()).then(|| Content::Text(texts.join("\n"))),
    );
    m.tool_calls = (!calls.is_empty()).then_some(calls);
    out.push(m);
    Ok(())
}

fn tools(req: &CreateMessage) -> Result<Vec<Tool>, InvalidRequest> {
    let mut out = Vec::new();
    for (i, t) in req.tools.iter().flatten().enumerate() {
        let client_tool = matches!(t.kind.as_deref(), None | Some("custom" | "function"));
        if !client_tool && t.input_schema.is_none() {
            return Err(invalid(
                format!("tools[{i}].type"),
                &format!(
                    "{:?} is one of Anthropic's own tools; an OpenAI-compatible model cannot run it",
                    t.kind.as_deref().unwrap_or_default()
                ),
            ));
        }
        out.push(Tool {
            kind: "function".into(),
            function: FunctionDef {
                name: t.name.clone(),
                description: t.description.clone(),
                parameters: Some(
                    t.input_schema
                        .clone()
                        .unwrap_or_else(|| json!({"type": "object", "properties": {}})),
                ),
                strict: None,
            },
            extra: Map::new(),
        });
    }
    Ok(out)
}

fn tool_choice(choice: &InChoice) -> (Option<ToolChoice>, Option<bool>) {
    let (choice, no_parallel) = match choice {
        InChoice::Auto {
            disable_parallel_tool_use,
        } => (ToolChoice::Mode("auto".into()), *disable_parallel_tool_use),
        InChoice::Any {
            disable_parallel_tool_use,
        } => (
            ToolChoice::Mode("required".into()),
            *disable_parallel_tool_use,
        ),
        InChoice::Tool {
            name,
            disable_parallel_tool_use,
        } => (
            ToolChoice::Named(NamedToolChoice {
                kind: "function".into(),
                function: NamedFunction { name: name.clone() },
            }),
            *disable_parallel_tool_use,
        ),
        InChoice::None => (ToolChoice::Mode("none".into()), None),
    };
    (Some(choice), (no_parallel == Some(true)).then_some(false))
}

/// Anthropic's thinking settings as an OpenAI effort. A budget (`enabled`) maps by the inverse
/// of the budgets the chat door gives Anthropic models (low 1024, medium 4096, high 16384);
/// `adaptive` thinking (what Claude Code sends for models not named `claude*`) takes
/// `output_config.effort`, whose default at Anthropic is high, and `max` becomes high.
fn reasoning_effort(req: &CreateMessage) -> Option<String> {
    let thinking = req.thinking.as_ref()?;
    let effort = match thinking.kind.as_str() {
        "enabled" => match thinking.budget_tokens {
            Some(b) if b < 2048 => "low",
            Some(b) if b < 8192 => "medium",
            Some(_) => "high",
            None => "medium",
        },
        "adaptive" => req
            .output_config
            .as_ref()
            .and_then(|c| c.effort.as_deref())
            .filter(|e| matches!(*e, "low" | "medium"))
            .unwrap_or("high"),
        _ => return None,
    };
    Some(effort.to_owned())
}

/// The chat request as one target should get it, given what its model card says: no reasoning
/// effort for a model that does not reason (OpenAI refuses it), `max_tokens` capped at the
/// model's output limit (Claude Code asks for 32000), and sent as `max_completion_tokens` to
/// reasoning models (OpenAI's o-series refuse `max_tokens`).
pub fn for_target(req: &ChatRequest, capabilities: Option<&Value>) -> ChatRequest {
    let mut req = req.clone();
    let Some(caps) = capabilities else {
        return req;
    };
    let reasoning = caps["reasoning"].as_bool();
    if reasoning == Some(false) {
        req.reasoning_effort = None;
    }
    if let (Some(limit), Some(max)) = (caps["max_output"].as_u64(), req.max_tokens)
        && u64::from(max) > limit
    {
        req.max_tokens = u32::try_from(limit).ok().or(Some(max));
    }
    if reasoning == Some(true) {
        req.max_completion_tokens = req.max_tokens.take();
    }
    req
}

/// `msg_…` from a chat completion id.
pub fn message_id(chat_id: &str) -> String {
    let rest = chat_id.strip_prefix("chatcmpl-").unwrap_or(chat_id);
    if rest.is_empty() {
        format!("msg_{}", crate::chunks::fastrand_id())
    } else if rest.starts_with("msg_") {
        rest.to_owned()
    } else {
        format!("msg_{rest}")
    }
}

/// A chat `finish_reason` as an Anthropic `stop_reason`.
pub fn stop_reason(finish: Option<&str>, used_tools: bool) -> &'static str {
    match finish {
        Some("length") => "max_tokens",
        Some("tool_calls" | "function_call") => "tool_use",
        Some("content_filter") => "refusal",
        _ if used_tools => "tool_use",
        _ => "end_turn",
    }
}

/// The earliest stop sequence in `text` (the longest one when several start there).
pub fn earliest_stop(text: &str, stops: &[String]) -> Option<(usize, String)> {
    stops
        .iter()
        .filter(|s| !s.is_empty())
        .filter_map(|s| text.find(s.as_str()).map(|at| (at, s)))
        .min_by_key(|(at, s)| (*at, usize::MAX - s.len()))
        .map(|(at, s)| (at, s.clone()))
}

/// Chat usage as Anthropic usage: input without the cached part, which has its own fields.
pub fn usage_json(u: &Usage) -> Value {
    let details = u.prompt_tokens_details.as_ref();
    let cached = details.and_then(|d| d.cached_tokens).unwrap_or(0);
    let written = details.and_then(|d| d.cache_creation_tokens).unwrap_or(0);
    json!({
        "input_tokens": u.prompt_tokens.saturating_sub(cached + written),
        "output_tokens": u.completion_tokens,
        "cache_creation_input_tokens": written,
        "cache_read_input_tokens": cached,
    })
}

/// Usage when the upstream reported none: the request's estimate and about four characters per
/// output token.
pub fn estimated_usage(input_tokens: u64, output_chars: u64) -> Value {
    json!({
        "input_tokens": input_tokens,
        "output_tokens": estimate_chars(output_chars),
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
    })
}

/// What the request log keeps of an Anthropic usage object.
pub fn token_counts(usage: &Value) -> Option<TokenCounts> {
    let input = usage["input_tokens"].as_u64();
    let output = usage["output_tokens"].as_u64();
    if input.is_none() && output.is_none() {
        return None;
    }
    let cached = usage["cache_read_input_tokens"].as_u64().unwrap_or(0);
    let written = usage["cache_creation_input_tokens"].as_u64().unwrap_or(0);
    Some(TokenCounts {
        prompt: input.unwrap_or(0) + cached + written,
        completion: output.unwrap_or(0),
        cached,
        reasoning: 0,
    })
}

/// A tool call's arguments as a `tool_use` input, which must be an object.
pub fn tool_input(arguments: &str) -> Value {
    if arguments.trim().is_empty() {
        return json!({});
    }
    match serde_json::from_str::<Value>(arguments) {
        Ok(v @ Value::Object(_)) => v,
        _ => {
            tracing::warn!("a tool call's arguments are not a JSON object; sent as {{}}");
            json!({})
        }
    }
}

/// Chat completion → Anthropic Message. `stops`: the request's stop sequences, matched here
/// (the text is cut before the first one, as Anthropic does, and later tool calls dropped).
pub fn to_message(resp: ChatResponse, stops: &[String], input_estimate: u64) -> Value {
    let id = message_id(&resp.id);
    let model = resp.model;
    let mut content = Vec::new();
    let mut finish = None;
    let mut matched = None;
    let mut used_tools = false;
    let mut output_chars = 0u64;
    if let Some(choice) = resp.choices.into_iter().next() {
        finish = choice.finish_reason;
        let m = choice.message;
        match m.thinking_blocks {
            Some(blocks) if !blocks.is_empty() => {
                for b in blocks {
                    content.push(if b.kind == "redacted_thinking" {
                        json!({"type": "redacted_thinking", "data": b.data.unwrap_or_default()})
                    } else {
                        json!({
                            "type": "thinking",
                            "thinking": b.thinking.unwrap_or_default(),
                            "signature": b.signature.unwrap_or_default(),
                        })
                    });
                }
            }
            _ => {
                if let Some(r) = m.reasoning_content.filter(|r| !r.is_empty()) {
                    output_chars += r.len() as u64;
                    content.push(json!({"type": "thinking", "thinking": r, "signature": ""}));
                }
            }
        }
        let mut text = m.content.unwrap_or_default();
        if text.is_empty()
            && let Some(Value::String(refusal)) = m.extra.get("refusal")
        {
            text.clone_from(refusal);
        }
        if let Some((at, stop)) = earliest_stop(&text, stops) {
            text.truncate(at);
            matched = Some(stop);
        }
        output_chars += text.len() as u64;
        if !text.is_empty() {
            content.push(json!({"type": "text", "text": text}));
        }
        if matched.is_none() {
            for call in m.tool_calls.into_iter().flatten() {
                used_tools = true;
                output_chars += call.function.arguments.len() as u64;
                content.push(json!({
                    "type": "tool_use",
                    "id": call.id,
                    "name": call.function.name,
                    "input": tool_input(&call.function.arguments),
                }));
            }
        }
    }
    let stop_reason = if matched.is_some() {
        "stop_sequence"
    } else {
        stop_reason(finish.as_deref(), used_tools)
    };
    let usage = resp
        .usage
        .as_ref()
        .map_or_else(|| estimated_usage(input_estimate, output_chars), usage_json);
    json!({
        "id": id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": matched,
        "usage": usage,
    })
}

/// About four characters per token over the system prompt, the messages and the tool
/// definitions, plus a flat amount per image or PDF. For `count_tokens` without an upstream
/// that counts, and for usage an upstream did not report.
pub fn estimate_input_tokens(req: &CreateMessage) -> u64 {
    let mut chars = 0usize;
    let mut attachments = 0u64;
    match &req.system {
        Some(TextOr::Text(s)) => chars += s.len(),
        Some(TextOr::Blocks(blocks)) => chars += blocks.iter().map(|b| b.text.len()).sum::<usize>(),
        None => {}
    }
    fn count(content: &TextOr<Block>, chars: &mut usize, attachments: &mut u64) {
        let blocks = match content {
            TextOr::Text(s) => {
                *chars += s.len();
                return;
            }
            TextOr::Blocks(blocks) => blocks,
        };
        for b in blocks {
            match b {
                Block::Text { text } => *chars += text.len(),
                Block::Image { .. } => *attachments += 1,
                Block::Document { source, .. } => match source {
                    DocumentSource::Text { data } => *chars += data.len(),
                    DocumentSource::Content { content } => count(content, chars, attachments),
                    _ => *attachments += 1,
                },
                Block::ToolUse { name, input, .. } => {
                    *chars += name.len() + input.to_string().len();
                }
                Block::ToolResult { content, .. } => {
                    if let Some(c) = content {
                        count(c, chars, attachments);
                    }
                }
                Block::Thinking { thinking, .. } => *chars += thinking.len(),
                Block::RedactedThinking { .. } | Block::Other => {}
            }
        }
    }
    for m in req.messages() {
        chars += 4;
        count(&m.content, &mut chars, &mut attachments);
    }
    for t in req.tools.iter().flatten() {
        chars += t.name.len()
            + t.description.as_ref().map_or(0, String::len)
            + t.input_schema.as_ref().map_or(0, |s| s.to_string().len());
    }
    estimate_chars(chars as u64) + attachments * TOKENS_PER_ATTACHMENT
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::openai::{Choice, PromptTokensDetails, ResponseMessage};

    fn request(json: Value) -> CreateMessage {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn validation_names_the_missing_field() {
        let e = validate(&request(json!({"messages": []})), false).unwrap_err();
        assert_eq!(e.param.as_deref(), Some("model"));
        let e = validate(
            &request(json!({"model": "m", "messages": [{"role": "user", "content": "x"}]})),
            false,
        )
        .unwrap_err();
        assert_eq!(e.param.as_deref(), Some("max_tokens"));
        let e = validate(&request(json!({"model": "m", "max_tokens": 9})), false).unwrap_err();
        assert_eq!(e.param.as_deref(), Some("messages"));
        assert!(
            validate(
                &request(json!({"model": "m", "messages": [{"role": "user", "content": "x"}]})),
                true
            )
            .is_ok(),
            "count_tokens has no max_tokens"
        );
    }

    #[test]
    fn a_system_turn_inside_the_conversation_stays_a_system_message_in_place() {
        // Claude Code sends its environment note as a `system` turn after the first user message.
        let req = request(json!({
            "model": "m", "max_tokens": 10,
            "system": "prompt",
            "messages": [
                {"role": "user", "content": [{"type": "text", "text": "hi"}]},
                {"role": "system", "content": [
                    {"type": "text", "text": "# Environment"},
                    {"type": "text", "text": "cwd: /tmp", "cache_control": {"type": "ephemeral"}}
                ]}
            ]
        }));
        let body = serde_json::to_value(to_chat_request(&req).unwrap()).unwrap();
        assert_eq!(
            body["messages"],
            json!([
                {"role": "system", "content": "prompt"},
                {"role": "user", "content": "hi"},
                {"role": "system", "content": "# Environment\ncwd: /tmp"}
            ])
        );
        let image = request(json!({
            "model": "m", "max_tokens": 10,
            "messages": [{"role": "system", "content": [
                {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AAAA"}}
            ]}]
        }));
        let e = to_chat_request(&image).unwrap_err();
        assert_eq!(e.param.as_deref(), Some("messages[0].content[0].type"));
    }

    #[test]
    fn tool_results_become_tool_messages_in_order_with_images_after() {
        let req = request(json!({
            "model": "m", "max_tokens": 10,
            "system": [{"type": "text", "text": "one", "cache_control": {"type": "ephemeral"}}, {"type": "text", "text": "two"}],
            "messages": [
                {"role": "user", "content": "weather and time?"},
                {"role": "assistant", "content": [
                    {"type": "thinking", "thinking": "both", "signature": "sig"},
                    {"type": "text", "text": "Checking."},
                    {"type": "tool_use", "id": "toolu_a", "name": "weather", "input": {"city": "Paris"}},
                    {"type": "tool_use", "id": "toolu_b", "name": "time", "input": {}}
                ]},
                {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": "toolu_a", "content": [
                        {"type": "text", "text": "sunny"},
                        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AAAA"}}
                    ]},
                    {"type": "tool_result", "tool_use_id": "toolu_b", "content": "noon", "is_error": true},
                    {"type": "text", "text": "thanks"}
                ]}
            ],
            "tool_choice": {"type": "any", "disable_parallel_tool_use": true},
            "tools": [{"name": "weather", "input_schema": {"type": "object"}, "cache_control": {"type": "ephemeral"}}],
            "thinking": {"type": "enabled", "budget_tokens": 10000},
            "metadata": {"user_id": "u-1"},
            "top_k": 5,
            "stop_sequences": ["END"]
        }));
        let chat = to_chat_request(&req).unwrap();
        let roles: Vec<ChatRole> = chat.messages.iter().map(|m| m.role).collect();
        assert_eq!(
            roles,
            [
                ChatRole::System,
                ChatRole::User,
                ChatRole::Assistant,
                ChatRole::Tool,
                ChatRole::Tool,
                ChatRole::User
            ]
        );
        let body = serde_json::to_value(&chat).unwrap();
        assert_eq!(body["messages"][0]["content"], "one\n\ntwo");
        assert_eq!(body["messages"][2]["content"], "Checking.");
        assert!(
            body["messages"][2].get("thinking_blocks").is_none(),
            "signatures stay with Anthropic"
        );
        assert_eq!(
            body["messages"][2]["tool_calls"][0]["function"]["arguments"],
            r#"{"city":"Paris"}"#
        );
        assert_eq!(
            (
                &body["messages"][3]["tool_call_id"],
                &body["messages"][3]["content"]
            ),
            (&json!("toolu_a"), &json!("sunny"))
        );
        assert_eq!(body["messages"][4]["content"], "Error: noon");
        assert_eq!(
            body["messages"][5]["content"][0]["image_url"]["url"],
            "data:image/png;base64,AAAA"
        );
        assert_eq!(body["messages"][5]["content"][1]["text"], "thanks");
        assert_eq!(body["tool_choice"], "required");
        assert_eq!(body["parallel_tool_calls"], false);
        assert_eq!(body["reasoning_effort"], "high");
        assert_eq!(body["user"], "u-1");
        assert_eq!(body["top_k"], 5);
        // Sent upstream so that generation stops there, and matched here too.
        assert_eq!(body["stop"], json!(["END"]));
    }

    #[test]
    fn stop_sequences_go_upstream_up_to_openais_limit() {
        let req = request(json!({
            "model": "m", "max_tokens": 10,
            "messages": [{"role": "user", "content": "count"}],
            "stop_sequences": ["a", "", "b", "c", "d", "e"]
        }));
        let body = serde_json::to_value(to_chat_request(&req).unwrap()).unwrap();
        assert_eq!(body["stop"], json!(["a", "b", "c", "d"]));
        assert_eq!(req.stops(), ["a", "b", "c", "d", "e"], "all matched here");
    }

    #[test]
    fn output_formats_become_response_formats() {
        let schema = json!({"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]});
        for body in [
            json!({"output_config": {"format": {"type": "json_schema", "schema": schema}}}),
            json!({"output_format": {"type": "json_schema", "schema": schema}}),
        ] {
            let mut full = json!({"model": "m", "max_tokens": 10, "messages": [{"role": "user", "content": "x"}]});
            full.as_object_mut()
                .unwrap()
                .extend(body.as_object().unwrap().clone());
            let chat = serde_json::to_value(to_chat_request(&request(full)).unwrap()).unwrap();
            assert_eq!(
                chat["response_format"],
                json!({"type": "json_schema", "json_schema": {"name": "response", "schema": schema}})
            );
        }
        let bad = request(json!({
            "model": "m", "max_tokens": 10, "messages": [{"role": "user", "content": "x"}],
            "output_config": {"format": {"type": "json_schema"}}
        }));
        let e = to_chat_request(&bad).unwrap_err();
        assert_eq!(e.param.as_deref(), Some("output_config.format.schema"));
    }

    #[test]
    fn adaptive_thinking_takes_its_effort_from_output_config() {
        let effort = |extra: Value| {
            let mut body = json!({"model": "m", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]});
            body.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            to_chat_request(&request(body)).unwrap().reasoning_effort
        };
        assert_eq!(
            effort(json!({"thinking": {"type": "adaptive"}, "output_config": {"effort": "low"}}))
                .as_deref(),
            Some("low")
        );
        assert_eq!(
            effort(json!({"thinking": {"type": "adaptive"}, "output_config": {"effort": "max"}}))
                .as_deref(),
            Some("high")
        );
        assert_eq!(
            effort(json!({"thinking": {"type": "adaptive"}})).as_deref(),
            Some("high")
        );
        assert_eq!(
            effort(json!({"thinking": {"type": "disabled"}, "output_config": {"effort": "low"}})),
            None
        );
        assert_eq!(effort(json!({})), None);
    }

    #[test]
    fn claude_codes_billing_header_stays_with_anthropic() {
        let req = request(json!({
            "model": "m", "max_tokens": 10,
            "system": [
                {"type": "text", "text": "x-anthropic-billing-header: cc_version=2.1.0.abc; cc_entrypoint=sdk-cli;"},
                {"type": "text", "text": "You are Claude Code."}
            ],
            "messages": [{"role": "user", "content": "hi"}]
        }));
        let body = serde_json::to_value(to_chat_request(&req).unwrap()).unwrap();
        assert_eq!(body["messages"][0]["role"], "system");
        assert_eq!(body["messages"][0]["content"], "You are Claude Code.");
    }

    #[test]
    fn anthropic_server_tools_cannot_go_to_openai_models() {
        let req = request(json!({
            "model": "m", "max_tokens": 10,
            "messages": [{"role": "user", "content": "search"}],
            "tools": [{"type": "web_search_20250305", "name": "web_search"}]
        }));
        let e = to_chat_request(&req).unwrap_err();
        assert_eq!(e.param.as_deref(), Some("tools[0].type"));
    }

    #[test]
    fn targets_get_what_their_model_takes() {
        let req = request(json!({
            "model": "m", "max_tokens": 32000,
            "messages": [{"role": "user", "content": "x"}],
            "thinking": {"type": "enabled", "budget_tokens": 1024}
        }));
        let chat = to_chat_request(&req).unwrap();
        let plain = for_target(
            &chat,
            Some(&json!({"reasoning": false, "max_output": 16384})),
        );
        assert_eq!(
            (
                plain.reasoning_effort.as_deref(),
                plain.max_tokens,
                plain.max_completion_tokens
            ),
            (None, Some(16384), None)
        );
        let reasoning = for_target(&chat, Some(&json!({"reasoning": true})));
        assert_eq!(
            (
                reasoning.reasoning_effort.as_deref(),
                reasoning.max_tokens,
                reasoning.max_completion_tokens
            ),
            (Some("low"), None, Some(32000))
        );
    }

    fn response(message: ResponseMessage, finish: &str, usage: Option<Usage>) -> ChatResponse {
        ChatResponse {
            id: "chatcmpl-abc".into(),
            object: "chat.completion".into(),
            created: 0,
            model: "gpt".into(),
            choices: vec![Choice {
                index: 0,
                message,
                logprobs: None,
                finish_reason: Some(finish.into()),
            }],
            usage,
            system_fingerprint: None,
            extra: Map::new(),
        }
    }

    #[test]
    fn answers_become_messages_with_blocks_stop_reason_and_usage() {
        let m = ResponseMessage {
            content: Some("Let me look.".into()),
            reasoning_content: Some("hmm".into()),
            tool_calls: Some(vec![ToolCall {
                id: "call_1".into(),
                kind: "function".into(),
                function: FunctionCall {
                    name: "weather".into(),
                    arguments: r#"{"city":"Oslo"}"#.into(),
                },
            }]),
            ..ResponseMessage::default()
        };
        let usage = Usage {
            prompt_tokens: 100,
            completion_tokens: 7,
            total_tokens: 107,
            prompt_tokens_details: Some(PromptTokensDetails {
                cached_tokens: Some(60),
                cache_creation_tokens: None,
            }),
            completion_tokens_details: None,
        };
        let msg = to_message(response(m, "tool_calls", Some(usage)), &[], 0);
        assert_eq!(msg["id"], "msg_abc");
        assert_eq!(msg["content"][0]["type"], "thinking");
        assert_eq!(msg["content"][1]["text"], "Let me look.");
        assert_eq!(msg["content"][2]["input"], json!({"city": "Oslo"}));
        assert_eq!(msg["stop_reason"], "tool_use");
        assert_eq!(msg["usage"]["input_tokens"], 40);
        assert_eq!(msg["usage"]["cache_read_input_tokens"], 60);
        assert_eq!(msg["usage"]["output_tokens"], 7);

        let m = ResponseMessage {
            content: Some("one two END three".into()),
            ..ResponseMessage::default()
        };
        let msg = to_message(response(m, "stop", None), &["END".into()], 12);
        assert_eq!(msg["content"][0]["text"], "one two ");
        assert_eq!(msg["stop_reason"], "stop_sequence");
        assert_eq!(msg["stop_sequence"], "END");
        assert_eq!(
            msg["usage"]["input_tokens"], 12,
            "estimated when not reported"
        );
        let m = ResponseMessage {
            content: Some("cut".into()),
            ..ResponseMessage::default()
        };
        assert_eq!(
            to_message(response(m, "length", None), &[], 0)["stop_reason"],
            "max_tokens"
        );
    }

    #[test]
    fn estimates_count_text_tools_and_images() {
        let req = request(json!({
            "model": "m",
            "system": "x".repeat(400),
            "messages": [{"role": "user", "content": [
                {"type": "text", "text": "y".repeat(396)},
                {"type": "image", "source": {"type": "url", "url": "https://e/x.png"}}
            ]}],
        }));
        assert_eq!(estimate_input_tokens(&req), 200 + TOKENS_PER_ATTACHMENT);
    }
}
