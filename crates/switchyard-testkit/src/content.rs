//! Resolves a `Reply` against the request it answers (text, ids, token counts, pieces to stream).
//! Dialect-neutral: the OpenAI and Anthropic modules render what this produces; no I/O here.

use std::borrow::Cow;

use serde::Deserialize;

use crate::script::Reply;

/// The parts of a chat/messages request body the fakes look at.
#[derive(Debug, Default)]
pub(crate) struct ParsedRequest {
    /// The body was a JSON object of the expected rough shape.
    pub valid: bool,
    pub model: Option<String>,
    pub stream: bool,
    pub include_usage: bool,
    pub last_user_text: String,
    /// The content of the last message when it is a tool result (OpenAI `role: "tool"`, or an
    /// Anthropic user turn of `tool_result` blocks): a fake model "reads" it back.
    pub last_tool_result: Option<String>,
    /// Responses API `include` asks for `reasoning.encrypted_content`.
    pub encrypted_reasoning: bool,
    /// The shape the request asks the answer to take, which a model follows.
    pub structured: Option<Structured>,
    pub body_len: usize,
}

/// An answer shape a request asks for. A fake reply with no scripted text or tool calls follows
/// it, with a value made from the schema, as a model under constrained decoding would.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Structured {
    /// JSON text: OpenAI `response_format`, Responses `text.format`, Anthropic
    /// `output_config.format` (or the beta's `output_format`).
    Text(serde_json::Value),
    /// A call of the tool that `tool_choice` names.
    Tool {
        name: String,
        input: serde_json::Value,
    },
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct WireRequest {
    model: Option<String>,
    stream: Option<bool>,
    stream_options: Option<WireStreamOptions>,
    messages: Option<Vec<WireMessage>>,
    /// Responses API: a string or a list of items, in place of `messages`.
    input: Option<serde_json::Value>,
    /// Responses API: extra output to include.
    include: Option<Vec<String>>,
    /// A legacy completions prompt, read as the user's text.
    prompt: Option<serde_json::Value>,
    response_format: Option<serde_json::Value>,
    output_config: Option<serde_json::Value>,
    output_format: Option<serde_json::Value>,
    /// Responses API: `text.format`.
    text: Option<serde_json::Value>,
    tool_choice: Option<serde_json::Value>,
    tools: Option<Vec<serde_json::Value>>,
}

impl WireRequest {
    fn structured(&self) -> Option<Structured> {
        let choice = self.tool_choice.as_ref();
        // Anthropic `{"type":"tool","name":…}`, OpenAI `{"type":"function","function":{"name":…}}`.
        let forced = choice
            .filter(|c| c["type"] == "tool")
            .and_then(|c| c["name"].as_str())
            .or_else(|| {
                choice
                    .filter(|c| c["type"] == "function")
                    .and_then(|c| c["function"]["name"].as_str())
            });
        if let Some(name) = forced {
            let tool = self.tools.iter().flatten().find(|t| {
                t["name"].as_str() == Some(name) || t["function"]["name"].as_str() == Some(name)
            })?;
            let schema = tool
                .get("input_schema")
                .or_else(|| tool["function"].get("parameters"))
                .or_else(|| tool.get("parameters"))?;
            return Some(Structured::Tool {
                name: name.to_owned(),
                input: instance(schema),
            });
        }
        let schema = |format: &serde_json::Value| match format["type"].as_str() {
            Some("json_object") => Some(serde_json::json!({})),
            Some("json_schema") => format
                .get("schema")
                .or_else(|| format["json_schema"].get("schema"))
                .map(instance),
            _ => None,
        };
        [
            self.response_format.as_ref(),
            self.output_config.as_ref().map(|c| &c["format"]),
            self.output_format.as_ref(),
            self.text.as_ref().map(|t| &t["format"]),
        ]
        .into_iter()
        .flatten()
        .find_map(schema)
        .map(Structured::Text)
    }
}

