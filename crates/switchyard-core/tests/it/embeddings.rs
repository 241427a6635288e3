//! Embeddings in both encodings: the OpenAI SDKs ask for base64 by default.

use base64::Engine as _;
use serde_json::{Value, json};

use crate::harness::start;

fn decode(b64: &str) -> Vec<f32> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap();
    bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

#[tokio::test]
async fn float_and_base64_encodings_carry_the_same_vectors() {
    let h = start("").await;
    let float: Value = h
        .post(
            "/embeddings",
            json!({"model": "text-embedding-3-small", "input": ["hello", "world"]}),
        )
        .await
        .json()
        .await
        .unwrap();
    let b64: Value = h
        .post("/embeddings", json!({"model": "alpha/text-embedding-3-small", "input": ["hello", "world"], "encoding_format": "base64"}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(float["object"], "list");
    assert_eq!(float["data"].as_array().unwrap().len(), 2);
    for i in 0..2 {
        let floats: Vec<f32> = float["data"][i]["embedding"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap() as f32)
            .collect();
        assert!(!floats.is_empty());
        assert_eq!(
            decode(b64["data"][i]["embedding"].as_str().unwrap()),
            floats
        );
        assert_eq!(b64["data"][i]["index"], i);
    }
    assert_eq!(
        h.alpha.requests()[0].json().unwrap()["model"],
        "text-embedding-3-small"
    );
}

#[tokio::test]
async fn embeddings_on_an_anthropic_model_or_empty_input_are_client_errors() {
    let h = start("").await;
    let r = h
        .post(
            "/embeddings",
            json!({"model": "beta/claude-sonnet-4-5", "input": "x"}),
        )
        .await;
    assert_eq!(r.status(), 400);
    assert!(
        r.json::<Value>().await.unwrap()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no embeddings")
    );
    let r = h
        .post(
            "/embeddings",
            json!({"model": "text-embedding-3-small", "input": []}),
        )
        .await;
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["param"], "input");
}
