//! OpenAI's Responses API front door, for Codex CLI, the OpenAI SDKs and the AI SDK:
//! `POST /v1/responses` in front of any upstream, through the same routing, failover, auth and
//! request log as `/v1/chat/completions`. A provider that serves the Responses API itself
//! (`responses_api`) gets the client's body natively (only `model` renamed); any other gets it
//! translated to chat (`switchyard_dialects::responses_to_chat`), and its answer or stream
//! comes back as a Response or as Responses events (that crate's `events`, relayed by `stream`). Responses are kept in the store for
//! `previous_response_id` and `GET /v1/responses/{id}`. A Responses-shaped body sent to
//! `/v1/chat/completions` is understood too ([`ChatBody`]).

mod stream;

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse as _, Response};
use serde_json::{Map, Value, json};

use super::auth::Caller;
use super::dialect_door::{Answer, Native, Prepared, native_json};
use super::{AppState, JsonBody, Served, fail, json_response, note_target, parse_json};
use crate::error::{ApiError, ErrorCode, UpstreamError};
use crate::providers::Provider;
use crate::providers::anthropic_native::NativeStream;
use crate::providers::responses as native;
use crate::record::Draft;
use crate::routing::{Needs, Target, failover};
use crate::store::{Store, StoredResponse};
use switchyard_dialects::openai::ChatRequest;
use switchyard_dialects::responses::CreateResponse;
use switchyard_dialects::responses_to_chat::{
    self as translate, Echo, ToolKinds, events, token_counts,
};

type RawBody = Box<serde_json::value::RawValue>;

/// `POST /v1/responses`.
pub async fn create(
    State(state): State<Arc<AppState>>,
    caller: Option<axum::Extension<Caller>>,
    draft: Draft,
    JsonBody(body): JsonBody<RawBody>,
) -> Response {
    match serve(&state, caller.as_deref(), &body, &draft).await {
        Ok(response) => response,
        Err(e) => fail(&draft, e),
    }
}

/// A response id this gateway does not keep: 404 when it is asked for, 400 (as OpenAI answers)
/// when a request continues it.
fn not_found(id: &str, status: StatusCode, param: &str) -> ApiError {
    let code = if status == StatusCode::NOT_FOUND {
        ErrorCode::NotFound
    } else {
        ErrorCode::PreviousResponseNotFound
    };
    ApiError::of(
        code,
        format!(
            "No response with id {id:?} is kept here: it was not made through this gateway, was made with store: false, or is older than the request log keeps. Send the whole conversation as input instead."
        ),
    )
    .with_param(param)
}

/// `GET /v1/responses/{id}`: a kept Response, for the key that made it.
pub async fn retrieve(
    State(state): State<Arc<AppState>>,
    caller: Option<axum::Extension<Caller>>,
    Path(id): Path<String>,
) -> Response {
    match lookup(&state, &id, caller.as_deref()).await {
        Ok(Some(kept)) => axum::Json(kept.response).into_response(),
        Ok(None) => not_found(&id, StatusCode::NOT_FOUND, "response_id").into_response(),
        Err(e) => e.into_response(),
    }
}

/// `DELETE /v1/responses/{id}`, for the key that made it.
pub async fn delete(
    State(state): State<Arc<AppState>>,
    caller: Option<axum::Extension<Caller>>,
    Path(id): Path<String>,
) -> Response {
    let Some(store) = &state.store else {
        return not_found(&id, StatusCode::NOT_FOUND, "response_id").into_response();
    };
    match lookup(&state, &id, caller.as_deref()).await {
        Ok(Some(_)) => {}
        Ok(None) => return not_found(&id, StatusCode::NOT_FOUND, "response_id").into_response(),
        Err(e) => return e.into_response(),
    }
    match store.delete_response(&id).await {
        Ok(true) => axum::Json(json!({"id": id, "object": "response.deleted", "deleted": true}))
            .into_response(),
        Ok(false) => not_found(&id, StatusCode::NOT_FOUND, "response_id").into_response(),
        Err(e) => ApiError::internal(e.to_string()).into_response(),
    }
}

/// A kept response, if the caller's key made it (one key cannot read another's conversations).
async fn lookup(
    state: &AppState,
    id: &str,
    caller: Option<&Caller>,
) -> Result<Option<StoredResponse>, ApiError> {
    let Some(store) = &state.store else {
        return Ok(None);
    };
    let kept = store
        .get_response(id)
        .await
        .map_err(|e| ApiError::internal(format!("the response store failed: {e}")))?;
    let owner = caller.and_then(Caller::key_name);
    Ok(kept.filter(|k| k.owner.as_deref() == owner))
}

