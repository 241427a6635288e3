//! Anthropic Messages requests passed through natively, for the `/v1/messages` door: the
//! client's own body (only `model` renamed) and its `anthropic-version` / `anthropic-beta`
//! headers go upstream with the provider's key; answers come back as the upstream sent them.
//! Streams are peeked up to their first content event, so failover stays possible until then.
//! No translation here (that is `anthropic.rs`, for the chat door).

use std::pin::Pin;

use bytes::Bytes;
use futures_util::{Stream, StreamExt as _};
use reqwest::header::{HeaderMap, HeaderValue};

use super::{MAX_UPSTREAM_EVENT, Provider, from_reqwest, read_body};
use crate::config::ProviderKind;
use crate::error::UpstreamError;
use switchyard_dialects::chat_to_anthropic::stream_error;
use switchyard_dialects::sse::{SseDecoder, SseEvent, event_type};

/// The client headers that travel to an Anthropic upstream unchanged.
#[derive(Debug, Clone, Default)]
pub struct ClientHeaders {
    pub version: Option<HeaderValue>,
    pub beta: Vec<HeaderValue>,
}

impl ClientHeaders {
    pub fn from_request(headers: &HeaderMap) -> Self {
        Self {
            version: headers.get("anthropic-version").cloned(),
            beta: headers.get_all("anthropic-beta").iter().cloned().collect(),
        }
    }
}

fn headers(p: &Provider, client: &ClientHeaders) -> Result<HeaderMap, UpstreamError> {
    let mut h = HeaderMap::new();
    h.insert(
        "anthropic-version",
        client
            .version
            .clone()
            .unwrap_or_else(|| HeaderValue::from_static(super::anthropic::ANTHROPIC_VERSION)),
    );
    for beta in &client.beta {
        h.append("anthropic-beta", beta.clone());
    }
    p.authenticate(&mut h)?;
    Ok(h)
}

/// `POST /v1/messages` without streaming: the whole answer body, as the upstream sent it.
pub async fn messages(
    p: &Provider,
    body: Vec<u8>,
    client: &ClientHeaders,
) -> Result<Bytes, UpstreamError> {
    let response = p
        .post_json(
            &p.urls.messages,
            body,
            headers(p, client)?,
            ProviderKind::Anthropic,
        )
        .await?;
    read_body(response).await.map(Bytes::from)
}

/// `POST /v1/messages/count_tokens`: the upstream's JSON answer.
pub async fn count_tokens(
    p: &Provider,
    body: Vec<u8>,
    client: &ClientHeaders,
) -> Result<serde_json::Value, UpstreamError> {
    let mut url = p.urls.messages.clone();
    let path = format!("{}/count_tokens", url.path().trim_end_matches('/'));
    url.set_path(&path);
    let response = p
        .post_json(&url, body, headers(p, client)?, ProviderKind::Anthropic)
        .await?;
    let body = read_body(response).await?;
    serde_json::from_slice(&body)
        .map_err(|e| UpstreamError::Protocol(format!("the token count is not JSON: {e}")))
}

pub type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, UpstreamError>> + Send>>;

/// A native stream whose first content event has arrived: the raw bytes read so far, the
/// events decoded from them, and the rest, still unread.
pub struct NativeStream {
    pub head: Vec<Bytes>,
    pub events: Vec<SseEvent>,
    pub decoder: SseDecoder,
    pub rest: ByteStream,
}

impl std::fmt::Debug for NativeStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NativeStream")
            .field("head", &self.head.len())
            .field("events", &self.events.len())
            .finish_non_exhaustive()
    }
}

/// `POST /v1/messages` with `stream: true`, read up to the first event that carries content
/// (or ends the message). An `error` event before that is an upstream error, so an overloaded
/// upstream fails over like one that answered 529.
pub async fn open_stream(
    p: &Provider,
    body: Vec<u8>,
    client: &ClientHeaders,
) -> Result<NativeStream, UpstreamError> {
    let response = p
        .post_json(
            &p.urls.messages,
            body,
            headers(p, client)?,
            ProviderKind::Anthropic,
        )
        .await?;
    peek(response, "Anthropic", |event| {
        let kind = event_type(event);
        if kind == "error" {
            return Err(stream_error(&event.data));
        }
        Ok(matches!(
            kind.as_str(),
            "content_block_start" | "content_block_delta" | "message_delta" | "message_stop"
        ))
    })
    .await
}

/// Reads a native SSE answer up to the first event `meaningful` accepts (`Ok(true)`); an
/// `Err` from it (an error event) fails the attempt, so failover stays possible until then.
pub(crate) async fn peek(
    response: reqwest::Response,
    dialect: &str,
    meaningful: impl Fn(&SseEvent) -> Result<bool, UpstreamError>,
) -> Result<NativeStream, UpstreamError> {
    let mut rest: ByteStream = Box::pin(
        response
            .bytes_stream()
            .map(|piece| piece.map_err(|e| from_reqwest(&e))),
    );
    let mut decoder = SseDecoder::new(MAX_UPSTREAM_EVENT);
    let mut head = Vec::new();
    let mut events = Vec::new();
    let mut seen = 0;
    loop {
        let Some(piece) = rest.next().await else {
            return Err(UpstreamError::Io(format!(
                "the {dialect} stream ended before any content"
            )));
        };
        let piece = piece?;
        decoder
            .feed(&piece, &mut events)
            .map_err(|e| UpstreamError::Protocol(e.to_string()))?;
        head.push(piece);
        let mut found = false;
        for event in &events[seen..] {
            found |= meaningful(event)?;
        }
        seen = events.len();
        if found {
            return Ok(NativeStream {
                head,
                events,
                decoder,
                rest,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ToApiError as _;

    #[test]
    fn stream_errors_keep_their_type_and_get_its_status() {
        let e = stream_error(
            r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
        );
        assert!(e.retryable());
        assert_eq!(e.status_code(), Some(529));
        let api = e.to_api_error("beta/claude");
        assert_eq!(api.anthropic_type(), "overloaded_error");
        assert_eq!(api.message(), "Overloaded");
        let e = stream_error("not json");
        assert_eq!(e.status_code(), Some(500));
    }
}
