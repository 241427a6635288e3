//! The request log: one row per /v1 request with what the client saw, written off the request
//! path and never lost; read back through the admin API and /metrics.

use std::time::Duration;

use serde_json::{Value, json};
use switchyard_testkit::{Dialect, FakeUpstream, Reply, Script, ToolCallSpec};

use crate::harness::{header, start, upstream_error, user};

#[tokio::test]
async fn a_chat_request_is_recorded_with_bodies_attempts_tokens_and_cost() {
    let h = start("").await;
    h.alpha.push(upstream_error(503, "alpha is down"));
    h.beta.push(Script::Reply(Reply {
        text: Some("Hi there".into()),
        prompt_tokens: Some(7),
        completion_tokens: Some(2),
        ..Reply::default()
    }));
    let r = h
        .client
        .post(format!("{}/chat/completions", h.base))
        .header("user-agent", "test-suite/1.0")
        .bearer_auth("sk-client-secret")
        .json(&json!({"model": "smart", "messages": user("hello log")}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let id = header(r.headers(), "x-switchyard-request-id").to_owned();
    assert!(id.starts_with("req_"), "{id}");
    let page = h.wait_for_rows(1).await;
    let row = &page["requests"][0];
    assert_eq!(row["id"], id.as_str());
    assert_eq!(row["endpoint"], "/v1/chat/completions");
    assert_eq!(row["client"], "test-suite/1.0");
    assert_eq!(row["requested_model"], "smart");
    assert_eq!(row["provider"], "beta");
    assert_eq!(row["model"], "claude-sonnet-4-5");
    assert_eq!(row["status"], 200);
    assert_eq!(row["outcome"], "ok");
    assert_eq!(row["prompt_tokens"], 7);
    assert_eq!(row["completion_tokens"], 2);
    assert!(row["latency_ms"].as_f64().unwrap() > 0.0);

    let (status, detail) = h.admin(&format!("/admin/requests/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(
        detail["request_body"]["messages"][0]["content"],
        "hello log"
    );
    assert_eq!(
        detail["response_body"]["choices"][0]["message"]["content"],
        "Hi there"
    );
    let attempts = detail["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 2);
    assert_eq!(attempts[0]["target"], "alpha/gpt-4o-mini");
    assert_eq!(attempts[0]["status"], 503);
    assert_eq!(attempts[1]["outcome"], "ok");
    let (_, missing) = h.admin("/admin/requests/req_nope").await;
    assert_eq!(missing["error"]["code"], "request_not_found");
}

#[tokio::test]
async fn cost_is_estimated_from_the_answering_providers_price() {
    let up = FakeUpstream::start(Dialect::OpenAi).await.unwrap();
    up.set_default(Script::Reply(Reply {
        prompt_tokens: Some(1_000_000),
        completion_tokens: Some(500_000),
        cached_tokens: 400_000,
        ..Reply::default()
    }));
    let extra = format!(
        "[[providers]]\nname = \"priced\"\nkind = \"openai\"\nbase_url = \"{}\"\nmodels = [\"m\"]\n[providers.prices]\nm = {{ input = 2.0, output = 8.0, cached_input = 0.5 }}",
        up.base_url()
    );
    let h = start(&extra).await;
    let (status, _, _) = h
        .chat(json!({"model": "priced/m", "messages": user("x")}))
        .await;
    assert_eq!(status, 200);
    let page = h.wait_for_rows(1).await;
    // 600k fresh × $2 + 400k cached × $0.5 + 500k out × $8 per million.
    let cost = page["requests"][0]["cost_usd"].as_f64().unwrap();
    assert!((cost - (1.2 + 0.2 + 4.0)).abs() < 1e-9, "{cost}");
    assert_eq!(page["requests"][0]["cached_tokens"], 400_000);
}

#[tokio::test]
async fn a_stream_is_recorded_as_its_reassembled_answer() {
    let h = start("").await;
    h.beta.push(Script::Reply(Reply {
        text: Some("Checking the weather".into()),
        reasoning: Some("need a tool".into()),
        tool_calls: vec![ToolCallSpec::new("get_weather", json!({"city": "Paris"}))],
        prompt_tokens: Some(30),
        completion_tokens: Some(12),
        ..Reply::default()
    }));
    let (status, headers, data) = h.stream(json!({"model": "beta/claude-sonnet-4-5", "messages": user("weather?"), "stream": true})).await;
    assert_eq!(status, 200);
    assert_eq!(data.last().map(String::as_str), Some("[DONE]"));
    let id = header(&headers, "x-switchyard-request-id").to_owned();
    h.wait_for_rows(1).await;
    let (_, d) = h.admin(&format!("/admin/requests/{id}")).await;
    assert_eq!(d["stream"], true);
    assert!(d["ttft_ms"].as_f64().unwrap() > 0.0);
    assert!(d["ttft_ms"].as_f64() <= d["latency_ms"].as_f64());
    assert_eq!(d["prompt_tokens"], 30);
    assert_eq!(d["completion_tokens"], 12);
    let m = &d["response_body"]["choices"][0]["message"];
    assert_eq!(
        m["content"].as_str().map(|s| s.replace(' ', "")),
        Some("Checkingtheweather".into())
    );
    assert_eq!(
        m["reasoning_content"].as_str().map(|s| s.replace(' ', "")),
        Some("needatool".into())
    );
    assert_eq!(m["tool_calls"][0]["function"]["name"], "get_weather");
    let args: Value = serde_json::from_str(
        m["tool_calls"][0]["function"]["arguments"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(args, json!({"city": "Paris"}));
    assert_eq!(
        d["response_body"]["choices"][0]["finish_reason"],
        "tool_calls"
    );
}

#[tokio::test]
async fn errors_rejections_mid_stream_failures_and_cancels_each_get_a_row() {
    let h = start("").await;
    // 400 from our own validation, 404 unknown model, 404 unknown route, 415.
    let (s1, _, _) = h.chat(json!({"model": "smart", "messages": []})).await;
    let (s2, _, _) = h
        .chat(json!({"model": "nope", "messages": user("x")}))
        .await;
    let s3 = h
        .client
        .get(format!("{}/nothing-here", h.base))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16();
    let s4 = h
        .client
        .post(format!("{}/chat/completions", h.base))
        .body("{}")
        .send()
        .await
        .unwrap()
        .status()
        .as_u16();
    assert_eq!((s1, s2, s3, s4), (400, 404, 404, 415));
    // A stream that fails after its first token: 200 on the wire, an error in the log.
    h.alpha.push(Script::ErrorEventAfter {
        reply: Reply::text("one two three four"),
        after: 3,
    });
    let (s5, _, _) = h
        .stream(json!({"model": "alpha/gpt-4o-mini", "messages": user("x"), "stream": true}))
        .await;
    assert_eq!(s5, 200);
    // A client that leaves mid-stream.
    h.alpha.push(Script::Reply(Reply {
        text: Some("slow ".repeat(100)),
        chunk_delay_ms: 20,
        ..Reply::default()
    }));
    let mut r = h
        .post(
            "/chat/completions",
            json!({"model": "alpha/gpt-4o-mini", "messages": user("x"), "stream": true}),
        )
        .await;
    assert!(r.chunk().await.unwrap().is_some());
    let cancelled_id = header(r.headers(), "x-switchyard-request-id").to_owned();
    drop(r);
    let page = h.wait_for_rows(6).await;
    let rows = page["requests"].as_array().unwrap();
    assert_eq!(rows.len(), 6, "{page:#}");
    let find =
        |f: &dyn Fn(&Value) -> bool| rows.iter().find(|r| f(r)).cloned().unwrap_or(Value::Null);
    assert_eq!(find(&|r| r["status"] == 400)["outcome"], "error");
    assert_eq!(
        find(&|r| r["status"] == 404 && r["requested_model"] == "nope")["error"]
            .as_str()
            .map(|e| e.contains("does not exist")),
        Some(true)
    );
    assert_eq!(
        find(&|r| r["endpoint"] == "/v1/nothing-here")["status"],
        404
    );
    assert_eq!(find(&|r| r["status"] == 415)["outcome"], "error");
    let mid = find(&|r| r["status"] == 200);
    assert_eq!(
        mid["outcome"], "error",
        "a failure inside a 200 stream is an error: {mid}"
    );
    assert!(mid["error"].as_str().is_some());
    let closed = find(&|r| r["id"] == cancelled_id.as_str());
    assert_eq!(
        (closed["status"].as_u64(), closed["outcome"].as_str()),
        (Some(499), Some("client_closed"))
    );
}

#[tokio::test]
async fn no_row_is_lost_under_concurrent_mixed_traffic_with_faults_and_cancels() {
    let slow = FakeUpstream::start(Dialect::OpenAi).await.unwrap();
    slow.set_default(Script::Reply(Reply {
        text: Some("tick ".repeat(50)),
        chunk_delay_ms: 20,
        ..Reply::default()
    }));
    let extra = format!(
        "[[providers]]\nname = \"slow\"\nkind = \"openai\"\nbase_url = \"{}\"\nmodels = [\"m\"]\n[log]\nqueue_capacity = 16",
        slow.base_url()
    );
    let h = start(&extra).await;
    for i in 0..60 {
        h.alpha.push(if i % 3 == 0 {
            upstream_error(503, "flaky")
        } else {
            upstream_error(400, "bad request upstream")
        });
    }
    let mut tasks = Vec::new();
    for i in 0..200u32 {
        let client = h.client.clone();
        let url = format!("{}/chat/completions", h.base);
        tasks.push(tokio::spawn(async move {
            let (model, stream, cancel) = match i % 5 {
                0 => ("smart", true, false),
                1 => ("smart", false, false),
                2 => ("alpha/gpt-4o-mini", i % 2 == 0, false),
                3 => ("slow/m", true, true),
                _ => ("beta/claude-sonnet-4-5", true, false),
            };
            let mut r = client
                .post(url)
                .json(&json!({"model": model, "messages": [{"role": "user", "content": format!("n{i}")}], "stream": stream}))
                .send()
                .await
                .unwrap();
            let id = r.headers()["x-switchyard-request-id"].to_str().unwrap().to_owned();
            let mut seen = r.status().as_u16();
            if cancel {
                assert!(r.chunk().await.unwrap().is_some());
                drop(r);
                seen = 499;
            } else {
                let body = r.text().await.unwrap();
                if stream && seen == 200 {
                    assert!(body.ends_with("data: [DONE]\n\n"), "{body}");
                }
            }
            (id, seen)
        }));
    }
    let mut seen = Vec::new();
    for t in tasks {
        seen.push(t.await.unwrap());
    }
    let (store, home) = h.stop_and_open_log().await;
    assert_eq!(store.count_requests().await.unwrap(), 200);
    // A clean stop folds the write-ahead log back into the database file.
    let wal = std::fs::metadata(home.path().join("switchyard.db-wal")).map_or(0, |m| m.len());
    assert_eq!(wal, 0, "the WAL is checkpointed at close");
    let mut statuses = std::collections::BTreeMap::new();
    for (id, status) in &seen {
        let row = store
            .get_request(id)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("no row for {id}"));
        assert_eq!(row.summary.status, *status, "{id}");
        *statuses.entry(*status).or_insert(0) += 1;
    }
    assert!(
        statuses.contains_key(&200) && statuses.contains_key(&400) && statuses.contains_key(&499),
        "{statuses:?}"
    );
}

#[tokio::test]
async fn statistics_days_histogram_tokens_and_metrics_agree_with_the_traffic() {
    let h = start("").await;
    h.alpha.set_default(Script::Reply(Reply {
        prompt_tokens: Some(10),
        completion_tokens: Some(5),
        ..Reply::default()
    }));
    for _ in 0..4 {
        assert_eq!(
            h.chat(json!({"model": "alpha/gpt-4o-mini", "messages": user("x")}))
                .await
                .0,
            200
        );
    }
    assert_eq!(
        h.chat(json!({"model": "nope", "messages": user("x")}))
            .await
            .0,
        404
    );
    h.wait_for_rows(5).await;

    let (_, stats) = h.admin("/admin/stats?window=24h").await;
    assert_eq!(stats["total"]["requests"], 5);
    assert_eq!(stats["total"]["errors"], 1);
    assert_eq!(stats["total"]["prompt_tokens"], 40);
    assert!(
        stats["total"]["latency_p50_ms"].as_f64().unwrap()
            <= stats["total"]["latency_p99_ms"].as_f64().unwrap()
    );
    let alpha = stats["by_model"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["key"] == "alpha/gpt-4o-mini")
        .unwrap();
    assert_eq!(
        (alpha["requests"].as_i64(), alpha["errors"].as_i64()),
        (Some(4), Some(0))
    );
    let provider = stats["by_provider"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["key"] == "alpha")
        .unwrap();
    assert_eq!(provider["completion_tokens"], 20);
    let (status, bad) = h.admin("/admin/stats?window=forever").await;
    assert_eq!(
        (status, bad["error"]["param"].as_str()),
        (400, Some("window"))
    );

    let (_, days) = h.admin("/admin/traffic/days").await;
    assert_eq!(days["days"].as_array().unwrap().len(), 1);
    assert_eq!(days["days"][0]["requests"], 5);
    let (_, hist) = h.admin("/admin/stats/latency?window=1h").await;
    let total: i64 = hist["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["count"].as_i64().unwrap())
        .sum();
    assert_eq!(total, 5);
    let (_, series) = h.admin("/admin/stats/tokens?window=1h&bucket=1h").await;
    let points = series["points"].as_array().unwrap();
    assert_eq!(
        points
            .iter()
            .map(|p| p["prompt_tokens"].as_i64().unwrap())
            .sum::<i64>(),
        40
    );

    // Filters and cursor pagination walk every row exactly once.
    let (_, only_404) = h.admin("/admin/requests?status=404").await;
    assert_eq!(only_404["requests"].as_array().unwrap().len(), 1);
    let mut ids = Vec::new();
    let mut cursor = String::new();
    loop {
        let (_, page) = h
            .admin(&format!("/admin/requests?limit=2&since=1h{cursor}"))
            .await;
        ids.extend(
            page["requests"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["id"].as_str().unwrap().to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => break,
        }
    }
    let unique: std::collections::BTreeSet<_> = ids.iter().collect();
    assert_eq!((ids.len(), unique.len()), (5, 5));

    let metrics = h
        .client
        .get(h.base.replace("/v1", "/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("switchyard_requests_total{model=\"alpha/gpt-4o-mini\",provider=\"alpha\",status=\"200\"} 4"), "{metrics}");
    assert!(
        metrics
            .contains("switchyard_requests_total{model=\"nope\",provider=\"\",status=\"404\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains(
        "switchyard_tokens_total{model=\"alpha/gpt-4o-mini\",provider=\"alpha\",kind=\"prompt\"} 40"
    ));
    assert!(metrics.contains("switchyard_log_rows_dropped_total 0"));
    let statsz: Value = h
        .client
        .get(h.base.replace("/v1", "/statsz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(statsz["requests"], 5);
    assert_eq!(statsz["log"]["dropped"], 0);
}

#[tokio::test]
async fn images_go_to_files_and_body_capture_can_be_switched_off() {
    let h = start("").await;
    let png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";
    let body = json!({"model": "alpha/gpt-4o-mini", "messages": [{"role": "user", "content": [
        {"type": "text", "text": "what is this?"},
        {"type": "image_url", "image_url": {"url": format!("data:image/png;base64,{png}")}}
    ]}]});
    let r = h.post("/chat/completions", body).await;
    let id = header(r.headers(), "x-switchyard-request-id").to_owned();
    h.wait_for_rows(1).await;
    let (_, d) = h.admin(&format!("/admin/requests/{id}")).await;
    let file = d["media"][0].as_str().unwrap().to_owned();
    assert_eq!(
        d["request_body"]["messages"][0]["content"][1]["image_url"]["url"],
        format!("media:{file}")
    );
    let saved = std::fs::read(h.home.path().join("media").join(&file)).unwrap();
    assert!(saved.starts_with(b"\x89PNG"));
    // Peek shows it through the admin API, and only files of the log's own shape.
    let served = h
        .client
        .get(format!("{}/admin/media/{file}", h.root()))
        .bearer_auth(crate::harness::ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(served.headers()["content-type"], "image/png");
    assert_eq!(served.bytes().await.unwrap().as_ref(), saved.as_slice());
    for bad in ["..%2fswitchyard.db", "%2e%2e", ".hidden", "a%2fb.png"] {
        let (status, _) = h.admin(&format!("/admin/media/{bad}")).await;
        assert_eq!(status, 404, "{bad}");
    }

    let h = start("[log]\ncapture_bodies = false").await;
    let r = h
        .post(
            "/chat/completions",
            json!({"model": "alpha/gpt-4o-mini", "messages": user("secret prompt")}),
        )
        .await;
    let id = header(r.headers(), "x-switchyard-request-id").to_owned();
    h.wait_for_rows(1).await;
    let (_, d) = h.admin(&format!("/admin/requests/{id}")).await;
    assert_eq!(
        (d["request_body"].clone(), d["response_body"].clone()),
        (Value::Null, Value::Null)
    );
    assert_eq!(d["status"], 200);
}

#[tokio::test]
async fn retention_removes_exactly_the_old_rows() {
    use switchyard_core::record::{Outcome, RequestRecord};
    use switchyard_core::store::{LogSettings, Store};
    let home = tempfile::tempdir().unwrap();
    let store = Store::open(home.path()).await.unwrap();
    let now = switchyard_core::record::now_ms();
    let day = 86_400_000;
    let record = |age_days: i64| RequestRecord {
        id: switchyard_core::record::new_request_id(now - age_days * day),
        started_at_ms: now - age_days * day,
        method: "POST".into(),
        endpoint: "/v1/chat/completions".into(),
        client: None,
        key_name: None,
        requested_model: Some("m".into()),
        provider: None,
        model: None,
        stream: false,
        status: 200,
        outcome: Outcome::Ok,
        error: None,
        latency_ms: 1.0,
        ttft_ms: None,
        tokens: None,
        cost_usd: None,
        attempts: Vec::new(),
        strategy: None,
        steps: Vec::new(),
        request_body: Some(bytes::Bytes::from_static(b"{}")),
        response_body: None,
    };
    let (recorder, writer) = store.start_writer(LogSettings::default());
    let rows: Vec<RequestRecord> = [40, 31, 29, 0].into_iter().map(record).collect();
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let (old1, old2, new1, new2) = (&ids[0], &ids[1], &ids[2], &ids[3]);
    for row in rows {
        recorder.submit(row);
    }
    writer.close().await;
    let store = Store::open(home.path()).await.unwrap();
    assert_eq!(store.count_requests().await.unwrap(), 4);
    // A writer runs retention when it starts: 30 days by default.
    let (_recorder, writer) = store.start_writer(LogSettings::default());
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while store.count_requests().await.unwrap() > 2 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    writer.close().await;
    let store = Store::open_read_only(home.path()).await.unwrap();
    assert_eq!(store.count_requests().await.unwrap(), 2);
    assert!(store.get_request(old1).await.unwrap().is_none());
    assert!(store.get_request(old2).await.unwrap().is_none());
    assert!(store.get_request(new1).await.unwrap().is_some());
    assert_eq!(store.integrity_check().await.unwrap(), "ok");

    // The size cap removes the oldest rows first, in batches.
    let store = Store::open(home.path()).await.unwrap();
    assert_eq!(
        store.purge_to_size(u64::MAX, 10).await.unwrap(),
        0,
        "under the cap nothing goes"
    );
    assert_eq!(store.purge_to_size(0, 1).await.unwrap(), 1);
    assert!(
        store.get_request(new1).await.unwrap().is_none(),
        "the oldest row went first"
    );
    assert!(store.get_request(new2).await.unwrap().is_some());
}

#[tokio::test]
async fn failures_count_against_the_provider_that_failed() {
    let h = start("[retry]\nrounds = 1").await;
    h.alpha.push(upstream_error(401, "bad key"));
    assert_eq!(
        h.chat(json!({"model": "alpha/gpt-4o-mini", "messages": user("x")}))
            .await
            .0,
        401
    );
    let page = h.wait_for_rows(1).await;
    let row = &page["requests"][0];
    assert_eq!(
        (row["provider"].as_str(), row["model"].as_str()),
        (Some("alpha"), Some("gpt-4o-mini"))
    );
    let (_, stats) = h.admin("/admin/stats?window=1h").await;
    let alpha = stats["by_provider"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["key"] == "alpha")
        .unwrap();
    assert_eq!(alpha["errors"], 1);
    let (_, filtered) = h.admin("/admin/requests?provider=alpha").await;
    assert_eq!(filtered["requests"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn admin_errors_are_json_and_name_the_full_path() {
    let h = start("").await;
    let (status, body) = h.admin("/admin/stats?window=1h&window=2h").await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("query"),
        "{body}"
    );
    let (status, body) = h.admin("/admin/requests?limit=lots").await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = h.admin("/admin/nope").await;
    assert_eq!(status, 404);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("GET /admin/nope"),
        "{body}"
    );
    let (status, body) = h.admin("/admin/requests?cursor=garbage").await;
    assert_eq!(
        (status, body["error"]["param"].as_str()),
        (400, Some("cursor"))
    );
}