/// A value that satisfies `schema`, made the plain way: the first enum value or const, an
/// example string, 1, true, one item per array, and every property of an object.
pub(crate) fn instance(schema: &serde_json::Value) -> serde_json::Value {
    use serde_json::{Value, json};
    if let Some(v) = schema.get("const") {
        return v.clone();
    }
    if let Some(first) = schema["enum"].as_array().and_then(|e| e.first()) {
        return first.clone();
    }
    if let Some(first) = ["anyOf", "oneOf", "allOf"]
        .iter()
        .find_map(|k| schema[*k].as_array().and_then(|a| a.first()))
    {
        return instance(first);
    }
    let kind = match &schema["type"] {
        Value::Array(kinds) => kinds.iter().find(|k| *k != "null").cloned(),
        other => Some(other.clone()),
    };
    match kind.as_ref().and_then(Value::as_str) {
        Some("string") => json!("example"),
        Some("integer") => json!(1),
        Some("number") => json!(1.5),
        Some("boolean") => json!(true),
        Some("null") => Value::Null,
        Some("array") => json!([instance(&schema["items"])]),
        _ => Value::Object(
            schema["properties"]
                .as_object()
                .map(|props| {
                    props
                        .iter()
                        .map(|(k, v)| (k.clone(), instance(v)))
                        .collect()
                })
                .unwrap_or_default(),
        ),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct WireStreamOptions {
    include_usage: Option<bool>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct WireMessage {
    role: String,
    content: serde_json::Value,
}

impl ParsedRequest {
    /// Parses leniently: a body that is not JSON gives `valid: false` and defaults.
    pub(crate) fn parse(body: &[u8]) -> Self {
        let Ok(wire) = serde_json::from_slice::<WireRequest>(body) else {
            return Self {
                body_len: body.len(),
                ..Self::default()
            };
        };
        let structured = wire.structured();
        let (last_user_text, last_tool_result) = match (&wire.messages, &wire.input, &wire.prompt) {
            (None, Some(input), _) => input_texts(input),
            (None, None, Some(prompt)) => (crate::doors::prompt_text(prompt), None),
            (messages, _, _) => {
                let messages = messages.as_deref().unwrap_or_default();
                let user = messages
                    .iter()
                    .rev()
                    .find(|m| m.role == "user")
                    .map(|m| content_text(&m.content))
                    .unwrap_or_default();
                (user, messages.last().and_then(tool_result_text))
            }
        };
        Self {
            valid: true,
            model: wire.model,
            stream: wire.stream.unwrap_or(false),
            include_usage: wire
                .stream_options
                .and_then(|o| o.include_usage)
                .unwrap_or(false),
            last_user_text,
            last_tool_result,
            encrypted_reasoning: wire
                .include
                .unwrap_or_default()
                .iter()
                .any(|i| i == "reasoning.encrypted_content"),
            structured,
            body_len: body.len(),
        }
    }
}

/// The last user text and the closing tool output of a Responses `input`: a string is one user
/// message; items are messages (`role`, `content`) and `function_call_output`s.
fn input_texts(input: &serde_json::Value) -> (String, Option<String>) {
    let Some(items) = input.as_array() else {
        return (input.as_str().unwrap_or_default().to_owned(), None);
    };
    let user = items
        .iter()
        .rev()
        .find(|i| i.get("role").and_then(|r| r.as_str()) == Some("user"))
        .and_then(|i| i.get("content"))
        .map(content_text)
        .unwrap_or_default();
    let tool_output = items
        .last()
        .filter(|i| i.get("type").and_then(|t| t.as_str()) == Some("function_call_output"))
        .and_then(|i| i.get("output"))
        .map(|o| match o {
            serde_json::Value::String(s) => s.clone(),
            other => content_text(other),
        });
    (user, tool_output)
}

/// The text of a tool-result message, or `None` for any other message.
fn tool_result_text(m: &WireMessage) -> Option<String> {
    if m.role == "tool" {
        return Some(content_text(&m.content));
    }
    let parts = m.content.as_array()?;
    let results: Vec<String> = parts
        .iter()
        .filter(|p| p.get("type").and_then(|t| t.as_str()) == Some("tool_result"))
        .map(|p| match p.get("content") {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(c) => content_text(c),
            None => String::new(),
        })
        .collect();
    (m.role == "user" && !results.is_empty()).then(|| results.join("\n"))
}

/// The text of a message `content`: a string, or the `text` of its text parts (chat `text`,
/// Responses `input_text`) joined by spaces.
fn content_text(content: &serde_json::Value) -> String {
    match content {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(parts) => {
            let texts: Vec<&str> = parts
                .iter()
                .filter(|p| {
                    matches!(
                        p.get("type").and_then(|t| t.as_str()),
                        Some("text" | "input_text")
                    )
                })
                .filter_map(|p| p.get("text").and_then(|t| t.as_str()))
                .collect();
            texts.join(" ")
        }
        _ => String::new(),
    }
}

/// One tool call, ready to render.
#[derive(Debug)]
pub(crate) struct ResolvedTool<'a> {
    pub id: String,
    pub name: &'a str,
    pub arguments: String,
}

/// A `Reply` with every default filled in for one request.
#[derive(Debug)]
pub(crate) struct Resolved<'a> {
    pub request_index: usize,
    pub created: u64,
    pub model: &'a str,
    pub text: Cow<'a, str>,
    pub reasoning: Option<&'a str>,
    pub signature: &'a str,
    pub tools: Vec<ResolvedTool<'a>>,
    pub chunks: usize,
    pub prompt_tokens: u32,
    pub completion_tokens: u32,
    pub cached_tokens: u32,
    pub reasoning_tokens: u32,
    pub finish_reason: Option<&'a str>,
}

/// Per-request facts needed to resolve a reply.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ReplyCtx {
    pub request_index: usize,
    pub created: u64,
    /// The number of the first tool call of this response (ids are unique per fake).
    pub first_tool_number: u64,
}

