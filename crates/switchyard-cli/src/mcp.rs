//! `switchyard mcp add|list|rm|enable|disable|tools`: the MCP servers assistants and agent mode
//! use, edited in the config file like everything else (a running gateway picks changes up).
//! Secret values are read from stdin into the OS keychain, never from argv.

use std::io::BufRead as _;
use std::process::ExitCode;

use serde_json::{Map, Value, json};
use switchyard_core::config::mcp::{McpTransport, secret_entry, valid_server_name};
use switchyard_core::mcp::McpHub;
use switchyard_core::secrets::Sensitive;

use crate::logdb::{Failure, block_on};
use crate::manage::{Target, edit};
use crate::output::{self, Table};

#[derive(Debug, clap::Subcommand)]
pub enum McpCmd {
    /// Every MCP server with its transport and what it runs.
    List,
    /// Add a server: `switchyard mcp add time -- uvx mcp-server-time` (stdio), or
    /// `switchyard mcp add docs --url https://host/mcp` (streamable HTTP; `--transport sse` for
    /// the older HTTP+SSE).
    Add {
        name: String,
        /// The server's URL, for an HTTP server
        #[arg(long)]
        url: Option<String>,
        /// stdio, http or sse (default: stdio with a command, http with --url)
        #[arg(long)]
        transport: Option<String>,
        /// An environment variable for a stdio server: KEY=VALUE (repeatable)
        #[arg(long = "env", value_name = "KEY=VALUE")]
        env: Vec<String>,
        /// A header for an HTTP server: NAME=VALUE (repeatable)
        #[arg(long = "header", value_name = "NAME=VALUE")]
        headers: Vec<String>,
        /// An environment variable (stdio) or header (HTTP) whose value is secret: read from
        /// stdin, one line per name in the order given, and kept in the OS keychain (repeatable)
        #[arg(long = "secret", value_name = "NAME")]
        secrets: Vec<String>,
        /// Working directory of a stdio server
        #[arg(long)]
        cwd: Option<String>,
        /// The command and its arguments, after `--`
        #[arg(last = true)]
        command: Vec<String>,
    },
    /// Remove a server (and the secrets kept for it).
    Rm { name: String },
    /// Enable a server, or with --tool one of its tools.
    Enable {
        name: String,
        #[arg(long)]
        tool: Option<String>,
    },
    /// Disable a server, or with --tool one of its tools (models no longer see it).
    Disable {
        name: String,
        #[arg(long)]
        tool: Option<String>,
    },
    /// Start a server and list its tools.
    Tools { name: String },
}

pub fn run(cmd: &McpCmd, target: &Target) -> Result<ExitCode, Failure> {
    match cmd {
        McpCmd::List => list(target),
        McpCmd::Add {
            name,
            url,
            transport,
            env,
            headers,
            secrets,
            cwd,
            command,
        } => add(
            target,
            name,
            AddArgs {
                url: url.as_deref(),
                transport: transport.as_deref(),
                env,
                headers,
                secrets,
                cwd: cwd.as_deref(),
                command,
            },
        ),
        McpCmd::Rm { name } => {
            let config = target.load()?;
            let server = find(&config, name)?;
            let owned = server.owned_secret_entries();
            edit(target, |doc| {
                doc.remove_entry("mcp_servers", name);
                Ok(())
            })?;
            let store = config.secret_store();
            for entry in owned {
                let _ = store.delete(&entry);
            }
            crate::note(&format!("removed MCP server {name}"));
            Ok(ExitCode::SUCCESS)
        }
        McpCmd::Enable { name, tool } | McpCmd::Disable { name, tool } => {
            let enable = matches!(cmd, McpCmd::Enable { .. });
            let config = target.load()?;
            let server = find(&config, name)?;
            let mut fields = Map::new();
            match tool {
                None => {
                    fields.insert("enabled".into(), json!(enable));
                }
                Some(tool) => {
                    let mut disabled = server.disabled_tools.clone();
                    disabled.retain(|t| t != tool);
                    if !enable {
                        disabled.push(tool.clone());
                    }
                    fields.insert("disabled_tools".into(), json!(disabled));
                }
            }
            edit(target, |doc| doc.update_entry("mcp_servers", name, &fields))?;
            let what = match tool {
                Some(t) => format!("tool {t} of {name}"),
                None => format!("MCP server {name}"),
            };
            crate::note(&format!(
                "{} {what}",
                if enable { "enabled" } else { "disabled" }
            ));
            Ok(ExitCode::SUCCESS)
        }
        McpCmd::Tools { name } => tools(target, name),
    }
}

fn find<'c>(
    config: &'c switchyard_core::Config,
    name: &str,
) -> Result<&'c switchyard_core::config::mcp::McpServerConfig, Failure> {
    config
        .mcp_servers
        .iter()
        .find(|s| s.name == name)
        .ok_or_else(|| Failure::Message(format!("no MCP server named {name:?}")))
}

struct AddArgs<'a> {
    url: Option<&'a str>,
    transport: Option<&'a str>,
    env: &'a [String],
    headers: &'a [String],
    secrets: &'a [String],
    cwd: Option<&'a str>,
    command: &'a [String],
}

fn pairs(list: &[String], what: &str) -> Result<Map<String, Value>, Failure> {
    let mut map = Map::new();
    for item in list {
        let (k, v) = item
            .split_once('=')
            .filter(|(k, _)| !k.is_empty())
            .ok_or_else(|| Failure::Usage(format!("--{what} {item:?}: expected NAME=VALUE")))?;
        map.insert(k.to_owned(), json!(v));
    }
    Ok(map)
}

