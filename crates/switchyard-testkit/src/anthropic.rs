//! The Anthropic wire shapes the fake sends: Messages (whole and streamed per clients.md §3c),
//! errors, token counts and the model list. Pure rendering, no I/O.

use serde::Serialize;

use crate::content::{Resolved, ResolvedTool, split_arguments};
use crate::render::{json_event, json_vec};

#[derive(Serialize)]
struct Usage {
    input_tokens: u32,
    output_tokens: u32,
    cache_creation_input_tokens: u32,
    cache_read_input_tokens: u32,
}

#[derive(Serialize)]
struct Message<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    role: &'static str,
    model: &'a str,
    content: Vec<Block<'a>>,
    stop_reason: Option<&'a str>,
    stop_sequence: Option<&'a str>,
    usage: Usage,
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Block<'a> {
    Thinking {
        thinking: &'a str,
        signature: &'a str,
    },
    Text {
        text: &'a str,
    },
    ToolUse {
        id: &'a str,
        name: &'a str,
        input: serde_json::Value,
    },
}

/// A block delta; the wire `type` is the variant name plus `_delta`.
#[derive(Serialize)]
#[serde(tag = "type")]
enum Delta<'a> {
    #[serde(rename = "thinking_delta")]
    Thinking { thinking: &'a str },
    #[serde(rename = "signature_delta")]
    Signature { signature: &'a str },
    #[serde(rename = "text_delta")]
    Text { text: &'a str },
    #[serde(rename = "input_json_delta")]
    InputJson { partial_json: &'a str },
}

#[derive(Serialize)]
struct StopDelta<'a> {
    stop_reason: &'a str,
    stop_sequence: Option<&'a str>,
}

#[derive(Serialize)]
struct OutputUsage {
    output_tokens: u32,
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Event<'a> {
    MessageStart {
        message: Message<'a>,
    },
    ContentBlockStart {
        index: usize,
        content_block: Block<'a>,
    },
    Ping,
    ContentBlockDelta {
        index: usize,
        delta: Delta<'a>,
    },
    ContentBlockStop {
        index: usize,
    },
    MessageDelta {
        delta: StopDelta<'a>,
        usage: OutputUsage,
    },
    MessageStop,
}

impl Event<'_> {
    fn name(&self) -> &'static str {
        match self {
            Self::MessageStart { .. } => "message_start",
            Self::ContentBlockStart { .. } => "content_block_start",
            Self::Ping => "ping",
            Self::ContentBlockDelta { .. } => "content_block_delta",
            Self::ContentBlockStop { .. } => "content_block_stop",
            Self::MessageDelta { .. } => "message_delta",
            Self::MessageStop => "message_stop",
        }
    }

    fn render(&self) -> Vec<u8> {
        json_event(Some(self.name()), self)
    }
}

fn message_id(r: &Resolved<'_>) -> String {
    format!("msg_fake{}", r.request_index)
}

fn stop_reason<'a>(r: &'a Resolved<'_>) -> &'a str {
    r.finish_reason.unwrap_or(if r.tools.is_empty() {
        "end_turn"
    } else {
        "tool_use"
    })
}

/// Whether the reply has a text block (always, unless it is empty and tools carry the answer).
fn has_text(r: &Resolved<'_>) -> bool {
    !r.text.is_empty() || r.tools.is_empty()
}

/// The tool input as an object; arguments that are not JSON are passed on as a string.
fn tool_input(tool: &ResolvedTool<'_>) -> serde_json::Value {
    serde_json::from_str(&tool.arguments)
        .unwrap_or_else(|_| serde_json::Value::String(tool.arguments.clone()))
}

fn usage(r: &Resolved<'_>, output_tokens: u32) -> Usage {
    Usage {
        input_tokens: r.prompt_tokens,
        output_tokens,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: r.cached_tokens,
    }
}

/// A whole Message body.
pub(crate) fn message_body(r: &Resolved<'_>) -> Vec<u8> {
    let id = message_id(r);
    let mut content = Vec::new();
    if let Some(thinking) = r.reasoning {
        content.push(Block::Thinking {
            thinking,
            signature: r.signature,
        });
    }
    if has_text(r) {
        content.push(Block::Text { text: &r.text });
    }
    for tool in &r.tools {
        content.push(Block::ToolUse {
            id: &tool.id,
            name: tool.name,
            input: tool_input(tool),
        });
    }
    json_vec(&Message {
        id: &id,
        kind: "message",
        role: "assistant",
        model: r.model,
        content,
        stop_reason: Some(stop_reason(r)),
        stop_sequence: None,
        usage: usage(r, r.completion_tokens),
    })
}

