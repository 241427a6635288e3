//! The route table, and nothing else: path → handler, and the list of model endpoints made
//! from the same table.

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{MethodRouter, get, post, put};

use super::{
    AppState, admin, admin_config as cfg, admin_mcp as mcp, admin_routing, audio, chat,
    completions, doors, embeddings, images, mcp_tools, messages, middleware, models, proxy,
    recording, responses, sessions, ui,
};

/// The model API under `/v1`: path and handler. The route table and the endpoint list
/// (`GET /`, the hints of 404s) are both made from it, so the list cannot miss a route.
fn v1_routes() -> Vec<(&'static str, MethodRouter<Arc<AppState>>)> {
    let [transcriptions, translations, edits] = UPLOADS;
    vec![
        ("/chat/completions", post(chat::chat_completions)),
        ("/messages", post(messages::messages)),
        ("/messages/count_tokens", post(messages::count_tokens)),
        ("/responses", post(responses::create)),
        (
            "/responses/{id}",
            get(responses::retrieve).delete(responses::delete),
        ),
        ("/embeddings", post(embeddings::embeddings)),
        ("/images/generations", post(images::generations)),
        ("/completions", post(completions::completions)),
        ("/moderations", post(doors::moderations)),
        ("/rerank", post(doors::rerank)),
        ("/audio/speech", post(audio::speech)),
        (
            transcriptions,
            post(audio::transcriptions).layer(DefaultBodyLimit::disable()),
        ),
        (
            translations,
            post(audio::translations).layer(DefaultBodyLimit::disable()),
        ),
        (
            edits,
            post(images::edits).layer(DefaultBodyLimit::disable()),
        ),
        ("/models", get(models::list)),
        ("/models/{*id}", get(models::retrieve)),
    ]
}

/// The multipart doors under `/v1`: held to `limits.max_upload_bytes` while they are read
/// (`upload::read_form`), not to the body limit.
pub const UPLOADS: [&str; 3] = [
    "/audio/transcriptions",
    "/audio/translations",
    "/images/edits",
];

/// Every model endpoint: `/v1/…`, and rerank where Cohere and Jina clients post it.
pub fn endpoints() -> &'static [String] {
    static LIST: std::sync::LazyLock<Vec<String>> = std::sync::LazyLock::new(|| {
        v1_routes()
            .into_iter()
            .map(|(path, _)| format!("/v1{path}"))
            .chain(RERANK_PATHS.iter().map(|path| (*path).to_owned()))
            .collect()
    });
    &LIST
}

/// Rerank outside `/v1`, where the Cohere and Jina clients post it.
const RERANK_PATHS: [&str; 2] = ["/rerank", "/v2/rerank"];

/// The model endpoint `path` names once `/v1` is put in front, when it names one: what a client
/// whose base URL lacks `/v1` meant.
pub fn under_v1(path: &str) -> Option<String> {
    let wanted = format!("/v1{path}");
    endpoints()
        .iter()
        .any(|e| e.starts_with("/v1/") && pattern_matches(e, &wanted))
        .then_some(wanted)
}

/// `{name}` matches one segment, `{*name}` the rest.
fn pattern_matches(pattern: &str, path: &str) -> bool {
    let mut have = path.split('/');
    for want in pattern.split('/') {
        if want.starts_with("{*") {
            return have.next().is_some_and(|s| !s.is_empty());
        }
        match have.next() {
            Some(seg) if want.starts_with('{') => {
                if seg.is_empty() {
                    return false;
                }
            }
            Some(seg) if seg == want => {}
            _ => return false,
        }
    }
    have.next().is_none()
}

pub fn routes(state: &Arc<AppState>) -> Router<Arc<AppState>> {
    // Everything under /v1, unknown paths included, is recorded in the request log.
    let v1 = v1_routes()
        .into_iter()
        .fold(Router::new(), |router, (path, handler)| {
            router.route(path, handler)
        })
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
    let rerank = RERANK_PATHS
        .iter()
        .fold(Router::new(), |router, path| {
            router.route(path, post(doors::rerank))
        })
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
        .route("/routing", get(admin_routing::routing))
        .route(
            "/pools",
            get(admin_routing::list_pools).post(admin_routing::create_pool),
        )
        .route("/pools/rebuild", post(admin_routing::rebuild_pools))
        .route(
            "/pools/{name}",
            get(admin_routing::get_pool)
                .put(admin_routing::put_pool)
                .delete(admin_routing::delete_pool),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_missing_v1_is_recognised() {
        assert_eq!(
            under_v1("/chat/completions").as_deref(),
            Some("/v1/chat/completions")
        );
        assert_eq!(
            under_v1("/models/openai/gpt-4o").as_deref(),
            Some("/v1/models/openai/gpt-4o")
        );
        assert_eq!(
            under_v1("/responses/resp_1").as_deref(),
            Some("/v1/responses/resp_1")
        );
        for no in [
            "/chat",
            "/responses/",
            "/models/",
            "/admin/keys",
            "/",
            "/chat/completions/x",
        ] {
            assert_eq!(under_v1(no), None, "{no}");
        }
    }

    #[test]
    fn the_endpoint_list_has_every_door() {
        let paths: Vec<&str> = endpoints().iter().map(String::as_str).collect();
        for door in [
            "/v1/chat/completions",
            "/v1/responses",
            "/v1/messages",
            "/v1/embeddings",
            "/v1/audio/transcriptions",
            "/v1/images/edits",
            "/v1/rerank",
            "/v2/rerank",
        ] {
            assert!(paths.contains(&door), "{door} missing from {paths:?}");
        }
    }
}