fn add(target: &Target, name: &str, a: AddArgs<'_>) -> Result<ExitCode, Failure> {
    if !valid_server_name(name) {
        return Err(Failure::Usage(format!(
            "{name:?}: a server name is 1-48 letters, digits, '-' or '_', without \"__\""
        )));
    }
    let mut fields = Map::new();
    let stdio = a.url.is_none();
    if let Some(t) = a.transport {
        fields.insert("transport".into(), json!(t));
    }
    if let Some(url) = a.url {
        fields.insert("url".into(), json!(url));
    }
    if let Some((program, args)) = a.command.split_first() {
        fields.insert("command".into(), json!(program));
        if !args.is_empty() {
            fields.insert("args".into(), json!(args));
        }
    } else if stdio {
        return Err(Failure::Usage(
            "give the command after `--` (a stdio server) or --url (an HTTP server)".into(),
        ));
    }
    if let Some(cwd) = a.cwd {
        fields.insert("cwd".into(), json!(cwd));
    }
    let mut env = pairs(a.env, "env")?;
    let mut headers = pairs(a.headers, "header")?;
    let config = target.load()?;
    let store = config.secret_store();
    let mut stored = Vec::new();
    if !a.secrets.is_empty() {
        let stdin = std::io::stdin();
        let mut lines = stdin.lock().lines();
        for secret in a.secrets {
            let value = lines
                .next()
                .transpose()
                .map_err(|e| Failure::Message(format!("cannot read stdin: {e}")))?
                .map(|l| l.trim_end_matches(['\r', '\n']).to_owned())
                .filter(|l| !l.is_empty())
                .ok_or_else(|| {
                    Failure::Usage(format!(
                        "no value for secret {secret} on stdin (one line per --secret, in order)"
                    ))
                })?;
            let entry = secret_entry(name, secret);
            store
                .set(&entry, &Sensitive::new(value))
                .map_err(|e| Failure::Message(e.to_string()))?;
            stored.push(entry.clone());
            let reference = json!(format!("keychain:{entry}"));
            if stdio {
                env.insert(secret.clone(), reference);
            } else {
                headers.insert(secret.clone(), reference);
            }
        }
    }
    if !env.is_empty() {
        fields.insert("env".into(), Value::Object(env));
    }
    if !headers.is_empty() {
        fields.insert("headers".into(), Value::Object(headers));
    }
    let result = edit(target, |doc| doc.insert_entry("mcp_servers", name, &fields));
    if result.is_err() {
        for entry in &stored {
            let _ = store.delete(entry);
        }
    }
    result?;
    crate::note(&format!(
        "added MCP server {name} to {}; `switchyard mcp tools {name}` lists its tools",
        target.path().display()
    ));
    Ok(ExitCode::SUCCESS)
}

fn list(target: &Target) -> Result<ExitCode, Failure> {
    let config = target.load()?;
    let rows: Vec<Value> = config
        .mcp_servers
        .iter()
        .map(|s| {
            let what = match &s.transport {
                McpTransport::Stdio { command, args, .. } => std::iter::once(command.clone())
                    .chain(args.iter().cloned())
                    .collect::<Vec<_>>()
                    .join(" "),
                McpTransport::Http { url, .. } | McpTransport::Sse { url, .. } => url.clone(),
            };
            json!({
                "name": s.name,
                "transport": s.transport.kind(),
                "enabled": s.enabled,
                "runs": what,
                "disabled_tools": s.disabled_tools,
            })
        })
        .collect();
    if target.json {
        return Ok(output::emit(&output::json(&rows)?));
    }
    if rows.is_empty() {
        return Ok(output::emit(
            "No MCP servers yet: `switchyard mcp add NAME -- COMMAND ARGS…` adds one.\n",
        ));
    }
    let mut t = Table::new(&[
        ("NAME", false),
        ("TRANSPORT", false),
        ("ENABLED", false),
        ("RUNS", false),
        ("DISABLED TOOLS", false),
    ]);
    for r in &rows {
        let s = |k: &str| r[k].as_str().unwrap_or_default().to_owned();
        t.row(vec![
            s("name"),
            s("transport"),
            if r["enabled"] == json!(true) {
                "yes".into()
            } else {
                "no".into()
            },
            s("runs"),
            r["disabled_tools"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default(),
        ]);
    }
    let mut out = String::new();
    t.render(&mut out);
    Ok(output::emit(&out))
}

fn tools(target: &Target, name: &str) -> Result<ExitCode, Failure> {
    let config = target.load()?;
    let server = config
        .mcp_servers
        .iter()
        .find(|s| s.name == name)
        .cloned()
        .ok_or_else(|| Failure::Message(format!("no MCP server named {name:?}")))?;
    // Listing works for a disabled server too: the user is asking about it by name.
    let mut probe = server;
    probe.enabled = true;
    let store = config.secret_store();
    let listed = block_on(async move {
        let hub = McpHub::new(std::slice::from_ref(&probe), store);
        let result = hub.tools(&probe.name).await;
        hub.shutdown().await;
        result.map_err(|e| Failure::Message(e.to_string()))
    })?;
    if target.json {
        return Ok(output::emit(&output::json(&*listed)?));
    }
    let mut t = Table::new(&[("TOOL", false), ("ENABLED", false), ("DESCRIPTION", false)]);
    for tool in listed.iter() {
        let mut description = tool.description.clone().unwrap_or_default();
        if let Some(first) = description.lines().next() {
            description = first.chars().take(80).collect();
        }
        t.row(vec![
            tool.name.clone(),
            if tool.enabled {
                "yes".into()
            } else {
                "no".into()
            },
            description,
        ]);
    }
    let mut out = String::new();
    t.render(&mut out);
    Ok(output::emit(&out))
}
