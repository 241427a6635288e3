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
                model: "gpt-4o-mini".into(),
                weight: 1,
            },
            TargetRef {
                provider: "beta".into(),
                model: "claude-sonnet-4-5".into(),
                weight: 1,
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

#[test]
fn a_preset_needs_only_a_name_and_a_key() {
    let c = Config::from_toml(
        r#"
[[providers]]
name = "groq"
preset = "groq"
api_key = "keychain:provider.groq"

[[providers]]
name = "claude"
preset = "anthropic"
api_key = "env:ANTHROPIC_API_KEY"

[[providers]]
name = "local"
preset = "ollama"
"#,
    )
    .unwrap();
    let groq = c.provider("groq").unwrap();
    assert_eq!(groq.base_url, "https://api.groq.com/openai/v1");
    assert_eq!(groq.kind, ProviderKind::OpenAi);
    assert_eq!(groq.auth, AuthStyle::Bearer);
    let claude = c.provider("claude").unwrap();
    assert_eq!(
        (claude.kind, claude.auth),
        (ProviderKind::Anthropic, AuthStyle::XApiKey)
    );
    assert_eq!(claude.list_style, ModelListStyle::Anthropic);
    let local = c.provider("local").unwrap();
    assert_eq!(local.list_style, ModelListStyle::Ollama);
    assert_eq!(local.auth, AuthStyle::None);
}

#[test]
fn azure_takes_its_own_url_and_an_api_version() {
    let found = issues("[[providers]]\nname = \"az\"\npreset = \"azure\"\n");
    assert!(
        found
            .iter()
            .any(|i| i.starts_with("providers[0].base_url: missing")),
        "{found:?}"
    );
    let c = Config::from_toml(
        "[[providers]]\nname = \"az\"\nkind = \"azure\"\nbase_url = \"https://me.openai.azure.com\"\napi_version = \"2025-01-01-preview\"\n",
    )
    .unwrap();
    let az = c.provider("az").unwrap();
    assert_eq!(az.azure_api_version.as_deref(), Some("2025-01-01-preview"));
    assert_eq!(az.auth, AuthStyle::ApiKeyHeader);
    let found = issues(
        "[[providers]]\nname = \"x\"\nkind = \"openai\"\nbase_url = \"http://h/v1\"\napi_version = \"1\"\n",
    );
    assert!(found[0].contains("only Azure"), "{found:?}");
}

#[test]
fn provider_problems_are_reported_with_their_paths() {
    let found = issues(
        r#"
[[providers]]
name = "a"
preset = "nonesuch"

[[providers]]
name = "b"
kind = "openai"
base_url = "https://api.example/v1"
auth = "magic"
proxy = "not a url"
tls = { accept_invalid_certs_host = "other.example" }
capabilities = { "m" = { input = ["smell"] } }
"#,
    );
    let has = |p: &str| found.iter().any(|i| i.starts_with(p));
    assert!(
        has("providers[0].preset: unknown preset \"nonesuch\""),
        "{found:?}"
    );
    assert!(has("providers[1].auth"), "{found:?}");
    assert!(has("providers[1].proxy"), "{found:?}");
    assert!(
        has("providers[1].tls.accept_invalid_certs_host"),
        "{found:?}"
    );
    assert!(has("providers[1].capabilities.m"), "{found:?}");
    let c = Config::from_toml(
        "[[providers]]\nname = \"lan\"\nkind = \"openai\"\nbase_url = \"https://gpu.lan:8443/v1\"\nproxy = \"direct\"\ntls = { accept_invalid_certs_host = \"GPU.lan\" }\n",
    )
    .unwrap();
    let lan = c.provider("lan").unwrap();
    assert!(lan.tls.accept_invalid_certs);
    assert_eq!(lan.proxy, ProxySetting::Direct);
}

#[test]
fn keys_access_and_binds_are_checked() {
    let hash = crate::config::keys::KeyHash::of("sk-sy-x").to_string();
    let found = issues(&format!(
        r#"
listen = "0.0.0.0:7137"

[access]
cors_origins = ["https://ok.example", "*", "https://x.example/path", "null"]

[[keys]]
name = "a"
hash = "md5:nope"

[[keys]]
name = "b"
hash = "{hash}"
role = "god"
"#
    ));
    let has = |p: &str| found.iter().any(|i| i.starts_with(p));
    assert!(has("keys[0].hash"), "{found:?}");
    assert!(has("keys[1].role"), "{found:?}");
    assert!(
        has("access.cors_origins[1]")
            && has("access.cors_origins[2]")
            && has("access.cors_origins[3]"),
        "{found:?}"
    );
    assert!(!has("access.cors_origins[0]"), "{found:?}");

    let bind_alone = issues("listen = \"0.0.0.0:7137\"\n");
    assert!(
        bind_alone[0].contains("create a client key first"),
        "{bind_alone:?}"
    );
    let c = Config::from_toml(&format!(
        "listen = \"0.0.0.0:7137\"\n[[keys]]\nname = \"lan\"\nhash = \"{hash}\"\n"
    ))
    .unwrap();
    assert!(
        c.keys_required(),
        "beyond loopback every request needs a key"
    );
    assert_eq!(c.keys[0].role, crate::config::keys::Role::User);
}

#[test]
fn the_secrets_file_backend_is_chosen_explicitly() {
    let c = Config::from_toml("data_dir = \"/srv/sy\"\n[secrets]\nbackend = \"file\"\n").unwrap();
    assert_eq!(
        c.secrets,
        super::SecretBackend::File(PathBuf::from("/srv/sy/secrets.toml"))
    );
    assert_eq!(
        Config::from_toml("").unwrap().secrets,
        super::SecretBackend::Keychain
    );
    assert!(issues("[secrets]\nbackend = \"memory\"\n")[0].starts_with("secrets.backend"));
}

#[test]
fn mcp_servers_and_assistants_load_with_their_defaults() {
    let c = Config::from_toml(&format!(
        r#"{ISSUE_EXAMPLE}
[[mcp_servers]]
name = "time"
command = "uvx"
args = ["mcp-server-time"]
env = {{ TZ = "UTC", TOKEN = "keychain:mcp.time.TOKEN" }}

[[mcp_servers]]
name = "docs"
url = "https://docs.example/mcp"
headers = {{ Authorization = "env:DOCS_TOKEN" }}
disabled_tools = ["delete_page"]

[[mcp_servers]]
name = "legacy"
transport = "sse"
url = "http://127.0.0.1:3001/sse"
call_timeout_ms = 5000

[[assistants]]
name = "clock"
model = "smart"
servers = ["time"]
"#
    ))
    .unwrap();
    assert_eq!(c.mcp_servers.len(), 3);
    let time = &c.mcp_servers[0];
    assert_eq!(time.transport.kind(), "stdio");
    assert_eq!(time.call_timeout, mcp::DEFAULT_CALL_TIMEOUT);
    let mcp::McpTransport::Stdio { env, .. } = &time.transport else {
        panic!("stdio expected");
    };
    assert!(env.contains(&(
        "TOKEN".to_owned(),
        mcp::McpValue::Secret(SecretRef::Keychain("mcp.time.TOKEN".into()))
    )));
    assert!(env.contains(&("TZ".to_owned(), mcp::McpValue::Literal("UTC".into()))));
    assert_eq!(c.mcp_servers[1].transport.kind(), "http");
    assert!(!c.mcp_servers[1].tool_enabled("delete_page"));
    assert_eq!(c.mcp_servers[2].transport.kind(), "sse");
    assert_eq!(c.mcp_servers[2].call_timeout, Duration::from_millis(5000));
    assert_eq!(c.assistants[0].max_iterations, mcp::DEFAULT_MAX_ITERATIONS);
}

#[test]
fn mcp_mistakes_are_reported_with_their_paths() {
    let found = issues(&format!(
        r#"{ISSUE_EXAMPLE}
[[mcp_servers]]
name = "a__b"
command = "x"

[[mcp_servers]]
name = "nothing"

[[mcp_servers]]
name = "web"
transport = "websocket"
url = "ws://x"

[[mcp_servers]]
name = "both"
command = "x"
url = "http://x"

[[mcp_servers]]
name = "badref"
url = "ftp://x"
headers = {{ Authorization = "env:" }}

[[assistants]]
name = "smart"
model = ""
servers = ["ghost"]
tools = ["plain", "ghost__tool"]
max_iterations = 0
"#
    ));
    let expected = [
        "mcp_servers[0].name: \"a__b\" must be 1-48 letters, digits, '-' or '_', without \"__\" (it joins server and tool names)",
        "mcp_servers[1].command: give a command (a stdio server) or a url (an HTTP server)",
        "mcp_servers[2].transport: unknown transport \"websocket\" (stdio, http or sse)",
        "mcp_servers[3].url: a stdio server has a command, not a url",
        "mcp_servers[4].url: \"ftp://x\" is not an http:// or https:// URL",
        "assistants[0].name: \"smart\" is already an alias name; pick another",
        "assistants[0].model: must name the model or alias that answers",
        "assistants[0].servers[0]: unknown MCP server \"ghost\"",
        "assistants[0].tools[0]: \"plain\" is not \"server__tool\" for a configured MCP server",
        "assistants[0].tools[1]: \"ghost__tool\" is not \"server__tool\" for a configured MCP server",
        "assistants[0].max_iterations: must be between 1 and 100",
    ];
    for e in expected {
        assert!(found.iter().any(|f| f == e), "missing {e:?} in {found:#?}");
    }
    assert!(
        found
            .iter()
            .any(|f| f.starts_with("mcp_servers[4].headers.Authorization: ")),
        "{found:#?}"
    );
}

#[test]
fn connection_limits_load_and_bad_ones_name_their_path() {
    let c = Config::from_toml(&format!(
        "{ISSUE_EXAMPLE}\n[limits]\nmax_connections = 64\nheader_read_timeout_ms = 2500\nkeep_alive_timeout_ms = 5000"
    ))
    .unwrap();
    assert_eq!(c.limits.max_connections, 64);
    assert_eq!(c.limits.header_read_timeout, Duration::from_millis(2500));
    assert_eq!(c.limits.keep_alive_timeout, Duration::from_secs(5));
    assert_eq!(
        c.limits.body_idle_timeout,
        Limits::default().body_idle_timeout
    );
    let found = issues(&format!(
        "{ISSUE_EXAMPLE}\n[limits]\nmax_connections = 0\nbody_idle_timeout_ms = 0\nmax_header_bytes = 10"
    ));
    for path in [
        "limits.max_connections",
        "limits.body_idle_timeout_ms",
        "limits.max_header_bytes",
    ] {
        assert!(
            found.iter().any(|f| f.starts_with(path)),
            "{path}: {found:?}"
        );
    }
}

#[test]
fn routing_strategies_weights_pools_and_fallback_parse() {
    let text = format!(
        "{ISSUE_EXAMPLE}\n[routing]\ndefault_strategy = \"least_busy\"\noffline_fallback = true\n\n[[aliases]]\nname = \"split\"\nstrategy = \"weighted\"\nfallback = \"local\"\ntargets = [{{ model = \"alpha/gpt-4o-mini\", weight = 3 }}, \"beta/claude-sonnet-4-5\"]\n\n[[pools]]\nname = \"vision\"\nrequire = {{ input = [\"image\"], tools = true, min_context = 100000 }}\nstrategy = \"least_latency\"\nproviders = [\"alpha\"]\nmodels = [\"gpt-*\"]\n"
    );
    let c = Config::from_toml(&text).unwrap();
    assert_eq!(c.routing.default_strategy, Strategy::LeastBusy);
    assert!(c.routing.offline_fallback);
    let split = &c.aliases[1];
    assert_eq!(split.strategy, Strategy::Weighted);
    assert_eq!(split.fallback, Fallback::Local);
    assert_eq!(
        split.targets.iter().map(|t| t.weight).collect::<Vec<_>>(),
        [3, 1]
    );
    let pool = &c.pools[0];
    assert_eq!(pool.require.input, ["image"]);
    assert_eq!(pool.require.tools, Some(true));
    assert_eq!(
        pool.require.to_string(),
        "input image, tools, context >= 100000"
    );
    assert!(pool.admits("alpha", "gpt-4o-mini"));
    assert!(!pool.admits("alpha", "o3"));
    assert!(!pool.admits("beta", "gpt-4o"));
    // Existing configs behave as before.
    let plain = Config::from_toml(ISSUE_EXAMPLE).unwrap();
    assert_eq!(plain.aliases[0].strategy, Strategy::Ordered);
    assert_eq!(plain.routing.default_strategy, Strategy::Ordered);
    assert!(!plain.routing.offline_fallback);
}

#[test]
fn routing_mistakes_name_their_path() {
    let bad = format!(
        "{ISSUE_EXAMPLE}\n[routing]\ndefault_strategy = \"fastest\"\n\n[[aliases]]\nname = \"zero\"\nstrategy = \"weighted\"\nfallback = \"cloud\"\ntargets = [{{ model = \"alpha/gpt-4o-mini\", weight = 0 }}]\n\n[[pools]]\nname = \"smart\"\nproviders = [\"gamma\"]\nrequire = {{ input = [\"video\"] }}\n"
    );
    let found = issues(&bad);
    for expected in [
        "routing.default_strategy: unknown strategy \"fastest\"",
        "aliases[1].targets: a weighted alias needs at least one target with a weight above 0",
        "aliases[1].fallback: \"cloud\" is not a fallback",
        "pools[0].name: duplicate alias or pool name \"smart\"",
        "pools[0].providers[0]: unknown provider \"gamma\"",
        "pools[0].require.input[0]: unknown modality \"video\"",
    ] {
        assert!(
            found.iter().any(|f| f.starts_with(expected)),
            "{expected:?} not in {found:#?}"
        );
    }
    assert!(
        issues(&format!(
            "{ISSUE_EXAMPLE}\n[[pools]]\nname = \"p\"\nrequire = {{ gpu = true }}\n"
        ))
        .iter()
        .any(|f| f.contains("unknown field `gpu`")),
    );
}

#[test]
fn globs_match_whole_ids() {
    use super::routing::glob;
    assert!(glob("gpt-*", "gpt-4o-mini"));
    assert!(glob("*", ""));
    assert!(glob("claude-*-4-5", "claude-sonnet-4-5"));
    assert!(glob("llama3.?:8b", "llama3.1:8b"));
    assert!(!glob("gpt-*", "o3-gpt-4"));
    assert!(!glob("gpt-4o", "gpt-4o-mini"));
    assert!(glob("*mini", "gpt-4o-mini"));
    assert!(!glob("a*b*c", "abcb"));
}
