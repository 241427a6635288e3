//! Anthropic stream events, both ways and without I/O: [`EventTranslator`] turns the internal
//! chat chunks (what `Provider::chat_stream` yields) into the exact event sequence of
//! `shared/reference/clients.md` §3c, the inverse of [`crate::chat_to_anthropic::StreamTranslator`];
//! [`MessageFold`] folds any Anthropic event sequence (ours or a native upstream's) back into
//! the Message a client would hold, for the request log.

use bytes::Bytes;
use serde_json::{Value, json};

use super::{earliest_stop, estimated_usage, message_id, stop_reason, token_counts, usage_json};
use crate::openai::{ChatChunk, ThinkingBlock, ToolCallDelta, Usage};
use crate::tokens::TokenCounts;

/// An event as SSE: `event:` equal to its `type`, as the Anthropic SDKs dispatch on it.
pub fn frame(event: &Value) -> Bytes {
    let name = event["type"].as_str().unwrap_or("message");
    Bytes::from(format!("event: {name}\ndata: {event}\n\n"))
}

/// Text held back while it might be the start of a stop sequence.
#[derive(Debug, Default)]
struct StopMatcher {
    stops: Vec<String>,
    held: String,
}

impl StopMatcher {
    /// Adds text; returns what can be sent now, and the stop sequence if one matched (the text
    /// before it is what is returned; nothing after it is).
    fn push(&mut self, text: &str) -> (String, Option<String>) {
        if self.stops.is_empty() {
            return (text.to_owned(), None);
        }
        self.held.push_str(text);
        if let Some((at, stop)) = earliest_stop(&self.held, &self.stops) {
            self.held.truncate(at);
            return (std::mem::take(&mut self.held), Some(stop));
        }
        // Keep the longest tail that some stop sequence starts with.
        let longest = self.stops.iter().map(String::len).max().unwrap_or(0);
        let keep = (1..longest.min(self.held.len() + 1))
            .rev()
            .find(|&k| {
                let at = self.held.len() - k;
                self.held.is_char_boundary(at)
                    && self.stops.iter().any(|s| s.starts_with(&self.held[at..]))
            })
            .unwrap_or(0);
        let rest = self.held.split_off(self.held.len() - keep);
        (std::mem::replace(&mut self.held, rest), None)
    }

    fn flush(&mut self) -> String {
        std::mem::take(&mut self.held)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Thinking,
    Redacted,
    /// A tool_use block and the chat tool-call index it comes from.
    Tool(u32),
}

/// Chat chunks → Anthropic events. Blocks open and close one at a time with indices from 0;
/// `message_start` carries an input estimate that `message_delta` corrects with the upstream's
/// usage.
#[derive(Debug)]
pub struct EventTranslator {
    model: String,
    input_estimate: u64,
    started: bool,
    finished: bool,
    next: u32,
    open: Option<(u32, Kind)>,
    signed: bool,
    thinking_seen: bool,
    stops: StopMatcher,
    finish: Option<String>,
    usage: Option<Usage>,
    output_chars: u64,
    used_tools: bool,
    stop_sequence: Option<String>,
}

fn delta(index: u32, delta: Value) -> Value {
    json!({"type": "content_block_delta", "index": index, "delta": delta})
}

impl EventTranslator {
    /// `model`: reported when the upstream names none; `stops`: the request's stop sequences.
    pub fn new(model: String, stops: Vec<String>, input_estimate: u64) -> Self {
        Self {
            model,
            input_estimate,
            started: false,
            finished: false,
            next: 0,
            open: None,
            signed: false,
            thinking_seen: false,
            stops: StopMatcher {
                stops,
                held: String::new(),
            },
            finish: None,
            usage: None,
            output_chars: 0,
            used_tools: false,
            stop_sequence: None,
        }
    }

    /// A stop sequence matched: the answer is complete and the upstream can be dropped.
    pub fn is_done(&self) -> bool {
        self.stop_sequence.is_some()
    }

