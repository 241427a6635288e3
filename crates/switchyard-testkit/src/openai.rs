//! The OpenAI wire shapes the fake sends: chat completions (whole and streamed per
//! clients.md §3a), errors, embeddings and the model list. Pure rendering, no I/O.

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::content::{Resolved, split_arguments};
use crate::render::{json_event, json_vec};

#[derive(Serialize)]
struct Usage {
    prompt_tokens: u32,
    completion_tokens: u32,
    total_tokens: u32,
    prompt_tokens_details: PromptDetails,
    completion_tokens_details: CompletionDetails,
}

#[derive(Serialize)]
struct PromptDetails {
    cached_tokens: u32,
}

#[derive(Serialize)]
struct CompletionDetails {
    reasoning_tokens: u32,
}

impl Usage {
    fn of(r: &Resolved<'_>) -> Self {
        Self {
            prompt_tokens: r.prompt_tokens,
            completion_tokens: r.completion_tokens,
            total_tokens: r.prompt_tokens.saturating_add(r.completion_tokens),
            prompt_tokens_details: PromptDetails {
                cached_tokens: r.cached_tokens,
            },
            completion_tokens_details: CompletionDetails {
                reasoning_tokens: r.reasoning_tokens,
            },
        }
    }
}

#[derive(Serialize)]
struct Completion<'a> {
    id: &'a str,
    object: &'static str,
    created: u64,
    model: &'a str,
    choices: [Choice<'a>; 1],
    usage: Usage,
}

#[derive(Serialize)]
struct Choice<'a> {
    index: u32,
    message: Message<'a>,
    logprobs: (),
    finish_reason: &'a str,
}

#[derive(Serialize)]
struct Message<'a> {
    role: &'static str,
    content: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reasoning_content: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_calls: Vec<ToolCall<'a>>,
}

#[derive(Serialize)]
struct ToolCall<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    function: Function<'a>,
}

#[derive(Serialize)]
struct Function<'a> {
    name: &'a str,
    arguments: &'a str,
}

#[derive(Serialize)]
struct Chunk<'a> {
    id: &'a str,
    object: &'static str,
    created: u64,
    model: &'a str,
    choices: &'a [ChunkChoice<'a>],
    #[serde(skip_serializing_if = "Option::is_none")]
    usage: Option<Usage>,
}

#[derive(Serialize)]
struct ChunkChoice<'a> {
    index: u32,
    delta: Delta<'a>,
    logprobs: (),
    finish_reason: Option<&'a str>,
}

#[derive(Serialize, Default)]
struct Delta<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    role: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    content: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reasoning_content: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_calls: Option<[DeltaToolCall<'a>; 1]>,
}

#[derive(Serialize)]
struct DeltaToolCall<'a> {
    index: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    kind: Option<&'static str>,
    function: DeltaFunction<'a>,
}

#[derive(Serialize)]
struct DeltaFunction<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    arguments: &'a str,
}

fn completion_id(r: &Resolved<'_>) -> String {
    format!("chatcmpl-fake{}", r.request_index)
}

fn finish_reason<'a>(r: &'a Resolved<'_>) -> &'a str {
    r.finish_reason.unwrap_or(if r.tools.is_empty() {
        "stop"
    } else {
        "tool_calls"
    })
}

/// A whole `chat.completion` body.
pub(crate) fn completion_body(r: &Resolved<'_>) -> Vec<u8> {
    let id = completion_id(r);
    let content = if r.text.is_empty() && !r.tools.is_empty() {
        None
    } else {
        Some(&*r.text)
    };
    let body = Completion {
        id: &id,
        object: "chat.completion",
        created: r.created,
        model: r.model,
        choices: [Choice {
            index: 0,
            message: Message {
                role: "assistant",
                content,
                reasoning_content: r.reasoning,
                tool_calls: r
                    .tools
                    .iter()
                    .map(|t| ToolCall {
                        id: &t.id,
                        kind: "function",
                        function: Function {
                            name: t.name,
                            arguments: &t.arguments,
                        },
                    })
                    .collect(),
            },
            logprobs: (),
            finish_reason: finish_reason(r),
        }],
        usage: Usage::of(r),
    };
    json_vec(&body)
}

