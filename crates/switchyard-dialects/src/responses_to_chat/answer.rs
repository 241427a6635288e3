//! The answer side of [`super`]: a chat answer as Responses output items and the Response
//! object, usage both ways (with the estimate when an upstream reported none), and how a
//! native Responses upstream's `error` events read as an [`UpstreamError`].

use serde_json::{Map, Value, json};

use super::{LOCAL_SHELL, ToolKinds, new_id};
use crate::error::UpstreamError;
use crate::openai::{ChatResponse, ResponseMessage, Usage};
use crate::responses::CreateResponse;
use crate::tokens::{TokenCounts, estimate_chars};

/// A finished message item.
pub fn message_item(id: &str, text: &str) -> Value {
    json!({
        "type": "message",
        "id": id,
        "status": "completed",
        "role": "assistant",
        "content": [{"type": "output_text", "text": text, "annotations": [], "logprobs": []}],
    })
}

/// A finished reasoning item with its summary.
pub fn reasoning_item(id: &str, text: &str) -> Value {
    json!({
        "type": "reasoning",
        "id": id,
        "summary": [{"type": "summary_text", "text": text}],
    })
}

/// A finished tool call as the item its tool's kind calls for.
pub fn call_item(kinds: &ToolKinds, call_id: &str, flat: &str, arguments: &str) -> Value {
    let (namespace, name) = kinds.split(flat);
    let mut item = plain_call_item(kinds, call_id, flat, name, arguments);
    if let Some(namespace) = namespace {
        item["namespace"] = json!(namespace);
    }
    item
}

fn plain_call_item(
    kinds: &ToolKinds,
    call_id: &str,
    flat: &str,
    name: &str,
    arguments: &str,
) -> Value {
    if kinds.custom.contains(flat) {
        let input = serde_json::from_str::<Value>(arguments)
            .ok()
            .and_then(|v| v["input"].as_str().map(str::to_owned))
            .unwrap_or_else(|| arguments.to_owned());
        return json!({
            "type": "custom_tool_call",
            "id": new_id("ctc"),
            "call_id": call_id,
            "name": name,
            "input": input,
            "status": "completed",
        });
    }
    if kinds.local_shell && flat == LOCAL_SHELL {
        let mut action = serde_json::from_str::<Value>(arguments).unwrap_or_else(|_| json!({}));
        if let Some(a) = action.as_object_mut() {
            a.insert("type".into(), json!("exec"));
        }
        return json!({
            "type": "local_shell_call",
            "id": new_id("lsh"),
            "call_id": call_id,
            "action": action,
            "status": "completed",
        });
    }
    json!({
        "type": "function_call",
        "id": new_id("fc"),
        "call_id": call_id,
        "name": name,
        "arguments": arguments,
        "status": "completed",
    })
}

/// The output items of a chat answer: reasoning, then the message, then tool calls.
pub fn output_items(message: &ResponseMessage, kinds: &ToolKinds) -> Vec<Value> {
    let mut out = Vec::new();
    if let Some(r) = message
        .reasoning_content
        .as_deref()
        .filter(|r| !r.is_empty())
    {
        out.push(reasoning_item(&new_id("rs"), r));
    }
    if let Some(text) = message.content.as_deref().filter(|t| !t.is_empty()) {
        out.push(message_item(&new_id("msg"), text));
    }
    for c in message.tool_calls.iter().flatten() {
        out.push(call_item(
            kinds,
            &c.id,
            &c.function.name,
            &c.function.arguments,
        ));
    }
    out
}

/// Chat usage in the Responses shape.
pub fn usage_json(u: &Usage) -> Value {
    let cached = u
        .prompt_tokens_details
        .as_ref()
        .and_then(|d| d.cached_tokens)
        .unwrap_or(0);
    let reasoning = u
        .completion_tokens_details
        .as_ref()
        .and_then(|d| d.reasoning_tokens)
        .unwrap_or(0);
    json!({
        "input_tokens": u.prompt_tokens,
        "input_tokens_details": {"cached_tokens": cached},
        "output_tokens": u.completion_tokens,
        "output_tokens_details": {"reasoning_tokens": reasoning},
        "total_tokens": if u.total_tokens > 0 { u.total_tokens } else { u.prompt_tokens + u.completion_tokens },
    })
}

/// The Responses usage of an upstream that reported none: about four characters a token.
pub fn estimated_usage(input_chars: usize, output_chars: usize) -> Usage {
    let tokens = |chars: usize| estimate_chars(u64::try_from(chars).unwrap_or(u64::MAX));
    Usage {
        prompt_tokens: tokens(input_chars),
        completion_tokens: tokens(output_chars),
        total_tokens: tokens(input_chars) + tokens(output_chars),
        prompt_tokens_details: None,
        completion_tokens_details: None,
    }
}

/// How the Response ends, from the chat `finish_reason`: `(status, incomplete_details)`.
pub fn ending(finish_reason: Option<&str>) -> (&'static str, Value) {
    match finish_reason {
        Some("length") => ("incomplete", json!({"reason": "max_output_tokens"})),
        Some("content_filter") => ("incomplete", json!({"reason": "content_filter"})),
        _ => ("completed", Value::Null),
    }
}

/// The parts of a Response object that come from the request, echoed as OpenAI does.
#[derive(Debug, Clone)]
pub struct Echo {
    pub id: String,
    pub created_at: u64,
    pub model: String,
    fields: Map<String, Value>,
}

