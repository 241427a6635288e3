//! The connection layer against clients that misbehave on purpose: silent sockets, headers
//! or bodies that never finish, idle keep-alives, too many connections, oversized heads and
//! bodies, and clients that hang up while the upstream is still working.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use switchyard_testkit::Script;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use crate::harness::{Harness, start, user};

/// Short deadlines, so that each test sees them pass.
const SHORT: &str = "
[limits]
header_read_timeout_ms = 400
body_idle_timeout_ms = 400
keep_alive_timeout_ms = 1500
";

async fn connect(h: &Harness) -> TcpStream {
    TcpStream::connect(h.gateway.local_addr()).await.unwrap()
}

/// Reads until the gateway closes the connection (or `limit` passes): what it sent, and when
/// it closed.
async fn read_to_close(stream: &mut TcpStream, limit: Duration) -> (String, Option<Instant>) {
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + limit;
    let mut buf = [0u8; 8192];
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => {
                return (String::from_utf8_lossy(&seen).into(), Some(Instant::now()));
            }
            Ok(Ok(n)) => seen.extend_from_slice(&buf[..n]),
            Err(_) => return (String::from_utf8_lossy(&seen).into(), None),
        }
    }
}

/// Reads one response on a kept-alive connection: status, head and body (Content-Length framed).
async fn read_response(stream: &mut TcpStream) -> (u16, String, String) {
    let mut seen = Vec::new();
    let mut buf = [0u8; 8192];
    let head_end = loop {
        if let Some(at) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
            .await
            .unwrap()
            .unwrap();
        assert!(
            n > 0,
            "closed before a response: {}",
            String::from_utf8_lossy(&seen)
        );
        seen.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&seen[..head_end]).to_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .map_or(0, |v| v.trim().parse().unwrap());
    while seen.len() < head_end + length {
        let n = stream.read(&mut buf).await.unwrap();
        assert!(n > 0);
        seen.extend_from_slice(&buf[..n]);
    }
    let status = head[9..12].parse().unwrap();
    let body = String::from_utf8_lossy(&seen[head_end..head_end + length]).into();
    (status, head, body)
}

fn error_code(body: &str) -> Value {
    let v: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"));
    assert!(
        v["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{v}"
    );
    v["error"]["code"].clone()
}

/// Asserts the gateway closed the connection between `least` and `most` after `from`.
fn closed_within(closed: Option<Instant>, from: Instant, least: Duration, most: Duration) {
    let closed = closed.unwrap_or_else(|| panic!("the gateway must close the connection"));
    let after = closed.duration_since(from);
    assert!(
        after >= least && after <= most,
        "closed after {after:?}, expected between {least:?} and {most:?}"
    );
}

#[tokio::test]
async fn a_connection_that_sends_nothing_is_closed_at_the_header_timeout() {
    let h = start(SHORT).await;
    let opened = Instant::now();
    let mut s = connect(&h).await;
    let (_, closed) = read_to_close(&mut s, Duration::from_secs(10)).await;
    closed_within(
        closed,
        opened,
        Duration::from_millis(300),
        Duration::from_secs(3),
    );
}

#[tokio::test]
async fn headers_that_trickle_in_are_cut_off_at_the_header_timeout() {
    let h = start(SHORT).await;
    let mut s = connect(&h).await;
    let started = Instant::now();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n")
        .await
        .unwrap();
    // One more byte every 100 ms: arriving bytes must not keep the head alive.
    let mut closed = None;
    for _ in 0..100 {
        if s.write_all(b"X").await.is_err() {
            closed = Some(Instant::now());
            break;
        }
        let mut buf = [0u8; 64];
        if let Ok(Ok(0) | Err(_)) =
            tokio::time::timeout(Duration::from_millis(100), s.read(&mut buf)).await
        {
            closed = Some(Instant::now());
            break;
        }
    }
    closed_within(
        closed,
        started,
        Duration::from_millis(300),
        Duration::from_secs(3),
    );
}

#[tokio::test]
async fn a_body_that_stalls_gets_a_408_and_the_connection_closes_on_every_door() {
    let h = start(SHORT).await;
    let json_body = json!({"model": "alpha/gpt-4o-mini", "messages": user("hi")}).to_string();
    let form = "--xyz\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nalpha/whisper-1\r\n";
    let doors = [
        (
            "/v1/chat/completions",
            "application/json",
            json_body.as_str(),
        ),
        (
            "/proxy/alpha/chat/completions",
            "application/json",
            json_body.as_str(),
        ),
        (
            "/v1/audio/transcriptions",
            "multipart/form-data; boundary=xyz",
            form,
        ),
    ];
    for (i, (path, content_type, body)) in doors.into_iter().enumerate() {
        let mut s = connect(&h).await;
        // Promises 100 bytes more than it sends.
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
            body.len() + 100
        );
        let started = Instant::now();
        s.write_all(head.as_bytes()).await.unwrap();
        s.write_all(body.as_bytes()).await.unwrap();
        let (answer, closed) = read_to_close(&mut s, Duration::from_secs(10)).await;
        closed_within(
            closed,
            started,
            Duration::from_millis(300),
            Duration::from_secs(3),
        );
        assert!(answer.starts_with("HTTP/1.1 408"), "{path}: {answer}");
        assert!(
            answer.to_lowercase().contains("connection: close"),
            "{path}: {answer}"
        );
        let json = &answer[answer.find("\r\n\r\n").unwrap() + 4..];
        assert_eq!(error_code(json), "request_body_timeout", "{path}");
        assert!(
            json.contains("limits.body_idle_timeout_ms"),
            "{path}: {json}"
        );
        assert_eq!(h.alpha.request_count(), 0, "{path}: nothing goes upstream");
        // The request log says what the client saw.
        let page = h.wait_for_rows(i + 1).await;
        let row = &page["requests"][0];
        assert_eq!(row["status"], 408, "{path}: {row}");
        assert!(
            row["error"].as_str().is_some_and(|e| e.contains("body")),
            "{path}: {row}"
        );
    }
}

