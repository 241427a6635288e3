//! Hostile input against the data paths: proxy paths that climb out of a provider's base URL,
//! the data folder's permissions, keys echoed by upstreams, links planted beside the media,
//! bodies of the wrong shape, absurd `n`, unsafe names in the config, and a pass-through
//! stream that fails midway reaching the gateway's own log.

use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use serde_json::{Value, json};
use switchyard_testkit::Script;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::harness::{ADMIN_TOKEN, ALPHA_KEY, BETA_KEY, Harness, header, start, user};

/// Sends `target` exactly as written (reqwest would resolve `..` itself) and returns the
/// status and the JSON body.
async fn raw_get(h: &Harness, target: &str) -> (u16, Value) {
    let addr = h.root().trim_start_matches("http://").to_owned();
    let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let request = format!(
        "GET {target} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer sk-client\r\nConnection: close\r\n\r\n"
    );
    s.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut answer))
        .await
        .unwrap()
        .unwrap();
    let text = String::from_utf8_lossy(&answer);
    let status = text.split(' ').nth(1).unwrap_or("0").parse().unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

#[tokio::test]
async fn proxy_paths_that_climb_out_of_the_base_url_are_refused_before_the_upstream() {
    let h = start("").await;
    for path in [
        "../_requests",
        "%2e%2e/_requests",
        "%2E%2E/_requests",
        ".%2e/_requests",
        "..%2f_requests",
        "..%2F_requests",
        "%252e%252e/_requests",
        "%252e%252e%252f_requests",
        "..%5c_requests",
        "..\\_requests",
        "models/../../_requests",
        "..;/_requests",
    ] {
        let (status, body) = raw_get(&h, &format!("/proxy/alpha/{path}")).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert_eq!(body["error"]["code"], "invalid_path", "{path}: {body}");
        assert_eq!(body["error"]["param"], "path", "{path}: {body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            message.contains(&format!("{path:?}")),
            "{path}: the message names the path: {message}"
        );
    }
    assert_eq!(
        h.alpha.request_count(),
        0,
        "nothing reached the upstream: {:?}",
        h.alpha
            .requests()
            .iter()
            .map(|r| &r.path)
            .collect::<Vec<_>>()
    );

    // Dot segments that stay inside the base are resolved, and the result is what goes up.
    let (status, body) = raw_get(&h, "/proxy/alpha/chat/../models?limit=2").await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = raw_get(&h, "/proxy/alpha/./models/%2e/").await;
    assert_eq!(status, 404, "the fake has no /v1/models/");
    let seen: Vec<String> = h.alpha.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(seen, ["/v1/models?limit=2", "/v1/models/"]);
}

/// A gateway on `data_dir` with the harness's upstream and admin key.
async fn gateway_on(
    data_dir: &std::path::Path,
    upstream: &switchyard_testkit::FakeUpstream,
) -> switchyard_core::GatewayHandle {
    let text = format!(
        r#"
listen = "127.0.0.1:0"
data_dir = "{}"

[[providers]]
name = "alpha"
kind = "openai"
base_url = "{}"
models = ["gpt-4o-mini"]

[[keys]]
name = "test-admin"
hash = "{}"
role = "admin"
"#,
        data_dir.display(),
        upstream.base_url(),
        switchyard_core::access::KeyHash::of(ADMIN_TOKEN),
    );
    let config = switchyard_core::Config::from_toml(&text).unwrap();
    switchyard_core::Gateway::start(config).await.unwrap()
}

