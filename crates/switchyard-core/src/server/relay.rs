//! The one relay of a committed stream to the client, shared by every streaming door: the
//! buffered head first, a yield so the first token is flushed at once, then the rest within the
//! idle and total deadlines, with the door's keep-alive through silences, its error frame when
//! the upstream fails or goes quiet, and its closing frames after a clean end.
//!
//! What differs between doors (how an item is framed, what a keep-alive or an error looks like,
//! what the request log keeps) is a [`Door`], used by static dispatch. This module also holds
//! the commit rule for chat-chunk streams, [`first_meaningful`]; native byte streams are peeked
//! the same way by `providers::anthropic_native::peek`. It must not contain dialect translation.

use std::convert::Infallible;
use std::future::Future;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use bytes::{BufMut as _, BytesMut};
use futures_util::{Stream, StreamExt as _};

use crate::error::ToApiError as _;
use crate::error::{ApiError, UpstreamError};
use crate::providers::ChunkStream;
use crate::providers::anthropic_native::{ByteStream, NativeStream};
use crate::record::{Draft, TokenCounts};
use switchyard_dialects::chunks::is_meaningful;
use switchyard_dialects::openai::ChatChunk;
use switchyard_dialects::sse::{SseDecoder, SseEvent};

/// Silences longer than this get the door's keep-alive.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// The OpenAI-style keep-alive, an SSE comment.
pub(crate) const COMMENT: &[u8] = b": keep-alive\n\n";

/// As the idle limit and the time to the total deadline: no limit (a door whose items keep
/// their own deadlines, such as the tool loop).
pub(crate) const UNLIMITED: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// Whether the stream goes on after an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flow {
    More,
    /// The stream is over (the upstream said so, or a stop sequence matched): the door's
    /// closing frames follow and the upstream is dropped.
    Ended,
}

/// What goes out next: bytes framed into a buffer that is reused between yields, or one
/// upstream piece passed on as it came, without a copy.
#[derive(Debug)]
pub(crate) struct Frames {
    buf: BytesMut,
    whole: Option<Bytes>,
}

/// Room for a typical frame or two, so the first ones are not framed through reallocations.
const FRAME_ROOM: usize = 1024;

impl Default for Frames {
    fn default() -> Self {
        Self {
            buf: BytesMut::with_capacity(FRAME_ROOM),
            whole: None,
        }
    }
}

impl Frames {
    /// The buffer to frame into.
    pub(crate) fn buf(&mut self) -> &mut BytesMut {
        if let Some(whole) = self.whole.take() {
            self.buf.extend_from_slice(&whole);
        }
        &mut self.buf
    }

    pub(crate) fn extend(&mut self, bytes: &[u8]) {
        self.buf().extend_from_slice(bytes);
    }

    /// An upstream piece, passed on unchanged.
    pub(crate) fn pass(&mut self, piece: Bytes) {
        if self.buf.is_empty() && self.whole.is_none() {
            self.whole = Some(piece);
        } else {
            self.extend(&piece);
        }
    }

    fn take(&mut self) -> Option<Bytes> {
        if let Some(whole) = self.whole.take() {
            if self.buf.is_empty() {
                return Some(whole);
            }
            self.buf.extend_from_slice(&whole);
        }
        (!self.buf.is_empty()).then(|| self.buf.split().freeze())
    }
}

/// Whether the bytes passed on so far end an SSE event, so that one of ours may follow: a
/// native stream's keep-alives and error frames go only between its events.
#[derive(Debug, Default)]
struct Boundary(Vec<u8>);

impl Boundary {
    fn after(&mut self, piece: &[u8]) {
        self.0
            .extend_from_slice(&piece[piece.len().saturating_sub(4)..]);
        let excess = self.0.len().saturating_sub(4);
        self.0.drain(..excess);
    }

    fn at_end(&self) -> bool {
        let t = &self.0;
        t.is_empty() || t.ends_with(b"\n\n") || t.ends_with(b"\r\n\r\n") || t.ends_with(b"\r\r")
    }
}

