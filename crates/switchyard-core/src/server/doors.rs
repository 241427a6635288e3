//! `POST /v1/moderations` and `POST /v1/rerank` (also `/rerank` and `/v2/rerank`, where the
//! Cohere and Jina clients post): checked here, routed and failed over like embeddings, the body
//! passed on with the target's model name and the answer passed back (see
//! [`crate::providers::passthrough`]). [`relay`] also serves the legacy completions door.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::State;
use axum::response::Response;
use serde_json::Value;

use super::auth::Caller;
use super::{AppState, JsonBody, Served, fail, json_response, note_target};
use crate::error::ApiError;
use crate::providers::passthrough::Door;
use crate::record::{Draft, TokenCounts};
use crate::routing::{Needs, Route, Runtime, failover};

/// The moderation model used when a request names none, if it is routable.
pub const DEFAULT_MODERATION_MODEL: &str = "omni-moderation-latest";

pub(super) type CallerExt = Option<axum::Extension<Caller>>;

pub async fn moderations(
    State(state): State<Arc<AppState>>,
    caller: CallerExt,
    draft: Draft,
    JsonBody(body): JsonBody<Value>,
) -> Response {
    let result = async {
        let model = match body.get("model") {
            None | Some(Value::Null) => default_moderation_model(&state)?,
            Some(_) => required_model(&body)?,
        };
        check(&caller, &draft, &model)?;
        validate_moderation(&body)?;
        let (response, _) = relay(&state, &model, &body, &draft, Door::Moderations, |_| {}).await?;
        Ok::<_, ApiError>(response)
    };
    result.await.unwrap_or_else(|e| fail(&draft, e))
}

pub async fn rerank(
    State(state): State<Arc<AppState>>,
    caller: CallerExt,
    draft: Draft,
    JsonBody(body): JsonBody<Value>,
) -> Response {
    let result = async {
        let model = required_model(&body)?;
        check(&caller, &draft, &model)?;
        validate_rerank(&body)?;
        let (response, answer) = relay(&state, &model, &body, &draft, Door::Rerank, |_| {}).await?;
        // vLLM, llama.cpp and Jina report `usage.total_tokens`; Cohere reports billed units.
        if let Some(tokens) = answer["usage"]["total_tokens"].as_u64() {
            draft.update(|d| {
                d.tokens = Some(TokenCounts {
                    prompt: tokens,
                    ..TokenCounts::default()
                });
            });
        }
        Ok::<_, ApiError>(response)
    };
    result.await.unwrap_or_else(|e| fail(&draft, e))
}

/// The request's `model`, which must be a non-empty string.
pub(super) fn required_model(body: &Value) -> Result<String, ApiError> {
    body.get("model")
        .and_then(Value::as_str)
        .filter(|m| !m.trim().is_empty())
        .map(str::to_owned)
        .ok_or_else(|| {
            ApiError::invalid_request("model: required, a model name (GET /v1/models lists them)")
                .with_param("model")
        })
}

/// How many choices a chat or completion request may ask for (OpenAI's own limit).
pub(super) const MAX_CHOICES: u64 = 128;
/// How many images one generation or edit may ask for (OpenAI's own limit).
pub(super) const MAX_IMAGES: u64 = 10;

/// Checks `n`, when given, is a whole number from 1 to `max`: an upstream asked for a billion
/// answers would bill for them or fall over.
pub(super) fn check_n(n: Option<&Value>, max: u64) -> Result<(), ApiError> {
    match n {
        None | Some(Value::Null) => Ok(()),
        Some(n) if n.as_u64().is_some_and(|n| (1..=max).contains(&n)) => Ok(()),
        Some(n) => Err(ApiError::invalid_request(format!(
            "n: must be a whole number from 1 to {max} (it was {n})"
        ))
        .with_param("n")),
    }
}

/// Notes the model in the log and checks the caller's key may use it.
pub(super) fn check(caller: &CallerExt, draft: &Draft, model: &str) -> Result<(), ApiError> {
    draft.update(|d| d.requested_model = Some(model.to_owned()));
    match caller {
        Some(axum::Extension(caller)) => caller.check_model(model),
        None => Ok(()),
    }
}

fn default_moderation_model(state: &AppState) -> Result<String, ApiError> {
    if state
        .runtime
        .load()
        .resolve(DEFAULT_MODERATION_MODEL)
        .is_some()
    {
        return Ok(DEFAULT_MODERATION_MODEL.to_owned());
    }
    Err(ApiError::invalid_request(format!(
        "model: required here, because no {DEFAULT_MODERATION_MODEL} is configured; pass the moderation model to use (GET /v1/models lists them)"
    ))
    .with_param("model"))
}

fn validate_moderation(body: &Value) -> Result<(), ApiError> {
    let ok = match body.get("input") {
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(items)) => !items.is_empty(),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid_request(
            "input: required, a string, an array of strings or an array of text and image_url parts",
        )
        .with_param("input"))
    }
}

fn validate_rerank(body: &Value) -> Result<(), ApiError> {
    let bad = |param: &str, message: &str| {
        Err(ApiError::invalid_request(format!("{param}: {message}")).with_param(param))
    };
    if body
        .get("query")
        .and_then(Value::as_str)
        .is_none_or(|q| q.trim().is_empty())
    {
        return bad("query", "required, the text to rank the documents against");
    }
    let document = |d: &Value| d.is_string() || d.get("text").is_some_and(Value::is_string);
    match body.get("documents").and_then(Value::as_array) {
        Some(docs) if !docs.is_empty() && docs.iter().all(document) => {}
        _ => {
            return bad(
                "documents",
                "required, a non-empty array of strings or {\"text\": ...} objects",
            );
        }
    }
    match body.get("top_n") {
        None | Some(Value::Null) => Ok(()),
        Some(n) if n.as_u64().is_some_and(|n| n >= 1) => Ok(()),
        Some(_) => bad("top_n", "must be an integer of at least 1"),
    }
}

/// The live config, the route for `model` in it, and the deadline of a request starting now.
pub(super) fn route(
    state: &AppState,
    model: &str,
) -> Result<(Arc<Runtime>, Arc<Route>, Instant), ApiError> {
    let runtime = state.runtime.load_full();
    let route = runtime
        .resolve(model)
        .ok_or_else(|| ApiError::model_not_found(model))?;
    let deadline = Instant::now() + runtime.config.timeouts.total;
    Ok((runtime, route, deadline))
}

/// Routes `body` to `door` on the model's targets and answers with the JSON that came back,
/// after `edit` (the answer is also returned, for the caller to read usage from).
pub(super) async fn relay(
    state: &AppState,
    model: &str,
    body: &Value,
    draft: &Draft,
    door: Door,
    edit: impl FnOnce(&mut Value),
) -> Result<(Response, Value), ApiError> {
    let (runtime, route, deadline) = route(state, model)?;
    let mut ok = failover::execute(
        &route,
        &Needs::default(),
        &runtime.config.retry,
        deadline,
        |t| t.provider.pass_json(door, body, &t.model),
    )
    .await?;
    note_target(draft, &runtime, &ok);
    let served = Served::new(&mut ok);
    let mut answer = ok.value;
    edit(&mut answer);
    let mut response = json_response(draft, &answer)?;
    served.headers(response.headers_mut());
    Ok((response, answer))
}