/// Waits until the log of the gateway at `root` holds `n` rows.
async fn rows(root: &str, n: usize) -> Value {
    let client = reqwest::Client::new();
    for _ in 0..500 {
        let page: Value = client
            .get(format!("{root}/admin/requests"))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if page["requests"].as_array().is_some_and(|r| r.len() >= n) {
            return page;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the log never held {n} rows");
}

#[cfg(unix)]
fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::symlink_metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

#[cfg(unix)]
#[tokio::test]
async fn the_data_folder_is_private_when_made_and_tightened_when_found_open() {
    use std::os::unix::fs::PermissionsExt as _;
    let logs = capture_logs();
    let alpha = switchyard_testkit::FakeUpstream::start(switchyard_testkit::Dialect::OpenAi)
        .await
        .unwrap();
    let home = tempfile::tempdir().unwrap();
    // Made by the gateway, under the process's umask (022 here, as in CI).
    let data = home.path().join("state").join("switchyard");
    let gateway = gateway_on(&data, &alpha).await;
    let root = gateway.base_url().trim_end_matches("/v1").to_owned();
    let png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";
    let r = reqwest::Client::new()
        .post(format!("{root}/v1/chat/completions"))
        .json(
            &json!({"model": "alpha/gpt-4o-mini", "messages": [{"role": "user", "content": [
                {"type": "image_url", "image_url": {"url": format!("data:image/png;base64,{png}")}}
            ]}]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    rows(&root, 1).await;
    let db = data.join("switchyard.db");
    let media = data.join("media");
    let files: Vec<_> = std::fs::read_dir(&media)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "the image went to a media file");
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&db), 0o600);
    for companion in ["switchyard.db-wal", "switchyard.db-shm"] {
        assert_eq!(mode(&data.join(companion)), 0o600, "{companion}");
    }
    assert_eq!(mode(&media), 0o700);
    assert_eq!(mode(&files[0]), 0o600);
    gateway.shutdown(Duration::from_secs(10)).await.unwrap();

    // Opened up as an older version (or a careless copy) would have left them.
    let open = |path: &std::path::Path, mode: u32| {
        if path.exists() {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
        }
    };
    open(&data, 0o755);
    open(&db, 0o644);
    open(&data.join("switchyard.db-wal"), 0o644);
    open(&data.join("switchyard.db-shm"), 0o644);
    open(&media, 0o755);
    open(&files[0], 0o644);
    let gateway = gateway_on(&data, &alpha).await;
    let root = gateway.base_url().trim_end_matches("/v1").to_owned();
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&db), 0o600);
    assert_eq!(mode(&media), 0o700);
    assert_eq!(mode(&files[0]), 0o600);
    for companion in ["switchyard.db-wal", "switchyard.db-shm"] {
        let path = data.join(companion);
        if path.exists() {
            assert_eq!(mode(&path), 0o600, "{companion}");
        }
    }
    // Nothing was lost on the way, and the log says what was changed.
    let page = rows(&root, 1).await;
    assert_eq!(page["requests"].as_array().unwrap().len(), 1);
    let said = logs.text();
    assert!(
        said.contains(&format!("{}: was readable by other users", db.display())),
        "{said}"
    );
    assert!(
        said.contains(&format!("{}: was readable by other users", data.display())),
        "{said}"
    );
    gateway.shutdown(Duration::from_secs(10)).await.unwrap();
}

