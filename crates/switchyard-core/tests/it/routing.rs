//! Routing that chooses: a bare id served twice is a pool; aliases and pools spread requests by
//! strategy, skip members that cannot serve a request, and fall back to a local model offline.
//! Upstreams are the test kit's fakes, several per test, scripted with latency and faults.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::{Value, json};
use switchyard_testkit::{Dialect, FakeUpstream, Reply, Script, refused_base_url};

use crate::harness::{Harness, header, start, upstream_error, user};

/// `n` OpenAI-dialect fake upstreams, and `[[providers]]` entries `p0`, `p1`… for them, each
/// serving model `m` (plus `extra` lines per provider, by index).
async fn providers(n: usize, extra: &[&str]) -> (Vec<FakeUpstream>, String) {
    let mut fakes = Vec::new();
    let mut text = String::new();
    for i in 0..n {
        let fake = FakeUpstream::start(Dialect::OpenAi).await.unwrap();
        text.push_str(&format!(
            "[[providers]]\nname = \"p{i}\"\nkind = \"openai\"\nbase_url = \"{}\"\nmodels = [\"m\"]\n{}\n\n",
            fake.base_url(),
            extra.get(i).copied().unwrap_or("")
        ));
        fakes.push(fake);
    }
    (fakes, text)
}

/// Sends `n` chat requests for `model` one after the other; counts who answered.
async fn tally(h: &Harness, model: &str, n: usize, stream: bool) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for _ in 0..n {
        let r = h
            .post(
                "/chat/completions",
                json!({"model": model, "messages": user("hi"), "stream": stream}),
            )
            .await;
        assert_eq!(r.status(), 200);
        let target = header(r.headers(), "x-switchyard-target").to_owned();
        let _ = r.bytes().await.unwrap();
        *counts.entry(target).or_default() += 1;
    }
    counts
}

/// A stream whose content arrives `ms` after its first (role) chunk: the time to first token.
fn slow_stream(ms: u64) -> Script {
    Script::Reply(Reply {
        text: Some("one two three".into()),
        chunks: 3,
        chunk_delay_ms: ms,
        ..Reply::default()
    })
}

