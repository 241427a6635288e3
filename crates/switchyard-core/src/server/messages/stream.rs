//! The committed SSE bodies of `/v1/messages`: translated (chat chunks → Anthropic events) and
//! native (an Anthropic upstream's bytes, unchanged). Both keep the idle and total deadlines,
//! send `ping` events through long silences, end a failure with `event: error`, and leave the
//! reassembled Message in the request log however they end.

use std::convert::Infallible;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use futures_util::{Stream, StreamExt as _};
use serde_json::Value;

use crate::error::ToApiError as _;
use crate::error::{ApiError, UpstreamError};
use crate::providers::ChunkStream;
use crate::providers::anthropic_native::NativeStream;
use crate::record::Draft;
use switchyard_dialects::anthropic_to_chat::events::{EventTranslator, MessageFold, frame};
use switchyard_dialects::openai::ChatChunk;
use switchyard_dialects::sse::SseEvent;
use switchyard_dialects::sse::event_type;

/// Silences longer than this get a `ping` event.
const KEEP_ALIVE: Duration = Duration::from_secs(15);
const PING: &[u8] = b"event: ping\ndata: {\"type\": \"ping\"}\n\n";

/// `event: error` with the Anthropic error body; the stream ends after it.
pub fn error_frame(e: &ApiError) -> Bytes {
    frame(&e.anthropic_json())
}

pub(crate) enum Waited<T> {
    Item(Option<T>),
    KeepAlive,
    TimedOut(&'static str),
}

/// The next item, a keep-alive turn, or the end of the idle or total time.
pub(crate) async fn next_within<S: Stream + Unpin>(
    stream: &mut S,
    idle_until: &mut tokio::time::Instant,
    idle: Duration,
    deadline: tokio::time::Instant,
) -> Waited<S::Item> {
    let wake = (*idle_until)
        .min(deadline)
        .min(tokio::time::Instant::now() + KEEP_ALIVE);
    match tokio::time::timeout_at(wake, stream.next()).await {
        Ok(next) => {
            *idle_until = tokio::time::Instant::now() + idle;
            Waited::Item(next)
        }
        Err(_) => {
            let now = tokio::time::Instant::now();
            if now >= deadline {
                Waited::TimedOut("the total time limit")
            } else if now >= *idle_until {
                Waited::TimedOut("the idle limit between chunks")
            } else {
                Waited::KeepAlive
            }
        }
    }
}

pub(crate) fn timeout_error(idle: Duration, waited: &str) -> ApiError {
    UpstreamError::Timeout(idle).to_api_error(&format!("upstream went quiet past {waited}"))
}

/// A stream translated from chat chunks. Once a stop sequence matches, the message ends and the
/// upstream is dropped (which cancels it).
pub fn translated(
    head: Vec<ChatChunk>,
    mut rest: ChunkStream,
    mut translator: EventTranslator,
    mut log: MessageLog,
    idle: Duration,
    deadline: Instant,
) -> impl Stream<Item = Result<Bytes, Infallible>> + Send {
    async_stream::stream! {
        let mut pending = head.into_iter();
        let mut flushed = false;
        let mut idle_until = tokio::time::Instant::now() + idle;
        let deadline = tokio::time::Instant::from_std(deadline);
        let mut events = Vec::new();
        loop {
            let next = match pending.next() {
                Some(chunk) => Some(Ok(chunk)),
                None => {
                    if !flushed {
                        // The first events go out now, even if the upstream sent more at once.
                        flushed = true;
                        tokio::task::yield_now().await;
                    }
                    match next_within(&mut rest, &mut idle_until, idle, deadline).await {
                        Waited::Item(next) => next,
                        Waited::KeepAlive => {
                            yield Ok(Bytes::from_static(PING));
                            continue;
                        }
                        Waited::TimedOut(waited) => {
                            let e = timeout_error(idle, waited);
                            log.failed(&e);
                            yield Ok(error_frame(&e));
                            break;
                        }
                    }
                }
            };
            match next {
                Some(Ok(chunk)) => {
                    translator.push(&chunk, &mut events);
                    let done = translator.is_done();
                    if done {
                        translator.finish(&mut events);
                    }
                    let bytes = log.render(&mut events);
                    if !bytes.is_empty() {
                        yield Ok(bytes);
                    }
                    if done {
                        log.finish();
                        break;
                    }
                }
                Some(Err(e)) => {
                    let e = e.to_api_error("upstream");
                    log.failed(&e);
                    yield Ok(error_frame(&e));
                    break;
                }
                None => {
                    translator.finish(&mut events);
                    yield Ok(log.render(&mut events));
                    log.finish();
                    break;
                }
            }
        }
    }
}

/// Whether the bytes sent so far end an SSE event, so that one of ours may follow.
#[derive(Debug)]
pub(crate) struct Boundary(pub(crate) Vec<u8>);

impl Boundary {
    pub(crate) fn after(&mut self, piece: &[u8]) {
        self.0
            .extend_from_slice(&piece[piece.len().saturating_sub(4)..]);
        let excess = self.0.len().saturating_sub(4);
        self.0.drain(..excess);
    }

