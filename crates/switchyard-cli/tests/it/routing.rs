//! `switchyard aliases|pools` on a real config file (comments kept, the validator's refusals
//! passed on, nothing written when refused), and `switchyard routing` and `pools rebuild`
//! against a running gateway.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use switchyard_testkit::{Dialect, FakeUpstream};

use crate::{ADMIN_TOKEN, BIN, Served, cli, cli_json, client, config_for, write_config};

/// Runs `switchyard ARGS` with `SWITCHYARD_API_KEY` set to `key`, or unset.
#[expect(
    clippy::unwrap_used,
    reason = "a test helper: any failure stops the test"
)]
fn cli_key(home: &Path, args: &[&str], key: Option<&str>) -> Output {
    let mut command = Command::new(BIN);
    command
        .args(args)
        .env("SWITCHYARD_HOME", home)
        .env_remove("SWITCHYARD_URL");
    match key {
        Some(k) => command.env("SWITCHYARD_API_KEY", k),
        None => command.env_remove("SWITCHYARD_API_KEY"),
    };
    command.output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Two providers; alpha's models have a long context, beta's `gpt-4o-mini` a short one.
const TWO_PROVIDERS: &str = "# my routes\n[[providers]]\nname = \"alpha\"\nkind = \"openai\"\nbase_url = \"http://127.0.0.1:9/v1\"\nmodels = [\"gpt-4o-mini\", \"llama-3.1-8b\"]\ncapabilities.\"gpt-4o-mini\" = { tools = true, context_window = 128000 }\ncapabilities.\"llama-3.1-8b\" = { tools = true, context_window = 128000 }\n\n[[providers]]\nname = \"beta\"\nkind = \"openai\"\nbase_url = \"http://127.0.0.1:10/v1\"\nmodels = [\"gpt-4o-mini\"]\ncapabilities.\"gpt-4o-mini\" = { tools = true, context_window = 16000 }\n";

#[test]
fn aliases_are_added_listed_and_removed_in_the_file_with_comments_kept() {
    let home = tempfile::tempdir().unwrap();
    let config = write_config(home.path(), TWO_PROVIDERS);
    let c = config.to_str().unwrap();
    let out = cli(
        home.path(),
        &[
            "aliases",
            "add",
            "split",
            "alpha/gpt-4o-mini",
            "beta/gpt-4o-mini",
            "--strategy",
            "weighted",
            "--weight",
            "alpha/gpt-4o-mini=3",
            "--fallback",
            "local",
            "--config",
            c,
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let file = std::fs::read_to_string(&config).unwrap();
    assert!(file.starts_with("# my routes\n"), "{file}");
    assert!(
        file.contains(
            "targets = [{ model = \"alpha/gpt-4o-mini\", weight = 3 }, \"beta/gpt-4o-mini\"]"
        ),
        "{file}"
    );

    let list = cli_json(home.path(), &["aliases", "list", "--json", "--config", c]);
    assert_eq!(
        list,
        json!([{
            "name": "split",
            "targets": ["alpha/gpt-4o-mini", "beta/gpt-4o-mini"],
            "weights": [3, 1],
            "strategy": "weighted",
            "fallback": "local",
        }])
    );
    let table = cli(home.path(), &["aliases", "list", "--config", c]);
    let table = text(&table.stdout);
    assert!(
        table.contains("split  weighted  local     alpha/gpt-4o-mini=3, beta/gpt-4o-mini=1"),
        "{table}"
    );

    // The validator's own words, and nothing written.
    for (args, said) in [
        (
            vec!["x", "alpha/gpt-4o-mini", "--strategy", "fastest"],
            "aliases[1].strategy: unknown strategy \"fastest\"; use one of ordered, round_robin, weighted, least_latency, least_busy, cheapest",
        ),
        (
            vec!["x", "gamma/gpt-4o-mini"],
            "aliases[1].targets[0]: unknown provider \"gamma\"",
        ),
        (
            vec!["split", "beta/gpt-4o-mini"],
            "aliases: \"split\" already exists",
        ),
        (
            vec!["x", "alpha/gpt-4o-mini", "--fallback", "cloud"],
            "aliases[1].fallback: \"cloud\" is not a fallback",
        ),
    ] {
        let mut full = vec!["aliases", "add"];
        full.extend(args);
        full.extend(["--config", c]);
        let out = cli(home.path(), &full);
        assert_eq!(out.status.code(), Some(1), "{full:?}");
        assert!(text(&out.stderr).contains(said), "{}", text(&out.stderr));
    }
    let out = cli(
        home.path(),
        &[
            "aliases",
            "add",
            "x",
            "alpha/gpt-4o-mini",
            "--weight",
            "beta/gpt-4o-mini=2",
            "--config",
            c,
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("\"beta/gpt-4o-mini\" is not one of the alias's targets"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(std::fs::read_to_string(&config).unwrap(), file);

    let out = cli(home.path(), &["aliases", "rm", "split", "--config", c]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = cli(home.path(), &["aliases", "rm", "split", "--config", c]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("no alias named \"split\""));
    assert_eq!(
        cli_json(home.path(), &["aliases", "list", "--json", "--config", c]),
        json!([])
    );
    assert!(
        std::fs::read_to_string(&config)
            .unwrap()
            .starts_with("# my routes\n")
    );
}

#[test]
fn pools_are_added_with_their_requirement_listed_with_members_and_removed() {
    let home = tempfile::tempdir().unwrap();
    let config = write_config(home.path(), TWO_PROVIDERS);
    let c = config.to_str().unwrap();
    let out = cli(
        home.path(),
        &[
            "pools",
            "add",
            "gpts",
            "--tools",
            "--min-context",
            "100000",
            "--strategy",
            "least_latency",
            "--model",
            "gpt-*",
            "--fallback",
            "local",
            "--config",
            c,
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let pools = cli_json(home.path(), &["pools", "list", "--json", "--config", c]);
    assert_eq!(pools[0]["name"], "gpts");
    assert_eq!(pools[0]["require"]["tools"], true);
    assert_eq!(pools[0]["require"]["min_context"], 100_000);
    assert_eq!(pools[0]["strategy"], "least_latency");
    assert_eq!(pools[0]["fallback"], "local");
    // beta's context is too short, and alpha's llama does not match the pattern.
    assert_eq!(pools[0]["members"], json!(["alpha/gpt-4o-mini"]));
    let table = text(&cli(home.path(), &["pools", "list", "--config", c]).stdout);
    assert!(
        table.contains("gpts  tools, context >= 100000  least_latency  any        gpt-*   local     alpha/gpt-4o-mini\n"),
        "{table}"
    );

    let before = std::fs::read_to_string(&config).unwrap();
    for (args, said) in [
        (
            vec!["p", "--provider", "zeta"],
            "pools[1].providers[0]: unknown provider \"zeta\"",
        ),
        (
            vec!["p", "--input", "smell"],
            "pools[1].require.input[0]: unknown modality \"smell\"",
        ),
        (
            vec!["p", "--strategy", "random"],
            "pools[1].strategy: unknown strategy \"random\"",
        ),
        (vec!["gpts"], "pools: \"gpts\" already exists"),
    ] {
        let mut full = vec!["pools", "add"];
        full.extend(args);
        full.extend(["--config", c]);
        let out = cli(home.path(), &full);
        assert_eq!(out.status.code(), Some(1), "{full:?}");
        assert!(text(&out.stderr).contains(said), "{}", text(&out.stderr));
    }
    assert_eq!(std::fs::read_to_string(&config).unwrap(), before);

    let out = cli(home.path(), &["pools", "rm", "gpts", "--config", c]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = cli(home.path(), &["pools", "rm", "gpts", "--config", c]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("no pool named \"gpts\""));
    assert_eq!(
        cli_json(home.path(), &["pools", "list", "--json", "--config", c]),
        json!([])
    );
}

/// The route called `name` in a `GET /admin/routing` answer.
#[expect(
    clippy::unwrap_used,
    clippy::panic,
    reason = "a test helper: any failure stops the test"
)]
fn route<'a>(table: &'a Value, name: &str) -> &'a Value {
    table["routes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("no route {name}: {table}"))
}

#[tokio::test]
async fn routing_shows_the_running_gateways_table_and_follows_the_file() {
    let up = FakeUpstream::start(Dialect::OpenAi).await.unwrap();
    let home = tempfile::tempdir().unwrap();
    // `down` serves `m` too, on a port nobody listens on: `m` is a pool of two.
    let extra = "[[providers]]\nname = \"down\"\nkind = \"openai\"\nbase_url = \"http://127.0.0.1:9/v1\"\nmodels = [\"m\"]\n\n[[aliases]]\nname = \"fast\"\nstrategy = \"least_latency\"\ntargets = [\"down/m\", \"up/m\"]\n\n[[pools]]\nname = \"anything\"\n";
    let config = write_config(home.path(), &config_for(&up.base_url(), extra));
    let c = config.to_str().unwrap();
    let served = Served::start(home.path(), &config).await;
    let reply = client()
        .post(format!("{}/v1/chat/completions", served.root))
        .json(&json!({"model": "fast", "messages": [{"role": "user", "content": "ping"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);

    let url = served.root.as_str();
    let table = cli_key(
        home.path(),
        &["routing", "--url", url, "--json", "--config", c],
        Some(ADMIN_TOKEN),
    );
    assert!(table.status.success(), "{}", text(&table.stderr));
    let table: Value = serde_json::from_slice(&table.stdout).unwrap();
    let fast = route(&table, "fast");
    assert_eq!(fast["kind"], "alias");
    assert_eq!(fast["strategy"], "least_latency");
    let answered = fast["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["target"] == "up/m")
        .unwrap();
    assert_eq!(answered["requests"], 1, "{fast}");
    assert_eq!(route(&table, "m")["kind"], "model_pool");
    assert_eq!(route(&table, "anything")["kind"], "pool");

    let out = cli_key(
        home.path(),
        &["routing", "--url", url, "--config", c],
        Some(ADMIN_TOKEN),
    );
    let shown = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(shown.contains("\nfast  alias  least_latency\n"), "{shown}");
    assert!(shown.contains("\nm  model_pool  ordered\n"), "{shown}");
    assert!(
        shown.contains("\nanything  pool  ordered  requires any model\n"),
        "{shown}"
    );
    let up_row = shown
        .lines()
        .skip_while(|l| *l != "fast  alias  least_latency")
        .find(|l| l.contains(" up/m "))
        .unwrap_or_else(|| panic!("{shown}"));
    assert!(up_row.contains("closed"), "{up_row}");

    // Without a key, the admin API says no, and the CLI says what to do.
    let out = cli_key(home.path(), &["routing", "--url", url, "--config", c], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("export SWITCHYARD_API_KEY with an admin key"),
        "{}",
        text(&out.stderr)
    );

    // An alias added with the CLI reaches the running gateway without a restart.
    let out = cli(
        home.path(),
        &["aliases", "add", "later", "up/m", "--config", c],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let out = cli_key(
            home.path(),
            &["routing", "--url", url, "--json", "--config", c],
            Some(ADMIN_TOKEN),
        );
        let now: Value = serde_json::from_slice(&out.stdout).unwrap();
        if now["routes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["name"] == "later")
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the gateway never took in `later`: {now}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let out = cli_key(
        home.path(),
        &["pools", "rebuild", "--url", url, "--config", c],
        Some(ADMIN_TOKEN),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("anything: 2 member(s): "),
        "{}",
        text(&out.stdout)
    );
    served.stop().await;
}

#[test]
fn routing_says_when_no_gateway_answers() {
    let home = tempfile::tempdir().unwrap();
    let config = write_config(home.path(), "listen = \"127.0.0.1:9\"\n");
    let out = cli_key(
        home.path(),
        &["routing", "--config", config.to_str().unwrap()],
        Some(ADMIN_TOKEN),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("no gateway answers at http://127.0.0.1:9"),
        "{}",
        text(&out.stderr)
    );
}

/// `switchyard init --env-refs` with one provider key in the environment.
#[expect(
    clippy::unwrap_used,
    reason = "a test helper: any failure stops the test"
)]
fn init(home: &Path, config: &str, more: &[&str]) -> Output {
    Command::new(BIN)
        .args(["init", "--env-refs", "--config", config])
        .args(more)
        .env("SWITCHYARD_HOME", home)
        .env("OPENAI_API_KEY", "sk-test-not-a-real-key")
        .output()
        .unwrap()
}

#[test]
fn init_adds_a_ready_smart_pool_once_and_never_over_an_alias() {
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("config.toml");
    let c = config.to_str().unwrap();
    let out = init(home.path(), c, &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("added the pool smart: every model that calls tools and answers in text, the fastest first (least_latency)"),
        "{}",
        text(&out.stderr)
    );
    let pools = cli_json(home.path(), &["pools", "list", "--json", "--config", c]);
    assert_eq!(pools[0]["name"], "smart");
    assert_eq!(pools[0]["require"]["tools"], true);
    assert_eq!(pools[0]["require"]["output"], json!(["text"]));
    assert_eq!(pools[0]["strategy"], "least_latency");

    // A second run finds nothing new and leaves the pool as it is.
    let file = std::fs::read_to_string(&config).unwrap();
    let out = init(home.path(), c, &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("\"smart\" is there already"));
    assert_eq!(std::fs::read_to_string(&config).unwrap(), file);

    // Someone's own alias called `smart` is kept, and `--no-smart` adds nothing.
    let other = tempfile::tempdir().unwrap();
    let mine = write_config(
        other.path(),
        "[[providers]]\nname = \"own\"\nkind = \"openai\"\nbase_url = \"http://127.0.0.1:9/v1\"\nmodels = [\"m\"]\n\n[[aliases]]\nname = \"smart\"\ntargets = [\"own/m\"]\n",
    );
    let m = mine.to_str().unwrap();
    let out = init(other.path(), m, &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        cli_json(other.path(), &["pools", "list", "--json", "--config", m]),
        json!([])
    );
    let bare = other.path().join("bare.toml");
    let out = init(other.path(), bare.to_str().unwrap(), &["--no-smart"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        !std::fs::read_to_string(&bare)
            .unwrap()
            .contains("[[pools]]")
    );
}
