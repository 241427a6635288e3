//! The Anthropic Messages API as clients send it to `/v1/messages` and
//! `/v1/messages/count_tokens`: lenient where Anthropic is (`system` and `content` are a string
//! or blocks; `cache_control` and other block extras are accepted and ignored), typed where a
//! wrong value should be a 400 that names its field. The shapes the gateway sends to Anthropic
//! upstreams are in `anthropic.rs`.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use super::anthropic::ImageSource;

/// `POST /v1/messages` (and, without `max_tokens` and `stream`, `count_tokens`). Required fields
/// are options here so that their absence gets a message of ours rather than serde's.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CreateMessage {
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub max_tokens: Option<u32>,
    #[serde(default)]
    pub messages: Option<Vec<InputMessage>>,
    #[serde(default)]
    pub system: Option<TextOr<SystemBlock>>,
    #[serde(default)]
    pub stream: Option<bool>,
    #[serde(default)]
    pub temperature: Option<f64>,
    #[serde(default)]
    pub top_p: Option<f64>,
    #[serde(default)]
    pub top_k: Option<u32>,
    #[serde(default)]
    pub stop_sequences: Option<Vec<String>>,
    #[serde(default)]
    pub tools: Option<Vec<ToolDef>>,
    #[serde(default)]
    pub tool_choice: Option<ToolChoice>,
    #[serde(default)]
    pub thinking: Option<Thinking>,
    /// `effort` goes with adaptive thinking (`thinking: {"type": "adaptive"}`).
    #[serde(default)]
    pub output_config: Option<OutputConfig>,
    /// The structured-output beta's place for `output_config.format`, still sent by some SDKs.
    #[serde(default)]
    pub output_format: Option<Value>,
    #[serde(default)]
    pub metadata: Option<Metadata>,
}

impl CreateMessage {
    pub fn is_stream(&self) -> bool {
        self.stream.unwrap_or(false)
    }

    pub fn messages(&self) -> &[InputMessage] {
        self.messages.as_deref().unwrap_or_default()
    }

    /// The stop sequences that can match (empty strings never do).
    pub fn stops(&self) -> Vec<String> {
        self.stop_sequences
            .iter()
            .flatten()
            .filter(|s| !s.is_empty())
            .cloned()
            .collect()
    }
}

/// A string, or an array of `T`: Anthropic accepts both for `system` and for message content.
/// Deserialized by hand so that an error inside the array keeps its path
/// (`messages[0].content[1].source`), which an untagged enum would lose.
#[derive(Debug, Clone, PartialEq)]
pub enum TextOr<T> {
    Text(String),
    Blocks(Vec<T>),
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for TextOr<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = TextOr<T>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or an array of content blocks")
            }

            fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
                Ok(TextOr::Text(s.to_owned()))
            }

            fn visit_string<E: de::Error>(self, s: String) -> Result<Self::Value, E> {
                Ok(TextOr::Text(s))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                Vec::<T>::deserialize(de::value::SeqAccessDeserializer::new(seq))
                    .map(TextOr::Blocks)
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

/// `system` is a turn of its own in the middle of a conversation, as Claude Code sends it
/// (an environment note after the first user message); the top-level `system` is the prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Assistant,
    System,
}

#[derive(Debug, Clone, Deserialize)]
pub struct InputMessage {
    pub role: Role,
    pub content: TextOr<Block>,
}

impl CreateMessage {
    /// Whether any message (or tool result) carries an image.
    pub fn has_image(&self) -> bool {
        fn any_image(blocks: &[Block]) -> bool {
            blocks.iter().any(|b| match b {
                Block::Image { .. } => true,
                Block::ToolResult {
                    content: Some(TextOr::Blocks(inner)),
                    ..
                } => any_image(inner),
                _ => false,
            })
        }
        self.messages.iter().flatten().any(|m| match &m.content {
            TextOr::Blocks(blocks) => any_image(blocks),
            TextOr::Text(_) => false,
        })
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct SystemBlock {
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub text: String,
}

/// One content block of a message. Fields a translation cannot use (`cache_control`,
/// `citations`…) are ignored; kinds it does not know become `Other`.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Block {
    Text {
        text: String,
    },
    Image {
        source: ImageSource,
    },
    Document {
        source: DocumentSource,
        #[serde(default)]
        title: Option<String>,
    },
    ToolUse {
        id: String,
        name: String,
        #[serde(default)]
        input: Value,
    },
    ToolResult {
        tool_use_id: String,
        #[serde(default)]
        content: Option<TextOr<Block>>,
        #[serde(default)]
        is_error: Option<bool>,
    },
    Thinking {
        #[serde(default)]
        thinking: String,
        #[serde(default)]
        signature: String,
    },
    RedactedThinking {
        #[serde(default)]
        data: String,
    },
    /// Server tool calls and results, search results, container uploads…
    #[serde(other)]
    Other,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DocumentSource {
    Base64 {
        media_type: String,
        data: String,
    },
    Text {
        #[serde(default)]
        data: String,
    },
    Url {
        url: String,
    },
    Content {
        content: TextOr<Block>,
    },
    #[serde(other)]
    Other,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ToolDef {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub input_schema: Option<Value>,
    /// Absent or `custom` for client tools; a dated kind (`web_search_20250305`,
    /// `bash_20250124`…) for Anthropic's own tools.
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ToolChoice {
    Auto {
        #[serde(default)]
        disable_parallel_tool_use: Option<bool>,
    },
    Any {
        #[serde(default)]
        disable_parallel_tool_use: Option<bool>,
    },
    Tool {
        name: String,
        #[serde(default)]
        disable_parallel_tool_use: Option<bool>,
    },
    None,
}

/// `{"type":"enabled","budget_tokens":N}`, `{"type":"disabled"}` or `{"type":"adaptive"}`.
#[derive(Debug, Clone, Deserialize)]
pub struct Thinking {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub budget_tokens: Option<u32>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct OutputConfig {
    #[serde(default)]
    pub effort: Option<String>,
    /// Structured output: `{"type": "json_schema", "schema": {…}}`.
    #[serde(default)]
    pub format: Option<Value>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Metadata {
    #[serde(default)]
    pub user_id: Option<String>,
}

/// `POST /v1/messages/count_tokens` answers this.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct TokenCount {
    pub input_tokens: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_is_a_string_or_blocks() {
        let m: CreateMessage = serde_json::from_str(
            r#"{"model":"m","max_tokens":5,"system":[{"type":"text","text":"s","cache_control":{"type":"ephemeral"}}],
                "messages":[{"role":"user","content":"hi"},{"role":"assistant","content":[{"type":"text","text":"yo"},{"type":"server_tool_use","id":"x"}]}]}"#,
        )
        .unwrap();
        assert!(matches!(&m.messages()[0].content, TextOr::Text(t) if t == "hi"));
        let TextOr::Blocks(blocks) = &m.messages()[1].content else {
            panic!("blocks")
        };
        assert!(matches!(blocks[1], Block::Other));
    }
}