#[tokio::test]
async fn a_body_that_keeps_arriving_slowly_is_not_cut_off() {
    let h = start(SHORT).await;
    let mut s = connect(&h).await;
    let body =
        json!({"model": "alpha/gpt-4o-mini", "messages": user("slow but steady")}).to_string();
    let head = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).await.unwrap();
    // Longer in all than the idle timeout, never silent for as long.
    for piece in body.as_bytes().chunks(body.len() / 5 + 1) {
        s.write_all(piece).await.unwrap();
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    let (answer, _) = read_to_close(&mut s, Duration::from_secs(10)).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("slow but steady"), "{answer}");
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_at_the_keep_alive_timeout() {
    let h = start(SHORT).await;
    let mut s = connect(&h).await;
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let (status, _, _) = read_response(&mut s).await;
    assert_eq!(status, 200);
    let idle = Instant::now();
    // Still usable while within the timeout…
    tokio::time::sleep(Duration::from_millis(200)).await;
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let (status, _, _) = read_response(&mut s).await;
    assert_eq!(status, 200);
    let idle_again = Instant::now();
    assert!(idle_again.duration_since(idle) < Duration::from_millis(1500));
    // …and closed once idle for longer (the keep-alive timeout, not the shorter header one).
    let (_, closed) = read_to_close(&mut s, Duration::from_secs(10)).await;
    closed_within(
        closed,
        idle_again,
        Duration::from_millis(1400),
        Duration::from_secs(5),
    );
}

