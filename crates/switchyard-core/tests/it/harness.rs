//! A gateway with two fake upstreams (alpha: OpenAI, beta: Anthropic) and a client.

use std::time::Duration;

use serde_json::Value;
use switchyard_core::{Config, Gateway, GatewayHandle};
use switchyard_testkit::{Dialect, FakeUpstream};

pub const ALPHA_KEY: &str = "sk-alpha-test-key";
pub const BETA_KEY: &str = "sk-beta-test-key";

pub struct Harness {
    pub gateway: GatewayHandle,
    /// The data folder: request log database and media.
    pub home: tempfile::TempDir,
    pub alpha: FakeUpstream,
    pub beta: FakeUpstream,
    pub client: reqwest::Client,
    pub base: String,
}

/// The admin key every harness config carries.
pub const ADMIN_TOKEN: &str = "sk-sy-test-admin-token-0123456789abcdefghijklmnopq";

/// `extra` is appended to the config (more providers, aliases, `[timeouts]`…).
pub async fn start(extra: &str) -> Harness {
    let alpha = FakeUpstream::start(Dialect::OpenAi).await.unwrap();
    let beta = FakeUpstream::start(Dialect::Anthropic).await.unwrap();
    let home = tempfile::tempdir().unwrap();
    let text = format!(
        r#"
listen = "127.0.0.1:0"
data_dir = "{}"

[[providers]]
name = "alpha"
kind = "openai"
base_url = "{}"
api_key = "env:SWITCHYARD_TEST_ALPHA_KEY"
models = ["gpt-4o-mini", "text-embedding-3-small"]

[[providers]]
name = "beta"
kind = "anthropic"
base_url = "{}"
api_key = "env:SWITCHYARD_TEST_BETA_KEY"
models = ["claude-sonnet-4-5"]

[[aliases]]
name = "smart"
targets = ["alpha/gpt-4o-mini", "beta/claude-sonnet-4-5"]

[[keys]]
name = "test-admin"
hash = "{}"
role = "admin"

{extra}
"#,
        home.path().display(),
        alpha.base_url(),
        beta.base_url(),
        switchyard_core::access::KeyHash::of(ADMIN_TOKEN),
    );
    let path = home.path().join("config.toml");
    std::fs::write(&path, &text).unwrap();
    let config = Config::load(&path).unwrap_or_else(|e| panic!("test config: {e}"));
    let gateway = Gateway::start_with_ui(config, Some(path), switchyard_ui_assets::find)
        .await
        .unwrap();
    let base = gateway.base_url();
    Harness {
        gateway,
        home,
        alpha,
        beta,
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap(),
        base,
    }
}

impl Harness {
    pub async fn post(&self, path: &str, body: Value) -> reqwest::Response {
        self.client
            .post(format!("{}{path}", self.base))
            .bearer_auth("sk-client-secret")
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn chat(&self, body: Value) -> (u16, reqwest::header::HeaderMap, Value) {
        let r = self.post("/chat/completions", body).await;
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let json = r.json::<Value>().await.unwrap();
        (status, headers, json)
    }

    /// Streams a chat request and returns the status, headers and every SSE data payload.
    pub async fn stream(&self, body: Value) -> (u16, reqwest::header::HeaderMap, Vec<String>) {
        let r = self.post("/chat/completions", body).await;
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let text = r.text().await.unwrap_or_default();
        (status, headers, sse_data(&text))
    }
}

pub fn sse_data(text: &str) -> Vec<String> {
    text.split("\n\n")
        .filter_map(|event| {
            let data: Vec<&str> = event
                .lines()
                .filter_map(|l| l.strip_prefix("data: "))
                .collect();
            (!data.is_empty()).then(|| data.join("\n"))
        })
        .collect()
}

pub fn user(text: &str) -> Value {
    serde_json::json!([{"role": "user", "content": text}])
}

pub fn header<'a>(headers: &'a reqwest::header::HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// The concatenated `delta.content` of an SSE chat stream.
pub fn stream_text(sse: &str) -> String {
    sse_data(sse)
        .iter()
        .filter_map(|d| serde_json::from_str::<Value>(d).ok())
        .filter_map(|c| {
            c["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_owned)
        })
        .collect()
}

/// An upstream error answer with this status and message.
pub fn upstream_error(status: u16, message: impl Into<String>) -> switchyard_testkit::Script {
    switchyard_testkit::Script::Error {
        status,
        message: message.into(),
        retry_after: None,
        error_type: None,
    }
}

impl Harness {
    /// Stops the gateway gracefully (the request log drains) and opens its database.
    pub async fn stop_and_open_log(self) -> (switchyard_core::store::Store, tempfile::TempDir) {
        self.gateway
            .shutdown(Duration::from_secs(10))
            .await
            .unwrap();
        let store = switchyard_core::store::Store::open_read_only(self.home.path())
            .await
            .unwrap();
        (store, self.home)
    }

    /// Waits until the request log holds `n` rows (the writer commits within milliseconds).
    pub async fn wait_for_rows(&self, n: usize) -> Value {
        let url = format!(
            "{}/admin/requests?limit=500",
            self.base.trim_end_matches("/v1")
        );
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let page: Value = self
                .client
                .get(&url)
                .bearer_auth(ADMIN_TOKEN)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if page["requests"].as_array().is_some_and(|r| r.len() >= n)
                || std::time::Instant::now() > deadline
            {
                return page;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    pub async fn admin(&self, path: &str) -> (u16, Value) {
        self.admin_send(reqwest::Method::GET, path, None).await
    }

    /// An admin call with the harness's admin key.
    pub async fn admin_send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut r = self
            .client
            .request(method, format!("{}{path}", self.root()))
            .bearer_auth(ADMIN_TOKEN);
        if let Some(body) = body {
            r = r.json(&body);
        }
        let r = r.send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// `http://127.0.0.1:PORT`, without `/v1`.
    pub fn root(&self) -> &str {
        self.base.trim_end_matches("/v1")
    }

    pub fn config_path(&self) -> std::path::PathBuf {
        self.home.path().join("config.toml")
    }
}
