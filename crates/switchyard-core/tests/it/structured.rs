//! Structured output across the translation: `response_format` (chat) and `text.format`
//! (Responses) reach Anthropic models natively or through a forced tool, and
//! `output_config.format` (Messages) reaches OpenAI-compatible models as `response_format`.
//! The fakes follow the shape they are asked for, as a model under constrained decoding does.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{Harness, sse_data, start};

fn person_schema() -> Value {
    json!({
        "type": "object",
        "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
        "required": ["name", "age"],
        "additionalProperties": false
    })
}

fn person_format() -> Value {
    json!({"type": "json_schema", "json_schema": {"name": "person", "schema": person_schema(), "strict": true}})
}

/// What the fakes answer for `person_schema`.
fn person() -> Value {
    json!({"name": "example", "age": 1})
}

/// Adds `old`, an Anthropic provider (the beta fake) serving a Claude model that has no native
/// structured output.
async fn with_old_claude(h: &Harness) {
    let (status, body) = h
        .admin_send(
            Method::POST,
            "/admin/providers",
            Some(json!({
                "name": "old",
                "kind": "anthropic",
                "base_url": h.beta.base_url(),
                "api_key": "env:SWITCHYARD_TEST_BETA_KEY",
                "models": ["claude-3-5-haiku-20241022"],
            })),
        )
        .await;
    assert_eq!(status, 201, "{body}");
}

fn content_json(answer: &Value) -> Value {
    let text = answer["choices"][0]["message"]["content"]
        .as_str()
        .unwrap_or_else(|| panic!("no content: {answer}"));
    serde_json::from_str(text).unwrap_or_else(|e| panic!("content is not JSON ({e}): {text}"))
}

#[tokio::test]
async fn a_json_schema_reaches_claude_natively_and_the_answer_is_the_json() {
    let h = start("").await;
    let (status, _, answer) = h
        .chat(json!({
            "model": "beta/claude-sonnet-4-5",
            "messages": [{"role": "user", "content": "Ada Lovelace, 36"}],
            "response_format": person_format(),
        }))
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(content_json(&answer), person());
    assert_eq!(answer["choices"][0]["finish_reason"], "stop");
    let sent = h.beta.requests()[0].json().unwrap();
    assert_eq!(
        sent["output_config"],
        json!({"format": {"type": "json_schema", "schema": person_schema()}})
    );
    assert!(sent.get("tools").is_none(), "{sent}");
}

#[tokio::test]
async fn an_older_claude_answers_through_a_forced_tool_whole_and_streamed() {
    let h = start("").await;
    with_old_claude(&h).await;
    let body = json!({
        "model": "old/claude-3-5-haiku-20241022",
        "messages": [{"role": "user", "content": "Ada Lovelace, 36"}],
        "response_format": person_format(),
    });
    let (status, _, answer) = h.chat(body.clone()).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(content_json(&answer), person());
    assert_eq!(answer["choices"][0]["finish_reason"], "stop");
    assert!(answer["choices"][0]["message"].get("tool_calls").is_none());
    let sent = h.beta.requests()[0].json().unwrap();
    assert_eq!(
        sent["tool_choice"],
        json!({"type": "tool", "name": "person"})
    );
    assert_eq!(sent["tools"][0]["input_schema"], person_schema());

    let mut streamed = body;
    streamed["stream"] = json!(true);
    let (status, _, events) = h.stream(streamed).await;
    assert_eq!(status, 200);
    let chunks: Vec<Value> = events
        .iter()
        .filter(|e| *e != "[DONE]")
        .map(|e| serde_json::from_str(e).unwrap())
        .collect();
    let text: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), person());
    assert!(
        chunks
            .iter()
            .all(|c| c["choices"][0]["delta"].get("tool_calls").is_none())
    );
    assert_eq!(events.last().map(String::as_str), Some("[DONE]"));
}

