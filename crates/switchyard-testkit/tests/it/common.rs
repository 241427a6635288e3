//! Shared helpers for the integration tests: an HTTP client, SSE splitting, result type.

use std::time::Duration;

pub type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Generous bound for things that should happen at once; never a synchronisation sleep.
pub const WAIT: Duration = Duration::from_secs(10);

/// A plain-http client. reqwest is built with `rustls-no-provider`, so a provider must be
/// installed before any client is built, even one that never speaks TLS.
pub fn client() -> Result<reqwest::Client, reqwest::Error> {
    // Err only means another test installed it first.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().no_proxy().build()
}

/// One SSE event: its `event:` name, if any, and its `data:` payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub name: Option<String>,
    pub data: String,
}

impl Event {
    pub fn json(&self) -> Result<serde_json::Value, serde_json::Error> {
        serde_json::from_str(&self.data)
    }
}

/// Splits an SSE body into events (blank-line separated).
pub fn events(body: &str) -> Vec<Event> {
    body.split("\n\n")
        .filter(|block| !block.trim().is_empty())
        .map(|block| {
            let mut name = None;
            let mut data = Vec::new();
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("event: ") {
                    name = Some(v.to_owned());
                } else if let Some(v) = line.strip_prefix("data: ") {
                    data.push(v);
                }
            }
            Event {
                name,
                data: data.join("\n"),
            }
        })
        .collect()
}

/// POSTs JSON and returns the response.
pub async fn post(
    url: &str,
    body: &serde_json::Value,
) -> Result<reqwest::Response, reqwest::Error> {
    client()?.post(url).json(body).send().await
}

/// A chat body with one user message.
pub fn chat(stream: bool, text: &str) -> serde_json::Value {
    serde_json::json!({
        "model": "test-model",
        "stream": stream,
        "messages": [{"role": "user", "content": text}],
    })
}
