//! The `/__testkit/*` control endpoints used by out-of-process tests.

use serde_json::{Value, json};
use switchyard_testkit::{Dialect, FakeUpstream};

use crate::common::{TestResult, chat, client, post};

#[tokio::test]
async fn script_default_requests_and_reset_over_http() -> TestResult {
    let fake = FakeUpstream::start(Dialect::OpenAi).await?;
    let base = fake.base_url();
    let http = client()?;
    let scripts = json!([
        {"reply": {"text": "scripted one"}},
        {"error": {"status": 500, "message": "boom"}},
    ]);
    let resp = http
        .post(format!("{base}/__testkit/script"))
        .json(&scripts)
        .send()
        .await?;
    assert_eq!(resp.status(), 204);
    let resp = http
        .post(format!("{base}/__testkit/default"))
        .json(&json!({"reply": {"text": "fallback"}}))
        .send()
        .await?;
    assert_eq!(resp.status(), 204);
    let bad = http
        .post(format!("{base}/__testkit/script"))
        .json(&json!({"no_such_script": {}}))
        .send()
        .await?;
    assert_eq!(bad.status(), 400);

    let url = format!("{base}/chat/completions");
    let v: Value = post(&url, &chat(false, "a")).await?.json().await?;
    assert_eq!(v["choices"][0]["message"]["content"], "scripted one");
    assert_eq!(post(&url, &chat(false, "b")).await?.status(), 500);
    let v: Value = post(&url, &chat(false, "c")).await?.json().await?;
    assert_eq!(v["choices"][0]["message"]["content"], "fallback");

    // Control requests are not recorded; the control API also works without the /v1 prefix.
    let origin = format!("http://{}", fake.addr());
    let recorded: Value = http
        .get(format!("{origin}/__testkit/requests"))
        .send()
        .await?
        .json()
        .await?;
    let list = recorded.as_array().ok_or("array")?;
    assert_eq!(list.len(), 3);
    assert_eq!(list[0]["method"], "POST");
    assert_eq!(list[0]["path"], "/v1/chat/completions");
    assert_eq!(list[0]["headers"]["content-type"], "application/json");
    assert_eq!(list[2]["body"]["messages"][0]["content"], "c");

    let resp = http.post(format!("{base}/__testkit/reset")).send().await?;
    assert_eq!(resp.status(), 204);
    assert_eq!(fake.request_count(), 0);
    let v: Value = post(&url, &chat(false, "after reset"))
        .await?
        .json()
        .await?;
    assert_eq!(
        v["choices"][0]["message"]["content"],
        "You said: after reset"
    );
    Ok(())
}

#[tokio::test]
async fn single_script_on_anthropic() -> TestResult {
    let fake = FakeUpstream::start(Dialect::Anthropic).await?;
    let base = fake.base_url();
    let resp = client()?
        .post(format!("{base}/__testkit/script"))
        .json(&json!({"error": {"status": 429, "message": "slow", "retry_after": "2"}}))
        .send()
        .await?;
    assert_eq!(resp.status(), 204);
    let resp = post(&format!("{base}/v1/messages"), &chat(false, "x")).await?;
    assert_eq!(resp.status(), 429);
    assert_eq!(
        resp.headers().get("retry-after").map(|v| v.as_bytes()),
        Some(&b"2"[..])
    );
    let v: Value = resp.json().await?;
    assert_eq!(v["error"]["type"], "rate_limit_error");
    Ok(())
}

#[tokio::test]
async fn wait_for_requests_times_out_and_succeeds() -> TestResult {
    let fake = FakeUpstream::start(Dialect::OpenAi).await?;
    assert!(
        !fake
            .wait_for_requests(1, std::time::Duration::from_millis(20))
            .await
    );
    let url = format!("{}/chat/completions", fake.base_url());
    let request =
        tokio::spawn(async move { post(&url, &chat(false, "x")).await.map(|r| r.status()) });
    assert!(fake.wait_for_requests(1, crate::common::WAIT).await);
    assert_eq!(request.await??, 200);
    Ok(())
}
