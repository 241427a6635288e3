use super::*;
use crate::openai::ChatRequest;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/fixtures");

fn request(json: serde_json::Value) -> ChatRequest {
    serde_json::from_value(json).unwrap()
}

/// Replays a recorded Anthropic stream (one data payload per line) through the translator.
fn replay(name: &str) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(format!("{FIXTURES}/{name}")).unwrap();
    let mut t = StreamTranslator::new("requested-model");
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        t.event(line, &mut out).unwrap();
    }
    t.finish(&mut out).unwrap();
    out.iter()
        .map(|c| serde_json::to_value(c).unwrap())
        .collect()
}

#[test]
fn request_translation_covers_system_tools_images_and_results() {
    let req = request(json!({
        "model": "beta/claude-sonnet-4-5",
        "max_completion_tokens": 300,
        "stop": "END",
        "user": "u-1",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "developer", "content": [{"type": "text", "text": "Use tools.", "cache_control": {"type": "ephemeral"}}]},
            {"role": "user", "content": [
                {"type": "text", "text": "What is in this picture, and the weather?"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}
            ]},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "toolu_1", "type": "function", "function": {"name": "weather", "arguments": "{\"city\":\"Paris\"}"}},
                {"id": "toolu_2", "type": "function", "function": {"name": "weather", "arguments": "{\"city\":\"Oslo\"}"}}
            ]},
            {"role": "tool", "tool_call_id": "toolu_1", "content": "18C"},
            {"role": "tool", "tool_call_id": "toolu_2", "content": "4C"},
            {"role": "user", "content": "Thanks"}
        ],
        "tools": [{"type": "function", "function": {"name": "weather", "description": "Weather by city", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}],
        "tool_choice": "required",
        "parallel_tool_calls": false
    }));
    let m = serde_json::to_value(to_messages_request(&req, "claude-sonnet-4-5", true).unwrap())
        .unwrap();
    assert_eq!(m["model"], "claude-sonnet-4-5");
    assert_eq!(m["max_tokens"], 300);
    assert_eq!(m["stream"], true);
    assert_eq!(m["stop_sequences"], json!(["END"]));
    assert_eq!(m["metadata"], json!({"user_id": "u-1"}));
    assert_eq!(m["system"][0]["text"], "Be brief.");
    assert_eq!(
        m["system"][1]["cache_control"],
        json!({"type": "ephemeral"})
    );
    assert_eq!(
        m["tool_choice"],
        json!({"type": "any", "disable_parallel_tool_use": true})
    );
    assert_eq!(
        m["tools"][0]["input_schema"]["properties"]["city"]["type"],
        "string"
    );
    let messages = m["messages"].as_array().unwrap();
    assert_eq!(
        messages.len(),
        3,
        "tool results and the next user turn merge into one user message: {messages:#?}"
    );
    assert_eq!(
        messages[0]["content"][1],
        json!({"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}})
    );
    assert_eq!(
        messages[1]["content"][1],
        json!({"type": "tool_use", "id": "toolu_2", "name": "weather", "input": {"city": "Oslo"}})
    );
    assert_eq!(messages[2]["content"][0]["type"], "tool_result");
    assert_eq!(
        messages[2]["content"][1],
        json!({"type": "tool_result", "tool_use_id": "toolu_2", "content": "4C"})
    );
    assert_eq!(
        messages[2]["content"][2],
        json!({"type": "text", "text": "Thanks"})
    );
}

#[test]
fn signed_thinking_goes_back_upstream_and_unsigned_reasoning_does_not() {
    let req = request(json!({
        "model": "m",
        "messages": [
            {"role": "user", "content": "2+2?"},
            {"role": "assistant", "content": "4", "reasoning_content": "adding",
             "thinking_blocks": [{"type": "thinking", "thinking": "adding", "signature": "sig-1"}]},
            {"role": "user", "content": "and 3+3?"},
            {"role": "assistant", "content": "6", "reasoning_content": "no signature here"},
            {"role": "user", "content": "ok"}
        ],
        "reasoning_effort": "low"
    }));
    let m = serde_json::to_value(to_messages_request(&req, "m", false).unwrap()).unwrap();
    assert_eq!(
        m["messages"][1]["content"][0],
        json!({"type": "thinking", "thinking": "adding", "signature": "sig-1"})
    );
    assert_eq!(
        m["messages"][3]["content"],
        json!([{"type": "text", "text": "6"}])
    );
    assert_eq!(
        m["thinking"],
        json!({"type": "enabled", "budget_tokens": 1024})
    );
    assert!(m["max_tokens"].as_u64().unwrap() > 1024);
}

#[test]
fn requests_anthropic_cannot_serve_are_client_errors() {
    let req =
        request(json!({"model": "m", "n": 2, "messages": [{"role": "user", "content": "hi"}]}));
    let e = to_messages_request(&req, "m", false).unwrap_err();
    assert!(!e.retryable());
    assert!(matches!(e, UpstreamError::Unsupported { param: Some(ref p), .. } if p == "n"));
    let req = request(
        json!({"model": "m", "messages": [{"role": "user", "content": [{"type": "input_audio", "input_audio": {}}]}]}),
    );
    assert!(matches!(
        to_messages_request(&req, "m", false),
        Err(UpstreamError::Unsupported { .. })
    ));
}

#[test]
fn response_translation_keeps_thinking_tools_and_cache_usage() {
    let message: MessagesResponse = serde_json::from_value(json!({
        "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
        "content": [
            {"type": "thinking", "thinking": "Let me look.", "signature": "sig-x"},
            {"type": "text", "text": "Checking."},
            {"type": "tool_use", "id": "toolu_9", "name": "weather", "input": {"city": "Paris"}},
            {"type": "server_tool_use", "id": "srv", "name": "web_search", "input": {}}
        ],
        "stop_reason": "tool_use",
        "usage": {"input_tokens": 10, "output_tokens": 7, "cache_read_input_tokens": 100, "cache_creation_input_tokens": 5}
    }))
    .unwrap();
    let r = serde_json::to_value(from_messages_response(message, None)).unwrap();
    let msg = &r["choices"][0]["message"];
    assert_eq!(r["object"], "chat.completion");
    assert_eq!(r["choices"][0]["finish_reason"], "tool_calls");
    assert_eq!(msg["content"], "Checking.");
    assert_eq!(msg["reasoning_content"], "Let me look.");
    assert_eq!(msg["thinking_blocks"][0]["signature"], "sig-x");
    assert_eq!(
        msg["tool_calls"][0]["function"],
        json!({"name": "weather", "arguments": "{\"city\":\"Paris\"}"})
    );
    assert_eq!(r["usage"]["prompt_tokens"], 115);
    assert_eq!(r["usage"]["completion_tokens"], 7);
    assert_eq!(r["usage"]["total_tokens"], 122);
    assert_eq!(r["usage"]["prompt_tokens_details"]["cached_tokens"], 100);
}

#[test]
fn recorded_text_stream_becomes_well_formed_chunks() {
    let chunks = replay("anthropic-text.jsonl");
    assert_eq!(
        chunks[0]["choices"][0]["delta"],
        json!({"role": "assistant", "content": ""})
    );
    let text: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(
        text,
        "Hello! I'm doing well, thank you for asking. How are you doing today? Is there anything I can help you with?"
    );
    let finish = &chunks[chunks.len() - 2];
    assert_eq!(finish["choices"][0]["finish_reason"], "stop");
    assert_eq!(finish["choices"][0]["delta"], json!({}));
    let usage = &chunks[chunks.len() - 1];
    assert_eq!(usage["choices"], json!([]));
    assert_eq!(usage["usage"]["prompt_tokens"], 12);
    assert_eq!(usage["usage"]["completion_tokens"], 30);
    assert!(
        chunks
            .iter()
            .all(|c| c["model"] == "claude-sonnet-4-5-20250929")
    );
    assert_eq!(
        chunks
            .iter()
            .filter(|c| c["choices"][0]["delta"].get("role").is_some())
            .count(),
        1
    );
}

#[test]
fn recorded_thinking_stream_keeps_reasoning_and_its_signature() {
    let chunks = replay("anthropic-thinking.jsonl");
    let reasoning: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["reasoning_content"].as_str())
        .collect();
    assert!(reasoning.starts_with("The previous"), "{reasoning}");
    let signed: Vec<_> = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["thinking_blocks"].as_array())
        .collect();
    assert_eq!(signed.len(), 1);
    assert_eq!(signed[0][0]["thinking"], reasoning.as_str());
    assert!(
        signed[0][0]["signature"]
            .as_str()
            .unwrap()
            .starts_with("Ev")
    );
    // Reasoning comes before content, one kind per chunk.
    let first_content = chunks
        .iter()
        .position(|c| {
            c["choices"][0]["delta"]["content"]
                .as_str()
                .is_some_and(|s| !s.is_empty())
        })
        .unwrap();
    let last_reasoning = chunks
        .iter()
        .rposition(|c| c["choices"][0]["delta"]["reasoning_content"].is_string())
        .unwrap();
    assert!(last_reasoning < first_content);
    for c in &chunks {
        let delta = c["choices"][0]["delta"].as_object();
        let kinds = delta.map_or(0, |d| {
            [
                "content",
                "reasoning_content",
                "tool_calls",
                "thinking_blocks",
            ]
            .iter()
            .filter(|k| d.get(**k).is_some_and(|v| v != ""))
            .count()
        });
        assert!(kinds <= 1, "mixed delta: {c}");
    }
}

