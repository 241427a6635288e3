//! `/v1/messages` and `/v1/messages/count_tokens`, the Anthropic door, in front of both kinds of
//! upstream: the shapes and event sequences Claude Code and the Anthropic SDKs depend on.

use serde_json::{Value, json};
use switchyard_testkit::{Reply, Script, ToolCallSpec};

use crate::harness::{BETA_KEY, Harness, header, start, upstream_error};

const CLIENT_KEY: &str = "sk-client-secret";

/// POSTs as the Anthropic SDK does: `x-api-key`, `anthropic-version`, plus `extra` headers.
async fn post(h: &Harness, path: &str, body: &Value, extra: &[(&str, &str)]) -> reqwest::Response {
    let mut r = h
        .client
        .post(format!("{}{path}", h.base))
        .header("x-api-key", CLIENT_KEY)
        .header("anthropic-version", "2023-06-01")
        .json(body);
    for (k, v) in extra {
        r = r.header(*k, *v);
    }
    r.send().await.unwrap()
}

async fn create(h: &Harness, body: Value) -> (u16, reqwest::header::HeaderMap, Value) {
    let r = post(h, "/messages", &body, &[]).await;
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.json().await.unwrap())
}

/// Streams and returns every event as (`event:` name, data).
async fn stream(
    h: &Harness,
    body: Value,
    extra: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap, Vec<(String, Value)>) {
    let r = post(h, "/messages?beta=true", &body, extra).await;
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let text = r.text().await.unwrap();
    assert!(!text.contains("[DONE]"), "Anthropic streams have no [DONE]");
    let events = text
        .split("\n\n")
        .filter(|e| !e.trim().is_empty())
        .map(|e| {
            let name = e
                .lines()
                .find_map(|l| l.strip_prefix("event: "))
                .unwrap_or_else(|| panic!("an event without a name: {e:?}"));
            let data = e.lines().find_map(|l| l.strip_prefix("data: ")).unwrap();
            (name.to_owned(), serde_json::from_str(data).unwrap())
        })
        .collect();
    (status, headers, events)
}

/// The invariants of `shared/reference/clients.md` §3c; returns the data of the events.
fn assert_well_formed(events: &[(String, Value)]) -> Vec<Value> {
    for (name, data) in events {
        assert_eq!(name, data["type"].as_str().unwrap(), "event: equals type");
    }
    let data: Vec<Value> = events.iter().map(|(_, d)| d.clone()).collect();
    assert_eq!(data[0]["type"], "message_start");
    assert!(data[0]["message"]["usage"]["input_tokens"].is_u64());
    assert_eq!(data[0]["message"]["content"], json!([]));
    let mut open: Option<u64> = None;
    let mut next = 0;
    for d in &data[1..] {
        match d["type"].as_str().unwrap() {
            "content_block_start" => {
                assert_eq!(open, None, "one block at a time: {d}");
                assert_eq!(d["index"], next, "indices contiguous from 0");
                open = Some(next);
                next += 1;
            }
            "content_block_delta" => assert_eq!(Some(d["index"].as_u64().unwrap()), open),
            "content_block_stop" => {
                assert_eq!(Some(d["index"].as_u64().unwrap()), open);
                open = None;
            }
            "message_delta" => {
                assert_eq!(open, None, "every block stopped first");
                assert!(d["delta"]["stop_reason"].is_string());
                assert!(d["usage"]["output_tokens"].is_u64());
            }
            "ping" | "message_stop" => {}
            other => panic!("unexpected event {other}"),
        }
    }
    assert_eq!(data.last().unwrap()["type"], "message_stop");
    data
}

fn deltas(data: &[Value], kind: &str, field: &str) -> String {
    data.iter()
        .filter(|d| d["delta"]["type"] == kind)
        .map(|d| d["delta"][field].as_str().unwrap().to_owned())
        .collect()
}

fn hello(model: &str) -> Value {
    json!({"model": model, "max_tokens": 100, "messages": [{"role": "user", "content": "hi"}]})
}

