//! OpenAI dialect: whole and streamed chat completions, models, routing, keep-alive.

use serde_json::{Value, json};
use switchyard_testkit::{Dialect, FakeUpstream, Reply, Script, ToolCallSpec};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::common::{TestResult, chat, client, events, post};

#[tokio::test]
async fn whole_completion_has_openai_shape() -> TestResult {
    let fake = FakeUpstream::start(Dialect::OpenAi).await?;
    let url = format!("{}/chat/completions", fake.base_url());
    let resp = client()?
        .post(&url)
        .header("authorization", "Bearer sk-test")
        .json(&chat(false, "hello there"))
        .send()
        .await?;
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await?;
    assert!(
        v["id"]
            .as_str()
            .is_some_and(|id| id.starts_with("chatcmpl-"))
    );
    assert_eq!(v["object"], "chat.completion");
    assert_eq!(v["model"], "test-model");
    assert!(v["created"].is_u64());
    let choice = &v["choices"][0];
    assert_eq!(choice["index"], 0);
    assert_eq!(choice["message"]["role"], "assistant");
    assert_eq!(choice["message"]["content"], "You said: hello there");
    assert!(choice["message"].get("reasoning_content").is_none());
    assert!(choice["logprobs"].is_null());
    assert_eq!(choice["finish_reason"], "stop");
    let usage = &v["usage"];
    let prompt = usage["prompt_tokens"].as_u64().ok_or("prompt_tokens")?;
    let completion = usage["completion_tokens"]
        .as_u64()
        .ok_or("completion_tokens")?;
    assert_eq!(usage["total_tokens"].as_u64(), Some(prompt + completion));
    assert_eq!(usage["prompt_tokens_details"]["cached_tokens"], 0);
    assert_eq!(usage["completion_tokens_details"]["reasoning_tokens"], 0);

    let recorded = fake.requests();
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].method, "POST");
    assert_eq!(recorded[0].path, "/v1/chat/completions");
    assert_eq!(recorded[0].header("Authorization"), Some("Bearer sk-test"));
    assert_eq!(
        recorded[0].json().ok_or("json body")?["model"],
        "test-model"
    );
    Ok(())
}

#[tokio::test]
async fn whole_completion_with_tools_and_reasoning() -> TestResult {
    let fake = FakeUpstream::start(Dialect::OpenAi).await?;
    fake.push(Script::Reply(Reply {
        text: Some(String::new()),
        reasoning: Some("think first".into()),
        tool_calls: vec![ToolCallSpec::new("get_weather", json!({"city": "Paris"}))],
        cached_tokens: 5,
        model: Some("echo-model".into()),
        ..Reply::default()
    }));
    let url = format!("{}/chat/completions", fake.base_url());
    let v: Value = post(&url, &chat(false, "hi")).await?.json().await?;
    let message = &v["choices"][0]["message"];
    assert!(message["content"].is_null());
    assert_eq!(message["reasoning_content"], "think first");
    let call = &message["tool_calls"][0];
    assert!(
        call["id"]
            .as_str()
            .is_some_and(|id| id.starts_with("call_"))
    );
    assert_eq!(call["type"], "function");
    assert_eq!(call["function"]["name"], "get_weather");
    let args: Value = serde_json::from_str(call["function"]["arguments"].as_str().ok_or("args")?)?;
    assert_eq!(args, json!({"city": "Paris"}));
    assert_eq!(v["choices"][0]["finish_reason"], "tool_calls");
    assert_eq!(v["model"], "echo-model");
    assert_eq!(v["usage"]["prompt_tokens_details"]["cached_tokens"], 5);
    assert_eq!(
        v["usage"]["completion_tokens_details"]["reasoning_tokens"],
        2
    );
    Ok(())
}

