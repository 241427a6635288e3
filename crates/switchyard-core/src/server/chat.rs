//! `POST /v1/chat/completions`: resolve the model, run the failover loop, and answer as JSON or
//! as an SSE stream that is committed only once the upstream has said something meaningful.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::response::Response;
use futures_util::StreamExt as _;

use super::{AppState, fail, json_response, note_target, success_headers};
use crate::error::ToApiError as _;
use crate::error::{ApiError, UpstreamError};
use crate::providers::ChunkStream;
use crate::record::{Draft, TokenCounts};
use crate::routing::failover;
use switchyard_dialects::chunks::{Assembler, ChunkFactory, is_meaningful};
use switchyard_dialects::openai::{ChatChunk, ChatRequest, Usage};
use switchyard_dialects::tokens::estimate_chars;

/// Comment frames keep idle connections (and impatient proxies) alive during long silences.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

pub async fn chat_completions(
    axum::extract::State(state): axum::extract::State<Arc<AppState>>,
    caller: Option<axum::Extension<super::auth::Caller>>,
    draft: Draft,
    super::responses::ChatBody(mut req): super::responses::ChatBody,
) -> Response {
    if let Some(axum::Extension(caller)) = &caller
        && let Err(e) = caller.check_model(&req.model)
    {
        draft.update(|d| d.requested_model = Some(req.model.clone()));
        return fail(&draft, e);
    }
    match super::agent::plan(&state, &mut req) {
        Ok(Some(plan)) => {
            draft.update(|d| {
                d.requested_model = Some(req.model.clone());
                d.stream = req.is_stream();
            });
            if let Err(e) = validate(&req) {
                return fail(&draft, e);
            }
            return match super::agent::run(&state, req, plan, &draft).await {
                Ok(response) => response,
                Err(e) => fail(&draft, e),
            };
        }
        Ok(None) => {}
        Err(e) => {
            draft.update(|d| d.requested_model = Some(req.model.clone()));
            return fail(&draft, e);
        }
    }
    match chat(&state, req, &draft).await {
        Ok(response) => response,
        Err(e) => fail(&draft, e),
    }
}

fn validate(req: &ChatRequest) -> Result<(), ApiError> {
    if req.model.trim().is_empty() {
        return Err(ApiError::invalid_request(
            "model: must name a model (GET /v1/models lists them)",
        )
        .with_param("model"));
    }
    if req.messages.is_empty() {
        return Err(
            ApiError::invalid_request("messages: must hold at least one message")
                .with_param("messages"),
        );
    }
    super::doors::check_n(
        req.n.map(serde_json::Value::from).as_ref(),
        super::doors::MAX_CHOICES,
    )?;
    Ok(())
}

/// Serves one chat completion; shared by the HTTP handler and in-process callers.
pub async fn chat(state: &AppState, req: ChatRequest, draft: &Draft) -> Result<Response, ApiError> {
    draft.update(|d| {
        d.requested_model = Some(req.model.clone());
        d.stream = req.is_stream();
    });
    validate(&req)?;
    let runtime = state.runtime.load_full();
    let route = runtime
        .resolve(&req.model)
        .ok_or_else(|| ApiError::model_not_found(&req.model))?;
    let deadline = Instant::now() + runtime.config.timeouts.total;
    let retry = runtime.config.retry;
    let req = &req;

    if !req.is_stream() {
        let ok =
            failover::execute(&route, &retry, deadline, |t| t.provider.chat(req, &t.model)).await?;
        note_target(draft, &runtime, ok.target, &ok.attempts);
        let tokens = ok.value.usage.as_ref().map(TokenCounts::from);
        draft.update(|d| d.tokens = tokens);
        let mut response = json_response(draft, &ok.value)?;
        success_headers(response.headers_mut(), ok.target, &ok.attempts);
        return Ok(response);
    }

    let ok = failover::execute(&route, &retry, deadline, |t| async move {
        let stream = t.provider.chat_stream(req, &t.model).await?;
        first_meaningful(stream).await
    })
    .await?;
    let (head, rest) = ok.value;
    note_target(draft, &runtime, ok.target, &ok.attempts);
    let ttft = draft.elapsed_ms();
    draft.update(|d| d.ttft_ms = ttft);
    let idle = ok.target.provider.timeouts.idle;
    let body = sse_body(
        head,
        rest,
        StreamLog::new(
            draft.clone(),
            req.wants_usage_chunk(),
            estimate_prompt_tokens(req),
        ),
        idle,
        deadline,
    );
    let mut response = super::sse_response(body);
    success_headers(response.headers_mut(), ok.target, &ok.attempts);
    Ok(response)
}

/// Reads the stream up to its first meaningful chunk. Until then nothing has been sent to the
/// client, so any failure can still fail over.
pub(super) async fn first_meaningful(
    mut stream: ChunkStream,
) -> Result<(Vec<ChatChunk>, ChunkStream), UpstreamError> {
    let mut head = Vec::new();
    loop {
        match stream.next().await {
            Some(Ok(chunk)) => {
                let done = is_meaningful(&chunk);
                head.push(chunk);
                if done {
                    return Ok((head, stream));
                }
            }
            Some(Err(e)) => return Err(e),
            None => {
                return Err(UpstreamError::Io(
                    "the stream ended before any content".into(),
                ));
            }
        }
    }
}

fn frame(chunk: &ChatChunk) -> Bytes {
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(b"data: ");
    if serde_json::to_writer(&mut out, chunk).is_err() {
        return Bytes::new();
    }
    out.extend_from_slice(b"\n\n");
    Bytes::from(out)
}

