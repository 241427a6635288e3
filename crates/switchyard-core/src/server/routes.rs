//! The route table, and nothing else: path → handler.

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};

use super::{AppState, chat, embeddings, models};

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/", get(models::root))
        .route("/healthz", get(models::healthz))
        .route("/v1/chat/completions", post(chat::chat_completions))
        .route("/v1/embeddings", post(embeddings::embeddings))
        .route("/v1/models", get(models::list))
        .route("/v1/models/{*id}", get(models::retrieve))
}
