//! The configuration file exactly as users write it: serde types with `deny_unknown_fields`.
//! No validation beyond types lives here; see `validate.rs`.

use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    pub listen: Option<String>,
    pub data_dir: Option<String>,
    #[serde(default)]
    pub providers: Vec<RawProvider>,
    #[serde(default)]
    pub aliases: Vec<RawAlias>,
    #[serde(default)]
    pub timeouts: RawTimeouts,
    #[serde(default)]
    pub retry: RawRetry,
    #[serde(default)]
    pub circuit_breaker: RawCircuit,
    #[serde(default)]
    pub limits: RawLimits,
    #[serde(default)]
    pub log: RawLog,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLog {
    pub enabled: Option<bool>,
    pub capture_bodies: Option<bool>,
    pub max_body_bytes: Option<u64>,
    pub retention_days: Option<u32>,
    pub max_db_mb: Option<u64>,
    pub queue_capacity: Option<u32>,
}

/// Dollars per million tokens.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPrice {
    pub input: f64,
    pub output: f64,
    pub cached_input: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProvider {
    pub name: String,
    pub kind: String,
    pub base_url: String,
    pub api_key: Option<String>,
    #[serde(default)]
    pub models: Vec<String>,
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default)]
    pub timeouts: RawTimeouts,
    /// Model id → price, for cost estimates.
    #[serde(default)]
    pub prices: std::collections::BTreeMap<String, RawPrice>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAlias {
    pub name: String,
    pub targets: Vec<String>,
}

/// Every timeout in milliseconds; absent fields take the defaults.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTimeouts {
    pub connect_ms: Option<u64>,
    pub first_token_ms: Option<u64>,
    pub idle_ms: Option<u64>,
    pub total_ms: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRetry {
    pub rounds: Option<u32>,
    pub backoff_ms: Option<u64>,
    pub max_backoff_ms: Option<u64>,
    pub max_retry_after_ms: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCircuit {
    pub enabled: Option<bool>,
    pub window_ms: Option<u64>,
    pub min_requests: Option<u32>,
    pub failure_rate: Option<f64>,
    pub cooldown_ms: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLimits {
    pub max_body_bytes: Option<u64>,
    pub shutdown_grace_ms: Option<u64>,
}

fn yes() -> bool {
    true
}
