//! MCP end to end, with rmcp on both sides: gateway A uses gateway B's built-in `/mcp` server as
//! an MCP server of its own ("sy"), so its assistant's tool calls travel over real streamable
//! HTTP into B's tools, and a cancel travels back as `notifications/cancelled`.

use std::time::Duration;

use serde_json::{Value, json};
use switchyard_testkit::{Reply, Script, ToolCallSpec};

use crate::harness::{Harness, start, user};

/// B serves `/mcp`; A has B as MCP server "sy" and an assistant "helper" that uses it.
async fn pair(assistant_extra: &str) -> (Harness, Harness) {
    let b = start("").await;
    let a = start(&format!(
        r#"
[[mcp_servers]]
name = "sy"
url = "{}/mcp"

[[assistants]]
name = "helper"
model = "alpha/gpt-4o-mini"
system = "You are terse."
servers = ["sy"]
{assistant_extra}
"#,
        b.root()
    ))
    .await;
    (a, b)
}

fn tool_call(name: &str, arguments: Value) -> Script {
    Script::Reply(Reply {
        text: Some("Checking.".into()),
        tool_calls: vec![ToolCallSpec::new(name, arguments)],
        ..Reply::default()
    })
}

/// The `switchyard` loop events of a stream, in order.
fn events(data: &[String]) -> Vec<Value> {
    data.iter()
        .filter_map(|d| serde_json::from_str::<Value>(d).ok())
        .filter_map(|v| v.get("switchyard").cloned())
        .collect()
}

