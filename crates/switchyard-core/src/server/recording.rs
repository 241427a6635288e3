//! Every request through `/v1/*` becomes one record: this middleware opens a [`Draft`] for the
//! handler to fill, and a [`Ticket`] that submits the record exactly once — when the response
//! body ends, or when the client goes away (a 499), whichever comes first.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use http_body::{Body as HttpBody, Frame, SizeHint};

use std::future::Future as _;

use axum::response::IntoResponse as _;

use super::AppState;
use crate::error::{ApiError, ErrorCode};
use crate::record::{Draft, Outcome, RequestRecord, ms_since, new_request_id, now_ms};

/// The id of the request's row in the log, for peek and support.
pub const REQUEST_ID_HEADER: &str = "x-switchyard-request-id";

pub async fn record(State(state): State<Arc<AppState>>, mut req: Request, next: Next) -> Response {
    let endpoint = req
        .extensions()
        .get::<axum::extract::OriginalUri>()
        .map_or_else(|| req.uri().path().to_owned(), |u| u.path().to_owned());
    let client = req
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.chars().take(256).collect());
    let key_name = req
        .extensions()
        .get::<super::auth::Caller>()
        .and_then(|c| c.key_name().map(str::to_owned));
    let (draft, mut ticket) = open(&state, req.method().to_string(), endpoint, client, key_name);
    req.extensions_mut().insert(draft);
    let hard_stop = state.hard_stop.clone();
    let stall = req.extensions().get::<super::edge::BodyStall>().cloned();
    let mut response = tokio::select! {
        biased;
        response = next.run(req) => response,
        () = hard_stop.cancelled() => {
            ticket.draft.update(|d| d.error = Some("the gateway shut down before answering".into()));
            ApiError::of(ErrorCode::ShuttingDown, "The gateway is shutting down; retry shortly.")
                .into_response()
        }
    };
    ticket.status = Some(response.status());
    if let Some(e) = stall.and_then(|s| s.error()) {
        // The edge answers this 408 in place of whatever the door made of the broken body.
        ticket.status = Some(e.status());
        ticket
            .draft
            .update(|d| d.error = Some(e.message().to_owned()));
    }
    if let Ok(v) = HeaderValue::from_str(&ticket.id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, v);
    }
    if response.body().is_end_stream() || ticket.method == "HEAD" {
        // Nothing will poll an empty body: the answer is complete now.
        ticket.submit(true);
        return response;
    }
    response.map(|inner| {
        Body::new(RecordedBody {
            inner,
            ticket: Some(ticket),
            stop: None,
            hard_stop,
        })
    })
}

/// Opens a record: for this middleware, and for work that does not come through it (an `/mcp`
/// tool call, which fills the draft and then calls [`Ticket::finish`]). Dropped unfinished, a
/// ticket is logged as a 499.
pub(super) fn open(
    state: &Arc<AppState>,
    method: String,
    endpoint: String,
    client: Option<String>,
    key_name: Option<String>,
) -> (Draft, Ticket) {
    let started = Instant::now();
    let started_ms = now_ms();
    let draft = Draft::attached(started);
    state.metrics.in_flight.fetch_add(1, Ordering::Relaxed);
    let ticket = Ticket {
        state: state.clone(),
        draft: draft.clone(),
        id: new_request_id(started_ms),
        started,
        started_ms,
        method,
        endpoint,
        client,
        key_name,
        status: None,
        submitted: false,
    };
    (draft, ticket)
}

/// Submits the record once, from whichever end comes first.
pub(super) struct Ticket {
    state: Arc<AppState>,
    draft: Draft,
    id: String,
    started: Instant,
    started_ms: i64,
    method: String,
    endpoint: String,
    client: Option<String>,
    key_name: Option<String>,
    status: Option<StatusCode>,
    submitted: bool,
}

impl Ticket {
    /// Submits the record of an answer given in full with this status.
    pub(super) fn finish(mut self, status: StatusCode) {
        self.status = Some(status);
        self.submit(true);
    }

    fn submit(&mut self, completed: bool) {
        if self.submitted {
            return;
        }
        self.submitted = true;
        self.state.metrics.in_flight.fetch_sub(1, Ordering::Relaxed);
        let d = self.draft.take();
        let (status, outcome) = match self.status {
            Some(s) if completed => {
                let failed = s.as_u16() >= 400 || d.failed_in_body;
                (
                    s.as_u16(),
                    if failed { Outcome::Error } else { Outcome::Ok },
                )
            }
            _ => (499, Outcome::ClientClosed),
        };
        let cost_usd = match (&d.price, &d.tokens) {
            (Some(price), Some(tokens)) => Some(price.cost(tokens)),
            _ => None,
        };
        let record = RequestRecord {
            id: std::mem::take(&mut self.id),
            started_at_ms: self.started_ms,
            method: std::mem::take(&mut self.method),
            endpoint: std::mem::take(&mut self.endpoint),
            client: self.client.take(),
            key_name: self.key_name.take(),
            requested_model: d.requested_model,
            provider: d.provider,
            model: d.model,
            stream: d.stream,
            status,
            outcome,
            error: d.error,
            latency_ms: ms_since(self.started),
            ttft_ms: d.ttft_ms,
            tokens: d.tokens,
            cost_usd,
            attempts: d.attempts,
            strategy: d.strategy.map(str::to_owned),
            steps: d.steps,
            request_body: d.request_body,
            response_body: d.response_body,
        };
        self.state.metrics.observe(&record);
        self.state.recorder.submit(record);
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.submit(false);
    }
}

/// The response body, watched for its end, and for the end of the shutdown grace period.
struct RecordedBody {
    inner: Body,
    ticket: Option<Ticket>,
    /// Made the first time the body waits, so a body that never waits costs nothing extra.
    stop: Option<Pin<Box<tokio_util::sync::WaitForCancellationFutureOwned>>>,
    hard_stop: tokio_util::sync::CancellationToken,
}

impl HttpBody for RecordedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = &mut *self;
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(None) => {
                if let Some(mut t) = this.ticket.take() {
                    t.submit(true);
                }
            }
            Poll::Ready(Some(Ok(_))) if this.inner.is_end_stream() => {
                if let Some(mut t) = this.ticket.take() {
                    t.submit(true);
                }
            }
            Poll::Ready(Some(Err(e))) => {
                // The answer broke off on our side (an upstream cut short mid-body): a failure
                // the client saw, not a client that went away.
                if let Some(mut t) = this.ticket.take() {
                    t.draft.update(|d| {
                        d.failed_in_body = true;
                        if d.error.is_none() {
                            d.error = Some(format!("the answer broke off: {e}"));
                        }
                    });
                    t.submit(true);
                }
            }
            Poll::Pending => {
                let hard_stop = &this.hard_stop;
                let stop = this
                    .stop
                    .get_or_insert_with(|| Box::pin(hard_stop.clone().cancelled_owned()));
                if stop.as_mut().poll(cx).is_ready() {
                    // Cut short by the shutdown: the client saw a 200 that ended early.
                    if let Some(mut t) = this.ticket.take() {
                        t.draft
                            .fail_in_body("cut short: the gateway shut down".into());
                        t.submit(true);
                    }
                    // An error ends the response without its proper end, so the client can tell.
                    return Poll::Ready(Some(Err(axum::Error::new("the gateway shut down"))));
                }
            }
            _ => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
