//! Scripted faults: errors, resets, stalls, broken streams, and disconnect detection.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use switchyard_testkit::{Dialect, FakeUpstream, Reply, Script, refused_base_url};
use tokio::io::AsyncWriteExt as _;

use crate::common::{TestResult, WAIT, chat, client, events, post};

fn chat_url(fake: &FakeUpstream) -> String {
    format!("{}/chat/completions", fake.base_url())
}

#[tokio::test]
async fn error_script_with_retry_after_then_default() -> TestResult {
    let fake = FakeUpstream::start(Dialect::OpenAi).await?;
    fake.push(Script::Error {
        status: 429,
        message: "Rate limit reached".into(),
        retry_after: Some("1".into()),
        error_type: None,
    });
    fake.push(Script::Error {
        status: 503,
        message: "busy".into(),
        retry_after: Some("Wed, 21 Oct 2015 07:28:00 GMT".into()),
        error_type: Some("overloaded".into()),
    });
    let resp = post(&chat_url(&fake), &chat(false, "x")).await?;
    assert_eq!(resp.status(), 429);
    assert_eq!(
        resp.headers().get("retry-after").map(|v| v.as_bytes()),
        Some(&b"1"[..])
    );
    let v: Value = resp.json().await?;
    assert_eq!(
        v,
        json!({"error": {"message": "Rate limit reached", "type": "requests", "param": null, "code": "rate_limit_exceeded"}})
    );
    let resp = post(&chat_url(&fake), &chat(false, "x")).await?;
    assert_eq!(resp.status(), 503);
    assert_eq!(
        resp.headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("Wed, 21 Oct 2015 07:28:00 GMT")
    );
    let v: Value = resp.json().await?;
    assert_eq!(v["error"]["type"], "overloaded");
    // The queue is empty: the default reply.
    let resp = post(&chat_url(&fake), &chat(false, "x")).await?;
    assert_eq!(resp.status(), 200);
    Ok(())
}

#[tokio::test]
async fn html_error_page() -> TestResult {
    let fake = FakeUpstream::start(Dialect::OpenAi).await?;
    fake.push(Script::HtmlError { status: 502 });
    let resp = post(&chat_url(&fake), &chat(false, "x")).await?;
    assert_eq!(resp.status(), 502);
    let ct = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok());
    assert!(ct.is_some_and(|ct| ct.starts_with("text/html")));
    assert!(resp.text().await?.contains("<html>"));
    Ok(())
}

#[tokio::test]
async fn reset_before_headers_is_a_client_error() -> TestResult {
    let fake = FakeUpstream::start(Dialect::OpenAi).await?;
    fake.push(Script::ResetBeforeHeaders);
    let result = post(&chat_url(&fake), &chat(false, "x")).await;
    assert!(
        result.is_err(),
        "expected a transport error, got {result:?}"
    );
    assert_eq!(fake.request_count(), 1);
    assert!(
        fake.disconnects().is_empty(),
        "a reset by the fake is not a client disconnect"
    );
    Ok(())
}

#[tokio::test]
async fn refused_url_refuses() -> TestResult {
    let result = post(
        &format!("{}/chat/completions", refused_base_url()),
        &chat(false, "x"),
    )
    .await;
    assert!(
        result.as_ref().is_err_and(reqwest::Error::is_connect),
        "{result:?}"
    );
    Ok(())
}

#[tokio::test]
async fn stall_before_headers_records_the_client_leaving() -> TestResult {
    let fake = FakeUpstream::start(Dialect::OpenAi).await?;
    fake.push(Script::Reply(Reply::text("first")));
    fake.push(Script::StallBeforeHeaders);
    // Request 0 is answered normally, request 1 stalls.
    assert_eq!(
        post(&chat_url(&fake), &chat(false, "x")).await?.status(),
        200
    );
    let mut stream = tokio::net::TcpStream::connect(fake.addr()).await?;
    let body = chat(false, "stall").to_string();
    let request = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await?;
    assert!(fake.wait_for_requests(2, WAIT).await);
    assert!(fake.disconnects().is_empty());
    let left = Instant::now();
    drop(stream);
    let d = fake
        .wait_for_disconnect(WAIT)
        .await
        .ok_or("no disconnect recorded")?;
    assert_eq!(d.request_index, 1);
    assert!(d.at.duration_since(left) < Duration::from_secs(1));
    assert_eq!(fake.disconnects(), [d]);
    assert!(
        fake.wait_for_disconnect(Duration::ZERO).await.is_none(),
        "each is returned once"
    );
    Ok(())
}

#[tokio::test]
async fn stall_after_events_then_client_drop() -> TestResult {
    let fake = FakeUpstream::start(Dialect::Anthropic).await?;
    fake.push(Script::StallAfterEvents {
        reply: Reply::default(),
        after: 2,
    });
    let url = format!("{}/v1/messages", fake.base_url());
    let mut resp = post(&url, &chat(true, "x")).await?;
    assert_eq!(resp.status(), 200);
    let mut body = Vec::new();
    while body.windows(2).filter(|w| w == b"\n\n").count() < 2 {
        let chunk = resp.chunk().await?.ok_or("stream ended early")?;
        body.extend_from_slice(&chunk);
    }
    let got = events(&String::from_utf8(body)?);
    let names: Vec<Option<&str>> = got.iter().map(|e| e.name.as_deref()).collect();
    assert_eq!(names, [Some("message_start"), Some("ping")]);
    assert!(fake.disconnects().is_empty());
    drop(resp);
    let d = fake
        .wait_for_disconnect(WAIT)
        .await
        .ok_or("no disconnect recorded")?;
    assert_eq!(d.request_index, 0);
    Ok(())
}

