//! The committed SSE bodies of `/v1/messages`: translated (chat chunks → Anthropic events) and
//! native (an Anthropic upstream's bytes, unchanged), as [`relay::Door`]s: `server::relay`
//! keeps the deadlines, and these send `ping` events through long silences, end a failure with
//! `event: error`, and leave the reassembled Message in the request log however they end.

use std::convert::Infallible;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use futures_util::Stream;
use serde_json::Value;

use crate::error::ToApiError as _;
use crate::error::{ApiError, UpstreamError};
use crate::providers::anthropic_native::NativeStream;
use crate::record::Draft;
use crate::server::dialect_door;
use crate::server::relay::{self, Flow, Frames, Passthrough, StreamRecord};
use switchyard_dialects::anthropic_to_chat::events::{EventTranslator, MessageFold, frame};
use switchyard_dialects::openai::ChatChunk;
use switchyard_dialects::sse::SseEvent;
use switchyard_dialects::sse::event_type;

/// Anthropic's keep-alive: a `ping` event.
const PING: &[u8] = b"event: ping\ndata: {\"type\": \"ping\"}\n\n";

/// `event: error` with the Anthropic error body; the stream ends after it.
pub fn error_frame(e: &ApiError) -> Bytes {
    frame(&e.anthropic_json())
}

/// A stream translated from chat chunks, as this door frames and logs it.
type Translated = dialect_door::Translated<EventTranslator, MessageLog>;

impl Translated {
    fn push(&mut self, chunk: &ChatChunk, out: &mut Frames) -> Flow {
        self.translator.push(chunk, &mut self.events);
        if self.translator.is_done() {
            return Flow::Ended;
        }
        self.log.render(&mut self.events, out);
        Flow::More
    }
}

impl relay::Door for Translated {
    type Item = ChatChunk;

    fn head(&mut self, out: &mut Frames) -> Result<Flow, ApiError> {
        for chunk in std::mem::take(&mut self.head) {
            if self.push(&chunk, out) == Flow::Ended {
                return Ok(Flow::Ended);
            }
        }
        Ok(Flow::More)
    }

    fn item(&mut self, chunk: ChatChunk, out: &mut Frames) -> Result<Flow, ApiError> {
        Ok(self.push(&chunk, out))
    }

    fn keep_alive(&mut self, out: &mut Frames) {
        out.extend(PING);
    }

    fn end(&mut self, out: &mut Frames) -> Result<(), ApiError> {
        self.translator.finish(&mut self.events);
        self.log.render(&mut self.events, out);
        self.log.finish();
        Ok(())
    }

    fn fail(&mut self, e: &ApiError, out: &mut Frames) {
        self.log.failed(e);
        out.extend(&error_frame(e));
    }
}

/// An Anthropic upstream's stream, passed through byte for byte; decoded on the side for the
/// log. Pings and error events of ours are only inserted between its events.
pub fn native(
    stream: NativeStream,
    log: MessageLog,
    idle: Duration,
    deadline: Instant,
) -> impl Stream<Item = Result<Bytes, Infallible>> + Send {
    let (pass, rest) = Passthrough::new(stream);
    relay::relay(Native { pass, log }, rest, idle, deadline)
}

/// The native stream's side of the relay.
struct Native {
    pass: Passthrough,
    log: MessageLog,
}

impl relay::Door for Native {
    type Item = Bytes;

    fn head(&mut self, out: &mut Frames) -> Result<Flow, ApiError> {
        self.log.native(&mut self.pass.events);
        self.pass.head(out);
        Ok(Flow::More)
    }

    fn item(&mut self, piece: Bytes, out: &mut Frames) -> Result<Flow, ApiError> {
        self.pass.piece(piece, out);
        self.log.native(&mut self.pass.events);
        Ok(Flow::More)
    }

    fn keep_alive(&mut self, out: &mut Frames) {
        if self.pass.between_events() {
            out.extend(PING);
        }
    }

    fn end(&mut self, _out: &mut Frames) -> Result<(), ApiError> {
        self.pass.finish();
        self.log.native(&mut self.pass.events);
        if self.log.fold.stopped() || self.log.failed {
            self.log.finish();
            return Ok(());
        }
        Err(
            UpstreamError::Io("the Anthropic stream ended before message_stop".into())
                .to_api_error("upstream"),
        )
    }

    fn fail(&mut self, e: &ApiError, out: &mut Frames) {
        self.log.failed(e);
        if self.pass.between_events() {
            out.extend(&error_frame(e));
        }
    }
}

/// What a stream leaves in the request log: the reassembled Message and its usage, written
/// when the stream ends, fails, or is dropped because the client went away.
#[derive(Debug)]
pub struct MessageLog {
    record: StreamRecord,
    fold: MessageFold,
    failed: bool,
}

impl MessageLog {
    pub fn new(draft: Draft) -> Self {
        Self {
            record: StreamRecord::new(draft),
            fold: MessageFold::default(),
            failed: false,
        }
    }

    /// Folds our events and renders them as SSE.
    fn render(&mut self, events: &mut Vec<Value>, out: &mut Frames) {
        for event in events.drain(..) {
            self.fold.push(&event);
            out.extend(&frame(&event));
        }
    }

    /// Folds an upstream's decoded events; an `error` event among them marks the request failed.
    fn native(&mut self, events: &mut Vec<SseEvent>) {
        for event in events.drain(..) {
            let Ok(value) = serde_json::from_str::<Value>(&event.data) else {
                continue;
            };
            if event_type(&event) == "error" {
                let message = value["error"]["message"]
                    .as_str()
                    .unwrap_or("the upstream sent an error event")
                    .to_owned();
                self.failed = true;
                self.record.fail_in_body(message);
                continue;
            }
            self.fold.push(&value);
        }
    }

    fn failed(&mut self, e: &ApiError) {
        self.failed = true;
        self.record.fail_in_body(e.message().to_owned());
        self.finish();
    }

    fn finish(&mut self) {
        self.record.write_once(|| {
            let fold = std::mem::take(&mut self.fold);
            let tokens = fold.tokens();
            let body = fold
                .finish()
                .and_then(|m| serde_json::to_vec(&m).ok())
                .map(Bytes::from);
            (tokens, body)
        });
    }
}

impl Drop for MessageLog {
    fn drop(&mut self) {
        self.finish();
    }
}
