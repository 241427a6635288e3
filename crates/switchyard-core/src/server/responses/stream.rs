//! The committed SSE bodies of `/v1/responses`: translated (chat chunks → Responses events) and
//! native (a Responses upstream's bytes, unchanged). Both keep the idle and total deadlines,
//! send SSE comments through long silences, end a failure with `error` then `response.failed`
//! (Codex reads only the latter), and leave the final Response in the request log and the
//! store.

use std::convert::Infallible;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use futures_util::Stream;
use serde_json::{Value, json};

use super::{Conversation, keep_in};
use crate::error::ToApiError as _;
use crate::error::{ApiError, UpstreamError};
use crate::providers::ChunkStream;
use crate::providers::anthropic_native::NativeStream;
use crate::record::Draft;
use crate::server::messages::stream::{Boundary, Waited, next_within, timeout_error};
use crate::store::Store;
use switchyard_dialects::anthropic_to_chat::events::frame;
use switchyard_dialects::openai::ChatChunk;
use switchyard_dialects::responses_to_chat::events::{EventTranslator, StreamFailure};
use switchyard_dialects::responses_to_chat::token_counts;
use switchyard_dialects::sse::SseEvent;
use switchyard_dialects::sse::event_type;

const KEEP_ALIVE: &[u8] = b": keep-alive\n\n";

fn render(events: &mut Vec<Value>) -> Bytes {
    let mut out = Vec::new();
    for event in events.drain(..) {
        out.extend_from_slice(&frame(&event));
    }
    Bytes::from(out)
}

/// A stream translated from chat chunks.
pub fn translated(
    head: Vec<ChatChunk>,
    mut rest: ChunkStream,
    mut translator: EventTranslator,
    mut log: ResponseLog,
    idle: Duration,
    deadline: Instant,
) -> impl Stream<Item = Result<Bytes, Infallible>> + Send {
    async_stream::stream! {
        let mut events = Vec::new();
        translator.start(&mut events);
        for chunk in &head {
            translator.push(chunk, &mut events);
        }
        yield Ok(render(&mut events));
        // The first events go out now, even if the upstream sent more at once.
        tokio::task::yield_now().await;
        let mut idle_until = tokio::time::Instant::now() + idle;
        let deadline = tokio::time::Instant::from_std(deadline);
        loop {
            match next_within(&mut rest, &mut idle_until, idle, deadline).await {
                Waited::Item(Some(Ok(chunk))) => {
                    translator.push(&chunk, &mut events);
                    if !events.is_empty() {
                        yield Ok(render(&mut events));
                    }
                }
                Waited::Item(Some(Err(e))) => {
                    let e = e.to_api_error("upstream");
                    let response = translator.fail(&failure(&e), &mut events);
                    log.failed(&e, response);
                    yield Ok(render(&mut events));
                    break;
                }
                Waited::Item(None) => {
                    let response = translator.finish(&mut events);
                    log.finished(response);
                    log.keep().await;
                    yield Ok(render(&mut events));
                    break;
                }
                Waited::KeepAlive => yield Ok(Bytes::from_static(KEEP_ALIVE)),
                Waited::TimedOut(waited) => {
                    let e = timeout_error(idle, waited);
                    let response = translator.fail(&failure(&e), &mut events);
                    log.failed(&e, response);
                    yield Ok(render(&mut events));
                    break;
                }
            }
        }
    }
}

/// What a native stream has shown so far: its last sequence number, the Response it reported,
/// and whether it ended.
#[derive(Debug, Default)]
struct Seen {
    sequence: Option<u64>,
    response: Option<Value>,
    ended: bool,
}

impl Seen {
    fn read(&mut self, events: &mut Vec<SseEvent>, log: &mut ResponseLog) {
        for event in events.drain(..) {
            let Ok(value) = serde_json::from_str::<Value>(&event.data) else {
                continue;
            };
            if let Some(n) = value["sequence_number"].as_u64() {
                self.sequence = Some(n);
            }
            if value["response"].is_object() {
                self.response = Some(value["response"].clone());
            }
            match event_type(&event).as_str() {
                "response.completed" | "response.incomplete" => {
                    self.ended = true;
                    log.finished(self.response.clone());
                }
                "response.failed" => {
                    self.ended = true;
                    let message = value["response"]["error"]["message"]
                        .as_str()
                        .unwrap_or("the upstream reported the response failed")
                        .to_owned();
                    log.upstream_failed(message, self.response.clone());
                }
                _ => {}
            }
        }
    }