#[tokio::test]
async fn streamed_text_follows_the_chat_chunk_rules() -> TestResult {
    let fake = FakeUpstream::start(Dialect::OpenAi).await?;
    fake.push(Script::Reply(Reply {
        text: Some("one two three four".into()),
        chunks: 2,
        ..Reply::default()
    }));
    let url = format!("{}/chat/completions", fake.base_url());
    let resp = post(&url, &chat(true, "hi")).await?;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("text/event-stream")
    );
    let all = events(&resp.text().await?);
    assert!(
        all.iter().all(|e| e.name.is_none()),
        "no event: lines on OpenAI streams"
    );
    let (done, chunks) = all.split_last().ok_or("empty stream")?;
    assert_eq!(done.data, "[DONE]");
    let chunks: Vec<Value> = chunks.iter().map(|e| e.json()).collect::<Result<_, _>>()?;
    assert_eq!(
        chunks[0]["choices"][0]["delta"],
        json!({"role": "assistant", "content": ""})
    );
    let mut text = String::new();
    for c in &chunks[1..] {
        assert_eq!(c["object"], "chat.completion.chunk");
        assert!(c["choices"][0]["delta"].get("role").is_none());
        if let Some(piece) = c["choices"][0]["delta"]["content"].as_str() {
            text.push_str(piece);
        }
    }
    assert_eq!(text, "one two three four");
    assert_eq!(chunks.len(), 1 + 2 + 1, "role, two pieces, finish");
    let finish = chunks.last().ok_or("no finish chunk")?;
    assert_eq!(finish["choices"][0]["delta"], json!({}));
    assert_eq!(finish["choices"][0]["finish_reason"], "stop");
    assert!(
        chunks.iter().all(|c| c.get("usage").is_none()),
        "usage only when asked"
    );
    Ok(())
}

#[tokio::test]
async fn streamed_tool_calls_and_usage() -> TestResult {
    let fake = FakeUpstream::start(Dialect::OpenAi).await?;
    fake.push(Script::Reply(Reply {
        text: Some(String::new()),
        reasoning: Some("let me look".into()),
        tool_calls: vec![
            ToolCallSpec::new("get_weather", json!({"city": "Edinburgh", "unit": "c"})),
            ToolCallSpec::new("get_time", json!({"tz": "Europe/London"})),
        ],
        prompt_tokens: Some(149),
        completion_tokens: Some(60),
        ..Reply::default()
    }));
    let mut body = chat(true, "weather?");
    body["stream_options"] = json!({"include_usage": true});
    let url = format!("{}/chat/completions", fake.base_url());
    let all = events(&post(&url, &body).await?.text().await?);
    let (done, chunks) = all.split_last().ok_or("empty stream")?;
    assert_eq!(done.data, "[DONE]");
    let chunks: Vec<Value> = chunks.iter().map(|e| e.json()).collect::<Result<_, _>>()?;

    let usage = chunks.last().ok_or("no usage chunk")?;
    assert_eq!(usage["choices"], json!([]));
    assert_eq!(usage["usage"]["prompt_tokens"], 149);
    assert_eq!(usage["usage"]["completion_tokens"], 60);
    assert_eq!(usage["usage"]["total_tokens"], 209);
    let finish = &chunks[chunks.len() - 2];
    assert_eq!(finish["choices"][0]["finish_reason"], "tool_calls");
    assert_eq!(finish["choices"][0]["delta"], json!({}));

    let mut reasoning = String::new();
    let mut calls: Vec<(String, String, String)> = Vec::new();
    let mut seen_tools = false;
    for c in &chunks[1..chunks.len() - 2] {
        let delta = c["choices"][0]["delta"].as_object().ok_or("delta")?;
        assert_eq!(delta.len(), 1, "one kind of content per chunk: {delta:?}");
        if let Some(r) = delta.get("reasoning_content").and_then(Value::as_str) {
            assert!(!seen_tools, "reasoning comes first");
            reasoning.push_str(r);
        }
        if let Some(tc) = delta.get("tool_calls") {
            seen_tools = true;
            let tc = tc.as_array().ok_or("tool_calls array")?;
            assert_eq!(tc.len(), 1);
            let tc = &tc[0];
            let index = usize::try_from(tc["index"].as_u64().ok_or("index")?)?;
            if tc.get("id").is_some() {
                assert_eq!(index, calls.len(), "calls are sequential");
                assert_eq!(tc["type"], "function");
                assert_eq!(tc["function"]["arguments"], "");
                let name = tc["function"]["name"].as_str().ok_or("name")?;
                let id = tc["id"].as_str().ok_or("id")?;
                calls.push((id.to_owned(), name.to_owned(), String::new()));
            } else {
                let keys: Vec<&String> = tc.as_object().ok_or("tc")?.keys().collect();
                assert_eq!(
                    keys,
                    ["function", "index"],
                    "later deltas carry only index + arguments"
                );
                assert_eq!(
                    tc["function"].as_object().map(serde_json::Map::len),
                    Some(1)
                );
                assert_eq!(
                    index + 1,
                    calls.len(),
                    "arguments belong to the current call"
                );
                let piece = tc["function"]["arguments"].as_str().ok_or("arguments")?;
                calls[index].2.push_str(piece);
            }
        }
    }
    assert_eq!(reasoning, "let me look");
    assert_eq!(calls.len(), 2);
    assert_ne!(calls[0].0, calls[1].0);
    assert_eq!(calls[0].1, "get_weather");
    let args: Value = serde_json::from_str(&calls[0].2)?;
    assert_eq!(args, json!({"city": "Edinburgh", "unit": "c"}));
    let args: Value = serde_json::from_str(&calls[1].2)?;
    assert_eq!(args, json!({"tz": "Europe/London"}));
    Ok(())
}

