//! Providers as the catalog makes them: presets that need only a key, Azure's deployment URLs
//! and `api-key` header, Ollama's own model list, and first-run discovery of local runtimes
//! and environment keys.

use serde_json::json;
use switchyard_core::config::edit::ConfigDoc;
use switchyard_core::{Config, onboarding};
use switchyard_testkit::{Dialect, FakeUpstream};

use crate::harness::{start, user};

#[tokio::test]
async fn azure_deployments_go_in_the_path_with_the_api_version_and_the_api_key_header() {
    let azure = FakeUpstream::start(Dialect::OpenAi).await.unwrap();
    let root = azure.base_url().trim_end_matches("/v1").to_owned();
    let h = start(&format!(
        r#"
[[providers]]
name = "az"
kind = "azure"
base_url = "{root}"
api_key = "env:SWITCHYARD_TEST_ALPHA_KEY"
models = ["my-gpt4o"]
"#
    ))
    .await;
    let (status, _, body) = h
        .chat(json!({"model": "az/my-gpt4o", "messages": user("hi")}))
        .await;
    assert_eq!(status, 200, "{body}");
    let sent = azure.requests();
    let chat = sent.last().unwrap();
    assert_eq!(
        chat.path,
        "/openai/deployments/my-gpt4o/chat/completions?api-version=2024-10-21"
    );
    assert_eq!(chat.header("api-key"), Some("sk-alpha-test-key"));
    assert_eq!(chat.header("authorization"), None);
}

#[tokio::test]
async fn an_ollama_preset_lists_its_models_from_api_tags_and_sends_no_key() {
    let ollama = FakeUpstream::start(Dialect::OpenAi).await.unwrap();
    let h = start(&format!(
        "[[providers]]\nname = \"local\"\npreset = \"ollama\"\nbase_url = \"{}\"\n",
        ollama.base_url()
    ))
    .await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(8);
    let card = loop {
        let (_, list) = h.admin("/v1/models").await;
        let found = list["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["provider"] == "local")
            .cloned();
        if let Some(card) = found {
            break card;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no models from /api/tags: {list}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(card["id"], "local/fake-model");
    assert!(
        ollama.requests().iter().any(|r| r.path == "/api/tags"),
        "Ollama's native list was read"
    );
    let (status, _, _) = h
        .chat(json!({"model": "local/fake-model", "messages": user("hi")}))
        .await;
    assert_eq!(status, 200);
    assert!(
        ollama
            .requests()
            .iter()
            .all(|r| r.header("authorization").is_none())
    );
}

#[tokio::test]
async fn first_run_finds_local_runtimes_and_env_keys_and_adds_them_as_presets() {
    let lmstudio = FakeUpstream::start(Dialect::OpenAi).await.unwrap();
    let config = Config::default();
    let survey = onboarding::survey_with(
        &config,
        &[
            ("lmstudio", lmstudio.base_url()),
            ("vllm", switchyard_testkit::refused_base_url()),
        ],
        |var| (var == "GROQ_API_KEY").then(|| "gsk-from-the-environment".to_owned()),
    )
    .await;
    assert_eq!(survey.runtimes.len(), 1, "{survey:?}");
    assert_eq!(survey.runtimes[0].preset, "lmstudio");
    assert_eq!(survey.runtimes[0].models[0].id, "fake-model");
    assert_eq!(survey.env_keys.len(), 1);
    assert_eq!(survey.env_keys[0].env_var, "GROQ_API_KEY");
    assert!(
        !format!("{survey:?}").contains("gsk-from-the-environment"),
        "a survey names keys, never holds them"
    );

    let plan = onboarding::plan(&survey, None, |_| None).unwrap();
    let mut doc = ConfigDoc::parse("# mine\n").unwrap();
    let names = onboarding::add_all(&mut doc, &plan).unwrap();
    assert_eq!(names, vec!["lmstudio".to_owned(), "groq".to_owned()]);
    let text = doc.text();
    let config = Config::from_toml(&text).unwrap();
    let groq = config.provider("groq").unwrap();
    assert_eq!(groq.base_url, "https://api.groq.com/openai/v1");
    assert_eq!(
        groq.api_key.as_ref().unwrap().to_string(),
        "env:GROQ_API_KEY"
    );
    assert_eq!(
        config.provider("lmstudio").unwrap().base_url,
        lmstudio.base_url()
    );
    assert!(text.contains("# mine\n"), "{text}");
}

#[tokio::test]
async fn a_provider_proxy_carries_its_requests() {
    // The upstream's name does not resolve: only the proxy can reach it. The fake stands in for
    // the proxy, answering absolute-form requests as a forwarding proxy would pass them on.
    let proxy = FakeUpstream::start(Dialect::OpenAi).await.unwrap();
    let proxy_url = proxy.base_url().trim_end_matches("/v1").to_owned();
    let h = start(&format!(
        r#"
[[providers]]
name = "far"
kind = "openai"
base_url = "http://upstream.invalid/v1"
proxy = "{proxy_url}"
models = ["m"]
"#
    ))
    .await;
    let (status, _, body) = h
        .chat(json!({"model": "far/m", "messages": user("hi")}))
        .await;
    assert_eq!(status, 200, "{body}");
    let sent = proxy.requests();
    let chat = sent.last().unwrap();
    assert_eq!(chat.path, "/v1/chat/completions");
    assert_eq!(chat.header("host"), Some("upstream.invalid"));
}