impl<'a> Resolved<'a> {
    pub(crate) fn new(
        reply: &'a Reply,
        req: &'a ParsedRequest,
        ctx: ReplyCtx,
        tool_prefix: &str,
    ) -> Self {
        // A reply left to its defaults follows the shape the request asks for.
        let follow = reply.text.is_none() && reply.tool_calls.is_empty();
        let structured = req.structured.as_ref().filter(|_| follow);
        let text: Cow<'a, str> = match (&reply.text, structured) {
            (Some(t), _) => Cow::Borrowed(t.as_str()),
            (None, Some(Structured::Text(value))) => Cow::Owned(value.to_string()),
            (None, Some(Structured::Tool { .. })) => Cow::Borrowed(""),
            (None, None) => Cow::Owned(match &req.last_tool_result {
                Some(result) => format!("Tool said: {result}"),
                None => format!("You said: {}", req.last_user_text),
            }),
        };
        let reasoning = reply.reasoning.as_deref();
        let mut tools: Vec<ResolvedTool<'a>> = reply
            .tool_calls
            .iter()
            .zip(ctx.first_tool_number..)
            .map(|(spec, n)| ResolvedTool {
                id: format!("{tool_prefix}{n}"),
                name: spec.name.as_str(),
                arguments: spec.arguments_json(),
            })
            .collect();
        if let Some(Structured::Tool { name, input }) = structured {
            tools.push(ResolvedTool {
                id: format!("{tool_prefix}{}", ctx.first_tool_number),
                name: name.as_str(),
                arguments: input.to_string(),
            });
        }
        let reasoning_tokens = reasoning.map_or(0, word_count);
        let completion_tokens = reply.completion_tokens.unwrap_or_else(|| {
            let tool_words: u32 = tools.iter().map(|t| word_count(&t.arguments)).sum();
            (word_count(&text) + reasoning_tokens + tool_words).max(1)
        });
        let prompt_tokens = reply
            .prompt_tokens
            .unwrap_or_else(|| u32::try_from(req.body_len / 4).unwrap_or(u32::MAX).max(1));
        Self {
            request_index: ctx.request_index,
            created: ctx.created,
            model: answering_model(reply, req),
            text,
            reasoning,
            signature: reply.signature.as_deref().unwrap_or("sig-fake"),
            tools,
            chunks: reply.chunks,
            prompt_tokens,
            completion_tokens,
            cached_tokens: reply.cached_tokens,
            reasoning_tokens,
            finish_reason: reply.finish_reason.as_deref(),
        }
    }

    /// The reply's text in streaming pieces.
    pub(crate) fn text_pieces(&self) -> Vec<&str> {
        split_text(&self.text, self.chunks)
    }

    /// The reply's reasoning in streaming pieces (empty without reasoning).
    pub(crate) fn reasoning_pieces(&self) -> Vec<&'a str> {
        self.reasoning
            .map(|r| split_text(r, self.chunks))
            .unwrap_or_default()
    }
}

