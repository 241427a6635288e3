//! The route table, and nothing else: path → handler.

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post, put};

use super::{
    AppState, admin, admin_config as cfg, admin_mcp as mcp, audio, chat, completions, doors,
    embeddings, images, mcp_tools, messages, middleware, models, proxy, recording, responses,
    sessions, ui,
};

pub fn routes(state: &Arc<AppState>) -> Router<Arc<AppState>> {
    // Everything under /v1, unknown paths included, is recorded in the request log.
    let v1 = Router::new()
        .route("/chat/completions", post(chat::chat_completions))
        .route("/messages", post(messages::messages))
        .route("/messages/count_tokens", post(messages::count_tokens))
        .route("/responses", post(responses::create))
        .route(
            "/responses/{id}",
            get(responses::retrieve).delete(responses::delete),
        )
        .route("/embeddings", post(embeddings::embeddings))
        .route("/images/generations", post(images::generations))
        .route("/completions", post(completions::completions))
        .route("/moderations", post(doors::moderations))
        .route("/rerank", post(doors::rerank))
        .route("/audio/speech", post(audio::speech))
        // Uploads are held to `limits.max_upload_bytes` while they are read, not to the body limit.
        .route(
            "/audio/transcriptions",
            post(audio::transcriptions).layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/audio/translations",
            post(audio::translations).layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/images/edits",
            post(images::edits).layer(DefaultBodyLimit::disable()),
        )
        .route("/models", get(models::list))
        .route("/models/{*id}", get(models::retrieve))
        .fallback(middleware::not_found)
        .method_not_allowed_fallback(middleware::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            recording::record,
        ));
    // Pass-through to a provider's own API, recorded like /v1.
    let proxy = Router::new()
        .route("/{provider}/{*path}", axum::routing::any(proxy::proxy))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            recording::record,
        ));
    // Rerank where the Cohere and Jina clients post it, recorded like /v1.
    let rerank = Router::new()
        .route("/rerank", post(doors::rerank))
        .route("/v2/rerank", post(doors::rerank))
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
        .route("/catalog", get(cfg::catalog))
        .route("/discover", get(cfg::discover).post(cfg::discover_apply))
        .route(
            "/providers",
            get(cfg::list_providers).post(cfg::create_provider),
        )
        .route(
            "/providers/{name}",
            get(cfg::get_provider)
                .patch(cfg::update_provider)
                .delete(cfg::delete_provider),
        )
        .route("/providers/{name}/key", put(cfg::set_provider_key))
        .route("/providers/{name}/test", post(cfg::test_provider))
        .route("/providers/{name}/models", get(cfg::provider_models))
        .route(
            "/providers/{name}/models/refresh",
            post(cfg::refresh_provider_models),
        )
        .route("/models", get(models::list))
        .route(
            "/models/{*id}",
            get(models::retrieve).patch(cfg::update_model),
        )
        .route("/aliases", get(cfg::list_aliases).post(cfg::create_alias))
        .route(
            "/aliases/{name}",
            get(cfg::get_alias)
                .put(cfg::put_alias)
                .delete(cfg::delete_alias),
        )
        .route("/keys", get(cfg::list_keys).post(cfg::create_key))
        .route(
            "/keys/{name}",
            axum::routing::patch(cfg::update_key).delete(cfg::revoke_key),
        )
        .route(
            "/settings",
            get(cfg::get_settings).patch(cfg::update_settings),
        )
        .route("/media/{file}", get(admin::media))
        .route(
            "/mcp/servers",
            get(mcp::list_servers).post(mcp::create_server),
        )
        .route(
            "/mcp/servers/{name}",
            get(mcp::get_server)
                .patch(mcp::update_server)
                .delete(mcp::delete_server),
        )
        .route("/mcp/servers/{name}/tools", get(mcp::server_tools))
        .route("/mcp/servers/{name}/tools/{tool}", put(mcp::set_tool))
        .route("/mcp/servers/{name}/restart", post(mcp::restart_server))
        .route("/mcp/tools", get(mcp::all_tools))
        .route(
            "/assistants",
            get(mcp::list_assistants).post(mcp::create_assistant),
        )
        .route(
            "/assistants/{name}",
            get(mcp::get_assistant)
                .patch(mcp::update_assistant)
                .delete(mcp::delete_assistant),
        )
        .route("/agent/approvals/{id}", post(mcp::answer_approval))
        .route("/sessions", get(sessions::list).post(sessions::create))
        .route(
            "/sessions/{id}",
            get(sessions::get)
                .patch(sessions::update)
                .delete(sessions::delete),
        )
        .fallback(middleware::not_found)
        .method_not_allowed_fallback(middleware::method_not_allowed);
    Router::new()
        .route("/", get(models::root))
        .route("/healthz", get(models::healthz))
        .route("/ui", get(ui::serve))
        .route("/ui/", get(ui::serve))
        .route("/ui/{*path}", get(ui::serve))
        .route("/metrics", get(admin::metrics))
        .route("/statsz", get(admin::statsz))
        .route("/mcp", mcp_tools::service(state))
        .nest("/v1", v1)
        .merge(rerank)
        .nest("/proxy", proxy)
        .nest("/admin", admin)
}
