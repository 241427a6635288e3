//! `serve` announces its URL, answers, and stops gracefully on SIGTERM; `check-config` reports
//! every problem with its path.

use std::process::Command;

use switchyard_testkit::{Dialect, FakeUpstream};

use crate::{BIN, Served, client, config_for, write_config};

#[test]
fn check_config_accepts_the_example_and_lists_every_problem() {
    let dir = tempfile::tempdir().unwrap();
    let good = write_config(
        dir.path(),
        "listen = \"127.0.0.1:7137\"\n[[providers]]\nname = \"alpha\"\nkind = \"openai\"\nbase_url = \"http://127.0.0.1:18001/v1\"\napi_key = \"env:ALPHA_KEY\"\nmodels = [\"gpt-4o-mini\"]\n[[aliases]]\nname = \"smart\"\ntargets = [\"alpha/gpt-4o-mini\"]\n",
    );
    let out = Command::new(BIN)
        .args(["check-config"])
        .arg(&good)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("ok (1 provider(s), 1 alias(es)"));

    let bad = write_config(
        dir.path(),
        "[[providers]]\nname = \"alpha\"\nkind = \"openai\"\nbase_url = \"http://x/v1\"\nmodels = [\"m\"]\n[[aliases]]\nname = \"smart\"\ntargets = [\"alpha/m\", \"x/claude\", \"alpha/nope\"]\n",
    );
    let out = Command::new(BIN)
        .args(["check-config"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("aliases[0].targets[1]: unknown provider \"x\""),
        "{err}"
    );
    assert!(
        err.contains("aliases[0].targets[2]: provider \"alpha\" does not list model \"nope\""),
        "{err}"
    );
}

#[tokio::test]
async fn serve_announces_answers_and_stops_on_sigterm() {
    let upstream = FakeUpstream::start(Dialect::OpenAi).await.unwrap();
    let home = tempfile::tempdir().unwrap();
    let config = write_config(home.path(), &config_for(&upstream.base_url(), ""));
    let served = Served::start(home.path(), &config).await;

    let reply: serde_json::Value = client()
        .post(format!("{}/v1/chat/completions", served.root))
        .json(&serde_json::json!({"model": "m", "messages": [{"role": "user", "content": "ping"}]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(reply["choices"][0]["message"]["content"], "You said: ping");

    let stderr = served.stop().await;
    assert!(stderr.contains("shutting down"), "{stderr}");
}

#[test]
fn serve_refuses_a_non_loopback_address() {
    let home = tempfile::tempdir().unwrap();
    let config = write_config(home.path(), "listen = \"0.0.0.0:0\"\n");
    let out = Command::new(BIN)
        .args(["serve", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("0.0.0.0:0 is reachable from other machines")
            && stderr.contains("switchyard keys create"),
        "{stderr}"
    );
}