/// The model an answer names: the reply's override, else the request's.
pub(crate) fn answering_model<'a>(reply: &'a Reply, req: &'a ParsedRequest) -> &'a str {
    reply
        .model
        .as_deref()
        .or(req.model.as_deref())
        .unwrap_or("fake-model")
}

fn word_count(s: &str) -> u32 {
    u32::try_from(s.split_whitespace().count()).unwrap_or(u32::MAX)
}

/// Splits text for streaming: `chunks == 0` gives one piece per word (with its trailing
/// whitespace); otherwise `chunks` pieces of near-equal character counts (fewer for short text).
/// Empty text gives no pieces.
pub(crate) fn split_text(text: &str, chunks: usize) -> Vec<&str> {
    if text.is_empty() {
        return Vec::new();
    }
    if chunks > 0 {
        return split_even(text, chunks);
    }
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut in_space = false;
    for (i, c) in text.char_indices() {
        if c.is_whitespace() {
            in_space = true;
            continue;
        }
        if in_space && text[start..i].chars().any(|c| !c.is_whitespace()) {
            pieces.push(&text[start..i]);
            start = i;
        }
        in_space = false;
    }
    pieces.push(&text[start..]);
    pieces
}

/// Splits into `n` pieces of near-equal character counts, never inside a UTF-8 character.
pub(crate) fn split_even(text: &str, n: usize) -> Vec<&str> {
    let bounds: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
    let count = bounds.len();
    let n = n.clamp(1, count.max(1));
    let mut pieces = Vec::with_capacity(n);
    let mut start = 0;
    for k in 1..=n {
        let end = if k == n {
            text.len()
        } else {
            bounds.get(k * count / n).copied().unwrap_or(text.len())
        };
        pieces.push(&text[start..end]);
        start = end;
    }
    pieces
}

