//! OpenAI-shaped endpoints whose bodies pass through with only `model` renamed: moderations,
//! legacy completions (whole and streamed) and rerank at `{base_url}/rerank`, where vLLM,
//! llama.cpp, Jina and Cohere-compatible servers serve it. Anthropic has none of them; its
//! refusal says which door to use instead. No translation here.

use serde_json::Value;

use super::anthropic_native::{NativeStream, peek};
use super::{Provider, azure_url, openai, read_body};
use crate::config::ProviderKind;
use crate::error::UpstreamError;

/// The endpoints served here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Door {
    Moderations,
    Completions,
    Rerank,
}

impl Door {
    fn path(self) -> &'static str {
        match self {
            Self::Moderations => "moderations",
            Self::Completions => "completions",
            Self::Rerank => "rerank",
        }
    }

    fn anthropic_refusal(self) -> &'static str {
        match self {
            Self::Moderations => {
                "Anthropic has no moderations API; pass an OpenAI-compatible moderation model such as omni-moderation-latest"
            }
            Self::Completions => {
                "Anthropic models have no legacy completions API; send the prompt to /v1/chat/completions as a user message"
            }
            Self::Rerank => {
                "Anthropic has no rerank API; use a provider that serves /rerank (vLLM, llama.cpp, Jina, Cohere-compatible)"
            }
        }
    }
}

impl Provider {
    /// The upstream URL and body of a request to `door` for `model`.
    fn door_request(
        &self,
        door: Door,
        body: &Value,
        model: &str,
    ) -> Result<(reqwest::Url, Vec<u8>), UpstreamError> {
        if self.kind == ProviderKind::Anthropic {
            return Err(UpstreamError::Unsupported {
                message: door.anthropic_refusal().into(),
                param: Some("model".into()),
            });
        }
        let url = match &self.azure_api_version {
            Some(version) => azure_url(&self.base_url, version, model, door.path())?,
            None => reqwest::Url::parse(&format!("{}/{}", self.base_url, door.path()))
                .map_err(|e| UpstreamError::Config(format!("bad base_url: {e}")))?,
        };
        let mut body = body.clone();
        if !body.is_object() {
            return Err(UpstreamError::Protocol(
                "the request body is not a JSON object".into(),
            ));
        }
        body["model"] = Value::String(model.to_owned());
        if door == Door::Completions && body["stream"] == Value::Bool(true) {
            // The gateway records usage even when the client did not ask for it.
            if !body["stream_options"].is_object() {
                body["stream_options"] = Value::Object(serde_json::Map::new());
            }
            body["stream_options"]["include_usage"] = Value::Bool(true);
        }
        let bytes =
            serde_json::to_vec(&body).map_err(|e| UpstreamError::Protocol(e.to_string()))?;
        Ok((url, bytes))
    }

    /// A whole JSON answer from `door`.
    pub async fn pass_json(
        &self,
        door: Door,
        body: &Value,
        model: &str,
    ) -> Result<Value, UpstreamError> {
        let (url, bytes) = self.door_request(door, body, model)?;
        let response = self
            .post_json(&url, bytes, openai::headers(self)?, ProviderKind::OpenAi)
            .await?;
        let body = read_body(response).await?;
        serde_json::from_slice(&body)
            .map_err(|e| UpstreamError::Protocol(format!("the answer is not JSON: {e}")))
    }

    /// A streamed legacy completion, read up to its first text (or its end). An error event
    /// before that fails the attempt, so failover stays possible until then.
    pub async fn completions_stream(
        &self,
        body: &Value,
        model: &str,
    ) -> Result<NativeStream, UpstreamError> {
        let (url, bytes) = self.door_request(Door::Completions, body, model)?;
        let response = self
            .post_json(&url, bytes, openai::headers(self)?, ProviderKind::OpenAi)
            .await?;
        peek(response, "completions", |event| {
            let data = event.data.trim();
            if data == "[DONE]" {
                return Ok(true);
            }
            if let Some(e) = openai::stream_error(data) {
                return Err(e);
            }
            let chunk: Value = serde_json::from_str(data)
                .map_err(|e| UpstreamError::Protocol(format!("unreadable stream event: {e}")))?;
            Ok(has_content(&chunk))
        })
        .await
    }
}

/// Whether a completion chunk carries text, a finish reason or usage.
fn has_content(chunk: &Value) -> bool {
    let choice = |c: &Value| {
        c["text"].as_str().is_some_and(|t| !t.is_empty()) || !c["finish_reason"].is_null()
    };
    chunk["usage"].is_object()
        || chunk["choices"]
            .as_array()
            .is_some_and(|c| c.iter().any(choice))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_first_chunks_are_not_content() {
        let empty =
            serde_json::json!({"choices": [{"index": 0, "text": "", "finish_reason": null}]});
        let text =
            serde_json::json!({"choices": [{"index": 0, "text": "Hi", "finish_reason": null}]});
        assert!(!has_content(&empty));
        assert!(has_content(&text));
    }
}
