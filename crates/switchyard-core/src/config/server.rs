//! `listen`, `[limits]` and `[access]`: where the gateway listens, how much it accepts, and from
//! whom.

use std::net::SocketAddr;

use super::{AccessConfig, DEFAULT_LISTEN, Limits, ms_or, raw, size_or};

pub(super) fn listen(raw: Option<String>, push: &mut impl FnMut(String, String)) -> SocketAddr {
    match raw
        .as_deref()
        .unwrap_or(DEFAULT_LISTEN)
        .parse::<SocketAddr>()
    {
        Ok(addr) => addr,
        Err(_) => {
            push(
                "listen".into(),
                format!(
                    "{:?} is not an address like \"127.0.0.1:7137\"",
                    raw.unwrap_or_default()
                ),
            );
            SocketAddr::from(([127, 0, 0, 1], 7137))
        }
    }
}

pub(super) fn limits(raw: &raw::RawLimits, push: &mut impl FnMut(String, String)) -> Limits {
    let defaults = Limits::default();
    let limits = Limits {
        max_body_bytes: raw.max_body_bytes.map_or(defaults.max_body_bytes, |b| {
            usize::try_from(b).unwrap_or(usize::MAX)
        }),
        max_upload_bytes: raw.max_upload_bytes.map_or(defaults.max_upload_bytes, |b| {
            usize::try_from(b).unwrap_or(usize::MAX)
        }),
        shutdown_grace: ms_or(raw.shutdown_grace_ms, defaults.shutdown_grace),
        max_connections: size_or(raw.max_connections, defaults.max_connections),
        max_uri_bytes: size_or(raw.max_uri_bytes, defaults.max_uri_bytes),
        max_header_bytes: size_or(raw.max_header_bytes, defaults.max_header_bytes),
        header_read_timeout: ms_or(raw.header_read_timeout_ms, defaults.header_read_timeout),
        body_idle_timeout: ms_or(raw.body_idle_timeout_ms, defaults.body_idle_timeout),
        keep_alive_timeout: ms_or(raw.keep_alive_timeout_ms, defaults.keep_alive_timeout),
    };
    for (field, value, least) in [
        ("max_connections", limits.max_connections, 1),
        ("max_uri_bytes", limits.max_uri_bytes, 256),
        ("max_header_bytes", limits.max_header_bytes, 1024),
    ] {
        if value < least {
            push(
                format!("limits.{field}"),
                format!("must be at least {least}"),
            );
        }
    }
    for (field, value) in [
        ("header_read_timeout_ms", limits.header_read_timeout),
        ("body_idle_timeout_ms", limits.body_idle_timeout),
        ("keep_alive_timeout_ms", limits.keep_alive_timeout),
    ] {
        if value.is_zero() {
            push(format!("limits.{field}"), "must be greater than 0".into());
        }
    }
    if limits.max_upload_bytes < 1024 {
        push(
            "limits.max_upload_bytes".into(),
            "must be at least 1024".into(),
        );
    }
    if limits.max_body_bytes < 1024 {
        push(
            "limits.max_body_bytes".into(),
            "must be at least 1024".into(),
        );
    }
    limits
}

pub(super) fn access(raw: &raw::RawAccess, push: &mut impl FnMut(String, String)) -> AccessConfig {
    let access = AccessConfig {
        require_key: raw.require_key.unwrap_or(false),
        cors_origins: raw
            .cors_origins
            .iter()
            .map(|o| o.trim_end_matches('/').to_owned())
            .collect(),
        allowed_hosts: raw
            .allowed_hosts
            .iter()
            .map(|h| h.to_ascii_lowercase())
            .collect(),
    };
    for (i, origin) in access.cors_origins.iter().enumerate() {
        let ok = reqwest::Url::parse(origin).is_ok_and(|u| {
            matches!(u.scheme(), "http" | "https")
                && u.host().is_some()
                && u.path() == "/"
                && u.query().is_none()
        }) && origin != "null";
        if !ok || origin.contains('*') {
            push(
                format!("access.cors_origins[{i}]"),
                format!(
                    "{origin:?} must be an exact origin like \"https://app.example\" or \"http://localhost:3000\" (no wildcards, no path)"
                ),
            );
        }
    }
    for (i, host) in access.allowed_hosts.iter().enumerate() {
        if host.is_empty() || host.contains(['/', ' ', '*']) {
            push(
                format!("access.allowed_hosts[{i}]"),
                format!("{host:?} must be a host name or IP address"),
            );
        }
    }
    access
}
