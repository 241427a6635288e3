//! Writes the UI's TypeScript types from the views (`make types`): every type listed in
//! [`write_all`] and the types it uses, one file each, plus an `index.ts` that re-exports them.
//! `make check-types` runs the same and fails when the checked-in files differ.

use std::path::{Path, PathBuf};

use ts_rs::{Config, ExportError, TS};

use super::{DataList, ObjectList, config, gateway, log, mcp, routing, sessions};
use switchyard_dialects::openai::{ModelCard, ModelList};

use crate::catalog::Preset;
use crate::error::ErrorCode;
use crate::store::{RequestDetail, RequestPage, Stats};

/// Every shape the UI reads. A new view is one more line here.
fn write_all(cfg: &Config) -> Result<(), ExportError> {
    ObjectList::<()>::export_all(cfg)?;
    DataList::<()>::export_all(cfg)?;
    // GET /v1/models, /admin/catalog
    ModelList::export_all(cfg)?;
    ModelCard::export_all(cfg)?;
    // The model card's open `capabilities` and `assistant` fields.
    crate::capabilities::CapabilityCard::export_all(cfg)?;
    crate::routing::AssistantCard::export_all(cfg)?;
    Preset::export_all(cfg)?;
    // The request log and its statistics.
    RequestPage::export_all(cfg)?;
    RequestDetail::export_all(cfg)?;
    Stats::export_all(cfg)?;
    log::TrafficDays::export_all(cfg)?;
    log::LatencyHistogram::export_all(cfg)?;
    log::TokenSeries::export_all(cfg)?;
    log::ProvidersHealth::export_all(cfg)?;
    // The configuration.
    config::Provider::export_all(cfg)?;
    config::ProviderTest::export_all(cfg)?;
    config::ModelsRefreshed::export_all(cfg)?;
    config::Discovery::export_all(cfg)?;
    config::Added::export_all(cfg)?;
    config::Alias::export_all(cfg)?;
    config::KeyList::export_all(cfg)?;
    config::CreatedKey::export_all(cfg)?;
    config::Settings::export_all(cfg)?;
    // Aliases and pools, and what the router knows of their members.
    routing::RoutingTable::export_all(cfg)?;
    routing::Pool::export_all(cfg)?;
    routing::PoolsRebuilt::export_all(cfg)?;
    switchyard_dialects::openai::RouteCard::export_all(cfg)?;
    // MCP servers, tools and assistants.
    mcp::Server::export_all(cfg)?;
    mcp::ToolList::export_all(cfg)?;
    mcp::ToolSwitch::export_all(cfg)?;
    mcp::Assistant::export_all(cfg)?;
    // The gateway itself, and the playground's sessions.
    gateway::GatewayInfo::export_all(cfg)?;
    gateway::Health::export_all(cfg)?;
    gateway::Statsz::export_all(cfg)?;
    sessions::Session::export_all(cfg)?;
    sessions::SessionSummary::export_all(cfg)?;
    Ok(())
}

/// `frontend/src/api/generated`, or `SWITCHYARD_TS_OUT` when set.
fn out_dir() -> PathBuf {
    std::env::var_os("SWITCHYARD_TS_OUT").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../frontend/src/api/generated"),
        PathBuf::from,
    )
}

/// The `code` of every error the gateway answers itself, as a union the UI can switch on.
fn error_codes() -> String {
    let mut codes: Vec<&str> = ErrorCode::ALL.iter().filter_map(|c| c.wire()).collect();
    codes.sort_unstable();
    codes.dedup();
    let union: String = codes.iter().map(|c| format!("\n  | \"{c}\"")).collect();
    format!(
        "{HEADER}\n/** The `code` of an error the gateway answers itself (`switchyard_core::error::ErrorCode`). */\nexport type ErrorCode ={union};\n"
    )
}

const HEADER: &str =
    "// Generated from the gateway's Rust types by `make types`; do not edit by hand.\n";

#[test]
fn write_typescript_types() {
    let dir = out_dir();
    // Start empty, so that a type no longer exported leaves no file behind.
    if dir.exists() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "ts") {
                std::fs::remove_file(path).unwrap();
            }
        }
    }
    // JavaScript numbers hold every count and millisecond figure the gateway sends.
    let cfg = Config::new().with_out_dir(&dir).with_large_int("number");
    write_all(&cfg).unwrap();
    std::fs::write(dir.join("ErrorCode.ts"), error_codes()).unwrap();
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter_map(|n| n.strip_suffix(".ts").map(str::to_owned))
        .collect();
    names.sort();
    let index: String = names
        .iter()
        .map(|n| format!("export type * from \"./{n}\";\n"))
        .collect();
    std::fs::write(dir.join("index.ts"), format!("{HEADER}{index}")).unwrap();
}
