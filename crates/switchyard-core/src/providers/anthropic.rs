//! The native Anthropic Messages API behind the OpenAI Chat Completions door: the HTTP side
//! (headers, sending, reading the answer and the event stream). The translation both ways is
//! `switchyard_dialects::chat_to_anthropic`.

use futures_util::StreamExt as _;
use reqwest::header::{HeaderMap, HeaderValue};
use switchyard_dialects::anthropic::MessagesResponse;
use switchyard_dialects::chat_to_anthropic::{
    StreamTranslator, from_messages_response, to_messages_request,
};
use switchyard_dialects::openai::{ChatRequest, ChatResponse};
use switchyard_dialects::sse::SseDecoder;

use super::{ChunkStream, MAX_UPSTREAM_EVENT, Provider, from_reqwest, read_body};
use crate::config::ProviderKind;
use crate::error::UpstreamError;

pub const ANTHROPIC_VERSION: &str = "2023-06-01";

fn headers(p: &Provider) -> Result<HeaderMap, UpstreamError> {
    let mut h = HeaderMap::new();
    h.insert(
        "anthropic-version",
        HeaderValue::from_static(ANTHROPIC_VERSION),
    );
    p.authenticate(&mut h)?;
    Ok(h)
}

pub async fn chat(
    p: &Provider,
    req: &ChatRequest,
    model: &str,
) -> Result<ChatResponse, UpstreamError> {
    let body = to_messages_request(req, model, false)?;
    let answer_tool = body.answer_tool.clone();
    let body = serde_json::to_vec(&body).map_err(|e| UpstreamError::Protocol(e.to_string()))?;
    let response = p
        .post_json(&p.urls.messages, body, headers(p)?, ProviderKind::Anthropic)
        .await?;
    let body = read_body(response).await?;
    let message: MessagesResponse = serde_json::from_slice(&body).map_err(|e| {
        UpstreamError::Protocol(format!("the answer is not an Anthropic message: {e}"))
    })?;
    Ok(from_messages_response(message, answer_tool.as_deref()))
}

pub async fn chat_stream(
    p: &Provider,
    req: &ChatRequest,
    model: &str,
) -> Result<ChunkStream, UpstreamError> {
    let body = to_messages_request(req, model, true)?;
    let answer_tool = body.answer_tool.clone();
    let body = serde_json::to_vec(&body).map_err(|e| UpstreamError::Protocol(e.to_string()))?;
    let response = p
        .post_json(&p.urls.messages, body, headers(p)?, ProviderKind::Anthropic)
        .await?;
    let mut bytes = response.bytes_stream();
    let mut translator = StreamTranslator::new(model).answering_with(answer_tool);
    Ok(Box::pin(async_stream::try_stream! {
        let mut decoder = SseDecoder::new(MAX_UPSTREAM_EVENT);
        let mut events = Vec::new();
        let mut out = Vec::new();
        loop {
            let Some(piece) = bytes.next().await else {
                decoder.finish(&mut events).map_err(|e| UpstreamError::Protocol(e.to_string()))?;
                for event in events.drain(..) {
                    translator.event(&event.data, &mut out)?;
                }
                for chunk in out.drain(..) {
                    yield chunk;
                }
                break;
            };
            let piece = piece.map_err(|e| from_reqwest(&e))?;
            decoder.feed(&piece, &mut events).map_err(|e| UpstreamError::Protocol(e.to_string()))?;
            for event in events.drain(..) {
                translator.event(&event.data, &mut out)?;
            }
            for chunk in out.drain(..) {
                yield chunk;
            }
            if translator.stopped {
                break;
            }
        }
        translator.finish(&mut out)?;
        for chunk in out.drain(..) {
            yield chunk;
        }
    }))
}