/// A native upstream's stream (one in the client's own dialect): its bytes are passed on
/// unchanged and decoded on the side into `events`, for the door's log to read.
pub(crate) struct Passthrough {
    head: Vec<Bytes>,
    pub(crate) events: Vec<SseEvent>,
    decoder: SseDecoder,
    boundary: Boundary,
}

impl Passthrough {
    /// The pass-through and the rest of the upstream's bytes; `events` starts with those
    /// decoded while the stream was peeked.
    pub(crate) fn new(stream: NativeStream) -> (Self, ByteStream) {
        let NativeStream {
            head,
            events,
            decoder,
            rest,
        } = stream;
        let pass = Self {
            head,
            events,
            decoder,
            boundary: Boundary::default(),
        };
        (pass, rest)
    }

    /// Passes on what was read while peeking.
    pub(crate) fn head(&mut self, out: &mut Frames) {
        for piece in std::mem::take(&mut self.head) {
            self.boundary.after(&piece);
            out.pass(piece);
        }
    }

    /// Decodes a piece into `events` and passes it on.
    pub(crate) fn piece(&mut self, piece: Bytes, out: &mut Frames) {
        if self.decoder.feed(&piece, &mut self.events).is_err() {
            tracing::debug!("an upstream event could not be decoded for the log");
        }
        self.boundary.after(&piece);
        out.pass(piece);
    }

    /// Decodes what the upstream left unterminated at its end. The client already has those
    /// bytes unchanged; a tail that is not UTF-8 only leaves the log's copy without it.
    pub(crate) fn finish(&mut self) {
        if self.decoder.finish(&mut self.events).is_err() {
            tracing::debug!("a native stream ended in bytes that are not UTF-8; not logged");
        }
    }

    /// Whether an event of ours may go now: only between the upstream's events.
    pub(crate) fn between_events(&self) -> bool {
        self.boundary.at_end()
    }
}

/// The request log's side of a committed stream. A door's log reassembles the answer as it
/// goes and writes it once, when the stream ends, fails, or is dropped because the client went
/// away ([`StreamRecord::write_once`]).
#[derive(Debug)]
pub(crate) struct StreamRecord {
    draft: Draft,
    written: bool,
}

impl StreamRecord {
    pub(crate) fn new(draft: Draft) -> Self {
        Self {
            draft,
            written: false,
        }
    }

    /// Marks the request failed after its answer began.
    pub(crate) fn fail_in_body(&self, message: String) {
        self.draft.fail_in_body(message);
    }

    /// Writes the reassembled answer (its token counts and body, made only now), unless it
    /// was written already or the request is not logged.
    pub(crate) fn write_once(
        &mut self,
        answer: impl FnOnce() -> (Option<TokenCounts>, Option<Bytes>),
    ) {
        if self.written || !self.draft.is_attached() {
            return;
        }
        self.written = true;
        let (tokens, body) = answer();
        self.draft.update(|d| {
            d.tokens = tokens;
            d.response_body = body;
        });
    }
}

/// One streaming door's side of the relay. The door owns what its request log needs and
/// writes it when the stream ends, fails, or is dropped because the client went away.
pub(crate) trait Door: Send {
    /// One item of the upstream stream: a chat chunk, or a piece of an upstream's bytes.
    type Item: Send;

    /// Frames what was buffered while the stream was peeked.
    fn head(&mut self, out: &mut Frames) -> Result<Flow, ApiError>;

    /// Frames one item; an error ends the stream with [`Door::fail`].
    fn item(&mut self, item: Self::Item, out: &mut Frames) -> Result<Flow, ApiError>;

    /// The keep-alive for a silence, if one may go now.
    fn keep_alive(&mut self, out: &mut Frames);

    /// The closing frames after a clean end; an error when the end was not clean after all.
    fn end(&mut self, out: &mut Frames) -> Result<(), ApiError>;

    /// Logs the failure and frames it in the door's dialect; the stream ends after it.
    fn fail(&mut self, e: &ApiError, out: &mut Frames);

    /// Awaited before framed bytes go out (the Responses door keeps a completed Response
    /// first, so a client that continues at once finds it).
    fn settle(&mut self) -> impl Future<Output = ()> + Send {
        async {}
    }
}

