//! The committed SSE bodies of `/v1/responses`: translated (chat chunks → Responses events) and
//! native (a Responses upstream's bytes, unchanged), as [`relay::Door`]s: `server::relay`
//! keeps the deadlines, and these send SSE comments through long silences, end a failure with
//! `error` then `response.failed`
//! (Codex reads only the latter), and leave the final Response in the request log and the
//! store.

use std::convert::Infallible;
use std::future::Future;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use futures_util::Stream;
use serde_json::{Value, json};

use super::{Conversation, keep_in};
use crate::error::ToApiError as _;
use crate::error::{ApiError, UpstreamError};
use crate::providers::anthropic_native::NativeStream;
use crate::record::Draft;
use crate::server::dialect_door;
use crate::server::relay::{self, Flow, Frames, Passthrough};
use crate::store::Store;
use switchyard_dialects::anthropic_to_chat::events::frame;
use switchyard_dialects::openai::ChatChunk;
use switchyard_dialects::responses_to_chat::events::{EventTranslator, StreamFailure};
use switchyard_dialects::responses_to_chat::token_counts;
use switchyard_dialects::sse::SseEvent;
use switchyard_dialects::sse::event_type;

fn render(events: &mut Vec<Value>, out: &mut Frames) {
    for event in events.drain(..) {
        out.extend(&frame(&event));
    }
}

/// A stream translated from chat chunks, as this door frames and logs it.
type Translated = dialect_door::Translated<EventTranslator, ResponseLog>;

impl relay::Door for Translated {
    type Item = ChatChunk;

    fn head(&mut self, out: &mut Frames) -> Result<Flow, ApiError> {
        self.translator.start(&mut self.events);
        for chunk in &self.head {
            self.translator.push(chunk, &mut self.events);
        }
        self.head.clear();
        render(&mut self.events, out);
        Ok(Flow::More)
    }

    fn item(&mut self, chunk: ChatChunk, out: &mut Frames) -> Result<Flow, ApiError> {
        self.translator.push(&chunk, &mut self.events);
        render(&mut self.events, out);
        Ok(Flow::More)
    }

    fn keep_alive(&mut self, out: &mut Frames) {
        out.extend(relay::COMMENT);
    }

    fn end(&mut self, out: &mut Frames) -> Result<(), ApiError> {
        let response = self.translator.finish(&mut self.events);
        self.log.finished(response);
        render(&mut self.events, out);
        Ok(())
    }

    fn fail(&mut self, e: &ApiError, out: &mut Frames) {
        let response = self.translator.fail(&failure(e), &mut self.events);
        self.log.failed(e, response);
        render(&mut self.events, out);
    }

    fn settle(&mut self) -> impl Future<Output = ()> + Send {
        self.log.keep()
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
    fn failure(&self, e: &ApiError, out: &mut Frames) {
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
        render(&mut events, out);
    }
}

/// A Responses upstream's stream, passed through byte for byte and decoded on the side for the
/// log. Keep-alives and failure events of ours go only between its events.
pub fn native(
    stream: NativeStream,
    log: ResponseLog,
    idle: Duration,
    deadline: Instant,
) -> impl Stream<Item = Result<Bytes, Infallible>> + Send {
    let (pass, rest) = Passthrough::new(stream);
    let door = Native {
        pass,
        log,
        seen: Seen::default(),
    };
    relay::relay(door, rest, idle, deadline)
}

/// The native stream's side of the relay.
struct Native {
    pass: Passthrough,
    log: ResponseLog,
    seen: Seen,
}

impl relay::Door for Native {
    type Item = Bytes;

    fn head(&mut self, out: &mut Frames) -> Result<Flow, ApiError> {
        self.seen.read(&mut self.pass.events, &mut self.log);
        self.pass.head(out);
        Ok(Flow::More)
    }

    fn item(&mut self, piece: Bytes, out: &mut Frames) -> Result<Flow, ApiError> {
        self.pass.piece(piece, out);
        self.seen.read(&mut self.pass.events, &mut self.log);
        Ok(Flow::More)
    }

    fn keep_alive(&mut self, out: &mut Frames) {
        if self.pass.between_events() {
            out.extend(relay::COMMENT);
        }
    }

    fn end(&mut self, _out: &mut Frames) -> Result<(), ApiError> {
        self.pass.finish();
        self.seen.read(&mut self.pass.events, &mut self.log);
        if self.seen.ended {
            return Ok(());
        }
        Err(
            UpstreamError::Io("the Responses stream ended before response.completed".into())
                .to_api_error("upstream"),
        )
    }

    fn fail(&mut self, e: &ApiError, out: &mut Frames) {
        self.log.failed(e, None);
        if self.pass.between_events() && !self.seen.ended {
            self.seen.failure(e, out);
        }
    }

    fn settle(&mut self) -> impl Future<Output = ()> + Send {
        self.log.keep()
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
