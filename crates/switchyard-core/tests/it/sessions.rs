//! Playground sessions through `/admin/sessions`, and the built-in UI's static serving.

use reqwest::Method;
use serde_json::json;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::harness::start;

#[tokio::test]
async fn sessions_are_saved_listed_searched_renamed_and_deleted() {
    let h = start("").await;
    let (status, created) = h
        .admin_send(
            Method::POST,
            "/admin/sessions",
            Some(json!({
                "title": "Rust lifetimes",
                "model": "alpha/gpt-4o-mini",
                "system": "Be brief.",
                "params": {"temperature": 0.2},
                "messages": [{"role": "user", "content": "what is 'static?"}],
            })),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("ses_") && id.len() == 20, "{id}");
    let (_, other) = h
        .admin_send(Method::POST, "/admin/sessions", Some(json!({})))
        .await;
    assert_eq!(other["title"], "New chat");

    let (_, list) = h.admin("/admin/sessions").await;
    let ids: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["id"].as_str())
        .collect();
    assert_eq!(ids.len(), 2);
    let (_, found) = h.admin("/admin/sessions?q=static").await;
    assert_eq!(
        found["data"].as_array().unwrap().len(),
        1,
        "message text is searched"
    );
    assert_eq!(found["data"][0]["message_count"], 1);
    let (_, none) = h.admin("/admin/sessions?q=100%25").await;
    assert_eq!(
        none["data"].as_array().unwrap().len(),
        0,
        "% is a literal, not a wildcard"
    );

    let (status, renamed) = h
        .admin_send(
            Method::PATCH,
            &format!("/admin/sessions/{id}"),
            Some(json!({"title": "Lifetimes", "system": null})),
        )
        .await;
    assert_eq!(status, 200, "{renamed}");
    assert_eq!(renamed["title"], "Lifetimes");
    assert_eq!(renamed["system"], serde_json::Value::Null);
    assert_eq!(
        renamed["params"]["temperature"], 0.2,
        "untouched fields stay"
    );
    let (status, bad) = h
        .admin_send(
            Method::PATCH,
            &format!("/admin/sessions/{id}"),
            Some(json!({"messages": "not a list"})),
        )
        .await;
    assert_eq!(
        (status, bad["error"]["param"].as_str()),
        (400, Some("messages"))
    );
    let (status, _) = h
        .admin_send(
            Method::PATCH,
            &format!("/admin/sessions/{id}"),
            Some(json!({"titel": "typo"})),
        )
        .await;
    assert_eq!(status, 400, "unknown fields are refused, not dropped");

    let (status, _) = h
        .admin_send(Method::DELETE, &format!("/admin/sessions/{id}"), None)
        .await;
    assert_eq!(status, 204);
    let (status, _) = h.admin(&format!("/admin/sessions/{id}")).await;
    assert_eq!(status, 404);
}

/// The status line and body of a raw request, sent as written (no client-side normalising).
async fn raw_get(root: &str, target: &str) -> (u16, String) {
    let addr = root.trim_start_matches("http://");
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(
        format!("GET {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await
    .unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, text)
}

/// In the built index.html: a UI route answered with the app itself.
const INDEX_MARK: &str = "<div id=\"root\">";

#[tokio::test]
async fn the_ui_serves_only_its_own_files() {
    let h = start("").await;
    let (status, index) = raw_get(h.root(), "/ui/").await;
    // 503 only when this build has no UI (the frontend was not built before cargo ran).
    assert!(status == 200 || status == 503, "{index}");
    let built = status == 200;
    if built {
        assert!(index.contains("text/html"), "{index}");
        let (status, routed) = raw_get(h.root(), "/ui/peek").await;
        assert_eq!(status, 200, "client-side routes get the app");
        assert!(routed.contains("<!doctype html") || routed.contains("<!DOCTYPE html"));
    }
    for target in [
        "/ui/../../etc/passwd",
        "/ui/%2e%2e/%2e%2e/etc/passwd",
        "/ui/..%2f..%2fetc/passwd",
        "/ui/%252e%252e/etc/passwd",
        "/ui/..%5c..%5cwindows%5cwin.ini",
        "/ui/c:/windows/win.ini",
        "/ui/%00",
        "/ui/assets/missing.js",
        "/ui/../Cargo.toml",
    ] {
        let (status, body) = raw_get(h.root(), target).await;
        assert!(!body.contains("root:"), "{target}");
        assert!(!body.contains("[package]"), "{target}");
        assert!(
            !body.contains(env!("CARGO_MANIFEST_DIR")),
            "{target}: no local paths"
        );
        assert_ne!(status, 500, "{target}");
        // Refused, or the app's own page for a client-side route; nothing else.
        assert!(
            matches!(status, 400 | 404 | 503) || body.contains(INDEX_MARK),
            "{target}: {status}"
        );
    }
    let (status, _) = raw_get(h.root(), "/ui/assets/missing.js").await;
    assert_eq!(status, 404);

    // A browser opening the gateway's address lands in the UI; an API client gets JSON.
    let r = h
        .client
        .get(format!("{}/", h.root()))
        .header("accept", "text/html,application/xhtml+xml")
        .send()
        .await
        .unwrap();
    assert_eq!(r.url().path(), "/ui/");
    let about: serde_json::Value = h
        .client
        .get(format!("{}/", h.root()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(about["ui"], "/ui/");
}
