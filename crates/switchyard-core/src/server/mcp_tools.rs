//! What the gateway's own MCP server (`/mcp`) does: generate images, understand images, list
//! models and run one chat completion, each through the gateway's routing and failover, held to
//! the caller's key like `/v1` and logged like `/v1` (one row per tool call that uses a model,
//! at `/mcp/tools/NAME`). The MCP protocol side is in `mcp::serve`; where images may be read
//! from is in [`sources`].

mod sources;

use std::sync::Arc;

use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse as _, Response};
use base64::Engine as _;
use serde_json::{Value, json};

use super::AppState;
use super::auth::Caller;
use super::chat::ChatAnswer;
use crate::error::{ApiError, ErrorCode};
use crate::mcp::serve::{Backend, BoxFuture, Endpoint, EndpointSettings, ToolReply, ToolSpec};
use crate::record::Draft;
use crate::routing::{Needs, failover};
use switchyard_dialects::openai::{ChatRequest, ChatResponse};

/// The `/mcp` route: rmcp's streamable HTTP service with our tools behind it, its refusals in
/// our error shape.
pub fn service(state: &Arc<AppState>) -> axum::routing::MethodRouter<Arc<AppState>> {
    let config = state.runtime.load().config.clone();
    let endpoint = Arc::new(Endpoint::new(
        Arc::new(GatewayTools {
            state: Arc::downgrade(state),
            fetcher: Arc::default(),
        }),
        state.mcp_stop.clone(),
        EndpointSettings {
            max_sessions: config.mcp.max_sessions,
            session_idle: config.mcp.session_idle,
            max_body_bytes: config.limits.max_body_bytes,
        },
    ));
    let limit = config.limits.max_body_bytes;
    axum::routing::any(move |req: Request| {
        let endpoint = endpoint.clone();
        async move { in_our_shape(endpoint.handle(req).await, limit).await }
    })
}

/// rmcp answers some refusals in plain text or with an empty body (a 413, a missing session, a
/// body that is not JSON): they become our JSON error, as the guard's refusals on `/mcp` are.
/// JSON-RPC errors, which MCP clients read, are kept.
async fn in_our_shape(response: Response, max_body_bytes: usize) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let allow = response.headers().get(header::ALLOW).cloned();
    let text = axum::body::to_bytes(response.into_body(), 16 * 1024)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
        .unwrap_or_default();
    let error = match status {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::of(
            ErrorCode::RequestTooLarge,
            format!(
                "The request body is larger than {max_body_bytes} bytes; limits.max_body_bytes raises the limit."
            ),
        ),
        StatusCode::NOT_FOUND => ApiError::of(
            ErrorCode::McpSessionNotFound,
            "This MCP session is unknown or has ended (sessions end after mcp.session_idle_ms without a request, or to make room past mcp.max_sessions); initialize a new one.",
        ),
        // rmcp says 415 for a body that is not a JSON-RPC message.
        StatusCode::UNSUPPORTED_MEDIA_TYPE if text.starts_with("fail to deserialize") => {
            ApiError::of(
                ErrorCode::InvalidJson,
                format!(
                    "The body is not a JSON-RPC message: {}",
                    text.trim_start_matches("fail to deserialize request body")
                        .trim()
                ),
            )
        }
        StatusCode::SERVICE_UNAVAILABLE => ApiError::of(ErrorCode::McpSessionsFull, text)
            .with_retry_after(Some(std::time::Duration::from_secs(1))),
        StatusCode::BAD_REQUEST if text.contains("Session ID is required") => ApiError::of(
            ErrorCode::McpSessionRequired,
            "This request needs the Mcp-Session-Id header that the answer to initialize gave; initialize first.",
        ),
        _ => {
            let kind = if status.is_server_error() {
                "server_error"
            } else {
                "invalid_request_error"
            };
            let message = match text.split_once(": ") {
                Some((_, rest)) if !rest.is_empty() => rest.to_owned(),
                _ if text.is_empty() => status.canonical_reason().unwrap_or("refused").to_owned(),
                _ => text,
            };
            ApiError::passthrough(status, kind, format!("MCP: {message}"))
        }
    };
    let mut response = error.into_response();
    if let Some(allow) = allow {
        response.headers_mut().insert(header::ALLOW, allow);
    }
    response
}

struct GatewayTools {
    /// Weak: the state owns the router that owns this.
    state: std::sync::Weak<AppState>,
    /// Fetches images for both image tools; its clients are built once.
    fetcher: Arc<sources::Fetcher>,
}