fn error_frame(e: &UpstreamError, target_hint: &str) -> Bytes {
    let api = e.to_api_error(target_hint);
    let inner = api.inner();
    let body = serde_json::json!({
        "error": {
            "message": inner.message,
            "type": inner.kind,
            "param": null,
            "code": inner.code,
        }
    });
    Bytes::from(format!("data: {body}\n\n"))
}

/// The committed stream: the buffered head, then the rest with idle and total deadlines,
/// keep-alive comments, the usage chunk when asked for, and `[DONE]` only after a clean end.
fn sse_body(
    head: Vec<ChatChunk>,
    mut rest: ChunkStream,
    mut log: StreamLog,
    idle: Duration,
    deadline: Instant,
) -> impl futures_util::Stream<Item = Result<Bytes, std::convert::Infallible>> + Send {
    async_stream::stream! {
        let wants_usage = log.wants_usage;
        let prompt_estimate = log.prompt_estimate;
        let mut factory: Option<ChunkFactory> = None;
        let mut usage_sent = false;
        let mut completion_chars: u64 = 0;
        let mut pending = head.into_iter();
        let mut flushed = false;
        let mut idle_until = tokio::time::Instant::now() + idle;
        let deadline = tokio::time::Instant::from_std(deadline);
        loop {
            let next = match pending.next() {
                Some(chunk) => Some(Ok(chunk)),
                None => {
                    if !flushed {
                        // Let the server flush the first token now, even if the upstream has
                        // already sent more: a burst must not hold back the first token.
                        flushed = true;
                        tokio::task::yield_now().await;
                    }
                    let wake = idle_until.min(deadline).min(tokio::time::Instant::now() + KEEP_ALIVE);
                    match tokio::time::timeout_at(wake, rest.next()).await {
                        Ok(next) => {
                            idle_until = tokio::time::Instant::now() + idle;
                            next
                        }
                        Err(_) => {
                            let now = tokio::time::Instant::now();
                            if now >= deadline || now >= idle_until {
                                let waited = if now >= deadline { "the total time limit" } else { "the idle limit between chunks" };
                                let e = UpstreamError::Timeout(idle);
                                let hint = format!("upstream went quiet past {waited}");
                                log.failed(&e.to_api_error(&hint));
                                yield Ok(error_frame(&e, &hint));
                                break;
                            }
                            yield Ok(Bytes::from_static(b": keep-alive\n\n"));
                            continue;
                        }
                    }
                }
            };
            match next {
                Some(Ok(chunk)) => {
                    log.assembler.push(&chunk);
                    if factory.is_none() {
                        factory = Some(ChunkFactory::new(chunk.id.clone(), chunk.created, chunk.model.clone()));
                    }
                    if chunk.choices.is_empty() {
                        if chunk.usage.is_some() && wants_usage && !usage_sent {
                            usage_sent = true;
                            yield Ok(frame(&chunk));
                        }
                        continue;
                    }
                    for c in &chunk.choices {
                        completion_chars += c.delta.content.as_ref().map_or(0, |s| s.len() as u64)
                            + c.delta.reasoning_content.as_ref().map_or(0, |s| s.len() as u64);
                    }
                    yield Ok(frame(&chunk));
                }
                Some(Err(e)) => {
                    log.failed(&e.to_api_error("upstream"));
                    yield Ok(error_frame(&e, "upstream"));
                    break;
                }
                None => {
                    if wants_usage && !usage_sent
                        && let Some(f) = &factory {
                            // The upstream reported no usage: estimate it rather than leave clients without one.
                            let usage = Usage {
                                prompt_tokens: prompt_estimate,
                                completion_tokens: estimate_chars(completion_chars),
                                ..Usage::default()
                            };
                            let chunk = f.usage(usage);
                            log.assembler.push(&chunk);
                            yield Ok(frame(&chunk));
                        }
                    log.finish();
                    yield Ok(Bytes::from_static(b"data: [DONE]\n\n"));
                    break;
                }
            }
        }
    }
}

/// What a stream leaves in the request log: the reassembled answer and its usage, written when
/// the stream ends, fails, or is dropped because the client went away.
struct StreamLog {
    draft: Draft,
    assembler: Assembler,
    wants_usage: bool,
    prompt_estimate: u64,
    written: bool,
}

impl StreamLog {
    fn new(draft: Draft, wants_usage: bool, prompt_estimate: u64) -> Self {
        Self {
            draft,
            assembler: Assembler::default(),
            wants_usage,
            prompt_estimate,
            written: false,
        }
    }

    fn failed(&mut self, e: &ApiError) {
        self.draft.fail_in_body(e.message().to_owned());
        self.finish();
    }

    fn finish(&mut self) {
        if self.written || !self.draft.is_attached() {
            return;
        }
        self.written = true;
        let assembler = std::mem::take(&mut self.assembler);
        let tokens = assembler.usage().map(TokenCounts::from);
        let body = serde_json::to_vec(&assembler.finish())
            .ok()
            .map(Bytes::from);
        self.draft.update(|d| {
            d.tokens = tokens;
            d.response_body = body;
        });
    }
}

impl Drop for StreamLog {
    fn drop(&mut self) {
        self.finish();
    }
}

/// About four characters per token: used only when an upstream reports no usage.
fn estimate_prompt_tokens(req: &ChatRequest) -> u64 {
    let chars: usize = req
        .messages
        .iter()
        .map(|m| m.content.as_ref().map_or(0, |c| c.text().len()) + 4)
        .sum();
    estimate_chars(chars as u64)
}
