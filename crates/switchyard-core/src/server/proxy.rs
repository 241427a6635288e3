//! `/proxy/{provider}/{path}`: any method, to that provider's base URL, with its credentials put
//! in and the client's taken out; the answer (a stream included) passes through untouched. For
//! the endpoints the gateway does not model itself (files, batches, fine-tuning, vendor extras).
//! The path is decoded and its dot segments resolved here: it never climbs out of the base URL.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, header};
use axum::response::{IntoResponse as _, Response};
use futures_util::TryStreamExt as _;

use percent_encoding::percent_decode_str;

use super::AppState;
use crate::error::ToApiError as _;
use crate::error::{ApiError, ErrorCode};
use crate::record::Draft;

/// Headers that describe one hop, or carry the client's credentials: never forwarded.
const DROPPED: &[&str] = &[
    "host",
    "authorization",
    "x-api-key",
    "api-key",
    "x-goog-api-key",
    "cookie",
    "connection",
    "keep-alive",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "content-length",
    "origin",
    "referer",
];

fn hop_header(name: &HeaderName) -> bool {
    DROPPED.contains(&name.as_str()) || name.as_str().starts_with("sec-")
}

pub async fn proxy(
    State(state): State<Arc<AppState>>,
    caller: Option<axum::Extension<super::auth::Caller>>,
    draft: Draft,
    req: Request,
) -> Response {
    // Read from the raw URI (nesting took `/proxy` off): the path is decoded here, once, on
    // purpose, and a bad escape gets our JSON error rather than the router's plain text.
    let raw = req.uri().path().trim_start_matches('/').to_owned();
    let (provider, path) = raw.split_once('/').unwrap_or((raw.as_str(), ""));
    let provider = percent_decode_str(provider).decode_utf8_lossy();
    match forward(&state, caller.as_deref(), &draft, &provider, path, req).await {
        Ok(response) => response,
        Err(e) => super::fail(&draft, e),
    }
}

async fn forward(
    state: &AppState,
    caller: Option<&super::auth::Caller>,
    draft: &Draft,
    name: &str,
    path: &str,
    req: Request,
) -> Result<Response, ApiError> {
    let runtime = state.runtime.load_full();
    let enabled = runtime.config.provider(name).is_some_and(|p| p.enabled);
    let Some(provider) = runtime.providers.iter().find(|p| p.name == name && enabled) else {
        return Err(ApiError::of(
            ErrorCode::ProviderNotFound,
            format!("There is no enabled provider named {name:?} to proxy to."),
        ));
    };
    if let Some(caller) = caller {
        // Proxying reaches everything a provider offers: only keys allowed all of it may.
        caller.check_model(&format!("{name}/*"))?;
    }
    draft.update(|d| d.provider = Some(name.to_owned()));
    let path = normalise(path).map_err(|problem| {
        ApiError::of(ErrorCode::InvalidPath, format!(
            "The path {path:?} {problem}; /proxy/{name}/ reaches only what lies under provider {name}'s base URL."
        ))
        .with_param("path")
    })?;
    let mut url = format!("{}/{}", provider.base_url().trim_end_matches('/'), path);
    if let Some(q) = req.uri().query() {
        url.push('?');
        url.push_str(q);
    }
    let url = reqwest::Url::parse(&url)
        .map_err(|e| ApiError::invalid_request(format!("cannot build the upstream URL: {e}")))?;
    let mut headers = HeaderMap::new();
    for (k, v) in req.headers() {
        if !hop_header(k) {
            headers.append(k.clone(), v.clone());
        }
    }
    provider
        .authenticate(&mut headers)
        .map_err(|e| e.to_api_error(name))?;
    if provider.kind == crate::config::ProviderKind::Anthropic
        && !headers.contains_key("anthropic-version")
    {
        headers.insert(
            "anthropic-version",
            header::HeaderValue::from_static("2023-06-01"),
        );
    }
    let method = req.method().clone();
    // Read whole, within the gateway's body limit, so that the upstream gets a length.
    let limit = runtime.config.limits.max_body_bytes;
    let body = axum::body::to_bytes(req.into_body(), limit)
        .await
        .map_err(|_| {
            ApiError::of(ErrorCode::RequestTooLarge, format!("The request body is larger than the gateway's limit of {limit} bytes (limits.max_body_bytes)."))
        })?;
    let upstream = provider
        .client()
        .request(method, url)
        .headers(headers)
        .body(body)
        .send()
        .await
        .map_err(|e| {
            ApiError::of(
                ErrorCode::UpstreamUnavailable,
                format!("cannot reach provider {name}: {e}"),
            )
        })?;
    let upstream = provider.scrubbed(upstream);
    let status = upstream.status();
    if !status.is_success() {
        draft.update(|d| d.error = Some(format!("the upstream answered {status}")));
    }
    let mut response = Response::builder().status(status.as_u16());
    if let Some(out) = response.headers_mut() {
        // Content-Length is dropped too: with it, the server would stop reading the body at
        // its last byte, before its end, and the request log would take the client for gone.
        for (k, v) in upstream.headers() {
            if !hop_header(k) {
                out.append(k.clone(), v.clone());
            }
        }
    }
    let stream = upstream.bytes_stream().map_err(std::io::Error::other);
    response
        .body(Body::from_stream(stream))
        .map_err(|e| ApiError::internal(e.to_string()))
        .map(|r| r.into_response())
}

