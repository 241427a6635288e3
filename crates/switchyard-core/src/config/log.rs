//! `[log]`: whether requests are recorded, with their bodies, and for how long.

use std::time::Duration;

use super::{LogConfig, LogSettings, raw};

pub(super) fn log(raw: &raw::RawLog, push: &mut impl FnMut(String, String)) -> LogConfig {
    let log_defaults = LogSettings::default();
    let log = LogConfig {
        enabled: raw.enabled.unwrap_or(true),
        settings: LogSettings {
            capture_bodies: raw.capture_bodies.unwrap_or(log_defaults.capture_bodies),
            max_body_bytes: raw.max_body_bytes.map_or(log_defaults.max_body_bytes, |b| {
                usize::try_from(b).unwrap_or(usize::MAX)
            }),
            retention: raw.retention_days.map_or(log_defaults.retention, |d| {
                Duration::from_secs(u64::from(d) * 86_400)
            }),
            max_db_bytes: raw.max_db_mb.map_or(log_defaults.max_db_bytes, |mb| {
                mb.saturating_mul(1024 * 1024)
            }),
            queue_capacity: raw.queue_capacity.map_or(log_defaults.queue_capacity, |c| {
                usize::try_from(c).unwrap_or(usize::MAX)
            }),
        },
    };
    if raw.retention_days == Some(0) {
        push("log.retention_days".into(), "must be at least 1".into());
    }
    if raw.queue_capacity == Some(0) {
        push("log.queue_capacity".into(), "must be at least 1".into());
    }
    log
}
