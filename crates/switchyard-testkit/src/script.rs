//! The scripting vocabulary of the fake upstreams: what the next request gets (`Script`) and
//! what a normal answer contains (`Reply`). Plain data only: no I/O and no wire formats here.

use serde::{Deserialize, Serialize};

/// Which upstream protocol a fake speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dialect {
    /// OpenAI Chat Completions, Responses, embeddings, images and models under `/v1`.
    OpenAi,
    /// Anthropic Messages and models under `/v1`.
    Anthropic,
}

/// What one request to a model endpoint receives. Embeddings requests are never streamed, so
/// there every script behaves as it does for a whole (non-streamed) chat answer.
///
/// Externally tagged and snake_case in JSON, e.g. `{"reply":{"text":"hi"}}`,
/// `{"error":{"status":429,"message":"slow down","retry_after":"1"}}` or `"reset_before_headers"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Script {
    /// A normal answer; streamed (SSE) when the request body had `"stream": true`.
    Reply(Reply),
    /// A JSON error in the dialect's own shape.
    Error {
        /// HTTP status.
        status: u16,
        /// `error.message`.
        message: String,
        /// Sent verbatim as the `retry-after` header (seconds or an HTTP date).
        #[serde(default)]
        retry_after: Option<String>,
        /// Overrides `error.type` (and, for OpenAI, `error.code`).
        #[serde(default)]
        error_type: Option<String>,
    },
    /// A JSON error in the dialect's own shape whose message repeats the credentials the
    /// request carried (`authorization`, `x-api-key` or `api-key`), as careless upstreams and
    /// proxies do: for checking that a gateway keeps its key out of what it passes on.
    EchoCredentials {
        /// HTTP status.
        status: u16,
    },
    /// An HTML error page, as a broken proxy in front of the upstream would send.
    HtmlError {
        /// HTTP status, e.g. 502 or 503.
        status: u16,
    },
    /// Read the request, then close the socket with a TCP RST.
    ResetBeforeHeaders,
    /// Read the request and never answer; the socket stays open until the client leaves.
    StallBeforeHeaders,
    /// Send the headers and the first `after` events of `reply`, then stall until the client leaves.
    /// A whole (non-streamed) answer instead gets its headers and half of its body (none when
    /// `after` is 0).
    StallAfterEvents {
        /// The stream to start.
        reply: Reply,
        /// How many events to send before stalling.
        after: usize,
    },
    /// Send the headers and the first `after` events of `reply`, then RST. Whole answers are cut
    /// as for `StallAfterEvents`.
    ResetAfterEvents {
        /// The stream to start.
        reply: Reply,
        /// How many events to send before the reset.
        after: usize,
    },
    /// After `after` events send the dialect's in-stream error event and end the response
    /// (OpenAI `data: {"error":{…server_error}}`, Anthropic `event: error` `overloaded_error`,
    /// Responses `error` then `response.failed`).
    /// Whole answers get the matching HTTP error instead (OpenAI 500, Anthropic 529).
    ErrorEventAfter {
        /// The stream to start.
        reply: Reply,
        /// How many events to send before the error event.
        after: usize,
    },
    /// After `after` good events of a default reply send `data: {not json` and end the response.
    /// Whole answers get a 200 whose body is `{not json`.
    MalformedStream {
        /// How many good events come first.
        after: usize,
    },
    /// Write exactly these strings as successive body chunks (chunked transfer encoding).
    Raw {
        /// HTTP status.
        status: u16,
        /// `content-type` header.
        content_type: String,
        /// Body chunks, written one by one.
        events: Vec<String>,
        /// Pause between chunks.
        #[serde(default)]
        delay_ms: u64,
    },
    /// Replay a recorded stream file (`.sse` as-is, `.jsonl` as data payloads) as a 200
    /// `text/event-stream`, whatever the request's `stream` flag.
    Fixture {
        /// Path of the fixture file.
        path: String,
        /// Pause between events.
        #[serde(default)]
        delay_ms: u64,
    },
}

