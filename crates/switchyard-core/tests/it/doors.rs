//! `/v1/completions`, `/v1/moderations` and `/v1/rerank` (with `/rerank` and `/v2/rerank`):
//! routed, failed over, limited by key allow-lists and logged like the other doors, with the
//! target's model name going upstream.

use serde_json::{Value, json};
use switchyard_core::access::KeyHash;
use switchyard_testkit::{Dialect, FakeUpstream, Reply, Script};

use crate::harness::{Harness, header, sse_data, start, upstream_error};

const LIMITED_TOKEN: &str = "sk-sy-limited-token-for-the-doors-tests-0123456789";

/// The harness plus `gamma`, an OpenAI-compatible fake serving a legacy completion model, a
/// moderation model and a reranker, each also reachable through an alias that fails over to
/// alpha; and a key limited to alpha's models.
async fn start_doors() -> (Harness, FakeUpstream) {
    let gamma = FakeUpstream::start(Dialect::OpenAi).await.unwrap();
    let extra = format!(
        r#"
[[providers]]
name = "gamma"
kind = "openai"
base_url = "{}"
models = ["instruct", "omni-moderation-latest", "rerank-small"]

[[aliases]]
name = "legacy"
targets = ["gamma/instruct", "alpha/gpt-4o-mini"]

[[aliases]]
name = "guard"
targets = ["gamma/omni-moderation-latest", "alpha/gpt-4o-mini"]

[[aliases]]
name = "ranker"
targets = ["gamma/rerank-small", "alpha/gpt-4o-mini"]

[[keys]]
name = "scripts"
hash = "{}"
models = ["alpha/*"]
"#,
        gamma.base_url(),
        KeyHash::of(LIMITED_TOKEN),
    );
    (start(&extra).await, gamma)
}

async fn send(h: &Harness, path: &str, body: Value) -> (u16, reqwest::header::HeaderMap, Value) {
    let r = h
        .client
        .post(format!("{}{path}", h.root()))
        .bearer_auth("sk-client-secret")
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.json().await.unwrap_or(Value::Null))
}

/// The parsed JSON payloads of a stream, and whether it ended with `[DONE]`.
async fn stream(h: &Harness, body: Value) -> (u16, Vec<Value>, bool) {
    let r = h.post("/completions", body).await;
    let status = r.status().as_u16();
    let data = sse_data(&r.text().await.unwrap());
    let done = data.last().is_some_and(|d| d == "[DONE]");
    let events = data
        .iter()
        .filter(|d| *d != "[DONE]")
        .map(|d| serde_json::from_str(d).unwrap())
        .collect();
    (status, events, done)
}

fn text_of(events: &[Value]) -> String {
    events
        .iter()
        .filter_map(|e| e["choices"][0]["text"].as_str())
        .collect()
}