#[tokio::test]
async fn an_openai_upstream_answers_as_an_anthropic_message() {
    let h = start("").await;
    h.alpha.push(Script::Reply(Reply {
        text: Some("Hello there".into()),
        prompt_tokens: Some(11),
        completion_tokens: Some(2),
        cached_tokens: 4,
        ..Reply::default()
    }));
    let (status, headers, msg) = create(
        &h,
        json!({
            "model": "alpha/gpt-4o-mini",
            "max_tokens": 32000,
            "system": [{"type": "text", "text": "be brief", "cache_control": {"type": "ephemeral"}}],
            "messages": [{"role": "user", "content": [{"type": "text", "text": "hi", "cache_control": {"type": "ephemeral"}}]}],
            "metadata": {"user_id": "user-42"},
            "temperature": 0.2,
            "thinking": {"type": "enabled", "budget_tokens": 4000}
        }),
    )
    .await;
    assert_eq!(status, 200, "{msg}");
    assert_eq!(msg["type"], "message");
    assert_eq!(msg["role"], "assistant");
    assert!(msg["id"].as_str().unwrap().starts_with("msg_"));
    assert_eq!(
        msg["content"],
        json!([{"type": "text", "text": "Hello there"}])
    );
    assert_eq!(msg["stop_reason"], "end_turn");
    assert_eq!(msg["stop_sequence"], Value::Null);
    assert_eq!(
        msg["usage"],
        json!({"input_tokens": 7, "output_tokens": 2, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 4})
    );
    assert_eq!(header(&headers, "x-switchyard-target"), "alpha/gpt-4o-mini");

    let sent = h.alpha.requests()[0].json().unwrap();
    assert_eq!(sent["model"], "gpt-4o-mini");
    assert_eq!(
        sent["messages"],
        json!([{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}])
    );
    assert_eq!(sent["user"], "user-42");
    assert_eq!(sent["temperature"], 0.2);
    assert_eq!(sent["max_tokens"], 32000);
    assert!(
        sent.get("reasoning_effort").is_none(),
        "gpt-4o-mini does not reason: OpenAI would refuse the effort"
    );
}

