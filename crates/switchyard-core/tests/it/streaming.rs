//! Streamed chat completions: the exact chunk sequence clients depend on.

use serde_json::{Value, json};
use switchyard_testkit::{Reply, Script, ToolCallSpec};

use crate::harness::{header, start, user};

fn parse(data: &[String]) -> (Vec<Value>, bool) {
    let done = data.last().is_some_and(|d| d == "[DONE]");
    let chunks = data
        .iter()
        .filter(|d| *d != "[DONE]")
        .map(|d| serde_json::from_str(d).unwrap())
        .collect();
    (chunks, done)
}

/// The invariants of `shared/reference/clients.md` §3a.
fn assert_well_formed(chunks: &[Value]) {
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    for (i, c) in chunks.iter().enumerate() {
        assert_eq!(c["object"], "chat.completion.chunk");
        assert!(c["choices"].is_array(), "choices always an array: {c}");
        assert!(c["id"].is_string() && c["created"].is_u64() && c["model"].is_string());
        if i > 0 {
            assert!(
                c["choices"][0]["delta"].get("role").is_none(),
                "role only in the first chunk: {c}"
            );
        }
        if let Some(delta) = c["choices"][0]["delta"].as_object() {
            let kinds = ["content", "reasoning_content", "tool_calls"]
                .iter()
                .filter(|k| delta.get(**k).is_some_and(|v| v != ""))
                .count();
            assert!(kinds <= 1, "one kind per delta: {c}");
        }
    }
}

#[tokio::test]
async fn text_stream_with_usage_chunk_and_done() {
    let h = start("").await;
    h.alpha.push(Script::Reply(Reply {
        text: Some("one two three".into()),
        prompt_tokens: Some(5),
        completion_tokens: Some(3),
        ..Reply::default()
    }));
    let (status, headers, data) = h
        .stream(json!({"model": "alpha/gpt-4o-mini", "messages": user("count"), "stream": true, "stream_options": {"include_usage": true}}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "content-type"), "text/event-stream");
    assert_eq!(
        header(&headers, "x-switchyard-attempts"),
        "alpha/gpt-4o-mini=ok"
    );
    let (chunks, done) = parse(&data);
    assert!(done, "ends with [DONE]");
    assert_well_formed(&chunks);
    let text: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(text, "one two three");
    let finish = &chunks[chunks.len() - 2];
    assert_eq!(finish["choices"][0]["finish_reason"], "stop");
    assert_eq!(finish["choices"][0]["delta"], json!({}));
    let usage = chunks.last().unwrap();
    assert_eq!(usage["choices"], json!([]));
    assert_eq!(usage["usage"]["total_tokens"], 8);
}

#[tokio::test]
async fn no_usage_chunk_unless_asked() {
    let h = start("").await;
    let (_, _, data) = h
        .stream(json!({"model": "alpha/gpt-4o-mini", "messages": user("x"), "stream": true}))
        .await;
    let (chunks, done) = parse(&data);
    assert!(done);
    assert!(
        chunks
            .iter()
            .all(|c| c.get("usage").is_none() && !c["choices"].as_array().unwrap().is_empty())
    );
    // The gateway still asked the upstream for usage, for its own accounting.
    assert_eq!(
        h.alpha.requests()[0].json().unwrap()["stream_options"]["include_usage"],
        true
    );
}

#[tokio::test]
async fn parallel_tool_calls_stream_in_openai_shape_from_both_upstreams() {
    let h = start("").await;
    let calls = vec![
        ToolCallSpec::new("get_weather", json!({"city": "Paris"})),
        ToolCallSpec::new("get_stock_price", json!({"ticker": "ACME"})),
    ];
    for fake in [&h.alpha, &h.beta] {
        fake.push(Script::Reply(Reply {
            text: Some(String::new()),
            tool_calls: calls.clone(),
            ..Reply::default()
        }));
    }
    for model in ["alpha/gpt-4o-mini", "beta/claude-sonnet-4-5"] {
        let (status, _, data) = h
            .stream(json!({"model": model, "messages": user("go"), "stream": true}))
            .await;
        assert_eq!(status, 200);
        let (chunks, done) = parse(&data);
        assert!(done, "{model}");
        assert_well_formed(&chunks);
        let deltas: Vec<&Value> = chunks
            .iter()
            .filter_map(|c| c["choices"][0]["delta"]["tool_calls"].get(0))
            .collect();
        let starts: Vec<&&Value> = deltas.iter().filter(|d| d.get("id").is_some()).collect();
        assert_eq!(starts.len(), 2, "{model}: {deltas:#?}");
        for (i, s) in starts.iter().enumerate() {
            assert_eq!(s["index"], i);
            assert_eq!(s["type"], "function");
            assert_eq!(s["function"]["arguments"], "");
        }
        for (i, expected) in [json!({"city": "Paris"}), json!({"ticker": "ACME"})]
            .iter()
            .enumerate()
        {
            let args: String = deltas
                .iter()
                .filter(|d| d["index"] == i && d.get("id").is_none())
                .map(|d| {
                    assert!(
                        d.get("type").is_none() && d["function"].get("name").is_none(),
                        "{d}"
                    );
                    d["function"]["arguments"].as_str().unwrap()
                })
                .collect();
            assert_eq!(
                &serde_json::from_str::<Value>(&args).unwrap(),
                expected,
                "{model}"
            );
        }
        let finish = chunks
            .iter()
            .rev()
            .find(|c| c["choices"][0]["finish_reason"].is_string())
            .unwrap();
        assert_eq!(
            finish["choices"][0]["finish_reason"], "tool_calls",
            "{model}"
        );
    }
}