    pub fn push(&mut self, chunk: &ChatChunk, out: &mut Vec<Value>) {
        if self.is_done() || self.finished {
            return;
        }
        if !self.started {
            self.start(&chunk.id, &chunk.model, out);
        }
        if let Some(u) = &chunk.usage {
            self.usage = Some(u.clone());
        }
        let Some(c) = chunk.choices.iter().find(|c| c.index == 0) else {
            return;
        };
        let d = &c.delta;
        if let Some(r) = d
            .reasoning_content
            .as_deref()
            .or(d.reasoning.as_deref())
            .filter(|s| !s.is_empty())
        {
            self.thinking(r, out);
        }
        if let Some(blocks) = &d.thinking_blocks {
            self.signed_blocks(blocks, out);
        }
        for text in [d.content.as_deref(), d.refusal.as_deref()]
            .into_iter()
            .flatten()
            .filter(|s| !s.is_empty())
        {
            self.text(text, out);
            if self.is_done() {
                return;
            }
        }
        for call in d.tool_calls.iter().flatten() {
            self.tool(call, out);
        }
        if let Some(f) = &c.finish_reason {
            self.finish = Some(f.clone());
        }
    }

    fn start(&mut self, chat_id: &str, model: &str, out: &mut Vec<Value>) {
        self.started = true;
        let model = if model.is_empty() { &self.model } else { model };
        out.push(json!({
            "type": "message_start",
            "message": {
                "id": message_id(chat_id),
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": [],
                "stop_reason": null,
                "stop_sequence": null,
                "usage": {
                    "input_tokens": self.input_estimate,
                    "output_tokens": 0,
                    "cache_creation_input_tokens": 0,
                    "cache_read_input_tokens": 0,
                },
            },
        }));
        out.push(json!({"type": "ping"}));
    }

    fn open(&mut self, kind: Kind, block: Value, out: &mut Vec<Value>) -> u32 {
        self.close(out);
        let index = self.next;
        self.next += 1;
        self.open = Some((index, kind));
        out.push(json!({"type": "content_block_start", "index": index, "content_block": block}));
        index
    }

    fn close(&mut self, out: &mut Vec<Value>) {
        let Some((index, kind)) = self.open.take() else {
            return;
        };
        if kind == Kind::Text {
            let rest = self.stops.flush();
            if !rest.is_empty() {
                out.push(delta(index, json!({"type": "text_delta", "text": rest})));
            }
        }
        out.push(json!({"type": "content_block_stop", "index": index}));
    }

    fn text(&mut self, text: &str, out: &mut Vec<Value>) {
        self.output_chars += text.len() as u64;
        let index = match self.open {
            Some((index, Kind::Text)) => index,
            _ => self.open(Kind::Text, json!({"type": "text", "text": ""}), out),
        };
        let (send, matched) = self.stops.push(text);
        if !send.is_empty() {
            out.push(delta(index, json!({"type": "text_delta", "text": send})));
        }
        if matched.is_some() {
            self.stop_sequence = matched;
        }
    }

    fn open_thinking(&mut self, out: &mut Vec<Value>) -> u32 {
        self.signed = false;
        self.thinking_seen = true;
        self.open(
            Kind::Thinking,
            json!({"type": "thinking", "thinking": "", "signature": ""}),
            out,
        )
    }

    fn thinking(&mut self, text: &str, out: &mut Vec<Value>) {
        self.output_chars += text.len() as u64;
        let index = match self.open {
            Some((index, Kind::Thinking)) if !self.signed => index,
            _ => self.open_thinking(out),
        };
        out.push(delta(
            index,
            json!({"type": "thinking_delta", "thinking": text}),
        ));
    }

