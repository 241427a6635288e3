//! Anthropic dialect: Messages whole and streamed, models, error shape.

use serde_json::{Value, json};
use switchyard_testkit::{Dialect, FakeUpstream, Reply, Script, ToolCallSpec};

use crate::common::{TestResult, chat, client, events, post};

#[tokio::test]
async fn stream_event_order_and_contiguous_indices() -> TestResult {
    let fake = FakeUpstream::start(Dialect::Anthropic).await?;
    fake.push(Script::Reply(Reply {
        reasoning: Some("weigh the options".into()),
        tool_calls: vec![
            ToolCallSpec::new("get_weather", json!({"location": "Paris"})),
            ToolCallSpec::new("noop", json!({})),
        ],
        ..Reply::default()
    }));
    let url = format!("{}/v1/messages", fake.base_url());
    let resp = post(&url, &chat(true, "hello")).await?;
    assert_eq!(resp.status(), 200);
    let all = events(&resp.text().await?);
    assert!(
        all.iter().all(|e| e.data != "[DONE]"),
        "no [DONE] on Anthropic streams"
    );
    let data: Vec<Value> = all.iter().map(|e| e.json()).collect::<Result<_, _>>()?;
    for (event, d) in all.iter().zip(&data) {
        assert_eq!(
            event.name.as_deref(),
            d["type"].as_str(),
            "event name equals data.type"
        );
    }
    let types: Vec<&str> = data.iter().filter_map(|d| d["type"].as_str()).collect();
    assert_eq!(types.first(), Some(&"message_start"));
    assert_eq!(types.last(), Some(&"message_stop"));
    assert_eq!(types[types.len() - 2], "message_delta");
    let start = &data[0]["message"];
    assert_eq!(start["content"], json!([]));
    assert!(start["usage"]["input_tokens"].is_u64());
    assert_eq!(start["usage"]["output_tokens"], 1);
    assert_eq!(start["usage"]["cache_read_input_tokens"], 0);

    // Blocks: start/deltas/stop, indices 0, 1, 2, … in order.
    let mut open: Option<u64> = None;
    let mut next_index = 0;
    let mut blocks: Vec<(String, String)> = Vec::new();
    for d in &data {
        match d["type"].as_str() {
            Some("content_block_start") => {
                assert!(open.is_none(), "blocks do not overlap");
                assert_eq!(d["index"], next_index);
                open = d["index"].as_u64();
                let kind = d["content_block"]["type"].as_str().ok_or("block type")?;
                match kind {
                    "thinking" => assert_eq!(
                        d["content_block"],
                        json!({"type": "thinking", "thinking": "", "signature": ""})
                    ),
                    "text" => assert_eq!(d["content_block"]["text"], ""),
                    "tool_use" => assert_eq!(d["content_block"]["input"], json!({})),
                    other => return Err(format!("unexpected block {other}").into()),
                }
                blocks.push((kind.to_owned(), String::new()));
            }
            Some("content_block_delta") => {
                assert_eq!(d["index"].as_u64(), open);
                let delta = &d["delta"];
                let piece = delta["text"]
                    .as_str()
                    .or_else(|| delta["thinking"].as_str())
                    .or_else(|| delta["partial_json"].as_str())
                    .or_else(|| delta["signature"].as_str().map(|_| ""))
                    .ok_or("delta kind")?;
                blocks
                    .last_mut()
                    .ok_or("delta outside block")?
                    .1
                    .push_str(piece);
            }
            Some("content_block_stop") => {
                assert_eq!(d["index"].as_u64(), open);
                open = None;
                next_index += 1;
            }
            _ => {}
        }
    }
    let kinds: Vec<&str> = blocks.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(kinds, ["thinking", "text", "tool_use", "tool_use"]);
    assert_eq!(blocks[0].1, "weigh the options");
    assert_eq!(blocks[1].1, "You said: hello");
    assert_eq!(
        serde_json::from_str::<Value>(&blocks[2].1)?,
        json!({"location": "Paris"})
    );
    // The thinking block ends with one signature_delta.
    let thinking_deltas: Vec<&Value> = data
        .iter()
        .filter(|d| d["type"] == "content_block_delta" && d["index"] == 0)
        .collect();
    assert_eq!(
        thinking_deltas.last().map(|d| &d["delta"]),
        Some(&json!({"type": "signature_delta", "signature": "sig-fake"}))
    );
    let delta = &data[data.len() - 2];
    assert_eq!(
        delta["delta"],
        json!({"stop_reason": "tool_use", "stop_sequence": null})
    );
    assert!(
        delta["usage"]["output_tokens"]
            .as_u64()
            .is_some_and(|n| n > 1)
    );
    Ok(())
}