#[tokio::test]
async fn a_legacy_completion_goes_out_under_the_targets_name_and_names_the_model_that_answered() {
    let (h, gamma) = start_doors().await;
    let (status, headers, body) = send(
        &h,
        "/v1/completions",
        json!({"model": "gamma/instruct", "prompt": "Say hi", "max_tokens": 5, "stop": ["\n"], "suffix": "!"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["object"], "text_completion");
    assert_eq!(body["model"], "instruct");
    assert_eq!(body["choices"][0]["text"], "You said: Say hi");
    assert!(body["usage"]["completion_tokens"].as_u64().unwrap() > 0);
    assert_eq!(header(&headers, "x-switchyard-target"), "gamma/instruct");
    let sent = gamma.requests()[0].clone();
    assert_eq!(sent.path, "/v1/completions");
    let sent = sent.json().unwrap();
    assert_eq!(sent["model"], "instruct");
    assert_eq!(sent["max_tokens"], 5);
    assert_eq!(sent["suffix"], "!");
}

#[tokio::test]
async fn each_door_fails_over_on_a_5xx() {
    let (h, gamma) = start_doors().await;
    let cases = [
        (
            "/v1/completions",
            json!({"model": "legacy", "prompt": "hi"}),
            "gamma/instruct",
        ),
        (
            "/v1/moderations",
            json!({"model": "guard", "input": "hi"}),
            "gamma/omni-moderation-latest",
        ),
        (
            "/v1/rerank",
            json!({"model": "ranker", "query": "hi", "documents": ["hi"]}),
            "gamma/rerank-small",
        ),
    ];
    for (path, body, first) in cases {
        gamma.push(upstream_error(503, "gamma is down"));
        let (status, headers, answer) = send(&h, path, body).await;
        assert_eq!(status, 200, "{path}: {answer}");
        assert_eq!(
            header(&headers, "x-switchyard-attempts"),
            format!("strategy=ordered; {first}=503; alpha/gpt-4o-mini=ok"),
            "{path}"
        );
    }
    let sent = h.alpha.requests();
    assert_eq!(sent.len(), 3);
    assert!(
        sent.iter()
            .all(|r| r.json().unwrap()["model"] == "gpt-4o-mini")
    );
}

#[tokio::test]
async fn a_completions_stream_relays_text_chunks_usage_when_asked_and_done() {
    let (h, gamma) = start_doors().await;
    gamma.push(Script::Reply(Reply {
        text: Some("one two three".into()),
        prompt_tokens: Some(4),
        completion_tokens: Some(3),
        ..Reply::default()
    }));
    let (status, events, done) = stream(
        &h,
        json!({"model": "legacy", "prompt": "count", "stream": true, "stream_options": {"include_usage": true}}),
    )
    .await;
    assert_eq!(status, 200);
    assert!(done);
    assert_eq!(text_of(&events), "one two three");
    assert!(
        events
            .iter()
            .all(|e| e["object"] == "text_completion" && e["model"] == "instruct")
    );
    let last = events.last().unwrap();
    assert_eq!(last["choices"], json!([]));
    assert_eq!(last["usage"]["completion_tokens"], 3);

    // Without include_usage the client gets no usage chunk, but the gateway still asks for it.
    let (_, events, done) = stream(
        &h,
        json!({"model": "gamma/instruct", "prompt": "count", "stream": true}),
    )
    .await;
    assert!(done);
    assert!(
        events.iter().all(|e| e.get("usage").is_none()),
        "{events:?}"
    );
    assert_eq!(
        gamma.requests()[1].json().unwrap()["stream_options"]["include_usage"],
        true
    );
}

#[tokio::test]
async fn a_completions_stream_fails_over_before_its_first_byte_and_ends_in_an_error_event_after() {
    let (h, gamma) = start_doors().await;
    gamma.push(upstream_error(503, "gamma is down"));
    let (status, events, done) = stream(
        &h,
        json!({"model": "legacy", "prompt": "hi", "stream": true}),
    )
    .await;
    assert_eq!(status, 200);
    assert!(done);
    assert_eq!(text_of(&events), "You said: hi");

    gamma.push(Script::ErrorEventAfter {
        reply: Reply::text("one two three four"),
        after: 2,
    });
    let (status, events, done) = stream(
        &h,
        json!({"model": "legacy", "prompt": "hi", "stream": true}),
    )
    .await;
    assert_eq!(status, 200);
    assert!(!done, "a failed stream must not end in [DONE]");
    assert_eq!(text_of(&events), "one two ");
    let error = &events.last().unwrap()["error"];
    assert_eq!(error["type"], "server_error");
    assert!(
        error["message"].as_str().unwrap().contains("error"),
        "{error}"
    );
    // The failure came after the first byte: alpha was not asked.
    assert_eq!(h.alpha.request_count(), 1);
}

#[tokio::test]
async fn anthropic_models_have_no_legacy_completions_moderations_or_rerank() {
    let (h, _gamma) = start_doors().await;
    for (path, body) in [
        (
            "/v1/completions",
            json!({"model": "beta/claude-sonnet-4-5", "prompt": "hi"}),
        ),
        (
            "/v1/moderations",
            json!({"model": "beta/claude-sonnet-4-5", "input": "hi"}),
        ),
        (
            "/v1/rerank",
            json!({"model": "beta/claude-sonnet-4-5", "query": "q", "documents": ["d"]}),
        ),
    ] {
        let (status, _, body) = send(&h, path, body).await;
        assert_eq!(status, 400, "{path}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains("claude-sonnet-4-5"), "{message}");
        assert_eq!(body["error"]["param"], "model");
    }
    let (_, _, body) = send(
        &h,
        "/v1/completions",
        json!({"model": "beta/claude-sonnet-4-5", "prompt": "hi"}),
    )
    .await;
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("/v1/chat/completions")
    );
}

#[tokio::test]
async fn a_key_limited_to_other_models_is_refused_at_every_door() {
    let (h, gamma) = start_doors().await;
    for (path, body) in [
        (
            "/v1/completions",
            json!({"model": "gamma/instruct", "prompt": "hi"}),
        ),
        ("/v1/moderations", json!({"input": "hi"})),
        (
            "/v1/rerank",
            json!({"model": "gamma/rerank-small", "query": "q", "documents": ["d"]}),
        ),
        (
            "/v2/rerank",
            json!({"model": "gamma/rerank-small", "query": "q", "documents": ["d"]}),
        ),
    ] {
        let r = h
            .client
            .post(format!("{}{path}", h.root()))
            .bearer_auth(LIMITED_TOKEN)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{path}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "model_not_allowed", "{path}");
    }
    assert_eq!(gamma.request_count(), 0);
}

#[tokio::test]
async fn malformed_requests_are_400s_naming_the_parameter() {
    let (h, gamma) = start_doors().await;
    let cases = [
        (
            "/v1/completions",
            json!({"model": "gamma/instruct"}),
            "prompt",
        ),
        ("/v1/completions", json!({"prompt": "hi"}), "model"),
        (
            "/v1/completions",
            json!({"model": "gamma/instruct", "prompt": "hi", "n": 0}),
            "n",
        ),
        ("/v1/moderations", json!({"model": "guard"}), "input"),
        (
            "/v1/moderations",
            json!({"model": "guard", "input": []}),
            "input",
        ),
        (
            "/v1/rerank",
            json!({"model": "ranker", "documents": ["d"]}),
            "query",
        ),
        (
            "/v1/rerank",
            json!({"model": "ranker", "query": "q", "documents": []}),
            "documents",
        ),
        (
            "/v1/rerank",
            json!({"model": "ranker", "query": "q", "documents": [1]}),
            "documents",
        ),
        (
            "/v1/rerank",
            json!({"model": "ranker", "query": "q", "documents": ["d"], "top_n": 0}),
            "top_n",
        ),
        (
            "/rerank",
            json!({"query": "q", "documents": ["d"]}),
            "model",
        ),
    ];
    for (path, body, param) in cases {
        let (status, _, answer) = send(&h, path, body).await;
        assert_eq!(status, 400, "{path} {answer}");
        assert_eq!(answer["error"]["param"], param, "{path} {answer}");
        assert_eq!(answer["error"]["type"], "invalid_request_error");
    }
    assert_eq!(gamma.request_count(), 0);
}

#[tokio::test]
async fn moderations_without_a_model_use_omni_moderation_latest_or_ask_for_one() {
    let (h, gamma) = start_doors().await;
    let (status, _, body) = send(
        &h,
        "/v1/moderations",
        json!({"input": ["I will kill the process", "a quiet afternoon"]}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["results"][0]["flagged"], true);
    assert_eq!(body["results"][0]["categories"]["violence"], true);
    assert_eq!(body["results"][1]["flagged"], false);
    assert!(body["results"][1]["category_scores"]["violence"].is_number());
    assert_eq!(
        gamma.requests()[0].json().unwrap()["model"],
        "omni-moderation-latest"
    );

    let h = start("").await;
    let (status, _, body) = send(&h, "/v1/moderations", json!({"input": "hi"})).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["param"], "model");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("omni-moderation-latest")
    );
}

