//! Views of the gateway itself: `/`, `/healthz` and `/statsz`.

use serde::Serialize;

use crate::mcp::ServerStatus;
use crate::metrics::Summary;
use crate::routing::circuit::CircuitState;

/// `GET /` for programs: what this gateway is and its front doors.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct GatewayInfo {
    pub name: &'static str,
    pub version: &'static str,
    pub openai_base_url: &'static str,
    pub ui: &'static str,
    pub endpoints: &'static [String],
}

/// `GET /healthz`.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Health {
    pub status: &'static str,
    pub version: &'static str,
    pub uptime_s: u64,
    /// How many providers are configured.
    pub providers: usize,
    /// Circuits that are not closed.
    pub open_circuits: Vec<OpenCircuit>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct OpenCircuit {
    pub target: String,
    pub state: CircuitState,
    pub last_error: Option<String>,
}

/// `GET /statsz`: the counters at a glance, and the MCP servers' states.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Statsz {
    #[serde(flatten)]
    pub summary: Summary,
    pub mcp_servers: Vec<ServerStatus>,
}
