//! Chat chunks → Responses stream events, without I/O: the sequence of
//! `shared/reference/clients.md` §3b. One item is open at a time, except tool calls, which stay
//! open until the answer ends; every `output_item.done` carries the complete item (Codex reads
//! only those), and exactly one terminal event ends the stream.

use serde_json::{Value, json};

use super::{
    Echo, ToolKinds, call_item, ending, estimated_usage, message_item, new_id, reasoning_item,
    usage_json,
};
use crate::openai::{ChatChunk, ToolCallDelta, Usage};

/// The error that ends a failed stream, as the `error` event carries it: the error's `code`
/// (its `type` when it has none), message and `param`.
#[derive(Debug, Clone, Copy)]
pub struct StreamFailure<'a> {
    pub code: &'a str,
    pub message: &'a str,
    pub param: Option<&'a str>,
}

#[derive(Debug)]
enum Open {
    Message {
        index: usize,
        id: String,
        text: String,
    },
    Reasoning {
        index: usize,
        id: String,
        text: String,
    },
}

#[derive(Debug)]
struct Call {
    chat_index: u32,
    output_index: usize,
    id: String,
    call_id: String,
    name: String,
    arguments: String,
    custom: bool,
}

#[derive(Debug)]
pub struct EventTranslator {
    echo: Echo,
    kinds: ToolKinds,
    input_chars: usize,
    output_chars: usize,
    sequence: u64,
    started: bool,
    ended: bool,
    /// Output items so far; an open item's slot holds `null` until it is done.
    output: Vec<Value>,
    open: Option<Open>,
    calls: Vec<Call>,
    finish: Option<String>,
    usage: Option<Usage>,
}

impl EventTranslator {
    pub fn new(echo: Echo, kinds: ToolKinds, input_chars: usize) -> Self {
        Self {
            echo,
            kinds,
            input_chars,
            output_chars: 0,
            sequence: 0,
            started: false,
            ended: false,
            output: Vec::new(),
            open: None,
            calls: Vec::new(),
            finish: None,
            usage: None,
        }
    }

    fn emit(&mut self, out: &mut Vec<Value>, mut event: Value) {
        event["sequence_number"] = json!(self.sequence);
        self.sequence += 1;
        out.push(event);
    }

    /// `response.created` and `response.in_progress`, once.
    pub fn start(&mut self, out: &mut Vec<Value>) {
        if self.started {
            return;
        }
        self.started = true;
        let response = self
            .echo
            .response("in_progress", &[], None, Value::Null, Value::Null);
        self.emit(
            out,
            json!({"type": "response.created", "response": response.clone()}),
        );
        self.emit(
            out,
            json!({"type": "response.in_progress", "response": response}),
        );
    }

    pub fn push(&mut self, chunk: &ChatChunk, out: &mut Vec<Value>) {
        if self.ended {
            return;
        }
        self.start(out);
        if !chunk.model.is_empty() {
            self.echo.model.clone_from(&chunk.model);
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
            self.reasoning(r, out);
        }
        for text in [d.content.as_deref(), d.refusal.as_deref()]
            .into_iter()
            .flatten()
            .filter(|s| !s.is_empty())
        {
            self.text(text, out);
        }
        for call in d.tool_calls.iter().flatten() {
            self.tool(call, out);
        }
        if let Some(f) = &c.finish_reason {
            self.finish = Some(f.clone());
        }
    }

    fn reasoning(&mut self, delta: &str, out: &mut Vec<Value>) {
        self.output_chars += delta.len();
        if !matches!(self.open, Some(Open::Reasoning { .. })) {
            self.close(out);
            let index = self.output.len();
            let id = new_id("rs");
            self.output.push(Value::Null);
            self.emit(out, json!({"type": "response.output_item.added", "output_index": index, "item": {"type": "reasoning", "id": id, "summary": []}}));
            self.emit(out, json!({"type": "response.reasoning_summary_part.added", "item_id": id, "output_index": index, "summary_index": 0, "part": {"type": "summary_text", "text": ""}}));
            self.open = Some(Open::Reasoning {
                index,
                id,
                text: String::new(),
            });
        }
        if let Some(Open::Reasoning { index, id, text }) = &mut self.open {
            text.push_str(delta);
            let event = json!({"type": "response.reasoning_summary_text.delta", "item_id": id, "output_index": index, "summary_index": 0, "delta": delta});
            self.emit(out, event);
        }
    }