/// The request log's steps for the newest request.
async fn last_steps(h: &Harness, rows: usize) -> (Value, Vec<Value>) {
    let page = h.wait_for_rows(rows).await;
    let id = page["requests"][0]["id"].as_str().unwrap().to_owned();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let (status, detail) = h.admin(&format!("/admin/requests/{id}")).await;
        assert_eq!(status, 200, "{detail}");
        let steps = detail["steps"].as_array().cloned().unwrap_or_default();
        if !steps.is_empty() || std::time::Instant::now() > deadline {
            return (detail, steps);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn an_assistant_calls_a_real_mcp_tool_and_answers_with_its_result() {
    let (a, _b) = pair("").await;
    a.alpha.push(tool_call("sy__list_models", json!({})));
    let (status, _, body) = a
        .chat(json!({"model": "helper", "messages": user("which models are there?")}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["model"], "helper");
    let text = body["choices"][0]["message"]["content"].as_str().unwrap();
    // B's list_models tool answered with B's model ids, and the fake read them back.
    assert!(text.starts_with("Checking.\n\nTool said: "), "{text}");
    assert!(
        text.contains("alpha/gpt-4o-mini") && text.contains("smart"),
        "{text}"
    );
    assert_eq!(body["choices"][0]["finish_reason"], "stop");

    let upstream = a.alpha.requests();
    assert_eq!(upstream.len(), 2, "one model call per round");
    let first = upstream[0].json().unwrap();
    assert_eq!(first["messages"][0]["role"], "system");
    assert_eq!(first["messages"][0]["content"], "You are terse.");
    let mut offered: Vec<&str> = first["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["function"]["name"].as_str().unwrap())
        .collect();
    offered.sort_unstable();
    assert_eq!(
        offered,
        [
            "sy__chat",
            "sy__generate_image",
            "sy__list_models",
            "sy__understand_image"
        ]
    );
    let second = upstream[1].json().unwrap();
    let messages = second["messages"].as_array().unwrap();
    let tool_msg = messages.last().unwrap();
    assert_eq!(tool_msg["role"], "tool");
    assert_eq!(
        tool_msg["tool_call_id"],
        messages[messages.len() - 2]["tool_calls"][0]["id"]
    );

    let (_, steps) = last_steps(&a, 1).await;
    let kinds: Vec<&str> = steps.iter().map(|s| s["type"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        ["start", "model", "tool_call", "tool_result", "model"],
        "{steps:?}"
    );
    assert_eq!(steps[3]["status"], "ok");
    assert_eq!(steps[3]["name"], "sy__list_models");

    let metrics = metrics(&a).await;
    assert!(
        metrics.contains(
            "switchyard_mcp_tool_calls_total{server=\"sy\",tool=\"list_models\",outcome=\"ok\"} 1"
        ),
        "{metrics}"
    );
    assert!(
        metrics.contains("switchyard_mcp_server_up{server=\"sy\",state=\"running\"} 1"),
        "{metrics}"
    );
}

async fn metrics(h: &Harness) -> String {
    h.client
        .get(format!("{}/metrics", h.root()))
        .bearer_auth(crate::harness::ADMIN_TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_streamed_loop_shows_each_tool_call_and_result_between_the_text() {
    let (a, _b) = pair("").await;
    a.alpha.push(tool_call(
        "sy__chat",
        json!({"model": "alpha/gpt-4o-mini", "prompt": "ping"}),
    ));
    let (status, _, data) = a
        .stream(json!({"model": "helper", "stream": true, "messages": user("ask it")}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(data.last().map(String::as_str), Some("[DONE]"));
    let ev = events(&data);
    assert_eq!(ev.len(), 2, "{ev:?}");
    assert_eq!(ev[0]["type"], "tool_call");
    assert_eq!(ev[0]["name"], "sy__chat");
    assert_eq!(ev[0]["arguments"]["prompt"], "ping");
    assert_eq!(ev[1]["type"], "tool_result");
    assert_eq!(ev[1]["status"], "ok");
    // B's chat tool asked B's fake, which echoed the prompt.
    assert_eq!(ev[1]["content"], "You said: ping");
    let raw: String = data.iter().map(|d| format!("data: {d}\n\n")).collect();
    let text = crate::harness::stream_text(&raw);
    assert_eq!(text, "Checking.\n\nTool said: You said: ping");
}

#[tokio::test]
async fn tools_the_client_declares_go_back_to_the_client() {
    let (a, _b) = pair("").await;
    a.alpha
        .push(tool_call("get_weather", json!({"city": "Oslo"})));
    let (status, _, body) = a
        .chat(json!({
            "model": "helper",
            "messages": user("weather?"),
            "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]
        }))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["choices"][0]["finish_reason"], "tool_calls");
    let calls = body["choices"][0]["message"]["tool_calls"]
        .as_array()
        .unwrap();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0]["function"]["name"], "get_weather");
    assert_eq!(
        a.alpha.requests().len(),
        1,
        "the gateway must not run the client's tool"
    );
}

#[tokio::test]
async fn leaving_mid_tool_call_cancels_it_on_the_mcp_server() {
    let (a, b) = pair("").await;
    // A's model calls B's chat tool; B's upstream never answers, so the call hangs.
    a.alpha.push(tool_call(
        "sy__chat",
        json!({"model": "alpha/gpt-4o-mini", "prompt": "slow"}),
    ));
    b.alpha.push(Script::StallBeforeHeaders);
    let mut r = a
        .post(
            "/chat/completions",
            json!({"model": "helper", "stream": true, "messages": user("go")}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let mut seen = String::new();
    while !seen.contains("\"tool_call\"") {
        let chunk = tokio::time::timeout(Duration::from_secs(10), r.chunk())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(b.alpha.wait_for_requests(1, Duration::from_secs(10)).await);
    drop(r);
    // notifications/cancelled reached B, whose tool dropped its upstream request.
    assert!(
        b.alpha
            .wait_for_disconnect(Duration::from_secs(10))
            .await
            .is_some(),
        "the MCP server's upstream call must be cancelled when the client leaves"
    );
    let (detail, steps) = last_steps(&a, 1).await;
    assert_eq!(detail["status"], 499, "{detail}");
    let cancelled = steps
        .iter()
        .find(|s| s["type"] == "tool_result")
        .expect("a tool_result step");
    assert_eq!(cancelled["status"], "cancelled", "{steps:?}");
    assert!(metrics(&a).await.contains(
        "switchyard_mcp_tool_calls_total{server=\"sy\",tool=\"chat\",outcome=\"cancelled\"} 1"
    ));
}

#[tokio::test]
async fn a_declined_call_is_not_run_and_the_model_hears_why() {
    let (a, b) = pair("").await;
    a.alpha.push(tool_call("sy__list_models", json!({})));
    let mut r = a
        .post(
            "/chat/completions",
            json!({"model": "alpha/gpt-4o-mini", "stream": true, "messages": user("go"),
                   "agent": {"servers": ["sy"], "approval": true}}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let mut seen = String::new();
    let approval_id = loop {
        let chunk = tokio::time::timeout(Duration::from_secs(10), r.chunk())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk));
        if let Some(ev) = events(&crate::harness::sse_data(&seen))
            .into_iter()
            .find(|e| e["type"] == "approval_required")
        {
            break ev["approval_id"].as_str().unwrap().to_owned();
        }
    };
    let (status, _) = a
        .admin_send(
            reqwest::Method::POST,
            &format!("/admin/agent/approvals/{approval_id}"),
            Some(json!({"approve": false})),
        )
        .await;
    assert_eq!(status, 204);
    // Answering twice finds nothing waiting.
    let (status, body) = a
        .admin_send(
            reqwest::Method::POST,
            &format!("/admin/agent/approvals/{approval_id}"),
            Some(json!({"approve": true})),
        )
        .await;
    assert_eq!(status, 404, "{body}");
    let rest = r.text().await.unwrap();
    seen.push_str(&rest);
    let ev = events(&crate::harness::sse_data(&seen));
    let result = ev.iter().find(|e| e["type"] == "tool_result").unwrap();
    assert_eq!(result["status"], "denied");
    let text = crate::harness::stream_text(&seen);
    assert!(
        text.ends_with("Tool said: The user declined this tool call."),
        "{text}"
    );
    // B never saw a tools/call for list_models: its log has no request at all.
    assert_eq!(b.alpha.requests().len(), 0);
}

#[tokio::test]
async fn agent_mode_refuses_unknown_servers_and_approval_without_streaming() {
    let (a, _b) = pair("").await;
    let (status, _, body) = a
        .chat(json!({"model": "alpha/gpt-4o-mini", "messages": user("x"),
                     "agent": {"servers": ["nope"]}}))
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["param"], "agent.servers");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("configured: sy"),
        "{body}"
    );
    let (status, _, body) = a
        .chat(json!({"model": "alpha/gpt-4o-mini", "messages": user("x"),
                     "agent": {"approval": true}}))
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["param"], "agent.approval");
    assert_eq!(a.alpha.requests().len(), 0, "nothing reached the upstream");
}

#[tokio::test]
async fn assistants_are_models_and_mcp_status_is_reported() {
    let (a, _b) = pair("description = \"Knows the gateway\"").await;
    let (status, list) = a.admin("/v1/models").await;
    assert_eq!(status, 200);
    let helper = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == "helper")
        .expect("the assistant is listed");
    assert_eq!(helper["assistant"]["model"], "alpha/gpt-4o-mini");
    assert_eq!(helper["assistant"]["servers"], json!(["sy"]));
    assert_eq!(helper["assistant"]["description"], "Knows the gateway");
    // Nothing started yet: servers start on first use.
    let (_, servers) = a.admin("/admin/mcp/servers").await;
    assert_eq!(servers["data"][0]["status"]["state"], "idle");
    let (status, tools) = a.admin("/admin/mcp/servers/sy/tools").await;
    assert_eq!(status, 200, "{tools}");
    assert_eq!(tools["data"].as_array().unwrap().len(), 4);
    let (_, statsz) = a.admin("/statsz").await;
    assert_eq!(statsz["mcp_servers"][0]["name"], "sy");
    assert_eq!(statsz["mcp_servers"][0]["state"], "running");
    assert_eq!(
        statsz["mcp_servers"][0]["server_info"]["name"],
        "switchyard"
    );
}

#[tokio::test]
async fn a_round_fails_over_like_any_chat_when_its_first_target_is_down() {
    let (a, _b) = pair("").await;
    // An assistant over the alias "smart": alpha fails before its first token, beta answers.
    let (status, body) = a
        .admin_send(
            reqwest::Method::POST,
            "/admin/assistants",
            Some(json!({"name": "sturdy", "model": "smart", "servers": ["sy"]})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = a
        .admin_send(
            reqwest::Method::POST,
            "/admin/assistants",
            Some(json!({"name": "sturdy", "model": "smart"})),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["param"], "name", "a form can mark the field");
    a.alpha
        .push(crate::harness::upstream_error(503, "overloaded"));
    let (status, _, data) = a
        .stream(json!({"model": "sturdy", "stream": true, "messages": user("hello")}))
        .await;
    assert_eq!(status, 200, "{data:?}");
    let raw: String = data.iter().map(|d| format!("data: {d}\n\n")).collect();
    assert_eq!(crate::harness::stream_text(&raw), "You said: hello");
    assert_eq!(a.beta.requests().len(), 1, "beta answered the round");
    let (_, steps) = last_steps(&a, 1).await;
    assert_eq!(steps[1]["target"], "beta/claude-sonnet-4-5", "{steps:?}");
}

/// A bare MCP client over HTTP, as hostile or careless callers drive `/mcp`.
mod raw {
    use serde_json::{Value, json};

    use crate::harness::Harness;

    pub struct Session<'a> {
        pub h: &'a Harness,
        pub token: Option<&'a str>,
        pub id: String,
    }

    /// One POST to `/mcp`: the status, the session header, and the JSON-RPC answer (from the
    /// event stream) or the JSON body.
    pub async fn post(
        h: &Harness,
        token: Option<&str>,
        session: Option<&str>,
        body: Value,
    ) -> (u16, Option<String>, Value) {
        let mut r = h
            .client
            .post(format!("{}/mcp", h.root()))
            .header("accept", "application/json, text/event-stream")
            .json(&body);
        if let Some(token) = token {
            r = r.bearer_auth(token);
        }
        if let Some(session) = session {
            r = r.header("mcp-session-id", session);
        }
        let r = r.send().await.unwrap();
        let status = r.status().as_u16();
        let id = r
            .headers()
            .get("mcp-session-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let text = r.text().await.unwrap();
        let answer = serde_json::from_str(&text).unwrap_or_else(|_| {
            crate::harness::sse_data(&text)
                .iter()
                .filter_map(|d| serde_json::from_str::<Value>(d).ok())
                .find(|v| v.get("id").is_some())
                .unwrap_or(Value::Null)
        });
        (status, id, answer)
    }

    pub async fn open<'a>(h: &'a Harness, token: Option<&'a str>) -> Session<'a> {
        let (status, id, answer) = post(
            h,
            token,
            None,
            json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
                "protocolVersion": "2025-06-18", "capabilities": {},
                "clientInfo": {"name": "it", "version": "1"}}}),
        )
        .await;
        assert_eq!(status, 200, "{answer}");
        let id = id.unwrap();
        let (status, _, _) = post(
            h,
            token,
            Some(&id),
            json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        )
        .await;
        assert_eq!(status, 202);
        Session { h, token, id }
    }

    impl Session<'_> {
        pub async fn request(&self, method: &str, params: Value) -> (u16, Value) {
            let (status, _, answer) = post(
                self.h,
                self.token,
                Some(&self.id),
                json!({"jsonrpc": "2.0", "id": 2, "method": method, "params": params}),
            )
            .await;
            (status, answer)
        }

        /// A tool call's result: (is it an error, its text).
        pub async fn call(&self, tool: &str, arguments: Value) -> (bool, String) {
            let (status, answer) = self
                .request("tools/call", json!({"name": tool, "arguments": arguments}))
                .await;
            assert_eq!(status, 200, "{answer}");
            let result = &answer["result"];
            assert!(result.is_object(), "{answer}");
            (
                result["isError"].as_bool().unwrap_or(false),
                result["content"][0]["text"]
                    .as_str()
                    .unwrap_or("")
                    .to_owned(),
            )
        }
    }

    /// The header of a 640x480 PNG: all `understand_image` reads of it.
    pub fn png() -> Vec<u8> {
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        png.extend_from_slice(&640u32.to_be_bytes());
        png.extend_from_slice(&480u32.to_be_bytes());
        png.extend_from_slice(&[8, 6, 0, 0, 0]);
        png
    }
}

const APP_TOKEN: &str = "sk-sy-test-app-token-0123456789abcdefghijklmnopqrs";

fn app_key(models: &str) -> String {
    format!(
        "[[keys]]\nname = \"app\"\nhash = \"{}\"\nrole = \"user\"\nmodels = {models}\n",
        switchyard_core::access::KeyHash::of(APP_TOKEN)
    )
}

#[tokio::test]
async fn tools_hold_the_callers_key_to_its_models_and_each_call_is_logged() {
    let h = start(&app_key(r#"["smart"]"#)).await;
    let s = raw::open(&h, Some(APP_TOKEN)).await;

    // Another model than the key's: refused as /v1 refuses it, and nothing goes upstream.
    let (is_error, text) = s
        .call(
            "chat",
            json!({"model": "alpha/gpt-4o-mini", "prompt": "hi"}),
        )
        .await;
    assert!(is_error, "{text}");
    assert!(text.contains("may not use the model"), "{text}");
    let v1 = h
        .client
        .post(format!("{}/chat/completions", h.base))
        .bearer_auth(APP_TOKEN)
        .json(&json!({"model": "alpha/gpt-4o-mini", "messages": user("hi")}))
        .send()
        .await
        .unwrap();
    assert_eq!(v1.status(), 403, "/v1 refuses the same call");
    assert_eq!(h.alpha.requests().len(), 0, "no upstream call");
    let (is_error, text) = s
        .call(
            "understand_image",
            json!({"image": "/etc/passwd", "model": "alpha/gpt-4o-mini"}),
        )
        .await;
    assert!(is_error && text.contains("may not use the model"), "{text}");

    // Its own model works, and list_models shows only what the key may use.
    let (is_error, text) = s
        .call("chat", json!({"model": "smart", "prompt": "hi"}))
        .await;
    assert!(!is_error, "{text}");
    assert_eq!(text, "You said: hi");
    assert_eq!(h.alpha.requests().len(), 1);
    let (_, text) = s.call("list_models", json!({})).await;
    assert_eq!(text, "smart");

    // One row per model-using call, marked as /mcp and the tool, with the caller's key.
    let page = h.wait_for_rows(4).await;
    let rows: Vec<&Value> = page["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["endpoint"].as_str().unwrap().starts_with("/mcp"))
        .collect();
    assert_eq!(rows.len(), 3, "{page}");
    // Newest first.
    assert_eq!(rows[0]["endpoint"], "/mcp/tools/chat");
    assert_eq!(rows[0]["status"], 200);
    assert_eq!(rows[0]["key_name"], "app");
    assert_eq!(rows[0]["requested_model"], "smart");
    assert_eq!(rows[0]["provider"], "alpha");
    assert_eq!(rows[1]["endpoint"], "/mcp/tools/understand_image");
    assert_eq!(rows[1]["status"], 403);
    assert_eq!(rows[2]["endpoint"], "/mcp/tools/chat");
    assert_eq!(rows[2]["status"], 403);
    assert_eq!(rows[2]["requested_model"], "alpha/gpt-4o-mini");
}

#[tokio::test]
async fn a_paused_gateway_and_a_read_only_key_get_no_tool_calls() {
    let ro = "sk-sy-test-readonly-token-0123456789abcdefghijklmno";
    let h = start(&format!(
        "[[keys]]\nname = \"dash\"\nhash = \"{}\"\nrole = \"read-only\"\n",
        switchyard_core::access::KeyHash::of(ro)
    ))
    .await;
    let (status, _, body) = raw::post(
        &h,
        Some(ro),
        None,
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}}),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], "insufficient_role");
    let s = raw::open(&h, None).await;
    h.gateway
        .state()
        .paused
        .store(true, std::sync::atomic::Ordering::Relaxed);
    let (status, body) = s
        .request(
            "tools/call",
            json!({"name": "chat", "arguments": {"model": "smart", "prompt": "hi"}}),
        )
        .await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["code"], "gateway_paused");
    assert_eq!(h.alpha.requests().len(), 0);
}

#[tokio::test]
async fn understand_image_reads_only_the_allowed_folders_and_never_says_what_exists() {
    let pics = tempfile::tempdir().unwrap();
    let h = start(&format!(
        "[mcp]\nimage_folders = [\"{}\"]\n",
        pics.path().display()
    ))
    .await;
    std::fs::write(pics.path().join("cat.png"), raw::png()).unwrap();
    let outside = h.home.path().join("private");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("secret.png"), raw::png()).unwrap();
    let s = raw::open(&h, None).await;
    let ask = |image: String| {
        let s = &s;
        async move {
            s.call(
                "understand_image",
                json!({"image": image, "model": "alpha/gpt-4o-mini"}),
            )
            .await
        }
    };

    let secret = outside.join("secret.png").display().to_string();
    let missing = pics.path().join("nope.png").display().to_string();
    let (e1, outside_text) = ask(secret.clone()).await;
    let (e2, missing_text) = ask(missing.clone()).await;
    assert!(e1 && e2);
    assert!(
        outside_text.contains("not a file this gateway may read"),
        "{outside_text}"
    );
    assert_eq!(
        outside_text.replace(&secret, "PATH"),
        missing_text.replace(&missing, "PATH"),
        "a missing file and a forbidden one must look the same"
    );
    let (e3, system_text) = ask("/etc/shadow".into()).await;
    assert!(e3);
    assert_eq!(
        system_text.replace("/etc/shadow", "PATH"),
        missing_text.replace(&missing, "PATH")
    );
    // `..` out of the allowed folder.
    let dotdot = format!(
        "{}/../{}",
        pics.path().display(),
        secret.trim_start_matches('/')
    );
    let (e4, text) = ask(dotdot).await;
    assert!(
        e4 && text.contains("not a file this gateway may read"),
        "{text}"
    );
    #[cfg(unix)]
    {
        let link = pics.path().join("link.png");
        std::os::unix::fs::symlink(outside.join("secret.png"), &link).unwrap();
        let (e5, text) = ask(link.display().to_string()).await;
        assert!(
            e5 && text.contains("not a file this gateway may read"),
            "{text}"
        );
    }
    assert_eq!(
        h.alpha.requests().len(),
        0,
        "nothing refused reached the model"
    );

    // An image in the allowed folder goes to the model, as a data URL.
    let (is_error, text) = ask(pics.path().join("cat.png").display().to_string()).await;
    assert!(!is_error, "{text}");
    let sent = h.alpha.requests();
    assert_eq!(sent.len(), 1);
    let body = sent[0].json().unwrap();
    let url = body["messages"][0]["content"][1]["image_url"]["url"]
        .as_str()
        .unwrap();
    assert!(url.starts_with("data:image/png;base64,"), "{url}");
    assert!(
        body["messages"][0]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("640x480"),
        "{body}"
    );
}

