//! Building and normalising Chat Completions stream chunks so that every stream we send follows
//! the rules clients depend on (`shared/reference/clients.md` §0): role only in the first chunk,
//! one kind of content per chunk, tool-call deltas in OpenAI's exact shape, a finish chunk with
//! an empty delta, usage in a final chunk with `choices: []`.

use crate::error::UpstreamError;
use crate::openai::{
    ChatChunk, ChunkChoice, Delta, FunctionDelta, ThinkingBlock, ToolCallDelta, Usage,
};

/// Makes chunks that share one id, creation time and model.
#[derive(Debug, Clone)]
pub struct ChunkFactory {
    pub id: String,
    pub created: u64,
    pub model: String,
}

impl ChunkFactory {
    pub fn new(id: String, created: u64, model: String) -> Self {
        Self { id, created, model }
    }

    fn chunk(&self, index: u32, delta: Delta, finish_reason: Option<String>) -> ChatChunk {
        ChatChunk {
            id: self.id.clone(),
            object: "chat.completion.chunk".to_owned(),
            created: self.created,
            model: self.model.clone(),
            choices: vec![ChunkChoice {
                index,
                delta,
                logprobs: None,
                finish_reason,
            }],
            usage: None,
            system_fingerprint: None,
        }
    }

    pub fn role(&self, index: u32) -> ChatChunk {
        self.chunk(
            index,
            Delta {
                role: Some("assistant".to_owned()),
                content: Some(String::new()),
                ..Delta::default()
            },
            None,
        )
    }

    pub fn content(&self, index: u32, text: String) -> ChatChunk {
        self.chunk(
            index,
            Delta {
                content: Some(text),
                ..Delta::default()
            },
            None,
        )
    }

    pub fn reasoning(&self, index: u32, text: String) -> ChatChunk {
        self.chunk(
            index,
            Delta {
                reasoning_content: Some(text),
                ..Delta::default()
            },
            None,
        )
    }

    pub fn refusal(&self, index: u32, text: String) -> ChatChunk {
        self.chunk(
            index,
            Delta {
                refusal: Some(text),
                ..Delta::default()
            },
            None,
        )
    }

    pub fn thinking_blocks(&self, index: u32, blocks: Vec<ThinkingBlock>) -> ChatChunk {
        self.chunk(
            index,
            Delta {
                thinking_blocks: Some(blocks),
                ..Delta::default()
            },
            None,
        )
    }

    pub fn tool_start(&self, index: u32, call: u32, id: String, name: String) -> ChatChunk {
        self.chunk(
            index,
            Delta {
                tool_calls: Some(vec![ToolCallDelta {
                    index: call,
                    id: Some(id),
                    kind: Some("function".to_owned()),
                    function: Some(FunctionDelta {
                        name: Some(name),
                        arguments: Some(String::new()),
                    }),
                }]),
                ..Delta::default()
            },
            None,
        )
    }

    pub fn tool_args(&self, index: u32, call: u32, arguments: String) -> ChatChunk {
        self.chunk(
            index,
            Delta {
                tool_calls: Some(vec![ToolCallDelta {
                    index: call,
                    id: None,
                    kind: None,
                    function: Some(FunctionDelta {
                        name: None,
                        arguments: Some(arguments),
                    }),
                }]),
                ..Delta::default()
            },
            None,
        )
    }

    pub fn finish(&self, index: u32, reason: String) -> ChatChunk {
        self.chunk(index, Delta::default(), Some(reason))
    }

    pub fn usage(&self, usage: Usage) -> ChatChunk {
        ChatChunk {
            id: self.id.clone(),
            object: "chat.completion.chunk".to_owned(),
            created: self.created,
            model: self.model.clone(),
            choices: Vec::new(),
            usage: Some(usage.complete()),
            system_fingerprint: None,
        }
    }
}

