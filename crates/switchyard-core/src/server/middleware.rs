//! Cross-cutting request checks: the `Host` allow-list that stops DNS-rebinding attacks on a
//! loopback gateway, and the OpenAI-shaped 404/405 fallbacks.

use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

/// A browser page on `evil.example` that resolves to 127.0.0.1 still sends `Host: evil.example`:
/// only loopback names are served.
pub async fn loopback_host(req: Request, next: Next) -> Response {
    if let Some(host) = req.headers().get(header::HOST) {
        let allowed = host.to_str().is_ok_and(is_loopback_host);
        if !allowed {
            return ApiError::new(
                StatusCode::FORBIDDEN,
                "permission_error",
                "This gateway only answers requests addressed to localhost, 127.0.0.1 or [::1].",
            )
            .with_code("host_not_allowed")
            .into_response();
        }
    }
    next.run(req).await
}

pub fn is_loopback_host(host: &str) -> bool {
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or_default()
    } else {
        host.rsplit_once(':').map_or(host, |(name, port)| {
            if port.chars().all(|c| c.is_ascii_digit()) {
                name
            } else {
                host
            }
        })
    };
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost"
        || name.ends_with(".localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The path the client asked for, before any nesting stripped its prefix.
fn full_path(req: &Request) -> String {
    req.extensions()
        .get::<axum::extract::OriginalUri>()
        .map_or_else(|| req.uri().path().to_owned(), |u| u.path().to_owned())
}

pub async fn not_found(req: Request) -> Response {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "invalid_request_error",
        format!(
            "Unknown route: {} {}. The OpenAI-compatible API is under /v1.",
            req.method(),
            full_path(&req)
        ),
    )
    .with_code("unknown_route")
    .into_response()
}

pub async fn method_not_allowed(req: Request) -> Response {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "invalid_request_error",
        format!("{} is not allowed on {}.", req.method(), full_path(&req)),
    )
    .with_code("method_not_allowed")
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::is_loopback_host;

    #[test]
    fn only_loopback_names_pass() {
        for ok in [
            "localhost",
            "localhost:7137",
            "127.0.0.1:7137",
            "[::1]:7137",
            "127.0.0.2",
            "app.localhost",
        ] {
            assert!(is_loopback_host(ok), "{ok}");
        }
        for bad in [
            "evil.example",
            "evil.example:7137",
            "192.168.1.2:7137",
            "localhost.evil.com",
            "0.0.0.0:7137",
        ] {
            assert!(!is_loopback_host(bad), "{bad}");
        }
    }
}