    fn text(&mut self, delta: &str, out: &mut Vec<Value>) {
        self.output_chars += delta.len();
        if !matches!(self.open, Some(Open::Message { .. })) {
            self.close(out);
            let index = self.output.len();
            let id = new_id("msg");
            self.output.push(Value::Null);
            self.emit(out, json!({"type": "response.output_item.added", "output_index": index, "item": {"type": "message", "id": id, "status": "in_progress", "role": "assistant", "content": []}}));
            self.emit(out, json!({"type": "response.content_part.added", "item_id": id, "output_index": index, "content_index": 0, "part": {"type": "output_text", "text": "", "annotations": [], "logprobs": []}}));
            self.open = Some(Open::Message {
                index,
                id,
                text: String::new(),
            });
        }
        if let Some(Open::Message { index, id, text }) = &mut self.open {
            text.push_str(delta);
            let event = json!({"type": "response.output_text.delta", "item_id": id, "output_index": index, "content_index": 0, "delta": delta, "logprobs": []});
            self.emit(out, event);
        }
    }

    fn tool(&mut self, delta: &ToolCallDelta, out: &mut Vec<Value>) {
        let function = delta.function.as_ref();
        let pos = match self.calls.iter().position(|c| c.chat_index == delta.index) {
            Some(pos) => pos,
            None => {
                self.close(out);
                let name = function.and_then(|f| f.name.clone()).unwrap_or_default();
                let call_id = delta.id.clone().unwrap_or_else(|| new_id("call"));
                let custom = self.kinds.custom.contains(&name);
                let output_index = self.output.len();
                let id = new_id(if custom { "ctc" } else { "fc" });
                self.output.push(Value::Null);
                let (namespace, own_name) = self.kinds.split(&name);
                let mut item = if custom {
                    json!({"type": "custom_tool_call", "id": id, "call_id": call_id, "name": own_name, "input": "", "status": "in_progress"})
                } else {
                    json!({"type": "function_call", "id": id, "call_id": call_id, "name": own_name, "arguments": "", "status": "in_progress"})
                };
                if let Some(namespace) = namespace {
                    item["namespace"] = json!(namespace);
                }
                self.emit(
                    out,
                    json!({"type": "response.output_item.added", "output_index": output_index, "item": item}),
                );
                self.calls.push(Call {
                    chat_index: delta.index,
                    output_index,
                    id,
                    call_id,
                    name,
                    arguments: String::new(),
                    custom,
                });
                self.calls.len() - 1
            }
        };
        let Some(piece) = function
            .and_then(|f| f.arguments.as_deref())
            .filter(|a| !a.is_empty())
        else {
            return;
        };
        self.output_chars += piece.len();
        let call = &mut self.calls[pos];
        call.arguments.push_str(piece);
        // A custom tool's input is inside the JSON arguments: it is sent whole at the end.
        if !call.custom {
            let event = json!({"type": "response.function_call_arguments.delta", "item_id": call.id, "output_index": call.output_index, "delta": piece});
            self.emit(out, event);
        }
    }

    /// Ends the open message or reasoning item.
    fn close(&mut self, out: &mut Vec<Value>) {
        match self.open.take() {
            None => {}
            Some(Open::Message { index, id, text }) => {
                self.emit(out, json!({"type": "response.output_text.done", "item_id": id, "output_index": index, "content_index": 0, "text": text, "logprobs": []}));
                self.emit(out, json!({"type": "response.content_part.done", "item_id": id, "output_index": index, "content_index": 0, "part": {"type": "output_text", "text": text, "annotations": [], "logprobs": []}}));
                let item = message_item(&id, &text);
                self.done(out, index, item);
            }
            Some(Open::Reasoning { index, id, text }) => {
                self.emit(out, json!({"type": "response.reasoning_summary_text.done", "item_id": id, "output_index": index, "summary_index": 0, "text": text}));
                self.emit(out, json!({"type": "response.reasoning_summary_part.done", "item_id": id, "output_index": index, "summary_index": 0, "part": {"type": "summary_text", "text": text}}));
                let item = reasoning_item(&id, &text);
                self.done(out, index, item);
            }
        }
    }

    fn done(&mut self, out: &mut Vec<Value>, index: usize, item: Value) {
        if let Some(slot) = self.output.get_mut(index) {
            *slot = item.clone();
        }
        self.emit(
            out,
            json!({"type": "response.output_item.done", "output_index": index, "item": item}),
        );
    }

