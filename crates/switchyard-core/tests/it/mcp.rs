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