    pub(crate) fn at_end(&self) -> bool {
        let t = &self.0;
        t.is_empty() || t.ends_with(b"\n\n") || t.ends_with(b"\r\n\r\n") || t.ends_with(b"\r\r")
    }
}

/// An Anthropic upstream's stream, passed through byte for byte; decoded on the side for the
/// log. Pings and error events of ours are only inserted between its events.
pub fn native(
    stream: NativeStream,
    mut log: MessageLog,
    idle: Duration,
    deadline: Instant,
) -> impl Stream<Item = Result<Bytes, Infallible>> + Send {
    async_stream::stream! {
        let NativeStream { head, mut events, mut decoder, mut rest } = stream;
        log.native(&mut events);
        let mut boundary = Boundary(Vec::new());
        for piece in head {
            boundary.after(&piece);
            yield Ok(piece);
        }
        tokio::task::yield_now().await;
        let mut idle_until = tokio::time::Instant::now() + idle;
        let deadline = tokio::time::Instant::from_std(deadline);
        loop {
            match next_within(&mut rest, &mut idle_until, idle, deadline).await {
                Waited::Item(Some(Ok(piece))) => {
                    if decoder.feed(&piece, &mut events).is_err() {
                        tracing::debug!("an upstream event could not be decoded for the log");
                    }
                    log.native(&mut events);
                    boundary.after(&piece);
                    yield Ok(piece);
                }
                Waited::Item(Some(Err(e))) => {
                    let e = e.to_api_error("upstream");
                    log.failed(&e);
                    if boundary.at_end() {
                        yield Ok(error_frame(&e));
                    }
                    break;
                }
                Waited::Item(None) => {
                    let _ = decoder.finish(&mut events);
                    log.native(&mut events);
                    if log.fold.stopped() || log.failed {
                        log.finish();
                    } else {
                        let e = UpstreamError::Io("the Anthropic stream ended before message_stop".into())
                            .to_api_error("upstream");
                        log.failed(&e);
                        if boundary.at_end() {
                            yield Ok(error_frame(&e));
                        }
                    }
                    break;
                }
                Waited::KeepAlive => {
                    if boundary.at_end() {
                        yield Ok(Bytes::from_static(PING));
                    }
                }
                Waited::TimedOut(waited) => {
                    let e = timeout_error(idle, waited);
                    log.failed(&e);
                    if boundary.at_end() {
                        yield Ok(error_frame(&e));
                    }
                    break;
                }
            }
        }
    }
}

/// What a stream leaves in the request log: the reassembled Message and its usage, written
/// when the stream ends, fails, or is dropped because the client went away.
#[derive(Debug)]
pub struct MessageLog {
    draft: Draft,
    fold: MessageFold,
    failed: bool,
    written: bool,
}

impl MessageLog {
    pub fn new(draft: Draft) -> Self {
        Self {
            draft,
            fold: MessageFold::default(),
            failed: false,
            written: false,
        }
    }

    /// Folds our events and renders them as SSE.
    fn render(&mut self, events: &mut Vec<Value>) -> Bytes {
        let mut out = Vec::new();
        for event in events.drain(..) {
            self.fold.push(&event);
            out.extend_from_slice(&frame(&event));
        }
        Bytes::from(out)
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
                self.draft.fail_in_body(message);
                continue;
            }
            self.fold.push(&value);
        }
    }

    fn failed(&mut self, e: &ApiError) {
        self.failed = true;
        self.draft.fail_in_body(e.message().to_owned());
        self.finish();
    }

    fn finish(&mut self) {
        if self.written || !self.draft.is_attached() {
            return;
        }
        self.written = true;
        let fold = std::mem::take(&mut self.fold);
        let tokens = fold.tokens();
        let body = fold
            .finish()
            .and_then(|m| serde_json::to_vec(&m).ok())
            .map(Bytes::from);
        self.draft.update(|d| {
            d.tokens = tokens;
            d.response_body = body;
        });
    }
}

impl Drop for MessageLog {
    fn drop(&mut self) {
        self.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundaries_follow_event_ends_across_pieces() {
        let mut b = Boundary(Vec::new());
        assert!(b.at_end());
        b.after(b"event: ping\ndata: {}\n");
        assert!(!b.at_end());
        b.after(b"\n");
        assert!(b.at_end());
        b.after(b"data: {\"type\":\"mess");
        assert!(!b.at_end());
        b.after(b"age_stop\"}\r\n\r\n");
        assert!(b.at_end());
    }
}
