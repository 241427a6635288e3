//! An OpenAI chat client served by an Anthropic upstream: the chat request as an Anthropic
//! Messages request (stop sequences, the structured-output forced tool, what Anthropic cannot
//! answer refused by name), the Anthropic answer as a chat response, and Anthropic's error types
//! in OpenAI's terms. Streams are in [`stream`]. Thinking blocks keep their signatures (as
//! `thinking_blocks`) so a conversation can continue across turns.

use serde_json::{Value, json};

use crate::anthropic::{
    self as a, ContentBlock, ImageSource, MessagesRequest, MessagesResponse, TextBlock,
};
use crate::chunks::unix_now;
use crate::error::{UpstreamError, default_error_type};
use crate::openai::{
    ChatRequest, ChatResponse, Choice, Content, FunctionCall, PromptTokensDetails, ResponseMessage,
    Role, ThinkingBlock, ToolCall, ToolChoice, Usage,
};

pub mod stream;

pub use stream::StreamTranslator;

/// Anthropic requires `max_tokens`; this is used when the client sent none.
pub const DEFAULT_MAX_TOKENS: u32 = 4096;

/// OpenAI chat request → Anthropic Messages request.
pub fn to_messages_request(
    req: &ChatRequest,
    model: &str,
    stream: bool,
) -> Result<MessagesRequest, UpstreamError> {
    if req.n.is_some_and(|n| n > 1) {
        return Err(UpstreamError::Unsupported {
            message: "Anthropic models return one choice; send n = 1".into(),
            param: Some("n".into()),
        });
    }
    let mut system = Vec::new();
    let mut messages: Vec<a::Message> = Vec::new();
    for (i, m) in req.messages.iter().enumerate() {
        match m.role {
            Role::System | Role::Developer => system.extend(system_blocks(m.content.as_ref())),
            Role::User => {
                let blocks = user_blocks(m.content.as_ref(), i)?;
                push_message(&mut messages, "user", blocks);
            }
            Role::Assistant => {
                let mut blocks = Vec::new();
                for t in m.thinking_blocks.iter().flatten() {
                    match (t.kind.as_str(), &t.data) {
                        ("redacted_thinking", Some(data)) => {
                            blocks.push(ContentBlock::RedactedThinking { data: data.clone() });
                        }
                        _ => {
                            if let Some(signature) = t.signature.clone().filter(|s| !s.is_empty()) {
                                blocks.push(ContentBlock::Thinking {
                                    thinking: t.thinking.clone().unwrap_or_default(),
                                    signature,
                                });
                            }
                        }
                    }
                }
                if let Some(content) = &m.content {
                    let text = content.text();
                    if !text.is_empty() {
                        blocks.push(ContentBlock::Text {
                            text,
                            cache_control: None,
                        });
                    }
                }
                for (j, call) in m.tool_calls.iter().flatten().enumerate() {
                    let input = if call.function.arguments.trim().is_empty() {
                        json!({})
                    } else {
                        serde_json::from_str(&call.function.arguments).map_err(|_| {
                            UpstreamError::Unsupported {
                                message: format!(
                                    "tool call arguments are not JSON: {:?}",
                                    call.function.arguments
                                ),
                                param: Some(format!(
                                    "messages[{i}].tool_calls[{j}].function.arguments"
                                )),
                            }
                        })?
                    };
                    blocks.push(ContentBlock::ToolUse {
                        id: call.id.clone(),
                        name: call.function.name.clone(),
                        input,
                    });
                }
                if !blocks.is_empty() {
                    push_message(&mut messages, "assistant", blocks);
                }
            }
            Role::Tool | Role::Function => {
                let id = m
                    .tool_call_id
                    .clone()
                    .or_else(|| m.name.clone())
                    .ok_or_else(|| UpstreamError::Unsupported {
                        message: "a tool message needs tool_call_id".into(),
                        param: Some(format!("messages[{i}].tool_call_id")),
                    })?;
                let content = m.content.as_ref().map(Content::text).unwrap_or_default();
                push_message(
                    &mut messages,
                    "user",
                    vec![ContentBlock::ToolResult {
                        tool_use_id: id,
                        content: Value::String(content),
                        is_error: None,
                    }],
                );
            }
        }
    }
    if messages.is_empty() {
        return Err(UpstreamError::Unsupported {
            message: "Anthropic needs at least one user or assistant message".into(),
            param: Some("messages".into()),
        });
    }
    let mut max_tokens = req.max_output_tokens().unwrap_or(DEFAULT_MAX_TOKENS);
    let thinking = req.reasoning_effort.as_deref().and_then(|effort| {
        let budget = match effort {
            "minimal" | "none" => return None,
            "low" => 1024,
            "medium" => 4096,
            _ => 16384,
        };
        if max_tokens <= budget {
            max_tokens = budget + DEFAULT_MAX_TOKENS;
        }
        Some(json!({"type": "enabled", "budget_tokens": budget}))
    });
    let mut tools: Vec<a::Tool> = req
        .tools
        .iter()
        .flatten()
        .map(|t| a::Tool {
            name: t.function.name.clone(),
            description: t.function.description.clone(),
            input_schema: t
                .function
                .parameters
                .clone()
                .unwrap_or_else(|| json!({"type": "object", "properties": {}})),
        })
        .collect();
    let mut tool_choice = match &req.tool_choice {
        None => None,
        Some(ToolChoice::Mode(mode)) => match mode.as_str() {
            "auto" => Some(json!({"type": "auto"})),
            "required" => Some(json!({"type": "any"})),
            "none" => Some(json!({"type": "none"})),
            other => {
                return Err(UpstreamError::Unsupported {
                    message: format!("unknown tool_choice {other:?}"),
                    param: Some("tool_choice".into()),
                });
            }
        },
        Some(ToolChoice::Named(named)) => {
            Some(json!({"type": "tool", "name": named.function.name}))
        }
    };
    refuse_unanswerable(req)?;
    let mut output_config = None;
    let mut answer_tool = None;
    match structured_output(req, model)? {
        None => {}
        Some(Structured::Native(schema)) => {
            output_config = Some(json!({"format": {"type": "json_schema", "schema": schema}}));
        }
        Some(Structured::Tool {
            name,
            description,
            schema,
        }) => {
            if thinking.is_some() {
                return Err(UpstreamError::Unsupported {
                    message: format!(
                        "{model} has no native structured output, so the JSON answer would come through a forced tool call, which Anthropic does not allow with extended thinking: drop reasoning_effort, or use a Claude model of the 4.5 generation or later"
                    ),
                    param: Some("response_format".into()),
                });
            }
            let mut name = name;
            while tools.iter().any(|t| t.name == name) {
                name.push_str("_answer");
            }
            // The client's own choice stands when it names a tool; otherwise the model must
            // call a tool, and with no other tool on offer that is the answer.
            tool_choice = match tool_choice {
                Some(named) if named["type"] == "tool" => Some(named),
                _ if tools.is_empty() || tool_choice_is_none(req) => {
                    tools.clear();
                    Some(json!({"type": "tool", "name": name}))
                }
                _ => Some(json!({"type": "any"})),
            };
            tools.push(a::Tool {
                name: name.clone(),
                description: Some(description),
                input_schema: schema,
            });
            answer_tool = Some(name);
        }
    }
    if req.parallel_tool_calls == Some(false) && !tools.is_empty() {
        let choice = tool_choice.get_or_insert_with(|| json!({"type": "auto"}));
        choice["disable_parallel_tool_use"] = Value::Bool(true);
    }
    let metadata = match &req.user {
        Some(Value::String(user)) => Some(json!({"user_id": user})),
        _ => None,
    };
    Ok(MessagesRequest {
        model: model.to_owned(),
        max_tokens,
        messages,
        system,
        // Extended thinking takes neither; current Claude models refuse both at once.
        temperature: if thinking.is_some() {
            None
        } else {
            req.temperature
        },
        top_p: if thinking.is_some() || req.temperature.is_some() {
            None
        } else {
            req.top_p
        },
        stop_sequences: req
            .stop
            .clone()
            .map(crate::openai::Stop::into_vec)
            .unwrap_or_default(),
        stream,
        tools,
        tool_choice,
        thinking,
        metadata,
        output_config,
        answer_tool,
    })
}