enum Waited<T> {
    Item(Option<T>),
    KeepAlive,
    TimedOut(&'static str),
}

/// The next item, a keep-alive turn, or the end of the idle or total time.
async fn next_within<S: Stream + Unpin>(
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

fn timeout_error(idle: Duration, waited: &str) -> ApiError {
    UpstreamError::Timeout(idle).to_api_error(&format!("upstream went quiet past {waited}"))
}

/// The committed stream as SSE frames: the door's head, one yield so the server flushes it even
/// if the upstream already sent more, then the rest of `rest` as described in the module.
/// `stream`, keeping `guard` alive until the stream is dropped: a request stays counted in
/// flight on its target for as long as its answer streams.
pub(crate) fn hold<S, G>(stream: S, guard: G) -> impl Stream<Item = S::Item> + Send + use<S, G>
where
    S: Stream + Send,
    G: Send,
{
    stream.map(move |item| {
        let _ = &guard;
        item
    })
}

pub(crate) fn relay<D, S>(
    mut door: D,
    mut rest: S,
    idle: Duration,
    deadline: Instant,
) -> impl Stream<Item = Result<Bytes, Infallible>> + Send
where
    D: Door,
    S: Stream<Item = Result<D::Item, UpstreamError>> + Send + Unpin,
{
    async_stream::stream! {
        let mut out = Frames::default();
        let (mut flow, mut failed) = match door.head(&mut out) {
            Ok(flow) => (flow, false),
            Err(e) => {
                door.fail(&e, &mut out);
                (Flow::Ended, true)
            }
        };
        if flow == Flow::More {
            door.settle().await;
            if let Some(bytes) = out.take() {
                yield Ok(bytes);
            }
            // A burst must not hold back the first token: let the server flush it now.
            tokio::task::yield_now().await;
            let mut idle_until = tokio::time::Instant::now() + idle;
            let deadline = tokio::time::Instant::from_std(deadline);
            while flow == Flow::More {
                let step = match next_within(&mut rest, &mut idle_until, idle, deadline).await {
                    Waited::Item(Some(Ok(item))) => door.item(item, &mut out),
                    Waited::Item(Some(Err(e))) => Err(e.to_api_error("upstream")),
                    Waited::Item(None) => Ok(Flow::Ended),
                    Waited::KeepAlive => {
                        door.keep_alive(&mut out);
                        Ok(Flow::More)
                    }
                    Waited::TimedOut(waited) => Err(timeout_error(idle, waited)),
                };
                match step {
                    Ok(next) => flow = next,
                    Err(e) => {
                        door.fail(&e, &mut out);
                        failed = true;
                        flow = Flow::Ended;
                    }
                }
                if flow == Flow::More {
                    door.settle().await;
                    if let Some(bytes) = out.take() {
                        yield Ok(bytes);
                    }
                }
            }
        }
        if !failed && let Err(e) = door.end(&mut out) {
            door.fail(&e, &mut out);
        }
        door.settle().await;
        if let Some(bytes) = out.take() {
            yield Ok(bytes);
        }
    }
}

/// One `data:` frame of JSON, as the OpenAI dialect sends chunks and errors.
pub(crate) fn data_frame(value: &impl serde::Serialize, out: &mut Frames) {
    let buf = out.buf();
    let start = buf.len();
    buf.extend_from_slice(b"data: ");
    if serde_json::to_writer((&mut *buf).writer(), value).is_err() {
        buf.truncate(start);
        return;
    }
    buf.extend_from_slice(b"\n\n");
}

/// An error as the OpenAI dialect frames it in a stream.
pub(crate) fn openai_error_frame(e: &ApiError, out: &mut Frames) {
    let inner = e.inner();
    let body = serde_json::json!({
        "error": {
            "message": inner.message,
            "type": inner.kind,
            "param": null,
            "code": inner.code,
        }
    });
    data_frame(&body, out);
}

/// Reads a chat-chunk stream up to its first meaningful chunk (content, reasoning, a tool call
/// or a finish). Until then nothing has been sent to the client, so any failure can still fail
/// over: a stream attempt succeeds only with this.
pub(crate) async fn first_meaningful(
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
