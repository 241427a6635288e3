//! `POST /v1/chat/completions`: resolve the model, run the failover loop, and answer as JSON or
//! as an SSE stream that is committed only once the upstream has said something meaningful.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::response::Response;

use super::relay::{self, Flow, Frames, StreamRecord};
use super::{AppState, Served, fail, json_response, note_target};
use crate::config::RetryPolicy;
use crate::error::ApiError;
use crate::providers::ChunkStream;
use crate::record::{Draft, TokenCounts};
use crate::routing::failover::{self, Success};
use crate::routing::health::Busy;
use crate::routing::{Needs, Route};
use switchyard_dialects::chunks::{Assembler, ChunkFactory};
use switchyard_dialects::openai::{ChatChunk, ChatRequest, ChatResponse, Usage};
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
            let answer = super::agent::run(&state, req, plan, &draft).await;
            return answer
                .and_then(|a| a.render(&draft))
                .unwrap_or_else(|e| fail(&draft, e));
        }
        Ok(None) => {}
        Err(e) => {
            draft.update(|d| d.requested_model = Some(req.model.clone()));
            return fail(&draft, e);
        }
    }
    let answer = chat(&state, req, &draft).await;
    answer
        .and_then(|a| a.render(&draft))
        .unwrap_or_else(|e| fail(&draft, e))
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

/// What a chat request is answered with, before anything is put on the wire: the HTTP handler
/// renders it ([`ChatAnswer::render`]); the `/mcp` tools read the whole answer as it is.
pub enum ChatAnswer {
    /// A whole completion; `served` names the target (the tool loop's answer names none).
    Whole {
        response: ChatResponse,
        served: Option<Served>,
    },
    /// A stream, committed once its first meaningful chunk came.
    Stream { stream: ChatStream, served: Served },
    /// The tool loop's stream to a streaming client.
    Loop(super::agent::LoopStream),
}

impl ChatAnswer {
    /// The answer as HTTP: JSON, or SSE through the relay. Writes the body to the request log.
    pub fn render(self, draft: &Draft) -> Result<Response, ApiError> {
        match self {
            Self::Whole { response, served } => {
                let mut answer = json_response(draft, &response)?;
                if let Some(served) = served {
                    served.headers(answer.headers_mut());
                }
                Ok(answer)
            }
            Self::Stream { mut stream, served } => {
                let busy = stream.busy.take();
                let mut answer =
                    super::sse_response(super::relay::hold(stream.into_sse(draft), busy));
                served.headers(answer.headers_mut());
                Ok(answer)
            }
            Self::Loop(stream) => Ok(super::sse_response(stream.into_sse())),
        }
    }
}

/// A committed chat stream: the chunks read while peeking, the rest, and what its relay needs.
pub struct ChatStream {
    head: Vec<ChatChunk>,
    rest: ChunkStream,
    idle: Duration,
    deadline: Instant,
    wants_usage: bool,
    prompt_estimate: u64,
    /// Counts the request in flight on its target while the answer streams.
    busy: Option<Busy>,
}

impl ChatStream {
    /// The stream as SSE frames; its answer goes to the request log however it ends.
    fn into_sse(
        self,
        draft: &Draft,
    ) -> impl futures_util::Stream<Item = Result<Bytes, std::convert::Infallible>> + Send + use<>
    {
        let frames = ChatFrames {
            head: self.head,
            log: StreamLog::new(draft.clone(), self.wants_usage, self.prompt_estimate),
            factory: None,
            usage_sent: false,
            completion_chars: 0,
        };
        relay::relay(frames, self.rest, self.idle, self.deadline)
    }
}

/// Serves one chat completion; shared by the HTTP handler and in-process callers.
pub async fn chat(
    state: &AppState,
    req: ChatRequest,
    draft: &Draft,
) -> Result<ChatAnswer, ApiError> {
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
    let needs = needs(req, &route);

    if !req.is_stream() {
        let mut ok = failover::execute(&route, &needs, &retry, deadline, |t| {
            t.provider.chat(req, &t.model)
        })
        .await?;
        note_target(draft, &runtime, &ok);
        let tokens = ok.value.usage.as_ref().map(TokenCounts::from);
        draft.update(|d| d.tokens = tokens);
        return Ok(ChatAnswer::Whole {
            served: Some(Served::new(&mut ok)),
            response: ok.value,
        });
    }

    let mut ok = open_stream(&route, &needs, &retry, deadline, req).await?;
    note_target(draft, &runtime, &ok);
    let ttft = draft.elapsed_ms();
    draft.update(|d| d.ttft_ms = ttft);
    let served = Served::new(&mut ok);
    let (head, rest) = ok.value;
    let stream = ChatStream {
        head,
        rest,
        idle: ok.target.provider.timeouts.idle,
        deadline,
        wants_usage: req.wants_usage_chunk(),
        prompt_estimate: estimate_prompt_tokens(req),
        busy: Some(ok.busy),
    };
    Ok(ChatAnswer::Stream { stream, served })
}

/// Opens a chat stream on the first target that produces a meaningful chunk, failing over
/// until one does; shared by the chat door and each round of the tool loop.
pub(super) async fn open_stream<'r>(
    route: &'r Route,
    needs: &Needs,
    retry: &RetryPolicy,
    deadline: Instant,
    req: &ChatRequest,
) -> Result<Success<'r, (Vec<ChatChunk>, ChunkStream)>, ApiError> {
    failover::execute(route, needs, retry, deadline, |t| async move {
        let stream = t.provider.chat_stream(req, &t.model).await?;
        relay::first_meaningful(stream).await
    })
    .await
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
    record: StreamRecord,
    assembler: Assembler,
    wants_usage: bool,
    prompt_estimate: u64,
}

impl StreamLog {
    fn new(draft: Draft, wants_usage: bool, prompt_estimate: u64) -> Self {
        Self {
            record: StreamRecord::new(draft),
            assembler: Assembler::default(),
            wants_usage,
            prompt_estimate,
        }
    }

    fn failed(&mut self, e: &ApiError) {
        self.record.fail_in_body(e.message().to_owned());
        self.finish();
    }

    fn finish(&mut self) {
        self.record.write_once(|| {
            let assembler = std::mem::take(&mut self.assembler);
            let tokens = assembler.usage().map(TokenCounts::from);
            let body = serde_json::to_vec(&assembler.finish())
                .ok()
                .map(Bytes::from);
            (tokens, body)
        });
    }
}

impl Drop for StreamLog {
    fn drop(&mut self) {
        self.finish();
    }
}

/// About four characters per token: used only when an upstream reports no usage.
/// What a chat request needs from the model that serves it; only worked out for a route that
/// chooses (a pinned model is never second-guessed).
pub(super) fn needs(req: &ChatRequest, route: &Route) -> Needs {
    let stream = req.is_stream();
    if !route.chooses() {
        return Needs {
            stream,
            ..Needs::default()
        };
    }
    Needs {
        image: req.has_image(),
        tools: req.tools.as_ref().is_some_and(|t| !t.is_empty()),
        tokens: Some(estimate_prompt_tokens(req) + u64::from(req.output_limit().unwrap_or(0))),
        stream,
    }
}

fn estimate_prompt_tokens(req: &ChatRequest) -> u64 {
    let chars: usize = req
        .messages
        .iter()
        .map(|m| m.content.as_ref().map_or(0, |c| c.text().len()) + 4)
        .sum();
    estimate_chars(chars as u64)
}
