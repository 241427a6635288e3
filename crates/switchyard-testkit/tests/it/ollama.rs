//! Ollama's native model list on the OpenAI-dialect fake, for local-runtime discovery tests.

use serde_json::Value;
use switchyard_testkit::{Dialect, FakeUpstream};

use crate::common::{TestResult, client};

#[tokio::test]
async fn api_tags_lists_the_v1_models_in_ollama_shape() -> TestResult {
    let fake = FakeUpstream::start(Dialect::OpenAi).await?;
    let root = format!("http://{}", fake.addr());
    let resp = client()?.get(format!("{root}/api/tags")).send().await?;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/json")
    );
    let tags: Value = resp.json().await?;
    let models: Value = client()?
        .get(format!("{}/models", fake.base_url()))
        .send()
        .await?
        .json()
        .await?;
    let names: Vec<&str> = tags["models"]
        .as_array()
        .ok_or("models is an array")?
        .iter()
        .filter_map(|m| m["name"].as_str())
        .collect();
    let ids: Vec<&str> = models["data"]
        .as_array()
        .ok_or("data is an array")?
        .iter()
        .filter_map(|m| m["id"].as_str())
        .collect();
    assert_eq!(names, ids);
    let first = &tags["models"][0];
    assert_eq!(first["model"], first["name"]);
    assert!(first["details"]["families"].is_array());
    let recorded = fake.requests();
    assert_eq!(recorded[0].path, "/api/tags");
    Ok(())
}

#[tokio::test]
async fn api_tags_is_only_on_the_openai_fake() -> TestResult {
    let fake = FakeUpstream::start(Dialect::Anthropic).await?;
    let resp = client()?
        .get(format!("http://{}/api/tags", fake.addr()))
        .send()
        .await?;
    assert_eq!(resp.status(), 404);
    Ok(())
}