/// Keeps a finished Response and the conversation it ends, when the request allows it. Awaited
/// before the client sees the end of the answer, so a client that continues at once with
/// `previous_response_id` finds it.
async fn keep_in(store: Option<&Store>, conversation: &Conversation, response: &Value) {
    let (Some(store), true) = (store, conversation.keep) else {
        return;
    };
    let Some(id) = response["id"].as_str().map(str::to_owned) else {
        return;
    };
    let mut items = conversation.history.clone();
    items.extend(conversation.items.iter().cloned());
    items.extend(response["output"].as_array().cloned().unwrap_or_default());
    let kept = StoredResponse {
        id,
        model: response["model"].as_str().map(str::to_owned),
        owner: conversation.owner.clone(),
        items: Value::Array(items),
        response: response.clone(),
        created_at: crate::record::now_ms(),
    };
    if let Err(e) = store.put_response(&kept).await {
        tracing::warn!(error = %e, "a response could not be kept for previous_response_id");
    }
}

/// What the request continues and adds, for keeping it afterwards.
#[derive(Debug, Clone)]
pub(crate) struct Conversation {
    history: Vec<Value>,
    items: Vec<Value>,
    keep: bool,
    /// The client key's name, which alone may continue or read it.
    owner: Option<String>,
}

/// Providers that serve the Responses API (`responses_api`) take `/v1/responses` natively.
struct Responses;

impl Native for Responses {
    fn serves(&self, target: &Target) -> bool {
        target.provider.responses_api
    }

    fn whole(
        &self,
        provider: &Provider,
        body: Vec<u8>,
    ) -> impl Future<Output = Result<Bytes, UpstreamError>> + Send {
        native::create(provider, body)
    }

    fn stream(
        &self,
        provider: &Provider,
        body: Vec<u8>,
    ) -> impl Future<Output = Result<NativeStream, UpstreamError>> + Send {
        native::open_stream(provider, body)
    }
}

/// Input items as a Responses upstream takes them back: without the ids of items it never
/// stored, and without reasoning it cannot read.
fn resendable(items: &[Value]) -> Vec<Value> {
    items
        .iter()
        .filter(|i| i["type"] != "reasoning" || i["encrypted_content"].is_string())
        .map(|i| {
            let mut i = i.clone();
            if let Some(o) = i.as_object_mut()
                && o.get("type").and_then(Value::as_str) != Some("reasoning")
            {
                o.remove("id");
            }
            i
        })
        .collect()
}

