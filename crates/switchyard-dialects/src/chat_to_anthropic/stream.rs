//! Anthropic stream events → OpenAI chat chunks, as they arrive: the stream side of
//! [`super`], kept apart from the request and answer translation.

use super::{chat_id, finish_reason, openai_error_type, usage};
use crate::anthropic::{self as a, BlockDelta, ContentBlock, StreamEvent};
use crate::chunks::{ChunkFactory, unix_now};
use crate::error::UpstreamError;
use crate::openai::{ChatChunk, ThinkingBlock};

/// Turns Anthropic stream events into chat chunks as they arrive.
#[derive(Debug)]
pub struct StreamTranslator {
    factory: ChunkFactory,
    started: bool,
    /// Block index → tool-call index, for tool_use blocks.
    tool_blocks: Vec<(u32, u32)>,
    /// The tool forced to carry a JSON answer, and the block index of its call: its input is
    /// streamed as content.
    answer_tool: Option<String>,
    answer_block: Option<u32>,
    thinking: Option<(String, String)>,
    /// Finished thinking blocks with their signatures, sent once before the finish chunk.
    signed: Vec<ThinkingBlock>,
    usage: a::Usage,
    stop_reason: Option<String>,
    pub stopped: bool,
}

impl StreamTranslator {
    pub fn new(model: &str) -> Self {
        Self {
            factory: ChunkFactory::new(String::new(), unix_now(), model.to_owned()),
            started: false,
            tool_blocks: Vec::new(),
            answer_tool: None,
            answer_block: None,
            thinking: None,
            signed: Vec::new(),
            usage: a::Usage::default(),
            stop_reason: None,
            stopped: false,
        }
    }

    /// Streams the input of this tool's call as the answer's content.
    #[must_use]
    pub fn answering_with(mut self, answer_tool: Option<String>) -> Self {
        self.answer_tool = answer_tool;
        self
    }

