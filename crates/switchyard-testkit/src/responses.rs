//! The OpenAI Responses API shapes the fake sends on `POST /v1/responses`: a whole `response`
//! object, the streamed events of clients.md §3b (every one with `type`, `sequence_number` and
//! a matching `event:` line, whole items in `output_item.done`, one terminal event, no
//! `[DONE]`), and the in-stream failure. Pure rendering from a resolved reply, no I/O.

use serde_json::{Map, Value, json};

use crate::content::{Resolved, ResolvedTool, split_arguments};
use crate::render::json_event;

/// Request fields a Response echoes back, and the number its ids carry.
#[derive(Debug)]
pub(crate) struct Echo {
    fields: Map<String, Value>,
    number: u64,
}

/// The request fields a Response echoes.
const ECHOED: &[&str] = &[
    "instructions",
    "max_output_tokens",
    "metadata",
    "parallel_tool_calls",
    "previous_response_id",
    "store",
    "temperature",
    "tool_choice",
    "tools",
    "top_p",
];

/// What a Response echoes for a field the request left out.
fn echo_default(field: &str) -> Value {
    match field {
        "metadata" => json!({}),
        "parallel_tool_calls" | "store" => json!(true),
        "temperature" | "top_p" => json!(1.0),
        "tool_choice" => json!("auto"),
        "tools" => json!([]),
        _ => Value::Null,
    }
}

impl Echo {
    /// Reads the echoed fields from a request body (defaults for anything missing); `number`
    /// makes the ids (`resp_fakeN`, `msg_fakeN`, `rs_fakeN`) unique.
    pub(crate) fn parse(body: &[u8], number: u64) -> Self {
        let mut req: Map<String, Value> = serde_json::from_slice(body).unwrap_or_default();
        let fields = ECHOED
            .iter()
            .map(|name| {
                let value = req
                    .remove(*name)
                    .filter(|v| !v.is_null())
                    .unwrap_or_else(|| echo_default(name));
                ((*name).to_owned(), value)
            })
            .collect();
        Self { fields, number }
    }
}

fn response_id(echo: &Echo) -> String {
    format!("resp_fake{}", echo.number)
}

fn message_id(echo: &Echo) -> String {
    format!("msg_fake{}", echo.number)
}

fn reasoning_id(echo: &Echo) -> String {
    format!("rs_fake{}", echo.number)
}

/// `fc_N` for the tool call whose call id is `call_N`.
fn function_call_id(tool: &ResolvedTool<'_>) -> String {
    format!(
        "fc_{}",
        tool.id.strip_prefix("call_").unwrap_or(tool.id.as_str())
    )
}

/// The opaque stand-in for encrypted reasoning: recognisable, and different per reasoning text.
fn encrypted(reasoning: &str) -> String {
    use base64::Engine as _;
    format!(
        "gAAAAfake{}",
        base64::engine::general_purpose::STANDARD.encode(reasoning)
    )
}

/// How the response ends: `completed`, or `incomplete` with its reason.
fn ending(r: &Resolved<'_>) -> (&'static str, Value) {
    match r.finish_reason {
        Some("length") => ("incomplete", json!({"reason": "max_output_tokens"})),
        Some("content_filter") => ("incomplete", json!({"reason": "content_filter"})),
        _ => ("completed", Value::Null),
    }
}

fn usage(r: &Resolved<'_>) -> Value {
    json!({
        "input_tokens": r.prompt_tokens,
        "input_tokens_details": {"cached_tokens": r.cached_tokens},
        "output_tokens": r.completion_tokens,
        "output_tokens_details": {"reasoning_tokens": r.reasoning_tokens},
        "total_tokens": r.prompt_tokens.saturating_add(r.completion_tokens),
    })
}

/// A `response` object in `status`, with these output items.
fn response(r: &Resolved<'_>, echo: &Echo, status: &str, output: Vec<Value>) -> Value {
    let mut v = json!({
        "id": response_id(echo),
        "object": "response",
        "created_at": r.created,
        "status": status,
        "error": null,
        "incomplete_details": null,
        "model": r.model,
        "output": output,
        "usage": null,
    });
    if let Some(o) = v.as_object_mut() {
        o.extend(echo.fields.clone());
    }
    v
}

fn output_text(text: &str) -> Value {
    json!({"type": "output_text", "text": text, "annotations": [], "logprobs": []})
}

/// The reasoning item, with its summary once done; `encrypted_content` when the request asked.
fn reasoning_item(echo: &Echo, reasoning: &str, encrypt: bool, done: bool) -> Value {
    let summary = if done {
        json!([{"type": "summary_text", "text": reasoning}])
    } else {
        json!([])
    };
    let mut item = json!({"id": reasoning_id(echo), "type": "reasoning", "summary": summary});
    if encrypt {
        item["encrypted_content"] = json!(encrypted(reasoning));
    }
    item
}

