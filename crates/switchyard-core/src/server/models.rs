//! `GET /v1/models`, `GET /v1/models/{id}` and the health endpoints.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::AppState;
use crate::error::ApiError;

fn json_bytes(body: impl Into<axum::body::Body>) -> Response {
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body.into(),
    )
        .into_response()
}

pub async fn list(State(state): State<Arc<AppState>>) -> Response {
    json_bytes(state.runtime.load().model_list.clone())
}

pub async fn retrieve(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> Response {
    let runtime = state.runtime.load();
    match runtime.models.data.iter().find(|m| m.id == id) {
        Some(card) => axum::Json(card).into_response(),
        None => ApiError::model_not_found(&id).into_response(),
    }
}

pub async fn healthz(State(state): State<Arc<AppState>>) -> Response {
    let runtime = state.runtime.load();
    let circuits: Vec<_> = runtime
        .breakers()
        .snapshot()
        .into_iter()
        .filter(|(_, b)| b.state() != crate::routing::circuit::CircuitState::Closed)
        .map(|(target, b)| json!({"target": target, "state": b.state(), "last_error": b.last_error()}))
        .collect();
    axum::Json(json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "uptime_s": state.started.elapsed().as_secs(),
        "providers": runtime.providers.len(),
        "open_circuits": circuits,
    }))
    .into_response()
}

pub async fn root() -> Response {
    axum::Json(json!({
        "name": "switchyard",
        "version": env!("CARGO_PKG_VERSION"),
        "openai_base_url": "/v1",
    }))
    .into_response()
}