/// True when a chunk carries something a user would see (or the end of the answer): the point
/// at which a stream is committed and can no longer fail over.
pub fn is_meaningful(chunk: &ChatChunk) -> bool {
    chunk.usage.is_some()
        || chunk.choices.iter().any(|c| {
            c.finish_reason.is_some()
                || c.delta.content.as_deref().is_some_and(|s| !s.is_empty())
                || c.delta
                    .reasoning_content
                    .as_deref()
                    .is_some_and(|s| !s.is_empty())
                || c.delta.tool_calls.as_ref().is_some_and(|t| !t.is_empty())
                || c.delta.thinking_blocks.is_some()
                || c.delta.refusal.is_some()
        })
}

#[derive(Debug, Default)]
struct ChoiceState {
    role_sent: bool,
    finished: bool,
    /// Tool calls whose first delta (id, type, name) has been sent.
    tools: Vec<ToolState>,
    next_tool: u32,
}

#[derive(Debug)]
struct ToolState {
    upstream: u32,
    ours: u32,
    id: String,
}

/// Rewrites an OpenAI-compatible upstream's chunks into well-formed ones. Upstreams differ
/// (xAI mixes role and reasoning in one delta, some send `reasoning`, some resend ids or omit
/// tool indices); clients differ more. Everything leaving the gateway goes through here.
#[derive(Debug)]
pub struct ChunkNormalizer {
    factory: Option<ChunkFactory>,
    choices: Vec<ChoiceState>,
    usage: Option<Usage>,
}

impl Default for ChunkNormalizer {
    fn default() -> Self {
        Self::new()
    }
}

impl ChunkNormalizer {
    pub fn new() -> Self {
        Self {
            factory: None,
            choices: Vec::new(),
            usage: None,
        }
    }

    pub fn push(&mut self, upstream: ChatChunk, out: &mut Vec<ChatChunk>) {
        let factory = self
            .factory
            .get_or_insert_with(|| {
                ChunkFactory::new(
                    upstream.id.clone(),
                    upstream.created,
                    upstream.model.clone(),
                )
            })
            .clone();
        if let Some(usage) = upstream.usage {
            self.usage = Some(usage);
        }
        for choice in upstream.choices {
            let i = choice.index;
            let slot = usize::try_from(i).unwrap_or(usize::MAX).min(127);
            if self.choices.len() <= slot {
                self.choices.resize_with(slot + 1, ChoiceState::default);
            }
            let state = &mut self.choices[slot];
            if state.finished {
                continue;
            }
            if !state.role_sent {
                state.role_sent = true;
                out.push(factory.role(i));
            }
            let d = choice.delta;
            if let Some(text) = d
                .reasoning_content
                .or(d.reasoning)
                .filter(|s| !s.is_empty())
            {
                out.push(factory.reasoning(i, text));
            }
            if let Some(blocks) = d.thinking_blocks {
                out.push(factory.thinking_blocks(i, blocks));
            }
            if let Some(text) = d.content.filter(|s| !s.is_empty()) {
                out.push(factory.content(i, text));
            }
            if let Some(text) = d.refusal.filter(|s| !s.is_empty()) {
                out.push(factory.refusal(i, text));
            }
            for call in d.tool_calls.unwrap_or_default() {
                let function = call.function.unwrap_or_default();
                let id = call.id.filter(|s| !s.is_empty());
                let known = match &id {
                    Some(id) => state.tools.iter().find(|t| t.id == *id),
                    None => state.tools.iter().rev().find(|t| t.upstream == call.index),
                };
                let index = match known {
                    Some(t) => t.ours,
                    None => {
                        let taken = state.tools.iter().any(|t| t.ours == call.index);
                        let ours = if taken { state.next_tool } else { call.index };
                        state.next_tool = state.next_tool.max(ours + 1);
                        let id = id.unwrap_or_else(|| format!("call_{}", fastrand_id()));
                        state.tools.push(ToolState {
                            upstream: call.index,
                            ours,
                            id: id.clone(),
                        });
                        out.push(factory.tool_start(
                            i,
                            ours,
                            id,
                            function.name.unwrap_or_default(),
                        ));
                        ours
                    }
                };
                if let Some(args) = function.arguments.filter(|a| !a.is_empty()) {
                    out.push(factory.tool_args(i, index, args));
                }
            }
            if let Some(reason) = choice.finish_reason {
                state.finished = true;
                let reason = if !state.tools.is_empty() && reason == "stop" {
                    "tool_calls".to_owned()
                } else {
                    reason
                };
                out.push(factory.finish(i, reason));
            }
        }
    }

