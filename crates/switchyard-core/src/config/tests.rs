use super::*;

const ISSUE_EXAMPLE: &str = r#"
listen = "127.0.0.1:7137"

[[providers]]
name = "alpha"
kind = "openai"                  # any OpenAI-compatible upstream
base_url = "http://127.0.0.1:18001/v1"
api_key = "env:ALPHA_KEY"        # a reference, never the secret
models = ["gpt-4o-mini", "text-embedding-3-small"]

[[providers]]
name = "beta"
kind = "anthropic"
base_url = "http://127.0.0.1:18002"
api_key = "env:BETA_KEY"
models = ["claude-sonnet-4-5"]

[[aliases]]
name = "smart"
targets = ["alpha/gpt-4o-mini", "beta/claude-sonnet-4-5"]
"#;

fn issues(text: &str) -> Vec<String> {
    Config::from_toml(text)
        .err()
        .unwrap_or_default()
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn the_documented_example_loads_as_written() {
    let c = Config::from_toml(ISSUE_EXAMPLE).unwrap();
    assert_eq!(c.listen.to_string(), "127.0.0.1:7137");
    assert_eq!(c.providers.len(), 2);
    assert_eq!(c.providers[1].kind, ProviderKind::Anthropic);
    assert_eq!(
        c.providers[0].api_key,
        Some(SecretRef::Env("ALPHA_KEY".into()))
    );
    assert_eq!(
        c.aliases[0].targets,
        vec![
            TargetRef {
                provider: "alpha".into(),
                model: "gpt-4o-mini".into()
            },
            TargetRef {
                provider: "beta".into(),
                model: "claude-sonnet-4-5".into()
            },
        ]
    );
}

#[test]
fn unknown_keys_are_errors_with_their_path() {
    let text = ISSUE_EXAMPLE.replace(
        "kind = \"anthropic\"",
        "kind = \"anthropic\"\nregion = \"eu\"",
    );
    let found = issues(&text);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with("providers[1].region: unknown field `region`"),
        "{found:?}"
    );
    assert!(
        issues("colour = 1")
            .iter()
            .any(|i| i.contains("unknown field `colour`"))
    );
}

#[test]
fn every_semantic_problem_is_reported_at_once() {
    let text = ISSUE_EXAMPLE
        .replace(
            "\"beta/claude-sonnet-4-5\"",
            "\"x/claude\", \"alpha/gpt-5\", \"nope\"",
        )
        .replace("kind = \"openai\"", "kind = \"openai-ish\"")
        .replace("env:BETA_KEY", "sk-live-abc")
        .replace("http://127.0.0.1:18002", "ftp://host");
    let found = issues(&text);
    let expect = [
        "providers[0].kind: unknown kind \"openai-ish\"",
        "providers[1].base_url: \"ftp://host\" is not an http(s) URL",
        "providers[1].api_key: must be a reference",
        "aliases[0].targets[1]: unknown provider \"x\"",
        "aliases[0].targets[2]: provider \"alpha\" does not list model \"gpt-5\"",
        "aliases[0].targets[3]: \"nope\" must be written \"provider/model\"",
    ];
    for e in expect {
        assert!(
            found.iter().any(|f| f.starts_with(e)),
            "missing {e:?} in {found:#?}"
        );
    }
    assert_eq!(found.len(), expect.len(), "{found:#?}");
}

#[test]
fn duplicates_and_bad_values_are_refused() {
    let text = format!(
        "{ISSUE_EXAMPLE}\n[[providers]]\nname = \"alpha\"\nkind = \"openai\"\nbase_url = \"http://x\"\n[retry]\nrounds = 0\n[timeouts]\nidle_ms = 0\n"
    );
    let found = issues(&text);
    assert!(
        found
            .iter()
            .any(|f| f == "providers[2].name: duplicate provider name \"alpha\""),
        "{found:?}"
    );
    assert!(
        found.iter().any(|f| f.starts_with("retry.rounds")),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|f| f == "timeouts.idle_ms: must be greater than 0"),
        "{found:?}"
    );
}

#[test]
fn syntax_errors_name_the_line() {
    let found = issues("listen = \"127.0.0.1:1\"\n[[providers]\n");
    assert_eq!(found.len(), 1);
    assert!(found[0].contains("(line 2)"), "{found:?}");
}

#[test]
fn provider_timeouts_inherit_the_global_ones() {
    let text = format!(
        "{}\n[timeouts]\nidle_ms = 500\n",
        ISSUE_EXAMPLE.replace(
            "models = [\"claude-sonnet-4-5\"]",
            "models = [\"claude-sonnet-4-5\"]\ntimeouts = { first_token_ms = 250 }",
        )
    );
    let c = Config::from_toml(&text).unwrap();
    assert_eq!(
        c.providers[1].timeouts.first_token,
        Duration::from_millis(250)
    );
    assert_eq!(c.providers[1].timeouts.idle, Duration::from_millis(500));
    assert_eq!(
        c.providers[0].timeouts.first_token,
        Timeouts::default().first_token
    );
}

#[test]
fn a_relative_data_dir_is_relative_to_the_config_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(&path, "data_dir = \"state\"\n").unwrap();
    let c = Config::load(&path).unwrap();
    assert_eq!(c.data_dir, dir.path().join("state"));
    let c = Config::from_toml("data_dir = \"~/sy\"").unwrap();
    assert!(
        c.data_dir.ends_with("sy") && c.data_dir.is_absolute(),
        "{:?}",
        c.data_dir
    );
}
