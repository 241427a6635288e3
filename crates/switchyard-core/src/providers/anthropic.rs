//! The native Anthropic Messages API behind the OpenAI Chat Completions door: pure functions
//! that translate requests and answers both ways, and a translator for streams. Thinking blocks
//! keep their signatures (as `thinking_blocks`) so a conversation can continue across turns.

use futures_util::StreamExt as _;
use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::{Value, json};

use super::chunks::{ChunkFactory, unix_now};
use super::sse::SseDecoder;
use super::{ChunkStream, MAX_UPSTREAM_EVENT, Provider, from_reqwest, read_body};
use crate::config::ProviderKind;
use crate::error::UpstreamError;
use switchyard_dialects::anthropic::{
    self as a, BlockDelta, ContentBlock, ImageSource, MessagesRequest, MessagesResponse,
    StreamEvent, TextBlock,
};
use switchyard_dialects::openai::{
    ChatChunk, ChatRequest, ChatResponse, Choice, Content, FunctionCall, PromptTokensDetails,
    ResponseMessage, Role, ThinkingBlock, ToolCall, ToolChoice, Usage,
};

pub const ANTHROPIC_VERSION: &str = "2023-06-01";
/// Anthropic requires `max_tokens`; this is used when the client sent none.
pub const DEFAULT_MAX_TOKENS: u32 = 4096;

fn headers(p: &Provider) -> Result<HeaderMap, UpstreamError> {
    let mut h = HeaderMap::new();
    h.insert(
        "anthropic-version",
        HeaderValue::from_static(ANTHROPIC_VERSION),
    );
    p.authenticate(&mut h)?;
    Ok(h)
}

pub async fn chat(
    p: &Provider,
    req: &ChatRequest,
    model: &str,
) -> Result<ChatResponse, UpstreamError> {
    let body = to_messages_request(req, model, false)?;
    let answer_tool = body.answer_tool.clone();
    let body = serde_json::to_vec(&body).map_err(|e| UpstreamError::Protocol(e.to_string()))?;
    let response = p
        .post_json(&p.urls.messages, body, headers(p)?, ProviderKind::Anthropic)
        .await?;
    let body = read_body(response).await?;
    let message: MessagesResponse = serde_json::from_slice(&body).map_err(|e| {
        UpstreamError::Protocol(format!("the answer is not an Anthropic message: {e}"))
    })?;
    Ok(from_messages_response(message, answer_tool.as_deref()))
}

pub async fn chat_stream(
    p: &Provider,
    req: &ChatRequest,
    model: &str,
) -> Result<ChunkStream, UpstreamError> {
    let body = to_messages_request(req, model, true)?;
    let answer_tool = body.answer_tool.clone();
    let body = serde_json::to_vec(&body).map_err(|e| UpstreamError::Protocol(e.to_string()))?;
    let response = p
        .post_json(&p.urls.messages, body, headers(p)?, ProviderKind::Anthropic)
        .await?;
    let mut bytes = response.bytes_stream();
    let mut translator = StreamTranslator::new(model).answering_with(answer_tool);
    Ok(Box::pin(async_stream::try_stream! {
        let mut decoder = SseDecoder::new(MAX_UPSTREAM_EVENT);
        let mut events = Vec::new();
        let mut out = Vec::new();
        loop {
            let Some(piece) = bytes.next().await else {
                decoder.finish(&mut events).map_err(|e| UpstreamError::Protocol(e.to_string()))?;
                for event in events.drain(..) {
                    translator.event(&event.data, &mut out)?;
                }
                for chunk in out.drain(..) {
                    yield chunk;
                }
                break;
            };
            let piece = piece.map_err(|e| from_reqwest(&e))?;
            decoder.feed(&piece, &mut events).map_err(|e| UpstreamError::Protocol(e.to_string()))?;
            for event in events.drain(..) {
                translator.event(&event.data, &mut out)?;
            }
            for chunk in out.drain(..) {
                yield chunk;
            }
            if translator.stopped {
                break;
            }
        }
        translator.finish(&mut out)?;
        for chunk in out.drain(..) {
            yield chunk;
        }
    }))
}

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
            .map(switchyard_dialects::openai::Stop::into_vec)
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
        format!("chatcmpl-{}", super::chunks::fastrand_id())
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
        _ => super::default_error_type(status),
    }
    .to_owned()
}

