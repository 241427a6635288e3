//! OpenAI Responses API requests passed through natively, for the `/v1/responses` door and
//! providers that serve it (`responses_api`): the client's body (only `model` renamed) goes
//! upstream with the provider's key, and answers come back as the upstream sent them. Streams
//! are peeked up to their first output event, so failover stays possible until then.
//! Translation for the other providers is the door's business (`server::responses`).

use bytes::Bytes;
use reqwest::header::HeaderMap;

use switchyard_dialects::responses_to_chat::stream_error;
use switchyard_dialects::sse::event_type;

use super::anthropic_native::{NativeStream, peek};
use super::{Provider, read_body};
use crate::config::ProviderKind;
use crate::error::UpstreamError;

fn headers(p: &Provider) -> Result<HeaderMap, UpstreamError> {
    let mut h = HeaderMap::new();
    p.authenticate(&mut h)?;
    Ok(h)
}

/// `POST /responses` without streaming: the whole answer body, as the upstream sent it.
pub async fn create(p: &Provider, body: Vec<u8>) -> Result<Bytes, UpstreamError> {
    let response = p
        .post_json(&p.urls.responses, body, headers(p)?, ProviderKind::OpenAi)
        .await?;
    read_body(response).await.map(Bytes::from)
}

/// `POST /responses` with `stream: true`, read up to the first output event (or the end). An
/// `error` or `response.failed` event before that fails the attempt like an error status.
pub async fn open_stream(p: &Provider, body: Vec<u8>) -> Result<NativeStream, UpstreamError> {
    let response = p
        .post_json(&p.urls.responses, body, headers(p)?, ProviderKind::OpenAi)
        .await?;
    peek(response, "Responses", |event| {
        let kind = event_type(event);
        match kind.as_str() {
            "error" | "response.failed" => Err(stream_error(&event.data)),
            "response.created" | "response.in_progress" | "response.queued" => Ok(false),
            _ => Ok(true),
        }
    })
    .await
}
