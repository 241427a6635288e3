//! What the `/v1/messages` and `/v1/responses` doors share: each serves its own dialect to a
//! target that speaks it natively (the client's body passed on with `model` renamed) and
//! translates to chat for any other target. This module holds one attempt of that choice, the
//! [`Prepared`] request and the [`Answer`] it produces, the native JSON answer and the relay of
//! a translated stream; each door keeps its own translation, its native calls (a [`Native`])
//! and how its events are framed and logged.

use std::convert::Infallible;
use std::future::Future;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse as _, Response};
use futures_util::Stream;
use serde_json::{Map, Value};

use super::relay;

use crate::error::{ApiError, UpstreamError};
use crate::providers::anthropic_native::NativeStream;
use crate::providers::{ChunkStream, Provider};
use crate::routing::{Runtime, Target};
use switchyard_dialects::anthropic_to_chat as translate;
use switchyard_dialects::openai::{ChatChunk, ChatRequest, ChatResponse};

/// What one attempt against one target produced.
pub(super) enum Answer {
    /// A chat answer from an OpenAI-compatible upstream, to be translated.
    Chat(ChatResponse),
    /// A native upstream's answer body, unchanged.
    Native(Bytes),
    /// A chat stream, committed after its first meaningful chunk.
    ChatStream(Vec<ChatChunk>, ChunkStream),
    /// A native upstream's stream, peeked up to its first event.
    NativeStream(NativeStream),
}

/// A door's native calls: which targets take the client's dialect, and how to ask them.
pub(super) trait Native: Sync {
    fn serves(&self, target: &Target) -> bool;

    fn whole(
        &self,
        provider: &Provider,
        body: Vec<u8>,
    ) -> impl Future<Output = Result<Bytes, UpstreamError>> + Send;

    fn stream(
        &self,
        provider: &Provider,
        body: Vec<u8>,
    ) -> impl Future<Output = Result<NativeStream, UpstreamError>> + Send;
}

/// The request as each kind of target takes it.
pub(super) struct Prepared<'a, N> {
    pub(super) runtime: &'a Runtime,
    /// The client's body, for native targets (model renamed per target).
    pub(super) body: Option<Map<String, Value>>,
    /// The translated request, for OpenAI-compatible targets.
    pub(super) chat: Option<Result<ChatRequest, ApiError>>,
    pub(super) native: N,
    pub(super) stream: bool,
}

impl<N: Native> Prepared<'_, N> {
    fn native_body(&self, model: &str) -> Result<Vec<u8>, UpstreamError> {
        let mut body = self.body.clone().unwrap_or_default();
        body.insert("model".into(), Value::String(model.to_owned()));
        serde_json::to_vec(&body).map_err(|e| UpstreamError::Protocol(e.to_string()))
    }

    fn chat_for(&self, target: &Target) -> Result<ChatRequest, UpstreamError> {
        translated_for(self.runtime, self.chat.as_ref(), target)
    }

    /// One attempt against one target.
    pub(super) async fn call(&self, t: &Target) -> Result<Answer, UpstreamError> {
        match (self.native.serves(t), self.stream) {
            (true, false) => self
                .native
                .whole(&t.provider, self.native_body(&t.model)?)
                .await
                .map(Answer::Native),
            (true, true) => self
                .native
                .stream(&t.provider, self.native_body(&t.model)?)
                .await
                .map(Answer::NativeStream),
            (false, false) => {
                let chat = self.chat_for(t)?;
                t.provider.chat(&chat, &t.model).await.map(Answer::Chat)
            }
            (false, true) => {
                let chat = self.chat_for(t)?;
                let stream = t.provider.chat_stream(&chat, &t.model).await?;
                let (head, rest) = super::relay::first_meaningful(stream).await?;
                Ok(Answer::ChatStream(head, rest))
            }
        }
    }
}

/// A translated chat request as one target should get it, given its model card (see
/// [`translate::for_target`]); a translation that failed fails the attempt with its reason.
pub(super) fn translated_for(
    runtime: &Runtime,
    chat: Option<&Result<ChatRequest, ApiError>>,
    target: &Target,
) -> Result<ChatRequest, UpstreamError> {
    match chat {
        Some(Ok(chat)) => {
            let caps = runtime
                .models
                .data
                .iter()
                .find(|c| c.id == target.label)
                .and_then(|c| c.capabilities.as_ref());
            Ok(translate::for_target(chat, caps))
        }
        Some(Err(e)) => Err(UpstreamError::Unsupported {
            message: e.message().to_owned(),
            param: e.inner().param.clone(),
        }),
        None => Err(UpstreamError::Config(
            "the request was not translated for this target".into(),
        )),
    }
}

/// A chat stream on its way to a door's own events: the chunks read while peeking, the door's
/// translator and log, and the events awaiting their frames. Each door implements
/// [`relay::Door`] for its own translator and log.
pub(super) struct Translated<T, L> {
    pub(super) head: Vec<ChatChunk>,
    pub(super) translator: T,
    pub(super) log: L,
    pub(super) events: Vec<Value>,
}

/// A committed chat stream relayed as a door's events (once a stop sequence matches on the
/// Messages door, the message ends and the upstream is dropped, which cancels it).
pub(super) fn translated<T, L>(
    head: Vec<ChatChunk>,
    rest: ChunkStream,
    translator: T,
    log: L,
    idle: Duration,
    deadline: Instant,
) -> impl Stream<Item = Result<Bytes, Infallible>> + Send
where
    Translated<T, L>: relay::Door<Item = ChatChunk>,
{
    let door = Translated {
        head,
        translator,
        log,
        events: Vec::new(),
    };
    relay::relay(door, rest, idle, deadline)
}

/// A native upstream's JSON answer, sent on as it came.
pub(super) fn native_json(bytes: Bytes) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        bytes,
    )
        .into_response()
}