#[tokio::test]
async fn reasoning_streams_before_content_from_both_upstreams() {
    let h = start("").await;
    for fake in [&h.alpha, &h.beta] {
        fake.push(Script::Reply(Reply {
            text: Some("42".into()),
            reasoning: Some("think hard".into()),
            ..Reply::default()
        }));
    }
    for model in ["alpha/gpt-4o-mini", "beta/claude-sonnet-4-5"] {
        let (_, _, data) = h
            .stream(json!({"model": model, "messages": user("?"), "stream": true}))
            .await;
        let (chunks, done) = parse(&data);
        assert!(done);
        assert_well_formed(&chunks);
        let reasoning: String = chunks
            .iter()
            .filter_map(|c| c["choices"][0]["delta"]["reasoning_content"].as_str())
            .collect();
        assert_eq!(reasoning.replace(' ', ""), "thinkhard", "{model}");
        let first_content = chunks
            .iter()
            .position(|c| c["choices"][0]["delta"]["content"] == "42")
            .unwrap();
        let last_reasoning = chunks
            .iter()
            .rposition(|c| c["choices"][0]["delta"]["reasoning_content"].is_string())
            .unwrap();
        assert!(last_reasoning < first_content, "{model}");
    }
}

#[tokio::test]
async fn recorded_openai_stream_replays_through_the_gateway_unchanged_in_substance() {
    let h = start("").await;
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/fixtures/openai-chat-parallel-tool-calls.sse"
    );
    h.alpha.push(Script::Fixture {
        path: path.into(),
        delay_ms: 0,
    });
    let (status, _, data) = h
        .stream(json!({"model": "alpha/gpt-4o-mini", "messages": user("weather and stock"), "stream": true, "stream_options": {"include_usage": true}}))
        .await;
    assert_eq!(status, 200);
    let (chunks, done) = parse(&data);
    assert!(done);
    assert_well_formed(&chunks);
    let names: Vec<&str> = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["tool_calls"][0]["function"]["name"].as_str())
        .collect();
    assert_eq!(names, ["GetWeatherArgs", "get_stock_price"]);
    assert_eq!(chunks.last().unwrap()["usage"]["total_tokens"], 209);
}

#[tokio::test]
async fn recorded_xai_stream_with_mixed_deltas_is_normalised() {
    let h = start("").await;
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/fixtures/openai-compatible-xai-tool-call.jsonl"
    );
    h.alpha.push(Script::Fixture {
        path: path.into(),
        delay_ms: 0,
    });
    let (status, _, data) = h
        .stream(json!({"model": "alpha/gpt-4o-mini", "messages": user("x"), "stream": true}))
        .await;
    assert_eq!(status, 200);
    let (chunks, done) = parse(&data);
    assert!(done);
    assert_well_formed(&chunks);
    assert!(
        chunks
            .iter()
            .any(|c| c["choices"][0]["delta"]["reasoning_content"].is_string())
    );
    assert!(
        chunks
            .iter()
            .any(|c| c["choices"][0]["delta"]["tool_calls"][0]["id"].is_string())
    );
}

#[tokio::test]
async fn failures_after_the_first_token_become_an_error_frame_never_a_fake_done() {
    let h = start("[timeouts]\nidle_ms = 300").await;
    let reply = Reply {
        text: Some("alpha beta gamma delta epsilon".into()),
        ..Reply::default()
    };
    for (fault, expect) in [
        (
            Script::StallAfterEvents {
                reply: reply.clone(),
                after: 3,
            },
            "quiet",
        ),
        (
            Script::ResetAfterEvents {
                reply: reply.clone(),
                after: 3,
            },
            "",
        ),
        (
            Script::ErrorEventAfter {
                reply: reply.clone(),
                after: 3,
            },
            "",
        ),
    ] {
        h.alpha.push(fault.clone());
        let (status, _, data) = h
            .stream(json!({"model": "smart", "messages": user("hi"), "stream": true}))
            .await;
        assert_eq!(status, 200, "{fault:?}");
        assert_ne!(
            data.last().map(String::as_str),
            Some("[DONE]"),
            "{fault:?}: {data:?}"
        );
        let last: Value = serde_json::from_str(data.last().unwrap()).unwrap();
        let message = last["error"]["message"]
            .as_str()
            .unwrap_or_else(|| panic!("{fault:?}: {last}"));
        assert!(message.contains(expect), "{fault:?}: {message}");
        assert!(
            data.iter().any(|d| d.contains("alpha")),
            "the committed content came through: {data:?}"
        );
        // Committed to alpha: beta never sees this request.
        assert_eq!(h.beta.request_count(), 0, "{fault:?}");
    }
}
