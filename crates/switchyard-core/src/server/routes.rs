//! The route table, and nothing else: path → handler.

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};

use super::{AppState, admin, chat, embeddings, middleware, models, recording};

pub fn routes(state: &Arc<AppState>) -> Router<Arc<AppState>> {
    // Everything under /v1, unknown paths included, is recorded in the request log.
    let v1 = Router::new()
        .route("/chat/completions", post(chat::chat_completions))
        .route("/embeddings", post(embeddings::embeddings))
        .route("/models", get(models::list))
        .route("/models/{*id}", get(models::retrieve))
        .fallback(middleware::not_found)
        .method_not_allowed_fallback(middleware::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            recording::record,
        ));
    let admin = Router::new()
        .route("/requests", get(admin::list_requests))
        .route("/requests/{id}", get(admin::get_request))
        .route("/traffic/days", get(admin::traffic_days))
        .route("/stats", get(admin::stats))
        .route("/stats/latency", get(admin::latency_histogram))
        .route("/stats/tokens", get(admin::token_series))
        .route("/health/providers", get(admin::provider_health))
        .fallback(middleware::not_found)
        .method_not_allowed_fallback(middleware::method_not_allowed);
    Router::new()
        .route("/", get(models::root))
        .route("/healthz", get(models::healthz))
        .route("/metrics", get(admin::metrics))
        .route("/statsz", get(admin::statsz))
        .nest("/v1", v1)
        .nest("/admin", admin)
}
