//! Bad input gets a clear error in OpenAI's shape with the right status, and never reaches an
//! upstream.

use serde_json::{Value, json};
use switchyard_testkit::Script;

use crate::harness::{header, start, upstream_error, user};

async fn raw(
    h: &crate::harness::Harness,
    method: &str,
    path: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> (u16, Value) {
    let mut r = h
        .client
        .request(method.parse().unwrap(), format!("{}{path}", h.base))
        .body(body);
    if let Some(ct) = content_type {
        r = r.header("content-type", ct);
    }
    let r = r.send().await.unwrap();
    let status = r.status().as_u16();
    assert_eq!(
        header(r.headers(), "content-type"),
        "application/json",
        "{path}"
    );
    (status, r.json().await.unwrap())
}

fn assert_openai_error(body: &Value) {
    let e = &body["error"];
    assert!(
        e["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    assert!(e["type"].is_string(), "{body}");
    assert!(
        e.get("param").is_some() && e.get("code").is_some(),
        "{body}"
    );
}

#[tokio::test]
async fn malformed_requests_get_openai_shaped_4xx_without_touching_upstreams() {
    let h = start("[limits]\nmax_body_bytes = 4096").await;
    let json = Some("application/json");
    // (what, content type, body, expected status, expected param)
    type Case<'a> = (&'a str, Option<&'a str>, Vec<u8>, u16, Option<&'a str>);
    let cases: Vec<Case> = vec![
        ("invalid JSON", json, b"{\"model\": ".to_vec(), 400, None),
        (
            "trailing garbage",
            json,
            br#"{"model":"smart","messages":[]} x"#.to_vec(),
            400,
            None,
        ),
        ("empty body", json, Vec::new(), 400, None),
        (
            "stream not a bool",
            json,
            br#"{"model":"smart","messages":[{"role":"user","content":"x"}],"stream":"yes"}"#
                .to_vec(),
            400,
            Some("stream"),
        ),
        (
            "unknown role",
            json,
            br#"{"model":"smart","messages":[{"role":"robot","content":"x"}]}"#.to_vec(),
            400,
            Some("messages[0].role"),
        ),
        (
            "negative max_tokens",
            json,
            br#"{"model":"smart","messages":[],"max_tokens":-1}"#.to_vec(),
            400,
            Some("max_tokens"),
        ),
        (
            "messages missing",
            json,
            br#"{"model":"smart"}"#.to_vec(),
            400,
            Some("messages"),
        ),
        (
            "messages empty",
            json,
            br#"{"model":"smart","messages":[]}"#.to_vec(),
            400,
            Some("messages"),
        ),
        (
            "too large",
            json,
            format!(
                r#"{{"model":"smart","messages":[{{"role":"user","content":"{}"}}]}}"#,
                "x".repeat(8192)
            )
            .into_bytes(),
            413,
            None,
        ),
        (
            "text/plain",
            Some("text/plain"),
            br#"{"model":"smart","messages":[]}"#.to_vec(),
            415,
            None,
        ),
        (
            "form",
            Some("application/x-www-form-urlencoded"),
            b"model=smart".to_vec(),
            415,
            None,
        ),
        (
            "no content type",
            None,
            br#"{"model":"smart","messages":[]}"#.to_vec(),
            415,
            None,
        ),
        (
            "utf-16",
            Some("application/json; charset=utf-16"),
            br#"{}"#.to_vec(),
            415,
            None,
        ),
        (
            "deep nesting",
            json,
            "[".repeat(10_000)
                .into_bytes()
                .into_iter()
                .take(4000)
                .collect(),
            400,
            None,
        ),
    ];
    for (name, ct, body, status, param) in cases {
        let (got, body) = raw(&h, "POST", "/chat/completions", ct, body).await;
        assert_eq!(got, status, "{name}: {body}");
        assert_openai_error(&body);
        if let Some(param) = param {
            assert_eq!(body["error"]["param"], param, "{name}: {body}");
        }
    }
    assert_eq!(h.alpha.request_count() + h.beta.request_count(), 0);
}

#[tokio::test]
async fn unknown_models_routes_and_methods() {
    let h = start("").await;
    let (status, body) = raw(
        &h,
        "POST",
        "/chat/completions",
        Some("application/json"),
        serde_json::to_vec(&json!({"model": "gpt-9", "messages": user("x")})).unwrap(),
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "model_not_found");
    assert_eq!(body["error"]["param"], "model");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("/v1/models")
    );
    let (status, body) = raw(
        &h,
        "POST",
        "/nope",
        Some("application/json"),
        b"{}".to_vec(),
    )
    .await;
    assert_eq!(status, 404);
    assert_openai_error(&body);
    let (status, body) = raw(&h, "GET", "/chat/completions", None, Vec::new()).await;
    assert_eq!(status, 405);
    assert_openai_error(&body);
}

#[tokio::test]
async fn upstream_errors_keep_their_status_and_message() {
    let h = start("").await;
    for (fake, model, status) in [
        (&h.alpha, "alpha/gpt-4o-mini", 401),
        (&h.beta, "beta/claude-sonnet-4-5", 403),
        (&h.alpha, "alpha/gpt-4o-mini", 422),
    ] {
        fake.push(Script::Error {
            status,
            message: format!("upstream says {status}"),
            retry_after: None,
            error_type: None,
        });
        let (got, _, body) = h.chat(json!({"model": model, "messages": user("x")})).await;
        assert_eq!(got, status, "{body}");
        assert_eq!(body["error"]["message"], format!("upstream says {status}"));
    }
    // Anthropic's error types become the OpenAI types clients switch on.
    h.beta.push(upstream_error(401, "invalid x-api-key"));
    let (_, _, body) = h
        .chat(json!({"model": "beta/claude-sonnet-4-5", "messages": user("x")}))
        .await;
    assert_eq!(body["error"]["type"], "authentication_error");
}

#[tokio::test]
async fn a_request_the_upstream_cannot_express_is_a_400_not_a_failover() {
    let h = start("").await;
    let (status, _, body) = h
        .chat(json!({"model": "beta/claude-sonnet-4-5", "messages": user("x"), "n": 3}))
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["param"], "n");
    assert_eq!(h.beta.request_count(), 0);
}

#[tokio::test]
async fn requests_for_foreign_hosts_are_refused() {
    let h = start("").await;
    let r = h
        .client
        .post(format!("{}/chat/completions", h.base))
        .header("host", "evil.example:7137")
        .json(&json!({"model": "smart", "messages": user("x")}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["code"],
        "host_not_allowed"
    );
    assert_eq!(h.alpha.request_count(), 0);
}

#[tokio::test]
async fn a_missing_provider_key_is_reported_plainly() {
    let h = start("[[providers]]\nname = \"nokey\"\nkind = \"openai\"\nbase_url = \"http://127.0.0.1:9/v1\"\napi_key = \"env:SWITCHYARD_TEST_UNSET_KEY\"\nmodels = [\"m\"]").await;
    let (status, _, body) = h
        .chat(json!({"model": "nokey/m", "messages": user("x")}))
        .await;
    assert_eq!(status, 500, "{body}");
    assert_eq!(body["error"]["code"], "provider_misconfigured");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("SWITCHYARD_TEST_UNSET_KEY is not set")
    );
}