    /// Signed thinking from an upstream that keeps signatures: the signature goes to the open
    /// thinking block; a block that arrives whole becomes a block of its own.
    fn signed_blocks(&mut self, blocks: &[ThinkingBlock], out: &mut Vec<Value>) {
        for b in blocks {
            if b.kind == "redacted_thinking" {
                if let Some(data) = &b.data {
                    self.open(
                        Kind::Redacted,
                        json!({"type": "redacted_thinking", "data": data}),
                        out,
                    );
                    self.close(out);
                }
                continue;
            }
            let signature = b.signature.as_deref().unwrap_or_default();
            let index = match self.open {
                Some((index, Kind::Thinking)) if !self.signed => index,
                _ if !self.thinking_seen => {
                    let index = self.open_thinking(out);
                    if let Some(text) = b.thinking.as_deref().filter(|t| !t.is_empty()) {
                        self.output_chars += text.len() as u64;
                        out.push(delta(
                            index,
                            json!({"type": "thinking_delta", "thinking": text}),
                        ));
                    }
                    index
                }
                // The block it belongs to is closed: a signature cannot be added any more.
                _ => continue,
            };
            if !signature.is_empty() {
                self.signed = true;
                out.push(delta(
                    index,
                    json!({"type": "signature_delta", "signature": signature}),
                ));
            }
        }
    }

    fn tool(&mut self, call: &ToolCallDelta, out: &mut Vec<Value>) {
        let function = call.function.as_ref();
        if let Some(id) = &call.id {
            let name = function.and_then(|f| f.name.clone()).unwrap_or_default();
            self.used_tools = true;
            self.open(
                Kind::Tool(call.index),
                json!({"type": "tool_use", "id": id, "name": name, "input": {}}),
                out,
            );
        }
        let args = function
            .and_then(|f| f.arguments.as_deref())
            .unwrap_or_default();
        if args.is_empty() {
            return;
        }
        match self.open {
            Some((index, Kind::Tool(c))) if c == call.index => {
                self.output_chars += args.len() as u64;
                out.push(delta(
                    index,
                    json!({"type": "input_json_delta", "partial_json": args}),
                ));
            }
            _ => tracing::warn!(
                call = call.index,
                "tool-call arguments arrived after their block closed; dropped"
            ),
        }
    }

    /// Closes the message: after the upstream's clean end, or once a stop sequence matched.
    pub fn finish(&mut self, out: &mut Vec<Value>) {
        if self.finished {
            return;
        }
        self.finished = true;
        if !self.started {
            let model = self.model.clone();
            self.start("", &model, out);
        }
        self.close(out);
        let reason = if self.stop_sequence.is_some() {
            "stop_sequence"
        } else {
            stop_reason(self.finish.as_deref(), self.used_tools)
        };
        let usage = self.usage.as_ref().map_or_else(
            || estimated_usage(self.input_estimate, self.output_chars),
            usage_json,
        );
        out.push(json!({
            "type": "message_delta",
            "delta": {"stop_reason": reason, "stop_sequence": self.stop_sequence},
            "usage": usage,
        }));
        out.push(json!({"type": "message_stop"}));
    }
}

/// Anthropic events → the Message they describe, as the SDKs accumulate it.
#[derive(Debug, Default)]
pub struct MessageFold {
    message: Option<Value>,
    /// Tool input JSON by block index, parsed at `content_block_stop`.
    inputs: Vec<(usize, String)>,
    stopped: bool,
}

impl MessageFold {
    pub fn push(&mut self, event: &Value) {
        let kind = event["type"].as_str().unwrap_or_default();
        if kind == "message_start" {
            let mut message = event["message"].clone();
            if !message["content"].is_array() {
                message["content"] = json!([]);
            }
            self.message = Some(message);
            return;
        }
        let Some(message) = &mut self.message else {
            return;
        };
        let index = event["index"]
            .as_u64()
            .and_then(|i| usize::try_from(i).ok());
        match kind {
            "content_block_start" => {
                if let Some(content) = message["content"].as_array_mut() {
                    content.push(event["content_block"].clone());
                }
            }
            "content_block_delta" => {
                let (Some(i), d) = (index, &event["delta"]) else {
                    return;
                };
                let Some(block) = message["content"].get_mut(i) else {
                    return;
                };
                let append = |block: &mut Value, key: &str, more: &Value| {
                    let text = format!(
                        "{}{}",
                        block[key].as_str().unwrap_or_default(),
                        more.as_str().unwrap_or_default()
                    );
                    block[key] = Value::String(text);
                };
                match d["type"].as_str().unwrap_or_default() {
                    "text_delta" => append(block, "text", &d["text"]),
                    "thinking_delta" => append(block, "thinking", &d["thinking"]),
                    "signature_delta" => block["signature"] = d["signature"].clone(),
                    "input_json_delta" => {
                        let more = d["partial_json"].as_str().unwrap_or_default();
                        match self.inputs.iter_mut().find(|(at, _)| *at == i) {
                            Some((_, json)) => json.push_str(more),
                            None => self.inputs.push((i, more.to_owned())),
                        }
                    }
                    _ => {}
                }
            }
            "content_block_stop" => {
                if let Some(i) = index {
                    self.parse_input(i);
                }
            }
            "message_delta" => {
                for key in ["stop_reason", "stop_sequence"] {
                    if let Some(v) = event["delta"].get(key) {
                        message[key] = v.clone();
                    }
                }
                if let Some(usage) = event["usage"].as_object() {
                    for (k, v) in usage {
                        if !v.is_null() {
                            message["usage"][k] = v.clone();
                        }
                    }
                }
            }
            "message_stop" => self.stopped = true,
            _ => {}
        }
    }

