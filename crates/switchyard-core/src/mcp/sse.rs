//! The older MCP HTTP+SSE transport (protocol 2024-11-05), which rmcp no longer ships but many
//! servers still speak: `GET url` opens an event stream whose first `endpoint` event names the
//! URL to `POST` messages to; every answer comes back as a `message` event on the stream.

use futures_util::StreamExt as _;
use rmcp::RoleClient;
use rmcp::model::{ClientJsonRpcMessage, ServerJsonRpcMessage};
use rmcp::transport::Transport;
use tokio::sync::mpsc;

use switchyard_dialects::sse::SseDecoder;

/// One event may be large (a tool result with an image), but not unbounded.
const MAX_EVENT: usize = 16 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SseTransportError(String);

pub struct SseTransport {
    http: reqwest::Client,
    endpoint: reqwest::Url,
    headers: reqwest::header::HeaderMap,
    incoming: mpsc::Receiver<ServerJsonRpcMessage>,
    reader: tokio::task::JoinHandle<()>,
}

impl SseTransport {
    /// Opens the event stream and waits for its `endpoint` event.
    pub async fn connect(
        http: reqwest::Client,
        url: &str,
        headers: &[(String, String)],
    ) -> Result<Self, String> {
        let base = reqwest::Url::parse(url).map_err(|e| format!("{url:?}: {e}"))?;
        let mut map = reqwest::header::HeaderMap::new();
        for (k, v) in headers {
            let name = reqwest::header::HeaderName::try_from(k.as_str())
                .map_err(|_| format!("{k:?} is not a header name"))?;
            let mut value = reqwest::header::HeaderValue::try_from(v.as_str())
                .map_err(|_| format!("the value of header {k} is not valid in a header"))?;
            value.set_sensitive(true);
            map.insert(name, value);
        }
        let response = http
            .get(base.clone())
            .headers(map.clone())
            .header(reqwest::header::ACCEPT, "text/event-stream")
            .send()
            .await
            .map_err(|e| format!("cannot reach {url}: {e}"))?;
        if !response.status().is_success() {
            return Err(format!("GET {url} answered {}", response.status()));
        }
        let mut body = response.bytes_stream();
        let mut decoder = SseDecoder::new(MAX_EVENT);
        let mut events = Vec::new();
        let mut pending = std::collections::VecDeque::new();
        // The endpoint event comes first; anything before it is kept for the reader.
        let endpoint = loop {
            if let Some(pos) = events
                .iter()
                .position(|e: &switchyard_dialects::sse::SseEvent| e.event == "endpoint")
            {
                let ev = events.remove(pos);
                pending.extend(events.drain(..));
                break base
                    .join(ev.data.trim())
                    .map_err(|e| format!("the server named a bad endpoint {:?}: {e}", ev.data))?;
            }
            match body.next().await {
                Some(Ok(bytes)) => decoder
                    .feed(&bytes, &mut events)
                    .map_err(|e| e.to_string())?,
                Some(Err(e)) => return Err(format!("the event stream broke: {e}")),
                None => return Err("the event stream ended before naming its endpoint".into()),
            }
        };
        if endpoint.origin() != base.origin() {
            return Err(format!(
                "the server named an endpoint on another origin ({endpoint}); refused"
            ));
        }
        let (tx, incoming) = mpsc::channel(64);
        let reader = tokio::spawn(async move {
            let mut events: Vec<switchyard_dialects::sse::SseEvent> = pending.into_iter().collect();
            loop {
                for ev in events.drain(..) {
                    if ev.event != "message" && !ev.event.is_empty() {
                        continue;
                    }
                    match serde_json::from_str::<ServerJsonRpcMessage>(&ev.data) {
                        Ok(msg) => {
                            if tx.send(msg).await.is_err() {
                                return;
                            }
                        }
                        Err(e) => tracing::warn!(error = %e, "MCP SSE server sent a bad message"),
                    }
                }
                match body.next().await {
                    Some(Ok(bytes)) => {
                        if decoder.feed(&bytes, &mut events).is_err() {
                            return;
                        }
                    }
                    _ => return,
                }
            }
        });
        Ok(Self {
            http,
            endpoint,
            headers: map,
            incoming,
            reader,
        })
    }
}

impl Transport<RoleClient> for SseTransport {
    type Error = SseTransportError;

    fn send(
        &mut self,
        item: ClientJsonRpcMessage,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        let request = self
            .http
            .post(self.endpoint.clone())
            .headers(self.headers.clone())
            .json(&item);
        async move {
            let response = request
                .send()
                .await
                .map_err(|e| SseTransportError(format!("POST failed: {e}")))?;
            if response.status().is_success() {
                Ok(())
            } else {
                Err(SseTransportError(format!(
                    "POST answered {}",
                    response.status()
                )))
            }
        }
    }

    fn receive(&mut self) -> impl Future<Output = Option<ServerJsonRpcMessage>> + Send {
        self.incoming.recv()
    }

    async fn close(&mut self) -> Result<(), Self::Error> {
        self.reader.abort();
        self.incoming.close();
        Ok(())
    }
}

impl Drop for SseTransport {
    fn drop(&mut self) {
        self.reader.abort();
    }
}