/// Turns Anthropic stream events into chat chunks as they arrive.
#[derive(Debug)]
pub struct StreamTranslator {
    factory: ChunkFactory,
    started: bool,
    /// Block index → tool-call index, for tool_use blocks.
    tool_blocks: Vec<(u32, u32)>,
    /// The tool forced to carry a JSON answer, and the block index of its call: its input is
    /// streamed as content.
    answer_tool: Option<String>,
    answer_block: Option<u32>,
    thinking: Option<(String, String)>,
    /// Finished thinking blocks with their signatures, sent once before the finish chunk.
    signed: Vec<ThinkingBlock>,
    usage: a::Usage,
    stop_reason: Option<String>,
    pub stopped: bool,
}

impl StreamTranslator {
    pub fn new(model: &str) -> Self {
        Self {
            factory: ChunkFactory::new(String::new(), unix_now(), model.to_owned()),
            started: false,
            tool_blocks: Vec::new(),
            answer_tool: None,
            answer_block: None,
            thinking: None,
            signed: Vec::new(),
            usage: a::Usage::default(),
            stop_reason: None,
            stopped: false,
        }
    }

    /// Streams the input of this tool's call as the answer's content.
    #[must_use]
    pub fn answering_with(mut self, answer_tool: Option<String>) -> Self {
        self.answer_tool = answer_tool;
        self
    }