fn tool_choice_is_none(req: &ChatRequest) -> bool {
    matches!(&req.tool_choice, Some(ToolChoice::Mode(mode)) if mode == "none")
}

/// Fields of a chat request that change the shape of the answer and that Anthropic cannot give:
/// refused by name rather than dropped, so that a client never waits for what will not come.
/// Sampling hints without an Anthropic equivalent (`seed`, the penalties, `logit_bias`) are
/// left out, as every gateway does: they change no field of the answer.
fn refuse_unanswerable(req: &ChatRequest) -> Result<(), UpstreamError> {
    let unsupported = |param: &str, message: &str| UpstreamError::Unsupported {
        message: message.to_owned(),
        param: Some(param.to_owned()),
    };
    if req
        .extra
        .get("logprobs")
        .is_some_and(|v| v == &Value::Bool(true))
    {
        return Err(unsupported(
            "logprobs",
            "Anthropic models return no log probabilities; send logprobs = false",
        ));
    }
    if req
        .extra
        .get("top_logprobs")
        .is_some_and(|v| v.as_u64().is_some_and(|n| n > 0))
    {
        return Err(unsupported(
            "top_logprobs",
            "Anthropic models return no log probabilities; leave out top_logprobs",
        ));
    }
    if req.extra.get("audio").is_some_and(|v| !v.is_null())
        || req
            .extra
            .get("modalities")
            .and_then(Value::as_array)
            .is_some_and(|m| m.iter().any(|x| x.as_str() != Some("text")))
    {
        return Err(unsupported(
            "modalities",
            "Anthropic models answer in text only; leave out audio output",
        ));
    }
    Ok(())
}