#[tokio::test]
async fn connections_over_the_cap_get_a_503_and_the_gateway_recovers() {
    let h = start("[limits]\nmax_connections = 3").await;
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut s = connect(&h).await;
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
            .await
            .unwrap();
        assert_eq!(read_response(&mut s).await.0, 200);
        held.push(s);
    }
    let mut extra = connect(&h).await;
    extra
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let (status, head, body) = read_response(&mut extra).await;
    assert_eq!(status, 503, "{head}{body}");
    assert!(head.contains("retry-after: 1"), "{head}");
    assert!(head.contains("content-type: application/json"), "{head}");
    assert_eq!(error_code(&body), "too_many_connections");
    assert!(body.contains("limits.max_connections"), "{body}");
    // One client leaves: the next one is served again.
    drop(held.pop());
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let r = reqwest::Client::new()
            .get(format!("{}/healthz", h.root()))
            .send()
            .await
            .unwrap();
        if r.status() == 200 {
            break;
        }
        assert_eq!(r.status(), 503);
        assert!(
            Instant::now() < deadline,
            "still refused after a client left"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_40_kb_header_gets_a_431_in_the_callers_dialect() {
    let h = start("").await;
    let big = "a".repeat(40 * 1024);
    let r = h
        .client
        .post(format!("{}/chat/completions", h.base))
        .header("x-big", &big)
        .json(&json!({"model": "alpha/gpt-4o-mini", "messages": user("hi")}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 431);
    let body = r.text().await.unwrap();
    assert_eq!(error_code(&body), "request_header_fields_too_large");
    assert!(body.contains("limits.max_header_bytes"), "{body}");
    let r = h
        .client
        .post(format!("{}/messages", h.base))
        .header("x-big", &big)
        .json(&json!({"model": "beta/claude-sonnet-4-5", "max_tokens": 10, "messages": user("hi")}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 431);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["type"], "error", "{body}");
    assert_eq!(h.alpha.request_count() + h.beta.request_count(), 0);
}

#[tokio::test]
async fn a_huge_uri_gets_a_414_in_json() {
    let h = start("").await;
    let r = h
        .client
        .get(format!("{}/models?q={}", h.base, "a".repeat(20 * 1024)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 414);
    let body = r.text().await.unwrap();
    assert_eq!(error_code(&body), "uri_too_long");
    assert!(body.contains("limits.max_uri_bytes"), "{body}");
}

#[tokio::test]
async fn a_declared_body_over_the_limit_is_refused_before_it_is_sent() {
    let h = start("").await;
    for (path, content_type, setting) in [
        (
            "/v1/chat/completions",
            "application/json",
            "limits.max_body_bytes",
        ),
        (
            "/proxy/alpha/v1/chat/completions",
            "application/json",
            "limits.max_body_bytes",
        ),
        (
            "/v1/audio/transcriptions",
            "multipart/form-data; boundary=xyz",
            "limits.max_upload_bytes",
        ),
    ] {
        let mut s = connect(&h).await;
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: {content_type}\r\nContent-Length: 100000000\r\n\r\n"
        );
        let sent = Instant::now();
        s.write_all(head.as_bytes()).await.unwrap();
        // No body follows: an answer that waited for it would never come.
        let (answer, _) = read_to_close(&mut s, Duration::from_secs(5)).await;
        assert!(answer.starts_with("HTTP/1.1 413"), "{path}: {answer}");
        assert!(sent.elapsed() < Duration::from_secs(2), "{path}");
        assert!(
            answer.to_lowercase().contains("connection: close"),
            "{path}: {answer}"
        );
        let json = &answer[answer.find("\r\n\r\n").unwrap() + 4..];
        assert_eq!(error_code(json), "request_too_large", "{path}");
        assert!(json.contains(setting), "{path}: {json}");
    }
    assert_eq!(h.alpha.request_count(), 0);
}

/// Sends a whole request on a raw socket.
async fn send_request(h: &Harness, path: &str, body: &Value) -> TcpStream {
    let mut s = connect(h).await;
    let body = body.to_string();
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(request.as_bytes()).await.unwrap();
    s
}

#[tokio::test]
async fn a_client_that_hangs_up_on_a_whole_answer_cancels_the_upstream_call_on_every_door() {
    let h = start("").await;
    let chat = json!({"model": "alpha/gpt-4o-mini", "messages": user("hi")});
    let doors = [
        ("/v1/chat/completions", chat.clone(), false),
        (
            "/v1/messages",
            json!({"model": "beta/claude-sonnet-4-5", "max_tokens": 10, "messages": user("hi")}),
            true,
        ),
        (
            "/v1/responses",
            json!({"model": "alpha/gpt-4o-mini", "input": "hi"}),
            false,
        ),
        (
            "/v1/embeddings",
            json!({"model": "alpha/text-embedding-3-small", "input": "hi"}),
            false,
        ),
        (
            "/v1/completions",
            json!({"model": "alpha/gpt-4o-mini", "prompt": "hi"}),
            false,
        ),
        ("/proxy/alpha/chat/completions", chat.clone(), false),
    ];
    for (i, (path, body, anthropic)) in doors.iter().enumerate() {
        let upstream = if *anthropic { &h.beta } else { &h.alpha };
        upstream.push(Script::StallBeforeHeaders);
        let seen = upstream.request_count();
        let s = send_request(&h, path, body).await;
        assert!(
            upstream
                .wait_for_requests(seen + 1, Duration::from_secs(5))
                .await,
            "{path}"
        );
        let left = Instant::now();
        drop(s);
        let gone = upstream
            .wait_for_disconnect(Duration::from_secs(3))
            .await
            .unwrap_or_else(|| panic!("{path}: the upstream call must end when the client leaves"));
        assert!(
            gone.at.duration_since(left) < Duration::from_millis(500),
            "{path}: {:?}",
            gone.at.duration_since(left)
        );
        // The request log still gets the row, as a client that went away.
        let page = h.wait_for_rows(i + 1).await;
        let row = &page["requests"][0];
        assert_eq!(row["status"], 499, "{path}: {row}");
        assert_eq!(row["outcome"], "client_closed", "{path}: {row}");
    }
}

#[tokio::test]
async fn a_client_that_half_closes_while_waiting_cancels_the_upstream_call() {
    let h = start("").await;
    h.alpha.push(Script::StallBeforeHeaders);
    let body = json!({"model": "alpha/gpt-4o-mini", "messages": user("hi")});
    let mut s = send_request(&h, "/v1/chat/completions", &body).await;
    assert!(h.alpha.wait_for_requests(1, Duration::from_secs(5)).await);
    s.shutdown().await.unwrap();
    assert!(
        h.alpha
            .wait_for_disconnect(Duration::from_secs(2))
            .await
            .is_some(),
        "the upstream call must end when the client stops sending"
    );
    drop(s);
}

#[tokio::test]
async fn a_client_that_hangs_up_while_the_answer_trickles_in_cancels_the_upstream_call() {
    let h = start("").await;
    // The upstream sends its headers and half its answer, then nothing for 5 s.
    h.alpha.push(Script::Raw {
        status: 200,
        content_type: "application/json".into(),
        events: vec![
            r#"{"id":"x","object":"chat.completion","#.into(),
            r#""choices":[]}"#.into(),
        ],
        delay_ms: 5000,
    });
    let body = json!({"model": "alpha/gpt-4o-mini", "messages": user("hi")});
    let s = send_request(&h, "/v1/chat/completions", &body).await;
    assert!(h.alpha.wait_for_requests(1, Duration::from_secs(5)).await);
    // Let the gateway start reading the answer.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let left = Instant::now();
    drop(s);
    let gone = h
        .alpha
        .wait_for_disconnect(Duration::from_secs(3))
        .await
        .unwrap_or_else(|| panic!("the upstream call must end when the client leaves"));
    assert!(
        gone.at.duration_since(left) < Duration::from_millis(500),
        "{:?}",
        gone.at.duration_since(left)
    );
}

#[tokio::test]
async fn a_client_that_hangs_up_after_stray_bytes_cancels_the_upstream_call() {
    let h = start("").await;
    h.alpha.push(Script::StallBeforeHeaders);
    let body = json!({"model": "alpha/gpt-4o-mini", "messages": user("hi")}).to_string();
    let mut s = connect(&h).await;
    // A CRLF after the body, as some hand-written clients send: it looks like the start of a
    // pipelined request, which must not stop the gateway noticing the client leave.
    let request = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}\r\n",
        body.len()
    );
    s.write_all(request.as_bytes()).await.unwrap();
    assert!(h.alpha.wait_for_requests(1, Duration::from_secs(5)).await);
    let left = Instant::now();
    drop(s);
    let gone = h
        .alpha
        .wait_for_disconnect(Duration::from_secs(3))
        .await
        .unwrap_or_else(|| panic!("the upstream call must end when the client leaves"));
    assert!(
        gone.at.duration_since(left) < Duration::from_millis(500),
        "{:?}",
        gone.at.duration_since(left)
    );
    let page = h.wait_for_rows(1).await;
    assert_eq!(page["requests"][0]["status"], 499, "{page}");
}

