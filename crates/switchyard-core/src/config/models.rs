//! What the config says about models: the capabilities a user declares for them and their
//! prices. Discovery and inference fill in the rest (`capabilities`); the cost of a request is
//! worked out in `record`.

use serde::Serialize;

use super::raw::RawCapabilities;

pub const INPUTS: &[&str] = &["text", "image", "audio"];
pub const OUTPUTS: &[&str] = &["text", "image", "audio", "embedding"];

/// Capabilities written in the config; `None` fields are left to discovery and inference.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Declared {
    pub input: Option<Vec<String>>,
    pub output: Option<Vec<String>>,
    pub tools: Option<bool>,
    pub reasoning: Option<bool>,
    pub context_window: Option<u64>,
    pub max_output: Option<u64>,
}

impl Declared {
    pub fn from_raw(raw: &RawCapabilities) -> Result<Self, String> {
        let check = |list: &Option<Vec<String>>, allowed: &[&str], what: &str| {
            if let Some(bad) = list
                .iter()
                .flatten()
                .find(|m| !allowed.contains(&m.as_str()))
            {
                return Err(format!(
                    "unknown {what} {bad:?} (expected some of: {})",
                    allowed.join(", ")
                ));
            }
            Ok(())
        };
        check(&raw.input, INPUTS, "input")?;
        check(&raw.output, OUTPUTS, "output")?;
        if raw.context_window == Some(0) || raw.max_output == Some(0) {
            return Err("context_window and max_output must be greater than 0".into());
        }
        Ok(Self {
            input: raw.input.clone(),
            output: raw.output.clone(),
            tools: raw.tools,
            reasoning: raw.reasoning,
            context_window: raw.context_window,
            max_output: raw.max_output,
        })
    }
}

/// Price per million tokens, for the cost estimate.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize)]
pub struct Price {
    pub input: f64,
    pub output: f64,
    /// For cached prompt tokens; the input price when absent.
    pub cached: Option<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_modalities_are_checked() {
        let raw = RawCapabilities {
            input: Some(vec!["text".into(), "smell".into()]),
            ..RawCapabilities::default()
        };
        let err = Declared::from_raw(&raw).unwrap_err();
        assert!(err.contains("smell"), "{err}");
    }
}
