//! The JSON the admin API, `/statsz`, `/healthz`, `/` and `/v1/models` send, pinned whole: field
//! names, nulls against absent fields, and the bytes themselves (compact, keys in the order they
//! are sent today), so the typed views that build these answers cannot drift from them.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{ADMIN_TOKEN, Harness, start};

const EXTRA: &str = r#"
[[mcp_servers]]
name = "files"
command = "mcp-files"
args = ["--root", "/tmp"]
env = { TOKEN = "env:FILES_TOKEN", MODE = "ro" }
enabled = false
disabled_tools = ["delete"]

[[mcp_servers]]
name = "web"
url = "http://127.0.0.1:9/mcp"
headers = { "X-Team" = "core" }
enabled = false
call_timeout_ms = 5000

[[assistants]]
name = "helper"
model = "alpha/gpt-4o-mini"
description = "Answers tersely."
system = "You are terse."
servers = ["web"]
"#;

/// The status and the body exactly as sent.
async fn raw(h: &Harness, method: Method, path: &str, body: Option<Value>) -> (u16, String) {
    let mut r = h
        .client
        .request(method, format!("{}{path}", h.root()))
        .bearer_auth(ADMIN_TOKEN);
    if let Some(body) = body {
        r = r.json(&body);
    }
    let r = r.send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// Parses `text` and checks it is byte for byte the compact form with every object's keys
/// sorted, which is how these answers have always been written (`json!` objects).
fn sorted(text: &str) -> Value {
    let value: Value = serde_json::from_str(text).unwrap();
    let compact = serde_json::to_string(&value).unwrap();
    assert_eq!(text.len(), compact.len(), "compact: {text}");
    let ordered: Ordered = serde_json::from_str(text).unwrap();
    ordered.check_key_order();
    value
}

/// JSON with each object's keys in the order they were sent.
enum Ordered {
    Object(Vec<(String, Ordered)>),
    Array(Vec<Ordered>),
    Other,
}

impl Ordered {
    fn check_key_order(&self) {
        match self {
            Self::Object(fields) => {
                let keys: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
                let mut want = keys.clone();
                want.sort_unstable();
                assert_eq!(keys, want, "keys out of order");
                for (_, v) in fields {
                    v.check_key_order();
                }
            }
            Self::Array(items) => items.iter().for_each(Self::check_key_order),
            Self::Other => {}
        }
    }
}

impl<'de> serde::Deserialize<'de> for Ordered {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Ordered;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("JSON")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Ordered, A::Error> {
                let mut fields = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, Ordered>()? {
                    fields.push((k, v));
                }
                Ok(Ordered::Object(fields))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Ordered, A::Error> {
                let mut items = Vec::new();
                while let Some(v) = seq.next_element::<Ordered>()? {
                    items.push(v);
                }
                Ok(Ordered::Array(items))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Ordered, E> {
                Ok(Ordered::Other)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Ordered, E> {
                Ok(Ordered::Other)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Ordered, E> {
                Ok(Ordered::Other)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Ordered, E> {
                Ok(Ordered::Other)
            }
            fn visit_str<E>(self, _: &str) -> Result<Ordered, E> {
                Ok(Ordered::Other)
            }
            fn visit_unit<E>(self) -> Result<Ordered, E> {
                Ok(Ordered::Other)
            }
        }
        d.deserialize_any(Visit)
    }
}

/// Replaces the value at each `/pointer` with `"*"` after checking it is there and not null.
fn mask(mut value: Value, pointers: &[&str]) -> Value {
    for p in pointers {
        let slot = value
            .pointer_mut(p)
            .unwrap_or_else(|| panic!("{p} missing"));
        assert!(!slot.is_null(), "{p} is null");
        *slot = json!("*");
    }
    value
}

#[tokio::test]
async fn settings() {
    let h = start(EXTRA).await;
    let (status, text) = raw(&h, Method::GET, "/admin/settings", None).await;
    assert_eq!(status, 200);
    let view = mask(
        sorted(&text),
        &["/listening_on", "/data_dir", "/config_file"],
    );
    let expected = json!({
        "access": {"allowed_hosts": [], "cors_origins": [], "keys_required": false, "require_key": false},
        "config_file": "*",
        "data_dir": "*",
        "limits": {"max_body_bytes": 33_554_432, "max_upload_bytes": 26_214_400, "shutdown_grace_ms": 10_000},
        "listen": "127.0.0.1:0",
        "listening_on": "*",
        "log": {"capture_bodies": true, "enabled": true, "max_body_bytes": 1_048_576, "max_db_mb": 2048, "retention_days": 30},
        "reload_error": null,
        "retry": {"backoff_ms": 200, "max_backoff_ms": 5000, "rounds": 2},
        "routing": {"default_strategy": "ordered", "offline_fallback": false},
        "secrets": {"store": "*"},
        "timeouts": {"connect_ms": 10_000, "first_token_ms": 120_000, "idle_ms": 120_000, "total_ms": 600_000},
    });
    let mut view = view;
    view["secrets"]["store"] = json!("*");
    assert_eq!(view, expected);

    let (status, text) = raw(
        &h,
        Method::PATCH,
        "/admin/settings",
        Some(json!({"retry": {"rounds": 3}})),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    let view = sorted(&text);
    assert_eq!(view["restart_required"], false);
    assert_eq!(view["retry"]["rounds"], 3);
    let (_, text) = raw(
        &h,
        Method::PATCH,
        "/admin/settings",
        Some(json!({"log": {"retention_days": 7}})),
    )
    .await;
    assert_eq!(sorted(&text)["restart_required"], true);
}

#[tokio::test]
async fn providers_aliases_and_keys() {
    let h = start(EXTRA).await;
    let (status, text) = raw(&h, Method::GET, "/admin/providers", None).await;
    assert_eq!(status, 200);
    let list = sorted(&text);
    assert_eq!(list["object"], "list");
    let alpha = json!({
        "api_key": {"ref": "env:SWITCHYARD_TEST_ALPHA_KEY", "status": "set"},
        "api_version": null,
        "auth": "bearer",
        "base_url": h.alpha.base_url(),
        "discovered_models": null,
        "enabled": true,
        "kind": "openai",
        "models": ["gpt-4o-mini", "text-embedding-3-small"],
        "name": "alpha",
        "preset": null,
        "proxy": null,
        "responses_api": list["data"][0]["responses_api"].clone(),
        "tls": {"accept_invalid_certs": false, "ca_file": null},
    });
    assert_eq!(list["data"][0], alpha);
    assert_eq!(list["data"][1]["name"], "beta");
    assert_eq!(list["data"][1]["kind"], "anthropic");
    assert_eq!(list.as_object().unwrap().len(), 2);

    let (_, text) = raw(&h, Method::GET, "/admin/providers/alpha", None).await;
    assert_eq!(sorted(&text), alpha);

    let (status, text) = raw(&h, Method::POST, "/admin/providers/alpha/test", None).await;
    assert_eq!(status, 200, "{text}");
    let test = mask(sorted(&text), &["/latency_ms"]);
    assert_eq!(test, json!({"latency_ms": "*", "models": 1, "ok": true}));

    // A model card here is sorted too, unlike /v1/models, which sends it in field order.
    let (status, text) = raw(&h, Method::GET, "/admin/providers/alpha/models", None).await;
    assert_eq!(status, 200, "{text}");
    let models = sorted(&text);
    assert_eq!(models["object"], "list");
    assert_eq!(models["data"][0]["id"], "alpha/gpt-4o-mini");
    assert_eq!(models["data"].as_array().unwrap().len(), 2);

    let (_, text) = raw(&h, Method::GET, "/admin/catalog", None).await;
    let catalog = sorted(&text);
    let openai = catalog["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "openai")
        .unwrap();
    assert_eq!(
        openai.as_object().unwrap().keys().collect::<Vec<_>>(),
        [
            "api_version",
            "auth",
            "base_url",
            "display_name",
            "docs_url",
            "id",
            "key_env",
            "key_required",
            "key_url",
            "kind",
            "local",
            "models",
            "needs_base_url",
        ]
    );

    let (_, text) = raw(&h, Method::GET, "/admin/aliases", None).await;
    assert_eq!(
        sorted(&text),
        json!({"data": [{"fallback": "none", "name": "smart", "strategy": "ordered", "targets": ["alpha/gpt-4o-mini", "beta/claude-sonnet-4-5"], "weights": [1, 1]}], "object": "list"})
    );

    let (_, text) = raw(&h, Method::GET, "/admin/keys", None).await;
    let keys = sorted(&text);
    assert_eq!(
        keys,
        json!({
            "data": [{"created": null, "models": null, "name": "test-admin", "prefix": null, "role": "admin"}],
            "object": "list",
            "require_key": false,
        })
    );

    let (status, text) = raw(
        &h,
        Method::POST,
        "/admin/keys",
        Some(json!({"name": "app", "models": ["smart"]})),
    )
    .await;
    assert_eq!(status, 201, "{text}");
    let created = mask(sorted(&text), &["/created", "/key", "/prefix"]);
    assert_eq!(
        created,
        json!({
            "created": "*",
            "key": "*",
            "models": ["smart"],
            "name": "app",
            "note": "This is the only time the key is shown; store it now.",
            "prefix": "*",
            "role": "user",
        })
    );
}

#[tokio::test]
async fn mcp_servers_and_assistants() {
    let h = start(EXTRA).await;
    let (status, text) = raw(&h, Method::GET, "/admin/mcp/servers", None).await;
    assert_eq!(status, 200);
    let status_of = |name: &str, transport: &str| {
        json!({
            "enabled": false, "error": null, "name": name, "pid": null, "restarts": 0,
            "retry_in_s": null, "server_info": null, "state": "disabled", "tools": null,
            "transport": transport,
        })
    };
    let list = sorted(&text);
    assert_eq!(
        list,
        json!({"data": [
            {
                "args": ["--root", "/tmp"],
                "call_timeout_ms": list["data"][0]["call_timeout_ms"].clone(),
                "command": "mcp-files",
                "cwd": null,
                "disabled_tools": ["delete"],
                "enabled": false,
                "env": {"MODE": "ro", "TOKEN": "env:FILES_TOKEN"},
                "name": "files",
                "status": status_of("files", "stdio"),
                "transport": "stdio",
            },
            {
                "call_timeout_ms": 5000,
                "disabled_tools": [],
                "enabled": false,
                "headers": {"X-Team": "core"},
                "name": "web",
                "status": status_of("web", "http"),
                "transport": "http",
                "url": "http://127.0.0.1:9/mcp",
            },
        ]})
    );
    assert!(list["data"][0]["call_timeout_ms"].is_u64());

    let (_, text) = raw(&h, Method::GET, "/admin/mcp/servers/web", None).await;
    assert_eq!(sorted(&text), list["data"][1]);

    let (_, text) = raw(&h, Method::GET, "/admin/mcp/tools?servers=", None).await;
    assert_eq!(sorted(&text)["errors"], json!([]));

    let (status, text) = raw(
        &h,
        Method::PUT,
        "/admin/mcp/servers/web/tools/fetch",
        Some(json!({"enabled": false})),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(
        sorted(&text),
        json!({"enabled": false, "server": "web", "tool": "fetch"})
    );

    let helper = json!({
        "description": "Answers tersely.",
        "max_iterations": 8,
        "model": "alpha/gpt-4o-mini",
        "name": "helper",
        "servers": ["web"],
        "system": "You are terse.",
        "tools": null,
    });
    let (_, text) = raw(&h, Method::GET, "/admin/assistants", None).await;
    let mut list = sorted(&text);
    let iterations = list["data"][0]["max_iterations"].clone();
    assert!(iterations.is_u64());
    list["data"][0]["max_iterations"] = json!(8);
    assert_eq!(list, json!({"data": [helper]}));
    let (_, text) = raw(&h, Method::GET, "/admin/assistants/helper", None).await;
    let mut one = sorted(&text);
    one["max_iterations"] = json!(8);
    assert_eq!(one, helper);
}

#[tokio::test]
async fn health_statsz_root_and_provider_health() {
    let h = start(EXTRA).await;
    let (status, text) = raw(&h, Method::GET, "/healthz", None).await;
    assert_eq!(status, 200);
    let health = mask(sorted(&text), &["/uptime_s", "/version"]);
    assert_eq!(
        health,
        json!({"open_circuits": [], "providers": 2, "status": "ok", "uptime_s": "*", "version": "*"})
    );

    let (_, text) = raw(&h, Method::GET, "/", None).await;
    let root = mask(sorted(&text), &["/version", "/endpoints"]);
    assert_eq!(
        root,
        json!({"endpoints": "*", "name": "switchyard", "openai_base_url": "/v1", "ui": "/ui/", "version": "*"})
    );

    let closed = |target: &str| json!({"circuit": "closed", "last_error": null, "target": target});
    let (_, text) = raw(&h, Method::GET, "/admin/health/providers", None).await;
    assert_eq!(
        sorted(&text),
        json!({"providers": [
            {"enabled": true, "kind": "openai", "name": "alpha", "problem": null,
             "targets": [closed("alpha/gpt-4o-mini"), closed("alpha/text-embedding-3-small")]},
            {"enabled": true, "kind": "anthropic", "name": "beta", "problem": null,
             "targets": [closed("beta/claude-sonnet-4-5")]},
        ]})
    );

    // One request, so that the model table and the circuits have a row.
    let (status, _, _) = h
        .chat(json!({"model": "alpha/gpt-4o-mini", "messages": crate::harness::user("hi")}))
        .await;
    assert_eq!(status, 200);
    let (_, text) = raw(&h, Method::GET, "/statsz", None).await;
    let mut statsz = sorted(&text);
    let mcp = statsz
        .as_object_mut()
        .unwrap()
        .remove("mcp_servers")
        .unwrap();
    assert_eq!(mcp.as_array().unwrap().len(), 2);
    assert_eq!(mcp[1]["name"], "web");
    let summary = mask(statsz, &["/uptime_s", "/log/written", "/log/queue_depth"]);
    assert_eq!(
        summary,
        json!({
            "circuits": [
                {"state": "closed", "target": "alpha/gpt-4o-mini"},
                {"state": "closed", "target": "alpha/text-embedding-3-small"},
                {"state": "closed", "target": "beta/claude-sonnet-4-5"},
            ],
            "errors": 0,
            "in_flight": 0,
            "log": {"dropped": 0, "queue_depth": "*", "queue_overflow": 0, "written": "*"},
            "models": [{"errors": 0, "model": "alpha/gpt-4o-mini", "requests": 1}],
            "requests": 1,
            "tokens": summary["tokens"].clone(),
            "uptime_s": "*",
        })
    );
    assert!(summary["tokens"].as_u64().unwrap() > 0);
}

#[tokio::test]
async fn request_log_series_and_sessions() {
    let h = start("").await;
    let (status, _, _) = h
        .chat(json!({"model": "alpha/gpt-4o-mini", "messages": crate::harness::user("hi")}))
        .await;
    assert_eq!(status, 200);
    h.wait_for_rows(1).await;

    let (_, text) = raw(&h, Method::GET, "/admin/traffic/days", None).await;
    let days = mask(sorted(&text), &["/days/0/day"]);
    assert_eq!(
        days,
        json!({"days": [{"day": "*", "errors": 0, "requests": 1}]})
    );

    let (_, text) = raw(&h, Method::GET, "/admin/stats/latency?window=1h", None).await;
    let latency = sorted(&text);
    assert_eq!(latency["window"], "1h");
    assert!(latency["buckets"].as_array().unwrap().len() > 1);
    assert_eq!(latency.as_object().unwrap().len(), 2);

    let (_, text) = raw(&h, Method::GET, "/admin/stats/tokens?window=1h", None).await;
    let tokens = sorted(&text);
    assert_eq!(tokens["window"], "1h");
    assert_eq!(tokens["bucket_ms"], 75_000);
    assert!(tokens["points"].is_array());
    assert_eq!(tokens.as_object().unwrap().len(), 3);

    let (status, text) = raw(
        &h,
        Method::POST,
        "/admin/sessions",
        Some(json!({"title": "Plans", "params": {"temperature": 0.5}})),
    )
    .await;
    assert_eq!(status, 201, "{text}");
    let session = mask(sorted(&text), &["/id", "/created_at", "/updated_at"]);
    assert_eq!(
        session,
        json!({
            "created_at": "*", "id": "*", "messages": [], "model": null,
            "params": {"temperature": 0.5}, "system": null, "title": "Plans", "updated_at": "*",
        })
    );
    let (_, text) = raw(&h, Method::GET, "/admin/sessions", None).await;
    let list = mask(
        sorted(&text),
        &["/data/0/id", "/data/0/created_at", "/data/0/updated_at"],
    );
    assert_eq!(
        list,
        json!({"data": [{"created_at": "*", "id": "*", "message_count": 0, "model": null, "title": "Plans", "updated_at": "*"}], "object": "list"})
    );
}
