//! `switchyard routing|aliases|pools`: the routing table a running gateway holds now (members in
//! the order the next request would try them, with their live figures), and the aliases and
//! capability pools edited in the config file exactly as the admin API edits them. A running
//! gateway picks the changes up by itself; only `routing` and `pools rebuild` call it.

use std::process::ExitCode;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::{Map, Value, json};
use switchyard_core::routing::{Health, Runtime};
use switchyard_core::server::views::config::Alias;
use switchyard_core::server::views::routing::Pool;

use crate::gateway::{self, Remote};
use crate::logdb::{Failure, block_on};
use crate::manage::{self, Target};
use crate::output::{self, Table};

#[derive(Debug, clap::Args)]
pub struct RoutingArgs {
    #[command(flatten)]
    remote: Remote,
    #[command(flatten)]
    target: Target,
}

#[derive(Debug, clap::Subcommand)]
pub enum AliasesCmd {
    /// Every alias with its strategy, fallback and targets.
    List,
    /// Add an alias: `switchyard aliases add fast openai/gpt-4o-mini groq/llama-3.3-70b
    /// --strategy least_latency`.
    Add {
        name: String,
        /// `provider/model`, as many as you like; the order matters for `ordered`
        #[arg(required = true)]
        targets: Vec<String>,
        /// ordered, round_robin, weighted, least_latency, least_busy or cheapest [default: ordered]
        #[arg(long)]
        strategy: Option<String>,
        /// A target's weight for `weighted`, as TARGET=N (0: for failover only); others weigh 1
        #[arg(long = "weight", value_name = "TARGET=N", value_parser = parse_weight)]
        weights: Vec<(String, u32)>,
        /// `local`: when every target fails to connect, answer from a local model
        #[arg(long)]
        fallback: Option<String>,
    },
    /// Remove an alias.
    Rm { name: String },
}

#[derive(Debug, clap::Subcommand)]
pub enum PoolsCmd {
    /// Every capability pool with its requirement and how many models meet it.
    List {
        /// Ask providers without a configured model list for theirs, as the gateway does
        #[arg(long)]
        discover: bool,
    },
    /// Add a pool over every enabled model that meets the requirement:
    /// `switchyard pools add vision --input image --tools --strategy least_latency`.
    Add {
        name: String,
        /// An input the members must take: text, image or audio (repeatable)
        #[arg(long, value_name = "MODALITY")]
        input: Vec<String>,
        /// An output the members must give: text, image, audio or embedding (repeatable)
        #[arg(long, value_name = "MODALITY")]
        output: Vec<String>,
        /// Members must call tools
        #[arg(long)]
        tools: bool,
        /// Members must reason (thinking models)
        #[arg(long)]
        reasoning: bool,
        /// The least context window, in tokens
        #[arg(long, value_name = "TOKENS")]
        min_context: Option<u64>,
        /// The least output limit, in tokens
        #[arg(long, value_name = "TOKENS")]
        min_output: Option<u64>,
        /// ordered, round_robin, weighted, least_latency, least_busy or cheapest [default: ordered]
        #[arg(long)]
        strategy: Option<String>,
        /// Only models of this provider (repeatable; default: every provider)
        #[arg(long = "provider", value_name = "PROVIDER")]
        providers: Vec<String>,
        /// Only model ids matching this pattern, `*` and `?` as wildcards (repeatable)
        #[arg(long = "model", value_name = "GLOB")]
        models: Vec<String>,
        /// `local`: when every member fails to connect, answer from a local model
        #[arg(long)]
        fallback: Option<String>,
    },
    /// Remove a pool.
    Rm { name: String },
    /// Have the running gateway read every provider's model list again and rebuild its pools.
    Rebuild {
        #[command(flatten)]
        remote: Remote,
    },
}

fn parse_weight(text: &str) -> Result<(String, u32), String> {
    let (target, weight) = text
        .rsplit_once('=')
        .ok_or_else(|| "write it as TARGET=N, e.g. openai/gpt-4o-mini=3".to_owned())?;
    let weight = weight
        .trim()
        .parse::<u32>()
        .map_err(|_| format!("{weight:?} is not a whole number of 0 or more"))?;
    Ok((target.trim().to_owned(), weight))
}

