//! Aliases fail over on upstream faults, never on a client's 4xx; retries honour Retry-After;
//! circuit breakers stop traffic to a dead upstream and let it back when it heals.

use std::time::{Duration, Instant};

use serde_json::json;
use switchyard_testkit::{Reply, Script, refused_base_url};

use crate::harness::{header, start, upstream_error, user};

#[tokio::test]
async fn alias_fails_over_on_5xx_429_529_resets_and_refused_connections() {
    let h = start("").await;
    let faults = [
        upstream_error(503, "down"),
        upstream_error(500, "boom"),
        upstream_error(429, "slow down"),
        Script::HtmlError { status: 502 },
        Script::ResetBeforeHeaders,
    ];
    for fault in faults {
        h.alpha.push(fault.clone());
        let (status, headers, body) = h
            .chat(json!({"model": "smart", "messages": user("hi")}))
            .await;
        assert_eq!(status, 200, "{fault:?}: {body}");
        assert_eq!(
            header(&headers, "x-switchyard-target"),
            "beta/claude-sonnet-4-5",
            "{fault:?}"
        );
        let trail = header(&headers, "x-switchyard-attempts");
        assert!(
            trail.starts_with("strategy=ordered; alpha/gpt-4o-mini=")
                && trail.ends_with("beta/claude-sonnet-4-5=ok"),
            "{fault:?}: {trail}"
        );
    }
    // Anthropic's 529 overloaded is retryable too, in the other direction.
    let h = start("[[aliases]]\nname = \"rev\"\ntargets = [\"beta/claude-sonnet-4-5\", \"alpha/gpt-4o-mini\"]").await;
    h.beta.push(upstream_error(529, "Overloaded"));
    let (status, headers, _) = h
        .chat(json!({"model": "rev", "messages": user("hi")}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        header(&headers, "x-switchyard-attempts"),
        "strategy=ordered; beta/claude-sonnet-4-5=529; alpha/gpt-4o-mini=ok"
    );

    let dead = format!(
        "[[providers]]\nname = \"dead\"\nkind = \"openai\"\nbase_url = \"{}\"\nmodels = [\"m\"]\n[[aliases]]\nname = \"resilient\"\ntargets = [\"dead/m\", \"alpha/gpt-4o-mini\"]",
        refused_base_url()
    );
    let h = start(&dead).await;
    let (status, headers, _) = h
        .chat(json!({"model": "resilient", "messages": user("hi")}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        header(&headers, "x-switchyard-attempts"),
        "strategy=ordered; dead/m=connect_error; alpha/gpt-4o-mini=ok"
    );
}

#[tokio::test]
async fn a_clients_4xx_is_never_failed_over() {
    let h = start("").await;
    h.alpha.push(Script::Error {
        status: 400,
        message: "This model's maximum context length is 128000 tokens.".into(),
        retry_after: None,
        error_type: Some("context_length_exceeded".into()),
    });
    let (status, headers, body) = h
        .chat(json!({"model": "smart", "messages": user("long")}))
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["error"]["message"],
        "This model's maximum context length is 128000 tokens."
    );
    assert_eq!(body["error"]["code"], "context_length_exceeded");
    assert_eq!(
        header(&headers, "x-switchyard-attempts"),
        "strategy=ordered; alpha/gpt-4o-mini=400"
    );
    assert_eq!(h.beta.request_count(), 0, "beta must not be tried");
}

#[tokio::test]
async fn when_every_target_fails_the_error_lists_each_attempt() {
    let h = start("[retry]\nrounds = 1").await;
    h.alpha.push(upstream_error(503, "alpha is down"));
    h.beta.push(upstream_error(529, "Overloaded"));
    let (status, headers, body) = h
        .chat(json!({"model": "smart", "messages": user("hi")}))
        .await;
    assert_eq!(status, 529, "the last upstream status: {body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("alpha/gpt-4o-mini: 503 alpha is down")
            && message.contains("beta/claude-sonnet-4-5: 529 Overloaded"),
        "{message}"
    );
    let attempts = body["error"]["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 2);
    assert_eq!(attempts[0]["target"], "alpha/gpt-4o-mini");
    assert_eq!(attempts[0]["status"], 503);
    assert_eq!(
        header(&headers, "x-switchyard-attempts"),
        "strategy=ordered; alpha/gpt-4o-mini=503; beta/claude-sonnet-4-5=529"
    );
}

#[tokio::test]
async fn a_single_target_is_retried_after_its_retry_after() {
    let h = start("[retry]\nrounds = 2\nbackoff_ms = 10").await;
    h.alpha.push(Script::Error {
        status: 429,
        message: "slow down".into(),
        retry_after: Some("0.4".into()),
        error_type: None,
    });
    let started = Instant::now();
    let (status, headers, _) = h
        .chat(json!({"model": "alpha/gpt-4o-mini", "messages": user("hi")}))
        .await;
    assert_eq!(status, 200);
    assert!(
        started.elapsed() >= Duration::from_millis(400),
        "waited {:?}",
        started.elapsed()
    );
    assert_eq!(
        header(&headers, "x-switchyard-attempts"),
        "alpha/gpt-4o-mini=429; alpha/gpt-4o-mini=ok"
    );
    let gap = h.alpha.requests()[1].at - h.alpha.requests()[0].at;
    assert!(gap >= Duration::from_millis(400), "{gap:?}");
}

#[tokio::test]
async fn a_retry_after_beyond_the_limit_returns_at_once_with_the_header() {
    let h = start("[retry]\nrounds = 3\nmax_retry_after_ms = 2000").await;
    h.alpha.push(Script::Error {
        status: 429,
        message: "quota".into(),
        retry_after: Some("3600".into()),
        error_type: None,
    });
    let started = Instant::now();
    let r = h
        .post(
            "/chat/completions",
            json!({"model": "alpha/gpt-4o-mini", "messages": user("hi")}),
        )
        .await;
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "3600");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(h.alpha.request_count(), 1);
}

#[tokio::test]
async fn a_silent_upstream_is_failed_over_at_the_first_token_timeout() {
    let slow = switchyard_testkit::FakeUpstream::start(switchyard_testkit::Dialect::OpenAi)
        .await
        .unwrap();
    slow.set_default(Script::StallBeforeHeaders);
    let extra = format!(
        "[[providers]]\nname = \"slow\"\nkind = \"openai\"\nbase_url = \"{}\"\nmodels = [\"m\"]\ntimeouts = {{ first_token_ms = 300 }}\n[[aliases]]\nname = \"patient\"\ntargets = [\"slow/m\", \"alpha/gpt-4o-mini\"]",
        slow.base_url()
    );
    let h = start(&extra).await;
    for stream in [false, true] {
        let started = Instant::now();
        let r = h
            .post(
                "/chat/completions",
                json!({"model": "patient", "messages": user("hi"), "stream": stream}),
            )
            .await;
        assert_eq!(r.status(), 200);
        assert_eq!(
            r.headers()["x-switchyard-attempts"],
            "strategy=ordered; slow/m=timeout; alpha/gpt-4o-mini=ok"
        );
        let elapsed = started.elapsed();
        assert!(
            elapsed >= Duration::from_millis(300) && elapsed < Duration::from_millis(1500),
            "{elapsed:?}"
        );
        let text = r.text().await.unwrap();
        let content: String = if stream {
            crate::harness::stream_text(&text)
        } else {
            text
        };
        assert!(content.contains("You said: hi"), "{content}");
    }
    // The stalled upstream request was abandoned, not left hanging.
    assert!(
        slow.wait_for_disconnect(Duration::from_secs(2))
            .await
            .is_some()
    );
}

#[tokio::test]
async fn a_stream_that_fails_before_its_first_token_fails_over() {
    let h = start("").await;
    for fault in [
        Script::ErrorEventAfter {
            reply: Reply::text("never"),
            after: 1,
        },
        Script::ResetAfterEvents {
            reply: Reply::text("never"),
            after: 1,
        },
        Script::MalformedStream { after: 0 },
    ] {
        h.alpha.push(fault.clone());
        let (status, headers, data) = h
            .stream(json!({"model": "smart", "messages": user("hi"), "stream": true}))
            .await;
        assert_eq!(status, 200, "{fault:?}");
        assert_eq!(
            header(&headers, "x-switchyard-target"),
            "beta/claude-sonnet-4-5",
            "{fault:?}"
        );
        assert_eq!(
            crate::harness::stream_text(
                &data
                    .iter()
                    .map(|d| format!("data: {d}\n\n"))
                    .collect::<String>()
            ),
            "You said: hi",
            "{fault:?}"
        );
        assert_eq!(data.last().map(String::as_str), Some("[DONE]"));
    }
}

#[tokio::test]
async fn the_circuit_opens_on_a_dead_upstream_and_closes_when_it_heals() {
    let h = start("[retry]\nrounds = 1\n[circuit_breaker]\nmin_requests = 3\nfailure_rate = 0.5\ncooldown_ms = 400").await;
    h.alpha.set_default(upstream_error(503, "down"));
    for _ in 0..3 {
        let (status, _, _) = h
            .chat(json!({"model": "smart", "messages": user("hi")}))
            .await;
        assert_eq!(status, 200);
    }
    assert_eq!(h.alpha.request_count(), 3);
    // Open: alpha gets no traffic, beta answers straight away.
    for _ in 0..5 {
        let (status, headers, _) = h
            .chat(json!({"model": "smart", "messages": user("hi")}))
            .await;
        assert_eq!(status, 200);
        assert_eq!(
            header(&headers, "x-switchyard-attempts"),
            "strategy=ordered; beta/claude-sonnet-4-5=ok"
        );
    }
    assert_eq!(h.alpha.request_count(), 3);
    let health: serde_json::Value = h
        .client
        .get(h.base.replace("/v1", "/healthz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["open_circuits"][0]["target"], "alpha/gpt-4o-mini");
    assert_eq!(health["open_circuits"][0]["state"], "open");
    // A direct request to an open circuit fails fast with 503 and Retry-After.
    let r = h
        .post(
            "/chat/completions",
            json!({"model": "alpha/gpt-4o-mini", "messages": user("hi")}),
        )
        .await;
    assert_eq!(r.status(), 503);
    assert!(r.headers().contains_key("retry-after"));
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["error"]["code"],
        "circuit_open"
    );
    // Healed: after the cooldown one probe goes through and closes the circuit.
    h.alpha.set_default(Script::Reply(Reply::default()));
    tokio::time::sleep(Duration::from_millis(450)).await;
    let (status, headers, _) = h
        .chat(json!({"model": "smart", "messages": user("hi")}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        header(&headers, "x-switchyard-attempts"),
        "strategy=ordered; alpha/gpt-4o-mini=ok"
    );
    assert_eq!(h.alpha.request_count(), 4);
}