    /// Call at the end of the upstream stream: appends the usage chunk, or reports a stream
    /// that ended before any choice finished.
    pub fn finish(&mut self, out: &mut Vec<ChatChunk>) -> Result<(), UpstreamError> {
        if self.choices.is_empty() || self.choices.iter().any(|c| c.role_sent && !c.finished) {
            return Err(UpstreamError::Io(
                "the upstream stream ended before the answer finished".into(),
            ));
        }
        if let (Some(factory), Some(usage)) = (&self.factory, self.usage.take()) {
            out.push(factory.usage(usage));
        }
        Ok(())
    }
}

/// Rebuilds the final message of a stream from its chunks, for the request log: what a client
/// that accumulated the stream would hold.
#[derive(Debug, Default)]
pub struct Assembler {
    id: String,
    model: String,
    created: u64,
    content: String,
    reasoning: String,
    refusal: String,
    thinking: Vec<ThinkingBlock>,
    tools: Vec<(u32, String, String, String)>,
    finish_reason: Option<String>,
    usage: Option<Usage>,
}

impl Assembler {
    pub fn push(&mut self, chunk: &ChatChunk) {
        if self.id.is_empty() {
            self.id.clone_from(&chunk.id);
            self.model.clone_from(&chunk.model);
            self.created = chunk.created;
        }
        if let Some(u) = &chunk.usage {
            self.usage = Some(u.clone());
        }
        let Some(c) = chunk.choices.first() else {
            return;
        };
        let d = &c.delta;
        if let Some(t) = &d.content {
            self.content.push_str(t);
        }
        if let Some(t) = &d.reasoning_content {
            self.reasoning.push_str(t);
        }
        if let Some(t) = &d.refusal {
            self.refusal.push_str(t);
        }
        if let Some(blocks) = &d.thinking_blocks {
            self.thinking.extend(blocks.iter().cloned());
        }
        for call in d.tool_calls.iter().flatten() {
            let f = call.function.clone().unwrap_or_default();
            match self.tools.iter_mut().find(|t| t.0 == call.index) {
                Some(t) => t.3.push_str(f.arguments.as_deref().unwrap_or_default()),
                None => self.tools.push((
                    call.index,
                    call.id.clone().unwrap_or_default(),
                    f.name.unwrap_or_default(),
                    f.arguments.unwrap_or_default(),
                )),
            }
        }
        if let Some(r) = &c.finish_reason {
            self.finish_reason = Some(r.clone());
        }
    }

    pub fn usage(&self) -> Option<&Usage> {
        self.usage.as_ref()
    }

    /// The assembled answer in the non-streamed response shape.
    pub fn finish(self) -> crate::openai::ChatResponse {
        use crate::openai::{ChatResponse, Choice, FunctionCall, ResponseMessage, ToolCall};
        let tool_calls: Vec<ToolCall> = self
            .tools
            .into_iter()
            .map(|(_, id, name, arguments)| ToolCall {
                id,
                kind: "function".into(),
                function: FunctionCall { name, arguments },
            })
            .collect();
        let mut extra = serde_json::Map::new();
        if !self.refusal.is_empty() {
            extra.insert("refusal".into(), serde_json::Value::String(self.refusal));
        }
        ChatResponse {
            id: self.id,
            object: "chat.completion".into(),
            created: self.created,
            model: self.model,
            choices: vec![Choice {
                index: 0,
                message: ResponseMessage {
                    role: "assistant".into(),
                    content: (!self.content.is_empty() || tool_calls.is_empty())
                        .then_some(self.content),
                    reasoning_content: (!self.reasoning.is_empty()).then_some(self.reasoning),
                    thinking_blocks: (!self.thinking.is_empty()).then_some(self.thinking),
                    tool_calls: (!tool_calls.is_empty()).then_some(tool_calls),
                    extra,
                },
                logprobs: None,
                finish_reason: self.finish_reason,
            }],
            usage: self.usage,
            system_fingerprint: None,
            extra: serde_json::Map::new(),
        }
    }
}