#[tokio::test]
async fn an_openai_stream_becomes_named_anthropic_events() {
    let h = start("").await;
    h.alpha.push(Script::Reply(Reply {
        text: Some("Let me check the weather.".into()),
        reasoning: Some("They want weather.".into()),
        tool_calls: vec![ToolCallSpec::new("get_weather", json!({"city": "Paris"}))],
        prompt_tokens: Some(40),
        completion_tokens: Some(15),
        ..Reply::default()
    }));
    let (status, headers, events) = stream(
        &h,
        json!({
            "model": "alpha/gpt-4o-mini", "max_tokens": 200, "stream": true,
            "messages": [{"role": "user", "content": "weather in Paris?"}],
            "tools": [{"name": "get_weather", "description": "weather", "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}]
        }),
        &[],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "content-type"), "text/event-stream");
    let data = assert_well_formed(&events);
    assert_eq!(data[1]["type"], "ping");
    let starts: Vec<&Value> = data
        .iter()
        .filter(|d| d["type"] == "content_block_start")
        .map(|d| &d["content_block"])
        .collect();
    assert_eq!(
        starts,
        [
            &json!({"type": "thinking", "thinking": "", "signature": ""}),
            &json!({"type": "text", "text": ""}),
            &json!({"type": "tool_use", "id": starts[2]["id"], "name": "get_weather", "input": {}}),
        ]
    );
    assert_eq!(
        deltas(&data, "thinking_delta", "thinking"),
        "They want weather."
    );
    assert_eq!(
        deltas(&data, "text_delta", "text"),
        "Let me check the weather."
    );
    let args = deltas(&data, "input_json_delta", "partial_json");
    assert_eq!(
        serde_json::from_str::<Value>(&args).unwrap(),
        json!({"city": "Paris"})
    );
    let end = data.iter().find(|d| d["type"] == "message_delta").unwrap();
    assert_eq!(end["delta"]["stop_reason"], "tool_use");
    assert_eq!(end["usage"]["output_tokens"], 15);
    assert_eq!(end["usage"]["input_tokens"], 40);
    let sent = h.alpha.requests()[0].json().unwrap();
    assert_eq!(sent["stream"], true);
    assert_eq!(sent["tools"][0]["function"]["name"], "get_weather");
}

#[tokio::test]
async fn a_tool_round_trip_with_two_results_in_one_turn() {
    let h = start("").await;
    h.alpha.push(Script::Reply(Reply {
        text: Some(String::new()),
        tool_calls: vec![
            ToolCallSpec::new("get_weather", json!({"city": "Paris"})),
            ToolCallSpec::new("get_time", json!({"tz": "Europe/Paris"})),
        ],
        ..Reply::default()
    }));
    let tools = json!([
        {"name": "get_weather", "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}},
        {"name": "get_time", "input_schema": {"type": "object", "properties": {"tz": {"type": "string"}}}}
    ]);
    let question = json!({"role": "user", "content": "weather and time in Paris?"});
    let (status, _, first) = create(
        &h,
        json!({"model": "alpha/gpt-4o-mini", "max_tokens": 100, "tools": tools, "messages": [question]}),
    )
    .await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["stop_reason"], "tool_use");
    let calls: Vec<&Value> = first["content"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["type"] == "tool_use")
        .collect();
    assert_eq!(calls.len(), 2, "{first}");
    assert_eq!(calls[0]["input"], json!({"city": "Paris"}));
    assert_eq!(calls[1]["input"], json!({"tz": "Europe/Paris"}));

    let (status, _, second) = create(
        &h,
        json!({
            "model": "alpha/gpt-4o-mini", "max_tokens": 100, "tools": tools,
            "messages": [
                question,
                {"role": "assistant", "content": first["content"]},
                {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": calls[0]["id"], "content": "sunny"},
                    {"type": "tool_result", "tool_use_id": calls[1]["id"], "content": [{"type": "text", "text": "noon"}]}
                ]}
            ]
        }),
    )
    .await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(second["content"][0]["text"], "Tool said: noon");
    assert_eq!(second["stop_reason"], "end_turn");
    let sent = h.alpha.requests()[1].json().unwrap();
    let messages = sent["messages"].as_array().unwrap();
    let roles: Vec<&str> = messages
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["user", "assistant", "tool", "tool"]);
    assert_eq!(messages[1]["tool_calls"][0]["id"], calls[0]["id"]);
    assert_eq!(
        messages[1]["tool_calls"][1]["function"]["arguments"],
        r#"{"tz":"Europe/Paris"}"#
    );
    assert_eq!(
        (&messages[2]["tool_call_id"], &messages[2]["content"]),
        (&calls[0]["id"], &json!("sunny"))
    );
    assert_eq!(
        (&messages[3]["tool_call_id"], &messages[3]["content"]),
        (&calls[1]["id"], &json!("noon"))
    );
}

#[tokio::test]
async fn thinking_comes_back_as_a_thinking_block_and_history_thinking_stays_home() {
    let h = start("").await;
    h.alpha.push(Script::Reply(Reply {
        text: Some("42".into()),
        reasoning: Some("Six times seven.".into()),
        ..Reply::default()
    }));
    let (status, _, msg) = create(
        &h,
        json!({
            "model": "alpha/gpt-4o-mini", "max_tokens": 100,
            "thinking": {"type": "enabled", "budget_tokens": 2048},
            "messages": [
                {"role": "user", "content": "6*7?"},
                {"role": "assistant", "content": [
                    {"type": "thinking", "thinking": "earlier", "signature": "sig-old"},
                    {"type": "text", "text": "Let me see."}
                ]},
                {"role": "user", "content": "well?"}
            ]
        }),
    )
    .await;
    assert_eq!(status, 200, "{msg}");
    assert_eq!(
        msg["content"][0],
        json!({"type": "thinking", "thinking": "Six times seven.", "signature": ""})
    );
    assert_eq!(msg["content"][1], json!({"type": "text", "text": "42"}));
    let sent = h.alpha.requests()[0].json().unwrap();
    assert_eq!(
        sent["messages"][1],
        json!({"role": "assistant", "content": "Let me see."})
    );
}

#[tokio::test]
async fn images_reach_an_openai_upstream_as_image_urls() {
    let h = start("").await;
    let (status, _, msg) = create(
        &h,
        json!({"model": "alpha/gpt-4o-mini", "max_tokens": 50, "messages": [{"role": "user", "content": [
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}},
            {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}},
            {"type": "text", "text": "what are these?"}
        ]}]}),
    )
    .await;
    assert_eq!(status, 200, "{msg}");
    assert_eq!(msg["content"][0]["text"], "You said: what are these?");
    let sent = h.alpha.requests()[0].json().unwrap();
    assert_eq!(
        sent["messages"][0]["content"],
        json!([
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
            {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}},
            {"type": "text", "text": "what are these?"}
        ])
    );
}