    /// Our own `error` and `response.failed`, numbered after the upstream's events.
    fn failure(&self, e: &ApiError) -> Bytes {
        let next = self.sequence.map_or(0, |n| n + 1);
        let inner = e.inner();
        let code = inner.code.clone().unwrap_or_else(|| inner.kind.clone());
        let mut response = self.response.clone().unwrap_or_else(|| json!({}));
        response["status"] = json!("failed");
        response["error"] = json!({"code": code, "message": inner.message});
        let mut events = vec![
            json!({"type": "error", "sequence_number": next, "code": code, "message": inner.message, "param": inner.param}),
            json!({"type": "response.failed", "sequence_number": next + 1, "response": response}),
        ];
        render(&mut events)
    }
}

/// A Responses upstream's stream, passed through byte for byte and decoded on the side for the
/// log. Keep-alives and failure events of ours go only between its events.
pub fn native(
    stream: NativeStream,
    mut log: ResponseLog,
    idle: Duration,
    deadline: Instant,
) -> impl Stream<Item = Result<Bytes, Infallible>> + Send {
    async_stream::stream! {
        let NativeStream { head, mut events, mut decoder, mut rest } = stream;
        let mut seen = Seen::default();
        seen.read(&mut events, &mut log);
        log.keep().await;
        let mut boundary = Boundary(Vec::new());
        for piece in head {
            boundary.after(&piece);
            yield Ok(piece);
        }
        tokio::task::yield_now().await;
        let mut idle_until = tokio::time::Instant::now() + idle;
        let deadline = tokio::time::Instant::from_std(deadline);
        loop {
            let failure = match next_within(&mut rest, &mut idle_until, idle, deadline).await {
                Waited::Item(Some(Ok(piece))) => {
                    if decoder.feed(&piece, &mut events).is_err() {
                        tracing::debug!("an upstream event could not be decoded for the log");
                    }
                    seen.read(&mut events, &mut log);
                    log.keep().await;
                    boundary.after(&piece);
                    yield Ok(piece);
                    continue;
                }
                Waited::KeepAlive => {
                    if boundary.at_end() {
                        yield Ok(Bytes::from_static(KEEP_ALIVE));
                    }
                    continue;
                }
                Waited::Item(Some(Err(e))) => {
                    e.to_api_error("upstream")
                }
                Waited::Item(None) => {
                    let _ = decoder.finish(&mut events);
                    seen.read(&mut events, &mut log);
                    log.keep().await;
                    if seen.ended {
                        break;
                    }
                    UpstreamError::Io("the Responses stream ended before response.completed".into())
                        .to_api_error("upstream")
                }
                Waited::TimedOut(waited) => timeout_error(idle, waited),
            };
            log.failed(&failure, None);
            if boundary.at_end() && !seen.ended {
                yield Ok(seen.failure(&failure));
            }
            break;
        }
    }
}

/// What a stream leaves behind: the final Response in the request log (with its usage) and,
/// when it completed, in the store for `previous_response_id`.
#[derive(Debug)]
pub struct ResponseLog {
    draft: Draft,
    store: Option<Store>,
    conversation: Conversation,
    written: bool,
    /// A completed Response not kept yet (see [`ResponseLog::keep`]).
    to_keep: Option<Value>,
}

impl ResponseLog {
    pub fn new(draft: Draft, store: Option<Store>, conversation: Conversation) -> Self {
        Self {
            draft,
            store,
            conversation,
            written: false,
            to_keep: None,
        }
    }

    /// Keeps the completed Response, if there is one to keep; awaited before its terminal
    /// event goes to the client, so a continuation sent at once finds it.
    async fn keep(&mut self) {
        if let Some(response) = self.to_keep.take() {
            keep_in(self.store.as_ref(), &self.conversation, &response).await;
        }
    }

    fn write(&mut self, response: Option<Value>) {
        if self.written {
            return;
        }
        self.written = true;
        let Some(response) = response else {
            return;
        };
        let tokens = token_counts(&response["usage"]);
        let body = serde_json::to_vec(&response).ok().map(Bytes::from);
        self.draft.update(|d| {
            d.tokens = tokens;
            d.response_body = body;
        });
    }

    fn finished(&mut self, response: Option<Value>) {
        if !self.written {
            self.to_keep.clone_from(&response);
        }
        self.write(response);
    }

    fn upstream_failed(&mut self, message: String, response: Option<Value>) {
        self.draft.fail_in_body(message);
        self.write(response);
    }

    fn failed(&mut self, e: &ApiError, response: Option<Value>) {
        if self.written {
            return;
        }
        self.draft.fail_in_body(e.message().to_owned());
        self.write(response);
    }
}

/// The error that ends a failed stream, as the Responses `error` event carries it: the error's
/// code, or its type when it has none.
fn failure(e: &ApiError) -> StreamFailure<'_> {
    let inner = e.inner();
    StreamFailure {
        code: inner.code.as_deref().unwrap_or(&inner.kind),
        message: &inner.message,
        param: inner.param.as_deref(),
    }
}
