//! The built-in UI at `/ui/`. Its files are embedded at build time by the `switchyard-ui-assets`
//! crate, which the binaries hand to the gateway as a [`UiFiles`] lookup (so a UI rebuild never
//! recompiles this crate). Paths are looked up in that static table, never on disk, so nothing
//! outside the built UI can be served. Client-side routes (`/ui/peek`) get `index.html`; missing
//! files with an extension are 404s.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use super::AppState;

/// Finds a file of the built UI by its path relative to `frontend/dist` (`index.html`,
/// `assets/app-1234.js`).
pub type UiFiles = fn(&str) -> Option<&'static [u8]>;

/// No built UI: `/ui/` answers 503 and says how to build it.
pub fn no_ui(_path: &str) -> Option<&'static [u8]> {
    None
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json" | "map") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("woff2") => "font/woff2",
        Some("woff") => "font/woff",
        Some("txt") => "text/plain; charset=utf-8",
        Some("webmanifest") => "application/manifest+json",
        _ => "application/octet-stream",
    }
}

fn file(path: &str, bytes: &'static [u8]) -> Response {
    let mut response = (StatusCode::OK, bytes).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(path)),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(if path.starts_with("assets/") {
            // Vite names these by content hash.
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        }),
    );
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    response
}

pub async fn serve(State(state): State<Arc<AppState>>, req: Request) -> Response {
    let find = state.ui;
    let path = req.uri().path();
    let Some(rest) = path.strip_prefix("/ui/") else {
        return Redirect::permanent("/ui/").into_response();
    };
    if let Some(bytes) = find(rest) {
        return file(rest, bytes);
    }
    let last = rest.rsplit('/').next().unwrap_or_default();
    if last.contains('.') && rest != "index.html" {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    }
    match find("index.html") {
        Some(bytes) => file("index.html", bytes),
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "The UI was not built into this binary. Build it with `make frontend` (or `make run`), then rebuild.\n",
        )
            .into_response(),
    }
}

/// `GET /`: browsers go to the UI; API clients get a short JSON description.
pub fn wants_html(req: &Request) -> bool {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"))
}
