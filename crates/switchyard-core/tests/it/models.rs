//! The model list serves OpenAI and Anthropic clients alike.

use serde_json::Value;

use crate::harness::start;

#[tokio::test]
async fn lists_provider_models_and_aliases_with_their_provider() {
    let h = start("").await;
    let list: Value = h
        .client
        .get(format!("{}/models", h.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["object"], "list");
    let ids: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "alpha/gpt-4o-mini",
            "alpha/text-embedding-3-small",
            "beta/claude-sonnet-4-5",
            "smart"
        ]
    );
    let first = &list["data"][0];
    assert_eq!(first["object"], "model");
    assert_eq!(first["owned_by"], "alpha");
    assert_eq!(first["provider"], "alpha");
    assert_eq!(
        first["type"], "model",
        "Anthropic clients read type/display_name/created_at"
    );
    assert!(first["created"].is_u64());
    assert_eq!(list["data"][1]["capabilities"]["embeddings"], true);
    assert_eq!(list["data"][3]["provider"], Value::Null);
    assert_eq!(list["data"][3]["targets"][1], "beta/claude-sonnet-4-5");
    assert_eq!(list["has_more"], false);
    assert_eq!(list["first_id"], "alpha/gpt-4o-mini");

    let one: Value = h
        .client
        .get(format!("{}/models/beta/claude-sonnet-4-5", h.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(one["id"], "beta/claude-sonnet-4-5");
    let missing = h
        .client
        .get(format!("{}/models/nope", h.base))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn healthz_answers() {
    let h = start("").await;
    let health: Value = h
        .client
        .get(h.base.replace("/v1", "/healthz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["providers"], 2);
}

#[tokio::test]
async fn a_reload_swaps_the_routing_table_and_keeps_serving() {
    let h = start("").await;
    let config = format!(
        "listen = \"127.0.0.1:0\"\ndata_dir = \"{}\"\n[[providers]]\nname = \"alpha\"\nkind = \"openai\"\nbase_url = \"{}\"\nmodels = [\"gpt-4o-mini\"]\n[[aliases]]\nname = \"fresh\"\ntargets = [\"alpha/gpt-4o-mini\"]\n",
        h.home.path().display(),
        h.alpha.base_url()
    );
    h.gateway
        .reload(switchyard_core::Config::from_toml(&config).unwrap())
        .await
        .unwrap();
    let list: Value = h
        .client
        .get(format!("{}/models", h.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["alpha/gpt-4o-mini", "fresh"]);
    let (status, _, _) = h
        .chat(serde_json::json!({"model": "fresh", "messages": crate::harness::user("hi")}))
        .await;
    assert_eq!(status, 200);
    let (status, _, _) = h
        .chat(serde_json::json!({"model": "smart", "messages": crate::harness::user("hi")}))
        .await;
    assert_eq!(status, 404, "the old alias is gone");
}
