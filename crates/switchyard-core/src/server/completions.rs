//! `POST /v1/completions`: the legacy text completions API, routed and failed over like chat.
//! The body passes on with the target's model name; answers name the model that answered, as
//! every door's do (docs/architecture.md, "Model names"). Streams are peeked up to their first text, so failover stays possible until then; after
//! that each upstream chunk is relayed (its usage only when the client asked), a failure ends
//! the stream with an OpenAI error event, and `[DONE]` follows only a clean end.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use bytes::BufMut;
use futures_util::Stream;
use serde_json::{Value, json};

use super::auth::Caller;
use super::doors::{check, relay, required_model, route};
use super::relay::{self, Flow, Frames, StreamRecord};
use super::{AppState, JsonBody, Served, fail, note_target};
use crate::error::ToApiError as _;
use crate::error::{ApiError, UpstreamError};
use crate::providers::anthropic_native::NativeStream;
use crate::providers::openai::stream_error;
use crate::providers::passthrough::Door;
use crate::record::{Draft, TokenCounts};
use crate::routing::{Needs, failover};
use switchyard_dialects::openai::Usage;
use switchyard_dialects::sse::{SseDecoder, SseEvent};
use switchyard_dialects::tokens::{estimate_chars, estimate_text};

pub async fn completions(
    State(state): State<Arc<AppState>>,
    caller: Option<axum::Extension<Caller>>,
    draft: Draft,
    JsonBody(body): JsonBody<Value>,
) -> Response {
    let result = async {
        let model = required_model(&body)?;
        check(&caller, &draft, &model)?;
        let stream = validate(&body)?;
        draft.update(|d| d.stream = stream);
        if stream {
            return serve_stream(&state, &model, &body, &draft).await;
        }
        let (response, answer) =
            relay(&state, &model, &body, &draft, Door::Completions, |_| {}).await?;
        let tokens = token_counts(&answer["usage"]);
        draft.update(|d| d.tokens = tokens);
        Ok::<_, ApiError>(response)
    };
    result.await.unwrap_or_else(|e| fail(&draft, e))
}

/// Checks the parts the gateway relies on; says whether the request streams.
fn validate(body: &Value) -> Result<bool, ApiError> {
    let bad = |param: &str, message: &str| {
        ApiError::invalid_request(format!("{param}: {message}")).with_param(param)
    };
    let prompt_ok = match body.get("prompt") {
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(items)) => !items.is_empty(),
        _ => false,
    };
    if !prompt_ok {
        return Err(bad(
            "prompt",
            "required, a string, an array of strings, or token ids",
        ));
    }
    super::doors::check_n(body.get("n"), super::doors::MAX_CHOICES)?;
    if body
        .get("stream_options")
        .is_some_and(|o| !o.is_null() && !o.is_object())
    {
        return Err(bad("stream_options", "must be an object"));
    }
    match body.get("stream") {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(stream)) => Ok(*stream),
        Some(_) => Err(bad("stream", "must be true or false")),
    }
}

fn token_counts(usage: &Value) -> Option<TokenCounts> {
    if !usage.is_object() {
        return None;
    }
    let usage: Usage = serde_json::from_value(usage.clone()).ok()?;
    Some(TokenCounts::from(&usage))
}

async fn serve_stream(
    state: &AppState,
    model: &str,
    body: &Value,
    draft: &Draft,
) -> Result<Response, ApiError> {
    let (runtime, route, deadline) = route(state, model)?;
    let needs = Needs {
        stream: true,
        ..Needs::default()
    };
    let mut ok = failover::execute(&route, &needs, &runtime.config.retry, deadline, |t| {
        t.provider.completions_stream(body, &t.model)
    })
    .await?;
    note_target(draft, &runtime, &ok);
    let served = Served::new(&mut ok);
    let ttft = draft.elapsed_ms();
    draft.update(|d| d.ttft_ms = ttft);
    let log = CompletionLog::new(draft.clone(), &ok.target.model, body);
    let idle = ok.target.provider.timeouts.idle;
    let mut response = super::sse_response(super::relay::hold(
        relay_stream(ok.value, log, idle, deadline),
        ok.busy,
    ));
    served.headers(response.headers_mut());
    Ok(response)
}

/// The committed stream: the chunks decoded while peeking, then the rest as the relay reads it.
fn relay_stream(
    stream: NativeStream,
    log: CompletionLog,
    idle: Duration,
    deadline: Instant,
) -> impl Stream<Item = Result<Bytes, Infallible>> + Send {
    let NativeStream {
        events,
        decoder,
        rest,
        ..
    } = stream;
    let door = Completions {
        events,
        decoder,
        log,
    };
    relay::relay(door, rest, idle, deadline)
}

/// The completions door's side of the relay: the upstream's chunks as it names its model, its
/// usage chunk only when asked for (estimated when it sent none), `[DONE]` after a clean end.
struct Completions {
    events: Vec<SseEvent>,
    decoder: SseDecoder,
    log: CompletionLog,
}

