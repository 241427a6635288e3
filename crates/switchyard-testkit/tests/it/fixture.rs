//! Fixture replay of recorded streams from shared/fixtures.

use switchyard_testkit::{Dialect, FakeUpstream, Script};

use crate::common::{TestResult, chat, events, post};

macro_rules! fixture {
    ($name:literal) => {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/fixtures/",
            $name
        )
    };
}

#[tokio::test]
async fn anthropic_jsonl_replays_as_named_events() -> TestResult {
    let path = fixture!("anthropic-text.jsonl");
    let lines: Vec<String> = std::fs::read_to_string(path)?
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_owned)
        .collect();
    let fake = FakeUpstream::start(Dialect::Anthropic).await?;
    fake.push(Script::Fixture {
        path: path.to_owned(),
        delay_ms: 0,
    });
    let url = format!("{}/v1/messages", fake.base_url());
    // Not a streaming request: fixtures stream regardless.
    let resp = post(&url, &chat(false, "hi")).await?;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("text/event-stream")
    );
    let got = events(&resp.text().await?);
    assert_eq!(got.len(), lines.len(), "one event per line, no [DONE]");
    for (event, line) in got.iter().zip(&lines) {
        assert_eq!(&event.data, line);
        assert_eq!(event.name.as_deref(), event.json()?["type"].as_str());
    }
    Ok(())
}

#[tokio::test]
async fn sse_files_are_written_as_they_are() -> TestResult {
    let path = fixture!("openai-chat-parallel-tool-calls.sse");
    let fake = FakeUpstream::start(Dialect::OpenAi).await?;
    fake.push(Script::Fixture {
        path: path.to_owned(),
        delay_ms: 1,
    });
    let url = format!("{}/chat/completions", fake.base_url());
    let body = post(&url, &chat(true, "hi")).await?.text().await?;
    assert_eq!(body, std::fs::read_to_string(path)?);
    Ok(())
}

#[tokio::test]
async fn chat_jsonl_gets_data_lines_and_done() -> TestResult {
    let path = fixture!("openai-compatible-xai-tool-call.jsonl");
    let fake = FakeUpstream::start(Dialect::OpenAi).await?;
    fake.push(Script::Fixture {
        path: path.to_owned(),
        delay_ms: 0,
    });
    let url = format!("{}/chat/completions", fake.base_url());
    let got = events(&post(&url, &chat(true, "hi")).await?.text().await?);
    let (done, chunks) = got.split_last().ok_or("empty")?;
    assert_eq!(done.data, "[DONE]");
    assert!(chunks.iter().all(|e| e.name.is_none()));
    assert_eq!(chunks[0].json()?["object"], "chat.completion.chunk");

    fake.push(Script::Fixture {
        path: fixture!("no-such-file.jsonl").to_owned(),
        delay_ms: 0,
    });
    assert_eq!(post(&url, &chat(true, "hi")).await?.status(), 500);
    Ok(())
}
