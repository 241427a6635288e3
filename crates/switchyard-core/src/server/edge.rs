//! The edge of the HTTP API, before access checks and routing: request heads over the size
//! limits (414, 431), bodies declared larger than the door takes (413, refused from the header
//! before a byte of the body is read) and request bodies that stall (408). Every refusal is an
//! [`ApiError`], so it reaches the client in its dialect. Connection deadlines live in `listen`.

use std::future::Future as _;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};
use http_body::{Body as HttpBody, Frame, SizeHint};
use tokio::time::{Instant, Sleep};

use super::AppState;
use crate::config::Limits;
use crate::error::{ApiError, ErrorCode};

/// Header fields a request may carry (hyper's own default).
const MAX_HEADER_FIELDS: usize = 100;

pub async fn edge(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let limits = state.runtime.load().config.limits;
    if let Err(e) = check_head(&req, &limits) {
        return closing(e.into_response());
    }
    if let Err(e) = check_declared_length(&req, &limits) {
        return closing(e.into_response());
    }
    let stalled = Arc::new(AtomicBool::new(false));
    let timeout = limits.body_idle_timeout;
    let mut req = req.map(|inner| {
        Body::new(StallGuard {
            inner,
            timeout,
            sleep: None,
            waiting: false,
            stalled: stalled.clone(),
        })
    });
    req.extensions_mut()
        .insert(BodyStall(stalled.clone(), timeout));
    let response = next.run(req).await;
    if stalled.load(Ordering::Relaxed) {
        if response.status() == StatusCode::REQUEST_TIMEOUT {
            return closing(response);
        }
        // Whatever the door made of its broken body: read it, so that the request log gets its
        // row as answered, and say what really happened.
        let _ = tokio::time::timeout(
            Duration::from_secs(1),
            axum::body::to_bytes(response.into_body(), 1024 * 1024),
        )
        .await;
        return closing(stalled_error(timeout).into_response());
    }
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE {
        // The body was not read: the connection cannot carry another request.
        return closing(response);
    }
    response
}

fn closing(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

fn check_head(req: &Request, limits: &Limits) -> Result<(), ApiError> {
    let uri = req.uri().path_and_query().map_or(0, |pq| pq.as_str().len());
    if uri > limits.max_uri_bytes {
        return Err(ApiError::of(
            ErrorCode::UriTooLong,
            format!(
                "The request URI is {uri} bytes long, over this gateway's limit of {} bytes (limits.max_uri_bytes). Send long parameters in the body instead.",
                limits.max_uri_bytes
            ),
        ));
    }
    let fields = req.headers().len();
    if fields > MAX_HEADER_FIELDS {
        return Err(headers_too_large(format!(
            "The request has {fields} header fields, over this gateway's limit of {MAX_HEADER_FIELDS}."
        )));
    }
    let size = header_bytes(req.headers());
    if size > limits.max_header_bytes {
        return Err(headers_too_large(format!(
            "The request headers take {size} bytes, over this gateway's limit of {} bytes (limits.max_header_bytes). Send large values in the body instead.",
            limits.max_header_bytes
        )));
    }
    Ok(())
}

/// The size of the header lines as sent: `name: value\r\n` each.
fn header_bytes(headers: &HeaderMap) -> usize {
    headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum()
}

fn headers_too_large(message: String) -> ApiError {
    ApiError::of(ErrorCode::RequestHeaderFieldsTooLarge, message)
}

fn check_declared_length(req: &Request, limits: &Limits) -> Result<(), ApiError> {
    // The multipart doors have their own limit, which `upload::read_form` checks against a
    // declared length before reading too.
    let upload = req
        .uri()
        .path()
        .strip_prefix("/v1")
        .is_some_and(|door| super::routes::UPLOADS.contains(&door));
    if upload {
        return Ok(());
    }
    let Some(declared) = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
    else {
        return Ok(());
    };
    let limit = limits.max_body_bytes;
    if declared > u64::try_from(limit).unwrap_or(u64::MAX) {
        return Err(ApiError::of(
            ErrorCode::RequestTooLarge,
            format!(
                "The request body is {declared} bytes (its Content-Length), over this gateway's limit of {limit} bytes. Send less, or raise `limits.max_body_bytes` in the gateway's config."
            ),
        ));
    }
    Ok(())
}

fn stalled_error(timeout: Duration) -> ApiError {
    ApiError::of(
        ErrorCode::RequestBodyTimeout,
        format!(
            "The request body stopped arriving: no bytes for {} ms (limits.body_idle_timeout_ms). Nothing was sent upstream; send the request again.",
            timeout.as_millis()
        ),
    )
}

/// Tells the request log that the body stalled, so that its row says 408 as the client saw.
#[derive(Debug, Clone)]
pub struct BodyStall(Arc<AtomicBool>, Duration);

impl BodyStall {
    /// What went wrong, when the body stalled.
    pub fn error(&self) -> Option<ApiError> {
        self.0
            .load(Ordering::Relaxed)
            .then(|| stalled_error(self.1))
    }
}

/// Why a request body ended early.
#[derive(Debug, thiserror::Error)]
#[error("the request body stalled: no bytes for {} ms (limits.body_idle_timeout_ms)", .0.as_millis())]
struct BodyStalled(Duration);

/// A request body that fails when no bytes arrive for `timeout` while someone waits for them.
/// Only waiting counts: a door that reads slowly, or not at all, is not the client's fault.
struct StallGuard {
    inner: Body,
    timeout: Duration,
    /// Made the first time the body waits.
    sleep: Option<Pin<Box<Sleep>>>,
    /// Waiting since the deadline was last set.
    waiting: bool,
    stalled: Arc<AtomicBool>,
}

impl HttpBody for StallGuard {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = &mut *self;
        if this.stalled.load(Ordering::Relaxed) {
            return Poll::Ready(Some(Err(axum::Error::new(BodyStalled(this.timeout)))));
        }
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        if polled.is_ready() {
            this.waiting = false;
            return polled;
        }
        let deadline = Instant::now() + this.timeout;
        let sleep = this
            .sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        if !this.waiting {
            this.waiting = true;
            sleep.as_mut().reset(deadline);
        }
        if sleep.as_mut().poll(cx).is_ready() {
            this.stalled.store(true, Ordering::Relaxed);
            return Poll::Ready(Some(Err(axum::Error::new(BodyStalled(this.timeout)))));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