/// How a chat request's `response_format` reaches an Anthropic model.
#[derive(Debug, Clone, PartialEq)]
enum Structured {
    /// Anthropic's own structured output, `output_config.format`.
    Native(Value),
    /// A tool the model is made to call, whose input is the answer.
    Tool {
        name: String,
        description: String,
        schema: Value,
    },
}

/// `response_format` as Anthropic can honour it: a JSON schema natively on models that support
/// structured output, through a forced tool on the others; `json_object` (which has no schema)
/// always through a tool that takes any object.
fn structured_output(req: &ChatRequest, model: &str) -> Result<Option<Structured>, UpstreamError> {
    let Some(format) = req.extra.get("response_format").filter(|f| !f.is_null()) else {
        return Ok(None);
    };
    let invalid = |param: &str, message: String| UpstreamError::Unsupported {
        message,
        param: Some(param.to_owned()),
    };
    match format["type"].as_str() {
        Some("text") => Ok(None),
        Some("json_object") => Ok(Some(Structured::Tool {
            name: "json_response".into(),
            description: "Give your whole answer as this tool's input: one JSON object.".into(),
            schema: json!({"type": "object"}),
        })),
        Some("json_schema") => {
            let spec = &format["json_schema"];
            let Some(schema) = spec.get("schema").filter(|s| s.is_object()) else {
                return Err(invalid(
                    "response_format.json_schema.schema",
                    "a json_schema response format needs a schema object".into(),
                ));
            };
            if native_structured_output(model) {
                return Ok(Some(Structured::Native(schema.clone())));
            }
            if schema["type"] != "object" {
                return Err(invalid(
                    "response_format.json_schema.schema",
                    format!(
                        "{model} has no native structured output; through a tool its answer must be a JSON object (\"type\": \"object\")"
                    ),
                ));
            }
            let name: String = spec["name"]
                .as_str()
                .unwrap_or_default()
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
                .take(56)
                .collect();
            let description = spec["description"].as_str().map_or_else(
                || "Give your whole answer as this tool's input.".to_owned(),
                |d| format!("Give your whole answer as this tool's input. {d}"),
            );
            Ok(Some(Structured::Tool {
                name: if name.is_empty() {
                    "json_response".into()
                } else {
                    name
                },
                description,
                schema: schema.clone(),
            }))
        }
        other => Err(invalid(
            "response_format.type",
            format!(
                "unknown response_format type {}: expected text, json_object or json_schema",
                other.map_or_else(|| "(none)".to_owned(), |t| format!("{t:?}"))
            ),
        )),
    }
}

/// Claude models with Anthropic's native structured output: Opus 4.1, and every model from the
/// 4.5 generation on. Older ones get a forced tool instead.
pub fn native_structured_output(model: &str) -> bool {
    let name = model.rsplit('/').next().unwrap_or(model);
    let Some(at) = ["opus-", "sonnet-", "haiku-"]
        .iter()
        .filter_map(|family| name.find(family).map(|i| (i + family.len(), *family)))
        .min()
    else {
        return false;
    };
    let mut numbers = name[at.0..]
        .split('-')
        .map_while(|part| part.parse::<u32>().ok().filter(|_| part.len() <= 2));
    match (numbers.next(), numbers.next()) {
        (Some(major), _) if major >= 5 => true,
        (Some(4), Some(minor)) => minor >= 5 || (at.1 == "opus-" && minor >= 1),
        _ => false,
    }
}

