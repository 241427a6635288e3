//! OpenAI Responses API on the OpenAI fake: whole and streamed answers over a real socket, the
//! request recorded, a tool-output turn read back, and scripted faults.

use serde_json::{Value, json};
use switchyard_testkit::{Dialect, FakeUpstream, Reply, Script, ToolCallSpec};

use crate::common::{TestResult, client, events, post};

fn url(fake: &FakeUpstream) -> String {
    format!("{}/responses", fake.base_url())
}

fn body(stream: bool, input: Value) -> Value {
    json!({"model": "gpt-test", "stream": stream, "input": input})
}

#[tokio::test]
async fn whole_response_answers_the_input_and_is_recorded() -> TestResult {
    let fake = FakeUpstream::start(Dialect::OpenAi).await?;
    let resp = client()?
        .post(url(&fake))
        .header("authorization", "Bearer sk-test")
        .json(&json!({"model": "gpt-test", "input": [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hello"}]}], "store": false}))
        .send()
        .await?;
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await?;
    assert_eq!(v["object"], "response");
    assert_eq!(v["status"], "completed");
    assert_eq!(v["model"], "gpt-test");
    assert_eq!(v["store"], false, "request fields are echoed");
    assert_eq!(v["output"][0]["type"], "message");
    assert_eq!(v["output"][0]["content"][0]["type"], "output_text");
    assert_eq!(v["output"][0]["content"][0]["text"], "You said: hello");
    let usage = &v["usage"];
    let total = usage["input_tokens"].as_u64().ok_or("input_tokens")?
        + usage["output_tokens"].as_u64().ok_or("output_tokens")?;
    assert_eq!(usage["total_tokens"].as_u64(), Some(total));

    let recorded = fake.requests();
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].path, "/v1/responses");
    assert_eq!(recorded[0].header("authorization"), Some("Bearer sk-test"));
    assert_eq!(recorded[0].json().ok_or("json body")?["model"], "gpt-test");

    // A tool output closing the input is read back, as chat tool results are.
    let next = json!([
        {"role": "user", "content": "weather?"},
        {"type": "function_call", "call_id": "call_1", "name": "w", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "call_1", "output": "sunny"},
    ]);
    let v: Value = post(&url(&fake), &body(false, next)).await?.json().await?;
    assert_eq!(v["output"][0]["content"][0]["text"], "Tool said: sunny");
    Ok(())
}

#[tokio::test]
async fn streamed_response_has_named_numbered_events_and_whole_items() -> TestResult {
    let fake = FakeUpstream::start(Dialect::OpenAi).await?;
    fake.push(Script::Reply(Reply {
        text: Some("Checking now".into()),
        reasoning: Some("look it up".into()),
        tool_calls: vec![ToolCallSpec::new("get_weather", json!({"city": "Oslo"}))],
        ..Reply::default()
    }));
    let resp = post(&url(&fake), &body(true, json!("weather in Oslo?"))).await?;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("text/event-stream")
    );
    let text = resp.text().await?;
    assert!(
        !text.contains("[DONE]"),
        "Responses streams end without [DONE]"
    );
    let got = events(&text);
    let mut items = Vec::new();
    for (n, e) in got.iter().enumerate() {
        let data = e.json()?;
        assert_eq!(e.name.as_deref(), data["type"].as_str());
        assert_eq!(data["sequence_number"], n as u64);
        if data["type"] == "response.output_item.done" {
            items.push(data["item"].clone());
        }
    }
    assert_eq!(got[0].name.as_deref(), Some("response.created"));
    let last = got.last().ok_or("empty stream")?.json()?;
    assert_eq!(last["type"], "response.completed");
    assert_eq!(last["response"]["output"], Value::Array(items.clone()));
    let kinds: Vec<&str> = items.iter().filter_map(|i| i["type"].as_str()).collect();
    assert_eq!(kinds, ["reasoning", "message", "function_call"]);
    assert!(
        items[2]["id"]
            .as_str()
            .is_some_and(|id| id.starts_with("fc_"))
    );
    assert!(
        items[2]["call_id"]
            .as_str()
            .is_some_and(|id| id.starts_with("call_"))
    );
    assert_eq!(items[2]["arguments"], r#"{"city":"Oslo"}"#);
    assert!(last["response"]["usage"]["total_tokens"].is_u64());
    Ok(())
}

#[tokio::test]
async fn faults_end_responses_streams_as_scripted() -> TestResult {
    let fake = FakeUpstream::start(Dialect::OpenAi).await?;
    // Mid-stream error: `error` then `response.failed`, numbered on.
    fake.push(Script::ErrorEventAfter {
        reply: Reply::text("one two three"),
        after: 4,
    });
    let got = events(
        &post(&url(&fake), &body(true, json!("x")))
            .await?
            .text()
            .await?,
    );
    assert_eq!(got.len(), 6);
    assert_eq!(got[3].name.as_deref(), Some("response.content_part.added"));
    assert_eq!(got[4].name.as_deref(), Some("error"));
    let failed = got[5].json()?;
    assert_eq!(failed["type"], "response.failed");
    assert_eq!(failed["sequence_number"], 5);
    assert_eq!(failed["response"]["status"], "failed");
    assert_eq!(failed["response"]["error"]["code"], "server_error");

    // A cut connection breaks the body.
    fake.push(Script::ResetAfterEvents {
        reply: Reply::default(),
        after: 3,
    });
    let outcome = match post(&url(&fake), &body(true, json!("x"))).await {
        Ok(resp) => resp.text().await.map(|_| ()),
        Err(e) => Err(e),
    };
    assert!(outcome.is_err(), "the body must not end cleanly");

    // Whole answers get status errors as chat does.
    fake.push(Script::Error {
        status: 503,
        message: "busy".into(),
        retry_after: Some("2".into()),
        error_type: None,
    });
    let resp = post(&url(&fake), &body(false, json!("x"))).await?;
    assert_eq!(resp.status(), 503);
    assert_eq!(
        resp.headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("2")
    );
    assert_eq!(resp.json::<Value>().await?["error"]["type"], "server_error");
    fake.push(Script::ErrorEventAfter {
        reply: Reply::default(),
        after: 1,
    });
    assert_eq!(
        post(&url(&fake), &body(false, json!("x"))).await?.status(),
        500
    );
    Ok(())
}