pub fn fastrand_id() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    (0..24)
        .map(|_| char::from(ALPHABET[fastrand::usize(..ALPHABET.len())]))
        .collect()
}

pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upstream(json: &str) -> ChatChunk {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn splits_mixed_deltas_and_keeps_role_first_only() {
        let mut n = ChunkNormalizer::new();
        let mut out = Vec::new();
        n.push(upstream(r#"{"id":"x","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","reasoning_content":"think"}}]}"#), &mut out);
        n.push(upstream(r#"{"id":"x","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"hi","reasoning":"more"}}]}"#), &mut out);
        n.push(upstream(r#"{"id":"x","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":2}}"#), &mut out);
        n.finish(&mut out).unwrap();
        let json: Vec<serde_json::Value> = out
            .iter()
            .map(|c| serde_json::to_value(c).unwrap())
            .collect();
        assert_eq!(
            json[0]["choices"][0]["delta"],
            serde_json::json!({"role":"assistant","content":""})
        );
        assert_eq!(
            json[1]["choices"][0]["delta"],
            serde_json::json!({"reasoning_content":"think"})
        );
        assert_eq!(
            json[2]["choices"][0]["delta"],
            serde_json::json!({"reasoning_content":"more"})
        );
        assert_eq!(
            json[3]["choices"][0]["delta"],
            serde_json::json!({"content":"hi"})
        );
        assert_eq!(json[4]["choices"][0]["delta"], serde_json::json!({}));
        assert_eq!(json[4]["choices"][0]["finish_reason"], "stop");
        assert_eq!(json[5]["choices"], serde_json::json!([]));
        assert_eq!(json[5]["usage"]["total_tokens"], 5);
        assert_eq!(
            out.iter()
                .filter(|c| c.choices.first().is_some_and(|c| c.delta.role.is_some()))
                .count(),
            1
        );
    }

    #[test]
    fn tool_call_deltas_take_openai_shape() {
        let mut n = ChunkNormalizer::new();
        let mut out = Vec::new();
        // An upstream that sends the id and name on every delta and arguments in the first one.
        n.push(upstream(r#"{"id":"x","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"f","arguments":"{\"a\""}}]}}]}"#), &mut out);
        n.push(upstream(r#"{"id":"x","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_a","function":{"name":"f","arguments":":1}"}}]}}]}"#), &mut out);
        n.push(
            upstream(r#"{"id":"x","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#),
            &mut out,
        );
        n.finish(&mut out).unwrap();
        let deltas: Vec<serde_json::Value> = out
            .iter()
            .map(|c| serde_json::to_value(&c.choices[0]).unwrap())
            .collect();
        assert_eq!(
            deltas[1]["delta"]["tool_calls"][0],
            serde_json::json!({"index":0,"id":"call_a","type":"function","function":{"name":"f","arguments":""}})
        );
        assert_eq!(
            deltas[2]["delta"]["tool_calls"][0],
            serde_json::json!({"index":0,"function":{"arguments":"{\"a\""}})
        );
        assert_eq!(
            deltas[3]["delta"]["tool_calls"][0],
            serde_json::json!({"index":0,"function":{"arguments":":1}"}})
        );
        assert_eq!(
            deltas[4]["finish_reason"], "tool_calls",
            "a stop after tool calls becomes tool_calls"
        );
    }

    #[test]
    fn a_stream_cut_before_finish_is_an_error() {
        let mut n = ChunkNormalizer::new();
        let mut out = Vec::new();
        n.push(
            upstream(r#"{"id":"x","choices":[{"index":0,"delta":{"content":"partial"}}]}"#),
            &mut out,
        );
        assert!(matches!(n.finish(&mut out), Err(UpstreamError::Io(_))));
    }
}