/// Who called a tool, from the HTTP request that carried the call.
#[derive(Debug, Clone, Default)]
struct CallerInfo {
    caller: Option<Caller>,
    user_agent: Option<String>,
}

impl Backend for GatewayTools {
    fn tools(&self) -> Vec<ToolSpec> {
        vec![
            ToolSpec {
                name: "generate_image",
                description: "Generate images from a text prompt with an image model the gateway routes to. \
                    The files are written under the gateway's data folder and their paths returned; \
                    set inline to also get the image data.",
                input_schema: json!({
                    "type": "object",
                    "properties": {
                        "prompt": {"type": "string", "description": "What to draw."},
                        "model": {"type": "string", "description": "An image model id; default: the first model that can generate images."},
                        "n": {"type": "integer", "minimum": 1, "maximum": 4, "default": 1},
                        "size": {"type": "string", "description": "e.g. 1024x1024"},
                        "inline": {"type": "boolean", "default": false, "description": "Also return the image data in the result."}
                    },
                    "required": ["prompt"]
                }),
            },
            ToolSpec {
                name: "understand_image",
                description: "Describe an image with a vision model: a description, the text in it (OCR), \
                    the objects with their boxes in the image's own pixel coordinates, and the scene. \
                    The image is a file in the gateway's images folder or a folder the user allowed, \
                    a public http(s) URL, or a data: URL.",
                input_schema: json!({
                    "type": "object",
                    "properties": {
                        "image": {"type": "string", "description": "An absolute file path, an http(s) URL or a data: URL."},
                        "prompt": {"type": "string", "description": "What to look for; default: describe everything."},
                        "model": {"type": "string", "description": "A vision model id; default: the first model that accepts images."}
                    },
                    "required": ["image"]
                }),
            },
            ToolSpec {
                name: "list_models",
                description: "List the models (and aliases and assistants) the gateway routes, with what each can do.",
                input_schema: json!({"type": "object", "properties": {}}),
            },
            ToolSpec {
                name: "chat",
                description: "Ask a model for one chat completion through the gateway's routing and failover.",
                input_schema: json!({
                    "type": "object",
                    "properties": {
                        "model": {"type": "string", "description": "A model id, alias or assistant (list_models names them)."},
                        "prompt": {"type": "string", "description": "The user message."},
                        "system": {"type": "string"},
                        "messages": {"type": "array", "description": "A whole conversation in OpenAI's shape, instead of prompt.", "items": {"type": "object"}},
                        "max_tokens": {"type": "integer", "minimum": 1},
                        "temperature": {"type": "number"}
                    },
                    "required": ["model"]
                }),
            },
        ]
    }

    fn call(
        &self,
        name: String,
        arguments: Value,
        request: Option<&http::request::Parts>,
    ) -> BoxFuture<ToolReply> {
        let state = self.state.upgrade();
        let who = CallerInfo {
            caller: request.and_then(|p| p.extensions.get::<Caller>().cloned()),
            user_agent: request
                .and_then(|p| p.headers.get(header::USER_AGENT))
                .and_then(|v| v.to_str().ok())
                .map(|s| s.chars().take(256).collect()),
        };
        let fetcher = self.fetcher.clone();
        Box::pin(async move {
            let Some(state) = state else {
                return ToolReply::error("the gateway is shutting down");
            };
            if name == "list_models" {
                return list_models(&state, who.caller.as_ref());
            }
            let (draft, ticket) = super::recording::open(
                &state,
                "POST".to_owned(),
                format!("/mcp/tools/{name}"),
                who.user_agent.clone(),
                who.caller
                    .as_ref()
                    .and_then(|c| c.key_name().map(str::to_owned)),
            );
            draft.update(|d| {
                d.request_body = serde_json::to_vec(&arguments).ok().map(Into::into);
            });
            let result = match name.as_str() {
                "generate_image" => {
                    generate_image(&state, &fetcher, &who, &arguments, &draft).await
                }
                "understand_image" => {
                    understand_image(&state, &fetcher, &who, &arguments, &draft).await
                }
                "chat" => chat(&state, &who, &arguments, &draft).await,
                other => Err(ApiError::invalid_request(format!("unknown tool {other:?}"))),
            };
            match result {
                Ok(reply) => {
                    ticket.finish(StatusCode::OK);
                    reply
                }
                Err(e) => {
                    draft.update(|d| {
                        d.error = Some(e.message().to_owned());
                        d.response_body = Some(e.render());
                        if d.attempts.is_empty() {
                            d.attempts.clone_from(&e.inner().attempts);
                        }
                    });
                    ticket.finish(e.status());
                    ToolReply::error(e.message())
                }
            }
        })
    }
}