/// Tool arguments in 2–3 pieces (1 for very short strings), as real upstreams stream them.
pub(crate) fn split_arguments(args: &str) -> Vec<&str> {
    let chars = args.chars().count();
    let n = match chars {
        0 => return Vec::new(),
        1 => 1,
        2..=11 => 2,
        _ => 3,
    };
    split_even(args, n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::script::ToolCallSpec;

    #[test]
    fn a_default_reply_follows_the_requested_shape() {
        let schema = r#"{"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer"},
            "tags":{"type":"array","items":{"enum":["a","b"]}},"nick":{"type":["null","string"]}}}"#;
        let expected =
            serde_json::json!({"name": "example", "age": 1, "tags": ["a"], "nick": "example"});
        let ctx = ReplyCtx {
            request_index: 0,
            created: 0,
            first_tool_number: 7,
        };
        let reply = Reply::default();
        // OpenAI response_format: the answer is the JSON text.
        let body = format!(
            r#"{{"model":"m","messages":[{{"role":"user","content":"x"}}],
            "response_format":{{"type":"json_schema","json_schema":{{"name":"p","schema":{schema}}}}}}}"#
        );
        let req = ParsedRequest::parse(body.as_bytes());
        let r = Resolved::new(&reply, &req, ctx, "call_");
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&r.text).ok(),
            Some(expected.clone())
        );
        // Anthropic forced tool: a call of that tool, no text.
        let body = format!(
            r#"{{"model":"m","messages":[{{"role":"user","content":"x"}}],
            "tools":[{{"name":"other","input_schema":{{"type":"object"}}}},{{"name":"p","input_schema":{schema}}}],
            "tool_choice":{{"type":"tool","name":"p"}}}}"#
        );
        let req = ParsedRequest::parse(body.as_bytes());
        let r = Resolved::new(&reply, &req, ctx, "toolu_");
        assert_eq!(r.text, "");
        assert_eq!(r.tools.len(), 1);
        assert_eq!((r.tools[0].name, r.tools[0].id.as_str()), ("p", "toolu_7"));
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&r.tools[0].arguments).ok(),
            Some(expected)
        );
        // A scripted reply wins.
        let scripted = Reply::text("plain");
        assert_eq!(Resolved::new(&scripted, &req, ctx, "toolu_").text, "plain");
    }

    #[test]
    fn splits_on_words_keeping_whitespace() {
        assert_eq!(split_text("You said: hi", 0), ["You ", "said: ", "hi"]);
        assert_eq!(split_text("  a  b ", 0), ["  a  ", "b "]);
        assert_eq!(split_text("one", 0), ["one"]);
        assert!(split_text("", 0).is_empty());
    }

    #[test]
    fn splits_evenly_on_char_boundaries() {
        assert_eq!(split_text("abcdef", 3), ["ab", "cd", "ef"]);
        assert_eq!(split_text("ab", 5), ["a", "b"]);
        assert_eq!(split_even("héllo", 2).concat(), "héllo");
        assert_eq!(split_arguments("{}"), ["{", "}"]);
        assert_eq!(split_arguments(r#"{"city":"Paris"}"#).len(), 3);
        assert_eq!(
            split_arguments(r#"{"city":"Paris"}"#).concat(),
            r#"{"city":"Paris"}"#
        );
    }

    #[test]
    fn parses_last_user_text_from_strings_and_parts() {
        let body = br#"{"model":"m","stream":true,"stream_options":{"include_usage":true},
            "messages":[{"role":"user","content":"first"},{"role":"assistant","content":"x"},
            {"role":"user","content":[{"type":"text","text":"hello"},{"type":"image_url"},{"type":"text","text":"there"}]}]}"#;
        let req = ParsedRequest::parse(body);
        assert!(req.valid && req.stream && req.include_usage);
        assert_eq!(req.model.as_deref(), Some("m"));
        assert_eq!(req.last_user_text, "hello there");
        assert!(!ParsedRequest::parse(b"{nope").valid);
    }

    #[test]
    fn parses_responses_input_strings_and_items() {
        let req = ParsedRequest::parse(br#"{"model":"m","input":"just this","stream":true}"#);
        assert!(req.valid && req.stream && !req.encrypted_reasoning);
        assert_eq!(req.last_user_text, "just this");
        let body = br#"{"model":"m","include":["reasoning.encrypted_content"],"input":[
            {"type":"message","role":"user","content":[{"type":"input_text","text":"what is"},{"type":"input_text","text":"up"}]},
            {"type":"function_call","call_id":"call_1","name":"f","arguments":"{}"},
            {"type":"function_call_output","call_id":"call_1","output":"42"}]}"#;
        let req = ParsedRequest::parse(body);
        assert!(req.encrypted_reasoning);
        assert_eq!(req.last_user_text, "what is up");
        assert_eq!(req.last_tool_result.as_deref(), Some("42"));
    }

    #[test]
    fn resolves_defaults() {
        let req =
            ParsedRequest::parse(br#"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#);
        let reply = Reply {
            reasoning: Some("think hard".into()),
            tool_calls: vec![ToolCallSpec::new("f", serde_json::json!({"a": "b c"}))],
            ..Reply::default()
        };
        let ctx = ReplyCtx {
            request_index: 0,
            created: 1,
            first_tool_number: 7,
        };
        let r = Resolved::new(&reply, &req, ctx, "call_");
        assert_eq!(r.text, "You said: hi");
        assert_eq!(r.model, "m");
        assert_eq!(r.tools[0].id, "call_7");
        assert_eq!(r.signature, "sig-fake");
        // 3 words of text + 2 of reasoning + 2 in the arguments
        assert_eq!(r.completion_tokens, 7);
        assert_eq!(r.reasoning_tokens, 2);
        assert!(r.prompt_tokens >= 1);
    }
}
