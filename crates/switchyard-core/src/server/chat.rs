//! `POST /v1/chat/completions`: resolve the model, run the failover loop, and answer as JSON or
//! as an SSE stream that is committed only once the upstream has said something meaningful.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::response::Response;

use super::relay::{self, Flow, Frames};
use super::{AppState, fail, json_response, note_target, success_headers};
use crate::error::ApiError;
use crate::record::{Draft, TokenCounts};
use crate::routing::failover;
use switchyard_dialects::chunks::{Assembler, ChunkFactory};
use switchyard_dialects::openai::{ChatChunk, ChatRequest, Usage};
use switchyard_dialects::tokens::estimate_chars;

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
        relay::first_meaningful(stream).await
    })
    .await?;
    let (head, rest) = ok.value;
    note_target(draft, &runtime, ok.target, &ok.attempts);
    let ttft = draft.elapsed_ms();
    draft.update(|d| d.ttft_ms = ttft);
    let idle = ok.target.provider.timeouts.idle;
    let frames = ChatFrames {
        head,
        log: StreamLog::new(
            draft.clone(),
            req.wants_usage_chunk(),
            estimate_prompt_tokens(req),
        ),
        factory: None,
        usage_sent: false,
        completion_chars: 0,
    };
    let body = relay::relay(frames, rest, idle, deadline);
    let mut response = super::sse_response(body);
    success_headers(response.headers_mut(), ok.target, &ok.attempts);
    Ok(response)
}

/// The chat door's side of the relay: chunks as `data:` frames, the usage chunk when asked for
/// (estimated when the upstream reported none), and `[DONE]` only after a clean end.
struct ChatFrames {
    head: Vec<ChatChunk>,
    log: StreamLog,
    factory: Option<ChunkFactory>,
    usage_sent: bool,
    completion_chars: u64,
}

impl ChatFrames {
    fn push(&mut self, chunk: ChatChunk, out: &mut Frames) {
        self.log.assembler.push(&chunk);
        if self.factory.is_none() {
            self.factory = Some(ChunkFactory::new(
                chunk.id.clone(),
                chunk.created,
                chunk.model.clone(),
            ));
        }
        if chunk.choices.is_empty() {
            if chunk.usage.is_some() && self.log.wants_usage && !self.usage_sent {
                self.usage_sent = true;
                relay::data_frame(&chunk, out);
            }
            return;
        }
        for c in &chunk.choices {
            self.completion_chars += c.delta.content.as_ref().map_or(0, |s| s.len() as u64)
                + c.delta
                    .reasoning_content
                    .as_ref()
                    .map_or(0, |s| s.len() as u64);
        }
        relay::data_frame(&chunk, out);
    }
}

impl relay::Door for ChatFrames {
    type Item = ChatChunk;

    fn head(&mut self, out: &mut Frames) -> Result<Flow, ApiError> {
        for chunk in std::mem::take(&mut self.head) {
            self.push(chunk, out);
        }
        Ok(Flow::More)
    }

    fn item(&mut self, chunk: ChatChunk, out: &mut Frames) -> Result<Flow, ApiError> {
        self.push(chunk, out);
        Ok(Flow::More)
    }

    fn keep_alive(&mut self, out: &mut Frames) {
        out.extend(relay::COMMENT);
    }

    fn end(&mut self, out: &mut Frames) -> Result<(), ApiError> {
        if self.log.wants_usage
            && !self.usage_sent
            && let Some(f) = &self.factory
        {
            // The upstream reported no usage: estimate it rather than leave clients without one.
            let usage = Usage {
                prompt_tokens: self.log.prompt_estimate,
                completion_tokens: estimate_chars(self.completion_chars),
                ..Usage::default()
            };
            let chunk = f.usage(usage);
            self.log.assembler.push(&chunk);
            relay::data_frame(&chunk, out);
        }
        self.log.finish();
        out.extend(b"data: [DONE]\n\n");
        Ok(())
    }

    fn fail(&mut self, e: &ApiError, out: &mut Frames) {
        self.log.failed(e);
        relay::openai_error_frame(e, out);
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