#[tokio::test]
async fn a_stop_sequence_ends_the_answer_and_is_named() {
    let h = start("").await;
    let reply = Script::Reply(Reply::text("one two STOP three four"));
    h.alpha.push(reply.clone());
    h.alpha.push(reply);
    let body = json!({
        "model": "alpha/gpt-4o-mini", "max_tokens": 50, "stop_sequences": ["STOP"],
        "messages": [{"role": "user", "content": "count"}]
    });
    let (status, _, msg) = create(&h, body.clone()).await;
    assert_eq!(status, 200, "{msg}");
    assert_eq!(msg["content"][0]["text"], "one two ");
    assert_eq!(msg["stop_reason"], "stop_sequence");
    assert_eq!(msg["stop_sequence"], "STOP");

    let mut body = body;
    body["stream"] = json!(true);
    let (_, _, events) = stream(&h, body, &[]).await;
    let data = assert_well_formed(&events);
    assert_eq!(deltas(&data, "text_delta", "text"), "one two ");
    let end = data.iter().find(|d| d["type"] == "message_delta").unwrap();
    assert_eq!(end["delta"]["stop_reason"], "stop_sequence");
    assert_eq!(end["delta"]["stop_sequence"], "STOP");
    // Sent upstream, so that a real upstream stops (and bills) there; this fake ignores it,
    // as some local runtimes do, and the gateway's own matching still ends the answer.
    for r in h.alpha.requests() {
        assert_eq!(r.json().unwrap()["stop"], json!(["STOP"]));
    }
}

