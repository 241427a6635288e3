//! Access control through the real server: client keys and roles, model allow-lists, the Host
//! and Origin checks, CORS and the admin routes. The wider attack list (reliability.md §5.7,
//! §5.8) runs against the real binary in tests/compat/python/test_access.py.

use std::time::Duration;

use serde_json::{Value, json};
use switchyard_core::access::KeyHash;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::harness::{ADMIN_TOKEN, start, user};

const USER_TOKEN: &str = "sk-sy-user-token-for-the-access-tests-0123456789ab";
const READER_TOKEN: &str = "sk-sy-reader-token-for-the-access-tests-0123456789";
const LIMITED_TOKEN: &str = "sk-sy-limited-token-for-the-access-tests-012345678";

fn keys(require: bool) -> String {
    format!(
        r#"
[access]
require_key = {require}
cors_origins = ["https://app.example"]

[[keys]]
name = "cursor"
hash = "{}"

[[keys]]
name = "dashboard"
hash = "{}"
role = "read-only"

[[keys]]
name = "scripts"
hash = "{}"
models = ["alpha/*"]
"#,
        KeyHash::of(USER_TOKEN),
        KeyHash::of(READER_TOKEN),
        KeyHash::of(LIMITED_TOKEN),
    )
}

async fn call(
    h: &crate::harness::Harness,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut r = h.client.request(method, format!("{}{path}", h.root()));
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    for (k, v) in headers {
        r = r.header(*k, *v);
    }
    if let Some(b) = body {
        r = r.json(&b);
    }
    let r = r.send().await.unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.json().await.unwrap_or(Value::Null))
}

fn chat_body(model: &str) -> Value {
    json!({"model": model, "messages": user("hi")})
}

/// Sends raw bytes (for headers a client library would fix up) and returns the status code.
async fn raw(h: &crate::harness::Harness, request: &str) -> u16 {
    let addr = h.root().trim_start_matches("http://").to_owned();
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(request.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    let text = String::from_utf8_lossy(&buf[..n]);
    text.split(' ').nth(1).unwrap_or("0").parse().unwrap_or(0)
}

#[tokio::test]
async fn with_keys_required_only_valid_keys_reach_the_models() {
    let h = start(&keys(true)).await;
    let (status, headers, body) = call(
        &h,
        reqwest::Method::POST,
        "/v1/chat/completions",
        None,
        &[],
        Some(chat_body("alpha/gpt-4o-mini")),
    )
    .await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"]["type"], "authentication_error");
    assert_eq!(body["error"]["code"], "missing_api_key");
    assert_eq!(headers["www-authenticate"], "Bearer");
    for bad in ["sk-sy-not-a-key", &USER_TOKEN.to_uppercase(), "placeholder"] {
        let (status, _, body) = call(
            &h,
            reqwest::Method::POST,
            "/v1/chat/completions",
            Some(bad),
            &[],
            Some(chat_body("alpha/gpt-4o-mini")),
        )
        .await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (401, Some("invalid_api_key")),
            "{bad}"
        );
    }
    assert_eq!(
        h.alpha.request_count(),
        0,
        "nothing unauthenticated reaches an upstream"
    );

    let (status, _, body) = call(
        &h,
        reqwest::Method::POST,
        "/v1/chat/completions",
        Some(USER_TOKEN),
        &[],
        Some(chat_body("alpha/gpt-4o-mini")),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    // The same key through the Anthropic SDK's header.
    let (status, _, _) = call(
        &h,
        reqwest::Method::GET,
        "/v1/models",
        None,
        &[("x-api-key", USER_TOKEN)],
        None,
    )
    .await;
    assert_eq!(status, 200);

    // Read-only keys read, and spend nothing.
    let (status, _, _) = call(
        &h,
        reqwest::Method::GET,
        "/v1/models",
        Some(READER_TOKEN),
        &[],
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (status, _, body) = call(
        &h,
        reqwest::Method::POST,
        "/v1/chat/completions",
        Some(READER_TOKEN),
        &[],
        Some(chat_body("alpha/gpt-4o-mini")),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("insufficient_role"))
    );

    // The log names the key, never shows it.
    let page = h.wait_for_rows(1).await;
    let rows = page["requests"].as_array().unwrap();
    assert!(rows.iter().any(|r| r["key_name"] == "cursor"), "{page}");
    let all = page.to_string();
    for token in [USER_TOKEN, READER_TOKEN, ADMIN_TOKEN] {
        assert!(!all.contains(token));
    }
}

#[tokio::test]
async fn on_open_loopback_placeholders_pass_but_our_own_unknown_keys_do_not() {
    let h = start(&keys(false)).await;
    let (status, _, _) = call(
        &h,
        reqwest::Method::POST,
        "/v1/chat/completions",
        Some("ollama"),
        &[],
        Some(chat_body("alpha/gpt-4o-mini")),
    )
    .await;
    assert_eq!(status, 200, "clients need some key and send placeholders");
    let (status, _, body) = call(
        &h,
        reqwest::Method::POST,
        "/v1/chat/completions",
        Some("sk-sy-revoked-long-ago"),
        &[],
        Some(chat_body("alpha/gpt-4o-mini")),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("invalid_api_key"))
    );
    let (status, _, _) = call(
        &h,
        reqwest::Method::GET,
        "/v1/models?api_key=sk-anything",
        None,
        &[],
        None,
    )
    .await;
    assert_eq!(status, 401, "keys in URLs end up in every proxy's log");
}

