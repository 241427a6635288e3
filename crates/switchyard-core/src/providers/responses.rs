//! OpenAI Responses API requests passed through natively, for the `/v1/responses` door and
//! providers that serve it (`responses_api`): the client's body (only `model` renamed) goes
//! upstream with the provider's key, and answers come back as the upstream sent them. Streams
//! are peeked up to their first output event, so failover stays possible until then.
//! Translation for the other providers is the door's business (`server::responses`).

use bytes::Bytes;
use reqwest::header::HeaderMap;

use super::anthropic_native::{NativeStream, event_type, peek};
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

/// An `error` or `response.failed` event as an upstream error, with the status its code implies.
pub fn stream_error(data: &str) -> UpstreamError {
    let value: serde_json::Value = serde_json::from_str(data).unwrap_or_default();
    let error = if value["response"]["error"].is_object() {
        &value["response"]["error"]
    } else if value["error"].is_object() {
        &value["error"]
    } else {
        &value
    };
    let code = error["code"]
        .as_str()
        .or_else(|| error["type"].as_str())
        .unwrap_or("server_error")
        .to_owned();
    let message = error["message"]
        .as_str()
        .map_or_else(|| data.chars().take(300).collect(), str::to_owned);
    let status = match code.as_str() {
        "context_length_exceeded" | "invalid_request_error" | "invalid_prompt" => 400,
        "insufficient_quota" | "rate_limit_exceeded" => 429,
        "server_is_overloaded" | "slow_down" => 503,
        _ => 500,
    };
    UpstreamError::Status {
        status,
        kind: match status {
            400 => "invalid_request_error",
            429 => "rate_limit_error",
            _ => "server_error",
        }
        .to_owned(),
        code: Some(code),
        param: None,
        message,
        retry_after: None,
    }
}
