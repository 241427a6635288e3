//! Views over the request log (series for the dashboard) and the providers' circuits.

use serde::Serialize;

use crate::routing::circuit::CircuitState;
use crate::store::{HistogramBucket, TokenPoint, TrafficDay};

/// `GET /admin/traffic/days`.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TrafficDays {
    pub days: Vec<TrafficDay>,
}

/// `GET /admin/stats/latency`.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LatencyHistogram {
    pub window: String,
    pub buckets: Vec<HistogramBucket>,
}

/// `GET /admin/stats/tokens`.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TokenSeries {
    pub window: String,
    pub bucket_ms: i64,
    pub points: Vec<TokenPoint>,
}

/// `GET /admin/health/providers`.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ProvidersHealth {
    pub providers: Vec<ProviderHealth>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ProviderHealth {
    pub name: String,
    pub kind: &'static str,
    pub enabled: bool,
    /// Why its key cannot be read, when it cannot.
    pub problem: Option<String>,
    pub targets: Vec<TargetHealth>,
}

/// One `provider/model`'s circuit breaker.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TargetHealth {
    pub target: String,
    pub circuit: CircuitState,
    pub last_error: Option<String>,
}
