//! Non-streamed chat completions through both kinds of upstream.

use serde_json::json;
use switchyard_testkit::{Reply, Script, ToolCallSpec};

use crate::harness::{ALPHA_KEY, BETA_KEY, header, start, user};

#[tokio::test]
async fn openai_upstream_answers_and_gets_its_own_key_and_the_clients_fields() {
    let h = start("").await;
    h.alpha.push(Script::Reply(Reply {
        text: Some("Hello there".into()),
        prompt_tokens: Some(11),
        completion_tokens: Some(2),
        ..Reply::default()
    }));
    let (status, headers, body) = h
        .chat(json!({
            "model": "alpha/gpt-4o-mini",
            "messages": [{"role": "developer", "content": "be brief"}, {"role": "user", "content": "hi"}],
            "max_completion_tokens": 50,
            "seed": 42,
            "response_format": {"type": "json_object"}
        }))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["choices"][0]["message"]["content"], "Hello there");
    assert_eq!(body["choices"][0]["message"]["role"], "assistant");
    assert_eq!(body["choices"][0]["finish_reason"], "stop");
    assert_eq!(
        body["usage"],
        json!({"prompt_tokens": 11, "completion_tokens": 2, "total_tokens": 13, "prompt_tokens_details": {"cached_tokens": 0}, "completion_tokens_details": {"reasoning_tokens": 0}})
    );
    assert_eq!(header(&headers, "x-switchyard-target"), "alpha/gpt-4o-mini");
    assert_eq!(
        header(&headers, "x-switchyard-attempts"),
        "alpha/gpt-4o-mini=ok"
    );

    let sent = &h.alpha.requests()[0];
    assert_eq!(sent.path, "/v1/chat/completions");
    assert_eq!(
        sent.header("authorization"),
        Some(format!("Bearer {ALPHA_KEY}").as_str())
    );
    let upstream = sent.json().unwrap();
    assert_eq!(
        upstream["model"], "gpt-4o-mini",
        "the provider prefix is stripped"
    );
    assert_eq!(upstream["seed"], 42, "unknown fields pass through");
    assert_eq!(upstream["response_format"]["type"], "json_object");
    assert_eq!(upstream["messages"][0]["role"], "developer");
    assert_eq!(upstream["max_completion_tokens"], 50);
    assert!(!String::from_utf8_lossy(&sent.body).contains("sk-client-secret"));
}

#[tokio::test]
async fn bare_model_ids_and_aliases_resolve() {
    let h = start("").await;
    let (status, headers, body) = h
        .chat(json!({"model": "gpt-4o-mini", "messages": user("one")}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(header(&headers, "x-switchyard-target"), "alpha/gpt-4o-mini");
    assert_eq!(body["choices"][0]["message"]["content"], "You said: one");
    let (status, headers, _) = h
        .chat(json!({"model": "claude-sonnet-4-5", "messages": user("two")}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        header(&headers, "x-switchyard-target"),
        "beta/claude-sonnet-4-5"
    );
    let (status, headers, _) = h
        .chat(json!({"model": "smart", "messages": user("three")}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "x-switchyard-target"), "alpha/gpt-4o-mini");
}

#[tokio::test]
async fn anthropic_upstream_is_translated_both_ways() {
    let h = start("").await;
    h.beta.push(Script::Reply(Reply {
        text: Some("Let me check.".into()),
        reasoning: Some("The user wants weather.".into()),
        signature: Some("sig-abc".into()),
        tool_calls: vec![ToolCallSpec::new("get_weather", json!({"city": "Paris"}))],
        prompt_tokens: Some(20),
        completion_tokens: Some(9),
        cached_tokens: 4,
        ..Reply::default()
    }));
    let (status, _, body) = h
        .chat(json!({
            "model": "beta/claude-sonnet-4-5",
            "messages": [
                {"role": "system", "content": "You are terse."},
                {"role": "user", "content": [
                    {"type": "text", "text": "Weather in Paris? Also this:"},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}
                ]}
            ],
            "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}],
            "max_tokens": 200
        }))
        .await;
    assert_eq!(status, 200, "{body}");
    let message = &body["choices"][0]["message"];
    assert_eq!(message["content"], "Let me check.");
    assert_eq!(message["reasoning_content"], "The user wants weather.");
    assert_eq!(message["thinking_blocks"][0]["signature"], "sig-abc");
    assert_eq!(message["tool_calls"][0]["type"], "function");
    assert_eq!(message["tool_calls"][0]["function"]["name"], "get_weather");
    let args: serde_json::Value = serde_json::from_str(
        message["tool_calls"][0]["function"]["arguments"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(args, json!({"city": "Paris"}));
    assert_eq!(body["choices"][0]["finish_reason"], "tool_calls");
    assert_eq!(body["usage"]["prompt_tokens"], 24, "input plus cache reads");
    assert_eq!(body["usage"]["prompt_tokens_details"]["cached_tokens"], 4);
    assert_eq!(body["usage"]["completion_tokens"], 9);

    let sent = &h.beta.requests()[0];
    assert_eq!(sent.path, "/v1/messages");
    assert_eq!(sent.header("x-api-key"), Some(BETA_KEY));
    assert_eq!(sent.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(
        sent.header("authorization"),
        None,
        "the client's bearer token never goes upstream"
    );
    let upstream = sent.json().unwrap();
    assert_eq!(upstream["model"], "claude-sonnet-4-5");
    assert_eq!(upstream["system"][0]["text"], "You are terse.");
    assert_eq!(upstream["max_tokens"], 200);
    assert_eq!(
        upstream["messages"][0]["content"][1]["source"]["media_type"],
        "image/png"
    );
    assert_eq!(upstream["tools"][0]["name"], "get_weather");
}

#[tokio::test]
async fn a_tool_result_conversation_round_trips_to_anthropic() {
    let h = start("").await;
    let (status, _, body) = h
        .chat(json!({
            "model": "beta/claude-sonnet-4-5",
            "messages": [
                {"role": "user", "content": "weather?"},
                {"role": "assistant", "content": null, "tool_calls": [{"id": "toolu_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
                {"role": "tool", "tool_call_id": "toolu_1", "content": "sunny"}
            ]
        }))
        .await;
    assert_eq!(status, 200, "{body}");
    let upstream = h.beta.requests()[0].json().unwrap();
    assert_eq!(upstream["messages"][1]["content"][0]["type"], "tool_use");
    assert_eq!(
        upstream["messages"][2]["content"][0],
        json!({"type": "tool_result", "tool_use_id": "toolu_1", "content": "sunny"})
    );
}