    fn close_all(&mut self, out: &mut Vec<Value>) {
        self.close(out);
        for call in std::mem::take(&mut self.calls) {
            let arguments = if call.arguments.is_empty() {
                "{}".to_owned()
            } else {
                call.arguments
            };
            let mut item = call_item(&self.kinds, &call.call_id, &call.name, &arguments);
            item["id"] = json!(call.id);
            if call.custom {
                let input = item["input"].clone();
                self.emit(out, json!({"type": "response.custom_tool_call_input.delta", "item_id": call.id, "output_index": call.output_index, "delta": input}));
                self.emit(out, json!({"type": "response.custom_tool_call_input.done", "item_id": call.id, "output_index": call.output_index, "input": input}));
            } else if item["type"] == "function_call" {
                let name = item["name"].clone();
                self.emit(out, json!({"type": "response.function_call_arguments.done", "item_id": call.id, "output_index": call.output_index, "arguments": arguments, "name": name}));
            }
            self.done(out, call.output_index, item);
        }
    }

    /// Closes what is open and ends with `response.completed` (or `response.incomplete` when
    /// the answer hit its token limit). Returns the final Response.
    pub fn finish(&mut self, out: &mut Vec<Value>) -> Option<Value> {
        if self.ended {
            return None;
        }
        self.start(out);
        self.close_all(out);
        self.ended = true;
        let usage = self
            .usage
            .clone()
            .unwrap_or_else(|| estimated_usage(self.input_chars, self.output_chars));
        let (status, incomplete) = ending(self.finish.as_deref());
        let response = self.echo.response(
            status,
            &self.output,
            Some(usage_json(&usage)),
            Value::Null,
            incomplete,
        );
        let kind = if status == "completed" {
            "response.completed"
        } else {
            "response.incomplete"
        };
        self.emit(out, json!({"type": kind, "response": response.clone()}));
        Some(response)
    }

