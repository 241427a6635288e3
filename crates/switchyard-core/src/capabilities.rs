//! What a model can do: inputs, outputs, tools, reasoning, context window, max output and price.
//! Each field comes from the config (`configured`), the upstream's model list (`discovered`) or
//! the model's name (`inferred`), in that order of trust, and every answer says its source.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::config::ProviderKind;
use crate::config::models::Price;
use crate::discovery::DiscoveredModel;

pub use crate::config::models::{Declared, INPUTS, OUTPUTS};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Configured,
    Discovered,
    Inferred,
}

/// One field and where it came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Field<T> {
    pub value: T,
    pub source: Source,
}

/// The merged capability matrix of one model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Matrix {
    pub input: Field<Vec<String>>,
    pub output: Field<Vec<String>>,
    pub tools: Field<bool>,
    pub reasoning: Field<bool>,
    pub context_window: Option<Field<u64>>,
    pub max_output: Option<Field<u64>>,
    pub price: Option<Field<Price>>,
}

impl Matrix {
    /// The JSON carried by `/v1/models`: flat flags for simple clients (`vision`, `tools`…),
    /// the full matrix, and each field's source.
    /// The `capabilities` of a model card, as `/v1/models` and the UI show them.
    pub fn card(&self) -> CapabilityCard {
        let has_in = |m: &str| self.input.value.iter().any(|x| x == m);
        let has_out = |m: &str| self.output.value.iter().any(|x| x == m);
        let mut source = BTreeMap::new();
        source.insert("input", self.input.source);
        source.insert("output", self.output.source);
        source.insert("tools", self.tools.source);
        source.insert("reasoning", self.reasoning.source);
        if let Some(f) = &self.context_window {
            source.insert("context_window", f.source);
        }
        if let Some(f) = &self.max_output {
            source.insert("max_output", f.source);
        }
        if let Some(f) = &self.price {
            source.insert("price", f.source);
        }
        CapabilityCard {
            chat: has_out("text"),
            embeddings: has_out("embedding"),
            vision: has_in("image"),
            audio: has_in("audio") || has_out("audio"),
            image_generation: has_out("image"),
            tools: self.tools.value,
            reasoning: self.reasoning.value,
            input: self.input.value.clone(),
            output: self.output.value.clone(),
            context_window: self.context_window.as_ref().map(|f| f.value),
            max_output: self.max_output.as_ref().map(|f| f.value),
            price_per_million: self.price.as_ref().map(|f| PriceCard {
                input: f.value.input,
                output: f.value.output,
                cached_input: f.value.cached,
            }),
            source,
        }
    }

    /// [`Capabilities::card`] as JSON, for the model card's open `capabilities` field.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self.card()).unwrap_or_default()
    }
}

/// A model's capabilities as the model list shows them: flags for the common questions, the
/// modalities, limits and price, and where each field came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CapabilityCard {
    pub chat: bool,
    pub embeddings: bool,
    pub vision: bool,
    pub audio: bool,
    pub image_generation: bool,
    pub tools: bool,
    pub reasoning: bool,
    pub input: Vec<String>,
    pub output: Vec<String>,
    pub context_window: Option<u64>,
    pub max_output: Option<u64>,
    pub price_per_million: Option<PriceCard>,
    /// Where each field came from: `input`, `output`, `tools`, `reasoning`, and the limits and
    /// price when known.
    pub source: BTreeMap<&'static str, Source>,
}

/// Dollars per million tokens.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PriceCard {
    pub input: f64,
    pub output: f64,
    /// Cached prompt tokens; the input price applies when absent.
    pub cached_input: Option<f64>,
}

/// Merges the three sources, field by field.
pub fn matrix(
    kind: ProviderKind,
    model: &str,
    declared: Option<&Declared>,
    discovered: Option<&DiscoveredModel>,
    configured_price: Option<Price>,
) -> Matrix {
    let guess = infer(kind, model);
    let pick = |c: Option<bool>, d: Option<bool>, i: bool| match (c, d) {
        (Some(v), _) => Field {
            value: v,
            source: Source::Configured,
        },
        (None, Some(v)) => Field {
            value: v,
            source: Source::Discovered,
        },
        (None, None) => Field {
            value: i,
            source: Source::Inferred,
        },
    };
    let declared = declared.cloned().unwrap_or_default();
    let input = match (&declared.input, discovered) {
        (Some(v), _) => Field {
            value: v.clone(),
            source: Source::Configured,
        },
        (None, Some(d)) if d.vision.is_some() => Field {
            value: if d.vision == Some(true) {
                vec!["text".into(), "image".into()]
            } else {
                vec!["text".into()]
            },
            source: Source::Discovered,
        },
        _ => Field {
            value: guess.input.clone(),
            source: Source::Inferred,
        },
    };
    let output = match (&declared.output, discovered) {
        (Some(v), _) => Field {
            value: v.clone(),
            source: Source::Configured,
        },
        (None, Some(d)) if d.embedding.is_some() => Field {
            value: vec![if d.embedding == Some(true) {
                "embedding".into()
            } else {
                "text".into()
            }],
            source: Source::Discovered,
        },
        _ => Field {
            value: guess.output.clone(),
            source: Source::Inferred,
        },
    };
    let number = |c: Option<u64>, d: Option<u64>| match (c, d) {
        (Some(v), _) => Some(Field {
            value: v,
            source: Source::Configured,
        }),
        (None, Some(v)) => Some(Field {
            value: v,
            source: Source::Discovered,
        }),
        (None, None) => None,
    };
    let discovered_price = discovered.and_then(|d| match (d.input_price, d.output_price) {
        (Some(input), Some(output)) => Some(Price {
            input,
            output,
            cached: None,
        }),
        _ => None,
    });
    let price = match (configured_price, discovered_price) {
        (Some(p), _) => Some(Field {
            value: p,
            source: Source::Configured,
        }),
        (None, Some(p)) => Some(Field {
            value: p,
            source: Source::Discovered,
        }),
        (None, None) => None,
    };
    Matrix {
        tools: pick(
            declared.tools,
            discovered.and_then(|d| d.tools),
            guess.tools,
        ),
        reasoning: pick(
            declared.reasoning,
            discovered.and_then(|d| d.reasoning),
            guess.reasoning,
        ),
        context_window: number(
            declared.context_window,
            discovered.and_then(|d| d.context_window),
        ),
        max_output: number(declared.max_output, discovered.and_then(|d| d.max_output)),
        input,
        output,
        price,
    }
}

