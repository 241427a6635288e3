//! The Anthropic Messages front door, for Claude Code and the Anthropic SDKs:
//! `POST /v1/messages` and `POST /v1/messages/count_tokens` in front of any upstream, through
//! the same routing, failover, auth and request log as `/v1/chat/completions`. An
//! Anthropic-kind target gets the client's request natively (only `model` renamed); an
//! OpenAI-kind one gets it translated (`switchyard_dialects::anthropic_to_chat`), and its
//! answer or stream comes back as Anthropic events (that crate's `events`, relayed by `stream`).
//! Errors on this door are in Anthropic's shape ([`anthropic_errors`]). No wire types or
//! translation here, no upstream I/O beyond calling providers.

pub mod models;
pub(crate) mod stream;

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::auth::Caller;
use super::dialect_door::{Answer, Native, Prepared, native_json};
use super::{AppState, JsonBody, Served, fail, json_response, note_target, parse_json};
use crate::config::ProviderKind;
use crate::error::ToApiError as _;
use crate::error::{ApiError, Dialect, UpstreamError};
use crate::providers::Provider;
use crate::providers::anthropic_native::{self as native, ClientHeaders, NativeStream};
use crate::record::{Draft, TokenCounts};
use crate::routing::{Needs, Route, Runtime, Target, failover};
use switchyard_dialects::anthropic_to_chat::{self as translate, events};
use switchyard_dialects::messages::{CreateMessage, TokenCount};

type RawBody = Box<serde_json::value::RawValue>;

/// `POST /v1/messages` (Claude Code adds `?beta=true`; the query is not needed).
pub async fn messages(State(state): State<Arc<AppState>>, call: Call) -> Response {
    let answer = create(&state, &call).await;
    answer.unwrap_or_else(|e| fail(&call.draft, e))
}

/// `POST /v1/messages/count_tokens`.
pub async fn count_tokens(State(state): State<Arc<AppState>>, call: Call) -> Response {
    let answer = count(&state, &call).await;
    answer.unwrap_or_else(|e| fail(&call.draft, e))
}

/// What both handlers take from a request: the caller's key, the request's draft, its
/// headers (some are passed on to Anthropic upstreams) and its body, checked as JSON.
pub struct Call {
    caller: Option<Caller>,
    draft: Draft,
    headers: HeaderMap,
    body: RawBody,
}

impl<S: Send + Sync> FromRequest<S> for Call {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let caller = req.extensions().get::<Caller>().cloned();
        let draft = req.extensions().get::<Draft>().cloned().unwrap_or_default();
        let headers = req.headers().clone();
        let JsonBody(body) = JsonBody::<RawBody>::from_request(req, state).await?;
        Ok(Self {
            caller,
            draft,
            headers,
            body,
        })
    }
}

/// Every error on this door is answered in Anthropic's shape, `{"type":"error","error":{…}}`:
/// refusals of the auth guard, bad bodies, unknown routes under `/v1/messages`, upstream
/// failures. Also `/v1/models*` for clients that send `anthropic-version`. The dialect is set
/// for the whole request, so each error is rendered once, in it ([`ApiError::render`]).
pub async fn anthropic_errors(req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let anthropic = path == "/v1/messages"
        || path.starts_with("/v1/messages/")
        || ((path == "/v1/models" || path.starts_with("/v1/models/"))
            && models::is_anthropic_client(req.headers()));
    if anthropic {
        Dialect::Anthropic.scope(next.run(req)).await
    } else {
        next.run(req).await
    }
}

/// Anthropic-kind targets take `/v1/messages` natively, with the client's headers.
struct Anthropic(ClientHeaders);

impl Native for Anthropic {
    fn serves(&self, target: &Target) -> bool {
        target.provider.kind == ProviderKind::Anthropic
    }

    fn whole(
        &self,
        provider: &Provider,
        body: Vec<u8>,
    ) -> impl Future<Output = Result<Bytes, UpstreamError>> + Send {
        native::messages(provider, body, &self.0)
    }

    fn stream(
        &self,
        provider: &Provider,
        body: Vec<u8>,
    ) -> impl Future<Output = Result<NativeStream, UpstreamError>> + Send {
        native::open_stream(provider, body, &self.0)
    }
}

fn parse_request(body: &RawBody, draft: &Draft) -> Result<CreateMessage, ApiError> {
    let req: CreateMessage = parse_json(body.get().as_bytes())?;
    draft.update(|d| {
        d.requested_model.clone_from(&req.model);
        d.stream = req.is_stream();
    });
    Ok(req)
}

/// Reads and checks a request, and finds the route for its model (`counting`: a count_tokens
/// body, which needs no `max_tokens`).
fn resolve(
    state: &AppState,
    call: &Call,
    counting: bool,
) -> Result<(CreateMessage, Arc<Runtime>, Arc<Route>), ApiError> {
    let req = parse_request(&call.body, &call.draft)?;
    let model = translate::validate(&req, counting)?;
    if let Some(caller) = &call.caller {
        caller.check_model(model)?;
    }
    let runtime = state.runtime.load_full();
    let route = runtime
        .resolve(model)
        .ok_or_else(|| ApiError::model_not_found(model))?;
    Ok((req, runtime, route))
}