    fn parse_input(&mut self, i: usize) {
        let Some(at) = self.inputs.iter().position(|(b, _)| *b == i) else {
            return;
        };
        let (_, json) = self.inputs.swap_remove(at);
        if let Some(block) = self.message.as_mut().and_then(|m| m["content"].get_mut(i)) {
            block["input"] = serde_json::from_str(&json).unwrap_or(Value::String(json));
        }
    }

    /// `message_stop` was seen: the message is complete.
    pub fn stopped(&self) -> bool {
        self.stopped
    }

    pub fn tokens(&self) -> Option<TokenCounts> {
        token_counts(&self.message.as_ref()?["usage"])
    }

    pub fn finish(mut self) -> Option<Value> {
        let open: Vec<usize> = self.inputs.iter().map(|(i, _)| *i).collect();
        for i in open {
            self.parse_input(i);
        }
        self.message
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunks::ChunkFactory;

    fn run(chunks: &[ChatChunk], stops: &[&str]) -> Vec<Value> {
        let mut t = EventTranslator::new(
            "gpt".into(),
            stops.iter().map(|s| (*s).to_owned()).collect(),
            9,
        );
        let mut out = Vec::new();
        for c in chunks {
            t.push(c, &mut out);
            if t.is_done() {
                break;
            }
        }
        t.finish(&mut out);
        out
    }

    fn kinds(events: &[Value]) -> Vec<String> {
        events
            .iter()
            .map(|e| {
                let kind = e["type"].as_str().unwrap().to_owned();
                match e["index"].as_u64() {
                    Some(i) => format!("{kind}:{i}"),
                    None => kind,
                }
            })
            .collect()
    }

    #[test]
    fn reasoning_text_and_two_tools_make_contiguous_blocks() {
        let f = ChunkFactory::new("chatcmpl-x".into(), 1, "gpt-4o".into());
        let chunks = [
            f.role(0),
            f.reasoning(0, "think".into()),
            f.content(0, "Sure.".into()),
            f.tool_start(0, 0, "call_a".into(), "a".into()),
            f.tool_args(0, 0, "{\"q\":".into()),
            f.tool_args(0, 0, "1}".into()),
            f.tool_start(0, 1, "call_b".into(), "b".into()),
            f.finish(0, "tool_calls".into()),
            f.usage(Usage {
                prompt_tokens: 30,
                completion_tokens: 12,
                ..Usage::default()
            }),
        ];
        let events = run(&chunks, &[]);
        assert_eq!(
            kinds(&events),
            [
                "message_start",
                "ping",
                "content_block_start:0",
                "content_block_delta:0",
                "content_block_stop:0",
                "content_block_start:1",
                "content_block_delta:1",
                "content_block_stop:1",
                "content_block_start:2",
                "content_block_delta:2",
                "content_block_delta:2",
                "content_block_stop:2",
                "content_block_start:3",
                "content_block_stop:3",
                "message_delta",
                "message_stop"
            ]
        );
        assert_eq!(events[0]["message"]["usage"]["input_tokens"], 9);
        assert_eq!(events[0]["message"]["id"], "msg_x");
        assert_eq!(events[2]["content_block"]["type"], "thinking");
        assert_eq!(
            events[8]["content_block"],
            json!({"type": "tool_use", "id": "call_a", "name": "a", "input": {}})
        );
        let end = &events[14];
        assert_eq!(end["delta"]["stop_reason"], "tool_use");
        assert_eq!(end["usage"]["input_tokens"], 30);
        assert_eq!(end["usage"]["output_tokens"], 12);

        let mut fold = MessageFold::default();
        for e in &events {
            fold.push(e);
        }
        assert!(fold.stopped());
        assert_eq!(fold.tokens().unwrap().prompt, 30);
        let message = fold.finish().unwrap();
        assert_eq!(message["content"][1]["text"], "Sure.");
        assert_eq!(message["content"][2]["input"], json!({"q": 1}));
        assert_eq!(message["content"][0]["thinking"], "think");
        assert_eq!(message["stop_reason"], "tool_use");
    }

    #[test]
    fn a_stop_sequence_split_across_chunks_ends_the_answer_there() {
        let f = ChunkFactory::new("chatcmpl-y".into(), 1, "gpt".into());
        let chunks = [
            f.role(0),
            f.content(0, "one two ST".into()),
            f.content(0, "OP three".into()),
            f.finish(0, "stop".into()),
        ];
        let events = run(&chunks, &["STOP", "never"]);
        let text: String = events
            .iter()
            .filter_map(|e| e["delta"]["text"].as_str())
            .collect();
        assert_eq!(text, "one two ");
        let end = events
            .iter()
            .find(|e| e["type"] == "message_delta")
            .unwrap();
        assert_eq!(end["delta"]["stop_reason"], "stop_sequence");
        assert_eq!(end["delta"]["stop_sequence"], "STOP");
        // Text that only looked like the start of a stop sequence is sent in the end.
        let events = run(
            &[
                f.role(0),
                f.content(0, "a S".into()),
                f.finish(0, "length".into()),
            ],
            &["STOP"],
        );
        let text: String = events
            .iter()
            .filter_map(|e| e["delta"]["text"].as_str())
            .collect();
        assert_eq!(text, "a S");
        let end = events
            .iter()
            .find(|e| e["type"] == "message_delta")
            .unwrap();
        assert_eq!(end["delta"]["stop_reason"], "max_tokens");
    }

    #[test]
    fn signatures_join_their_thinking_block() {
        let f = ChunkFactory::new("chatcmpl-z".into(), 1, "m".into());
        let signed = ThinkingBlock {
            kind: "thinking".into(),
            thinking: Some("deep".into()),
            signature: Some("sig-1".into()),
            data: None,
        };
        let events = run(
            &[
                f.role(0),
                f.reasoning(0, "deep".into()),
                f.thinking_blocks(0, vec![signed]),
                f.content(0, "ok".into()),
                f.finish(0, "stop".into()),
            ],
            &[],
        );
        assert_eq!(events[4]["delta"]["type"], "signature_delta");
        assert_eq!(events[4]["index"], 0);
        assert_eq!(events[5]["type"], "content_block_stop");
        let mut fold = MessageFold::default();
        events.iter().for_each(|e| fold.push(e));
        let m = fold.finish().unwrap();
        assert_eq!(m["content"][0]["signature"], "sig-1");
        assert_eq!(m["stop_reason"], "end_turn");
    }
}