/// The SSE events of a streamed completion, `data: [DONE]` included, one event per element.
pub(crate) fn stream_events(r: &Resolved<'_>, include_usage: bool) -> Vec<Vec<u8>> {
    let id = completion_id(r);
    let mut events = Vec::new();
    let mut push = |delta: Delta<'_>, finish: Option<&str>| {
        let choices = [ChunkChoice {
            index: 0,
            delta,
            logprobs: (),
            finish_reason: finish,
        }];
        events.push(json_event(None, &chunk(r, &id, &choices, None)));
    };
    push(
        Delta {
            role: Some("assistant"),
            content: Some(""),
            ..Delta::default()
        },
        None,
    );
    for piece in r.reasoning_pieces() {
        push(
            Delta {
                reasoning_content: Some(piece),
                ..Delta::default()
            },
            None,
        );
    }
    for piece in r.text_pieces() {
        push(
            Delta {
                content: Some(piece),
                ..Delta::default()
            },
            None,
        );
    }
    for (index, tool) in r.tools.iter().enumerate() {
        push(
            Delta {
                tool_calls: Some([DeltaToolCall {
                    index,
                    id: Some(&tool.id),
                    kind: Some("function"),
                    function: DeltaFunction {
                        name: Some(tool.name),
                        arguments: "",
                    },
                }]),
                ..Delta::default()
            },
            None,
        );
        for piece in split_arguments(&tool.arguments) {
            push(
                Delta {
                    tool_calls: Some([DeltaToolCall {
                        index,
                        id: None,
                        kind: None,
                        function: DeltaFunction {
                            name: None,
                            arguments: piece,
                        },
                    }]),
                    ..Delta::default()
                },
                None,
            );
        }
    }
    push(Delta::default(), Some(finish_reason(r)));
    if include_usage {
        events.push(json_event(None, &chunk(r, &id, &[], Some(Usage::of(r)))));
    }
    events.push(DONE.to_vec());
    events
}

fn chunk<'a>(
    r: &'a Resolved<'_>,
    id: &'a str,
    choices: &'a [ChunkChoice<'a>],
    usage: Option<Usage>,
) -> Chunk<'a> {
    Chunk {
        id,
        object: "chat.completion.chunk",
        created: r.created,
        model: r.model,
        choices,
        usage,
    }
}

/// The event that ends an OpenAI-style stream.
pub(crate) const DONE: &[u8] = b"data: [DONE]\n\n";

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
}

#[derive(Serialize)]
struct ErrorDetail<'a> {
    message: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    param: (),
    code: Option<&'a str>,
}

/// `{"error":{message,type,param,code}}`; the type and code follow the status unless overridden.
pub(crate) fn error_body(status: u16, message: &str, error_type: Option<&str>) -> Vec<u8> {
    let (default_type, default_code) = match status {
        429 => ("requests", Some("rate_limit_exceeded")),
        401 => ("invalid_request_error", Some("invalid_api_key")),
        404 => ("invalid_request_error", Some("not_found")),
        500..=599 => ("server_error", None),
        _ => ("invalid_request_error", None),
    };
    json_vec(&ErrorBody {
        error: ErrorDetail {
            message,
            kind: error_type.unwrap_or(default_type),
            param: (),
            code: error_type.or(default_code),
        },
    })
}

/// The in-stream error event (`server_error`).
pub(crate) fn stream_error_event() -> Vec<u8> {
    let body = ErrorBody {
        error: ErrorDetail {
            message: "The server had an error while processing your request.",
            kind: "server_error",
            param: (),
            code: None,
        },
    };
    json_event(None, &body)
}

/// The models the fake lists, on `GET /v1/models` and (Ollama's shape) `GET /api/tags`.
pub(crate) const MODEL_IDS: &[&str] = &["fake-model"];

/// `GET /v1/models`.
pub(crate) fn models_body(created: u64) -> Vec<u8> {
    let data: Vec<serde_json::Value> = MODEL_IDS
        .iter()
        .map(|id| {
            serde_json::json!({"id": id, "object": "model", "created": created, "owned_by": "testkit"})
        })
        .collect();
    json_vec(&serde_json::json!({ "object": "list", "data": data }))
}

#[derive(Deserialize)]
struct EmbeddingsRequest {
    #[serde(default)]
    model: Option<String>,
    input: serde_json::Value,
    #[serde(default)]
    encoding_format: Option<String>,
}