#[tokio::test]
async fn json_object_and_responses_text_format_reach_claude_too() {
    let h = start("").await;
    let (status, _, answer) = h
        .chat(json!({
            "model": "beta/claude-sonnet-4-5",
            "messages": [{"role": "user", "content": "any JSON"}],
            "response_format": {"type": "json_object"},
        }))
        .await;
    assert_eq!(status, 200, "{answer}");
    assert!(content_json(&answer).is_object());

    let r = h
        .post(
            "/responses",
            json!({
                "model": "beta/claude-sonnet-4-5",
                "input": "Ada Lovelace, 36",
                "text": {"format": {"type": "json_schema", "name": "person", "schema": person_schema(), "strict": true}},
            }),
        )
        .await;
    assert_eq!(r.status(), 200);
    let response: Value = r.json().await.unwrap();
    let text = response["output"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|item| item["type"] == "message")
        .flat_map(|item| item["content"].as_array().unwrap().clone())
        .filter_map(|part| part["text"].as_str().map(str::to_owned))
        .collect::<String>();
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap(),
        person(),
        "{response}"
    );
    let sent = h.beta.requests()[1].json().unwrap();
    assert_eq!(sent["output_config"]["format"]["schema"], person_schema());
}

#[tokio::test]
async fn what_a_claude_model_cannot_honour_is_a_400_naming_it() {
    let h = start("").await;
    with_old_claude(&h).await;
    let (status, _, error) = h
        .chat(json!({
            "model": "old/claude-3-5-haiku-20241022",
            "messages": [{"role": "user", "content": "x"}],
            "response_format": person_format(),
            "reasoning_effort": "high",
        }))
        .await;
    assert_eq!(status, 400, "{error}");
    assert_eq!(error["error"]["param"], "response_format");
    let (status, _, error) = h
        .chat(json!({
            "model": "beta/claude-sonnet-4-5",
            "messages": [{"role": "user", "content": "x"}],
            "logprobs": true,
        }))
        .await;
    assert_eq!(status, 400, "{error}");
    assert_eq!(error["error"]["param"], "logprobs");
    assert!(h.beta.requests().is_empty(), "nothing reached the upstream");
}

#[tokio::test]
async fn an_output_format_on_messages_reaches_openai_models_as_response_format() {
    let h = start("").await;
    let body = json!({
        "model": "alpha/gpt-4o-mini",
        "max_tokens": 200,
        "messages": [{"role": "user", "content": "Ada Lovelace, 36"}],
        "output_config": {"format": {"type": "json_schema", "schema": person_schema()}},
        "stop_sequences": ["one", "two", "three", "four", "five"],
    });
    let r = h
        .client
        .post(format!("{}/messages", h.base))
        .header("x-api-key", "sk-client-secret")
        .header("anthropic-version", "2023-06-01")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let message: Value = r.json().await.unwrap();
    let text = message["content"][0]["text"].as_str().unwrap();
    assert_eq!(serde_json::from_str::<Value>(text).unwrap(), person());
    let sent = h.alpha.requests()[0].json().unwrap();
    assert_eq!(
        sent["response_format"],
        json!({"type": "json_schema", "json_schema": {"name": "response", "schema": person_schema()}})
    );
    // OpenAI takes four stop sequences: those go upstream, the fifth is matched here.
    assert_eq!(sent["stop"], json!(["one", "two", "three", "four"]));
}

#[tokio::test]
async fn streamed_messages_stop_sequences_go_upstream_too() {
    let h = start("").await;
    let r = h
        .client
        .post(format!("{}/messages", h.base))
        .header("x-api-key", "sk-client-secret")
        .header("anthropic-version", "2023-06-01")
        .json(&json!({
            "model": "alpha/gpt-4o-mini",
            "max_tokens": 200,
            "stream": true,
            "messages": [{"role": "user", "content": "count to ten"}],
            "stop_sequences": ["seven"],
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let events = sse_data(&r.text().await.unwrap());
    assert!(
        events.iter().any(|e| e.contains("message_stop")),
        "{events:?}"
    );
    let sent = h.alpha.requests()[0].json().unwrap();
    assert_eq!(sent["stop"], json!(["seven"]));
}