    pub fn event(&mut self, data: &str, out: &mut Vec<ChatChunk>) -> Result<(), UpstreamError> {
        let event: StreamEvent = serde_json::from_str(data).map_err(|e| {
            let excerpt: String = data.chars().take(120).collect();
            UpstreamError::Protocol(format!("unreadable Anthropic event ({e}): {excerpt}"))
        })?;
        match event {
            StreamEvent::MessageStart { message } => {
                self.factory.id = chat_id(&message.id);
                if !message.model.is_empty() {
                    self.factory.model = message.model;
                }
                self.usage = message.usage;
                self.started = true;
                out.push(self.factory.role(0));
            }
            StreamEvent::ContentBlockStart {
                index,
                content_block,
            } => {
                self.require_start()?;
                match content_block {
                    ContentBlock::ToolUse { name, .. }
                        if self.answer_tool.as_deref() == Some(name.as_str()) =>
                    {
                        self.answer_block = Some(index);
                    }
                    ContentBlock::ToolUse { id, name, .. } => {
                        let call = u32::try_from(self.tool_blocks.len()).unwrap_or(u32::MAX);
                        self.tool_blocks.push((index, call));
                        out.push(self.factory.tool_start(0, call, id, name));
                    }
                    ContentBlock::Text { text, .. } if !text.is_empty() => {
                        out.push(self.factory.content(0, text));
                    }
                    ContentBlock::Thinking { thinking, .. } => {
                        if !thinking.is_empty() {
                            out.push(self.factory.reasoning(0, thinking.clone()));
                        }
                        self.thinking = Some((thinking, String::new()));
                    }
                    ContentBlock::RedactedThinking { data } => {
                        self.signed.push(ThinkingBlock {
                            kind: "redacted_thinking".into(),
                            thinking: None,
                            signature: None,
                            data: Some(data),
                        });
                    }
                    _ => {}
                }
            }
            StreamEvent::ContentBlockDelta { index, delta } => {
                self.require_start()?;
                match delta {
                    BlockDelta::TextDelta { text } if !text.is_empty() => {
                        out.push(self.factory.content(0, text))
                    }
                    BlockDelta::ThinkingDelta { thinking } if !thinking.is_empty() => {
                        if let Some((all, _)) = &mut self.thinking {
                            all.push_str(&thinking);
                        }
                        out.push(self.factory.reasoning(0, thinking));
                    }
                    BlockDelta::SignatureDelta { signature } => {
                        if let Some((_, sig)) = &mut self.thinking {
                            sig.push_str(&signature);
                        }
                    }
                    BlockDelta::InputJsonDelta { partial_json }
                        if !partial_json.is_empty() && self.answer_block == Some(index) =>
                    {
                        out.push(self.factory.content(0, partial_json));
                    }
                    BlockDelta::InputJsonDelta { partial_json } if !partial_json.is_empty() => {
                        if let Some(&(_, call)) = self.tool_blocks.iter().find(|(b, _)| *b == index)
                        {
                            out.push(self.factory.tool_args(0, call, partial_json));
                        }
                    }
                    _ => {}
                }
            }
            StreamEvent::ContentBlockStop { .. } => {
                if let Some((thinking, signature)) = self.thinking.take() {
                    self.signed.push(ThinkingBlock {
                        kind: "thinking".into(),
                        thinking: Some(thinking),
                        signature: Some(signature),
                        data: None,
                    });
                }
            }
            StreamEvent::MessageDelta { delta, usage } => {
                if let Some(reason) = delta.stop_reason {
                    self.stop_reason = Some(reason);
                }
                if let Some(u) = usage {
                    merge_usage(&mut self.usage, &u);
                }
            }
            StreamEvent::MessageStop => {
                self.require_start()?;
                self.stopped = true;
                if !self.signed.is_empty() {
                    // All signed blocks in one delta: stream accumulators (openai-python's
                    // merges lists by index, openai-node's replaces them) then keep them all.
                    out.push(
                        self.factory
                            .thinking_blocks(0, std::mem::take(&mut self.signed)),
                    );
                }
                let mut reason = finish_reason(self.stop_reason.as_deref());
                if self.answer_block.is_some()
                    && self.tool_blocks.is_empty()
                    && reason == "tool_calls"
                {
                    reason = "stop";
                }
                out.push(self.factory.finish(0, reason.into()));
                out.push(self.factory.usage(usage(&self.usage)));
            }
            StreamEvent::Error { error } => {
                let status = match error.kind.as_str() {
                    "overloaded_error" => 529,
                    "rate_limit_error" => 429,
                    "invalid_request_error" => 400,
                    _ => 500,
                };
                return Err(UpstreamError::Status {
                    status,
                    kind: openai_error_type(&error.kind, status),
                    code: Some(error.kind),
                    param: None,
                    message: error.message,
                    retry_after: None,
                });
            }
            StreamEvent::Ping | StreamEvent::Unknown => {}
        }
        Ok(())
    }

    fn require_start(&self) -> Result<(), UpstreamError> {
        if self.started {
            Ok(())
        } else {
            Err(UpstreamError::Protocol(
                "the Anthropic stream did not start with message_start".into(),
            ))
        }
    }

    /// The upstream closed the stream: fine after `message_stop`, a truncation otherwise.
    pub fn finish(&mut self, _out: &mut Vec<ChatChunk>) -> Result<(), UpstreamError> {
        if self.stopped {
            Ok(())
        } else {
            Err(UpstreamError::Io(
                "the Anthropic stream ended before message_stop".into(),
            ))
        }
    }
}

fn merge_usage(total: &mut a::Usage, delta: &a::Usage) {
    if delta.input_tokens.is_some() {
        total.input_tokens = delta.input_tokens;
    }
    if delta.output_tokens.is_some() {
        total.output_tokens = delta.output_tokens;
    }
    if delta.cache_creation_input_tokens.is_some() {
        total.cache_creation_input_tokens = delta.cache_creation_input_tokens;
    }
    if delta.cache_read_input_tokens.is_some() {
        total.cache_read_input_tokens = delta.cache_read_input_tokens;
    }
}
