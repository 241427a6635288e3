//! What a model can do, as far as its name tells. Names are only a hint, so every answer says
//! its source (`inferred`); configured and discovered capabilities replace these later.

use serde_json::{Value, json};

use crate::config::ProviderKind;

pub fn infer(kind: ProviderKind, model: &str) -> Value {
    let m = model.to_ascii_lowercase();
    let has = |needles: &[&str]| needles.iter().any(|n| m.contains(n));
    if has(&["embed", "bge-", "e5-", "minilm", "nomic-embed"]) {
        return json!({"source": "inferred", "chat": false, "embeddings": true});
    }
    let claude = kind == ProviderKind::Anthropic || m.starts_with("claude");
    let vision = claude
        || has(&[
            "gpt-4o", "gpt-4.1", "gpt-5", "vision", "-vl", "llava", "gemini", "pixtral", "o3", "o4",
        ]);
    let reasoning = has(&[
        "o1", "o3", "o4", "gpt-5", "reasoner", "r1", "thinking", "qwq",
    ]) || (claude && has(&["sonnet-4", "opus-4", "3-7", "haiku-4"]));
    let tools = claude
        || has(&[
            "gpt-", "o1", "o3", "o4", "mistral", "llama-3", "llama3", "qwen", "gemini", "grok",
            "deepseek",
        ]);
    json!({
        "source": "inferred",
        "chat": true,
        "embeddings": false,
        "vision": vision,
        "tools": tools,
        "reasoning": reasoning,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_hint_at_capabilities() {
        assert_eq!(
            infer(ProviderKind::OpenAi, "text-embedding-3-small")["embeddings"],
            true
        );
        let sonnet = infer(ProviderKind::Anthropic, "claude-sonnet-4-5");
        assert_eq!(
            (sonnet["vision"].as_bool(), sonnet["reasoning"].as_bool()),
            (Some(true), Some(true))
        );
        assert_eq!(infer(ProviderKind::OpenAi, "gpt-4o-mini")["tools"], true);
    }
}