/// How many times a path may be percent-encoded over itself before it is refused.
const MAX_DECODES: usize = 4;

/// The path after `/proxy/{provider}/`, as sent (still percent-encoded), with its dot segments
/// resolved: what goes upstream after the base URL. Each segment is judged by what it means
/// once fully decoded (`%2e%2e`, `%252e%252e`), and `\` separates segments as `/` does,
/// because upstream servers and the URL parser may read them so. A segment that would climb
/// above the base, or whose meaning hides a separator beside a dot segment (`..%2f`), is an
/// error that says why. Other segments go on exactly as the client encoded them.
fn normalise(path: &str) -> Result<String, &'static str> {
    let mut kept: Vec<&str> = Vec::new();
    for segment in path.split(['/', '\\']) {
        let meaning = decoded(segment)?;
        if meaning.chars().any(char::is_control) {
            return Err("holds a control character");
        }
        if meaning.contains(['/', '\\']) {
            // An encoded separator: harmless inside a name (`org%2Fmodel`), not beside dots.
            if meaning.split(['/', '\\']).any(is_dots) {
                return Err("hides a dot segment behind an encoded separator");
            }
            kept.push(segment);
            continue;
        }
        match dots(&meaning) {
            Some(1) => {}
            Some(_) => {
                if kept.pop().is_none() {
                    return Err("climbs out of the provider's base URL");
                }
            }
            None if segment.is_empty() => {}
            None => kept.push(segment),
        }
    }
    let mut out = kept.join("/");
    if path.ends_with(['/', '\\']) && !out.is_empty() {
        out.push('/');
    }
    Ok(out)
}

/// The segment decoded until nothing changes; refused when that takes too many rounds or the
/// bytes are not UTF-8.
fn decoded(segment: &str) -> Result<String, &'static str> {
    let mut text = segment.to_owned();
    for _ in 0..MAX_DECODES {
        let next = percent_decode_str(&text)
            .decode_utf8()
            .map_err(|_| "is not UTF-8 once decoded")?;
        if next == text {
            return Ok(text);
        }
        text = next.into_owned();
    }
    Err("is percent-encoded too many times over")
}

/// `Some(1)` for `.`, `Some(2)` for `..` (also with a `;parameter`, which some servers drop).
fn dots(piece: &str) -> Option<usize> {
    match piece.split(';').next().unwrap_or_default() {
        "." => Some(1),
        ".." => Some(2),
        _ => None,
    }
}

fn is_dots(piece: &str) -> bool {
    dots(piece).is_some()
}

#[cfg(test)]
mod tests {
    use super::normalise;

    #[test]
    fn dot_segments_resolve_inside_the_base_and_are_refused_above_it() {
        assert_eq!(normalise("models").unwrap(), "models");
        assert_eq!(normalise("files/abc/content").unwrap(), "files/abc/content");
        assert_eq!(
            normalise("models/../chat/completions").unwrap(),
            "chat/completions"
        );
        assert_eq!(normalise("./models/").unwrap(), "models/");
        assert_eq!(normalise("models/org%2Fname").unwrap(), "models/org%2Fname");
        assert_eq!(normalise("a//b").unwrap(), "a/b");
        for bad in [
            "..",
            "../_requests",
            "%2e%2e/_requests",
            "%2E%2e/x",
            ".%2e/x",
            "..%2f_requests",
            "..%2F_requests",
            "%252e%252e/x",
            "%25252e%25252e%25252f",
            "..\\_requests",
            "..%5c_requests",
            "models/../../x",
            "..;/x",
            "a/%00",
            "%ff",
        ] {
            assert!(normalise(bad).is_err(), "{bad} was let through");
        }
    }
}
