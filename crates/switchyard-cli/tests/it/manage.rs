//! `switchyard providers|keys|models` on a real config file, and the keychain canary: a provider
//! key set through the CLI or the admin API is used upstream, and appears nowhere else — not in
//! the config file, the data folder, the gateway's output or any admin answer.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::{Value, json};
use switchyard_testkit::{Dialect, FakeUpstream};

use crate::{ADMIN_TOKEN, BIN, Served, cli, cli_json, client, config_for, write_config};

/// Runs `switchyard ARGS` with `input` on stdin.
#[expect(
    clippy::unwrap_used,
    reason = "a test helper: any failure stops the test"
)]
fn cli_stdin(home: &Path, args: &[&str], input: &str) -> std::process::Output {
    let mut child = Command::new(BIN)
        .args(args)
        .env("SWITCHYARD_HOME", home)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Every file under `dir`, read as bytes, for the canary search.
fn files_under(dir: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(bytes) = std::fs::read(&p) {
                out.push((p, bytes));
            }
        }
    }
    out
}

#[test]
fn providers_and_keys_are_managed_in_the_file_with_comments_kept() {
    let home = tempfile::tempdir().unwrap();
    let config = write_config(
        home.path(),
        "# my gateway\nlisten = \"127.0.0.1:7137\" # keep this port\n",
    );
    let c = config.to_str().unwrap();
    let out = cli(
        home.path(),
        &[
            "providers",
            "add",
            "groq",
            "--preset",
            "groq",
            "--key-env",
            "GROQ_API_KEY",
            "--config",
            c,
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let out = cli(
        home.path(),
        &[
            "providers",
            "add",
            "groq",
            "--preset",
            "groq",
            "--config",
            c,
        ],
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("already exists"), "{}", stderr(&out));
    let out = cli(
        home.path(),
        &[
            "providers",
            "add",
            "bad",
            "--kind",
            "openai",
            "--base-url",
            "ftp://x",
            "--config",
            c,
        ],
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("providers[1].base_url"),
        "{}",
        stderr(&out)
    );

    let list = cli_json(home.path(), &["providers", "list", "--json", "--config", c]);
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["base_url"], "https://api.groq.com/openai/v1");
    assert_eq!(list[0]["api_key"], "env:GROQ_API_KEY");
    assert!(
        cli(
            home.path(),
            &["providers", "disable", "groq", "--config", c]
        )
        .status
        .success()
    );
    let list = cli_json(home.path(), &["providers", "list", "--json", "--config", c]);
    assert_eq!(list[0]["enabled"], false);

    let out = cli(
        home.path(),
        &["keys", "create", "cursor", "--role", "user", "--config", c],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let key = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert!(key.starts_with("sk-sy-"), "{key}");
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(!text.contains(&key), "only the hash is stored");
    assert!(
        text.starts_with("# my gateway\nlisten = \"127.0.0.1:7137\" # keep this port\n"),
        "{text}"
    );
    let keys = cli_json(home.path(), &["keys", "list", "--json", "--config", c]);
    assert_eq!(keys[0]["name"], "cursor");
    assert!(!keys.to_string().contains(&key));
    assert!(
        cli(home.path(), &["keys", "revoke", "cursor", "--config", c])
            .status
            .success()
    );
    assert!(
        !cli(home.path(), &["keys", "revoke", "cursor", "--config", c])
            .status
            .success()
    );

    let models = cli_json(home.path(), &["models", "list", "--json", "--config", c]);
    assert_eq!(models, json!([]), "a disabled provider offers nothing");
    let out = cli(home.path(), &["providers", "rm", "groq", "--config", c]);
    assert!(out.status.success());
    assert!(!std::fs::read_to_string(&config).unwrap().contains("groq"));
}

#[tokio::test]
async fn a_key_in_the_keychain_is_used_upstream_and_shows_up_nowhere_else() {
    // Needs a Secret Service: `make test` runs the suite under scripts/with-keyring.sh, which
    // starts a throwaway gnome-keyring and sets this. Elsewhere the canary cannot run.
    if std::env::var("SWITCHYARD_KEYRING_TESTS").as_deref() != Ok("1") {
        return;
    }
    let up = FakeUpstream::start(Dialect::OpenAi).await.unwrap();
    let home = tempfile::tempdir().unwrap();
    let config = write_config(home.path(), &config_for(&up.base_url(), ""));
    let c = config.to_str().unwrap();
    let nonce = format!(
        "{}{}",
        std::process::id(),
        switchyard_core::record::now_ms()
    );
    let canary_cli = format!("sk-canary-cli-{nonce}");
    let canary_http = format!("sk-canary-http-{nonce}");

    // 1. Through the CLI, from stdin.
    let out = cli_stdin(
        home.path(),
        &["providers", "set-key", "up", "--config", c],
        &canary_cli,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stderr(&out).contains(&canary_cli));
    let shown = cli(home.path(), &["providers", "show", "up", "--config", c]);
    assert!(String::from_utf8_lossy(&shown.stdout).contains("\"key_status\": \"set\""));

    let served = Served::start(home.path(), &config).await;
    let http = client();
    let chat = |body: Value| {
        let http = http.clone();
        let root = served.root.clone();
        async move {
            let r = http
                .post(format!("{root}/v1/chat/completions"))
                .json(&body)
                .send()
                .await
                .unwrap();
            r.status().as_u16()
        }
    };
    let body = json!({"model": "up/m", "messages": [{"role": "user", "content": "hi"}]});
    assert_eq!(chat(body.clone()).await, 200);
    let auth = up
        .requests()
        .last()
        .unwrap()
        .header("authorization")
        .map(str::to_owned);
    assert_eq!(auth, Some(format!("Bearer {canary_cli}")));

    // 2. Through the admin API, as the UI sets it; applied live.
    let r = http
        .put(format!("{}/admin/providers/up/key", served.root))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({"api_key": canary_http}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let view: Value = r.json().await.unwrap();
    assert_eq!(view["api_key"]["ref"], "keychain:provider.up");
    assert_eq!(chat(body).await, 200);
    let auth = up
        .requests()
        .last()
        .unwrap()
        .header("authorization")
        .map(str::to_owned);
    assert_eq!(auth, Some(format!("Bearer {canary_http}")));

    // Every admin answer, the config file, the data folder and the output: no canary.
    let mut answers = String::new();
    for path in [
        "/admin/providers",
        "/admin/providers/up",
        "/admin/settings",
        "/admin/requests?limit=50",
        "/admin/keys",
        "/v1/models",
        "/statsz",
        "/metrics",
    ] {
        let r = http
            .get(format!("{}{path}", served.root))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .unwrap();
        answers.push_str(&r.text().await.unwrap());
    }
    let log = served.stop().await;
    for canary in [&canary_cli, &canary_http] {
        assert!(
            !answers.contains(canary.as_str()),
            "an admin answer shows the key"
        );
        assert!(
            !log.contains(canary.as_str()),
            "the gateway's output shows the key"
        );
        for (path, bytes) in files_under(home.path()) {
            assert!(
                !bytes.windows(canary.len()).any(|w| w == canary.as_bytes()),
                "{} holds the key",
                path.display()
            );
        }
    }
    // The key is where it belongs, and removing the provider removes it.
    let store = switchyard_core::secrets::SecretStore::keychain();
    assert_eq!(
        store
            .get("provider.up")
            .unwrap()
            .map(|s| s.expose().to_owned()),
        Some(canary_http.clone())
    );
    assert!(
        cli(home.path(), &["providers", "rm", "up", "--config", c])
            .status
            .success()
    );
    assert_eq!(store.get("provider.up").unwrap(), None);
}

#[test]
fn a_dotenv_import_adds_known_providers_with_their_keys_in_the_secrets_file() {
    let home = tempfile::tempdir().unwrap();
    let config = write_config(home.path(), "[secrets]\nbackend = \"file\"\n");
    let env = home.path().join("keys.env");
    std::fs::write(
        &env,
        "# from my shell\nexport OPENAI_API_KEY=\"sk-openai-canary-1\"\nGROQ_API_KEY=gsk-canary-2 # groq\nUNRELATED=1\n",
    )
    .unwrap();
    let c = config.to_str().unwrap();
    let e = env.to_str().unwrap();
    let dry = cli(
        home.path(),
        &["providers", "import", "-f", e, "--dry-run", "--config", c],
    );
    assert!(dry.status.success(), "{}", stderr(&dry));
    assert!(
        stderr(&dry).contains("would add: openai"),
        "{}",
        stderr(&dry)
    );
    assert!(!std::fs::read_to_string(&config).unwrap().contains("openai"));

    let out = cli(
        home.path(),
        &["providers", "import", "-f", e, "--config", c],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let list = cli_json(home.path(), &["providers", "list", "--json", "--config", c]);
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(names, vec!["openai", "groq"]);
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .all(|p| p["key_status"] == "set"),
        "{list}"
    );
    assert_eq!(list[0]["api_key"], "keychain:provider.openai");

    let text = std::fs::read_to_string(&config).unwrap();
    assert!(!text.contains("canary"), "{text}");
    let secrets = home.path().join("secrets.toml");
    let stored = std::fs::read_to_string(&secrets).unwrap();
    assert!(stored.contains("sk-openai-canary-1") && stored.contains("gsk-canary-2"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&secrets).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let again = cli(
        home.path(),
        &["providers", "import", "-f", e, "--config", c],
    );
    assert!(
        stderr(&again).contains("configured already"),
        "{}",
        stderr(&again)
    );
}
