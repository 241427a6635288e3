//! Recorded-stream replay: turns a `.sse` or `.jsonl` fixture file into SSE events.
//! Only file reading and framing; writing the events belongs to the server.

use std::time::Duration;

use crate::plan::Response;
use crate::script::Dialect;

/// Anthropic Messages stream event types (the event name equals the payload's `type`).
const ANTHROPIC_EVENTS: &[&str] = &[
    "message_start",
    "message_delta",
    "message_stop",
    "content_block_start",
    "content_block_delta",
    "content_block_stop",
    "ping",
    "error",
];

/// Loads a fixture as a 200 `text/event-stream` response.
pub(crate) async fn load(
    path: &str,
    dialect: Dialect,
    delay: Duration,
) -> Result<Response, String> {
    let text = tokio::fs::read_to_string(path)
        .await
        .map_err(|e| format!("cannot read fixture `{path}`: {e}"))?;
    let events = if path.ends_with(".jsonl") {
        jsonl_events(&text, dialect)
    } else {
        sse_events(&text)
    };
    Ok(Response::sse(events, delay))
}

/// Splits raw SSE text into events on blank lines, keeping each event's bytes as they are.
pub(crate) fn sse_events(text: &str) -> Vec<Vec<u8>> {
    let mut events = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let end = rest.find("\n\n").map_or(rest.len(), |i| i + 2);
        let (event, tail) = rest.split_at(end);
        if !event.trim().is_empty() {
            events.push(event.as_bytes().to_vec());
        }
        rest = tail;
    }
    events
}

/// Wraps JSON payloads, one per line: named events for Anthropic and Responses payloads,
/// bare `data:` lines (then `data: [DONE]`) for chat chunks.
pub(crate) fn jsonl_events(text: &str, dialect: Dialect) -> Vec<Vec<u8>> {
    let mut events = Vec::new();
    let mut chat = false;
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let kind = serde_json::from_str::<serde_json::Value>(line)
            .ok()
            .and_then(|v| v.get("type").and_then(|t| t.as_str()).map(str::to_owned));
        let named = kind.filter(|k| {
            dialect == Dialect::Anthropic
                || k.starts_with("response.")
                || ANTHROPIC_EVENTS.contains(&k.as_str())
        });
        let event = match named {
            Some(name) => format!("event: {name}\ndata: {line}\n\n"),
            None => {
                chat = true;
                format!("data: {line}\n\n")
            }
        };
        events.push(event.into_bytes());
    }
    if chat {
        events.push(crate::openai::DONE.to_vec());
    }
    events
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sse_files_split_on_blank_lines() {
        let events = sse_events("event: a\ndata: 1\n\ndata: 2\n\n\n\ndata: 3\n");
        assert_eq!(
            events,
            [
                b"event: a\ndata: 1\n\n".to_vec(),
                b"data: 2\n\n".to_vec(),
                b"data: 3\n".to_vec()
            ]
        );
    }

    #[test]
    fn jsonl_lines_are_named_by_type() {
        let text = "{\"type\":\"message_start\"}\n{\"type\":\"response.created\"}\n";
        let events = jsonl_events(text, Dialect::OpenAi);
        assert_eq!(events.len(), 2);
        assert!(events[1].starts_with(b"event: response.created\ndata: {"));
        let chat = jsonl_events("{\"object\":\"chat.completion.chunk\"}\n", Dialect::OpenAi);
        assert_eq!(chat.len(), 2);
        assert_eq!(chat[1], b"data: [DONE]\n\n");
    }
}