#[tokio::test]
async fn a_key_the_upstream_echoes_reaches_neither_the_client_nor_any_log() {
    let logs = capture_logs();
    let h = start("").await;

    // An error answer that repeats the Authorization header it got.
    h.alpha.push(Script::EchoCredentials { status: 401 });
    let (status, headers, body) = h
        .chat(json!({"model": "alpha/gpt-4o-mini", "messages": user("hi")}))
        .await;
    assert_eq!(status, 401);
    let text = body.to_string();
    assert!(!text.contains(ALPHA_KEY), "{text}");
    assert!(
        text.contains("Incorrect API key provided: Bearer [redacted]"),
        "{text}"
    );
    let chat_id = header(&headers, "x-switchyard-request-id").to_owned();

    // The same through the proxy, which passes bodies on untouched otherwise.
    h.alpha.push(Script::EchoCredentials { status: 401 });
    let r = h
        .client
        .post(format!("{}/proxy/alpha/chat/completions", h.root()))
        .json(&json!({"model": "gpt-4o-mini", "messages": user("hi")}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let text = r.text().await.unwrap();
    assert!(
        !text.contains(ALPHA_KEY) && text.contains("[redacted]"),
        "{text}"
    );

    // An Anthropic upstream echoing x-api-key, on the native /v1/messages door.
    h.beta.push(Script::EchoCredentials { status: 401 });
    let r = h
        .client
        .post(format!("{}/messages", h.base))
        .header("anthropic-version", "2023-06-01")
        .json(&json!({"model": "beta/claude-sonnet-4-5", "max_tokens": 20, "messages": user("hi")}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let text = r.text().await.unwrap();
    assert!(
        !text.contains(BETA_KEY) && text.contains("[redacted]"),
        "{text}"
    );

    // Mid-stream, with the key cut across two pieces of the body.
    let (head, tail) = ALPHA_KEY.split_at(7);
    h.alpha.push(Script::Raw {
        status: 200,
        content_type: "text/event-stream".into(),
        events: vec![
            "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Hi\"},\"finish_reason\":null}]}\n\n".into(),
            format!("data: {{\"error\":{{\"message\":\"key {head}"),
            format!("{tail} was revoked\",\"type\":\"server_error\"}}}}\n\n"),
        ],
        delay_ms: 20,
    });
    let r = h
        .post(
            "/chat/completions",
            json!({"model": "alpha/gpt-4o-mini", "stream": true, "messages": user("hi")}),
        )
        .await;
    let stream_id = header(r.headers(), "x-switchyard-request-id").to_owned();
    let text = r.text().await.unwrap();
    assert!(
        !text.contains(ALPHA_KEY) && text.contains("key [redacted] was revoked"),
        "{text}"
    );

    h.wait_for_rows(4).await;
    for id in [&chat_id, &stream_id] {
        let (_, row) = h.admin(&format!("/admin/requests/{id}")).await;
        let row = row.to_string();
        assert!(row.contains("[redacted]"), "{row}");
        assert!(
            !row.contains(ALPHA_KEY),
            "the request log keeps the key: {row}"
        );
    }
    let (_, page) = h.admin("/admin/requests?limit=50").await;
    assert!(!page.to_string().contains(ALPHA_KEY));
    assert!(!page.to_string().contains(BETA_KEY));
    let said = logs.text();
    assert!(said.contains("key [redacted] was revoked"), "{said}");
    assert!(
        !said.contains(ALPHA_KEY) && !said.contains(BETA_KEY),
        "{said}"
    );
}

#[cfg(unix)]
#[tokio::test]
async fn media_links_planted_in_the_data_folder_are_not_followed() {
    let h = start("").await;
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("id_rsa.png");
    std::fs::write(&secret, "-----BEGIN PRIVATE KEY-----").unwrap();
    let media = h.home.path().join("media");
    std::fs::create_dir_all(&media).unwrap();
    std::fs::write(media.join("req_1-req-0.png"), b"\x89PNG real").unwrap();
    std::os::unix::fs::symlink(&secret, media.join("req_2-req-0.png")).unwrap();

    let get = |file: &str| {
        h.client
            .get(format!("{}/admin/media/{file}", h.root()))
            .bearer_auth(ADMIN_TOKEN)
            .send()
    };
    let r = get("req_1-req-0.png").await.unwrap();
    assert_eq!(r.status(), 200, "a plain file is served");
    assert_eq!(r.bytes().await.unwrap().as_ref(), b"\x89PNG real");

    let r = get("req_2-req-0.png").await.unwrap();
    assert_eq!(r.status(), 404);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found", "{body}");
    assert!(!body.to_string().contains("PRIVATE KEY"));

    // A media folder that is itself a link is not followed either.
    std::fs::remove_dir_all(&media).unwrap();
    std::fs::write(outside.path().join("req_3-req-0.png"), b"\x89PNG elsewhere").unwrap();
    std::os::unix::fs::symlink(outside.path(), &media).unwrap();
    let r = get("req_3-req-0.png").await.unwrap();
    assert_eq!(r.status(), 404);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found", "{body}");
}

#[tokio::test]
async fn valid_json_of_the_wrong_type_names_the_field_in_each_dialect() {
    let h = start("").await;
    let (status, _, body) = h
        .chat(json!({"model": "alpha/gpt-4o-mini", "messages": [{"role": 5, "content": "hi"}]}))
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["type"], "invalid_request_error");
    assert_eq!(body["error"]["param"], "messages[0].role", "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("messages[0].role: invalid type: integer `5`"),
        "{message}"
    );

    let r = h
        .client
        .post(format!("{}/messages", h.base))
        .header("anthropic-version", "2023-06-01")
        .json(&json!({"model": "beta/claude-sonnet-4-5", "max_tokens": 20,
            "messages": [{"role": 5, "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["type"], "error", "Anthropic's shape: {body}");
    assert_eq!(body["error"]["type"], "invalid_request_error");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("messages[0].role: invalid type: integer `5`"),
        "{message}"
    );

    for (extra, param) in [
        (json!({"input": 5}), "input"),
        (
            json!({"input": "hi", "max_output_tokens": "lots"}),
            "max_output_tokens",
        ),
    ] {
        let mut req = json!({"model": "alpha/gpt-4o-mini"});
        for (k, v) in extra.as_object().unwrap() {
            req[k] = v.clone();
        }
        let r = h.post("/responses", req).await;
        assert_eq!(r.status(), 400);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["param"], param, "{body}");
        assert!(
            !body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("not valid JSON"),
            "{body}"
        );
    }
    // A real syntax error is still called one.
    let r = h
        .client
        .post(format!("{}/chat/completions", h.base))
        .header("content-type", "application/json")
        .body(r#"{"model": "alpha/gpt-4o-mini", "messages": [}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not valid JSON"),
        "{body}"
    );
    assert_eq!(h.alpha.request_count() + h.beta.request_count(), 0);
}

#[tokio::test]
async fn n_is_bounded_on_every_door_that_takes_it() {
    let h = start("").await;
    for n in [
        json!(1_000_000_000_u64),
        json!(1e9),
        json!(129),
        json!(0),
        json!(-1),
    ] {
        let (status, _, body) = h
            .chat(json!({"model": "alpha/gpt-4o-mini", "n": n, "messages": user("hi")}))
            .await;
        assert_eq!(status, 400, "chat n={n}: {body}");
        assert_eq!(body["error"]["param"], "n", "chat n={n}: {body}");

        let r = h
            .post(
                "/completions",
                json!({"model": "alpha/gpt-4o-mini", "prompt": "hi", "n": n}),
            )
            .await;
        assert_eq!(r.status(), 400, "completions n={n}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["param"], "n", "completions n={n}: {body}");
    }
    for n in [json!(11), json!(1e9), json!("3")] {
        let r = h
            .post(
                "/images/generations",
                json!({"model": "alpha/gpt-4o-mini", "prompt": "a cat", "n": n}),
            )
            .await;
        assert_eq!(r.status(), 400, "images n={n}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["param"], "n", "images n={n}: {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("from 1 to 10"),
            "{body}"
        );
    }
    let form = reqwest::multipart::Form::new()
        .text("model", "alpha/gpt-4o-mini")
        .text("prompt", "a hat")
        .text("n", "1000000000")
        .part(
            "image",
            reqwest::multipart::Part::bytes(b"\x89PNG".to_vec()).file_name("a.png"),
        );
    let r = h
        .client
        .post(format!("{}/images/edits", h.base))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["param"], "n", "{body}");
    assert_eq!(h.alpha.request_count(), 0, "nothing was forwarded");

    // The limit itself is allowed through.
    let (status, _, body) = h
        .chat(json!({"model": "alpha/gpt-4o-mini", "n": 128, "messages": user("hi")}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(h.alpha.requests()[0].json().unwrap()["n"], 128);
}

#[test]
fn names_that_could_become_paths_are_refused_with_the_path_of_the_setting() {
    let provider = |name: &str| {
        format!(
            "[[providers]]\nname = \"{name}\"\nkind = \"openai\"\nbase_url = \"http://127.0.0.1:1/v1\"\nmodels = [\"m\"]\n"
        )
    };
    for bad in ["..", ".", ".hidden", "a/b", "a\\\\b", "a b", "%2e%2e"] {
        let issues = switchyard_core::Config::from_toml(&provider(bad)).unwrap_err();
        assert!(
            issues.iter().any(|i| i.path == "providers[0].name"),
            "{bad}: {issues:?}"
        );
    }
    for bad in ["..", ".x", "a/b", "a b"] {
        let text = format!(
            "{}[[aliases]]\nname = \"{bad}\"\ntargets = [\"ok/m\"]\n",
            provider("ok")
        );
        let issues = switchyard_core::Config::from_toml(&text).unwrap_err();
        assert!(
            issues.iter().any(|i| i.path == "aliases[0].name"),
            "{bad}: {issues:?}"
        );
        let text = format!(
            "[[keys]]\nname = \"{bad}\"\nhash = \"{}\"\n",
            switchyard_core::access::KeyHash::of("sk-whatever")
        );
        let issues = switchyard_core::Config::from_toml(&text).unwrap_err();
        assert!(
            issues.iter().any(|i| i.path == "keys[0].name"),
            "{bad}: {issues:?}"
        );
    }
    // Names people really use still pass, model-like alias names included.
    let text = format!(
        "{}{}[[aliases]]\nname = \"llama3.1:8b\"\ntargets = [\"lm-studio/m\"]\n[[aliases]]\nname = \"claude-sonnet-4@20250514\"\ntargets = [\"v1.local_2/m\"]\n",
        provider("lm-studio"),
        provider("v1.local_2"),
    );
    switchyard_core::Config::from_toml(&text).unwrap();
}

#[tokio::test]
async fn a_native_messages_stream_that_fails_midway_is_in_the_gateways_log() {
    let logs = capture_logs();
    let h = start("").await;
    let event = |name: &str, data: Value| format!("event: {name}\ndata: {data}\n\n");
    h.beta.push(Script::Raw {
        status: 200,
        content_type: "text/event-stream".into(),
        events: vec![
            event(
                "message_start",
                json!({"type": "message_start", "message": {"id": "msg_1", "type": "message",
                    "role": "assistant", "model": "claude-sonnet-4-5", "content": [],
                    "stop_reason": null, "usage": {"input_tokens": 3, "output_tokens": 0}}}),
            ),
            event(
                "content_block_start",
                json!({"type": "content_block_start", "index": 0,
                    "content_block": {"type": "text", "text": ""}}),
            ),
            event(
                "content_block_delta",
                json!({"type": "content_block_delta", "index": 0,
                    "delta": {"type": "text_delta", "text": "Hel"}}),
            ),
            event(
                "error",
                json!({"type": "error", "error": {"type": "overloaded_error",
                    "message": "overloaded: native-midway-7c1e"}}),
            ),
        ],
        delay_ms: 10,
    });
    let r = h
        .client
        .post(format!("{}/messages", h.base))
        .header("anthropic-version", "2023-06-01")
        .json(
            &json!({"model": "beta/claude-sonnet-4-5", "max_tokens": 20, "stream": true,
            "messages": user("hi")}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let id = header(r.headers(), "x-switchyard-request-id").to_owned();
    let text = r.text().await.unwrap();
    assert!(text.contains("native-midway-7c1e"), "{text}");

    h.wait_for_rows(1).await;
    let (_, row) = h.admin(&format!("/admin/requests/{id}")).await;
    assert_eq!(row["outcome"], "error", "{row}");
    assert_eq!(row["error"], "overloaded: native-midway-7c1e", "{row}");
    // The gateway's own log says so too, as it does for every other door.
    let line = logs
        .text()
        .lines()
        .find(|l| l.contains("native-midway-7c1e"))
        .map(str::to_owned)
        .unwrap_or_default();
    assert!(line.contains("WARN"), "{line:?}");
    assert!(
        line.contains("the answer failed after it had begun"),
        "{line:?}"
    );
    assert!(line.contains("beta/claude-sonnet-4-5"), "{line:?}");
}

/// What the gateway logged through `tracing` while the tests of this binary ran (every test's,
/// so a test looks for its own marker).
struct Captured(&'static Mutex<Vec<u8>>);

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

#[derive(Clone, Copy)]
struct Sink(&'static Mutex<Vec<u8>>);

impl std::io::Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Installs (once) a process-wide subscriber that keeps every log line in memory.
fn capture_logs() -> Captured {
    static LINES: OnceLock<&'static Mutex<Vec<u8>>> = OnceLock::new();
    let lines = *LINES.get_or_init(|| {
        let lines: &'static Mutex<Vec<u8>> = Box::leak(Box::new(Mutex::new(Vec::new())));
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::INFO)
            .with_ansi(false)
            .with_writer(move || Sink(lines))
            .finish();
        tracing::subscriber::set_global_default(subscriber).unwrap();
        lines
    });
    Captured(lines)
}
