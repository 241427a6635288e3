//! Embeddings: deterministic vectors, float and base64 encodings, scripted faults.

use base64::Engine as _;
use serde_json::{Value, json};
use switchyard_testkit::{Dialect, FakeUpstream, Script};

use crate::common::{TestResult, post};

fn floats(v: &Value) -> Option<Vec<f32>> {
    v.as_array()?
        .iter()
        .map(|x| x.as_f64().map(|f| f as f32))
        .collect()
}

fn decode(v: &Value) -> Result<Vec<f32>, Box<dyn std::error::Error>> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(v.as_str().ok_or("string")?)?;
    Ok(bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect())
}

#[tokio::test]
async fn float_and_base64_encode_the_same_vector() -> TestResult {
    let fake = FakeUpstream::start(Dialect::OpenAi).await?;
    let url = format!("{}/embeddings", fake.base_url());
    let input = json!(["alpha", "beta"]);
    let plain: Value = post(&url, &json!({"model": "emb", "input": input}))
        .await?
        .json()
        .await?;
    let encoded: Value = post(
        &url,
        &json!({"model": "emb", "input": input, "encoding_format": "base64"}),
    )
    .await?
    .json()
    .await?;
    assert_eq!(plain["object"], "list");
    assert_eq!(plain["model"], "emb");
    assert!(plain["usage"]["prompt_tokens"].is_u64());
    for i in 0..2 {
        assert_eq!(plain["data"][i]["object"], "embedding");
        assert_eq!(plain["data"][i]["index"], i);
        let a = floats(&plain["data"][i]["embedding"]).ok_or("float array")?;
        let b = decode(&encoded["data"][i]["embedding"])?;
        assert_eq!(a.len(), 8);
        assert!(a.iter().all(|x| (-1.0..=1.0).contains(x)));
        assert_eq!(a, b);
    }
    assert_ne!(plain["data"][0]["embedding"], plain["data"][1]["embedding"]);

    let again: Value = post(&url, &json!({"input": "alpha"})).await?.json().await?;
    assert_eq!(
        again["data"][0]["embedding"], plain["data"][0]["embedding"],
        "deterministic"
    );
    Ok(())
}

#[tokio::test]
async fn embeddings_take_scripts_too() -> TestResult {
    let fake = FakeUpstream::start(Dialect::OpenAi).await?;
    fake.push(Script::Error {
        status: 500,
        message: "boom".into(),
        retry_after: None,
        error_type: None,
    });
    let url = format!("{}/embeddings", fake.base_url());
    let resp = post(&url, &json!({"input": "x"})).await?;
    assert_eq!(resp.status(), 500);
    let v: Value = resp.json().await?;
    assert_eq!(v["error"]["type"], "server_error");
    let resp = post(&url, &json!({"input": {"not": "valid"}})).await?;
    assert_eq!(resp.status(), 400);
    Ok(())
}
