//! OpenAI-compatible upstreams: requests pass through with the model renamed (unknown fields
//! kept), answers are checked and normalised, embeddings are re-encoded to what the client asked.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use futures_util::StreamExt as _;
use reqwest::header::HeaderMap;

use super::{ChunkStream, Endpoint, MAX_UPSTREAM_EVENT, Provider, from_reqwest, read_body};
use crate::config::ProviderKind;
use crate::error::UpstreamError;
use switchyard_dialects::chunks::ChunkNormalizer;
use switchyard_dialects::openai::{
    ChatChunk, ChatRequest, ChatResponse, EmbeddingVector, EmbeddingsRequest, EmbeddingsResponse,
    EncodingFormat, ErrorBody, StreamOptions,
};
use switchyard_dialects::sse::SseDecoder;

pub(super) fn headers(p: &Provider) -> Result<HeaderMap, UpstreamError> {
    let mut h = HeaderMap::new();
    p.authenticate(&mut h)?;
    Ok(h)
}

/// The body sent upstream: the client's request with the upstream model id, and stream usage
/// always requested (the gateway needs it even when the client did not ask).
pub fn request_body(req: &ChatRequest, model: &str) -> Result<Vec<u8>, UpstreamError> {
    let mut body = req.clone();
    model.clone_into(&mut body.model);
    if body.is_stream() {
        let options = body
            .stream_options
            .get_or_insert_with(StreamOptions::default);
        options.include_usage = Some(true);
    } else {
        body.stream_options = None;
    }
    serde_json::to_vec(&body).map_err(|e| UpstreamError::Protocol(e.to_string()))
}

pub async fn chat(
    p: &Provider,
    req: &ChatRequest,
    model: &str,
) -> Result<ChatResponse, UpstreamError> {
    let response = p
        .post_json(
            &*p.openai_url(model, Endpoint::Chat)?,
            request_body(req, model)?,
            headers(p)?,
            ProviderKind::OpenAi,
        )
        .await?;
    let body = read_body(response).await?;
    parse_chat_response(&body)
}

pub fn parse_chat_response(body: &[u8]) -> Result<ChatResponse, UpstreamError> {
    let mut response: ChatResponse = serde_json::from_slice(body).map_err(|e| {
        UpstreamError::Protocol(format!("the answer is not a chat completion: {e}"))
    })?;
    for choice in &mut response.choices {
        let message = &mut choice.message;
        if message.reasoning_content.is_none()
            && let Some(serde_json::Value::String(r)) = message.extra.remove("reasoning")
        {
            message.reasoning_content = Some(r);
        }
        if choice.finish_reason.is_none() {
            choice.finish_reason = Some(
                if message.tool_calls.as_ref().is_some_and(|t| !t.is_empty()) {
                    "tool_calls"
                } else {
                    "stop"
                }
                .to_owned(),
            );
        }
    }
    response.usage = response
        .usage
        .map(switchyard_dialects::openai::Usage::complete);
    Ok(response)
}

pub async fn chat_stream(
    p: &Provider,
    req: &ChatRequest,
    model: &str,
) -> Result<ChunkStream, UpstreamError> {
    let response = p
        .post_json(
            &*p.openai_url(model, Endpoint::Chat)?,
            request_body(req, model)?,
            headers(p)?,
            ProviderKind::OpenAi,
        )
        .await?;
    let mut bytes = response.bytes_stream();
    Ok(Box::pin(async_stream::try_stream! {
        let mut decoder = SseDecoder::new(MAX_UPSTREAM_EVENT);
        let mut normalizer = ChunkNormalizer::new();
        let mut events = Vec::new();
        let mut out = Vec::new();
        let mut done = false;
        while !done {
            let Some(piece) = bytes.next().await else {
                decoder.finish(&mut events).map_err(|e| UpstreamError::Protocol(e.to_string()))?;
                for event in events.drain(..) {
                    if event.data.trim() != "[DONE]" {
                        normalizer.push(parse_chunk(&event.data)?, &mut out);
                    }
                }
                break;
            };
            let piece = piece.map_err(|e| from_reqwest(&e))?;
            decoder.feed(&piece, &mut events).map_err(|e| UpstreamError::Protocol(e.to_string()))?;
            for event in events.drain(..) {
                if event.data.trim() == "[DONE]" {
                    done = true;
                    break;
                }
                normalizer.push(parse_chunk(&event.data)?, &mut out);
            }
            for chunk in out.drain(..) {
                yield chunk;
            }
        }
        normalizer.finish(&mut out)?;
        for chunk in out.drain(..) {
            yield chunk;
        }
    }))
}

/// One upstream `data:` payload: a chunk, or an error the upstream reported mid-stream.
pub fn parse_chunk(data: &str) -> Result<ChatChunk, UpstreamError> {
    if let Some(e) = stream_error(data) {
        return Err(e);
    }
    serde_json::from_str(data).map_err(|e| {
        let excerpt: String = data.chars().take(120).collect();
        UpstreamError::Protocol(format!("unreadable stream event ({e}): {excerpt}"))
    })
}

