//! The admin API over the configuration: changes land in the file with the user's comments
//! kept, invalid ones are refused whole, hand edits are applied live, and requests already
//! running finish on the config they started with.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use switchyard_testkit::{Dialect, FakeUpstream, Reply, Script};

use crate::harness::{Harness, start, user};

async fn model_ids(h: &Harness) -> Vec<String> {
    let (_, list) = h.admin("/v1/models").await;
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["id"].as_str().map(str::to_owned))
        .collect()
}

async fn eventually(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(8);
    while std::time::Instant::now() < deadline {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for: {what}");
}

#[tokio::test]
async fn a_provider_added_over_http_is_saved_discovered_and_served() {
    let h = start("# my own notes stay\n").await;
    let gamma = FakeUpstream::start(Dialect::OpenAi).await.unwrap();
    let (status, body) = h
        .admin_send(
            Method::POST,
            "/admin/providers",
            Some(json!({
                "name": "gamma",
                "kind": "openai",
                "base_url": gamma.base_url(),
                "api_key": "env:SWITCHYARD_TEST_ALPHA_KEY",
            })),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["api_key"]["status"], "set");
    let text = std::fs::read_to_string(h.config_path()).unwrap();
    assert!(text.contains("# my own notes stay"), "{text}");
    assert!(text.contains("name = \"gamma\""), "{text}");

    // No model list configured: the upstream's own list is read.
    eventually("gamma's models", async || {
        model_ids(&h)
            .await
            .iter()
            .any(|id| id.starts_with("gamma/"))
    })
    .await;
    let ids = model_ids(&h).await;
    let first = ids
        .iter()
        .find(|id| id.starts_with("gamma/"))
        .unwrap()
        .clone();
    let (status, _, answer) = h
        .chat(json!({"model": first, "messages": user("through gamma")}))
        .await;
    assert_eq!(status, 200, "{answer}");
    let chats: Vec<_> = gamma
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/chat/completions"))
        .collect();
    assert_eq!(chats.len(), 1);
    assert_eq!(
        chats[0].header("authorization"),
        Some("Bearer sk-alpha-test-key")
    );

    let (status, _) = h
        .admin_send(
            Method::PATCH,
            "/admin/providers/gamma",
            Some(json!({"enabled": false})),
        )
        .await;
    assert_eq!(status, 200);
    assert!(
        !model_ids(&h)
            .await
            .iter()
            .any(|id| id.starts_with("gamma/"))
    );
    let (status, _) = h
        .admin_send(Method::DELETE, "/admin/providers/gamma", None)
        .await;
    assert_eq!(status, 204);
    let (status, _) = h.admin("/admin/providers/gamma").await;
    assert_eq!(status, 404);
    assert!(
        !std::fs::read_to_string(h.config_path())
            .unwrap()
            .contains("gamma")
    );
}

#[tokio::test]
async fn an_invalid_change_is_refused_with_its_path_and_writes_nothing() {
    let h = start("").await;
    let before = std::fs::read(h.config_path()).unwrap();
    let (status, body) = h
        .admin_send(
            Method::PATCH,
            "/admin/providers/alpha",
            Some(json!({"base_url": "ftp://nope"})),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["param"], "providers[0].base_url");
    let (status, body) = h
        .admin_send(
            Method::PUT,
            "/admin/aliases/smart",
            Some(json!({"targets": ["alpha/gpt-4o-mini", "nobody/x"]})),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["param"], "aliases[0].targets[1]");
    let (status, _) = h
        .admin_send(
            Method::POST,
            "/admin/providers",
            Some(json!({"name": "alpha", "preset": "openai"})),
        )
        .await;
    assert_eq!(status, 409);
    assert_eq!(std::fs::read(h.config_path()).unwrap(), before);

    // A valid reorder goes through and is live at once.
    let (status, body) = h
        .admin_send(
            Method::PUT,
            "/admin/aliases/smart",
            Some(json!({"targets": ["beta/claude-sonnet-4-5", "alpha/gpt-4o-mini"]})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, headers, _) = h
        .chat(json!({"model": "smart", "messages": user("x")}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(headers["x-switchyard-target"], "beta/claude-sonnet-4-5");
}

#[tokio::test]
async fn hand_edits_apply_live_and_bad_ones_keep_the_last_good_config() {
    let h = start("").await;
    let path = h.config_path();
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        format!("{text}\n[[aliases]]\nname = \"quick\"\ntargets = [\"alpha/gpt-4o-mini\"]\n"),
    )
    .unwrap();
    eventually("the new alias", async || {
        model_ids(&h).await.iter().any(|id| id == "quick")
    })
    .await;

    std::fs::write(
        &path,
        format!("{text}\n[[aliases]]\nname = \"quick\"\ntargets = []\n"),
    )
    .unwrap();
    eventually("the reload error", async || {
        let (_, s) = h.admin("/admin/settings").await;
        s["reload_error"]
            .as_str()
            .is_some_and(|e| e.contains("aliases"))
    })
    .await;
    assert!(
        model_ids(&h).await.iter().any(|id| id == "quick"),
        "the last good config stays live"
    );
    let (status, _, _) = h
        .chat(json!({"model": "quick", "messages": user("x")}))
        .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn requests_in_flight_finish_on_the_config_they_started_with() {
    let h = start("").await;
    h.alpha.push(Script::Reply(Reply {
        text: Some("one two three four five six".into()),
        chunk_delay_ms: 150,
        ..Reply::default()
    }));
    let stream = h.stream(json!({
        "model": "alpha/gpt-4o-mini",
        "messages": user("slow"),
        "stream": true,
    }));
    let remove = async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        h.admin_send(Method::DELETE, "/admin/providers/alpha", None)
            .await
    };
    // The alias names alpha: it goes first, or the removal is refused.
    let (status, body) = h
        .admin_send(Method::DELETE, "/admin/aliases/smart", None)
        .await;
    assert_eq!(status, 204, "{body}");
    let ((status, _, events), (removed, body)) = tokio::join!(stream, remove);
    assert_eq!(removed, 204, "{body}");
    assert_eq!(status, 200);
    assert_eq!(events.last().map(String::as_str), Some("[DONE]"));
    let text: String = events
        .iter()
        .filter_map(|e| serde_json::from_str::<Value>(e).ok())
        .filter_map(|c| {
            c["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(text, "one two three four five six");
    let (status, _, body) = h
        .chat(json!({"model": "alpha/gpt-4o-mini", "messages": user("x")}))
        .await;
    assert_eq!(status, 404, "{body}");
}

#[tokio::test]
async fn client_keys_are_shown_once_stored_hashed_and_revocable() {
    let h = start("").await;
    let (status, created) = h
        .admin_send(
            Method::POST,
            "/admin/keys",
            Some(json!({"name": "cline", "role": "user"})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let key = created["key"].as_str().unwrap().to_owned();
    assert!(key.starts_with("sk-sy-"));
    let text = std::fs::read_to_string(h.config_path()).unwrap();
    assert!(!text.contains(&key), "only the hash is kept");
    assert!(text.contains(&switchyard_core::access::KeyHash::of(&key).to_string()));
    let (_, listed) = h.admin("/admin/keys").await;
    assert!(!listed.to_string().contains(&key));

    let (status, _) = h
        .admin_send(
            Method::PATCH,
            "/admin/settings",
            Some(json!({"access": {"require_key": true}})),
        )
        .await;
    assert_eq!(status, 200);
    let send = |token: Option<String>| {
        let mut r = h
            .client
            .post(format!("{}/v1/chat/completions", h.root()))
            .json(&json!({"model": "alpha/gpt-4o-mini", "messages": user("x")}));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        async move { r.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(send(None).await, 401);
    assert_eq!(send(Some(key.clone())).await, 200);
    let (status, _) = h
        .admin_send(Method::DELETE, "/admin/keys/cline", None)
        .await;
    assert_eq!(status, 204);
    assert_eq!(send(Some(key)).await, 401);
}

#[tokio::test]
async fn capabilities_can_be_overridden_and_say_where_they_come_from() {
    let h = start("").await;
    let (status, card) = h
        .admin_send(
            Method::PATCH,
            "/admin/models/alpha/gpt-4o-mini",
            Some(json!({"context_window": 128000, "tools": false})),
        )
        .await;
    assert_eq!(status, 200, "{card}");
    let caps = &card["capabilities"];
    assert_eq!(caps["context_window"], 128_000);
    assert_eq!(caps["tools"], false);
    assert_eq!(caps["source"]["tools"], "configured");
    assert_eq!(caps["source"]["vision"], Value::Null);
    assert_eq!(caps["source"]["input"], "inferred");
    let (_, catalog) = h.admin("/admin/catalog").await;
    let ids: Vec<&str> = catalog["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["id"].as_str())
        .collect();
    for wanted in [
        "openai",
        "anthropic",
        "gemini",
        "groq",
        "azure",
        "ollama",
        "lmstudio",
        "vllm",
    ] {
        assert!(ids.contains(&wanted), "{wanted} in {ids:?}");
    }
}

#[tokio::test]
async fn a_refused_change_keeps_the_old_key_and_the_old_file() {
    let h = start("[secrets]\nbackend = \"file\"\n").await;
    let (status, body) = h
        .admin_send(
            Method::PUT,
            "/admin/providers/alpha/key",
            Some(json!({"api_key": "sk-first-key"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let before = std::fs::read(h.config_path()).unwrap();
    let secrets = h.config_path().with_file_name("secrets.toml");
    let (status, body) = h
        .admin_send(
            Method::PATCH,
            "/admin/providers/alpha",
            Some(json!({"api_key": "sk-second-key", "base_url": "ftp://nope"})),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    let stored = std::fs::read_to_string(&secrets).unwrap();
    assert!(
        stored.contains("sk-first-key") && !stored.contains("sk-second-key"),
        "{stored}"
    );

    // Valid TOML the gateway could not run is refused before it is written.
    let (status, body) = h
        .admin_send(
            Method::PATCH,
            "/admin/providers/alpha",
            Some(json!({"tls": {"ca_file": "/nonexistent/ca.pem"}})),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["param"], "providers[0]");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("ca.pem")
    );
    assert_eq!(std::fs::read(h.config_path()).unwrap(), before);
    let (status, _, _) = h
        .chat(json!({"model": "alpha/gpt-4o-mini", "messages": user("x")}))
        .await;
    assert_eq!(status, 200);
    let sent = h.alpha.requests();
    assert_eq!(
        sent.last().unwrap().header("authorization"),
        Some("Bearer sk-first-key")
    );
}