impl Default for Script {
    fn default() -> Self {
        Self::Reply(Reply::default())
    }
}

/// The content of a normal answer. Every field has a sensible default.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Reply {
    /// `None` => `"You said: {text of the last user message}"`, or `"Tool said: {result}"` when
    /// the conversation ends with a tool result.
    pub text: Option<String>,
    /// Reasoning text emitted before the content.
    pub reasoning: Option<String>,
    /// Anthropic thinking signature (`"sig-fake"` when reasoning is set and this is not).
    pub signature: Option<String>,
    /// Tool calls, emitted after the text, one after the other.
    pub tool_calls: Vec<ToolCallSpec>,
    /// Pause between SSE events.
    pub chunk_delay_ms: u64,
    /// Pause before the response head: how long a slow upstream keeps its client waiting
    /// before the first byte, streamed or not. Only a `reply` script reads it.
    pub latency_ms: u64,
    /// How many pieces the text is split into when streamed (0 => one piece per word).
    pub chunks: usize,
    /// Default: a rough count of the request (bytes / 4, at least 1).
    pub prompt_tokens: Option<u32>,
    /// Default: the words in text, reasoning and tool arguments.
    pub completion_tokens: Option<u32>,
    /// Reported as OpenAI `cached_tokens` / Anthropic `cache_read_input_tokens`.
    pub cached_tokens: u32,
    /// Overrides the finish (stop) reason.
    pub finish_reason: Option<String>,
    /// The model echoed in responses; default: the request's model.
    pub model: Option<String>,
}

impl Reply {
    /// A reply with this text and everything else defaulted.
    #[must_use]
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            text: Some(text.into()),
            ..Self::default()
        }
    }
}

/// One tool call the fake model makes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ToolCallSpec {
    /// Function / tool name.
    pub name: String,
    /// Arguments; a JSON string is sent verbatim, anything else is serialised.
    #[serde(default)]
    pub arguments: serde_json::Value,
}

impl ToolCallSpec {
    /// A tool call with these arguments.
    #[must_use]
    pub fn new(name: impl Into<String>, arguments: serde_json::Value) -> Self {
        Self {
            name: name.into(),
            arguments,
        }
    }

    /// The arguments as the JSON text that goes on the wire.
    #[must_use]
    pub fn arguments_json(&self) -> String {
        match &self.arguments {
            serde_json::Value::String(raw) => raw.clone(),
            serde_json::Value::Null => "{}".to_owned(),
            other => other.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_use_external_snake_case_tags() -> Result<(), serde_json::Error> {
        let s: Script = serde_json::from_str(r#"{"reply":{"text":"hi","chunks":2}}"#)?;
        assert_eq!(
            s,
            Script::Reply(Reply {
                text: Some("hi".into()),
                chunks: 2,
                ..Reply::default()
            })
        );
        let s: Script = serde_json::from_str(r#""reset_before_headers""#)?;
        assert_eq!(s, Script::ResetBeforeHeaders);
        let s: Script = serde_json::from_str(r#"{"error":{"status":429,"message":"m"}}"#)?;
        assert_eq!(
            s,
            Script::Error {
                status: 429,
                message: "m".into(),
                retry_after: None,
                error_type: None
            }
        );
        let s: Script = serde_json::from_str(r#"{"stall_after_events":{"reply":{},"after":2}}"#)?;
        assert_eq!(
            s,
            Script::StallAfterEvents {
                reply: Reply::default(),
                after: 2
            }
        );
        assert_eq!(
            serde_json::to_string(&Script::HtmlError { status: 502 })?,
            r#"{"html_error":{"status":502}}"#
        );
        Ok(())
    }

    #[test]
    fn tool_arguments_strings_are_verbatim() {
        let raw = ToolCallSpec::new("f", serde_json::Value::String("{\"a\":".into()));
        assert_eq!(raw.arguments_json(), "{\"a\":");
        let obj = ToolCallSpec::new("f", serde_json::json!({"a": 1}));
        assert_eq!(obj.arguments_json(), r#"{"a":1}"#);
    }
}