// ---- routing ----

/// `GET /admin/routing`, as far as the table shows it.
#[derive(Debug, Deserialize)]
struct RoutingTable {
    default_strategy: String,
    offline_fallback: bool,
    routes: Vec<RouteRow>,
}

#[derive(Debug, Deserialize)]
struct RouteRow {
    name: String,
    kind: String,
    strategy: String,
    require: Option<String>,
    members: Vec<MemberRow>,
    fallback: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct MemberRow {
    target: String,
    weight: u32,
    latency_ms: Option<f64>,
    ttft_ms: Option<f64>,
    error_rate: f64,
    requests: u64,
    in_flight: u32,
    circuit: String,
    last_error: Option<String>,
}

pub fn routing(args: &RoutingArgs) -> Result<ExitCode, Failure> {
    let config = args.target.load()?;
    let root = args.remote.root(&config);
    let answer = block_on(gateway::admin(
        &root,
        reqwest::Method::GET,
        "/admin/routing",
    ))?;
    if args.target.json {
        return Ok(output::emit(&output::json(&answer)?));
    }
    let table: RoutingTable = serde_json::from_value(answer).map_err(|e| {
        Failure::Message(format!(
            "{root}/admin/routing answered something this CLI cannot read ({e}); is it the same version?"
        ))
    })?;
    Ok(output::emit(&render_routing(&table)))
}

/// One block per route: its head line, then a row per member in the order the next request
/// would try them.
fn render_routing(t: &RoutingTable) -> String {
    let mut out = format!(
        "bare ids served by several providers: {}; offline fallback for every route: {}\n",
        t.default_strategy,
        if t.offline_fallback { "on" } else { "off" }
    );
    if t.routes.is_empty() {
        out.push_str(
            "\nno aliases, no pools, and no model that several providers serve: every model has one way to go\n",
        );
        return out;
    }
    for r in &t.routes {
        out.push('\n');
        out.push_str(&format!("{}  {}  {}", r.name, r.kind, r.strategy));
        if let Some(require) = &r.require {
            out.push_str(&format!("  requires {require}"));
        }
        out.push('\n');
        if r.members.is_empty() {
            out.push_str("  no members: requests to it fail with pool_empty\n");
        } else {
            let mut table = Table::new(&[
                ("#", true),
                ("TARGET", false),
                ("WEIGHT", true),
                ("LATENCY", true),
                ("TTFT", true),
                ("ERRORS", true),
                ("REQUESTS", true),
                ("IN FLIGHT", true),
                ("CIRCUIT", false),
                ("LAST ERROR", false),
            ]);
            for (i, m) in r.members.iter().enumerate() {
                table.row(vec![
                    (i + 1).to_string(),
                    m.target.clone(),
                    m.weight.to_string(),
                    output::ms(m.latency_ms),
                    output::ms(m.ttft_ms),
                    format!("{:.1}%", m.error_rate * 100.0),
                    m.requests.to_string(),
                    m.in_flight.to_string(),
                    m.circuit.replace('_', "-"),
                    m.last_error.as_deref().map_or_else(|| "-".to_owned(), clip),
                ]);
            }
            let mut rendered = String::new();
            table.render(&mut rendered);
            for line in rendered.lines() {
                out.push_str("  ");
                out.push_str(line);
                out.push('\n');
            }
        }
        if !r.fallback.is_empty() {
            out.push_str(&format!("  offline, then: {}\n", r.fallback.join(", ")));
        }
    }
    out
}

/// An error on one line, short enough for a table cell.
fn clip(text: &str) -> String {
    const MAX: usize = 60;
    let line = text.lines().next().unwrap_or_default();
    if line.chars().count() <= MAX && !text.contains('\n') {
        line.to_owned()
    } else {
        let mut short: String = line.chars().take(MAX - 1).collect();
        short.push('…');
        short
    }
}

// ---- aliases ----

fn alias_view(a: &switchyard_core::config::AliasConfig) -> Alias {
    Alias {
        name: a.name.clone(),
        targets: a.targets.iter().map(ToString::to_string).collect(),
        weights: a.targets.iter().map(|t| t.weight).collect(),
        strategy: a.strategy,
        fallback: a.fallback,
    }
}

pub fn aliases(cmd: &AliasesCmd, target: &Target) -> Result<ExitCode, Failure> {
    match cmd {
        AliasesCmd::List => {
            let config = target.load()?;
            let views: Vec<Alias> = config.aliases.iter().map(alias_view).collect();
            if target.json {
                return Ok(output::emit(&output::json(&views)?));
            }
            if views.is_empty() {
                crate::note("no aliases yet: `switchyard aliases add NAME PROVIDER/MODEL...`");
                return Ok(ExitCode::SUCCESS);
            }
            let mut t = Table::new(&[
                ("NAME", false),
                ("STRATEGY", false),
                ("FALLBACK", false),
                ("TARGETS", false),
            ]);
            for a in &views {
                let weighted = a.strategy == switchyard_core::config::Strategy::Weighted;
                let targets: Vec<String> = a
                    .targets
                    .iter()
                    .zip(&a.weights)
                    .map(|(t, w)| {
                        if weighted || *w != 1 {
                            format!("{t}={w}")
                        } else {
                            t.clone()
                        }
                    })
                    .collect();
                t.row(vec![
                    a.name.clone(),
                    a.strategy.to_string(),
                    fallback_text(a.fallback),
                    targets.join(", "),
                ]);
            }
            let mut out = String::new();
            t.render(&mut out);
            Ok(output::emit(&out))
        }
        AliasesCmd::Add {
            name,
            targets,
            strategy,
            weights,
            fallback,
        } => {
            let fields = alias_fields(targets, strategy.as_deref(), weights, fallback.as_deref())?;
            let (_, config) =
                manage::edit(target, |doc| doc.insert_entry("aliases", name, &fields))?;
            let added = config
                .aliases
                .iter()
                .find(|a| a.name == *name)
                .map(alias_view);
            crate::note(&format!(
                "added the alias {name} ({}) to {}",
                added.map_or_else(String::new, |a| a.strategy.to_string()),
                target.path().display()
            ));
            Ok(ExitCode::SUCCESS)
        }
        AliasesCmd::Rm { name } => {
            let (removed, _) = manage::edit(target, |doc| Ok(doc.remove_entry("aliases", name)))?;
            if removed {
                crate::note(&format!("removed the alias {name}"));
                Ok(ExitCode::SUCCESS)
            } else {
                Err(Failure::Message(format!("no alias named {name:?}")))
            }
        }
    }
}

/// The `[[aliases]]` fields, as the admin API takes them: a target with a weight other than 1
/// is written `{ model, weight }`, the rest as plain strings.
fn alias_fields(
    targets: &[String],
    strategy: Option<&str>,
    weights: &[(String, u32)],
    fallback: Option<&str>,
) -> Result<Map<String, Value>, Failure> {
    for (named, _) in weights {
        if !targets.contains(named) {
            return Err(Failure::Usage(format!(
                "--weight {named}=…: {named:?} is not one of the alias's targets ({})",
                targets.join(", ")
            )));
        }
    }
    let list: Vec<Value> = targets
        .iter()
        .map(|t| {
            // The last --weight for a target wins, as with any repeated option.
            match weights.iter().rev().find(|(n, _)| n == t) {
                Some((_, w)) if *w != 1 => json!({"model": t, "weight": w}),
                _ => json!(t),
            }
        })
        .collect();
    let mut fields = Map::new();
    fields.insert("targets".into(), Value::Array(list));
    if let Some(s) = strategy {
        fields.insert("strategy".into(), json!(s));
    }
    if let Some(f) = fallback {
        fields.insert("fallback".into(), json!(f));
    }
    Ok(fields)
}

fn fallback_text(f: switchyard_core::config::Fallback) -> String {
    match f {
        switchyard_core::config::Fallback::Local => "local".into(),
        switchyard_core::config::Fallback::None => "-".into(),
    }
}

// ---- pools ----

fn any_or(list: &[String]) -> String {
    if list.is_empty() {
        "any".into()
    } else {
        list.join(",")
    }
}

pub fn pools(cmd: &PoolsCmd, target: &Target) -> Result<ExitCode, Failure> {
    match cmd {
        PoolsCmd::List { discover } => {
            let config = target.load()?;
            let discovered = if *discover {
                manage::discover(&config)?
            } else {
                Default::default()
            };
            let store = config.secret_store();
            let runtime = Runtime::build(config, Arc::new(Health::default()), &store, &discovered)
                .map_err(|e| Failure::Message(e.to_string()))?;
            let views = Pool::all(&runtime);
            if target.json {
                return Ok(output::emit(&output::json(&views)?));
            }
            if views.is_empty() {
                crate::note(
                    "no pools yet: `switchyard pools add NAME --tools --strategy least_latency`",
                );
                return Ok(ExitCode::SUCCESS);
            }
            let mut t = Table::new(&[
                ("NAME", false),
                ("REQUIRES", false),
                ("STRATEGY", false),
                ("PROVIDERS", false),
                ("MODELS", false),
                ("FALLBACK", false),
                ("MEMBERS", false),
            ]);
            for p in &views {
                t.row(vec![
                    p.name.clone(),
                    p.require.to_string(),
                    p.strategy.to_string(),
                    any_or(&p.providers),
                    any_or(&p.models),
                    fallback_text(p.fallback),
                    if p.members.is_empty() {
                        "none".into()
                    } else {
                        p.members.join(", ")
                    },
                ]);
            }
            let mut out = String::new();
            t.render(&mut out);
            Ok(output::emit(&out))
        }
        PoolsCmd::Add {
            name,
            input,
            output,
            tools,
            reasoning,
            min_context,
            min_output,
            strategy,
            providers,
            models,
            fallback,
        } => {
            let mut require = Map::new();
            if !input.is_empty() {
                require.insert("input".into(), json!(input));
            }
            if !output.is_empty() {
                require.insert("output".into(), json!(output));
            }
            if *tools {
                require.insert("tools".into(), json!(true));
            }
            if *reasoning {
                require.insert("reasoning".into(), json!(true));
            }
            if let Some(n) = min_context {
                require.insert("min_context".into(), json!(n));
            }
            if let Some(n) = min_output {
                require.insert("min_output".into(), json!(n));
            }
            let mut fields = Map::new();
            if !require.is_empty() {
                fields.insert("require".into(), Value::Object(require));
            }
            if let Some(s) = strategy {
                fields.insert("strategy".into(), json!(s));
            }
            if !providers.is_empty() {
                fields.insert("providers".into(), json!(providers));
            }
            if !models.is_empty() {
                fields.insert("models".into(), json!(models));
            }
            if let Some(f) = fallback {
                fields.insert("fallback".into(), json!(f));
            }
            let (_, config) = manage::edit(target, |doc| doc.insert_entry("pools", name, &fields))?;
            let requirement = config
                .pools
                .iter()
                .find(|p| p.name == *name)
                .map(|p| p.require.to_string())
                .unwrap_or_default();
            crate::note(&format!(
                "added the pool {name} ({requirement}) to {}; `switchyard pools list --discover` shows its members",
                target.path().display()
            ));
            Ok(ExitCode::SUCCESS)
        }
        PoolsCmd::Rm { name } => {
            let (removed, _) = manage::edit(target, |doc| Ok(doc.remove_entry("pools", name)))?;
            if removed {
                crate::note(&format!("removed the pool {name}"));
                Ok(ExitCode::SUCCESS)
            } else {
                Err(Failure::Message(format!("no pool named {name:?}")))
            }
        }
        PoolsCmd::Rebuild { remote } => {
            let config = target.load()?;
            let root = remote.root(&config);
            let answer = block_on(gateway::admin(
                &root,
                reqwest::Method::POST,
                "/admin/pools/rebuild",
            ))?;
            if target.json {
                return Ok(output::emit(&output::json(&answer)?));
            }
            let mut out = String::new();
            for p in answer["pools"].as_array().into_iter().flatten() {
                let members: Vec<&str> = p["members"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect();
                out.push_str(&format!(
                    "{}: {} member(s){}{}\n",
                    p["name"].as_str().unwrap_or("?"),
                    members.len(),
                    if members.is_empty() { "" } else { ": " },
                    members.join(", ")
                ));
            }
            for e in answer["errors"].as_array().into_iter().flatten() {
                crate::note(&format!(
                    "could not read a model list: {}",
                    e.as_str().unwrap_or("?")
                ));
            }
            if out.is_empty() {
                out.push_str("no pools configured; bare-id pools were rebuilt\n");
            }
            Ok(output::emit(&out))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{
        MemberRow, RouteRow, RoutingTable, alias_fields, clip, parse_weight, render_routing,
    };
    use serde_json::json;

    #[test]
    fn weights_parse_and_refuse_nonsense() {
        assert_eq!(parse_weight("a/m=3"), Ok(("a/m".into(), 3)));
        assert_eq!(parse_weight("a/m=0"), Ok(("a/m".into(), 0)));
        assert!(parse_weight("a/m").is_err());
        assert!(parse_weight("a/m=-1").is_err());
        assert!(parse_weight("a/m=x").is_err());
    }

    #[test]
    fn weighted_targets_become_tables_and_plain_ones_stay_strings() {
        let fields = alias_fields(
            &["a/m".into(), "b/m".into()],
            Some("weighted"),
            &[("a/m".into(), 3)],
            None,
        )
        .unwrap();
        assert_eq!(
            fields["targets"],
            json!([{"model": "a/m", "weight": 3}, "b/m"])
        );
        assert_eq!(fields["strategy"], "weighted");
        assert!(!fields.contains_key("fallback"));
        let wrong = alias_fields(&["a/m".into()], None, &[("c/m".into(), 2)], None);
        assert!(
            wrong
                .unwrap_err()
                .to_string()
                .contains("\"c/m\" is not one of")
        );
    }

    #[test]
    fn the_table_lists_members_in_order_with_their_figures() {
        let table = RoutingTable {
            default_strategy: "ordered".into(),
            offline_fallback: true,
            routes: vec![RouteRow {
                name: "smart".into(),
                kind: "pool".into(),
                strategy: "least_latency".into(),
                require: Some("tools".into()),
                members: vec![
                    MemberRow {
                        target: "beta/fast".into(),
                        weight: 1,
                        latency_ms: Some(12.34),
                        ttft_ms: None,
                        error_rate: 0.0,
                        requests: 40,
                        in_flight: 2,
                        circuit: "closed".into(),
                        last_error: None,
                    },
                    MemberRow {
                        target: "alpha/slow".into(),
                        weight: 1,
                        latency_ms: Some(480.0),
                        ttft_ms: Some(90.0),
                        error_rate: 0.25,
                        requests: 8,
                        in_flight: 0,
                        circuit: "half_open".into(),
                        last_error: Some("connect: refused\nmore".into()),
                    },
                ],
                fallback: vec!["ollama/qwen3".into()],
            }],
        };
        let text = render_routing(&table);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "bare ids served by several providers: ordered; offline fallback for every route: on"
        );
        assert_eq!(lines[2], "smart  pool  least_latency  requires tools");
        assert!(lines[3].trim_start().starts_with("#  TARGET"), "{text}");
        assert!(
            lines[4].contains("beta/fast") && lines[4].contains("12.3 ms"),
            "{text}"
        );
        assert!(
            lines[5].contains("alpha/slow") && lines[5].contains("25.0%"),
            "{text}"
        );
        assert!(
            lines[5].contains("half-open") && lines[5].ends_with("connect: refused…"),
            "{text}"
        );
        assert_eq!(lines[6], "  offline, then: ollama/qwen3");
    }

    #[test]
    fn long_errors_are_clipped_to_one_line() {
        assert_eq!(clip("short"), "short");
        assert_eq!(clip(&"x".repeat(100)).chars().count(), 60);
    }
}