fn str_arg<'a>(args: &'a Value, name: &str) -> Option<&'a str> {
    args.get(name)
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
}

/// The models this caller may use, as `/v1/models` lists them for its key.
fn list_models(state: &AppState, caller: Option<&Caller>) -> ToolReply {
    let runtime = state.runtime.load();
    let visible: Vec<_> = runtime
        .models
        .data
        .iter()
        .filter(|c| caller.is_none_or(|k| k.check_model(&c.id).is_ok()))
        .collect();
    let models: Vec<Value> = visible
        .iter()
        .map(|c| {
            json!({
                "id": c.id,
                "provider": c.provider,
                "targets": c.targets,
                "assistant": c.assistant,
                "capabilities": c.capabilities,
            })
        })
        .collect();
    let text = if models.is_empty() && runtime.models.data.is_empty() {
        "No models are configured.".to_owned()
    } else if models.is_empty() {
        "This key may use none of the configured models; an admin can add some to its model list."
            .to_owned()
    } else {
        visible
            .iter()
            .map(|c| c.id.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    };
    ToolReply {
        text,
        structured: Some(json!({ "models": models })),
        ..ToolReply::default()
    }
}

/// The first model this caller may use whose capabilities have this flag (`vision`,
/// `image_generation`).
fn first_with(state: &AppState, caller: Option<&Caller>, flag: &str) -> Option<String> {
    let runtime = state.runtime.load();
    runtime
        .models
        .data
        .iter()
        .find(|c| {
            c.assistant.is_none()
                && caller.is_none_or(|k| k.check_model(&c.id).is_ok())
                && c.capabilities
                    .as_ref()
                    .and_then(|cap| cap.get(flag))
                    .and_then(Value::as_bool)
                    == Some(true)
        })
        .map(|c| c.id.clone())
}

/// The model named in the arguments, or the default for `flag`, checked against the caller's
/// key exactly as `/v1` checks it, and noted in the log.
fn pick_model(
    state: &AppState,
    who: &CallerInfo,
    named: Option<&str>,
    flag: &str,
    none: &str,
    draft: &Draft,
) -> Result<String, ApiError> {
    let model = match named {
        Some(m) => m.to_owned(),
        None => first_with(state, who.caller.as_ref(), flag)
            .ok_or_else(|| ApiError::invalid_request(none).with_param("model"))?,
    };
    draft.update(|d| d.requested_model = Some(model.clone()));
    if let Some(caller) = &who.caller {
        caller.check_model(&model)?;
    }
    Ok(model)
}

/// One whole chat completion through the chat door's business function (or an assistant's
/// tool loop), its JSON kept in the request log as the HTTP door keeps it.
async fn chat_once(
    state: &Arc<AppState>,
    body: Value,
    draft: &Draft,
) -> Result<ChatResponse, ApiError> {
    let mut req: ChatRequest = serde_json::from_value(body)
        .map_err(|e| ApiError::invalid_request(format!("not a chat request: {e}")))?;
    // An assistant runs its whole tool loop, as it would for any client.
    let answer = match super::agent::plan(state, &mut req)? {
        Some(plan) => super::agent::run(state, req, plan, draft).await,
        None => super::chat::chat(state, req, draft).await,
    }?;
    let ChatAnswer::Whole { response, .. } = answer else {
        return Err(ApiError::internal(
            "the answer is not JSON: a stream came back",
        ));
    };
    let body = serde_json::to_vec(&response).map_err(|e| ApiError::internal(e.to_string()))?;
    draft.update(|d| d.response_body = Some(body.into()));
    Ok(response)
}

fn answer_text(answer: &ChatResponse) -> String {
    answer
        .choices
        .first()
        .and_then(|c| c.message.content.clone())
        .unwrap_or_default()
}

async fn chat(
    state: &Arc<AppState>,
    who: &CallerInfo,
    args: &Value,
    draft: &Draft,
) -> Result<ToolReply, ApiError> {
    let model = str_arg(args, "model").ok_or_else(|| {
        ApiError::invalid_request("model: name a model (list_models names them)")
            .with_param("model")
    })?;
    let model = pick_model(state, who, Some(model), "", "", draft)?;
    let mut messages: Vec<Value> = match args.get("messages") {
        Some(Value::Array(m)) if !m.is_empty() => m.clone(),
        _ => {
            let prompt = str_arg(args, "prompt").ok_or_else(|| {
                ApiError::invalid_request("give a prompt or messages").with_param("prompt")
            })?;
            vec![json!({"role": "user", "content": prompt})]
        }
    };
    if let Some(system) = str_arg(args, "system") {
        messages.insert(0, json!({"role": "system", "content": system}));
    }
    let mut body = json!({"model": model, "messages": messages});
    for key in ["max_tokens", "temperature"] {
        if let Some(v) = args.get(key) {
            body[key] = v.clone();
        }
    }
    let answer = chat_once(state, body, draft).await?;
    Ok(ToolReply {
        text: answer_text(&answer),
        structured: Some(json!({
            "model": answer.model,
            "content": answer_text(&answer),
            "finish_reason": answer.choices.first().map(|c| &c.finish_reason),
            "usage": answer.usage,
        })),
        ..ToolReply::default()
    })
}

async fn generate_image(
    state: &Arc<AppState>,
    fetcher: &sources::Fetcher,
    who: &CallerInfo,
    args: &Value,
    draft: &Draft,
) -> Result<ToolReply, ApiError> {
    let prompt = str_arg(args, "prompt").ok_or_else(|| {
        ApiError::invalid_request("prompt: say what to draw").with_param("prompt")
    })?;
    let model = pick_model(
        state,
        who,
        str_arg(args, "model"),
        "image_generation",
        "no configured model you may use generates images; add one (e.g. gpt-image-1) or name it in `model`",
        draft,
    )?;
    let n = args
        .get("n")
        .and_then(Value::as_u64)
        .unwrap_or(1)
        .clamp(1, 4);
    let mut body = json!({"prompt": prompt, "n": n, "response_format": "b64_json"});
    if let Some(size) = str_arg(args, "size") {
        body["size"] = json!(size);
    }
    let (runtime, route, deadline) = super::doors::route(state, &model)?;
    let body = &body;
    let ok = failover::execute(
        &route,
        &Needs::default(),
        &runtime.config.retry,
        deadline,
        |t| t.provider.images_generate(body, &t.model),
    )
    .await?;
    super::note_target(draft, &runtime, &ok);
    let answer = ok.value;
    let dir = runtime.config.data_dir.join("images");
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(|e| ApiError::internal(format!("cannot create {}: {e}", dir.display())))?;
    let stamp = crate::record::now_ms();
    let mut paths = Vec::new();
    let mut images = Vec::new();
    for (i, item) in answer
        .get("data")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let bytes = if let Some(b64) = item.get("b64_json").and_then(Value::as_str) {
            base64::engine::general_purpose::STANDARD
                .decode(b64)
                .map_err(|e| upstream(format!("the model sent bad base64: {e}")))?
        } else if let Some(url) = item.get("url").and_then(Value::as_str) {
            // The provider's URL is fetched like a caller's: public addresses only, by default.
            fetcher
                .fetch(url, runtime.config.mcp.allow_private_urls)
                .await
                .map_err(|e| upstream(e.message().to_owned()))?
        } else {
            continue;
        };
        let (mime, ext) = match image_info(&bytes) {
            Some(info) => (info.mime, info.ext),
            None => ("image/png", "png"),
        };
        let path = dir.join(format!("img_{stamp}_{i}.{ext}"));
        tokio::fs::write(&path, &bytes)
            .await
            .map_err(|e| ApiError::internal(format!("cannot write {}: {e}", path.display())))?;
        paths.push(path.display().to_string());
        if args.get("inline").and_then(Value::as_bool) == Some(true) {
            images.push((
                base64::engine::general_purpose::STANDARD.encode(&bytes),
                mime.to_owned(),
            ));
        }
    }
    if paths.is_empty() {
        return Err(upstream("the model answered without any image".into()));
    }
    draft.update(|d| {
        d.response_body = serde_json::to_vec(&json!({"paths": paths}))
            .ok()
            .map(Into::into);
    });
    Ok(ToolReply {
        text: paths.join("\n"),
        structured: Some(json!({ "model": ok.target.label, "paths": paths })),
        images,
        is_error: false,
    })
}