#[tokio::test]
async fn rerank_is_served_at_all_three_paths_best_match_first() {
    let (h, gamma) = start_doors().await;
    for path in ["/v1/rerank", "/rerank", "/v2/rerank"] {
        let (status, _, body) = send(
            &h,
            path,
            json!({"model": "gamma/rerank-small", "query": "red fox", "documents": ["a blue whale", {"text": "the red fox"}, "a red car"], "top_n": 2, "return_documents": true}),
        )
        .await;
        assert_eq!(status, 200, "{path}: {body}");
        let results = body["results"].as_array().unwrap();
        assert_eq!(results.len(), 2, "{path}");
        assert_eq!(results[0]["index"], 1);
        assert_eq!(results[0]["document"]["text"], "the red fox");
        assert!(results[0]["relevance_score"].as_f64() > results[1]["relevance_score"].as_f64());
    }
    for sent in gamma.requests() {
        assert_eq!(sent.path, "/v1/rerank");
        assert_eq!(sent.json().unwrap()["model"], "rerank-small");
    }
}

#[tokio::test]
async fn completions_are_logged_with_their_tokens_and_reassembled_text() {
    let (h, gamma) = start_doors().await;
    gamma.push(Script::Reply(Reply {
        text: Some("logged words".into()),
        prompt_tokens: Some(6),
        completion_tokens: Some(2),
        ..Reply::default()
    }));
    let (status, _, done) = stream(
        &h,
        json!({"model": "gamma/instruct", "prompt": "log me", "stream": true}),
    )
    .await;
    assert_eq!(status, 200);
    assert!(done);
    let (_, _, _) = send(
        &h,
        "/rerank",
        json!({"model": "ranker", "query": "q", "documents": ["q"]}),
    )
    .await;
    let page = h.wait_for_rows(2).await;
    let rows = page["requests"].as_array().unwrap();
    let row = rows
        .iter()
        .find(|r| r["endpoint"] == "/v1/completions")
        .unwrap();
    assert_eq!(row["requested_model"], "gamma/instruct");
    assert_eq!(row["provider"], "gamma");
    assert_eq!(row["model"], "instruct");
    assert_eq!(row["prompt_tokens"], 6);
    assert_eq!(row["completion_tokens"], 2);
    let (_, detail) = h
        .admin(&format!("/admin/requests/{}", row["id"].as_str().unwrap()))
        .await;
    assert_eq!(detail["request_body"]["prompt"], "log me");
    assert_eq!(
        detail["response_body"]["choices"][0]["text"],
        "logged words"
    );
    assert!(
        rows.iter()
            .any(|r| r["endpoint"] == "/rerank" && r["status"] == 200)
    );
}
