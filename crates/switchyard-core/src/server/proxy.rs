//! `/proxy/{provider}/{path}`: any method, to that provider's base URL, with its credentials put
//! in and the client's taken out; the answer (a stream included) passes through untouched. For
//! the endpoints the gateway does not model itself (files, batches, fine-tuning, vendor extras).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderName, StatusCode, header};
use axum::response::{IntoResponse as _, Response};
use futures_util::TryStreamExt as _;

use super::AppState;
use crate::error::ApiError;
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
    Path((provider, path)): Path<(String, String)>,
    req: Request,
) -> Response {
    match forward(&state, caller.as_deref(), &draft, &provider, &path, req).await {
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
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            format!("There is no enabled provider named {name:?} to proxy to."),
        )
        .with_code("provider_not_found"));
    };
    if let Some(caller) = caller {
        // Proxying reaches everything a provider offers: only keys allowed all of it may.
        caller.check_model(&format!("{name}/*"))?;
    }
    draft.update(|d| d.provider = Some(name.to_owned()));
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
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "invalid_request_error",
                format!("The request body is larger than the gateway's limit of {limit} bytes (limits.max_body_bytes)."),
            )
            .with_code("request_too_large")
        })?;
    let upstream = provider
        .client()
        .request(method, url)
        .headers(headers)
        .body(body)
        .send()
        .await
        .map_err(|e| {
            ApiError::new(
                StatusCode::BAD_GATEWAY,
                "upstream_error",
                format!("cannot reach provider {name}: {e}"),
            )
            .with_code("upstream_unavailable")
        })?;
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