    pub fn event(&mut self, data: &str, out: &mut Vec<ChatChunk>) -> Result<(), UpstreamError> {
        let event: StreamEvent = serde_json::from_str(data).map_err(|e| {
            let excerpt: String = data.chars().take(120).collect();
            UpstreamError::Protocol(format!("unreadable Anthropic event ({e}): {excerpt}"))
        })?;
        match event {
            StreamEvent::MessageStart { message } => {
                self.factory.id = chat_id(&message.id);
                if !message.model.is_empty() {
                    self.factory.model = message.model;
                }
                self.usage = message.usage;
                self.started = true;
                out.push(self.factory.role(0));
            }
            StreamEvent::ContentBlockStart {
                index,
                content_block,
            } => {
                self.require_start()?;
                match content_block {
                    ContentBlock::ToolUse { name, .. }
                        if self.answer_tool.as_deref() == Some(name.as_str()) =>
                    {
                        self.answer_block = Some(index);
                    }
                    ContentBlock::ToolUse { id, name, .. } => {
                        let call = u32::try_from(self.tool_blocks.len()).unwrap_or(u32::MAX);
                        self.tool_blocks.push((index, call));
                        out.push(self.factory.tool_start(0, call, id, name));
                    }
                    ContentBlock::Text { text, .. } if !text.is_empty() => {
                        out.push(self.factory.content(0, text));
                    }
                    ContentBlock::Thinking { thinking, .. } => {
                        if !thinking.is_empty() {
                            out.push(self.factory.reasoning(0, thinking.clone()));
                        }
                        self.thinking = Some((thinking, String::new()));
                    }
                    ContentBlock::RedactedThinking { data } => {
                        self.signed.push(ThinkingBlock {
                            kind: "redacted_thinking".into(),
                            thinking: None,
                            signature: None,
                            data: Some(data),
                        });
                    }
                    _ => {}
                }
            }
            StreamEvent::ContentBlockDelta { index, delta } => {
                self.require_start()?;
                match delta {
                    BlockDelta::TextDelta { text } if !text.is_empty() => {
                        out.push(self.factory.content(0, text))
                    }
                    BlockDelta::ThinkingDelta { thinking } if !thinking.is_empty() => {
                        if let Some((all, _)) = &mut self.thinking {
                            all.push_str(&thinking);
                        }
                        out.push(self.factory.reasoning(0, thinking));
                    }
                    BlockDelta::SignatureDelta { signature } => {
                        if let Some((_, sig)) = &mut self.thinking {
                            sig.push_str(&signature);
                        }
                    }
                    BlockDelta::InputJsonDelta { partial_json }
                        if !partial_json.is_empty() && self.answer_block == Some(index) =>
                    {
                        out.push(self.factory.content(0, partial_json));
                    }
                    BlockDelta::InputJsonDelta { partial_json } if !partial_json.is_empty() => {
                        if let Some(&(_, call)) = self.tool_blocks.iter().find(|(b, _)| *b == index)
                        {
                            out.push(self.factory.tool_args(0, call, partial_json));
                        }
                    }
                    _ => {}
                }
            }
            StreamEvent::ContentBlockStop { .. } => {
                if let Some((thinking, signature)) = self.thinking.take() {
                    self.signed.push(ThinkingBlock {
                        kind: "thinking".into(),
                        thinking: Some(thinking),
                        signature: Some(signature),
                        data: None,
                    });
                }
            }
            StreamEvent::MessageDelta { delta, usage } => {
                if let Some(reason) = delta.stop_reason {
                    self.stop_reason = Some(reason);
                }
                if let Some(u) = usage {
                    merge_usage(&mut self.usage, &u);
                }
            }
            StreamEvent::MessageStop => {
                self.require_start()?;
                self.stopped = true;
                if !self.signed.is_empty() {
                    // All signed blocks in one delta: stream accumulators (openai-python's
                    // merges lists by index, openai-node's replaces them) then keep them all.
                    out.push(
                        self.factory
                            .thinking_blocks(0, std::mem::take(&mut self.signed)),
                    );
                }
                let mut reason = finish_reason(self.stop_reason.as_deref());
                if self.answer_block.is_some()
                    && self.tool_blocks.is_empty()
                    && reason == "tool_calls"
                {
                    reason = "stop";
                }
                out.push(self.factory.finish(0, reason.into()));
                out.push(self.factory.usage(usage(&self.usage)));
            }
            StreamEvent::Error { error } => {
                let status = match error.kind.as_str() {
                    "overloaded_error" => 529,
                    "rate_limit_error" => 429,
                    "invalid_request_error" => 400,
                    _ => 500,
                };
                return Err(UpstreamError::Status {
                    status,
                    kind: openai_error_type(&error.kind, status),
                    code: Some(error.kind),
                    param: None,
                    message: error.message,
                    retry_after: None,
                });
            }
            StreamEvent::Ping | StreamEvent::Unknown => {}
        }
        Ok(())
    }

    fn require_start(&self) -> Result<(), UpstreamError> {
        if self.started {
            Ok(())
        } else {
            Err(UpstreamError::Protocol(
                "the Anthropic stream did not start with message_start".into(),
            ))
        }
    }

    /// The upstream closed the stream: fine after `message_stop`, a truncation otherwise.
    pub fn finish(&mut self, _out: &mut Vec<ChatChunk>) -> Result<(), UpstreamError> {
        if self.stopped {
            Ok(())
        } else {
            Err(UpstreamError::Io(
                "the Anthropic stream ended before message_stop".into(),
            ))
        }
    }
}

fn merge_usage(total: &mut a::Usage, delta: &a::Usage) {
    if delta.input_tokens.is_some() {
        total.input_tokens = delta.input_tokens;
    }
    if delta.output_tokens.is_some() {
        total.output_tokens = delta.output_tokens;
    }
    if delta.cache_creation_input_tokens.is_some() {
        total.cache_creation_input_tokens = delta.cache_creation_input_tokens;
    }
    if delta.cache_read_input_tokens.is_some() {
        total.cache_read_input_tokens = delta.cache_read_input_tokens;
    }
}

#[cfg(test)]
mod tests;
