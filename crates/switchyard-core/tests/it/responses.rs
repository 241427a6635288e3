//! `/v1/responses`, the Responses door, in front of chat upstreams (translated) and of
//! Responses upstreams (`responses_api`, passed through): the shapes and event sequences Codex
//! CLI and the OpenAI SDKs depend on, conversations kept for `previous_response_id`, failover,
//! and Responses bodies sent to `/v1/chat/completions`.

use serde_json::{Value, json};
use switchyard_testkit::{Dialect, FakeUpstream, Reply, Script, ToolCallSpec};

use crate::harness::{Harness, header, start, upstream_error};

async fn create(h: &Harness, body: Value) -> (u16, reqwest::header::HeaderMap, Value) {
    let r = h.post("/responses", body).await;
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.json().await.unwrap())
}

/// GET or DELETE `/v1/responses/{id}` as a client.
async fn by_id(h: &Harness, method: reqwest::Method, id: &str) -> (u16, Value) {
    let r = h
        .client
        .request(method, format!("{}/responses/{id}", h.base))
        .bearer_auth("sk-client-secret")
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

/// Streams and returns every event's data, checking that `event:` names its type.
async fn stream(h: &Harness, body: Value) -> (u16, Vec<Value>) {
    let r = h.post("/responses", body).await;
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    assert!(!text.contains("[DONE]"), "Responses streams have no [DONE]");
    let events = text
        .split("\n\n")
        .filter(|e| e.lines().any(|l| l.starts_with("data: ")))
        .map(|e| {
            let name = e.lines().find_map(|l| l.strip_prefix("event: ")).unwrap();
            let data: Value =
                serde_json::from_str(e.lines().find_map(|l| l.strip_prefix("data: ")).unwrap())
                    .unwrap();
            assert_eq!(data["type"], name, "event: equals type");
            data
        })
        .collect();
    (status, events)
}

/// The invariants of `shared/reference/clients.md` §3b; returns the final Response.
fn assert_well_formed(events: &[Value]) -> Value {
    assert_eq!(events[0]["type"], "response.created");
    for field in ["id", "created_at", "model"] {
        assert!(
            !events[0]["response"][field].is_null(),
            "response.created has {field}"
        );
    }
    for (n, e) in events.iter().enumerate() {
        assert_eq!(
            e["sequence_number"], n as u64,
            "sequence numbers from 0: {e}"
        );
    }
    let mut added = Vec::new();
    let mut done = Vec::new();
    for e in events {
        match e["type"].as_str().unwrap() {
            "response.output_item.added" => {
                assert_eq!(e["output_index"], added.len() as u64);
                added.push(e["item"]["id"].clone());
            }
            "response.output_item.done" => done.push(e["item"].clone()),
            _ => {}
        }
    }
    let terminal: Vec<&Value> = events
        .iter()
        .filter(|e| {
            matches!(
                e["type"].as_str().unwrap(),
                "response.completed" | "response.failed" | "response.incomplete"
            )
        })
        .collect();
    assert_eq!(terminal.len(), 1, "exactly one terminal event");
    assert_eq!(events.last().unwrap(), terminal[0], "and it is the last");
    let response = terminal[0]["response"].clone();
    if response["status"] == "completed" {
        assert_eq!(
            response["output"].as_array().unwrap(),
            &done,
            "output = the done items"
        );
        assert!(response["usage"]["total_tokens"].is_u64());
        let ids: Vec<Value> = done.iter().map(|i| i["id"].clone()).collect();
        assert_eq!(ids, added, "each added item is done with the same id");
    }
    response
}

#[tokio::test]
async fn a_chat_upstream_answers_as_a_response_with_instructions_as_system() {
    let h = start("").await;
    h.alpha.push(Script::Reply(Reply {
        text: Some("Hello there".into()),
        prompt_tokens: Some(11),
        completion_tokens: Some(2),
        cached_tokens: 4,
        ..Reply::default()
    }));
    let (status, headers, r) = create(
        &h,
        json!({
            "model": "alpha/gpt-4o-mini",
            "instructions": "Answer briefly.",
            "input": [{"role": "developer", "content": "Be kind."}, {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]}],
            "max_output_tokens": 50,
            "metadata": {"run": "7"},
        }),
    )
    .await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(header(&headers, "x-switchyard-target"), "alpha/gpt-4o-mini");
    assert!(r["id"].as_str().unwrap().starts_with("resp_"));
    assert_eq!(r["object"], "response");
    assert_eq!(r["status"], "completed");
    assert_eq!(r["output"][0]["type"], "message");
    assert_eq!(r["output"][0]["content"][0]["type"], "output_text");
    assert_eq!(r["output"][0]["content"][0]["text"], "Hello there");
    assert_eq!(
        r["usage"],
        json!({"input_tokens": 11, "input_tokens_details": {"cached_tokens": 4}, "output_tokens": 2, "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 13})
    );
    assert_eq!(r["instructions"], "Answer briefly.");
    assert_eq!(r["metadata"], json!({"run": "7"}));
    let sent = h.alpha.requests().last().unwrap().json().unwrap();
    assert_eq!(sent["model"], "gpt-4o-mini");
    assert_eq!(sent["max_tokens"], 50);
    let messages = sent["messages"].as_array().unwrap();
    assert_eq!(
        messages[0],
        json!({"role": "system", "content": "Answer briefly."})
    );
    assert_eq!(
        messages[1],
        json!({"role": "system", "content": "Be kind."})
    );
    assert_eq!(messages[2], json!({"role": "user", "content": "hi"}));
}

#[tokio::test]
async fn a_streamed_tool_call_arrives_whole_in_output_item_done() {
    let h = start("").await;
    h.alpha.push(Script::Reply(Reply {
        text: Some("Let me look.".into()),
        reasoning: Some("The user wants files.".into()),
        tool_calls: vec![ToolCallSpec {
            name: "shell".into(),
            arguments: json!({"command": ["ls", "-la"]}),
        }],
        ..Reply::default()
    }));
    let (status, events) = stream(
        &h,
        json!({
            "model": "alpha/gpt-4o-mini",
            "input": "list the files",
            "stream": true,
            "tools": [{"type": "function", "name": "shell", "parameters": {"type": "object", "properties": {"command": {"type": "array", "items": {"type": "string"}}}}}],
        }),
    )
    .await;
    assert_eq!(status, 200);
    let response = assert_well_formed(&events);
    assert_eq!(response["status"], "completed");
    let kinds: Vec<&str> = response["output"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["reasoning", "message", "function_call"]);
    let call = &response["output"][2];
    assert_eq!(call["name"], "shell");
    let args: Value = serde_json::from_str(call["arguments"].as_str().unwrap()).unwrap();
    assert_eq!(args, json!({"command": ["ls", "-la"]}));
    assert!(call["call_id"].as_str().is_some_and(|c| !c.is_empty()));
    assert_eq!(
        response["output"][0]["summary"][0]["text"],
        "The user wants files."
    );
    let text: String = events
        .iter()
        .filter(|e| e["type"] == "response.output_text.delta")
        .map(|e| e["delta"].as_str().unwrap())
        .collect();
    assert_eq!(text, "Let me look.");
    let sent = h.alpha.requests().last().unwrap().json().unwrap();
    assert_eq!(sent["tools"][0]["function"]["name"], "shell");
    assert_eq!(sent["stream_options"]["include_usage"], true);

    // The next turn sends the call and its output back; the upstream gets them paired.
    h.alpha.push(Script::Reply(Reply::text("Two files.")));
    let (status, _, r) = create(
        &h,
        json!({
            "model": "alpha/gpt-4o-mini",
            "input": [
                {"role": "user", "content": "list the files"},
                call,
                {"type": "function_call_output", "call_id": call["call_id"], "output": "a.txt\nb.txt"},
            ],
        }),
    )
    .await;
    assert_eq!(status, 200, "{r}");
    let sent = h.alpha.requests().last().unwrap().json().unwrap();
    let messages = sent["messages"].as_array().unwrap();
    assert_eq!(messages[1]["tool_calls"][0]["id"], call["call_id"]);
    assert_eq!(messages[2]["role"], "tool");
    assert_eq!(messages[2]["tool_call_id"], call["call_id"]);
    assert_eq!(messages[2]["content"], "a.txt\nb.txt");
}

#[tokio::test]
async fn previous_response_id_continues_a_kept_conversation() {
    let h = start("").await;
    h.alpha
        .push(Script::Reply(Reply::text("Nice to meet you, Ada.")));
    let (status, _, first) = create(
        &h,
        json!({"model": "alpha/gpt-4o-mini", "input": "My name is Ada.", "instructions": "Be warm."}),
    )
    .await;
    assert_eq!(status, 200, "{first}");
    let id = first["id"].as_str().unwrap();

    // Kept: it can be read back.
    let (_, got) = by_id(&h, reqwest::Method::GET, id).await;
    assert_eq!(got["output"], first["output"]);
    // Only by the key that made it.
    let other = h
        .client
        .get(format!("{}/responses/{id}", h.base))
        .bearer_auth(crate::harness::ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(other.status().as_u16(), 404);

    h.alpha
        .push(Script::Reply(Reply::text("Your name is Ada.")));
    let (status, _, second) = create(
        &h,
        json!({"model": "alpha/gpt-4o-mini", "input": "What is my name?", "previous_response_id": id, "stream": false}),
    )
    .await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(second["previous_response_id"], id);
    let sent = h.alpha.requests().last().unwrap().json().unwrap();
    let turns: Vec<(String, String)> = sent["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["role"].as_str().unwrap().to_owned(),
                m["content"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    // Instructions are not carried over (as OpenAI documents); the turns are.
    assert_eq!(
        turns,
        [
            ("user".to_owned(), "My name is Ada.".to_owned()),
            ("assistant".to_owned(), "Nice to meet you, Ada.".to_owned()),
            ("user".to_owned(), "What is my name?".to_owned()),
        ]
    );

    // store: false is not kept; unknown and deleted ids are refused with their param.
    h.alpha.push(Script::Reply(Reply::text("ok")));
    let (_, _, unkept) = create(
        &h,
        json!({"model": "alpha/gpt-4o-mini", "input": "x", "store": false}),
    )
    .await;
    let (status, _, e) = create(
        &h,
        json!({"model": "alpha/gpt-4o-mini", "input": "y", "previous_response_id": unkept["id"]}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(e["error"]["param"], "previous_response_id");
    assert_eq!(e["error"]["code"], "previous_response_not_found");
    let (_, deleted) = by_id(&h, reqwest::Method::DELETE, id).await;
    assert_eq!(deleted["deleted"], true);
    let (status, gone) = by_id(&h, reqwest::Method::GET, id).await;
    assert_eq!(status, 404);
    assert_eq!(gone["error"]["param"], "response_id");
}

#[tokio::test]
async fn a_failing_target_fails_over_and_a_broken_stream_ends_in_response_failed() {
    let h = start("").await;
    h.alpha.push(upstream_error(503, "overloaded"));
    h.beta.push(Script::Reply(Reply::text("From Claude.")));
    let (status, headers, r) = create(&h, json!({"model": "smart", "input": "hi"})).await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(
        header(&headers, "x-switchyard-target"),
        "beta/claude-sonnet-4-5"
    );
    assert_eq!(r["output"][0]["content"][0]["text"], "From Claude.");

    h.alpha.push(Script::ResetAfterEvents {
        reply: Reply {
            text: Some("one two three four five six".into()),
            ..Reply::default()
        },
        after: 3,
    });
    let (status, events) = stream(
        &h,
        json!({"model": "alpha/gpt-4o-mini", "input": "hi", "stream": true}),
    )
    .await;
    assert_eq!(status, 200);
    let response = assert_well_formed(&events);
    assert_eq!(events[events.len() - 2]["type"], "error");
    assert_eq!(response["status"], "failed");
    assert!(
        response["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty())
    );
}

#[tokio::test]
async fn bad_requests_name_the_field() {
    let h = start("").await;
    let (status, _, e) = create(&h, json!({"model": "alpha/gpt-4o-mini"})).await;
    assert_eq!(status, 400);
    assert_eq!(e["error"]["param"], "input");
    let (status, _, e) = create(
        &h,
        json!({"model": "alpha/gpt-4o-mini", "input": [{"role": "user", "content": "hi"}, {"type": "function_call_output", "output": "x"}]}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(e["error"]["param"], "input[1].call_id");
    let (status, _, e) = create(&h, json!({"model": "nope/nothing", "input": "hi"})).await;
    assert_eq!(status, 404);
    assert_eq!(e["error"]["code"], "model_not_found");
    assert_eq!(h.alpha.request_count(), 0, "nothing reached the upstream");
}

#[tokio::test]
async fn a_responses_body_on_chat_completions_is_answered_in_chat_chunks() {
    let h = start("").await;
    h.alpha.push(Script::Reply(Reply::text("Hi from chat.")));
    let (status, sse) = {
        let (status, _, data) = h
            .stream(json!({"model": "alpha/gpt-4o-mini", "input": [{"role": "user", "content": [{"type": "input_text", "text": "hello"}]}], "instructions": "Be brief.", "stream": true}))
            .await;
        (status, data)
    };
    assert_eq!(status, 200);
    assert_eq!(sse.last().unwrap(), "[DONE]");
    let chunks: Vec<Value> = sse[..sse.len() - 1]
        .iter()
        .map(|d| serde_json::from_str(d).unwrap())
        .collect();
    assert!(
        chunks
            .iter()
            .all(|c| c["object"] == "chat.completion.chunk")
    );
    let text: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(text, "Hi from chat.");
    let sent = h.alpha.requests().last().unwrap().json().unwrap();
    assert_eq!(
        sent["messages"][0],
        json!({"role": "system", "content": "Be brief."})
    );
    assert_eq!(
        sent["messages"][1],
        json!({"role": "user", "content": "hello"})
    );

    // A body that is neither keeps the chat error.
    let (status, _, e) = h.chat(json!({"model": "alpha/gpt-4o-mini"})).await;
    assert_eq!(status, 400);
    assert_eq!(e["error"]["param"], "messages");
}

/// A harness with two Responses upstreams (`native` serving `gpt-5`, `backup` serving
/// `gpt-5-mini`) behind the alias `codex`, in that order.
async fn start_native() -> (Harness, FakeUpstream, FakeUpstream) {
    let native = FakeUpstream::start(Dialect::OpenAi).await.unwrap();
    let backup = FakeUpstream::start(Dialect::OpenAi).await.unwrap();
    let h = start(&format!(
        r#"
[[providers]]
name = "native"
kind = "openai"
base_url = "{}"
api_key = "env:SWITCHYARD_TEST_ALPHA_KEY"
models = ["gpt-5"]
responses_api = true

[[providers]]
name = "backup"
kind = "openai"
base_url = "{}"
api_key = "env:SWITCHYARD_TEST_ALPHA_KEY"
models = ["gpt-5-mini"]
responses_api = true

[[aliases]]
name = "codex"
targets = ["native/gpt-5", "backup/gpt-5-mini"]
"#,
        native.base_url(),
        backup.base_url()
    ))
    .await;
    (h, native, backup)
}

#[tokio::test]
async fn a_responses_upstream_gets_the_body_natively_and_its_answer_passes_through() {
    let (h, native, _backup) = start_native().await;
    native.push(Script::Reply(Reply {
        text: Some("Hello natively".into()),
        prompt_tokens: Some(9),
        completion_tokens: Some(3),
        ..Reply::default()
    }));
    let (status, headers, r) = create(
        &h,
        json!({
            "model": "codex",
            "instructions": "Be brief.",
            "input": "hi",
            "reasoning": {"effort": "low"},
            "text": {"verbosity": "low"},
        }),
    )
    .await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(header(&headers, "x-switchyard-target"), "native/gpt-5");
    // The upstream's own Response, unchanged: its id, its model, its usage.
    assert!(r["id"].as_str().unwrap().starts_with("resp_fake"), "{r}");
    assert_eq!(r["model"], "gpt-5");
    assert_eq!(r["output"][0]["content"][0]["text"], "Hello natively");
    assert_eq!(r["usage"]["total_tokens"], 12);
    let sent = native.requests();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].path, "/v1/responses");
    assert_eq!(
        sent[0].header("authorization"),
        Some("Bearer sk-alpha-test-key")
    );
    let body = sent[0].json().unwrap();
    assert_eq!(body["model"], "gpt-5", "the target's name, not the alias");
    // Fields the translation would drop reach a Responses upstream as the client sent them.
    assert_eq!(body["instructions"], "Be brief.");
    assert_eq!(body["input"], "hi");
    assert_eq!(body["reasoning"], json!({"effort": "low"}));
    assert_eq!(body["text"], json!({"verbosity": "low"}));
    assert_eq!(h.alpha.request_count(), 0);

    // Streamed: the upstream's events, in its order and numbering, with its ids.
    native.push(Script::Reply(Reply {
        text: Some("one two three".into()),
        reasoning: Some("Counting up.".into()),
        tool_calls: vec![ToolCallSpec::new("count", json!({"to": 3}))],
        prompt_tokens: Some(20),
        completion_tokens: Some(8),
        ..Reply::default()
    }));
    let (status, events) = stream(
        &h,
        json!({"model": "codex", "input": "count", "stream": true, "include": ["reasoning.encrypted_content"]}),
    )
    .await;
    assert_eq!(status, 200);
    let response = assert_well_formed(&events);
    assert_eq!(response["status"], "completed");
    assert_eq!(response["model"], "gpt-5");
    assert_eq!(events[0]["response"]["id"], response["id"]);
    let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == "response.output_text.delta")
            .count(),
        3,
        "each upstream delta arrives as it was sent"
    );
    assert!(kinds.contains(&"response.reasoning_summary_text.delta"));
    assert!(kinds.contains(&"response.function_call_arguments.done"));
    assert!(
        response["output"][0]["encrypted_content"].is_string(),
        "include reached the upstream"
    );
    assert_eq!(response["output"][2]["name"], "count");
    let body = native.requests().last().unwrap().json().unwrap();
    assert_eq!(body["model"], "gpt-5");
    assert_eq!(body["stream"], true);

    // Both are in the request log with the upstream's token counts.
    let page = h.wait_for_rows(2).await;
    let rows = page["requests"].as_array().unwrap();
    let mut seen: Vec<(bool, u64, u64)> = rows
        .iter()
        .filter(|r| r["endpoint"] == "/v1/responses")
        .map(|r| {
            assert_eq!(r["requested_model"], "codex");
            assert_eq!(r["provider"], "native");
            assert_eq!(r["model"], "gpt-5");
            assert_eq!(r["outcome"], "ok", "{r}");
            (
                r["stream"].as_bool().unwrap_or(false),
                r["prompt_tokens"].as_u64().unwrap(),
                r["completion_tokens"].as_u64().unwrap(),
            )
        })
        .collect();
    seen.sort_unstable();
    assert_eq!(seen, [(false, 9, 3), (true, 20, 8)]);
}

#[tokio::test]
async fn previous_response_id_is_expanded_for_a_responses_upstream() {
    let (h, native, _backup) = start_native().await;
    native.push(Script::Reply(Reply {
        text: Some("Nice to meet you, Ada.".into()),
        reasoning: Some("A greeting.".into()),
        ..Reply::default()
    }));
    let (status, _, first) = create(
        &h,
        json!({"model": "codex", "input": "My name is Ada.", "instructions": "Be warm.", "include": ["reasoning.encrypted_content"]}),
    )
    .await;
    assert_eq!(status, 200, "{first}");
    let id = first["id"].as_str().unwrap();
    // Kept by the time the answer is out.
    assert_eq!(by_id(&h, reqwest::Method::GET, id).await.0, 200);

    let (status, _, second) = create(
        &h,
        json!({"model": "codex", "input": "What is my name?", "previous_response_id": id}),
    )
    .await;
    assert_eq!(status, 200, "{second}");
    let sent = native.requests().last().unwrap().json().unwrap();
    // The upstream never saw our kept id: it gets the conversation instead.
    assert!(sent.get("previous_response_id").is_none(), "{sent}");
    assert!(
        sent.get("instructions").is_none(),
        "instructions are not carried over"
    );
    let input = sent["input"].as_array().unwrap();
    assert_eq!(input.len(), 4, "{sent}");
    assert_eq!(input[0]["role"], "user");
    assert_eq!(input[0]["content"][0]["text"], "My name is Ada.");
    // Reasoning goes back with its id and encrypted content, so the upstream can read it.
    assert_eq!(input[1]["type"], "reasoning");
    assert_eq!(input[1]["id"], first["output"][0]["id"]);
    assert_eq!(
        input[1]["encrypted_content"],
        first["output"][0]["encrypted_content"]
    );
    // The answer goes back without the id of an item the upstream did not store.
    assert_eq!(input[2]["type"], "message");
    assert_eq!(input[2]["role"], "assistant");
    assert_eq!(input[2]["content"][0]["text"], "Nice to meet you, Ada.");
    assert!(input[2].get("id").is_none());
    assert_eq!(input[3]["content"][0]["text"], "What is my name?");

    // The second turn is kept in turn, and continues through a stream too.
    let second_id = second["id"].as_str().unwrap();
    let (status, events) = stream(
        &h,
        json!({"model": "codex", "input": "And again?", "previous_response_id": second_id, "stream": true}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(assert_well_formed(&events)["status"], "completed");
    let sent = native.requests().last().unwrap().json().unwrap();
    let texts: Vec<&str> = sent["input"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["type"] == "message")
        .map(|i| i["content"][0]["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        texts,
        [
            "My name is Ada.",
            "Nice to meet you, Ada.",
            "What is my name?",
            "You said: What is my name?",
            "And again?"
        ]
    );

    // An id this gateway never made may be the upstream's own: it goes through untouched.
    let (status, _, _) = create(
        &h,
        json!({"model": "codex", "input": "x", "previous_response_id": "resp_upstream_own"}),
    )
    .await;
    assert_eq!(status, 200);
    let sent = native.requests().last().unwrap().json().unwrap();
    assert_eq!(sent["previous_response_id"], "resp_upstream_own");
    assert_eq!(sent["input"], "x");
}

#[tokio::test]
async fn a_responses_upstream_failing_before_output_fails_over() {
    let (h, native, backup) = start_native().await;
    native.push(upstream_error(503, "overloaded"));
    backup.push(Script::Reply(Reply::text("From the backup.")));
    let (status, headers, r) = create(&h, json!({"model": "codex", "input": "hi"})).await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(header(&headers, "x-switchyard-target"), "backup/gpt-5-mini");
    assert_eq!(r["output"][0]["content"][0]["text"], "From the backup.");
    assert_eq!(backup.requests()[0].json().unwrap()["model"], "gpt-5-mini");

    // A stream whose upstream reports a failure before any output fails over too: the client
    // sees only the backup's stream.
    native.push(Script::ErrorEventAfter {
        reply: Reply::default(),
        after: 2,
    });
    backup.push(Script::Reply(Reply::text("Streamed from the backup.")));
    let (status, events) =
        stream(&h, json!({"model": "codex", "input": "hi", "stream": true})).await;
    assert_eq!(status, 200);
    let response = assert_well_formed(&events);
    assert_eq!(response["status"], "completed");
    assert_eq!(response["model"], "gpt-5-mini");
    assert!(events.iter().all(|e| e["type"] != "error"));
    assert_eq!(native.request_count(), 2);
    assert_eq!(backup.request_count(), 2);
}

#[tokio::test]
async fn a_responses_stream_failing_after_output_ends_in_response_failed_without_switching() {
    let (h, native, backup) = start_native().await;
    // The upstream's own error events, after the first text delta.
    native.push(Script::ErrorEventAfter {
        reply: Reply::text("one two three four"),
        after: 5,
    });
    let (status, events) =
        stream(&h, json!({"model": "codex", "input": "hi", "stream": true})).await;
    assert_eq!(status, 200);
    let response = assert_well_formed(&events);
    assert_eq!(events[4]["delta"], "one ");
    assert_eq!(events[events.len() - 2]["type"], "error");
    assert_eq!(response["status"], "failed");
    assert_eq!(response["error"]["code"], "server_error");

    // A connection cut after output: the gateway ends the stream with its own error and
    // response.failed, numbered after the upstream's events.
    native.push(Script::ResetAfterEvents {
        reply: Reply::text("one two three four"),
        after: 5,
    });
    let (status, events) =
        stream(&h, json!({"model": "codex", "input": "hi", "stream": true})).await;
    assert_eq!(status, 200);
    let response = assert_well_formed(&events);
    assert_eq!(events.len(), 7);
    assert_eq!(events[5]["type"], "error");
    assert_eq!(response["status"], "failed");
    assert!(
        response["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty())
    );
    assert_eq!(backup.request_count(), 0, "no silent switch after output");

    // Both failures are in the request log as such.
    let page = h.wait_for_rows(2).await;
    let rows = page["requests"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    for row in rows {
        assert_eq!(row["provider"], "native");
        assert_eq!(row["outcome"], "error", "{row}");
        assert!(row["error"].as_str().is_some_and(|m| !m.is_empty()));
    }
}

#[tokio::test]
async fn a_continuation_sent_at_once_finds_the_response_it_continues() {
    // The response is kept before its answer ends, so a client that chains turns without a
    // pause never sends the upstream an id it does not know.
    let (h, native, _backup) = start_native().await;
    for i in 0..30 {
        let stream = i % 2 == 1;
        let first = json!({"model": "codex", "input": format!("turn {i}"), "stream": stream});
        let id = if stream {
            let (_, events) = self::stream(&h, first).await;
            events.last().unwrap()["response"]["id"].clone()
        } else {
            create(&h, first).await.2["id"].clone()
        };
        let (status, _, next) = create(
            &h,
            json!({"model": "codex", "input": "next", "previous_response_id": id}),
        )
        .await;
        assert_eq!(status, 200, "{next}");
        let sent = native.requests().last().unwrap().json().unwrap();
        assert!(
            sent.get("previous_response_id").is_none(),
            "turn {i} (stream: {stream}) was continued before it was kept"
        );
    }
}