struct Guess {
    input: Vec<String>,
    output: Vec<String>,
    tools: bool,
    reasoning: bool,
}

/// What the name suggests. Names are only a hint; configured and discovered facts win.
fn infer(kind: ProviderKind, model: &str) -> Guess {
    let m = model.to_ascii_lowercase();
    let has = |needles: &[&str]| needles.iter().any(|n| m.contains(n));
    let strings = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    if has(&["embed", "bge-", "e5-", "minilm", "nomic-embed"]) {
        return Guess {
            input: strings(&["text"]),
            output: strings(&["embedding"]),
            tools: false,
            reasoning: false,
        };
    }
    if has(&["dall-e", "gpt-image", "imagen", "stable-diffusion", "flux"]) {
        return Guess {
            input: strings(&["text"]),
            output: strings(&["image"]),
            tools: false,
            reasoning: false,
        };
    }
    if has(&["whisper", "transcribe"]) {
        return Guess {
            input: strings(&["audio"]),
            output: strings(&["text"]),
            tools: false,
            reasoning: false,
        };
    }
    if has(&["tts"]) {
        return Guess {
            input: strings(&["text"]),
            output: strings(&["audio"]),
            tools: false,
            reasoning: false,
        };
    }
    let claude = kind == ProviderKind::Anthropic || m.starts_with("claude");
    let vision = claude
        || has(&[
            "gpt-4o",
            "gpt-4.1",
            "gpt-5",
            "vision",
            "-vl",
            "llava",
            "gemini",
            "pixtral",
            "o3",
            "o4",
            "gemma3",
            "llama3.2-vision",
            "qwen2.5vl",
        ]);
    let reasoning = has(&[
        "o1", "o3", "o4", "gpt-5", "reasoner", "r1", "thinking", "qwq",
    ]) || (claude && has(&["sonnet-4", "opus-4", "3-7", "haiku-4"]));
    let tools = claude
        || has(&[
            "gpt-", "o1", "o3", "o4", "mistral", "llama-3", "llama3", "qwen", "gemini", "grok",
            "deepseek",
        ]);
    let mut input = strings(&["text"]);
    if vision {
        input.push("image".into());
    }
    if has(&["audio", "gpt-4o-realtime"]) {
        input.push("audio".into());
    }
    Guess {
        input,
        output: strings(&["text"]),
        tools,
        reasoning,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inferred(kind: ProviderKind, model: &str) -> Value {
        matrix(kind, model, None, None, None).to_json()
    }

    #[test]
    fn names_hint_at_capabilities() {
        assert_eq!(
            inferred(ProviderKind::OpenAi, "text-embedding-3-small")["embeddings"],
            true
        );
        let sonnet = inferred(ProviderKind::Anthropic, "claude-sonnet-4-5");
        assert_eq!(
            (sonnet["vision"].as_bool(), sonnet["reasoning"].as_bool()),
            (Some(true), Some(true))
        );
        assert_eq!(sonnet["source"]["tools"], "inferred");
        assert_eq!(inferred(ProviderKind::OpenAi, "gpt-4o-mini")["tools"], true);
    }

    #[test]
    fn configured_beats_discovered_beats_inferred_field_by_field() {
        let declared = Declared {
            tools: Some(false),
            context_window: Some(8192),
            ..Declared::default()
        };
        let discovered = DiscoveredModel {
            id: "llava:13b".into(),
            context_window: Some(4096),
            max_output: Some(2048),
            input_price: None,
            output_price: None,
            vision: Some(true),
            tools: Some(true),
            embedding: None,
            reasoning: None,
            owned_by: None,
        };
        let m = matrix(
            ProviderKind::OpenAi,
            "llava:13b",
            Some(&declared),
            Some(&discovered),
            Some(Price {
                input: 1.0,
                output: 2.0,
                cached: None,
            }),
        );
        assert_eq!((m.tools.value, m.tools.source), (false, Source::Configured));
        let cw = m.context_window.clone().unwrap();
        assert_eq!((cw.value, cw.source), (8192, Source::Configured));
        let mo = m.max_output.clone().unwrap();
        assert_eq!((mo.value, mo.source), (2048, Source::Discovered));
        assert_eq!(m.input.source, Source::Discovered);
        assert_eq!(m.reasoning.source, Source::Inferred);
        let json = m.to_json();
        assert_eq!(json["vision"], true);
        assert_eq!(json["price_per_million"]["output"], 2.0);
        assert_eq!(json["source"]["price"], "configured");
    }
}