#[tokio::test]
async fn a_bare_id_two_providers_serve_is_one_pool_that_survives_one_of_them_down() {
    let (_fakes, text) = providers(1, &[]).await;
    let dead = format!(
        "{text}[[providers]]\nname = \"down\"\nkind = \"openai\"\nbase_url = \"{}\"\nmodels = [\"m\"]\n",
        refused_base_url()
    );
    let h = start(&dead).await;
    let (_, models) = h.admin("/v1/models").await;
    let listed: Vec<&Value> = models["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["id"] == "m")
        .collect();
    assert_eq!(listed.len(), 1, "listed once: {models}");
    assert_eq!(listed[0]["targets"], json!(["p0/m", "down/m"]));
    assert_eq!(listed[0]["routing"]["kind"], "model_pool");
    assert_eq!(listed[0]["routing"]["strategy"], "ordered");
    for _ in 0..20 {
        let (status, headers, body) = h.chat(json!({"model": "m", "messages": user("hi")})).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(header(&headers, "x-switchyard-target"), "p0/m");
    }
    // Pinning one provider still works, and is not a pool.
    let (status, headers, _) = h
        .chat(json!({"model": "down/m", "messages": user("hi")}))
        .await;
    assert_eq!(status, 502);
    assert_eq!(
        header(&headers, "x-switchyard-attempts"),
        "down/m=connect_error; down/m=connect_error"
    );
}

#[tokio::test]
async fn a_bare_pool_fails_over_to_the_member_that_is_up_whichever_comes_first() {
    let (_fakes, text) = providers(1, &[]).await;
    let text = format!(
        "[routing]\ndefault_strategy = \"round_robin\"\n\n[[providers]]\nname = \"down\"\nkind = \"openai\"\nbase_url = \"{}\"\nmodels = [\"m\"]\n\n{text}",
        refused_base_url()
    );
    let h = start(&text).await;
    let counts = tally(&h, "m", 10, false).await;
    assert_eq!(counts.get("p0/m"), Some(&10), "{counts:?}");
}

#[tokio::test]
async fn round_robin_alternates_and_the_trail_names_the_strategy() {
    let (_fakes, text) = providers(2, &[]).await;
    let h = start(&format!(
        "{text}[[aliases]]\nname = \"rr\"\nstrategy = \"round_robin\"\ntargets = [\"p0/m\", \"p1/m\"]\n"
    ))
    .await;
    let mut seen = Vec::new();
    for _ in 0..6 {
        let (status, headers, _) = h.chat(json!({"model": "rr", "messages": user("hi")})).await;
        assert_eq!(status, 200);
        seen.push(header(&headers, "x-switchyard-target").to_owned());
        let trail = header(&headers, "x-switchyard-attempts");
        assert!(trail.starts_with("strategy=round_robin; "), "{trail}");
    }
    for pair in seen.windows(2) {
        assert_ne!(pair[0], pair[1], "{seen:?}");
    }
}

#[tokio::test]
async fn weighted_three_to_one_and_weight_zero_only_for_failover() {
    let (fakes, text) = providers(3, &[]).await;
    let h = start(&format!(
        "{text}[[aliases]]\nname = \"split\"\nstrategy = \"weighted\"\ntargets = [{{ model = \"p0/m\", weight = 3 }}, {{ model = \"p1/m\", weight = 1 }}, {{ model = \"p2/m\", weight = 0 }}]\n"
    ))
    .await;
    let counts = tally(&h, "split", 400, false).await;
    let share = *counts.get("p0/m").unwrap_or(&0) as f64 / 400.0;
    // 3:1 is 0.75; over 400 draws the standard deviation is about 0.022: ±0.1 is > 4 sigma.
    assert!((0.65..=0.85).contains(&share), "{counts:?}");
    assert_eq!(
        counts.get("p2/m"),
        None,
        "weight 0 is never first: {counts:?}"
    );
    // …but it is still a failover target.
    fakes[0].set_default(upstream_error(503, "down"));
    fakes[1].set_default(upstream_error(503, "down"));
    let (status, headers, _) = h
        .chat(json!({"model": "split", "messages": user("hi")}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "x-switchyard-target"), "p2/m");
}

#[tokio::test]
async fn least_latency_prefers_the_faster_member_and_notices_when_the_slow_one_recovers() {
    let (fakes, text) = providers(2, &[]).await;
    let h = start(&format!(
        "{text}[[aliases]]\nname = \"fast\"\nstrategy = \"least_latency\"\ntargets = [\"p0/m\", \"p1/m\"]\n"
    ))
    .await;
    fakes[0].set_default(slow_stream(60));
    fakes[1].set_default(slow_stream(2));
    // Warm-up: each member gets its first samples.
    let _ = tally(&h, "fast", 4, true).await;
    let counts = tally(&h, "fast", 40, true).await;
    let fast = *counts.get("p1/m").unwrap_or(&0);
    assert!(fast >= 32, "at least 80% to the faster member: {counts:?}");
    assert!(
        counts.get("p0/m").is_some_and(|&n| n >= 2),
        "the slower member is re-probed now and then: {counts:?}"
    );

    // The slow member becomes the fast one: within a bounded number of requests the traffic
    // follows (probes every 10th request, the estimate moves 30% per sample).
    fakes[0].set_default(slow_stream(2));
    fakes[1].set_default(slow_stream(60));
    let mut moved_after = None;
    for i in 0..150 {
        let r = h
            .post(
                "/chat/completions",
                json!({"model": "fast", "messages": user("hi"), "stream": true}),
            )
            .await;
        let target = header(r.headers(), "x-switchyard-target").to_owned();
        let _ = r.bytes().await.unwrap();
        if target == "p0/m" {
            let next = tally(&h, "fast", 5, true).await;
            if next.get("p0/m") == Some(&5) {
                moved_after = Some(i);
                break;
            }
        }
    }
    assert!(
        moved_after.is_some(),
        "traffic moved back to the recovered member"
    );
    let (_, table) = h.admin("/admin/routing").await;
    let route = table["routes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "fast")
        .unwrap();
    assert_eq!(route["strategy"], "least_latency");
    assert_eq!(route["members"][0]["target"], "p0/m", "{route}");
    assert!(route["members"][0]["ttft_ms"].as_f64().is_some(), "{route}");
}

#[tokio::test]
async fn least_busy_spreads_concurrent_streams() {
    let (fakes, text) = providers(2, &[]).await;
    let h = start(&format!(
        "{text}[[aliases]]\nname = \"busy\"\nstrategy = \"least_busy\"\ntargets = [\"p0/m\", \"p1/m\"]\n"
    ))
    .await;
    for f in &fakes {
        f.set_default(slow_stream(150));
    }
    let mut tasks = Vec::new();
    for i in 0..8 {
        let client = reqwest::Client::new();
        let url = format!("{}/chat/completions", h.base);
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(i * 30)).await;
            let r = client
                .post(url)
                .bearer_auth("sk-client-secret")
                .json(&json!({"model": "busy", "messages": [{"role": "user", "content": "hi"}], "stream": true}))
                .send()
                .await
                .unwrap();
            let target = r.headers()["x-switchyard-target"].to_str().unwrap().to_owned();
            let _ = r.bytes().await.unwrap();
            target
        }));
    }
    let mut counts: HashMap<String, usize> = HashMap::new();
    for t in tasks {
        *counts.entry(t.await.unwrap()).or_default() += 1;
    }
    // In order, all eight would go to p0; spread by requests in flight, about half each.
    for member in ["p0/m", "p1/m"] {
        let n = counts.get(member).copied().unwrap_or(0);
        assert!((3..=5).contains(&n), "{counts:?}");
    }
}