#[tokio::test]
async fn an_anthropic_upstream_gets_the_request_natively_with_its_headers() {
    let h = start("").await;
    h.beta.push(Script::Reply(Reply {
        text: Some("Bonjour".into()),
        reasoning: Some("French.".into()),
        signature: Some("sig-native".into()),
        prompt_tokens: Some(21),
        completion_tokens: Some(3),
        ..Reply::default()
    }));
    let beta_header = "interleaved-thinking-2025-05-14,fine-grained-tool-streaming-2025-05-14";
    let body = json!({
        "model": "claude-sonnet-4-5", "max_tokens": 1024,
        "system": [{"type": "text", "text": "be French", "cache_control": {"type": "ephemeral"}}],
        "messages": [{"role": "user", "content": "hi"}],
        "thinking": {"type": "enabled", "budget_tokens": 1024},
        "context_management": {"edits": [{"type": "clear_thinking_20251015"}]}
    });
    let r = post(
        &h,
        "/messages?beta=true",
        &body,
        &[("anthropic-beta", beta_header)],
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        header(r.headers(), "x-switchyard-target"),
        "beta/claude-sonnet-4-5"
    );
    let msg: Value = r.json().await.unwrap();
    assert_eq!(msg["id"], "msg_fake0", "the upstream's answer, unchanged");
    assert_eq!(msg["content"][0]["signature"], "sig-native");
    assert_eq!(msg["content"][1]["text"], "Bonjour");
    assert_eq!(msg["usage"]["input_tokens"], 21);

    let sent = &h.beta.requests()[0];
    assert_eq!(sent.path, "/v1/messages");
    assert_eq!(sent.header("x-api-key"), Some(BETA_KEY));
    assert_eq!(sent.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(sent.header("anthropic-beta"), Some(beta_header));
    assert_eq!(sent.header("authorization"), None);
    let upstream = sent.json().unwrap();
    let mut expected = body;
    expected["model"] = json!("claude-sonnet-4-5");
    assert_eq!(
        upstream, expected,
        "the body as the client sent it, fields the gateway does not know included"
    );
}

#[tokio::test]
async fn a_native_stream_passes_through_and_is_logged_reassembled() {
    let h = start("").await;
    h.beta.push(Script::Reply(Reply {
        text: Some("I will look it up".into()),
        reasoning: Some("Need the tool.".into()),
        tool_calls: vec![ToolCallSpec::new("lookup", json!({"q": "rust"}))],
        prompt_tokens: Some(30),
        completion_tokens: Some(12),
        ..Reply::default()
    }));
    let (status, headers, events) = stream(
        &h,
        json!({"model": "beta/claude-sonnet-4-5", "max_tokens": 300, "stream": true,
               "messages": [{"role": "user", "content": "search rust"}]}),
        &[],
    )
    .await;
    assert_eq!(status, 200);
    let data = assert_well_formed(&events);
    assert_eq!(deltas(&data, "signature_delta", "signature"), "sig-fake");
    assert_eq!(deltas(&data, "text_delta", "text"), "I will look it up");
    let id = header(&headers, "x-switchyard-request-id").to_owned();

    h.wait_for_rows(1).await;
    let (status, row) = h.admin(&format!("/admin/requests/{id}")).await;
    assert_eq!(status, 200, "{row}");
    assert_eq!(row["endpoint"], "/v1/messages");
    assert_eq!(row["provider"], "beta");
    assert_eq!(row["stream"], true);
    assert_eq!(row["outcome"], "ok");
    assert_eq!(row["prompt_tokens"], 30);
    assert_eq!(row["completion_tokens"], 12);
    assert!(row["ttft_ms"].as_f64().is_some(), "{row}");
    let logged = &row["response_body"];
    assert_eq!(logged["content"][0]["thinking"], "Need the tool.");
    assert_eq!(logged["content"][1]["text"], "I will look it up");
    assert_eq!(logged["content"][2]["input"], json!({"q": "rust"}));
    assert_eq!(logged["stop_reason"], "tool_use");
}

#[tokio::test]
async fn a_translated_stream_is_logged_as_a_message_with_usage() {
    let h = start("").await;
    h.alpha.push(Script::Reply(Reply {
        text: Some("short answer".into()),
        prompt_tokens: Some(8),
        completion_tokens: Some(2),
        ..Reply::default()
    }));
    let mut body = hello("smart");
    body["stream"] = json!(true);
    let (status, headers, _) = stream(&h, body, &[]).await;
    assert_eq!(status, 200);
    let id = header(&headers, "x-switchyard-request-id").to_owned();
    h.wait_for_rows(1).await;
    let (_, row) = h.admin(&format!("/admin/requests/{id}")).await;
    assert_eq!(row["requested_model"], "smart");
    assert_eq!(row["model"], "gpt-4o-mini");
    assert_eq!(row["prompt_tokens"], 8);
    assert_eq!(row["response_body"]["content"][0]["text"], "short answer");
    assert_eq!(row["request_body"]["model"], "smart");
}

#[tokio::test]
async fn failover_crosses_from_an_openai_target_to_a_native_one() {
    let h = start("").await;
    h.alpha.push(upstream_error(503, "alpha is down"));
    let mut body = hello("smart");
    body["stream"] = json!(true);
    let (status, headers, events) = stream(&h, body, &[]).await;
    assert_eq!(status, 200);
    assert_eq!(
        header(&headers, "x-switchyard-attempts"),
        "strategy=ordered; alpha/gpt-4o-mini=503; beta/claude-sonnet-4-5=ok"
    );
    let data = assert_well_formed(&events);
    assert_eq!(deltas(&data, "text_delta", "text"), "You said: hi");
    assert_eq!(
        h.beta.requests()[0].json().unwrap()["model"],
        "claude-sonnet-4-5"
    );
}

fn assert_anthropic_error(status: u16, body: &Value, want_status: u16, want_type: &str) {
    assert_eq!(status, want_status, "{body}");
    assert_eq!(body["type"], "error", "{body}");
    assert_eq!(body["error"]["type"], want_type, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty())
    );
    assert!(body.get("object").is_none() && body["error"].get("param").is_none());
}

