//! The admin API over routing: `GET /admin/routing` (every alias and pool, members in the order
//! the next request would try them, with live figures) and `/admin/pools` (capability pools,
//! edited in the config file like aliases). Documented in `docs/admin-api.md`.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::admin_config::{bad, change, not_found, object};
use super::views::routing::{MemberView, Pool, PoolsRebuilt, RouteView, RoutingTable};
use super::views::{ObjectList, Sorted};
use super::{AppState, JsonBody};
use crate::error::ApiError;
use crate::routing::{Route, Runtime, Target};

type Result<T, E = ApiError> = std::result::Result<T, E>;

fn ms(d: Option<std::time::Duration>) -> Option<f64> {
    d.map(|d| (d.as_secs_f64() * 1_000_000.0).round() / 1000.0)
}

pub(super) fn member_view(t: &Target) -> MemberView {
    let f = t.stats.figures();
    MemberView {
        target: t.label.clone(),
        weight: t.weight,
        latency_ms: ms(f.total),
        ttft_ms: ms(f.ttft),
        error_rate: (f.error_rate * 1000.0).round() / 1000.0,
        requests: f.requests,
        failures: f.failures,
        in_flight: f.in_flight,
        circuit: t.breaker.state(),
        last_error: t.stats.last_error().or_else(|| t.breaker.last_error()),
        price: t.caps.price,
        context_window: t.caps.context_window,
        local: t.local,
    }
}

fn route_view(route: &Route) -> RouteView {
    RouteView {
        name: route.requested.clone(),
        kind: route.kind.as_str().to_owned(),
        strategy: route.strategy,
        require: route.require.as_ref().map(ToString::to_string),
        members: route.preview().into_iter().map(member_view).collect(),
        fallback: route.fallback.iter().map(|t| t.label.clone()).collect(),
    }
}

/// The routing table as the next requests would meet it.
pub fn routing_table(runtime: &Runtime) -> RoutingTable {
    RoutingTable {
        default_strategy: runtime.config.routing.default_strategy,
        offline_fallback: runtime.config.routing.offline_fallback,
        routes: runtime.choosing().iter().map(|r| route_view(r)).collect(),
    }
}

pub async fn routing(State(state): State<Arc<AppState>>) -> Response {
    let runtime = state.runtime.load_full();
    Json(Sorted(routing_table(&runtime))).into_response()
}

fn live_pool(state: &AppState, name: &str) -> Sorted<Option<Pool>> {
    let runtime = state.runtime.load_full();
    Sorted(Pool::all(&runtime).into_iter().find(|p| p.name == name))
}

pub async fn list_pools(State(state): State<Arc<AppState>>) -> Response {
    let runtime = state.runtime.load_full();
    Json(Sorted(ObjectList::new(Pool::all(&runtime)))).into_response()
}

pub async fn get_pool(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
) -> Result<Response> {
    match live_pool(&state, &name) {
        Sorted(Some(pool)) => Ok(Json(Sorted(pool)).into_response()),
        Sorted(None) => Err(not_found("pool", &name)),
    }
}

/// `POST /admin/pools` with `{"name", "require", "strategy", "providers", "models", "fallback"}`.
pub async fn create_pool(
    State(state): State<Arc<AppState>>,
    JsonBody(body): JsonBody<Value>,
) -> Result<Response> {
    let mut fields = object(body, "the pool")?;
    let Some(Value::String(name)) = fields.remove("name") else {
        return Err(bad("a pool needs a name", "name"));
    };
    change(&state, |doc| doc.insert_entry("pools", &name, &fields)).await?;
    Ok((StatusCode::CREATED, Json(live_pool(&state, &name))).into_response())
}

/// `PUT /admin/pools/{name}`: creates the pool, or changes the fields given (`null` removes one).
pub async fn put_pool(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    JsonBody(body): JsonBody<Value>,
) -> Result<Response> {
    let mut fields = object(body, "the pool")?;
    fields.remove("name");
    let existed = state
        .runtime
        .load()
        .config
        .pools
        .iter()
        .any(|p| p.name == name);
    change(&state, |doc| {
        if doc.entry("pools", &name).is_some() {
            doc.update_entry("pools", &name, &fields)
        } else {
            doc.insert_entry("pools", &name, &fields)
        }
    })
    .await?;
    let status = if existed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(live_pool(&state, &name))).into_response())
}

pub async fn delete_pool(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
) -> Result<Response> {
    if change(&state, |doc| Ok(doc.remove_entry("pools", &name))).await? {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(not_found("pool", &name))
    }
}

/// `POST /admin/pools/rebuild`: reads every enabled provider's model list again and rebuilds
/// the routing table, so pools take in what was found.
pub async fn rebuild_pools(State(state): State<Arc<AppState>>) -> Result<Response> {
    let results = state.refresh_models(None, false).await;
    let errors: Vec<String> = results
        .iter()
        .filter_map(|(name, r)| r.as_ref().err().map(|e| format!("{name}: {e}")))
        .collect();
    if results.iter().all(|(_, r)| r.is_err()) {
        // Nothing new was read, so nothing was applied: rebuild from what is known.
        let config = (*state.runtime.load().config).clone();
        state.apply(config).await.map_err(|e| {
            ApiError::of(
                crate::error::ErrorCode::ApplyFailed,
                format!("cannot rebuild the routing table: {e}"),
            )
        })?;
    }
    let runtime = state.runtime.load_full();
    Ok(Json(Sorted(PoolsRebuilt {
        pools: Pool::all(&runtime),
        errors,
    }))
    .into_response())
}
