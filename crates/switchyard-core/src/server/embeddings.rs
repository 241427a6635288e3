//! `POST /v1/embeddings`: routed and failed over like chat; the answer always comes back in the
//! encoding the client asked for.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::{AppState, JsonBody, success_headers};
use crate::api::openai::{EmbeddingInput, EmbeddingsRequest};
use crate::error::ApiError;
use crate::routing::failover;

pub async fn embeddings(
    State(state): State<Arc<AppState>>,
    JsonBody(req): JsonBody<EmbeddingsRequest>,
) -> Response {
    match embed(&state, req).await {
        Ok(response) => response,
        Err(e) => e.into_response(),
    }
}

pub async fn embed(state: &AppState, req: EmbeddingsRequest) -> Result<Response, ApiError> {
    let empty = match &req.input {
        EmbeddingInput::Text(s) => s.is_empty(),
        EmbeddingInput::Texts(v) => v.is_empty() || v.iter().any(String::is_empty),
        EmbeddingInput::Tokens(v) => v.is_empty(),
        EmbeddingInput::TokenBatches(v) => v.is_empty() || v.iter().any(Vec::is_empty),
    };
    if empty {
        return Err(ApiError::invalid_request("input: must not be empty").with_param("input"));
    }
    let runtime = state.runtime.load_full();
    let route = runtime
        .resolve(&req.model)
        .ok_or_else(|| ApiError::model_not_found(&req.model))?;
    let deadline = Instant::now() + runtime.config.timeouts.total;
    let req = &req;
    let ok = failover::execute(&route, &runtime.config.retry, deadline, |t| {
        t.provider.embeddings(req, &t.model)
    })
    .await?;
    let body = serde_json::to_vec(&ok.value).map_err(|e| ApiError::internal(e.to_string()))?;
    let mut response = (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response();
    success_headers(response.headers_mut(), ok.target, &ok.attempts);
    Ok(response)
}
