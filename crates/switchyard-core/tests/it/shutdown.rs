//! Graceful shutdown: new connections are refused at once, in-flight requests finish.

use std::time::Duration;

use serde_json::json;
use switchyard_testkit::{Reply, Script};

use crate::harness::{start, user};

#[tokio::test]
async fn in_flight_streams_finish_and_new_connections_are_refused() {
    let h = start("").await;
    h.alpha.push(Script::Reply(Reply {
        text: Some("a b c d e f g h".into()),
        chunk_delay_ms: 50,
        ..Reply::default()
    }));
    let mut r = h
        .post(
            "/chat/completions",
            json!({"model": "alpha/gpt-4o-mini", "messages": user("hi"), "stream": true}),
        )
        .await;
    assert!(r.chunk().await.unwrap().is_some());
    let addr = h.gateway.local_addr();
    let shutdown = tokio::spawn(h.gateway.shutdown(Duration::from_secs(10)));
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "new connections are refused"
    );
    let mut rest = Vec::new();
    while let Some(chunk) = r.chunk().await.unwrap() {
        rest.extend_from_slice(&chunk);
    }
    let rest = String::from_utf8(rest).unwrap();
    assert!(rest.ends_with("data: [DONE]\n\n"), "{rest}");
    shutdown.await.unwrap().unwrap();
}
