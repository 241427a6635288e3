//! Token arithmetic shared by every door and translation: the counts the request log keeps
//! ([`TokenCounts`]) and the one estimate of tokens from text ([`estimate_chars`],
//! [`estimate_text`]), used wherever an upstream reported no usage and for `count_tokens`
//! without an upstream that counts.

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

/// The estimate's ratio: about four bytes of UTF-8 text per token.
pub const CHARS_PER_TOKEN: u64 = 4;

/// Tokens for `chars` bytes of text: one per [`CHARS_PER_TOKEN`], rounded up, so any text at
/// all counts as at least one token.
pub fn estimate_chars(chars: u64) -> u64 {
    chars.div_ceil(CHARS_PER_TOKEN)
}

/// Tokens for a piece of text (its UTF-8 length, see [`estimate_chars`]).
pub fn estimate_text(text: &str) -> u64 {
    estimate_chars(text.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn four_bytes_a_token_rounded_up() {
        assert_eq!(estimate_chars(0), 0);
        assert_eq!(estimate_chars(1), 1);
        assert_eq!(estimate_chars(4), 1);
        assert_eq!(estimate_chars(5), 2);
        assert_eq!(estimate_text("abcdefgh"), 2);
        // Bytes, not characters: "é" is two.
        assert_eq!(estimate_text("éé"), 1);
        assert_eq!(estimate_text("ééé"), 2);
    }
}