/// The SSE events of a streamed Message, one event per element (no `[DONE]`).
pub(crate) fn stream_events(r: &Resolved<'_>) -> Vec<Vec<u8>> {
    let id = message_id(r);
    let mut events = vec![
        Event::MessageStart {
            message: Message {
                id: &id,
                kind: "message",
                role: "assistant",
                model: r.model,
                content: Vec::new(),
                stop_reason: None,
                stop_sequence: None,
                usage: usage(r, 1),
            },
        }
        .render(),
        Event::Ping.render(),
    ];
    let mut index = 0;
    if r.reasoning.is_some() {
        events.push(
            Event::ContentBlockStart {
                index,
                content_block: Block::Thinking {
                    thinking: "",
                    signature: "",
                },
            }
            .render(),
        );
        for piece in r.reasoning_pieces() {
            let delta = Delta::Thinking { thinking: piece };
            events.push(Event::ContentBlockDelta { index, delta }.render());
        }
        let delta = Delta::Signature {
            signature: r.signature,
        };
        events.push(Event::ContentBlockDelta { index, delta }.render());
        events.push(Event::ContentBlockStop { index }.render());
        index += 1;
    }
    if has_text(r) {
        let content_block = Block::Text { text: "" };
        events.push(
            Event::ContentBlockStart {
                index,
                content_block,
            }
            .render(),
        );
        for piece in r.text_pieces() {
            let delta = Delta::Text { text: piece };
            events.push(Event::ContentBlockDelta { index, delta }.render());
        }
        events.push(Event::ContentBlockStop { index }.render());
        index += 1;
    }
    for tool in &r.tools {
        let content_block = Block::ToolUse {
            id: &tool.id,
            name: tool.name,
            input: serde_json::Value::Object(serde_json::Map::new()),
        };
        events.push(
            Event::ContentBlockStart {
                index,
                content_block,
            }
            .render(),
        );
        for piece in split_arguments(&tool.arguments) {
            let delta = Delta::InputJson {
                partial_json: piece,
            };
            events.push(Event::ContentBlockDelta { index, delta }.render());
        }
        events.push(Event::ContentBlockStop { index }.render());
        index += 1;
    }
    events.push(
        Event::MessageDelta {
            delta: StopDelta {
                stop_reason: stop_reason(r),
                stop_sequence: None,
            },
            usage: OutputUsage {
                output_tokens: r.completion_tokens,
            },
        }
        .render(),
    );
    events.push(Event::MessageStop.render());
    events
}

/// The Anthropic error type for a status (clients.md §3c).
fn error_type(status: u16) -> &'static str {
    match status {
        401 => "authentication_error",
        402 => "billing_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        504 => "timeout_error",
        529 => "overloaded_error",
        500..=599 => "api_error",
        _ => "invalid_request_error",
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    error: ErrorDetail<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    request_id: Option<&'a str>,
}

#[derive(Serialize)]
struct ErrorDetail<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    message: &'a str,
}

/// `{"type":"error","error":{type,message},"request_id":"req_…"}`.
pub(crate) fn error_body(
    status: u16,
    message: &str,
    kind: Option<&str>,
    request_index: usize,
) -> Vec<u8> {
    let request_id = format!("req_fake{request_index}");
    json_vec(&ErrorBody {
        kind: "error",
        error: ErrorDetail {
            kind: kind.unwrap_or(error_type(status)),
            message,
        },
        request_id: Some(&request_id),
    })
}

/// The in-stream `event: error` (`overloaded_error`).
pub(crate) fn stream_error_event() -> Vec<u8> {
    json_event(
        Some("error"),
        &ErrorBody {
            kind: "error",
            error: ErrorDetail {
                kind: "overloaded_error",
                message: "Overloaded",
            },
            request_id: None,
        },
    )
}

/// `GET /v1/models`.
pub(crate) fn models_body() -> Vec<u8> {
    json_vec(&serde_json::json!({
        "data": [{
            "type": "model",
            "id": "fake-model",
            "display_name": "Fake Model",
            "created_at": "2025-01-01T00:00:00Z",
        }],
        "has_more": false,
        "first_id": "fake-model",
        "last_id": "fake-model",
    }))
}

/// `POST /v1/messages/count_tokens`.
pub(crate) fn count_tokens_body(body_len: usize) -> Vec<u8> {
    json_vec(&serde_json::json!({ "input_tokens": (body_len / 4).max(1) }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::{ParsedRequest, ReplyCtx};
    use crate::script::{Reply, ToolCallSpec};

    #[test]
    fn stream_blocks_are_contiguous_and_named() -> Result<(), serde_json::Error> {
        let req = ParsedRequest::parse(
            br#"{"model":"claude","messages":[{"role":"user","content":"hi"}]}"#,
        );
        let reply = Reply {
            reasoning: Some("let me think".into()),
            tool_calls: vec![
                ToolCallSpec::new("a", serde_json::json!({"q": 1})),
                ToolCallSpec::new("b", serde_json::json!({})),
            ],
            ..Reply::default()
        };
        let ctx = ReplyCtx {
            request_index: 0,
            created: 0,
            first_tool_number: 1,
        };
        let r = Resolved::new(&reply, &req, ctx, "toolu_");
        let mut starts = Vec::new();
        for event in stream_events(&r) {
            let text = String::from_utf8_lossy(&event).into_owned();
            let (name_line, rest) = text.split_once('\n').unwrap_or_default();
            let data: serde_json::Value =
                serde_json::from_str(rest.trim_start_matches("data: ").trim_end())?;
            assert_eq!(
                name_line,
                format!("event: {}", data["type"].as_str().unwrap_or("?"))
            );
            if data["type"] == "content_block_start" {
                starts.push(data["index"].as_u64().unwrap_or(99));
            }
        }
        assert_eq!(starts, [0, 1, 2, 3]);
        let message: serde_json::Value = serde_json::from_slice(&message_body(&r))?;
        assert_eq!(message["stop_reason"], "tool_use");
        assert_eq!(message["content"][0]["signature"], "sig-fake");
        assert_eq!(message["content"][2]["input"]["q"], 1);
        Ok(())
    }

    #[test]
    fn error_types_follow_the_status_table() {
        assert_eq!(error_type(529), "overloaded_error");
        assert_eq!(error_type(503), "api_error");
        assert_eq!(error_type(429), "rate_limit_error");
        assert_eq!(error_type(400), "invalid_request_error");
    }
}