#[tokio::test]
async fn paced_stream_notices_the_client_leaving() -> TestResult {
    let fake = FakeUpstream::start(Dialect::OpenAi).await?;
    fake.push(Script::Reply(Reply {
        chunk_delay_ms: 60_000,
        ..Reply::default()
    }));
    let mut resp = post(&chat_url(&fake), &chat(true, "x")).await?;
    let first = resp.chunk().await?.ok_or("no first event")?;
    assert!(first.starts_with(b"data: "));
    let left = Instant::now();
    drop(resp);
    let d = fake
        .wait_for_disconnect(WAIT)
        .await
        .ok_or("no disconnect recorded")?;
    assert!(
        d.at.duration_since(left) < Duration::from_secs(1),
        "noticed during the pause"
    );
    Ok(())
}

#[tokio::test]
async fn latency_holds_back_the_head_of_whole_and_streamed_answers() -> TestResult {
    let fake = FakeUpstream::start(Dialect::OpenAi).await?;
    fake.set_default(Script::Reply(Reply {
        latency_ms: 150,
        ..Reply::default()
    }));
    for stream in [false, true] {
        let sent = Instant::now();
        let resp = post(&chat_url(&fake), &chat(stream, "x")).await?;
        let waited = sent.elapsed();
        assert_eq!(resp.status(), 200);
        assert!(
            waited >= Duration::from_millis(150),
            "head after {waited:?} (stream: {stream})"
        );
        let text = resp.text().await?;
        let end = if stream {
            "data: [DONE]"
        } else {
            "You said: x"
        };
        assert!(text.contains(end), "{text}");
    }
    // Other scripts are not held back.
    fake.push(Script::Error {
        status: 503,
        message: "busy".into(),
        retry_after: None,
        error_type: None,
    });
    let sent = Instant::now();
    let resp = post(&chat_url(&fake), &chat(false, "x")).await?;
    assert_eq!(resp.status(), 503);
    assert!(sent.elapsed() < Duration::from_millis(150));
    Ok(())
}

#[tokio::test]
async fn completed_streams_record_no_disconnect() -> TestResult {
    let fake = FakeUpstream::start(Dialect::OpenAi).await?;
    fake.set_default(Script::Reply(Reply {
        chunk_delay_ms: 1,
        ..Reply::default()
    }));
    {
        let client = client()?;
        let text = client
            .post(chat_url(&fake))
            .json(&chat(true, "a b c"))
            .send()
            .await?
            .text()
            .await?;
        assert!(text.ends_with("data: [DONE]\n\n"));
    }
    // The client and its pooled connection are gone: that is not a cut-short response.
    assert!(
        fake.wait_for_disconnect(Duration::from_millis(200))
            .await
            .is_none()
    );
    Ok(())
}

#[tokio::test]
async fn reset_after_events_breaks_the_body() -> TestResult {
    let fake = FakeUpstream::start(Dialect::OpenAi).await?;
    fake.push(Script::ResetAfterEvents {
        reply: Reply::default(),
        after: 2,
    });
    let outcome = match post(&chat_url(&fake), &chat(true, "x")).await {
        Ok(resp) => resp.text().await.map(|_| ()),
        Err(e) => Err(e),
    };
    assert!(outcome.is_err(), "the body must not end cleanly");
    Ok(())
}

#[tokio::test]
async fn error_event_after_ends_the_stream_in_each_dialect() -> TestResult {
    let openai = FakeUpstream::start(Dialect::OpenAi).await?;
    openai.push(Script::ErrorEventAfter {
        reply: Reply::default(),
        after: 2,
    });
    let text = post(&chat_url(&openai), &chat(true, "x"))
        .await?
        .text()
        .await?;
    let got = events(&text);
    assert_eq!(got.len(), 3);
    assert_eq!(got[2].json()?["error"]["type"], "server_error");
    assert!(!text.contains("[DONE]"));

    let anthropic = FakeUpstream::start(Dialect::Anthropic).await?;
    anthropic.push(Script::ErrorEventAfter {
        reply: Reply::default(),
        after: 1,
    });
    let url = format!("{}/v1/messages", anthropic.base_url());
    let got = events(&post(&url, &chat(true, "x")).await?.text().await?);
    assert_eq!(got.len(), 2);
    assert_eq!(got[1].name.as_deref(), Some("error"));
    assert_eq!(got[1].json()?["error"]["type"], "overloaded_error");

    // Whole answers get the equivalent HTTP error.
    anthropic.push(Script::ErrorEventAfter {
        reply: Reply::default(),
        after: 1,
    });
    assert_eq!(post(&url, &chat(false, "x")).await?.status(), 529);
    Ok(())
}

#[tokio::test]
async fn malformed_stream_and_raw_chunks() -> TestResult {
    let fake = FakeUpstream::start(Dialect::OpenAi).await?;
    fake.push(Script::MalformedStream { after: 1 });
    let text = post(&chat_url(&fake), &chat(true, "x"))
        .await?
        .text()
        .await?;
    let got = events(&text);
    assert_eq!(got.len(), 2);
    assert!(got[0].json().is_ok());
    assert_eq!(got[1].data, "{not json");

    let raw = vec![
        "data: {\"a\":1}\n\n".to_owned(),
        ": keep-alive\n\n".to_owned(),
        "data: [DONE]\n\n".to_owned(),
    ];
    fake.push(Script::Raw {
        status: 200,
        content_type: "text/event-stream".into(),
        events: raw.clone(),
        delay_ms: 2,
    });
    let resp = post(&chat_url(&fake), &chat(false, "x")).await?;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text().await?, raw.concat());
    Ok(())
}