fn system_blocks(content: Option<&Content>) -> Vec<TextBlock> {
    match content {
        None => Vec::new(),
        Some(Content::Text(text)) => vec![TextBlock {
            kind: "text".into(),
            text: text.clone(),
            cache_control: None,
        }],
        Some(Content::Parts(parts)) => parts
            .iter()
            .filter_map(|p| {
                Some(TextBlock {
                    kind: "text".into(),
                    text: p.text.clone()?,
                    cache_control: p.extra.get("cache_control").cloned(),
                })
            })
            .collect(),
    }
}

fn user_blocks(content: Option<&Content>, i: usize) -> Result<Vec<ContentBlock>, UpstreamError> {
    match content {
        None => Ok(Vec::new()),
        Some(Content::Text(text)) => Ok(vec![ContentBlock::Text {
            text: text.clone(),
            cache_control: None,
        }]),
        Some(Content::Parts(parts)) => {
            let mut blocks = Vec::with_capacity(parts.len());
            for (j, part) in parts.iter().enumerate() {
                let cache_control = part.extra.get("cache_control").cloned();
                match (part.kind.as_str(), &part.text, &part.image_url) {
                    ("text", Some(text), _) => blocks.push(ContentBlock::Text {
                        text: text.clone(),
                        cache_control,
                    }),
                    ("image_url", _, Some(image)) => blocks.push(ContentBlock::Image {
                        source: image_source(&image.url).ok_or_else(|| {
                            UpstreamError::Unsupported {
                                message: "an image must be a base64 data: URL or an http(s) URL"
                                    .into(),
                                param: Some(format!("messages[{i}].content[{j}].image_url.url")),
                            }
                        })?,
                        cache_control,
                    }),
                    (kind, _, _) => {
                        return Err(UpstreamError::Unsupported {
                            message: format!(
                                "content parts of type {kind:?} cannot be sent to Anthropic"
                            ),
                            param: Some(format!("messages[{i}].content[{j}].type")),
                        });
                    }
                }
            }
            Ok(blocks)
        }
    }
}

/// `data:image/png;base64,…` or an http(s) URL.
pub fn image_source(url: &str) -> Option<ImageSource> {
    if let Some(rest) = url.strip_prefix("data:") {
        let (meta, data) = rest.split_once(',')?;
        let media_type = meta.strip_suffix(";base64")?;
        return Some(ImageSource::Base64 {
            media_type: media_type.to_owned(),
            data: data.to_owned(),
        });
    }
    (url.starts_with("https://") || url.starts_with("http://")).then(|| ImageSource::Url {
        url: url.to_owned(),
    })
}

/// Anthropic needs alternating roles: consecutive messages of one role are merged.
fn push_message(messages: &mut Vec<a::Message>, role: &str, blocks: Vec<ContentBlock>) {
    match messages.last_mut() {
        Some(last) if last.role == role => {
            // Tool results must come first in a user turn.
            if role == "user"
                && blocks
                    .iter()
                    .any(|b| matches!(b, ContentBlock::ToolResult { .. }))
            {
                let at = last
                    .content
                    .iter()
                    .position(|b| !matches!(b, ContentBlock::ToolResult { .. }))
                    .unwrap_or(last.content.len());
                last.content.splice(at..at, blocks);
            } else {
                last.content.extend(blocks);
            }
        }
        _ => messages.push(a::Message {
            role: role.to_owned(),
            content: blocks,
        }),
    }
}

pub fn finish_reason(stop_reason: Option<&str>) -> &'static str {
    match stop_reason {
        Some("max_tokens" | "model_context_window_exceeded") => "length",
        Some("tool_use") => "tool_calls",
        Some("refusal") => "content_filter",
        _ => "stop",
    }
}

pub fn usage(u: &a::Usage) -> Usage {
    let cached = u.cache_read_input_tokens.unwrap_or(0);
    let written = u.cache_creation_input_tokens.unwrap_or(0);
    let prompt = u.input_tokens.unwrap_or(0) + cached + written;
    let completion = u.output_tokens.unwrap_or(0);
    Usage {
        prompt_tokens: prompt,
        completion_tokens: completion,
        total_tokens: prompt + completion,
        prompt_tokens_details: Some(PromptTokensDetails {
            cached_tokens: Some(cached),
            cache_creation_tokens: (written > 0).then_some(written),
        }),
        completion_tokens_details: None,
    }
}