#[tokio::test]
async fn a_key_with_an_allow_list_sees_and_uses_only_its_models() {
    let h = start(&keys(true)).await;
    let (status, _, list) = call(
        &h,
        reqwest::Method::GET,
        "/v1/models",
        Some(LIMITED_TOKEN),
        &[],
        None,
    )
    .await;
    assert_eq!(status, 200);
    let ids: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["id"].as_str())
        .collect();
    assert!(!ids.is_empty());
    assert!(ids.iter().all(|id| id.starts_with("alpha/")), "{ids:?}");
    let (status, _, body) = call(
        &h,
        reqwest::Method::POST,
        "/v1/chat/completions",
        Some(LIMITED_TOKEN),
        &[],
        Some(chat_body("smart")),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], "model_not_allowed");
    assert_eq!(body["error"]["param"], "model");
    let (status, _, _) = call(
        &h,
        reqwest::Method::POST,
        "/v1/chat/completions",
        Some(LIMITED_TOKEN),
        &[],
        Some(chat_body("alpha/gpt-4o-mini")),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(h.beta.request_count(), 0);
}

#[tokio::test]
async fn admin_routes_need_an_admin_key_or_the_built_in_ui() {
    let h = start(&keys(false)).await;
    let get = |token: Option<&'static str>, headers: &'static [(&'static str, &'static str)]| {
        call(
            &h,
            reqwest::Method::GET,
            "/admin/keys",
            token,
            headers,
            None,
        )
    };
    assert_eq!(get(None, &[]).await.0, 401);
    assert_eq!(get(Some(USER_TOKEN), &[]).await.0, 403);
    assert_eq!(
        get(Some(READER_TOKEN), &[]).await.0,
        200,
        "read-only keys read"
    );
    assert_eq!(get(Some(ADMIN_TOKEN), &[]).await.0, 200);
    assert_eq!(
        get(None, &[("sec-fetch-site", "same-origin")]).await.0,
        200,
        "the UI's own pages on loopback"
    );
    const SPOOFS: [(&str, &str); 3] = [
        ("x-forwarded-for", "127.0.0.1"),
        ("x-real-ip", "127.0.0.1"),
        ("forwarded", "for=127.0.0.1"),
    ];
    for i in 0..SPOOFS.len() {
        assert_eq!(get(None, &SPOOFS[i..=i]).await.0, 401, "{:?}", SPOOFS[i]);
    }
    let (status, _, _) = call(
        &h,
        reqwest::Method::POST,
        "/admin/keys",
        Some(READER_TOKEN),
        &[],
        Some(json!({"name": "sneaky", "role": "admin"})),
    )
    .await;
    assert_eq!(status, 403, "read-only keys cannot write");
    // Paths no route serves are 404s for everyone: the router matches exactly, so a look-alike
    // of an admin path reaches nothing.
    assert_eq!(
        call(&h, reqwest::Method::GET, "/ADMIN/keys", None, &[], None)
            .await
            .0,
        404
    );

    let h = start(&keys(true)).await;
    let (status, _, _) = call(
        &h,
        reqwest::Method::GET,
        "/admin/keys",
        None,
        &[("sec-fetch-site", "same-origin")],
        None,
    )
    .await;
    assert_eq!(
        status, 401,
        "with keys required, the UI signs in like everyone else"
    );
}