#[test]
fn recorded_tool_stream_streams_arguments_in_openai_shape() {
    let chunks = replay("anthropic-tool-use.jsonl");
    let calls: Vec<&serde_json::Value> = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["tool_calls"].get(0))
        .collect();
    assert!(calls[0]["id"].as_str().unwrap().starts_with("toolu_"));
    assert_eq!(calls[0]["type"], "function");
    assert_eq!(calls[0]["function"]["arguments"], "");
    let args: String = calls[1..]
        .iter()
        .map(|c| {
            assert!(
                c.get("id").is_none() && c["function"].get("name").is_none(),
                "only arguments after the first delta: {c}"
            );
            c["function"]["arguments"].as_str().unwrap()
        })
        .collect();
    serde_json::from_str::<serde_json::Value>(&args).unwrap();
    assert_eq!(
        chunks[chunks.len() - 2]["choices"][0]["finish_reason"],
        "tool_calls"
    );
}

#[test]
fn an_error_event_or_a_cut_stream_is_an_upstream_error() {
    let mut t = StreamTranslator::new("m");
    let mut out = Vec::new();
    t.event(r#"{"type":"message_start","message":{"id":"msg_1","model":"m","content":[],"usage":{"input_tokens":1}}}"#, &mut out).unwrap();
    let e = t
        .event(
            r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
            &mut out,
        )
        .unwrap_err();
    assert_eq!(e.status_code(), Some(529));
    assert!(e.retryable());
    let mut cut = StreamTranslator::new("m");
    cut.event(
        r#"{"type":"message_start","message":{"id":"msg_1","model":"m","content":[],"usage":{}}}"#,
        &mut out,
    )
    .unwrap();
    assert!(matches!(cut.finish(&mut out), Err(UpstreamError::Io(_))));
}

#[test]
fn interleaved_thinking_blocks_arrive_together_in_one_delta() {
    let mut t = StreamTranslator::new("m");
    let mut out = Vec::new();
    let events = [
        r#"{"type":"message_start","message":{"id":"msg_1","model":"m","content":[],"usage":{"input_tokens":3}}}"#,
        r#"{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}"#,
        r#"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"First."}}"#,
        r#"{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"sig1"}}"#,
        r#"{"type":"content_block_stop","index":0}"#,
        r#"{"type":"content_block_start","index":1,"content_block":{"type":"redacted_thinking","data":"opaque"}}"#,
        r#"{"type":"content_block_stop","index":1}"#,
        r#"{"type":"content_block_start","index":2,"content_block":{"type":"thinking","thinking":"","signature":""}}"#,
        r#"{"type":"content_block_delta","index":2,"delta":{"type":"thinking_delta","thinking":" Second."}}"#,
        r#"{"type":"content_block_delta","index":2,"delta":{"type":"signature_delta","signature":"sig2"}}"#,
        r#"{"type":"content_block_stop","index":2}"#,
        r#"{"type":"content_block_start","index":3,"content_block":{"type":"text","text":""}}"#,
        r#"{"type":"content_block_delta","index":3,"delta":{"type":"text_delta","text":"Done."}}"#,
        r#"{"type":"content_block_stop","index":3}"#,
        r#"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":9}}"#,
        r#"{"type":"message_stop"}"#,
    ];
    for e in events {
        t.event(e, &mut out).unwrap();
    }
    let chunks: Vec<serde_json::Value> = out
        .iter()
        .map(|c| serde_json::to_value(c).unwrap())
        .collect();
    let blocks: Vec<&serde_json::Value> = chunks
        .iter()
        .filter(|c| c["choices"][0]["delta"].get("thinking_blocks").is_some())
        .collect();
    assert_eq!(blocks.len(), 1, "one delta carries every block");
    assert_eq!(
        blocks[0]["choices"][0]["delta"]["thinking_blocks"],
        json!([
            {"type": "thinking", "thinking": "First.", "signature": "sig1"},
            {"type": "redacted_thinking", "data": "opaque"},
            {"type": "thinking", "thinking": " Second.", "signature": "sig2"}
        ])
    );
    let text_at = chunks
        .iter()
        .position(|c| c["choices"][0]["delta"]["content"] == "Done.")
        .unwrap();
    let blocks_at = chunks
        .iter()
        .position(|c| c["choices"][0]["delta"].get("thinking_blocks").is_some())
        .unwrap();
    let finish_at = chunks
        .iter()
        .position(|c| c["choices"][0]["finish_reason"] == "stop")
        .unwrap();
    assert!(text_at < blocks_at && blocks_at < finish_at);
}

#[test]
fn temperature_wins_over_top_p_and_thinking_drops_both() {
    let both = request(
        json!({"model": "m", "temperature": 0.2, "top_p": 0.9, "messages": [{"role": "user", "content": "x"}]}),
    );
    let m = serde_json::to_value(to_messages_request(&both, "m", false).unwrap()).unwrap();
    assert_eq!(
        (m["temperature"].as_f64(), m.get("top_p")),
        (Some(0.2), None)
    );
    let only_top_p = request(
        json!({"model": "m", "top_p": 0.9, "messages": [{"role": "user", "content": "x"}]}),
    );
    let m = serde_json::to_value(to_messages_request(&only_top_p, "m", false).unwrap()).unwrap();
    assert_eq!(m["top_p"], 0.9);
    let thinking = request(
        json!({"model": "m", "temperature": 0.2, "reasoning_effort": "high", "messages": [{"role": "user", "content": "x"}]}),
    );
    let m = serde_json::to_value(to_messages_request(&thinking, "m", false).unwrap()).unwrap();
    assert!(m.get("temperature").is_none() && m["thinking"]["budget_tokens"] == 16384);
}

fn person_format() -> serde_json::Value {
    json!({"type": "json_schema", "json_schema": {
        "name": "person",
        "schema": {"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}}, "required": ["name", "age"]},
        "strict": true
    }})
}

#[test]
fn json_schemas_use_native_structured_output_where_the_model_has_it() {
    let req = request(json!({
        "model": "m",
        "messages": [{"role": "user", "content": "Ada, 36"}],
        "response_format": person_format()
    }));
    let m = to_messages_request(&req, "claude-sonnet-4-5-20250929", false).unwrap();
    assert_eq!(m.answer_tool, None);
    let m = serde_json::to_value(m).unwrap();
    assert_eq!(
        m["output_config"],
        json!({"format": {"type": "json_schema", "schema": person_format()["json_schema"]["schema"]}})
    );
    assert!(
        m.get("tools").is_none() && m.get("tool_choice").is_none(),
        "{m}"
    );
    assert!(m.get("answer_tool").is_none(), "never sent: {m}");
}

#[test]
fn older_models_get_the_schema_as_a_forced_tool() {
    let req = request(json!({
        "model": "m",
        "messages": [{"role": "user", "content": "Ada, 36"}],
        "response_format": person_format()
    }));
    let m = to_messages_request(&req, "claude-3-5-haiku-20241022", false).unwrap();
    assert_eq!(m.answer_tool.as_deref(), Some("person"));
    let m = serde_json::to_value(m).unwrap();
    assert!(m.get("output_config").is_none(), "{m}");
    assert_eq!(m["tools"][0]["name"], "person");
    assert_eq!(
        m["tools"][0]["input_schema"],
        person_format()["json_schema"]["schema"]
    );
    assert_eq!(m["tool_choice"], json!({"type": "tool", "name": "person"}));

    // json_object has no schema: any object, through a tool, whatever the model.
    let req = request(json!({
        "model": "m",
        "messages": [{"role": "user", "content": "x"}],
        "response_format": {"type": "json_object"}
    }));
    let m = to_messages_request(&req, "claude-sonnet-4-5", false).unwrap();
    assert_eq!(m.answer_tool.as_deref(), Some("json_response"));
    let m = serde_json::to_value(m).unwrap();
    assert_eq!(m["tools"][0]["input_schema"], json!({"type": "object"}));
}

#[test]
fn a_forced_answer_tool_leaves_the_clients_own_tools_callable() {
    let req = request(json!({
        "model": "m",
        "messages": [{"role": "user", "content": "x"}],
        "tools": [{"type": "function", "function": {"name": "person", "parameters": {"type": "object"}}}],
        "response_format": person_format()
    }));
    let m = to_messages_request(&req, "claude-3-haiku-20240307", false).unwrap();
    // The client's tool keeps its name; the answer tool steps aside.
    assert_eq!(m.answer_tool.as_deref(), Some("person_answer"));
    let m = serde_json::to_value(m).unwrap();
    assert_eq!(m["tools"][0]["name"], "person");
    assert_eq!(m["tools"][1]["name"], "person_answer");
    assert_eq!(m["tool_choice"], json!({"type": "any"}));
}

#[test]
fn what_cannot_be_honoured_is_refused_by_name() {
    let refused = |extra: serde_json::Value, model: &str| {
        let mut body = json!({"model": "m", "messages": [{"role": "user", "content": "x"}]});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        match to_messages_request(&request(body), model, false) {
            Err(UpstreamError::Unsupported { param, .. }) => param,
            other => panic!("expected a refusal, got {other:?}"),
        }
    };
    assert_eq!(
        refused(
            json!({"response_format": person_format(), "reasoning_effort": "high"}),
            "claude-3-7-sonnet-20250219"
        )
        .as_deref(),
        Some("response_format")
    );
    assert_eq!(
        refused(json!({"logprobs": true}), "claude-sonnet-4-5").as_deref(),
        Some("logprobs")
    );
    assert_eq!(
        refused(
            json!({"response_format": {"type": "json_schema", "json_schema": {"name": "x"}}}),
            "claude-sonnet-4-5"
        )
        .as_deref(),
        Some("response_format.json_schema.schema")
    );
    assert_eq!(
        refused(
            json!({"response_format": {"type": "yaml"}}),
            "claude-sonnet-4-5"
        )
        .as_deref(),
        Some("response_format.type")
    );
    // Native structured output goes with extended thinking.
    let req = request(json!({
        "model": "m", "messages": [{"role": "user", "content": "x"}],
        "response_format": person_format(), "reasoning_effort": "low"
    }));
    assert!(to_messages_request(&req, "claude-opus-4-5", false).is_ok());
}

#[test]
fn the_answer_tools_call_comes_back_as_the_message_content() {
    let message: MessagesResponse = serde_json::from_value(json!({
        "id": "msg_1", "model": "claude-3-5-haiku-20241022", "stop_reason": "tool_use",
        "content": [{"type": "tool_use", "id": "toolu_1", "name": "person", "input": {"name": "Ada", "age": 36}}],
        "usage": {"input_tokens": 10, "output_tokens": 5}
    }))
    .unwrap();
    let r = serde_json::to_value(from_messages_response(message.clone(), Some("person"))).unwrap();
    let choice = &r["choices"][0];
    assert_eq!(choice["finish_reason"], "stop");
    assert!(choice["message"].get("tool_calls").is_none(), "{r}");
    let content: serde_json::Value =
        serde_json::from_str(choice["message"]["content"].as_str().unwrap()).unwrap();
    assert_eq!(content, json!({"name": "Ada", "age": 36}));
    // Without a forced answer tool the same block is an ordinary tool call.
    let r = serde_json::to_value(from_messages_response(message, None)).unwrap();
    assert_eq!(r["choices"][0]["finish_reason"], "tool_calls");
}

#[test]
fn a_streamed_answer_tool_call_streams_as_content() {
    let mut t = StreamTranslator::new("m").answering_with(Some("person".into()));
    let mut out = Vec::new();
    for event in [
        json!({"type": "message_start", "message": {"id": "msg_1", "model": "m", "usage": {"input_tokens": 3}}}),
        json!({"type": "content_block_start", "index": 0, "content_block": {"type": "tool_use", "id": "toolu_1", "name": "person", "input": {}}}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "input_json_delta", "partial_json": "{\"name\": \"Ada\","}}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "input_json_delta", "partial_json": " \"age\": 36}"}}),
        json!({"type": "content_block_stop", "index": 0}),
        json!({"type": "message_delta", "delta": {"stop_reason": "tool_use"}, "usage": {"output_tokens": 9}}),
        json!({"type": "message_stop"}),
    ] {
        t.event(&event.to_string(), &mut out).unwrap();
    }
    t.finish(&mut out).unwrap();
    let chunks: Vec<serde_json::Value> = out
        .iter()
        .map(|c| serde_json::to_value(c).unwrap())
        .collect();
    let text: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(text, "{\"name\": \"Ada\", \"age\": 36}");
    assert!(
        chunks
            .iter()
            .all(|c| c["choices"][0]["delta"].get("tool_calls").is_none()),
        "{chunks:?}"
    );
    let finish: Vec<&str> = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["finish_reason"].as_str())
        .collect();
    assert_eq!(finish, ["stop"]);
}

#[test]
fn knows_which_claude_models_have_native_structured_output() {
    for yes in [
        "claude-sonnet-4-5",
        "claude-sonnet-4-5-20250929",
        "claude-opus-4-1-20250805",
        "claude-haiku-4-5",
        "beta/claude-opus-4-5",
        "claude-sonnet-5",
    ] {
        assert!(native_structured_output(yes), "{yes}");
    }
    for no in [
        "claude-sonnet-4-20250514",
        "claude-opus-4-20250514",
        "claude-3-7-sonnet-20250219",
        "claude-3-5-haiku-20241022",
        "claude-3-opus-20240229",
        "some-local-model",
    ] {
        assert!(!native_structured_output(no), "{no}");
    }
}