#[tokio::test]
async fn models_and_unknown_paths() -> TestResult {
    let fake = FakeUpstream::start(Dialect::OpenAi).await?;
    let v: Value = client()?
        .get(format!("{}/models", fake.base_url()))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(v["object"], "list");
    assert_eq!(v["data"][0]["id"], "fake-model");
    assert_eq!(v["data"][0]["owned_by"], "testkit");
    let resp = client()?
        .post(format!("{}/nothing-here", fake.base_url()))
        .send()
        .await?;
    assert_eq!(resp.status(), 404);
    let v: Value = resp.json().await?;
    assert!(v["error"]["message"].is_string());
    assert!(v["error"]["param"].is_null());
    // Both count as received requests; neither took a script.
    assert_eq!(fake.request_count(), 2);
    assert_eq!(fake.requests()[0].path, "/v1/models");
    Ok(())
}

/// Reads one response with a Content-Length body off a raw socket.
async fn read_response(
    stream: &mut tokio::net::TcpStream,
    buf: &mut Vec<u8>,
) -> Result<(String, Vec<u8>), Box<dyn std::error::Error>> {
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8(buf[..end].to_vec())?;
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length: "))
                .ok_or("content-length")?
                .parse()?;
            while buf.len() < end + 4 + len {
                let mut more = [0u8; 4096];
                let n = stream.read(&mut more).await?;
                if n == 0 {
                    return Err("eof in body".into());
                }
                buf.extend_from_slice(&more[..n]);
            }
            let body = buf[end + 4..end + 4 + len].to_vec();
            buf.drain(..end + 4 + len);
            return Ok((head, body));
        }
        let mut more = [0u8; 4096];
        let n = stream.read(&mut more).await?;
        if n == 0 {
            return Err("eof in head".into());
        }
        buf.extend_from_slice(&more[..n]);
    }
}

#[tokio::test]
async fn keep_alive_and_chunked_request_bodies() -> TestResult {
    let fake = FakeUpstream::start(Dialect::OpenAi).await?;
    fake.push(Script::Reply(Reply::text("first")));
    fake.push(Script::Reply(Reply::text("second")));
    let mut stream = tokio::net::TcpStream::connect(fake.addr()).await?;
    let mut buf = Vec::new();

    let body = chat(false, "x").to_string();
    let (a, b) = body.split_at(10);
    let chunked = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n{:x}\r\n{a}\r\n{:x}\r\n{b}\r\n0\r\n\r\n",
        a.len(),
        b.len()
    );
    stream.write_all(chunked.as_bytes()).await?;
    let (head, resp) = read_response(&mut stream, &mut buf).await?;
    assert!(head.starts_with("HTTP/1.1 200 OK"));
    let v: Value = serde_json::from_slice(&resp)?;
    assert_eq!(v["choices"][0]["message"]["content"], "first");

    let plain = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(plain.as_bytes()).await?;
    let (_, resp) = read_response(&mut stream, &mut buf).await?;
    let v: Value = serde_json::from_slice(&resp)?;
    assert_eq!(v["choices"][0]["message"]["content"], "second");

    let recorded = fake.requests();
    assert_eq!(recorded.len(), 2);
    assert_eq!(
        recorded[0].body, recorded[1].body,
        "chunked body is de-chunked"
    );
    Ok(())
}