#[tokio::test]
async fn cheapest_goes_by_price_and_unknown_prices_go_last() {
    let (_fakes, text) = providers(
        3,
        &[
            "",
            "prices = { m = { input = 3.0, output = 15.0 } }",
            "prices = { m = { input = 0.15, output = 0.6 } }",
        ],
    )
    .await;
    let h = start(&format!(
        "{text}[[aliases]]\nname = \"thrifty\"\nstrategy = \"cheapest\"\ntargets = [\"p0/m\", \"p1/m\", \"p2/m\"]\n"
    ))
    .await;
    let counts = tally(&h, "thrifty", 5, false).await;
    assert_eq!(counts.get("p2/m"), Some(&5), "{counts:?}");
    let (_, table) = h.admin("/admin/routing").await;
    let route = table["routes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "thrifty")
        .unwrap();
    let order: Vec<&str> = route["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["target"].as_str().unwrap())
        .collect();
    assert_eq!(order, ["p2/m", "p1/m", "p0/m"]);
}

#[tokio::test]
async fn members_that_cannot_serve_a_request_are_skipped_and_named() {
    let (fakes, text) = providers(
        2,
        &[
            "capabilities = { m = { input = [\"text\"], tools = false, context_window = 50 } }",
            "capabilities = { m = { input = [\"text\", \"image\"], tools = true, context_window = 100000 } }",
        ],
    )
    .await;
    let h = start(&format!(
        "{text}[[aliases]]\nname = \"picky\"\ntargets = [\"p0/m\", \"p1/m\"]\n[[aliases]]\nname = \"blind\"\ntargets = [\"p0/m\"]\n"
    ))
    .await;
    let image = json!([{"role": "user", "content": [
        {"type": "text", "text": "what is this?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}
    ]}]);
    let (status, headers, body) = h.chat(json!({"model": "picky", "messages": image})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(header(&headers, "x-switchyard-target"), "p1/m");
    assert_eq!(
        header(&headers, "x-switchyard-attempts"),
        "strategy=ordered; p1/m=ok; p0/m=skipped(image)"
    );
    assert_eq!(fakes[0].request_count(), 0, "a skipped member is not tried");

    let tools =
        json!([{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]);
    let (status, headers, _) = h
        .chat(json!({"model": "picky", "messages": user("hi"), "tools": tools}))
        .await;
    assert_eq!(status, 200);
    assert!(header(&headers, "x-switchyard-attempts").ends_with("p0/m=skipped(tools)"));

    let long = "word ".repeat(400);
    let (status, headers, _) = h
        .chat(json!({"model": "picky", "messages": user(&long)}))
        .await;
    assert_eq!(status, 200);
    assert!(header(&headers, "x-switchyard-attempts").ends_with("p0/m=skipped(context)"));

    // Nothing fits: a 400 that says which requirement failed.
    let (status, headers, body) = h.chat(json!({"model": "blind", "messages": image})).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "no_capable_target");
    assert_eq!(
        body["error"]["message"],
        "no target of \"blind\" takes image input"
    );
    assert_eq!(
        header(&headers, "x-switchyard-attempts"),
        "strategy=ordered; p0/m=skipped(image)"
    );
    let (status, _, body) = h
        .chat(json!({"model": "blind", "messages": user(&long)}))
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "context_length_exceeded");
    // The same 400, in Anthropic's shape, on the Messages door.
    let r = h
        .post(
            "/messages",
            json!({"model": "blind", "max_tokens": 100, "messages": [{"role": "user", "content": [
                {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}}
            ]}]}),
        )
        .await;
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["type"], "error", "{body}");
    assert_eq!(body["error"]["type"], "invalid_request_error");

    // A pinned provider/model is never second-guessed.
    let (status, _, body) = h.chat(json!({"model": "p0/m", "messages": image})).await;
    assert_eq!(status, 200, "{body}");

    // A request every member was skipped for is nobody's failure in the log.
    let page = h.wait_for_rows(6).await;
    let refused = page["requests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["status"] == 400 && r["endpoint"] == "/v1/chat/completions")
        .unwrap();
    assert_eq!(refused["provider"], Value::Null, "{refused}");

    // The request log keeps the strategy and the skips.
    let page = h.wait_for_rows(7).await;
    let first = page["requests"].as_array().unwrap().last().unwrap();
    let id = first["id"].as_str().unwrap();
    let (_, detail) = h.admin(&format!("/admin/requests/{id}")).await;
    assert_eq!(detail["strategy"], "ordered", "{detail}");
    assert_eq!(
        detail["attempts"][1]["outcome"], "skipped(image)",
        "{detail}"
    );
}

#[tokio::test]
async fn capability_pools_follow_declared_capabilities_and_rebuild_on_change() {
    let (_fakes, text) = providers(
        3,
        &[
            "capabilities = { m = { input = [\"text\", \"image\"], tools = true } }",
            "capabilities = { m = { input = [\"text\"], tools = true } }",
            "capabilities = { m = { input = [\"text\", \"image\"], tools = false } }",
        ],
    )
    .await;
    let h = start(&format!(
        "{text}[[pools]]\nname = \"vision\"\nrequire = {{ input = [\"image\"], tools = true }}\nstrategy = \"round_robin\"\nmodels = [\"m\"]\n\n[[pools]]\nname = \"huge\"\nrequire = {{ min_context = 1000000 }}\n"
    ))
    .await;
    let (_, models) = h.admin("/v1/models").await;
    let card = models["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "vision")
        .unwrap()
        .clone();
    assert_eq!(card["targets"], json!(["p0/m"]));
    assert_eq!(card["routing"]["kind"], "pool");
    assert_eq!(card["routing"]["require"], "input image, tools");

    // Declaring p1/m's image input (as the UI does) brings it into the pool.
    let (status, body) = h
        .admin_send(
            reqwest::Method::PATCH,
            "/admin/models/p1/m",
            Some(json!({"input": ["text", "image"]})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, pool) = h.admin("/admin/pools/vision").await;
    assert_eq!(pool["members"], json!(["p0/m", "p1/m"]), "{pool}");
    let counts = tally(&h, "vision", 4, false).await;
    assert_eq!(
        (counts.get("p0/m"), counts.get("p1/m")),
        (Some(&2), Some(&2))
    );

    // A pool nobody qualifies for is a clear 503 naming the requirement.
    let (status, _, body) = h
        .chat(json!({"model": "huge", "messages": user("hi")}))
        .await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["code"], "pool_empty");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("context >= 1000000"),
        "{body}"
    );

    // Pools are edited live through the admin API, and rebuilt on demand.
    let (status, body) = h
        .admin_send(
            reqwest::Method::POST,
            "/admin/pools",
            Some(json!({"name": "toolless", "require": {"tools": false}, "models": ["m"]})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["members"], json!(["p2/m"]));
    let (status, body) = h
        .admin_send(reqwest::Method::POST, "/admin/pools/rebuild", None)
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["pools"].as_array().unwrap().len(), 3);
    let (status, _) = h
        .admin_send(reqwest::Method::DELETE, "/admin/pools/toolless", None)
        .await;
    assert_eq!(status, 204);
    let (status, _, _) = h
        .chat(json!({"model": "toolless", "messages": user("hi")}))
        .await;
    assert_eq!(status, 404);
    let config = std::fs::read_to_string(h.config_path()).unwrap();
    assert!(!config.contains("toolless"), "{config}");
}

#[tokio::test]
async fn offline_a_local_model_answers_but_a_5xx_is_not_offline() {
    let dead = format!(
        "[[providers]]\nname = \"cloud\"\nkind = \"openai\"\nbase_url = \"{}\"\nmodels = [\"big\"]\n\n[[aliases]]\nname = \"work\"\nfallback = \"local\"\ntargets = [\"cloud/big\"]\n\n[[aliases]]\nname = \"flaky\"\nfallback = \"local\"\ntargets = [\"alpha/gpt-4o-mini\"]\n",
        refused_base_url()
    );
    let h = start(&dead).await;
    let (status, headers, body) = h
        .chat(json!({"model": "work", "messages": user("hi")}))
        .await;
    assert_eq!(status, 200, "{body}");
    // The fakes listen on 127.0.0.1: local runtimes, by address. The first that chats answers.
    assert_eq!(header(&headers, "x-switchyard-target"), "alpha/gpt-4o-mini");
    assert_eq!(
        header(&headers, "x-switchyard-attempts"),
        "strategy=ordered; cloud/big=connect_error; cloud/big=connect_error; fallback=local; alpha/gpt-4o-mini=ok"
    );
    // Streams too.
    let (status, headers, _) = h
        .stream(json!({"model": "work", "messages": user("hi"), "stream": true}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "x-switchyard-target"), "alpha/gpt-4o-mini");

    // A plain 5xx is not "offline": the client gets the error, nothing else is tried.
    h.alpha.set_default(upstream_error(503, "overloaded"));
    let (status, headers, _) = h
        .chat(json!({"model": "flaky", "messages": user("hi")}))
        .await;
    assert_eq!(status, 503);
    assert!(
        !header(&headers, "x-switchyard-attempts").contains("fallback"),
        "{headers:?}"
    );
    assert_eq!(h.beta.request_count(), 0);

    // The log says the answer came from the fallback.
    let page = h.wait_for_rows(3).await;
    let first = page["requests"].as_array().unwrap().last().unwrap();
    let (_, detail) = h
        .admin(&format!(
            "/admin/requests/{}",
            first["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(detail["attempts"][2]["fallback"], true, "{detail}");
}

#[tokio::test]
async fn routing_figures_reach_metrics() {
    let h = start("").await;
    let (status, _, _) = h
        .chat(json!({"model": "smart", "messages": user("hi")}))
        .await;
    assert_eq!(status, 200);
    let text = reqwest::get(format!("{}/metrics", h.root()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains(
            "switchyard_target_latency_seconds{target=\"alpha/gpt-4o-mini\",kind=\"total\"}"
        ),
        "{text}"
    );
    assert!(text.contains("switchyard_target_in_flight{target=\"alpha/gpt-4o-mini\"} 0"));
}

#[tokio::test]
async fn the_default_strategy_of_bare_id_pools_is_a_setting() {
    let (_fakes, text) = providers(2, &[]).await;
    let h = start(&text).await;
    assert_eq!(tally(&h, "m", 4, false).await.get("p0/m"), Some(&4));
    let (status, body) = h
        .admin_send(
            reqwest::Method::PATCH,
            "/admin/settings",
            Some(json!({"routing": {"default_strategy": "round_robin"}})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["routing"]["default_strategy"], "round_robin", "{body}");
    let counts = tally(&h, "m", 4, false).await;
    assert_eq!(
        (counts.get("p0/m"), counts.get("p1/m")),
        (Some(&2), Some(&2))
    );
    // A strategy that does not exist is refused with the validator's words; nothing is written.
    let (status, body) = h
        .admin_send(
            reqwest::Method::PATCH,
            "/admin/settings",
            Some(json!({"routing": {"default_strategy": "fastest"}})),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("unknown strategy \"fastest\""),
        "{body}"
    );
    let config = std::fs::read_to_string(h.config_path()).unwrap();
    assert!(!config.contains("fastest"), "{config}");
}
