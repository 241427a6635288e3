//! `GET /v1/models`, `GET /v1/models/{id}` and the health endpoints.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::auth::Caller;
use super::views::Sorted;
use super::views::gateway::{GatewayInfo, Health, OpenCircuit};
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

/// The key's allow-list, when it has one.
fn allow_list(caller: Option<&axum::Extension<Caller>>) -> Option<&Caller> {
    caller
        .map(|c| &c.0)
        .filter(|c| c.key.as_ref().is_some_and(|k| k.models.is_some()))
}

pub async fn list(
    State(state): State<Arc<AppState>>,
    caller: Option<axum::Extension<Caller>>,
    headers: axum::http::HeaderMap,
    uri: axum::http::Uri,
) -> Response {
    let runtime = state.runtime.load();
    if super::messages::models::is_anthropic_client(&headers) {
        return super::messages::models::list(&runtime, caller.as_deref(), uri.query());
    }
    match allow_list(caller.as_ref()) {
        // The list rendered once per generation serves everyone without an allow-list.
        None => json_bytes(runtime.model_list.clone()),
        Some(caller) => {
            let mut list = runtime.models.clone();
            list.data.retain(|m| caller.check_model(&m.id).is_ok());
            list.first_id = list.data.first().map(|c| c.id.clone());
            list.last_id = list.data.last().map(|c| c.id.clone());
            axum::Json(list).into_response()
        }
    }
}

pub async fn retrieve(
    State(state): State<Arc<AppState>>,
    caller: Option<axum::Extension<Caller>>,
    headers: axum::http::HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let runtime = state.runtime.load();
    if super::messages::models::is_anthropic_client(&headers) {
        return super::messages::models::retrieve(&runtime, caller.as_deref(), &id);
    }
    if allow_list(caller.as_ref()).is_some_and(|c| c.check_model(&id).is_err()) {
        return ApiError::model_not_found(&id).into_response();
    }
    match runtime.card(&id) {
        Some(card) => axum::Json(card).into_response(),
        None => ApiError::model_not_found(&id).into_response(),
    }
}

pub async fn healthz(State(state): State<Arc<AppState>>) -> Response {
    let runtime = state.runtime.load();
    let open_circuits = runtime
        .health()
        .snapshot()
        .into_iter()
        .filter(|(_, b)| b.state() != crate::routing::circuit::CircuitState::Closed)
        .map(|(target, b)| OpenCircuit {
            target,
            state: b.state(),
            last_error: b.last_error(),
        })
        .collect();
    axum::Json(Sorted(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
        uptime_s: state.started.elapsed().as_secs(),
        providers: runtime.providers.len(),
        open_circuits,
    }))
    .into_response()
}

pub async fn root(req: axum::extract::Request) -> Response {
    if super::ui::wants_html(&req) {
        return axum::response::Redirect::to("/ui/").into_response();
    }
    axum::Json(Sorted(GatewayInfo {
        name: "switchyard",
        version: env!("CARGO_PKG_VERSION"),
        openai_base_url: "/v1",
        ui: "/ui/",
        endpoints: super::routes::endpoints(),
    }))
    .into_response()
}