#[tokio::test]
async fn hostile_hosts_and_origins_are_refused_and_configured_origins_get_cors() {
    let h = start(&keys(false)).await;
    let port = h.root().rsplit(':').next().unwrap().to_owned();
    let req = |host: &str, extra: &str| {
        format!("GET /v1/models HTTP/1.1\r\nHost: {host}\r\n{extra}Connection: close\r\n\r\n")
    };
    assert_eq!(raw(&h, &req(&format!("127.0.0.1:{port}"), "")).await, 200);
    assert_eq!(raw(&h, &req(&format!("localhost:{port}"), "")).await, 200);
    assert_eq!(raw(&h, &req(&format!("[::1]:{port}"), "")).await, 200);
    for host in [
        "attacker.example",
        "localhost.",
        "127.1",
        "2130706433",
        "0.0.0.0",
        "127.0.0.1.nip.io",
        "localhost.evil.com",
    ] {
        assert_eq!(raw(&h, &req(host, "")).await, 403, "{host}");
    }
    assert_eq!(
        raw(&h, &format!("GET /v1/models HTTP/1.1\r\nHost: localhost:{port}\r\nHost: evil\r\nConnection: close\r\n\r\n")).await,
        400,
        "two Host headers"
    );
    assert_eq!(
        raw(&h, &format!("GET http://evil.example/admin/keys HTTP/1.1\r\nHost: localhost:{port}\r\nConnection: close\r\n\r\n")).await,
        400,
        "an absolute-form target that disagrees with Host"
    );

    for origin in [
        "https://evil.example",
        "null",
        "http://localhost:3000",
        "tauri://localhost",
    ] {
        let (status, headers, body) = call(
            &h,
            reqwest::Method::POST,
            "/v1/chat/completions",
            None,
            &[("origin", origin)],
            Some(chat_body("alpha/gpt-4o-mini")),
        )
        .await;
        assert_eq!(status, 403, "{origin}: {body}");
        assert_eq!(body["error"]["code"], "origin_not_allowed");
        assert!(headers.get("access-control-allow-origin").is_none());
    }
    assert_eq!(h.alpha.request_count(), 0);

    // The gateway's own pages are same-origin.
    let own = h.root().to_owned();
    let (status, _, _) = call(
        &h,
        reqwest::Method::GET,
        "/v1/models",
        None,
        &[("origin", &own)],
        None,
    )
    .await;
    assert_eq!(status, 200);

    // A configured origin: a preflight answered before auth, then the real request.
    let r = h
        .client
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/v1/chat/completions", h.root()),
        )
        .header("origin", "https://app.example")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type",
        )
        .header("access-control-request-private-network", "true")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 204);
    let hd = r.headers();
    assert_eq!(hd["access-control-allow-origin"], "https://app.example");
    assert_eq!(
        hd["access-control-allow-headers"],
        "authorization, content-type"
    );
    assert_eq!(hd["access-control-allow-private-network"], "true");
    assert!(
        hd["access-control-allow-methods"]
            .to_str()
            .unwrap()
            .contains("POST")
    );
    assert_eq!(h.alpha.request_count(), 0, "a preflight runs no handler");
    let (status, headers, _) = call(
        &h,
        reqwest::Method::POST,
        "/v1/chat/completions",
        None,
        &[("origin", "https://app.example")],
        Some(chat_body("alpha/gpt-4o-mini")),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        headers["access-control-allow-origin"],
        "https://app.example"
    );
    assert_eq!(headers["vary"], "Origin");

    let evil_preflight = h
        .client
        .request(reqwest::Method::OPTIONS, format!("{}/admin/keys", h.root()))
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "DELETE")
        .send()
        .await
        .unwrap();
    assert_eq!(evil_preflight.status().as_u16(), 403);
    assert!(
        evil_preflight
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}

#[tokio::test]
async fn a_paused_gateway_refuses_model_calls_and_keeps_its_ui_and_admin_api() {
    let h = start("").await;
    h.gateway.set_paused(true);
    let (status, _, body) = h.chat(chat_body("alpha/gpt-4o-mini")).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (503, Some("gateway_paused"))
    );
    assert_eq!(h.admin("/admin/settings").await.0, 200);
    assert_eq!(h.alpha.request_count(), 0);
    h.gateway.set_paused(false);
    let (status, _, _) = h.chat(chat_body("alpha/gpt-4o-mini")).await;
    assert_eq!(status, 200);
    h.wait_for_rows(1).await;
    assert_eq!(
        h.gateway.requests_since(0).await,
        Some(1),
        "the tray's count: the refused call never reached the log"
    );
}