/// An upstream `data:` payload that reports an error (`{"error":{…}}`) instead of a chunk.
pub fn stream_error(data: &str) -> Option<UpstreamError> {
    if !(data.trim_start().starts_with("{\"error\"") || data.contains("\"error\":{")) {
        return None;
    }
    let body = serde_json::from_str::<ErrorBody>(data).ok()?;
    Some(UpstreamError::Status {
        status: 502,
        kind: body.error.kind.unwrap_or_else(|| "server_error".into()),
        code: body.error.code,
        param: body.error.param,
        message: body.error.message,
        retry_after: None,
    })
}

pub async fn embeddings(
    p: &Provider,
    req: &EmbeddingsRequest,
    model: &str,
) -> Result<EmbeddingsResponse, UpstreamError> {
    let mut body = req.clone();
    model.clone_into(&mut body.model);
    let body = serde_json::to_vec(&body).map_err(|e| UpstreamError::Protocol(e.to_string()))?;
    let response = p
        .post_json(
            &*p.openai_url(model, Endpoint::Embeddings)?,
            body,
            headers(p)?,
            ProviderKind::OpenAi,
        )
        .await?;
    let body = read_body(response).await?;
    let mut response: EmbeddingsResponse = serde_json::from_slice(&body).map_err(|e| {
        UpstreamError::Protocol(format!("the answer is not an embeddings list: {e}"))
    })?;
    let wanted = req.encoding_format.unwrap_or(EncodingFormat::Float);
    for item in &mut response.data {
        item.embedding = encode_as(
            std::mem::replace(&mut item.embedding, EmbeddingVector::Float(Vec::new())),
            wanted,
        )?;
    }
    Ok(response)
}

pub async fn images_generate(
    p: &Provider,
    body: &serde_json::Value,
    model: &str,
) -> Result<serde_json::Value, UpstreamError> {
    let mut body = body.clone();
    body["model"] = serde_json::Value::String(model.to_owned());
    let bytes = serde_json::to_vec(&body).map_err(|e| UpstreamError::Protocol(e.to_string()))?;
    let response = p
        .post_json(
            &*p.openai_url(model, Endpoint::Images)?,
            bytes,
            headers(p)?,
            ProviderKind::OpenAi,
        )
        .await?;
    let body = read_body(response).await?;
    serde_json::from_slice(&body)
        .map_err(|e| UpstreamError::Protocol(format!("the answer is not JSON: {e}")))
}

/// Converts an embedding to the encoding the client asked for, whatever the upstream returned:
/// the OpenAI SDKs ask for base64 by default and the Node SDK decodes it unconditionally.
pub fn encode_as(
    v: EmbeddingVector,
    format: EncodingFormat,
) -> Result<EmbeddingVector, UpstreamError> {
    Ok(match (v, format) {
        (EmbeddingVector::Float(values), EncodingFormat::Base64) => {
            let mut bytes = Vec::with_capacity(values.len() * 4);
            for value in values {
                #[expect(
                    clippy::cast_possible_truncation,
                    reason = "embeddings are float32 on the wire"
                )]
                bytes.extend_from_slice(&(value as f32).to_le_bytes());
            }
            EmbeddingVector::Base64(BASE64.encode(bytes))
        }
        (EmbeddingVector::Base64(text), EncodingFormat::Float) => {
            let bytes = BASE64
                .decode(text.as_bytes())
                .map_err(|e| UpstreamError::Protocol(format!("bad base64 embedding: {e}")))?;
            if bytes.len() % 4 != 0 {
                return Err(UpstreamError::Protocol(
                    "a base64 embedding is not a float32 array".into(),
                ));
            }
            EmbeddingVector::Float(
                bytes
                    .chunks_exact(4)
                    .map(|c| f64::from(f32::from_le_bytes([c[0], c[1], c[2], c[3]])))
                    .collect(),
            )
        }
        (same, _) => same,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_and_float_round_trip() {
        let floats = EmbeddingVector::Float(vec![0.5, -1.25, 3.0]);
        let b64 = encode_as(floats.clone(), EncodingFormat::Base64).unwrap();
        let EmbeddingVector::Base64(text) = &b64 else {
            panic!("not base64")
        };
        assert_eq!(BASE64.decode(text).unwrap().len(), 12);
        assert_eq!(encode_as(b64, EncodingFormat::Float).unwrap(), floats);
    }

    #[test]
    fn request_body_renames_model_keeps_unknown_fields_and_asks_for_usage() {
        let req: ChatRequest = serde_json::from_str(
            r#"{"model":"alpha/gpt-4o-mini","messages":[{"role":"developer","content":"be brief"},{"role":"user","content":"hi"}],"stream":true,"seed":7,"logit_bias":{"1":2}}"#,
        )
        .unwrap();
        let body: serde_json::Value =
            serde_json::from_slice(&request_body(&req, "gpt-4o-mini").unwrap()).unwrap();
        assert_eq!(body["model"], "gpt-4o-mini");
        assert_eq!(body["seed"], 7);
        assert_eq!(body["logit_bias"]["1"], 2);
        assert_eq!(body["messages"][0]["role"], "developer");
        assert_eq!(body["stream_options"]["include_usage"], true);
    }

    #[test]
    fn mid_stream_error_payload_is_an_upstream_error() {
        let err =
            parse_chunk(r#"{"error":{"message":"overloaded","type":"server_error","code":null}}"#)
                .unwrap_err();
        assert!(
            matches!(err, UpstreamError::Status { ref message, .. } if message == "overloaded")
        );
        assert!(err.retryable());
    }
}