#[tokio::test]
async fn http2_with_prior_knowledge_is_still_served() {
    let h = start("").await;
    let client = reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .unwrap();
    let r = client
        .post(format!("{}/chat/completions", h.base))
        .json(&json!({"model": "alpha/gpt-4o-mini", "messages": user("over h2")}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.version(), reqwest::Version::HTTP_2);
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("over h2"));
}

/// What hyper refuses itself, before any of our code runs: the right status and a closed
/// connection, but an empty body (hyper writes these answers; they cannot carry our JSON).
#[tokio::test]
async fn heads_hyper_cannot_parse_are_refused_and_closed() {
    let h = start("").await;
    let cases = [
        (
            "a garbled request line",
            "GARBAGE\r\n\r\n".to_owned(),
            "400",
        ),
        (
            "a head over hyper's buffer",
            format!(
                "GET /healthz HTTP/1.1\r\nHost: localhost\r\nx-big: {}\r\n\r\n",
                "a".repeat(200 * 1024)
            ),
            "431",
        ),
        (
            "a URI over 65,534 bytes",
            format!(
                "GET /healthz?q={} HTTP/1.1\r\nHost: localhost\r\n\r\n",
                "a".repeat(70 * 1024)
            ),
            "414",
        ),
    ];
    for (what, request, status) in cases {
        let mut s = connect(&h).await;
        let _ = s.write_all(request.as_bytes()).await;
        let (answer, closed) = read_to_close(&mut s, Duration::from_secs(5)).await;
        assert!(
            answer.starts_with(&format!("HTTP/1.1 {status}")),
            "{what}: {answer}"
        );
        assert!(closed.is_some(), "{what}");
    }
}
