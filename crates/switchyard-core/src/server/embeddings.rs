//! `POST /v1/embeddings`: routed and failed over like chat; the answer always comes back in the
//! encoding the client asked for.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::State;
use axum::response::Response;

use super::{AppState, JsonBody, Served, fail, json_response, note_target};
use crate::error::ApiError;
use crate::record::{Draft, TokenCounts};
use crate::routing::{Needs, failover};
use switchyard_dialects::openai::{EmbeddingInput, EmbeddingsRequest, EmbeddingsResponse};

pub async fn embeddings(
    State(state): State<Arc<AppState>>,
    caller: Option<axum::Extension<super::auth::Caller>>,
    draft: Draft,
    JsonBody(req): JsonBody<EmbeddingsRequest>,
) -> Response {
    if let Some(axum::Extension(caller)) = &caller
        && let Err(e) = caller.check_model(&req.model)
    {
        draft.update(|d| d.requested_model = Some(req.model.clone()));
        return fail(&draft, e);
    }
    let answer = embed(&state, req, &draft).await;
    answer
        .and_then(|a| a.render(&draft))
        .unwrap_or_else(|e| fail(&draft, e))
}

/// The embeddings, and which target made them.
#[derive(Debug)]
pub struct Embedded {
    pub response: EmbeddingsResponse,
    pub served: Served,
}

impl Embedded {
    /// The answer as HTTP JSON; writes the body to the request log.
    pub fn render(self, draft: &Draft) -> Result<Response, ApiError> {
        let mut answer = json_response(draft, &self.response)?;
        self.served.headers(answer.headers_mut());
        Ok(answer)
    }
}

/// Serves one embeddings request; shared by the HTTP handler and in-process callers.
pub async fn embed(
    state: &AppState,
    req: EmbeddingsRequest,
    draft: &Draft,
) -> Result<Embedded, ApiError> {
    draft.update(|d| d.requested_model = Some(req.model.clone()));
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
    let mut ok = failover::execute(
        &route,
        &Needs::default(),
        &runtime.config.retry,
        deadline,
        |t| t.provider.embeddings(req, &t.model),
    )
    .await?;
    note_target(draft, &runtime, &ok);
    let prompt = ok
        .value
        .usage
        .as_ref()
        .and_then(|u| u.get("prompt_tokens"))
        .and_then(serde_json::Value::as_u64);
    if let Some(prompt) = prompt {
        draft.update(|d| {
            d.tokens = Some(TokenCounts {
                prompt,
                ..TokenCounts::default()
            });
        });
    }
    Ok(Embedded {
        served: Served::new(&mut ok),
        response: ok.value,
    })
}