#[test]
fn image_folders_must_be_absolute_and_not_the_whole_disk() {
    let issues = switchyard_core::Config::from_toml("[mcp]\nimage_folders = [\"pics\", \"/\"]\n")
        .unwrap_err();
    let text: Vec<String> = issues.iter().map(ToString::to_string).collect();
    assert!(text[0].starts_with("mcp.image_folders[0]: "), "{text:?}");
    assert!(text[1].starts_with("mcp.image_folders[1]: "), "{text:?}");
    let err = switchyard_core::Config::from_toml("[mcp]\nimage_folder = [\"/x\"]\n").unwrap_err();
    assert!(err[0].message.contains("unknown field"), "{err:?}");
}

/// A loopback server that answers every request with the PNG, counting requests.
async fn image_server() -> (
    std::net::SocketAddr,
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let hits = std::sync::Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let app = axum::Router::new().fallback(move || {
        counter.fetch_add(1, Ordering::SeqCst);
        async { ([("content-type", "image/png")], raw::png()) }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (addr, hits)
}

#[tokio::test]
async fn understand_image_fetches_local_addresses_only_when_the_user_allows_it() {
    let (addr, hits) = image_server().await;
    let strict = start("").await;
    let s = raw::open(&strict, None).await;
    for url in [
        format!("http://{addr}/cat.png"),
        format!("http://localhost:{}/cat.png", addr.port()),
        format!("http://[::ffff:127.0.0.1]:{}/cat.png", addr.port()),
    ] {
        let (is_error, text) = s
            .call(
                "understand_image",
                json!({"image": url, "model": "alpha/gpt-4o-mini"}),
            )
            .await;
        assert!(is_error, "{url}: {text}");
        assert!(text.contains("mcp.allow_private_urls"), "{url}: {text}");
    }
    assert_eq!(
        hits.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "never connected"
    );
    assert_eq!(strict.alpha.requests().len(), 0);

    let open = start("[mcp]\nallow_private_urls = true\n").await;
    let s = raw::open(&open, None).await;
    let (is_error, text) = s
        .call(
            "understand_image",
            json!({"image": format!("http://localhost:{}/cat.png", addr.port()), "model": "alpha/gpt-4o-mini"}),
        )
        .await;
    assert!(!is_error, "{text}");
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert_eq!(open.alpha.requests().len(), 1);
}

#[tokio::test]
async fn sessions_past_the_cap_end_the_longest_idle_one() {
    let h = start("[mcp]\nmax_sessions = 2\n").await;
    let a = raw::open(&h, None).await;
    let b = raw::open(&h, None).await;
    // `a` is used again, so `b` has been idle longest when `c` arrives.
    assert_eq!(a.request("tools/list", json!({})).await.0, 200);
    let c = raw::open(&h, None).await;
    let (status, body) = b.request("tools/list", json!({})).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"]["code"], "mcp_session_not_found");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("mcp.max_sessions"),
        "{body}"
    );
    for live in [&a, &c] {
        let (status, body) = live.request("tools/list", json!({})).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["result"]["tools"].as_array().unwrap().len(), 4);
    }
}

