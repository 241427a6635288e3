//! `/proxy/{provider}/{path}`: a provider's own API with its key put in, passed through.

use serde_json::{Value, json};

use crate::harness::{ALPHA_KEY, BETA_KEY, start, user};

#[tokio::test]
async fn the_provider_key_replaces_the_clients_and_the_answer_passes_through() {
    let h = start("").await;
    let r = h
        .client
        .get(format!("{}/proxy/alpha/models?limit=5", h.root()))
        .bearer_auth("sk-client-secret")
        .header("x-custom", "kept")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers().contains_key("x-switchyard-request-id"));
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["object"], "list", "{body}");
    let seen = h.alpha.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].path, "/v1/models?limit=5");
    assert_eq!(
        seen[0].header("authorization"),
        Some(format!("Bearer {ALPHA_KEY}").as_str())
    );
    assert_eq!(seen[0].header("x-custom"), Some("kept"));

    // An Anthropic provider gets its own header style and a default anthropic-version.
    let r = h
        .client
        .post(format!("{}/proxy/beta/v1/messages", h.root()))
        .header("x-api-key", "sk-client-secret")
        .json(&json!({"model": "claude-sonnet-4-5", "max_tokens": 50, "messages": user("hi")}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["type"], "message", "{body}");
    let seen = h.beta.requests();
    assert_eq!(seen[0].header("x-api-key"), Some(BETA_KEY));
    assert_eq!(seen[0].header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(seen[0].header("authorization"), None);
}

#[tokio::test]
async fn streams_and_upstream_errors_pass_through_untouched() {
    let h = start("").await;
    let r = h
        .client
        .post(format!("{}/proxy/alpha/chat/completions", h.root()))
        .json(&json!({"model": "gpt-4o-mini", "stream": true, "messages": user("one two")}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-type"].to_str().unwrap(),
        "text/event-stream"
    );
    let text = r.text().await.unwrap();
    assert_eq!(crate::harness::stream_text(&text), "You said: one two");
    assert!(text.trim_end().ends_with("data: [DONE]"));

    h.alpha
        .push(crate::harness::upstream_error(429, "slow down"));
    let r = h
        .client
        .post(format!("{}/proxy/alpha/chat/completions", h.root()))
        .json(&json!({"model": "gpt-4o-mini", "messages": user("x")}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        429,
        "the upstream's own status, not failed over"
    );
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["message"], "slow down");

    let rows = h.wait_for_rows(2).await;
    let row = &rows["requests"][0];
    assert_eq!(row["endpoint"], "/proxy/alpha/chat/completions");
    assert_eq!(row["provider"], "alpha");
    assert_eq!(row["status"], 429);
}

#[tokio::test]
async fn unknown_providers_and_narrow_keys_are_refused() {
    let h = start(
        r#"
[[keys]]
name = "narrow"
hash = "sha256:6b86b273ff34fce19d6b804eff5a3f5747ada4eaa22f1d49c01e52ddb7875b4b"
models = ["alpha/gpt-4o-mini"]
"#,
    )
    .await;
    let r = h
        .client
        .get(format!("{}/proxy/nope/models", h.root()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "provider_not_found");
    // The key "1" may use one model, not everything alpha offers.
    let r = h
        .client
        .get(format!("{}/proxy/alpha/models", h.root()))
        .bearer_auth("1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(h.alpha.requests().len(), 0);
}