#[tokio::test]
async fn bad_requests_are_refused_in_anthropics_shape() {
    let h = start("").await;
    let r = h
        .client
        .post(format!("{}/messages", h.base))
        .header("content-type", "application/json")
        .body("{\"model\": ")
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let body: Value = r.json().await.unwrap();
    assert_anthropic_error(status, &body, 400, "invalid_request_error");

    for (request, field) in [
        (
            json!({"model": "alpha/gpt-4o-mini", "messages": [{"role": "user", "content": "x"}]}),
            "max_tokens",
        ),
        (
            json!({"model": "alpha/gpt-4o-mini", "max_tokens": 5}),
            "messages",
        ),
        (
            json!({"max_tokens": 5, "messages": [{"role": "user", "content": "x"}]}),
            "model",
        ),
        (
            json!({"model": "m", "max_tokens": 5, "messages": [{"role": "robot", "content": "x"}]}),
            "messages[0].role",
        ),
    ] {
        let (status, _, body) = create(&h, request).await;
        assert_anthropic_error(status, &body, 400, "invalid_request_error");
        assert!(
            body["error"]["message"].as_str().unwrap().contains(field),
            "{body}"
        );
    }
    let (status, _, body) = create(&h, hello("no-such-model")).await;
    assert_anthropic_error(status, &body, 404, "not_found_error");
    let r = h
        .client
        .get(format!("{}/messages", h.base))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    assert_anthropic_error(
        status,
        &r.json().await.unwrap(),
        405,
        "invalid_request_error",
    );
    // A key of ours that matches nothing is refused by the guard, still in this shape.
    let r = h
        .client
        .post(format!("{}/messages", h.base))
        .header("x-api-key", "sk-sy-not-a-real-key")
        .json(&hello("alpha/gpt-4o-mini"))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    assert_anthropic_error(
        status,
        &r.json().await.unwrap(),
        401,
        "authentication_error",
    );
    assert_eq!(h.alpha.request_count(), 0, "nothing reached an upstream");

    // Each request the guard let through is in the log; refusals by the guard are not.
    let page = h.wait_for_rows(7).await;
    let rows = page["requests"].as_array().unwrap();
    assert_eq!(rows.len(), 7);
    assert!(
        rows.iter()
            .all(|r| r["endpoint"] == "/v1/messages" && r["outcome"] == "error")
    );
}

#[tokio::test]
async fn upstream_failures_keep_their_meaning() {
    let h = start("[retry]\nrounds = 1").await;
    h.beta.push(Script::Error {
        status: 529,
        message: "Overloaded".into(),
        retry_after: None,
        error_type: None,
    });
    let (status, _, body) = create(&h, hello("beta/claude-sonnet-4-5")).await;
    assert_anthropic_error(status, &body, 529, "overloaded_error");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Overloaded")
    );

    h.alpha.push(upstream_error(500, "boom"));
    h.beta.push(upstream_error(500, "bang"));
    let (status, _, body) = create(&h, hello("smart")).await;
    assert_anthropic_error(status, &body, 500, "api_error");
    assert_eq!(body["error"]["attempts"].as_array().unwrap().len(), 2);

    h.alpha.push(upstream_error(400, "context too long"));
    let (status, _, body) = create(&h, hello("alpha/gpt-4o-mini")).await;
    assert_anthropic_error(status, &body, 400, "invalid_request_error");
}

#[tokio::test]
async fn a_failure_mid_stream_becomes_an_error_event() {
    let h = start("").await;
    h.alpha.push(Script::ResetAfterEvents {
        reply: Reply::text("a b c d e f g h"),
        after: 3,
    });
    let mut body = hello("alpha/gpt-4o-mini");
    body["stream"] = json!(true);
    let (status, headers, events) = stream(&h, body, &[]).await;
    assert_eq!(status, 200);
    let (name, last) = events.last().unwrap();
    assert_eq!(name, "error");
    assert_eq!(last["type"], "error");
    assert_eq!(last["error"]["type"], "api_error");
    assert!(
        events.iter().all(|(n, _)| n != "message_stop"),
        "no message_stop after an error"
    );
    let id = header(&headers, "x-switchyard-request-id").to_owned();
    h.wait_for_rows(1).await;
    let (_, row) = h.admin(&format!("/admin/requests/{id}")).await;
    assert_eq!(row["outcome"], "error");
}