impl Completions {
    fn flow(&self) -> Flow {
        if self.log.done {
            Flow::Ended
        } else {
            Flow::More
        }
    }
}

fn unreadable(e: &impl std::fmt::Display) -> ApiError {
    UpstreamError::Protocol(e.to_string()).to_api_error("upstream")
}

impl relay::Door for Completions {
    type Item = Bytes;

    fn head(&mut self, out: &mut Frames) -> Result<Flow, ApiError> {
        self.log.relay(&mut self.events, out.buf())?;
        Ok(self.flow())
    }

    fn item(&mut self, piece: Bytes, out: &mut Frames) -> Result<Flow, ApiError> {
        self.decoder
            .feed(&piece, &mut self.events)
            .map_err(|e| unreadable(&e))?;
        self.log.relay(&mut self.events, out.buf())?;
        Ok(self.flow())
    }

    fn keep_alive(&mut self, out: &mut Frames) {
        out.extend(relay::COMMENT);
    }

    fn end(&mut self, out: &mut Frames) -> Result<(), ApiError> {
        if !self.log.done {
            self.decoder
                .finish(&mut self.events)
                .map_err(|e| unreadable(&e))?;
            self.log.relay(&mut self.events, out.buf())?;
            self.log.done = true;
        }
        self.log.estimate_usage(out.buf());
        self.log.finish();
        out.extend(b"data: [DONE]\n\n");
        Ok(())
    }

    fn fail(&mut self, e: &ApiError, out: &mut Frames) {
        self.log.failed(e);
        relay::data_frame(&e.openai_json(), out);
    }
}

/// One choice as the stream has told it so far.
#[derive(Debug, Default)]
struct Told {
    text: String,
    finish_reason: Value,
}

/// Relays a stream's chunks and keeps what the request log needs: the reassembled completion
/// and its usage, written when the stream ends, fails, or is dropped because the client left.
#[derive(Debug)]
struct CompletionLog {
    record: StreamRecord,
    /// The model that answers, as the upstream names it (the target's until a chunk says).
    model: String,
    wants_usage: bool,
    prompt_estimate: u64,
    id: Value,
    created: Value,
    choices: Vec<Told>,
    usage: Option<Value>,
    /// The upstream said `[DONE]` (or ended).
    done: bool,
}

impl CompletionLog {
    fn new(draft: Draft, model: &str, body: &Value) -> Self {
        Self {
            record: StreamRecord::new(draft),
            model: model.to_owned(),
            wants_usage: body["stream_options"]["include_usage"] == Value::Bool(true),
            prompt_estimate: estimate_prompt_tokens(&body["prompt"]),
            id: Value::Null,
            created: Value::Null,
            choices: Vec::new(),
            usage: None,
            done: false,
        }
    }

    /// Renders these upstream events for the client; an error event or an unreadable one
    /// ends the stream.
    fn relay(&mut self, events: &mut Vec<SseEvent>, out: &mut impl BufMut) -> Result<(), ApiError> {
        for event in events.drain(..) {
            let data = event.data.trim();
            if self.done {
                break;
            }
            if data == "[DONE]" {
                self.done = true;
                break;
            }
            if let Some(e) = stream_error(data) {
                return Err(e.to_api_error("upstream"));
            }
            let mut chunk: Value = serde_json::from_str(data).map_err(|e| {
                let excerpt: String = data.chars().take(120).collect();
                UpstreamError::Protocol(format!("unreadable stream event ({e}): {excerpt}"))
                    .to_api_error("upstream")
            })?;
            self.fold(&chunk);
            let Some(fields) = chunk.as_object_mut() else {
                continue;
            };
            if !self.wants_usage {
                let choices = fields.get("choices").and_then(Value::as_array);
                if choices.is_none_or(Vec::is_empty) {
                    continue;
                }
                fields.remove("usage");
            }
            frame(&chunk, out);
        }
        Ok(())
    }

    fn fold(&mut self, chunk: &Value) {
        if self.id.is_null() {
            self.id = chunk["id"].clone();
            self.created = chunk["created"].clone();
            if let Some(model) = chunk["model"].as_str().filter(|m| !m.is_empty()) {
                model.clone_into(&mut self.model);
            }
        }
        if chunk["usage"].is_object() {
            self.usage = Some(chunk["usage"].clone());
        }
        for choice in chunk["choices"].as_array().into_iter().flatten() {
            let index = choice["index"]
                .as_u64()
                .and_then(|i| usize::try_from(i).ok())
                .unwrap_or(0)
                .min(1024);
            if self.choices.len() <= index {
                self.choices.resize_with(index + 1, Told::default);
            }
            let told = &mut self.choices[index];
            told.text
                .push_str(choice["text"].as_str().unwrap_or_default());
            if !choice["finish_reason"].is_null() {
                told.finish_reason = choice["finish_reason"].clone();
            }
        }
    }