/// A 2x2 PNG (red, green / blue, white), the image every fake generation returns.
pub(crate) const FAKE_PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x02, 0x08, 0x02, 0x00, 0x00, 0x00, 0xfd, 0xd4, 0x9a,
    0x73, 0x00, 0x00, 0x00, 0x12, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xc0,
    0x00, 0xc2, 0x0c, 0xff, 0x81, 0x00, 0x00, 0x1f, 0xee, 0x05, 0xfb, 0x0b, 0xd9, 0x68, 0x8b, 0x00,
    0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

/// `POST /v1/images/generations`: `n` copies of [`FAKE_PNG`], as `b64_json` (or a data URL in
/// `url` when `response_format` is `url`), with the prompt echoed as `revised_prompt`.
pub(crate) fn images_body(body: &[u8]) -> Result<Vec<u8>, String> {
    use base64::Engine as _;
    let req: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| format!("invalid images request: {e}"))?;
    let prompt = req
        .get("prompt")
        .and_then(serde_json::Value::as_str)
        .filter(|p| !p.is_empty())
        .ok_or("prompt: required")?;
    let n = req
        .get("n")
        .and_then(serde_json::Value::as_u64)
        .unwrap_or(1);
    if !(1..=10).contains(&n) {
        return Err("n: must be between 1 and 10".into());
    }
    let b64 = base64::engine::general_purpose::STANDARD.encode(FAKE_PNG);
    let as_url = req
        .get("response_format")
        .and_then(serde_json::Value::as_str)
        == Some("url");
    let item = if as_url {
        serde_json::json!({"url": format!("data:image/png;base64,{b64}"), "revised_prompt": prompt})
    } else {
        serde_json::json!({"b64_json": b64, "revised_prompt": prompt})
    };
    let data: Vec<serde_json::Value> = (0..n).map(|_| item.clone()).collect();
    Ok(json_vec(
        &serde_json::json!({"created": 1_700_000_000, "data": data}),
    ))
}

/// Dimension of the fake embeddings.
pub(crate) const EMBEDDING_DIM: usize = 8;

/// `POST /v1/embeddings`: one deterministic vector per input, floats or base64 as asked.
pub(crate) fn embeddings_body(body: &[u8]) -> Result<Vec<u8>, String> {
    let req: EmbeddingsRequest =
        serde_json::from_slice(body).map_err(|e| format!("invalid embeddings request: {e}"))?;
    let inputs = embedding_inputs(&req.input)?;
    let base64 = match req.encoding_format.as_deref() {
        None | Some("float") => false,
        Some("base64") => true,
        Some(other) => return Err(format!("unsupported encoding_format `{other}`")),
    };
    let data: Vec<Embedding> = inputs
        .iter()
        .enumerate()
        .map(|(index, text)| {
            let vector = fake_embedding(text);
            let embedding = if base64 {
                let bytes: Vec<u8> = vector.iter().flat_map(|v| v.to_le_bytes()).collect();
                Vector::Base64(base64::engine::general_purpose::STANDARD.encode(bytes))
            } else {
                Vector::Float(vector)
            };
            Embedding {
                object: "embedding",
                index,
                embedding,
            }
        })
        .collect();
    let tokens: usize = inputs.iter().map(|t| (t.len() / 4).max(1)).sum();
    Ok(json_vec(&Embeddings {
        object: "list",
        data,
        model: req.model.as_deref().unwrap_or("fake-embedding"),
        usage: EmbeddingUsage {
            prompt_tokens: tokens,
            total_tokens: tokens,
        },
    }))
}

#[derive(Serialize)]
struct Embeddings<'a> {
    object: &'static str,
    data: Vec<Embedding>,
    model: &'a str,
    usage: EmbeddingUsage,
}

#[derive(Serialize)]
struct Embedding {
    object: &'static str,
    index: usize,
    embedding: Vector,
}

#[derive(Serialize)]
#[serde(untagged)]
enum Vector {
    Float([f32; EMBEDDING_DIM]),
    Base64(String),
}

#[derive(Serialize)]
struct EmbeddingUsage {
    prompt_tokens: usize,
    total_tokens: usize,
}