/// Anthropic message → OpenAI chat completion. A call of `answer_tool` (the tool forced to carry
/// a JSON answer) becomes the message content, as the client asked for it.
pub fn from_messages_response(m: MessagesResponse, answer_tool: Option<&str>) -> ChatResponse {
    let mut text = String::new();
    let mut answered = false;
    let mut reasoning = String::new();
    let mut thinking_blocks = Vec::new();
    let mut tool_calls = Vec::new();
    for block in m.content {
        match block {
            ContentBlock::Text { text: t, .. } => text.push_str(&t),
            ContentBlock::Thinking {
                thinking,
                signature,
            } => {
                reasoning.push_str(&thinking);
                thinking_blocks.push(ThinkingBlock {
                    kind: "thinking".into(),
                    thinking: Some(thinking),
                    signature: Some(signature),
                    data: None,
                });
            }
            ContentBlock::RedactedThinking { data } => thinking_blocks.push(ThinkingBlock {
                kind: "redacted_thinking".into(),
                thinking: None,
                signature: None,
                data: Some(data),
            }),
            ContentBlock::ToolUse { name, input, .. } if Some(name.as_str()) == answer_tool => {
                text.push_str(&input.to_string());
                answered = true;
            }
            ContentBlock::ToolUse { id, name, input } => tool_calls.push(ToolCall {
                id,
                kind: "function".into(),
                function: FunctionCall {
                    name,
                    arguments: input.to_string(),
                },
            }),
            ContentBlock::Image { .. }
            | ContentBlock::ToolResult { .. }
            | ContentBlock::Unknown => {}
        }
    }
    let mut finish = finish_reason(m.stop_reason.as_deref());
    if answered && tool_calls.is_empty() && finish == "tool_calls" {
        finish = "stop";
    }
    ChatResponse {
        id: chat_id(&m.id),
        object: "chat.completion".into(),
        created: unix_now(),
        model: m.model,
        choices: vec![Choice {
            index: 0,
            message: ResponseMessage {
                role: "assistant".into(),
                content: (!text.is_empty() || tool_calls.is_empty()).then_some(text),
                reasoning_content: (!reasoning.is_empty()).then_some(reasoning),
                thinking_blocks: (!thinking_blocks.is_empty()).then_some(thinking_blocks),
                tool_calls: (!tool_calls.is_empty()).then_some(tool_calls),
                extra: serde_json::Map::new(),
            },
            logprobs: None,
            finish_reason: Some(finish.into()),
        }],
        usage: Some(usage(&m.usage)),
        system_fingerprint: None,
        extra: serde_json::Map::new(),
    }
}

fn chat_id(message_id: &str) -> String {
    if message_id.is_empty() {
        format!("chatcmpl-{}", crate::chunks::fastrand_id())
    } else {
        format!("chatcmpl-{message_id}")
    }
}

/// Maps an Anthropic error type to the OpenAI `type` clients switch on.
pub fn openai_error_type(anthropic_type: &str, status: u16) -> String {
    match anthropic_type {
        "invalid_request_error" | "request_too_large" | "not_found_error" => {
            "invalid_request_error"
        }
        "authentication_error" => "authentication_error",
        "permission_error" | "billing_error" => "permission_error",
        "rate_limit_error" => "rate_limit_error",
        "timeout_error" => "timeout_error",
        _ => default_error_type(status),
    }
    .to_owned()
}

/// An `event: error` payload as an upstream error with the status Anthropic uses for its type.
pub fn stream_error(data: &str) -> UpstreamError {
    let body: Option<a::ErrorBody> = serde_json::from_str(data).ok();
    let (kind, message) = body.map_or_else(
        || ("api_error".to_owned(), data.chars().take(300).collect()),
        |b| (b.error.kind, b.error.message),
    );
    let status = match kind.as_str() {
        "invalid_request_error" => 400,
        "authentication_error" => 401,
        "billing_error" => 402,
        "permission_error" => 403,
        "not_found_error" => 404,
        "request_too_large" => 413,
        "rate_limit_error" => 429,
        "timeout_error" => 504,
        "overloaded_error" => 529,
        _ => 500,
    };
    UpstreamError::Status {
        status,
        kind: openai_error_type(&kind, status),
        code: Some(kind),
        param: None,
        message,
        retry_after: None,
    }
}

#[cfg(test)]
mod tests;