async fn serve(
    state: &AppState,
    caller: Option<&Caller>,
    body: &RawBody,
    draft: &Draft,
) -> Result<Response, ApiError> {
    let req: CreateResponse = parse_json(body.get().as_bytes())?;
    draft.update(|d| {
        d.requested_model.clone_from(&req.model);
        d.stream = req.is_stream();
    });
    let model = translate::validate(&req)?;
    if let Some(caller) = caller {
        caller.check_model(model)?;
    }
    let runtime = state.runtime.load_full();
    let route = runtime
        .resolve(model)
        .ok_or_else(|| ApiError::model_not_found(model))?;
    let any_native = route.targets.iter().any(|t| t.provider.responses_api);
    let any_chat = route.targets.iter().any(|t| !t.provider.responses_api);

    // A kept conversation is continued here; an unknown id may still be the upstream's own.
    let mut history = None;
    if let Some(id) = &req.previous_response_id {
        match lookup(state, id, caller).await? {
            Some(kept) => history = Some(kept.items.as_array().cloned().unwrap_or_default()),
            None if any_native => {}
            None => {
                return Err(not_found(
                    id,
                    StatusCode::BAD_REQUEST,
                    "previous_response_id",
                ));
            }
        }
    }
    let items = translate::input_items(&req);
    let conversation = Conversation {
        history: history.clone().unwrap_or_default(),
        items: items.clone(),
        keep: req.keeps(),
        owner: caller.and_then(Caller::key_name).map(str::to_owned),
    };
    let native = if any_native {
        let mut body: Map<String, Value> = parse_json(body.get().as_bytes())?;
        if let Some(history) = &history {
            let mut input = resendable(history);
            input.extend(items.iter().cloned());
            body.insert("input".into(), Value::Array(input));
            body.remove("previous_response_id");
        }
        Some(body)
    } else {
        None
    };
    let translated = any_chat.then(|| {
        let unresolved = req
            .previous_response_id
            .as_deref()
            .filter(|_| history.is_none());
        match unresolved {
            Some(id) => Err(not_found(
                id,
                StatusCode::BAD_REQUEST,
                "previous_response_id",
            )),
            None => translate::to_chat_request(&req, &conversation.history, &items)
                .map_err(ApiError::from),
        }
    });
    let kinds = match &translated {
        Some(Ok((_, kinds))) => kinds.clone(),
        _ => ToolKinds::default(),
    };
    let prepared = Prepared {
        runtime: &runtime,
        body: native,
        chat: translated.map(|t| t.map(|(chat, _)| chat)),
        native: Responses,
        stream: req.is_stream(),
    };
    // A request no chat target can take is the client's mistake, whatever the route.
    if !any_native && let Some(Err(e)) = &prepared.chat {
        return Err(e.clone());
    }
    let deadline = Instant::now() + runtime.config.timeouts.total;
    let retry = runtime.config.retry;
    let prepared = &prepared;
    let needs = match &prepared.chat {
        Some(Ok(chat)) => super::chat::needs(chat, &route),
        _ => Needs {
            stream: req.is_stream(),
            tools: route.chooses() && req.tools.as_ref().is_some_and(|t| !t.is_empty()),
            ..Needs::default()
        },
    };
    let mut ok = failover::execute(&route, &needs, &retry, deadline, |t| prepared.call(t)).await?;
    note_target(draft, &runtime, &ok);
    let served = Served::new(&mut ok);
    let input_chars = translate::chars(&conversation.history) + translate::chars(&items);
    let mut echo = Echo::new(&req, &ok.target.model);
    let idle = ok.target.provider.timeouts.idle;
    let mut response = match ok.value {
        Answer::Chat(answer) => {
            let response = translate::to_response(&answer, &mut echo, &kinds, input_chars);
            draft.update(|d| d.tokens = token_counts(&response["usage"]));
            keep_in(state.store.as_ref(), &conversation, &response).await;
            json_response(draft, &response)?
        }
        Answer::Native(bytes) => {
            let response = serde_json::from_slice::<Value>(&bytes).unwrap_or_default();
            draft.update(|d| {
                d.tokens = token_counts(&response["usage"]);
                d.response_body = Some(bytes.clone());
            });
            keep_in(state.store.as_ref(), &conversation, &response).await;
            native_json(bytes)
        }
        Answer::ChatStream(head, rest) => {
            let ttft = draft.elapsed_ms();
            draft.update(|d| d.ttft_ms = ttft);
            let translator = events::EventTranslator::new(echo, kinds, input_chars);
            let log = stream::ResponseLog::new(draft.clone(), state.store.clone(), conversation);
            super::sse_response(super::relay::hold(
                super::dialect_door::translated(head, rest, translator, log, idle, deadline),
                ok.busy,
            ))
        }
        Answer::NativeStream(upstream) => {
            let ttft = draft.elapsed_ms();
            draft.update(|d| d.ttft_ms = ttft);
            let log = stream::ResponseLog::new(draft.clone(), state.store.clone(), conversation);
            super::sse_response(super::relay::hold(
                stream::native(upstream, log, idle, deadline),
                ok.busy,
            ))
        }
    };
    served.headers(response.headers_mut());
    Ok(response)
}

/// The body of `/v1/chat/completions`: a chat request, or a Responses-shaped one (`input`
/// instead of `messages`, as Cursor sends for some models), translated to chat. The chat body
/// is parsed first, so the usual request pays nothing for this.
#[derive(Debug)]
pub struct ChatBody(pub ChatRequest);

impl<S: Send + Sync> FromRequest<S> for ChatBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = super::extract::json_bytes(req, state).await?;
        let chat_error = match parse_json::<ChatRequest>(&bytes) {
            Ok(chat) => return Ok(Self(chat)),
            Err(e) => e,
        };
        let Ok(value) = serde_json::from_slice::<Value>(&bytes) else {
            return Err(chat_error);
        };
        if value.get("messages").is_some() || value.get("input").is_none() {
            return Err(chat_error);
        }
        let req: CreateResponse = parse_json(&bytes)?;
        translate::validate(&req)?;
        if req.previous_response_id.is_some() {
            return Err(ApiError::invalid_request(
                "previous_response_id is understood on /v1/responses only; send the whole conversation here",
            )
            .with_param("previous_response_id"));
        }
        let (mut chat, _) = translate::to_chat_request(&req, &[], &translate::input_items(&req))?;
        // The client asked in chat terms: no usage chunk unless it says so.
        chat.stream_options = None;
        Ok(Self(chat))
    }
}