#[tokio::test]
async fn count_tokens_asks_anthropic_upstreams_and_estimates_otherwise() {
    let h = start("").await;
    let body = json!({
        "model": "alpha/gpt-4o-mini",
        "system": "x".repeat(400),
        "messages": [{"role": "user", "content": "y".repeat(396)}]
    });
    let r = post(&h, "/messages/count_tokens?beta=true", &body, &[]).await;
    assert_eq!(r.status(), 200);
    let counted: Value = r.json().await.unwrap();
    assert_eq!(
        counted,
        json!({"input_tokens": 200}),
        "about four characters per token"
    );
    assert_eq!(h.alpha.request_count(), 0);

    let body = json!({
        "model": "beta/claude-sonnet-4-5",
        "messages": [{"role": "user", "content": "count me"}],
        "tools": [{"name": "t", "input_schema": {"type": "object"}}]
    });
    let r = post(
        &h,
        "/messages/count_tokens",
        &body,
        &[("anthropic-beta", "token-counting-2024-11-01")],
    )
    .await;
    assert_eq!(r.status(), 200);
    let counted: Value = r.json().await.unwrap();
    let sent = &h.beta.requests()[0];
    assert_eq!(sent.path, "/v1/messages/count_tokens");
    assert_eq!(
        sent.header("anthropic-beta"),
        Some("token-counting-2024-11-01")
    );
    assert_eq!(sent.header("x-api-key"), Some(BETA_KEY));
    let upstream = sent.json().unwrap();
    assert_eq!(upstream["model"], "claude-sonnet-4-5");
    assert_eq!(
        counted["input_tokens"],
        (sent.body.len() / 4).max(1),
        "the upstream's own count"
    );
    let r = post(
        &h,
        "/messages/count_tokens",
        &json!({"model": "nope", "messages": []}),
        &[],
    )
    .await;
    let status = r.status().as_u16();
    assert_anthropic_error(
        status,
        &r.json().await.unwrap(),
        400,
        "invalid_request_error",
    );
}

#[tokio::test]
async fn anthropic_clients_get_anthropics_model_list_with_usable_ids() {
    let h = start("").await;
    let get = |path: String| {
        h.client
            .get(path)
            .header("anthropic-version", "2023-06-01")
            .header("x-api-key", CLIENT_KEY)
            .send()
    };
    let list: Value = get(format!("{}/models?limit=1000", h.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["gpt-4o-mini", "claude-sonnet-4-5", "smart"]);
    let first = &list["data"][1];
    assert_eq!(first["type"], "model");
    assert_eq!(first["display_name"], "beta/claude-sonnet-4-5");
    assert!(first["created_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(list["has_more"], false);
    assert_eq!(list["first_id"], "gpt-4o-mini");
    assert_eq!(list["last_id"], "smart");
    for id in ids {
        let (status, _, msg) = create(&h, hello(id)).await;
        assert_eq!(status, 200, "{id}: {msg}");
    }

    let page: Value = get(format!("{}/models?limit=1&after_id=gpt-4o-mini", h.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page["data"][0]["id"], "claude-sonnet-4-5");
    assert_eq!(page["has_more"], true);
    let one: Value = get(format!("{}/models/claude-sonnet-4-5", h.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(one["id"], "claude-sonnet-4-5");
    let r = get(format!("{}/models/nope", h.base)).await.unwrap();
    let status = r.status().as_u16();
    assert_anthropic_error(status, &r.json().await.unwrap(), 404, "not_found_error");
}

#[tokio::test]
async fn a_native_stream_reaches_the_client_byte_for_byte() {
    let h = start("").await;
    let events = vec![
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_raw\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4-5\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":5,\"output_tokens\":1}}}\n\n".to_owned(),
        "event: content_block_start\ndata:{\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\",\"citations\":[]}}\n\n".to_owned(),
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi\"}}\n\nevent: future_event\ndata: {\"type\":\"future_event\",\"x\":1}\n\n".to_owned(),
        "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n".to_owned(),
        "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":2}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n".to_owned(),
    ];
    h.beta.push(Script::Raw {
        status: 200,
        content_type: "text/event-stream".into(),
        events: events.clone(),
        delay_ms: 5,
    });
    let mut body = hello("beta/claude-sonnet-4-5");
    body["stream"] = json!(true);
    let r = post(&h, "/messages", &body, &[]).await;
    assert_eq!(r.status(), 200);
    let id = header(r.headers(), "x-switchyard-request-id").to_owned();
    assert_eq!(r.text().await.unwrap(), events.concat());
    h.wait_for_rows(1).await;
    let (_, row) = h.admin(&format!("/admin/requests/{id}")).await;
    assert_eq!(row["response_body"]["content"][0]["text"], "Hi");
    assert_eq!(row["completion_tokens"], 2);
}