/// Serves one Messages request.
async fn create(state: &AppState, call: &Call) -> Result<Response, ApiError> {
    let (req, runtime, route) = resolve(state, call, false)?;
    let (draft, body) = (&call.draft, &call.body);
    let deadline = Instant::now() + runtime.config.timeouts.total;
    let retry = runtime.config.retry;
    let kinds = |kind| route.targets.iter().any(|t| t.provider.kind == kind);
    let prepared = Prepared {
        runtime: &runtime,
        body: if kinds(ProviderKind::Anthropic) {
            Some(parse_json(body.get().as_bytes())?)
        } else {
            None
        },
        chat: kinds(ProviderKind::OpenAi)
            .then(|| translate::to_chat_request(&req).map_err(ApiError::from)),
        native: Anthropic(ClientHeaders::from_request(&call.headers)),
        stream: req.is_stream(),
    };
    let prepared = &prepared;
    let needs = if route.chooses() {
        Needs {
            image: req.has_image(),
            tools: req.tools.as_ref().is_some_and(|t| !t.is_empty()),
            tokens: Some(
                translate::estimate_input_tokens(&req) + u64::from(req.max_tokens.unwrap_or(0)),
            ),
            stream: req.is_stream(),
        }
    } else {
        Needs {
            stream: req.is_stream(),
            ..Needs::default()
        }
    };
    let mut ok = failover::execute(&route, &needs, &retry, deadline, |t| prepared.call(t)).await?;
    note_target(draft, &runtime, &ok);
    let served = Served::new(&mut ok);
    let estimate = translate::estimate_input_tokens(&req);
    let idle = ok.target.provider.timeouts.idle;
    let mut response = match ok.value {
        Answer::Chat(answer) => {
            let tokens = answer.usage.as_ref().map(TokenCounts::from);
            draft.update(|d| d.tokens = tokens);
            let message = translate::to_message(answer, &req.stops(), estimate);
            json_response(draft, &message)?
        }
        Answer::Native(bytes) => {
            let tokens = serde_json::from_slice::<Value>(&bytes)
                .ok()
                .and_then(|m| translate::token_counts(&m["usage"]));
            draft.update(|d| {
                d.tokens = tokens;
                d.response_body = Some(bytes.clone());
            });
            native_json(bytes)
        }
        Answer::ChatStream(head, rest) => {
            let ttft = draft.elapsed_ms();
            draft.update(|d| d.ttft_ms = ttft);
            let translator =
                events::EventTranslator::new(ok.target.model.clone(), req.stops(), estimate);
            let log = stream::MessageLog::new(draft.clone());
            super::sse_response(super::relay::hold(
                super::dialect_door::translated(head, rest, translator, log, idle, deadline),
                ok.busy,
            ))
        }
        Answer::NativeStream(upstream) => {
            let ttft = draft.elapsed_ms();
            draft.update(|d| d.ttft_ms = ttft);
            let log = stream::MessageLog::new(draft.clone());
            super::sse_response(super::relay::hold(
                stream::native(upstream, log, idle, deadline),
                ok.busy,
            ))
        }
    };
    served.headers(response.headers_mut());
    Ok(response)
}

/// Counts a request's input tokens: the upstream's own count when the first target is an
/// Anthropic one that can count, else an estimate of about four characters per token. Only a
/// refusal of the request itself (400, 413, 422) is passed on: a missing endpoint, an outage or
/// a bad key upstream must not stop a client that only wants a number.
async fn count(state: &AppState, call: &Call) -> Result<Response, ApiError> {
    let (req, _, route) = resolve(state, call, true)?;
    let (draft, body) = (&call.draft, &call.body);
    let estimate = || TokenCount {
        input_tokens: translate::estimate_input_tokens(&req),
    };
    let Some(target) = route.targets.first() else {
        return json_response(draft, &estimate());
    };
    draft.update(|d| {
        d.provider = Some(target.provider.name.clone());
        d.model = Some(target.model.clone());
    });
    let answer = if target.provider.kind == ProviderKind::Anthropic {
        let mut body: Map<String, Value> = parse_json(body.get().as_bytes())?;
        body.insert("model".into(), Value::String(target.model.clone()));
        body.remove("stream");
        body.remove("max_tokens");
        let body = serde_json::to_vec(&body).map_err(|e| ApiError::internal(e.to_string()))?;
        let forwarded = ClientHeaders::from_request(&call.headers);
        let call = native::count_tokens(&target.provider, body, &forwarded);
        let counted = match tokio::time::timeout(target.provider.timeouts.first_token, call).await {
            Ok(result) => result,
            Err(_) => Err(UpstreamError::Timeout(target.provider.timeouts.first_token)),
        };
        match counted {
            Ok(value) if value["input_tokens"].is_u64() => value,
            Ok(_) => json!(estimate()),
            Err(
                e @ UpstreamError::Status {
                    status: 400 | 413 | 422,
                    ..
                },
            ) => {
                return Err(e.to_api_error(&target.label));
            }
            Err(e) => {
                tracing::debug!(target = %target.label, error = %e, "count_tokens estimated instead");
                json!(estimate())
            }
        }
    } else {
        json!(estimate())
    };
    let mut response = json_response(draft, &answer)?;
    if let Ok(v) = HeaderValue::from_str(&target.label) {
        response.headers_mut().insert(super::TARGET_HEADER, v);
    }
    Ok(response)
}
