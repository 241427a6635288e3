//! Token arithmetic shared by every translation: the counts the request log keeps
//! ([`TokenCounts`]) and the one estimate of tokens from text, used wherever an upstream gave
//! no usage.

use serde::Serialize;

use crate::openai::Usage;

/// Tokens one request used, as the request log keeps them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct TokenCounts {
    pub prompt: u64,
    pub completion: u64,
    pub cached: u64,
    pub reasoning: u64,
}

impl From<&Usage> for TokenCounts {
    fn from(u: &Usage) -> Self {
        Self {
            prompt: u.prompt_tokens,
            completion: u.completion_tokens,
            cached: u
                .prompt_tokens_details
                .as_ref()
                .and_then(|d| d.cached_tokens)
                .unwrap_or(0),
            reasoning: u
                .completion_tokens_details
                .as_ref()
                .and_then(|d| d.reasoning_tokens)
                .unwrap_or(0),
        }
    }
}