fn upstream(message: String) -> ApiError {
    ApiError::of(ErrorCode::UpstreamError, message)
}

/// The image bytes a caller named, from wherever it may read them.
async fn load_image(
    state: &AppState,
    fetcher: &sources::Fetcher,
    source: &str,
) -> Result<Vec<u8>, ApiError> {
    if let Some(rest) = source.strip_prefix("data:") {
        let (_, data) = rest.split_once(";base64,").ok_or_else(|| {
            ApiError::invalid_request("image: a data: URL must be base64 (data:image/png;base64,…)")
                .with_param("image")
        })?;
        if data.len() / 4 * 3 > sources::MAX_IMAGE_BYTES {
            return Err(ApiError::of(
                ErrorCode::ImageTooLarge,
                format!(
                    "image: the data: URL holds more than {} MB",
                    sources::MAX_IMAGE_BYTES / 1024 / 1024
                ),
            )
            .with_param("image"));
        }
        return base64::engine::general_purpose::STANDARD
            .decode(data.trim())
            .map_err(|e| {
                ApiError::invalid_request(format!("image: bad base64 in the data: URL: {e}"))
                    .with_param("image")
            });
    }
    let runtime = state.runtime.load();
    let settings = &runtime.config.mcp;
    if source.contains("://") && !source.starts_with("file:") {
        return fetcher.fetch(source, settings.allow_private_urls).await;
    }
    let roots = sources::allowed_folders(&runtime.config.data_dir, &settings.image_folders);
    sources::read_file(source, &roots).await
}

