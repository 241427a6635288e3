//! A client that goes away cancels its upstream request promptly.

use std::time::Duration;

use serde_json::json;
use switchyard_testkit::{Reply, Script};

use crate::harness::{start, user};

#[tokio::test]
async fn a_disconnect_while_waiting_cancels_the_upstream_request() {
    let h = start("").await;
    h.alpha.push(Script::StallBeforeHeaders);
    let request = h
        .client
        .post(format!("{}/chat/completions", h.base))
        .json(&json!({"model": "alpha/gpt-4o-mini", "messages": user("hi")}));
    let waiting = tokio::spawn(request.send());
    assert!(h.alpha.wait_for_requests(1, Duration::from_secs(5)).await);
    waiting.abort();
    let gone = h.alpha.wait_for_disconnect(Duration::from_secs(2)).await;
    assert!(
        gone.is_some(),
        "the upstream connection must close when the client leaves"
    );
}

#[tokio::test]
async fn a_disconnect_mid_stream_cancels_the_upstream_stream() {
    let h = start("").await;
    h.alpha.push(Script::Reply(Reply {
        text: Some("word ".repeat(200)),
        chunk_delay_ms: 20,
        ..Reply::default()
    }));
    let mut r = h
        .post(
            "/chat/completions",
            json!({"model": "alpha/gpt-4o-mini", "messages": user("hi"), "stream": true}),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert!(r.chunk().await.unwrap().is_some());
    let left = std::time::Instant::now();
    drop(r);
    let gone = h
        .alpha
        .wait_for_disconnect(Duration::from_secs(2))
        .await
        .expect("upstream stream cancelled");
    assert!(
        gone.at.duration_since(left) < Duration::from_millis(500),
        "{:?}",
        gone.at.duration_since(left)
    );
}
