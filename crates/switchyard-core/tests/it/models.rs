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

#[tokio::test]
async fn a_bare_id_that_chat_accepts_is_found_by_the_model_lookup_too() {
    let h = start("").await;
    for id in ["gpt-4o-mini", "alpha/gpt-4o-mini", "smart"] {
        let r = h
            .client
            .get(format!("{}/models/{id}", h.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{id}");
        let card: Value = r.json().await.unwrap();
        assert_eq!(card["id"], id, "shown under the id asked for");
        assert_eq!(card["object"], "model");
    }
    // The bare id routes to alpha, and its card says so.
    let card: Value = h
        .client
        .get(format!("{}/models/gpt-4o-mini", h.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(card["owned_by"], "alpha");
    let (status, _, _) = h
        .chat(serde_json::json!({"model": "gpt-4o-mini", "messages": crate::harness::user("hi")}))
        .await;
    assert_eq!(status, 200, "chat accepts the same id");
    let r = h
        .client
        .get(format!("{}/models/no-such-model", h.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn an_alias_answer_names_the_model_that_answered_and_the_header_its_target() {
    let h = start("").await;
    let (status, headers, answer) = h
        .chat(serde_json::json!({"model": "smart", "messages": crate::harness::user("hi")}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(answer["model"], "gpt-4o-mini");
    assert_eq!(
        crate::harness::header(&headers, "x-switchyard-target"),
        "alpha/gpt-4o-mini"
    );
}

#[tokio::test]
async fn a_base_url_without_v1_gets_a_404_that_says_how_to_fix_it() {
    let h = start("").await;
    let r = h
        .client
        .post(format!("{}/chat/completions", h.root()))
        .json(&serde_json::json!({"model": "smart", "messages": crate::harness::user("hi")}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unknown_route");
    let message = body["error"]["message"].as_str().unwrap();
    let expected = format!(
        "Did you mean /v1/chat/completions? Set your base URL to {}",
        h.base
    );
    assert!(message.contains(&expected), "{message}");
    assert_eq!(h.alpha.request_count(), 0);

    // Other unknown paths are 404s too, not requests for an admin key.
    let r = h
        .client
        .get(format!("{}/no/such/thing", h.root()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["type"], "invalid_request_error");

    // `GET /` lists every door.
    let root: Value = h
        .client
        .get(format!("{}/", h.root()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let endpoints: Vec<&str> = root["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for door in [
        "/v1/chat/completions",
        "/v1/responses",
        "/v1/messages",
        "/v1/audio/speech",
    ] {
        assert!(endpoints.contains(&door), "{door}: {endpoints:?}");
    }
}