const UNDERSTAND_PROMPT: &str = "Look at the image and answer with one JSON object only, no prose: \
{\"description\": string, \"text\": string (all text in the image, verbatim, empty if none), \
\"objects\": [{\"label\": string, \"box\": [x, y, width, height] in pixels of the image as given}], \
\"scene\": string}.";

async fn understand_image(
    state: &Arc<AppState>,
    fetcher: &sources::Fetcher,
    who: &CallerInfo,
    args: &Value,
    draft: &Draft,
) -> Result<ToolReply, ApiError> {
    let source = str_arg(args, "image").ok_or_else(|| {
        ApiError::invalid_request("image: give a file path, URL or data: URL").with_param("image")
    })?;
    // The model first: a caller whose key may not use it learns nothing about files or URLs.
    let model = pick_model(
        state,
        who,
        str_arg(args, "model"),
        "vision",
        "no configured model you may use accepts images; add a vision model or name it in `model`",
        draft,
    )?;
    let bytes = load_image(state, fetcher, source).await?;
    let info = image_info(&bytes).ok_or_else(|| {
        ApiError::invalid_request(
            "image: that is not a PNG, JPEG, GIF or WebP image (or its header is damaged)",
        )
        .with_param("image")
    })?;
    let mut prompt = UNDERSTAND_PROMPT.to_owned();
    prompt.push_str(&format!(
        " The image is {}x{} pixels.",
        info.width, info.height
    ));
    if let Some(extra) = str_arg(args, "prompt") {
        prompt.push_str(" Also: ");
        prompt.push_str(extra);
    }
    let data_url = format!(
        "data:{};base64,{}",
        info.mime,
        base64::engine::general_purpose::STANDARD.encode(&bytes)
    );
    let body = json!({
        "model": model,
        "messages": [{"role": "user", "content": [
            {"type": "text", "text": prompt},
            {"type": "image_url", "image_url": {"url": data_url}}
        ]}]
    });
    let answer = chat_once(state, body, draft).await?;
    let text = answer_text(&answer);
    let parsed = parse_json_reply(&text);
    let field = |k: &str| parsed.as_ref().and_then(|p| p.get(k)).cloned();
    let description = field("description")
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| text.clone());
    let structured = json!({
        "description": description,
        "text": field("text").unwrap_or(json!("")),
        "objects": field("objects").unwrap_or(json!([])),
        "scene": field("scene").unwrap_or(json!("")),
        "width": info.width,
        "height": info.height,
        "mime_type": info.mime,
        "model": answer.model,
    });
    Ok(ToolReply {
        text: description,
        structured: Some(structured),
        ..ToolReply::default()
    })
}

/// The JSON object in a model's reply, with or without a code fence around it.
fn parse_json_reply(text: &str) -> Option<Value> {
    let start = text.find('{')?;
    let end = text.rfind('}')?;
    serde_json::from_str::<Value>(text.get(start..=end)?)
        .ok()
        .filter(Value::is_object)
}

