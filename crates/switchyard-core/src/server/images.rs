//! `POST /v1/images/generations` and `/v1/images/edits`: routed and failed over like
//! embeddings; the body (JSON, or the edit's multipart form) is passed on with the model name
//! rewritten to the target's.

use std::sync::Arc;

use axum::extract::State;
use axum::response::Response;
use serde_json::Value;

use super::{AppState, JsonBody, Served, doors, fail, json_response, note_target, upload};
use crate::error::ApiError;
use crate::providers::media::MediaEndpoint;
use crate::record::Draft;
use crate::routing::{Needs, failover};

pub async fn generations(
    State(state): State<Arc<AppState>>,
    caller: Option<axum::Extension<super::auth::Caller>>,
    draft: Draft,
    JsonBody(body): JsonBody<Value>,
) -> Response {
    let result = async {
        let model = doors::required_model(&body)?;
        doors::check(&caller, &draft, &model)?;
        generate(&state, &model, &body, &draft).await
    };
    result.await.unwrap_or_else(|e| fail(&draft, e))
}

async fn generate(
    state: &AppState,
    model: &str,
    body: &Value,
    draft: &Draft,
) -> Result<Response, ApiError> {
    if body
        .get("prompt")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        return Err(ApiError::invalid_request("prompt: required").with_param("prompt"));
    }
    doors::check_n(body.get("n"), doors::MAX_IMAGES)?;
    let (runtime, route, deadline) = doors::route(state, model)?;
    let mut ok = failover::execute(
        &route,
        &Needs::default(),
        &runtime.config.retry,
        deadline,
        |t| t.provider.images_generate(body, &t.model),
    )
    .await?;
    note_target(draft, &runtime, &ok);
    let served = Served::new(&mut ok);
    let mut response = json_response(draft, &ok.value)?;
    served.headers(response.headers_mut());
    Ok(response)
}

/// `POST /v1/images/edits`: a multipart form with `image` (or several as `image[]`), `prompt`,
/// an optional `mask`, sent on to the target with its model name; the answer is JSON.
pub async fn edits(
    State(state): State<Arc<AppState>>,
    caller: Option<axum::Extension<super::auth::Caller>>,
    draft: Draft,
    req: axum::extract::Request,
) -> Response {
    let door = upload::Door {
        endpoint: MediaEndpoint::ImageEdits,
        file: "image",
        file_alias: Some("image[]"),
        required: &["prompt"],
        json_answer: true,
    };
    upload::serve(&state, caller, &draft, req, door).await
}