#[tokio::test]
async fn whole_message_shape() -> TestResult {
    let fake = FakeUpstream::start(Dialect::Anthropic).await?;
    fake.push(Script::Reply(Reply {
        text: Some("Sure.".into()),
        tool_calls: vec![ToolCallSpec::new(
            "get_weather",
            json!({"location": "Paris"}),
        )],
        cached_tokens: 7,
        prompt_tokens: Some(377),
        completion_tokens: Some(65),
        ..Reply::default()
    }));
    let url = format!("{}/v1/messages", fake.base_url());
    let v: Value = post(&url, &chat(false, "weather")).await?.json().await?;
    assert!(v["id"].as_str().is_some_and(|id| id.starts_with("msg_")));
    assert_eq!(v["type"], "message");
    assert_eq!(v["role"], "assistant");
    assert_eq!(v["model"], "test-model");
    assert_eq!(v["content"][0], json!({"type": "text", "text": "Sure."}));
    assert_eq!(v["content"][1]["type"], "tool_use");
    assert!(
        v["content"][1]["id"]
            .as_str()
            .is_some_and(|id| id.starts_with("toolu_"))
    );
    assert_eq!(v["content"][1]["input"], json!({"location": "Paris"}));
    assert_eq!(v["stop_reason"], "tool_use");
    assert!(v["stop_sequence"].is_null());
    assert_eq!(
        v["usage"],
        json!({"input_tokens": 377, "output_tokens": 65, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 7})
    );
    Ok(())
}

#[tokio::test]
async fn models_errors_and_text_parts() -> TestResult {
    let fake = FakeUpstream::start(Dialect::Anthropic).await?;
    let v: Value = client()?
        .get(format!("{}/v1/models", fake.base_url()))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(v["data"][0]["type"], "model");
    assert_eq!(v["has_more"], false);
    assert_eq!(v["first_id"], v["data"][0]["id"]);

    fake.push(Script::Error {
        status: 529,
        message: "Overloaded".into(),
        retry_after: None,
        error_type: None,
    });
    let url = format!("{}/v1/messages", fake.base_url());
    let resp = post(&url, &chat(false, "x")).await?;
    assert_eq!(resp.status(), 529);
    let v: Value = resp.json().await?;
    assert_eq!(v["type"], "error");
    assert_eq!(
        v["error"],
        json!({"type": "overloaded_error", "message": "Overloaded"})
    );
    assert!(
        v["request_id"]
            .as_str()
            .is_some_and(|id| id.starts_with("req_"))
    );

    let body = json!({
        "model": "m",
        "max_tokens": 10,
        "messages": [{"role": "user", "content": [{"type": "text", "text": "parts"}, {"type": "text", "text": "work"}]}],
    });
    let v: Value = post(&url, &body).await?.json().await?;
    assert_eq!(v["content"][0]["text"], "You said: parts work");

    let resp = post(&format!("{}/v1/chat/completions", fake.base_url()), &body).await?;
    assert_eq!(resp.status(), 404);
    let v: Value = resp.json().await?;
    assert_eq!(v["error"]["type"], "not_found_error");
    Ok(())
}
