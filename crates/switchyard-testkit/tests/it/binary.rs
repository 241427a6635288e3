//! The `switchyard-fake` binary: start-up line, serving, exit on stdin EOF.

use std::process::Stdio;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::Command;

use crate::common::{TestResult, WAIT, chat, post};

#[tokio::test]
async fn prints_urls_serves_and_exits_when_stdin_closes() -> TestResult {
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchyard-fake"))
        .args(["--openai", "2", "--anthropic", "1"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let stdout = child.stdout.take().ok_or("stdout")?;
    let line = tokio::time::timeout(WAIT, BufReader::new(stdout).lines().next_line())
        .await??
        .ok_or("no start-up line")?;
    let ready: Value = serde_json::from_str(&line)?;
    let openai = ready["openai"].as_array().ok_or("openai")?;
    assert_eq!(openai.len(), 2);
    assert_eq!(ready["anthropic"].as_array().map(Vec::len), Some(1));
    assert!(
        ready["refused"]
            .as_str()
            .is_some_and(|u| u.ends_with("/v1"))
    );
    let base = openai[0].as_str().ok_or("url")?;
    assert!(base.starts_with("http://127.0.0.1:") && base.ends_with("/v1"));
    let resp = post(&format!("{base}/chat/completions"), &chat(false, "hi")).await?;
    assert_eq!(resp.status(), 200);

    drop(child.stdin.take());
    let status = tokio::time::timeout(WAIT, child.wait()).await??;
    assert!(status.success());
    Ok(())
}
