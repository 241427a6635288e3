//! The real `switchyard` binary: `serve` announces its URL, answers, and stops gracefully on
//! SIGTERM; `check-config` reports every problem with its path.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use switchyard_testkit::{Dialect, FakeUpstream};

const BIN: &str = env!("CARGO_BIN_EXE_switchyard");

#[expect(
    clippy::unwrap_used,
    reason = "a test that cannot write its config must stop"
)]
fn write_config(dir: &std::path::Path, body: &str) -> std::path::PathBuf {
    let path = dir.join("config.toml");
    std::fs::write(&path, body).unwrap();
    path
}

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
    let config = write_config(
        home.path(),
        &format!(
            "[[providers]]\nname = \"up\"\nkind = \"openai\"\nbase_url = \"{}\"\nmodels = [\"m\"]\n",
            upstream.base_url()
        ),
    );
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(&config)
        .env("SWITCHYARD_HOME", home.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        line
    })
    .await
    .unwrap();
    let base = line
        .trim()
        .strip_prefix("switchyard ready: ")
        .unwrap_or_else(|| panic!("{line}"))
        .to_owned();
    assert!(
        base.starts_with("http://127.0.0.1:") && base.ends_with("/v1"),
        "{base}"
    );

    switchyard_core::providers::install_crypto_provider();
    let reply: serde_json::Value = reqwest::Client::new()
        .post(format!("{base}/chat/completions"))
        .json(&serde_json::json!({"model": "m", "messages": [{"role": "user", "content": "ping"}]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(reply["choices"][0]["message"]["content"], "You said: ping");

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert!(
        exit.status.success(),
        "exit {:?}: {}",
        exit.status,
        String::from_utf8_lossy(&exit.stderr)
    );
    assert!(String::from_utf8_lossy(&exit.stderr).contains("shutting down"));
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
    assert!(String::from_utf8_lossy(&out.stderr).contains("refusing to listen on 0.0.0.0:0"));
}
