//! Ollama's native model list (`GET /api/tags`), served by the OpenAI-dialect fake so local
//! runtime discovery can be tested against it. Pure rendering, no I/O.

use crate::openai::MODEL_IDS;
use crate::render::json_vec;

/// `GET /api/tags`: the same models as `GET /v1/models`, in Ollama's shape.
pub(crate) fn tags_body() -> Vec<u8> {
    let models: Vec<serde_json::Value> = MODEL_IDS
        .iter()
        .map(|name| {
            serde_json::json!({
                "name": name,
                "model": name,
                "modified_at": "2025-01-01T00:00:00Z",
                "size": 1_000_000_000_u64,
                "digest": "0".repeat(64),
                "details": {
                    "parent_model": "",
                    "format": "gguf",
                    "family": "fake",
                    "families": ["fake"],
                    "parameter_size": "1B",
                    "quantization_level": "Q4_K_M",
                },
            })
        })
        .collect();
    json_vec(&serde_json::json!({ "models": models }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_list_the_same_models_as_v1_models() -> Result<(), serde_json::Error> {
        let tags: serde_json::Value = serde_json::from_slice(&tags_body())?;
        let openai: serde_json::Value = serde_json::from_slice(&crate::openai::models_body(0))?;
        let names: Vec<&str> = tags["models"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|m| m["name"].as_str())
            .collect();
        let ids: Vec<&str> = openai["data"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|m| m["id"].as_str())
            .collect();
        assert_eq!(names, ids);
        assert!(!names.is_empty());
        assert_eq!(tags["models"][0]["details"]["format"], "gguf");
        Ok(())
    }
}