/// The texts to embed: a string, strings, a token array, or token arrays (tokens joined by spaces).
fn embedding_inputs(input: &serde_json::Value) -> Result<Vec<String>, String> {
    use serde_json::Value;
    let tokens = |items: &[Value]| -> Option<String> {
        let ids: Option<Vec<String>> = items
            .iter()
            .map(|v| v.as_u64().map(|n| n.to_string()))
            .collect();
        ids.map(|ids| ids.join(" "))
    };
    match input {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) if items.iter().all(Value::is_number) && !items.is_empty() => {
            tokens(items).map(|t| vec![t]).ok_or_else(bad_input)
        }
        Value::Array(items) if !items.is_empty() => items
            .iter()
            .map(|item| match item {
                Value::String(s) => Ok(s.clone()),
                Value::Array(inner) => tokens(inner).ok_or_else(bad_input),
                _ => Err(bad_input()),
            })
            .collect(),
        _ => Err(bad_input()),
    }
}

fn bad_input() -> String {
    "`input` must be a string, an array of strings, or token arrays".to_owned()
}

/// A deterministic vector in [-1, 1] derived from a hash of `text`.
pub(crate) fn fake_embedding(text: &str) -> [f32; EMBEDDING_DIM] {
    // FNV-1a, then splitmix64 per component.
    let mut seed: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        seed ^= u64::from(b);
        seed = seed.wrapping_mul(0x0000_0100_0000_01b3);
    }
    let mut out = [0.0f32; EMBEDDING_DIM];
    for (i, slot) in out.iter_mut().enumerate() {
        let mut z = seed.wrapping_add((i as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15));
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        // 24 high bits -> [0, 1) -> [-1, 1)
        let unit = (z >> 40) as f32 / (1u64 << 24) as f32;
        *slot = unit * 2.0 - 1.0;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::{ParsedRequest, ReplyCtx};
    use crate::script::{Reply, ToolCallSpec};

    fn ctx() -> ReplyCtx {
        ReplyCtx {
            request_index: 3,
            created: 100,
            first_tool_number: 1,
        }
    }

    #[test]
    fn stream_has_one_kind_of_content_per_chunk() -> Result<(), serde_json::Error> {
        let req =
            ParsedRequest::parse(br#"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#);
        let reply = Reply {
            reasoning: Some("hmm".into()),
            tool_calls: vec![ToolCallSpec::new("f", serde_json::json!({"x": 1}))],
            ..Reply::default()
        };
        let r = Resolved::new(&reply, &req, ctx(), "call_");
        let events = stream_events(&r, true);
        assert_eq!(events.last().map(Vec::as_slice), Some(DONE));
        let chunks: Vec<serde_json::Value> = events[..events.len() - 1]
            .iter()
            .map(|e| serde_json::from_slice(&e[6..e.len() - 2]))
            .collect::<Result<_, _>>()?;
        for c in &chunks[1..] {
            if let Some(delta) = c["choices"][0]["delta"].as_object() {
                assert!(delta.len() <= 1, "{delta:?}");
                assert!(!delta.contains_key("role"));
            }
        }
        assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
        let usage = &chunks[chunks.len() - 1];
        assert_eq!(usage["choices"], serde_json::json!([]));
        assert_eq!(
            usage["usage"]["total_tokens"],
            r.prompt_tokens + r.completion_tokens
        );
        Ok(())
    }

    #[test]
    fn error_defaults_follow_status() -> Result<(), serde_json::Error> {
        let v: serde_json::Value = serde_json::from_slice(&error_body(429, "slow", None))?;
        assert_eq!(v["error"]["type"], "requests");
        assert_eq!(v["error"]["code"], "rate_limit_exceeded");
        assert!(v["error"]["param"].is_null());
        let v: serde_json::Value = serde_json::from_slice(&error_body(503, "down", None))?;
        assert_eq!(v["error"]["type"], "server_error");
        assert!(v["error"]["code"].is_null());
        Ok(())
    }

    #[test]
    fn embeddings_are_deterministic_and_bounded() {
        let a = fake_embedding("hello");
        assert_eq!(a, fake_embedding("hello"));
        assert_ne!(a, fake_embedding("hellp"));
        assert!(a.iter().all(|v| (-1.0..=1.0).contains(v)));
        assert!(embedding_inputs(&serde_json::json!([[1, 2], [3]])).is_ok_and(|v| v.len() == 2));
        assert!(embedding_inputs(&serde_json::json!([1, 2])).is_ok_and(|v| v == ["1 2"]));
        assert!(embedding_inputs(&serde_json::json!({})).is_err());
    }
}
