//! `POST /v1/images/generations`: routed with the model rewritten, Anthropic models refused.

use serde_json::{Value, json};

use crate::harness::start;

#[tokio::test]
async fn images_are_generated_through_the_route_with_the_targets_model_name() {
    let h = start("").await;
    let r = h
        .post(
            "/images/generations",
            json!({"model": "alpha/gpt-4o-mini", "prompt": "a red fox", "n": 2, "response_format": "b64_json"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    let data = body["data"].as_array().unwrap();
    assert_eq!(data.len(), 2);
    assert!(!data[0]["b64_json"].as_str().unwrap().is_empty());
    let sent = h.alpha.requests()[0].json().unwrap();
    assert_eq!(sent["model"], "gpt-4o-mini");
    assert_eq!(sent["prompt"], "a red fox");
}

#[tokio::test]
async fn images_on_an_anthropic_model_or_without_prompt_are_client_errors() {
    let h = start("").await;
    let r = h
        .post(
            "/images/generations",
            json!({"model": "beta/claude-sonnet-4-5", "prompt": "x"}),
        )
        .await;
    assert_eq!(r.status(), 400);
    let r = h
        .post("/images/generations", json!({"model": "alpha/gpt-4o-mini"}))
        .await;
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["param"], "prompt");
}