#[tokio::test]
async fn an_idle_session_ends_by_itself() {
    let h = start("[mcp]\nsession_idle_ms = 300\n").await;
    let s = raw::open(&h, None).await;
    let started = std::time::Instant::now();
    // The session's listening stream closes when the session ends: wait for that, not a clock.
    let listen = h
        .client
        .get(format!("{}/mcp", h.root()))
        .header("accept", "text/event-stream")
        .header("mcp-session-id", &s.id)
        .send()
        .await
        .unwrap();
    assert_eq!(listen.status(), 200);
    let ended = tokio::time::timeout(Duration::from_secs(20), listen.text()).await;
    assert!(
        ended.is_ok(),
        "the session's stream must end once it is idle"
    );
    assert!(started.elapsed() >= Duration::from_millis(300));
    let (status, body) = s.request("tools/list", json!({})).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"]["code"], "mcp_session_not_found");
}

#[tokio::test]
async fn every_refusal_at_mcp_is_json() {
    let h = start("[limits]\nmax_body_bytes = 4096\n").await;
    let url = format!("{}/mcp", h.root());
    let big = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                     "params": {"padding": "x".repeat(8192)}});
    let r = h
        .client
        .post(&url)
        .header("accept", "application/json, text/event-stream")
        .json(&big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("limits.max_body_bytes"),
        "{body}"
    );

    // No session id on a request that needs one.
    let (status, _, body) = raw::post(
        &h,
        None,
        None,
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "mcp_session_required", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Mcp-Session-Id"),
        "{body}"
    );

    // Not JSON at all.
    let r = h
        .client
        .post(&url)
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_json", "{body}");

    // A client that cannot read event streams, and a method MCP does not use.
    let r = h.client.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 406);
    assert!(r.json::<Value>().await.unwrap()["error"]["message"].is_string());
    let r = h.client.put(&url).send().await.unwrap();
    assert_eq!(r.status(), 405);
    assert!(r.headers().contains_key("allow"));
    assert!(r.json::<Value>().await.unwrap()["error"]["message"].is_string());
}

