//! `/admin/routing` and `/admin/pools`: every alias and pool with its members, in the order the
//! next request would try them, and what the router knows of each member now.

use serde::Serialize;

use crate::config::{Fallback, Requirement, Strategy};
use crate::routing::circuit::CircuitState;

/// `GET /admin/routing`.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RoutingTable {
    /// The strategy of a bare model id that several providers serve.
    pub default_strategy: Strategy,
    /// Every alias and pool falls back to a local model when offline.
    pub offline_fallback: bool,
    pub routes: Vec<RouteView>,
}

/// One alias, capability pool or bare-id pool.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RouteView {
    pub name: String,
    /// `alias`, `pool` or `model_pool`.
    pub kind: String,
    pub strategy: Strategy,
    /// For a capability pool: what its members must do, as a person reads it.
    pub require: Option<String>,
    /// Members in the order the next request would try them (a `weighted` route shows the
    /// heaviest first; each request draws anew).
    pub members: Vec<MemberView>,
    /// The local models tried offline, when the route falls back.
    pub fallback: Vec<String>,
}

/// What the router knows of one member now.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MemberView {
    pub target: String,
    pub weight: u32,
    /// Moving estimate of a whole non-streamed answer; `null` before the first.
    pub latency_ms: Option<f64>,
    /// Moving estimate of the time to first token of a stream; `null` before the first.
    pub ttft_ms: Option<f64>,
    /// Moving share of recent attempts that failed, 0 to 1.
    pub error_rate: f64,
    pub requests: u64,
    pub failures: u64,
    pub in_flight: u32,
    pub circuit: CircuitState,
    pub last_error: Option<String>,
    /// Dollars per million tokens, input and output added; `null` when unknown.
    pub price: Option<f64>,
    pub context_window: Option<u64>,
    /// Served by a local runtime.
    pub local: bool,
}

/// A `[[pools]]` entry as configured, with its members now.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Pool {
    pub name: String,
    pub require: Requirement,
    pub strategy: Strategy,
    /// Empty: every provider.
    pub providers: Vec<String>,
    /// Model-id patterns; empty: every model.
    pub models: Vec<String>,
    pub fallback: Fallback,
    /// The enabled models that meet the requirement now.
    pub members: Vec<String>,
}

impl Pool {
    /// Every configured pool, with its members in `runtime`.
    pub fn all(runtime: &crate::routing::Runtime) -> Vec<Self> {
        runtime
            .config
            .pools
            .iter()
            .map(|p| Self {
                name: p.name.clone(),
                require: p.require.clone(),
                strategy: p.strategy,
                providers: p.providers.clone(),
                models: p.models.clone(),
                fallback: p.fallback,
                members: runtime
                    .resolve(&p.name)
                    .map(|r| r.targets.iter().map(|t| t.label.clone()).collect())
                    .unwrap_or_default(),
            })
            .collect()
    }
}

/// `POST /admin/pools/rebuild`: the pools after the model lists were read again.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PoolsRebuilt {
    pub pools: Vec<Pool>,
    /// Providers whose model list could not be read, with why.
    pub errors: Vec<String>,
}