    /// Ends a stream that failed: `error`, then `response.failed` with the items finished so
    /// far. Returns the final Response. The `error` event is flat (`code`, `message`, `param`),
    /// the SDKs' typed shape: a nested `error` object makes the OpenAI SDKs abort the stream
    /// before `response.failed`.
    pub fn fail(&mut self, e: &StreamFailure<'_>, out: &mut Vec<Value>) -> Option<Value> {
        if self.ended {
            return None;
        }
        self.start(out);
        self.ended = true;
        let code = e.code;
        self.emit(
            out,
            json!({
                "type": "error",
                "code": code,
                "message": e.message,
                "param": e.param,
            }),
        );
        let done: Vec<Value> = self
            .output
            .iter()
            .filter(|i| !i.is_null())
            .cloned()
            .collect();
        let usage = self.usage.as_ref().map(usage_json);
        let response = self.echo.response(
            "failed",
            &done,
            usage,
            json!({"code": code, "message": e.message}),
            Value::Null,
        );
        self.emit(
            out,
            json!({"type": "response.failed", "response": response.clone()}),
        );
        Some(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::responses::CreateResponse;

    fn chunk(json: Value) -> ChatChunk {
        serde_json::from_value(json).unwrap()
    }

    fn translator(kinds: ToolKinds) -> EventTranslator {
        let req: CreateResponse =
            serde_json::from_value(json!({"model": "m", "input": "hi"})).unwrap();
        EventTranslator::new(Echo::new(&req, "m"), kinds, 8)
    }

    #[test]
    fn text_then_parallel_calls_follow_the_recorded_sequence() {
        let mut t = translator(ToolKinds::default());
        let mut out = Vec::new();
        t.push(&chunk(json!({"id": "c", "model": "up", "choices": [{"index": 0, "delta": {"role": "assistant", "reasoning_content": "think"}}]})), &mut out);
        t.push(
            &chunk(json!({"id": "c", "choices": [{"index": 0, "delta": {"content": "Hel"}}]})),
            &mut out,
        );
        t.push(
            &chunk(json!({"id": "c", "choices": [{"index": 0, "delta": {"content": "lo"}}]})),
            &mut out,
        );
        t.push(&chunk(json!({"id": "c", "choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "id": "call_a", "function": {"name": "f", "arguments": "{\"x\":"}}]}}]})), &mut out);
        t.push(&chunk(json!({"id": "c", "choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": "1}"}}]}}]})), &mut out);
        t.push(&chunk(json!({"id": "c", "choices": [{"index": 0, "delta": {"tool_calls": [{"index": 1, "id": "call_b", "function": {"name": "g", "arguments": "{}"}}]}}]})), &mut out);
        t.push(&chunk(json!({"id": "c", "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}], "usage": {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12}})), &mut out);
        let response = t.finish(&mut out).unwrap();
        let types: Vec<&str> = out.iter().map(|e| e["type"].as_str().unwrap()).collect();
        assert_eq!(
            types,
            [
                "response.created",
                "response.in_progress",
                "response.output_item.added",
                "response.reasoning_summary_part.added",
                "response.reasoning_summary_text.delta",
                "response.reasoning_summary_text.done",
                "response.reasoning_summary_part.done",
                "response.output_item.done",
                "response.output_item.added",
                "response.content_part.added",
                "response.output_text.delta",
                "response.output_text.delta",
                "response.output_text.done",
                "response.content_part.done",
                "response.output_item.done",
                "response.output_item.added",
                "response.function_call_arguments.delta",
                "response.function_call_arguments.delta",
                "response.output_item.added",
                "response.function_call_arguments.delta",
                "response.function_call_arguments.done",
                "response.output_item.done",
                "response.function_call_arguments.done",
                "response.output_item.done",
                "response.completed",
            ]
        );
        for (n, e) in out.iter().enumerate() {
            assert_eq!(e["sequence_number"], n as u64);
        }
        let output = response["output"].as_array().unwrap();
        assert_eq!(output.len(), 4);
        assert_eq!(output[1]["content"][0]["text"], "Hello");
        assert_eq!(output[2]["arguments"], "{\"x\":1}");
        assert_eq!(output[2]["call_id"], "call_a");
        assert_eq!(output[3]["name"], "g");
        assert_eq!(response["usage"]["total_tokens"], 12);
        assert_eq!(response["model"], "up");
        // Each done item is the one the final output holds, with the id it was added with.
        let done: Vec<&Value> = out
            .iter()
            .filter(|e| e["type"] == "response.output_item.done")
            .map(|e| &e["item"])
            .collect();
        assert_eq!(done.len(), 4);
        for item in done {
            assert!(output.contains(item));
        }
    }

    #[test]
    fn a_failure_ends_with_error_then_failed_keeping_finished_items() {
        let mut t = translator(ToolKinds::default());
        let mut out = Vec::new();
        t.push(
            &chunk(json!({"id": "c", "choices": [{"index": 0, "delta": {"content": "partial"}}]})),
            &mut out,
        );
        let e = StreamFailure {
            code: "server_error",
            message: "upstream cut",
            param: None,
        };
        let response = t.fail(&e, &mut out).unwrap();
        let last: Vec<&str> = out[out.len() - 2..]
            .iter()
            .map(|e| e["type"].as_str().unwrap())
            .collect();
        assert_eq!(last, ["error", "response.failed"]);
        assert_eq!(response["status"], "failed");
        assert_eq!(response["error"]["message"], "upstream cut");
        assert!(t.finish(&mut out).is_none(), "one terminal event only");
    }

    #[test]
    fn length_limits_end_incomplete_and_custom_calls_carry_raw_input() {
        let mut t = translator(ToolKinds {
            custom: ["apply_patch".to_owned()].into(),
            ..ToolKinds::default()
        });
        let mut out = Vec::new();
        t.push(&chunk(json!({"id": "c", "choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "id": "k", "function": {"name": "apply_patch", "arguments": "{\"input\":\"*** Begin"}}]}}]})), &mut out);
        t.push(&chunk(json!({"id": "c", "choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": " Patch\"}"}}]}, "finish_reason": "length"}]})), &mut out);
        let response = t.finish(&mut out).unwrap();
        assert_eq!(out.last().unwrap()["type"], "response.incomplete");
        assert_eq!(
            response["incomplete_details"]["reason"],
            "max_output_tokens"
        );
        assert_eq!(response["output"][0]["type"], "custom_tool_call");
        assert_eq!(response["output"][0]["input"], "*** Begin Patch");
        assert!(
            response["usage"]["input_tokens"].as_u64().unwrap() > 0,
            "estimated when the upstream sent none"
        );
    }

    #[test]
    fn streamed_namespace_calls_are_named_as_the_client_declared_them() {
        let mut t = translator(ToolKinds {
            namespaced: [(
                "agents__spawn".to_owned(),
                ("agents".to_owned(), "spawn".to_owned()),
            )]
            .into(),
            ..ToolKinds::default()
        });
        let mut out = Vec::new();
        t.push(&chunk(json!({"id": "c", "choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "id": "k", "function": {"name": "agents__spawn", "arguments": "{}"}}]}, "finish_reason": "tool_calls"}]})), &mut out);
        let response = t.finish(&mut out).unwrap();
        let added = out
            .iter()
            .find(|e| e["type"] == "response.output_item.added")
            .unwrap();
        assert_eq!(
            (&added["item"]["namespace"], &added["item"]["name"]),
            (&json!("agents"), &json!("spawn"))
        );
        let done = out
            .iter()
            .find(|e| e["type"] == "response.function_call_arguments.done")
            .unwrap();
        assert_eq!(done["name"], "spawn");
        assert_eq!(
            (
                &response["output"][0]["namespace"],
                &response["output"][0]["name"]
            ),
            (&json!("agents"), &json!("spawn"))
        );
    }
}