fn message_item(echo: &Echo, status: &str, content: Vec<Value>) -> Value {
    json!({
        "id": message_id(echo),
        "type": "message",
        "status": status,
        "role": "assistant",
        "content": content,
    })
}

fn function_call_item(tool: &ResolvedTool<'_>, status: &str, arguments: &str) -> Value {
    json!({
        "id": function_call_id(tool),
        "type": "function_call",
        "status": status,
        "arguments": arguments,
        "call_id": tool.id,
        "name": tool.name,
    })
}

/// Whether the answer has a message item: it has text, or nothing else to say.
fn has_message(r: &Resolved<'_>) -> bool {
    !r.text.is_empty() || r.tools.is_empty()
}

/// Every output item, whole.
fn output(r: &Resolved<'_>, echo: &Echo, encrypt: bool) -> Vec<Value> {
    let (status, _) = ending(r);
    let mut items = Vec::new();
    if let Some(reasoning) = r.reasoning {
        items.push(reasoning_item(echo, reasoning, encrypt, true));
    }
    if has_message(r) {
        items.push(message_item(echo, status, vec![output_text(&r.text)]));
    }
    for tool in &r.tools {
        items.push(function_call_item(tool, "completed", &tool.arguments));
    }
    items
}

/// A whole (non-streamed) `response` body.
pub(crate) fn response_body(r: &Resolved<'_>, echo: &Echo, encrypt: bool) -> Vec<u8> {
    let (status, incomplete) = ending(r);
    let mut body = response(r, echo, status, output(r, echo, encrypt));
    body["incomplete_details"] = incomplete;
    body["usage"] = usage(r);
    crate::render::json_vec(&body)
}

/// SSE events numbered from a starting sequence number.
struct Events {
    next: u64,
    out: Vec<Vec<u8>>,
}

impl Events {
    fn push(&mut self, kind: &str, fields: Value) {
        let mut event = Map::new();
        event.insert("type".into(), json!(kind));
        event.insert("sequence_number".into(), json!(self.next));
        if let Value::Object(fields) = fields {
            event.extend(fields);
        }
        self.out.push(json_event(Some(kind), &event));
        self.next += 1;
    }

    /// `output_item.added`, then what `body` streams, then `output_item.done` with `done`.
    fn item(&mut self, index: usize, added: Value, done: Value, body: impl FnOnce(&mut Self)) {
        self.push(
            "response.output_item.added",
            json!({"output_index": index, "item": added}),
        );
        body(self);
        self.push(
            "response.output_item.done",
            json!({"output_index": index, "item": done}),
        );
    }
}

/// The SSE events of a streamed response, from `response.created` to its one terminal event.
pub(crate) fn stream_events(r: &Resolved<'_>, echo: &Echo, encrypt: bool) -> Vec<Vec<u8>> {
    let mut ev = Events {
        next: 0,
        out: Vec::new(),
    };
    let started = response(r, echo, "in_progress", Vec::new());
    ev.push("response.created", json!({"response": started}));
    ev.push("response.in_progress", json!({"response": started}));
    let whole = output(r, echo, encrypt);
    let mut index = 0;
    if let Some(reasoning) = r.reasoning {
        let id = reasoning_id(echo);
        let added = reasoning_item(echo, reasoning, encrypt, false);
        ev.item(index, added, whole[index].clone(), |ev| {
            let at = json!({"item_id": id, "output_index": index, "summary_index": 0});
            let with = |extra: Value| merge(&at, extra);
            ev.push(
                "response.reasoning_summary_part.added",
                with(json!({"part": {"type": "summary_text", "text": ""}})),
            );
            for piece in r.reasoning_pieces() {
                ev.push(
                    "response.reasoning_summary_text.delta",
                    with(json!({"delta": piece})),
                );
            }
            ev.push(
                "response.reasoning_summary_text.done",
                with(json!({"text": reasoning})),
            );
            ev.push(
                "response.reasoning_summary_part.done",
                with(json!({"part": {"type": "summary_text", "text": reasoning}})),
            );
        });
        index += 1;
    }
    if has_message(r) {
        let id = message_id(echo);
        let added = message_item(echo, "in_progress", Vec::new());
        ev.item(index, added, whole[index].clone(), |ev| {
            let at = json!({"item_id": id, "output_index": index, "content_index": 0});
            let with = |extra: Value| merge(&at, extra);
            ev.push(
                "response.content_part.added",
                with(json!({"part": output_text("")})),
            );
            for piece in r.text_pieces() {
                ev.push(
                    "response.output_text.delta",
                    with(json!({"delta": piece, "logprobs": []})),
                );
            }
            ev.push(
                "response.output_text.done",
                with(json!({"text": r.text, "logprobs": []})),
            );
            ev.push(
                "response.content_part.done",
                with(json!({"part": output_text(&r.text)})),
            );
        });
        index += 1;
    }
    for tool in &r.tools {
        let added = function_call_item(tool, "in_progress", "");
        ev.item(index, added, whole[index].clone(), |ev| {
            let at = json!({"item_id": function_call_id(tool), "output_index": index});
            for piece in split_arguments(&tool.arguments) {
                ev.push(
                    "response.function_call_arguments.delta",
                    merge(&at, json!({"delta": piece})),
                );
            }
            ev.push(
                "response.function_call_arguments.done",
                merge(&at, json!({"arguments": tool.arguments, "name": tool.name})),
            );
        });
        index += 1;
    }
    let (status, incomplete) = ending(r);
    let mut done = response(r, echo, status, whole);
    done["incomplete_details"] = incomplete;
    done["usage"] = usage(r);
    let terminal = if status == "completed" {
        "response.completed"
    } else {
        "response.incomplete"
    };
    ev.push(terminal, json!({"response": done}));
    ev.out
}