    /// A usage chunk of the gateway's estimate, when the client asked for usage and the
    /// upstream reported none.
    fn estimate_usage(&mut self, out: &mut impl BufMut) {
        if !self.wants_usage || self.usage.is_some() || self.id.is_null() {
            return;
        }
        let chars: usize = self.choices.iter().map(|c| c.text.len()).sum();
        let completion = estimate_chars(chars as u64);
        let usage = json!({
            "prompt_tokens": self.prompt_estimate,
            "completion_tokens": completion,
            "total_tokens": self.prompt_estimate + completion,
        });
        self.usage = Some(usage.clone());
        let chunk = json!({
            "id": self.id, "object": "text_completion", "created": self.created,
            "model": self.model, "choices": [], "usage": usage,
        });
        frame(&chunk, out);
    }

    fn failed(&mut self, e: &ApiError) {
        self.record.fail_in_body(e.message().to_owned());
        self.finish();
    }

    fn finish(&mut self) {
        self.record.write_once(|| {
            let usage = self.usage.take().unwrap_or(Value::Null);
            let tokens = token_counts(&usage);
            let choices: Vec<Value> = std::mem::take(&mut self.choices)
                .into_iter()
                .enumerate()
                .map(|(index, c)| json!({"index": index, "text": c.text, "finish_reason": c.finish_reason}))
                .collect();
            let completion = json!({
                "id": self.id, "object": "text_completion", "created": self.created,
                "model": self.model, "choices": choices, "usage": usage,
            });
            let body = serde_json::to_vec(&completion).ok().map(Bytes::from);
    (tokens, body)
        });
    }
}

impl Drop for CompletionLog {
    fn drop(&mut self) {
        self.finish();
    }
}

fn frame(chunk: &Value, out: &mut impl BufMut) {
    out.put_slice(b"data: ");
    if serde_json::to_writer((&mut *out).writer(), chunk).is_ok() {
        out.put_slice(b"\n\n");
    }
}

/// About four characters per token, or the token ids given: only for upstreams that report
/// no usage.
fn estimate_prompt_tokens(prompt: &Value) -> u64 {
    let count = |p: &Value| match p {
        Value::String(s) => estimate_text(s),
        Value::Array(ids) => ids.len() as u64,
        _ => 1,
    };
    match prompt {
        Value::Array(items) if items.iter().all(Value::is_number) => items.len() as u64,
        Value::Array(items) => items.iter().map(count).sum(),
        other => count(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(data: &[&str]) -> Vec<SseEvent> {
        data.iter()
            .map(|d| SseEvent {
                event: String::new(),
                data: (*d).to_owned(),
            })
            .collect()
    }

    fn relayed(body: Value, data: &[&str]) -> (CompletionLog, Vec<Value>) {
        let draft = Draft::attached(Instant::now());
        let mut log = CompletionLog::new(draft, "smart", &body);
        let mut out = Vec::new();
        log.relay(&mut events(data), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let chunks = text
            .split("\n\n")
            .filter_map(|e| e.strip_prefix("data: "))
            .map(|d| serde_json::from_str(d).unwrap())
            .collect();
        (log, chunks)
    }

    const STREAM: &[&str] = &[
        r#"{"id":"cmpl-1","object":"text_completion","created":1,"model":"up","choices":[{"index":0,"text":"Hi","finish_reason":null}],"usage":null}"#,
        r#"{"id":"cmpl-1","object":"text_completion","created":1,"model":"up","choices":[{"index":0,"text":"","finish_reason":"stop"}],"usage":null}"#,
        r#"{"id":"cmpl-1","object":"text_completion","created":1,"model":"up","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}"#,
        "[DONE]",
    ];

    #[test]
    fn usage_reaches_the_client_only_when_asked_but_always_the_log() {
        let (log, chunks) = relayed(json!({"prompt": "x"}), STREAM);
        assert_eq!(chunks.len(), 2);
        assert!(
            chunks
                .iter()
                .all(|c| c.get("usage").is_none() && c["model"] == "up")
        );
        assert!(log.done);
        assert_eq!(log.usage.as_ref().unwrap()["total_tokens"], 4);

        let asked = json!({"prompt": "x", "stream_options": {"include_usage": true}});
        let (_, chunks) = relayed(asked, STREAM);
        assert_eq!(chunks.len(), 3);
        assert_eq!(chunks[2]["usage"]["completion_tokens"], 1);
    }

    #[test]
    fn an_error_event_ends_the_relay_with_its_message() {
        let mut log = CompletionLog::new(Draft::attached(Instant::now()), "m", &json!({}));
        let mut out = Vec::new();
        let err = log
            .relay(
                &mut events(&[r#"{"error":{"message":"overloaded","type":"server_error"}}"#]),
                &mut out,
            )
            .unwrap_err();
        assert_eq!(err.message(), "overloaded");
        assert!(out.is_empty());
    }

    #[test]
    fn prompt_estimates_count_characters_or_token_ids() {
        assert_eq!(estimate_prompt_tokens(&json!("abcdefgh")), 2);
        assert_eq!(estimate_prompt_tokens(&json!([1, 2, 3])), 3);
        assert_eq!(estimate_prompt_tokens(&json!(["abcd", [1, 2]])), 3);
    }
}
