//! The OpenAI-shaped 404/405 fallbacks. Access checks live in `auth`.

use axum::extract::Request;
use axum::http::Method;
use axum::response::{IntoResponse, Response};

use crate::error::{ApiError, ErrorCode};

/// The path the client asked for, before any nesting stripped its prefix.
fn full_path(req: &Request) -> String {
    req.extensions()
        .get::<axum::extract::OriginalUri>()
        .map_or_else(|| req.uri().path().to_owned(), |u| u.path().to_owned())
}

pub async fn not_found(req: Request) -> Response {
    ApiError::of(
        ErrorCode::UnknownRoute,
        format!(
            "Unknown route: {} {}. The OpenAI-compatible API is under /v1.",
            req.method(),
            full_path(&req)
        ),
    )
    .into_response()
}

/// A path no route of ours serves. When `/v1` in front of it names a model endpoint, the
/// client's base URL lacks `/v1` (the commonest setup mistake): say so, with the URL to use.
pub fn unknown_route(method: &Method, path: &str, host: &str) -> Response {
    let message = match super::routes::under_v1(path) {
        Some(meant) => format!(
            "Unknown route: {method} {path}. Did you mean {meant}? Set your base URL to http://{host}/v1"
        ),
        None => format!(
            "Unknown route: {method} {path}. The OpenAI-compatible API is under /v1 (base URL http://{host}/v1)."
        ),
    };
    ApiError::of(ErrorCode::UnknownRoute, message).into_response()
}

pub async fn method_not_allowed(req: Request) -> Response {
    ApiError::of(
        ErrorCode::MethodNotAllowed,
        format!("{} is not allowed on {}.", req.method(), full_path(&req)),
    )
    .into_response()
}