impl Echo {
    pub fn new(req: &CreateResponse, model: &str) -> Self {
        let or = |v: Option<Value>, default: Value| v.filter(|v| !v.is_null()).unwrap_or(default);
        let mut fields = Map::new();
        fields.insert(
            "instructions".into(),
            or(req.instructions.clone(), Value::Null),
        );
        fields.insert("max_output_tokens".into(), json!(req.max_output_tokens));
        fields.insert("metadata".into(), or(req.metadata.clone(), json!({})));
        fields.insert(
            "parallel_tool_calls".into(),
            json!(req.parallel_tool_calls.unwrap_or(true)),
        );
        fields.insert(
            "previous_response_id".into(),
            json!(req.previous_response_id),
        );
        fields.insert(
            "reasoning".into(),
            or(
                req.reasoning.clone(),
                json!({"effort": null, "summary": null}),
            ),
        );
        fields.insert("store".into(), json!(req.keeps()));
        fields.insert("temperature".into(), json!(req.temperature.unwrap_or(1.0)));
        fields.insert(
            "text".into(),
            or(req.text.clone(), json!({"format": {"type": "text"}})),
        );
        fields.insert(
            "tool_choice".into(),
            or(req.tool_choice.clone(), json!("auto")),
        );
        fields.insert("tools".into(), json!(req.tools.clone().unwrap_or_default()));
        fields.insert("top_p".into(), json!(req.top_p.unwrap_or(1.0)));
        fields.insert("truncation".into(), json!("disabled"));
        fields.insert("user".into(), or(req.user.clone(), Value::Null));
        Self {
            id: new_id("resp"),
            created_at: crate::chunks::unix_now(),
            model: model.to_owned(),
            fields,
        }
    }

    /// The Response object in a given state.
    pub fn response(
        &self,
        status: &str,
        output: &[Value],
        usage: Option<Value>,
        error: Value,
        incomplete: Value,
    ) -> Value {
        let mut r = Map::new();
        r.insert("id".into(), json!(self.id));
        r.insert("object".into(), json!("response"));
        r.insert("created_at".into(), json!(self.created_at));
        r.insert("status".into(), json!(status));
        r.insert("error".into(), error);
        r.insert("incomplete_details".into(), incomplete);
        r.insert("model".into(), json!(self.model));
        r.insert("output".into(), Value::Array(output.to_vec()));
        r.insert("usage".into(), usage.unwrap_or(Value::Null));
        r.extend(self.fields.clone());
        Value::Object(r)
    }
}

/// A whole chat answer as a Response object.
pub fn to_response(
    answer: &ChatResponse,
    echo: &mut Echo,
    kinds: &ToolKinds,
    input_chars: usize,
) -> Value {
    let choice = answer.choices.first();
    let output = choice
        .map(|c| output_items(&c.message, kinds))
        .unwrap_or_default();
    let usage = answer.usage.clone().unwrap_or_else(|| {
        let chars = choice
            .and_then(|c| c.message.content.as_deref())
            .map_or(0, str::len);
        estimated_usage(input_chars, chars)
    });
    if !answer.model.is_empty() {
        echo.model.clone_from(&answer.model);
    }
    let (status, incomplete) = ending(choice.and_then(|c| c.finish_reason.as_deref()));
    echo.response(
        status,
        &output,
        Some(usage_json(&usage)),
        Value::Null,
        incomplete,
    )
}

/// How many characters a conversation holds, for estimates.
pub fn chars(items: &[Value]) -> usize {
    items.iter().map(|i| i.to_string().len()).sum()
}

/// Token counts from a Responses `usage` object.
pub fn token_counts(usage: &Value) -> Option<TokenCounts> {
    Some(TokenCounts {
        prompt: usage["input_tokens"].as_u64()?,
        completion: usage["output_tokens"].as_u64().unwrap_or(0),
        cached: usage["input_tokens_details"]["cached_tokens"]
            .as_u64()
            .unwrap_or(0),
        reasoning: usage["output_tokens_details"]["reasoning_tokens"]
            .as_u64()
            .unwrap_or(0),
    })
}

/// An `error` or `response.failed` event as an upstream error, with the status its code implies.
pub fn stream_error(data: &str) -> UpstreamError {
    let value: serde_json::Value = serde_json::from_str(data).unwrap_or_default();
    let error = if value["response"]["error"].is_object() {
        &value["response"]["error"]
    } else if value["error"].is_object() {
        &value["error"]
    } else {
        &value
    };
    let code = error["code"]
        .as_str()
        .or_else(|| error["type"].as_str())
        .unwrap_or("server_error")
        .to_owned();
    let message = error["message"]
        .as_str()
        .map_or_else(|| data.chars().take(300).collect(), str::to_owned);
    let status = match code.as_str() {
        "context_length_exceeded" | "invalid_request_error" | "invalid_prompt" => 400,
        "insufficient_quota" | "rate_limit_exceeded" => 429,
        "server_is_overloaded" | "slow_down" => 503,
        _ => 500,
    };
    UpstreamError::Status {
        status,
        kind: match status {
            400 => "invalid_request_error",
            429 => "rate_limit_error",
            _ => "server_error",
        }
        .to_owned(),
        code: Some(code),
        param: None,
        message,
        retry_after: None,
    }
}