/// The in-stream failure, numbered from `next`: OpenAI's `error` event (`server_error`), then
/// `response.failed` with the error in the Response.
pub(crate) fn failure_events(r: &Resolved<'_>, echo: &Echo, next: u64) -> Vec<Vec<u8>> {
    const MESSAGE: &str = "The server had an error while processing your request.";
    let mut ev = Events {
        next,
        out: Vec::new(),
    };
    ev.push(
        "error",
        json!({"error": {"type": "server_error", "code": "server_error", "message": MESSAGE, "param": null}}),
    );
    let mut failed = response(r, echo, "failed", Vec::new());
    failed["error"] = json!({"code": "server_error", "message": MESSAGE});
    ev.push("response.failed", json!({"response": failed}));
    ev.out
}

/// `base` with the fields of `extra` added.
fn merge(base: &Value, extra: Value) -> Value {
    let mut out = base.clone();
    if let (Some(o), Value::Object(extra)) = (out.as_object_mut(), extra) {
        o.extend(extra);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::{ParsedRequest, ReplyCtx};
    use crate::script::{Reply, ToolCallSpec};

    const BODY: &[u8] = br#"{"model":"m","input":"hi","instructions":"Be brief.","include":["reasoning.encrypted_content"]}"#;

    fn ctx() -> ReplyCtx {
        ReplyCtx {
            request_index: 2,
            created: 100,
            first_tool_number: 5,
        }
    }

    fn parse(event: &[u8]) -> (String, Value) {
        let text = String::from_utf8_lossy(event);
        let name = text
            .lines()
            .find_map(|l| l.strip_prefix("event: "))
            .unwrap_or_default()
            .to_owned();
        let data = text
            .lines()
            .find_map(|l| l.strip_prefix("data: "))
            .and_then(|d| serde_json::from_str(d).ok())
            .unwrap_or_default();
        (name, data)
    }

    fn full_reply() -> Reply {
        Reply {
            text: Some("Let me check.".into()),
            reasoning: Some("need weather".into()),
            tool_calls: vec![ToolCallSpec::new("get_weather", json!({"city": "Paris"}))],
            prompt_tokens: Some(10),
            completion_tokens: Some(6),
            ..Reply::default()
        }
    }

    #[test]
    fn whole_response_has_items_usage_and_echo() -> Result<(), serde_json::Error> {
        let req = ParsedRequest::parse(BODY);
        assert!(req.encrypted_reasoning);
        let reply = full_reply();
        let r = Resolved::new(&reply, &req, ctx(), "call_");
        let v: Value = serde_json::from_slice(&response_body(
            &r,
            &Echo::parse(BODY, 2),
            req.encrypted_reasoning,
        ))?;
        assert_eq!(v["object"], "response");
        assert_eq!(v["id"], "resp_fake2");
        assert_eq!(v["status"], "completed");
        assert_eq!(v["model"], "m");
        assert_eq!(v["instructions"], "Be brief.");
        assert_eq!(v["tools"], json!([]));
        let kinds: Vec<&str> = v["output"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|i| i["type"].as_str())
            .collect();
        assert_eq!(kinds, ["reasoning", "message", "function_call"]);
        assert_eq!(v["output"][0]["summary"][0]["text"], "need weather");
        assert!(
            v["output"][0]["encrypted_content"]
                .as_str()
                .is_some_and(|e| e.starts_with("gAAAA"))
        );
        assert_eq!(v["output"][1]["content"][0]["text"], "Let me check.");
        let call = &v["output"][2];
        assert_eq!(call["id"], "fc_5");
        assert_eq!(call["call_id"], "call_5");
        assert_eq!(call["arguments"], r#"{"city":"Paris"}"#);
        assert_eq!(
            v["usage"],
            json!({"input_tokens": 10, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": 6, "output_tokens_details": {"reasoning_tokens": 2}, "total_tokens": 16})
        );
        // Without the include, no encrypted reasoning.
        let plain = br#"{"model":"m","input":"hi"}"#;
        let req = ParsedRequest::parse(plain);
        let r = Resolved::new(&reply, &req, ctx(), "call_");
        let v: Value = serde_json::from_slice(&response_body(
            &r,
            &Echo::parse(plain, 3),
            req.encrypted_reasoning,
        ))?;
        assert!(v["output"][0].get("encrypted_content").is_none());
        Ok(())
    }

    #[test]
    fn length_ends_incomplete() -> Result<(), serde_json::Error> {
        let req = ParsedRequest::parse(BODY);
        let reply = Reply {
            finish_reason: Some("length".into()),
            ..Reply::text("cut")
        };
        let r = Resolved::new(&reply, &req, ctx(), "call_");
        let v: Value = serde_json::from_slice(&response_body(&r, &Echo::parse(BODY, 2), false))?;
        assert_eq!(v["status"], "incomplete");
        assert_eq!(v["incomplete_details"]["reason"], "max_output_tokens");
        let events = stream_events(&r, &Echo::parse(BODY, 2), false);
        let (name, last) = parse(events.last().map(Vec::as_slice).unwrap_or_default());
        assert_eq!(name, "response.incomplete");
        assert_eq!(last["response"]["status"], "incomplete");
        Ok(())
    }

    #[test]
    fn stream_follows_the_reference_sequence() {
        let req = ParsedRequest::parse(BODY);
        let reply = Reply {
            chunks: 2,
            ..full_reply()
        };
        let r = Resolved::new(&reply, &req, ctx(), "call_");
        let events: Vec<(String, Value)> = stream_events(&r, &Echo::parse(BODY, 2), true)
            .iter()
            .map(|e| parse(e))
            .collect();
        let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "response.created",
                "response.in_progress",
                "response.output_item.added",
                "response.reasoning_summary_part.added",
                "response.reasoning_summary_text.delta",
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
                "response.function_call_arguments.delta",
                "response.function_call_arguments.done",
                "response.output_item.done",
                "response.completed",
            ]
        );
        for (n, (name, data)) in events.iter().enumerate() {
            assert_eq!(data["type"], name.as_str(), "event: names the type");
            assert_eq!(data["sequence_number"], n as u64);
        }
        let done: Vec<&Value> = events
            .iter()
            .filter(|(n, _)| n == "response.output_item.done")
            .map(|(_, d)| &d["item"])
            .collect();
        let (_, completed) = &events[events.len() - 1];
        let output: Vec<&Value> = completed["response"]["output"]
            .as_array()
            .into_iter()
            .flatten()
            .collect();
        assert_eq!(done, output, "output_item.done carries the whole items");
        assert_eq!(events[2].1["item"]["summary"], json!([]));
        assert_eq!(events[16].1["item"]["arguments"], "");
        assert_eq!(events[16].1["item"]["output_index"], Value::Null);
        assert_eq!(events[16].1["output_index"], 2);
        let text: String = events
            .iter()
            .filter(|(n, _)| n == "response.output_text.delta")
            .filter_map(|(_, d)| d["delta"].as_str())
            .collect();
        assert_eq!(text, "Let me check.");
        assert_eq!(events[20].1["arguments"], r#"{"city":"Paris"}"#);
        assert!(completed["response"]["usage"]["total_tokens"].is_u64());
    }

    #[test]
    fn failure_continues_the_numbering() {
        let req = ParsedRequest::parse(BODY);
        let reply = Reply::default();
        let r = Resolved::new(&reply, &req, ctx(), "call_");
        let events: Vec<(String, Value)> = failure_events(&r, &Echo::parse(BODY, 2), 4)
            .iter()
            .map(|e| parse(e))
            .collect();
        assert_eq!(events[0].0, "error");
        assert_eq!(events[0].1["sequence_number"], 4);
        assert_eq!(events[0].1["error"]["code"], "server_error");
        assert_eq!(events[1].0, "response.failed");
        assert_eq!(events[1].1["sequence_number"], 5);
        assert_eq!(events[1].1["response"]["status"], "failed");
        assert_eq!(events[1].1["response"]["id"], "resp_fake2");
        assert_eq!(events[1].1["response"]["error"]["code"], "server_error");
    }
}
