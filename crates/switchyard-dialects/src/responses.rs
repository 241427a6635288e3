//! OpenAI's Responses API, as `/v1/responses` clients (Codex CLI, the OpenAI SDKs, the AI SDK)
//! send it. Input items, tools and tool choices stay JSON values: they come in many shapes, and
//! the door reads the ones it translates and reports the rest by position.

use serde::Deserialize;
use serde_json::Value;

use super::openai::Extra;

#[derive(Debug, Clone, Deserialize)]
pub struct CreateResponse {
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub input: Option<Input>,
    /// A system (developer) message put before the input; not carried over to later turns.
    #[serde(default)]
    pub instructions: Option<Value>,
    #[serde(default)]
    pub tools: Option<Vec<Value>>,
    #[serde(default)]
    pub tool_choice: Option<Value>,
    #[serde(default)]
    pub parallel_tool_calls: Option<bool>,
    #[serde(default)]
    pub stream: Option<bool>,
    #[serde(default)]
    pub max_output_tokens: Option<u32>,
    #[serde(default)]
    pub temperature: Option<f64>,
    #[serde(default)]
    pub top_p: Option<f64>,
    /// `{effort, summary}`.
    #[serde(default)]
    pub reasoning: Option<Value>,
    /// `{format: {type: text|json_object|json_schema, …}, verbosity}`.
    #[serde(default)]
    pub text: Option<Value>,
    #[serde(default)]
    pub previous_response_id: Option<String>,
    /// Whether the response is kept for `previous_response_id`; OpenAI's default is yes.
    #[serde(default)]
    pub store: Option<bool>,
    #[serde(default)]
    pub metadata: Option<Value>,
    #[serde(default)]
    pub user: Option<Value>,
    #[serde(flatten)]
    pub extra: Extra,
}

impl CreateResponse {
    pub fn is_stream(&self) -> bool {
        self.stream.unwrap_or(false)
    }

    pub fn keeps(&self) -> bool {
        self.store.unwrap_or(true)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Input {
    Text(String),
    Items(Vec<Value>),
}