#[tokio::test]
async fn a_generated_image_can_be_understood_from_the_images_folder() {
    let h = start("").await;
    let s = raw::open(&h, None).await;
    let (is_error, paths) = s
        .call(
            "generate_image",
            json!({"prompt": "a red fox", "model": "alpha/gpt-4o-mini"}),
        )
        .await;
    assert!(!is_error, "{paths}");
    let path = std::path::PathBuf::from(paths.lines().next().unwrap());
    assert!(path.starts_with(h.home.path().join("images")), "{paths}");
    let (is_error, text) = s
        .call(
            "understand_image",
            json!({"image": path.display().to_string(), "model": "alpha/gpt-4o-mini"}),
        )
        .await;
    assert!(!is_error, "{text}");
    let sent = h.alpha.requests();
    assert_eq!(sent.len(), 2, "one image generation, one vision call");
    let page = h.wait_for_rows(2).await;
    let endpoints: Vec<&str> = page["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["endpoint"].as_str().unwrap())
        .collect();
    assert_eq!(
        endpoints,
        ["/mcp/tools/understand_image", "/mcp/tools/generate_image"]
    );
    assert_eq!(page["requests"][1]["provider"], "alpha");
    assert_eq!(page["requests"][1]["status"], 200);
}

#[tokio::test]
async fn a_new_session_is_refused_while_every_session_is_answering() {
    let h = start("[mcp]\nmax_sessions = 1\n").await;
    let busy = raw::open(&h, None).await;
    h.alpha.push(Script::StallBeforeHeaders);
    let hanging = busy.call("chat", json!({"model": "smart", "prompt": "slow"}));
    let refused = async {
        assert!(h.alpha.wait_for_requests(1, Duration::from_secs(10)).await);
        let r = h
            .client
            .post(format!("{}/mcp", h.root()))
            .header("accept", "application/json, text/event-stream")
            .json(
                &json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
                "protocolVersion": "2025-06-18", "capabilities": {},
                "clientInfo": {"name": "it", "version": "1"}}}),
            )
            .send()
            .await
            .unwrap();
        let retry_after = r.headers().contains_key("retry-after");
        (
            r.status().as_u16(),
            retry_after,
            r.json::<Value>().await.unwrap(),
        )
    };
    let (status, retry_after, body) = tokio::select! {
        _ = hanging => panic!("the stalled call must not finish"),
        answer = refused => answer,
    };
    assert_eq!(status, 503, "{body}");
    assert!(retry_after);
    assert_eq!(body["error"]["code"], "mcp_sessions_full");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("mcp.max_sessions"),
        "{body}"
    );
}

#[tokio::test]
async fn a_flood_of_initialize_calls_keeps_only_max_sessions_alive() {
    let h = start("[mcp]\nmax_sessions = 8\n").await;
    // Warm up: one session, so lazily started tasks are counted in the baseline.
    drop(raw::open(&h, None).await);
    let metrics = tokio::runtime::Handle::current().metrics();
    let baseline = metrics.num_alive_tasks();
    for _ in 0..300 {
        let (status, id, body) = raw::post(
            &h,
            None,
            None,
            json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
                "protocolVersion": "2025-06-18", "capabilities": {},
                "clientInfo": {"name": "flood", "version": "1"}}}),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert!(id.is_some());
    }
    // Ended sessions wind down on their own tasks: wait for them, with a deadline.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let mut alive = metrics.num_alive_tasks();
    while alive > baseline + 8 * 4 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
        alive = metrics.num_alive_tasks();
    }
    assert!(
        alive <= baseline + 8 * 4,
        "{alive} tasks alive after 300 sessions capped at 8 (baseline {baseline})"
    );
}