#[derive(Debug, PartialEq, Eq)]
struct ImageInfo {
    mime: &'static str,
    ext: &'static str,
    width: u32,
    height: u32,
}

/// The type and pixel size of a PNG, JPEG, GIF or WebP image, read from its header.
fn image_info(b: &[u8]) -> Option<ImageInfo> {
    let be16 = |i: usize| Some(u32::from(u16::from_be_bytes([*b.get(i)?, *b.get(i + 1)?])));
    let le16 = |i: usize| Some(u32::from(u16::from_le_bytes([*b.get(i)?, *b.get(i + 1)?])));
    let be32 = |i: usize| {
        Some(u32::from_be_bytes([
            *b.get(i)?,
            *b.get(i + 1)?,
            *b.get(i + 2)?,
            *b.get(i + 3)?,
        ]))
    };
    let info = |mime, ext, width, height| {
        Some(ImageInfo {
            mime,
            ext,
            width,
            height,
        })
    };
    if b.starts_with(b"\x89PNG\r\n\x1a\n") {
        return info("image/png", "png", be32(16)?, be32(20)?);
    }
    if b.starts_with(b"GIF87a") || b.starts_with(b"GIF89a") {
        return info("image/gif", "gif", le16(6)?, le16(8)?);
    }
    if b.len() > 30 && b.starts_with(b"RIFF") && &b[8..12] == b"WEBP" {
        let le24 = |i: usize| Some(le16(i)? | (u32::from(*b.get(i + 2)?) << 16));
        return match &b[12..16] {
            b"VP8X" => info("image/webp", "webp", le24(24)? + 1, le24(27)? + 1),
            b"VP8L" => {
                let bits = u32::from_le_bytes([b[21], b[22], b[23], b[24]]);
                info(
                    "image/webp",
                    "webp",
                    (bits & 0x3fff) + 1,
                    ((bits >> 14) & 0x3fff) + 1,
                )
            }
            b"VP8 " => info("image/webp", "webp", le16(26)? & 0x3fff, le16(28)? & 0x3fff),
            _ => None,
        };
    }
    if b.starts_with(&[0xff, 0xd8]) {
        // Walk the segments to the first start-of-frame marker.
        let mut i = 2;
        while i + 9 < b.len() {
            if b[i] != 0xff {
                return None;
            }
            let marker = b[i + 1];
            if marker == 0xff {
                i += 1;
                continue;
            }
            let len = usize::try_from(be16(i + 2)?).ok()?;
            let sof = matches!(marker, 0xc0..=0xcf) && !matches!(marker, 0xc4 | 0xc8 | 0xcc);
            if sof {
                return info("image/jpeg", "jpg", be16(i + 7)?, be16(i + 5)?);
            }
            i += 2 + len;
        }
        return None;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_sizes_from_image_headers() {
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        png.extend_from_slice(&640u32.to_be_bytes());
        png.extend_from_slice(&480u32.to_be_bytes());
        assert_eq!(
            image_info(&png),
            Some(ImageInfo {
                mime: "image/png",
                ext: "png",
                width: 640,
                height: 480
            })
        );
        let gif = b"GIF89a\x20\x03\x58\x02rest";
        assert_eq!(
            image_info(gif).map(|i| (i.width, i.height)),
            Some((800, 600))
        );
        // JPEG: SOI, an APP0 segment, then SOF0 with height 300 and width 400.
        let mut jpg = vec![0xff, 0xd8, 0xff, 0xe0, 0x00, 0x04, 0, 0];
        jpg.extend_from_slice(&[0xff, 0xc0, 0x00, 0x11, 0x08, 0x01, 0x2c, 0x01, 0x90, 3]);
        jpg.extend_from_slice(&[0; 12]);
        assert_eq!(
            image_info(&jpg).map(|i| (i.mime, i.width, i.height)),
            Some(("image/jpeg", 400, 300))
        );
        assert_eq!(image_info(b"not an image at all"), None);
    }

    #[test]
    fn finds_the_json_in_a_fenced_reply() {
        let v =
            parse_json_reply("Here:\n```json\n{\"description\": \"a cat\", \"objects\": []}\n```");
        assert_eq!(
            v.and_then(|v| v.get("description").cloned()),
            Some(json!("a cat"))
        );
        assert_eq!(parse_json_reply("no json here"), None);
    }
}
