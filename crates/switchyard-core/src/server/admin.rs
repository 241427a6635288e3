//! The admin API over the request log (`/admin/*`, JSON) and the metrics endpoints
//! (`/metrics`, `/statsz`). Documented in `docs/admin-api.md`.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::views::Sorted;
use super::views::gateway::Statsz;
use super::views::log::{
    LatencyHistogram, ProviderHealth, ProvidersHealth, TargetHealth, TokenSeries, TrafficDays,
};
use super::{AppState, QueryParams};
use crate::error::{ApiError, ErrorCode};
use crate::record::now_ms;
use crate::store::{RequestFilter, Store, parse_window};

fn store(state: &AppState) -> Result<&Store, ApiError> {
    state.store.as_ref().ok_or_else(|| {
        ApiError::of(
            ErrorCode::LogDisabled,
            "The request log is switched off (log.enabled = false in the config).",
        )
    })
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::internal(e.to_string())
}

/// A time: unix milliseconds, or a window back from now such as `24h`, `7d`, `30m`.
fn time_param(name: &str, value: Option<&str>) -> Result<Option<i64>, ApiError> {
    let Some(v) = value.filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if let Ok(ms) = v.parse::<i64>() {
        return Ok(Some(ms));
    }
    let window = parse_window(v).ok_or_else(|| {
        ApiError::invalid_request(format!(
            "{name}: {v:?} is neither unix milliseconds nor a window like 24h, 7d"
        ))
        .with_param(name)
    })?;
    Ok(Some(
        now_ms() - i64::try_from(window.as_millis()).unwrap_or(i64::MAX),
    ))
}

fn window_param(value: Option<&str>) -> Result<(String, i64, i64), ApiError> {
    let window = value.unwrap_or("24h");
    let d = parse_window(window).ok_or_else(|| {
        ApiError::invalid_request(format!(
            "window: {window:?} is not a window like 24h, 7d or 30d"
        ))
        .with_param("window")
    })?;
    let until = now_ms();
    Ok((
        window.to_owned(),
        until - i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
        until,
    ))
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    since: Option<String>,
    until: Option<String>,
    model: Option<String>,
    provider: Option<String>,
    status: Option<u16>,
    client: Option<String>,
    outcome: Option<String>,
    cursor: Option<String>,
    limit: Option<u32>,
}

pub async fn list_requests(
    State(state): State<Arc<AppState>>,
    QueryParams(q): QueryParams<ListQuery>,
) -> Response {
    let run = async {
        let filter = RequestFilter {
            since: time_param("since", q.since.as_deref())?,
            until: time_param("until", q.until.as_deref())?,
            model: q.model,
            provider: q.provider,
            status: q.status,
            client: q.client,
            outcome: q.outcome,
            cursor: q.cursor,
            limit: q.limit,
        };
        store(&state)?
            .list_requests(&filter)
            .await
            .map(|page| Json(page).into_response())
            .map_err(|e| match e {
                crate::store::StoreError::Query(m) if m.starts_with("bad cursor") => {
                    ApiError::invalid_request(m).with_param("cursor")
                }
                other => internal(other),
            })
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}

pub async fn get_request(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> Response {
    let run = async {
        match store(&state)?.get_request(&id).await.map_err(internal)? {
            Some(detail) => Ok(Json(detail).into_response()),
            None => Err(ApiError::of(
                ErrorCode::RequestNotFound,
                format!("No request {id:?} in the log."),
            )),
        }
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}

#[derive(Debug, Deserialize)]
pub struct RangeQuery {
    since: Option<String>,
    until: Option<String>,
}

pub async fn traffic_days(
    State(state): State<Arc<AppState>>,
    QueryParams(q): QueryParams<RangeQuery>,
) -> Response {
    let run = async {
        let since =
            time_param("since", q.since.as_deref())?.unwrap_or_else(|| now_ms() - 366 * 86_400_000);
        let until = time_param("until", q.until.as_deref())?.unwrap_or_else(|| now_ms() + 1);
        let days = store(&state)?
            .traffic_days(since, until)
            .await
            .map_err(internal)?;
        Ok::<_, ApiError>(Json(Sorted(TrafficDays { days })).into_response())
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}

#[derive(Debug, Deserialize)]
pub struct WindowQuery {
    window: Option<String>,
    /// Bucket width for time series, like `1h`.
    bucket: Option<String>,
}

pub async fn stats(
    State(state): State<Arc<AppState>>,
    QueryParams(q): QueryParams<WindowQuery>,
) -> Response {
    let run = async {
        let (window, since, until) = window_param(q.window.as_deref())?;
        let stats = store(&state)?
            .stats(&window, since, until)
            .await
            .map_err(internal)?;
        Ok::<_, ApiError>(Json(stats).into_response())
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}

pub async fn latency_histogram(
    State(state): State<Arc<AppState>>,
    QueryParams(q): QueryParams<WindowQuery>,
) -> Response {
    let run = async {
        let (window, since, until) = window_param(q.window.as_deref())?;
        let buckets = store(&state)?
            .latency_histogram(since, until)
            .await
            .map_err(internal)?;
        Ok::<_, ApiError>(Json(Sorted(LatencyHistogram { window, buckets })).into_response())
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}

pub async fn token_series(
    State(state): State<Arc<AppState>>,
    QueryParams(q): QueryParams<WindowQuery>,
) -> Response {
    let run = async {
        let (window, since, until) = window_param(q.window.as_deref())?;
        let bucket_ms = match q.bucket.as_deref() {
            Some(b) => parse_window(b)
                .ok_or_else(|| {
                    ApiError::invalid_request(format!("bucket: {b:?} is not a width like 1h"))
                        .with_param("bucket")
                })?
                .as_millis(),
            // About 48 points for any window.
            None => u128::try_from(until - since).unwrap_or(0) / 48,
        };
        let bucket_ms = i64::try_from(bucket_ms).unwrap_or(i64::MAX).max(60_000);
        let points = store(&state)?
            .token_series(since, until, bucket_ms)
            .await
            .map_err(internal)?;
        Ok::<_, ApiError>(
            Json(Sorted(TokenSeries {
                window,
                bucket_ms,
                points,
            }))
            .into_response(),
        )
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}

pub async fn provider_health(State(state): State<Arc<AppState>>) -> Response {
    let runtime = state.runtime.load();
    let breakers = runtime.health().snapshot();
    let providers = runtime
        .providers
        .iter()
        .map(|p| {
            let prefix = format!("{}/", p.name);
            let targets = breakers
                .iter()
                .filter(|(label, _)| label.starts_with(&prefix))
                .map(|(label, b)| TargetHealth {
                    target: label.clone(),
                    circuit: b.state(),
                    last_error: b.last_error(),
                })
                .collect();
            ProviderHealth {
                name: p.name.clone(),
                kind: p.kind.as_str(),
                enabled: runtime.config.provider(&p.name).is_some_and(|c| c.enabled),
                problem: p.key_problem().map(ToString::to_string),
                targets,
            }
        })
        .collect();
    Json(Sorted(ProvidersHealth { providers })).into_response()
}

pub async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    let mut text = state
        .metrics
        .render(&state.recorder.counters, &state.circuits());
    crate::metrics::Metrics::render_targets(&mut text, &state.runtime.load().health().figures());
    state.mcp.render_prometheus(&mut text);
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        text,
    )
        .into_response()
}

pub async fn statsz(State(state): State<Arc<AppState>>) -> Response {
    let summary = state
        .metrics
        .summary(&state.recorder.counters, &state.circuits());
    Json(Sorted(Statsz {
        summary,
        mcp_servers: state.mcp.status(),
    }))
    .into_response()
}

/// `GET /admin/media/{file}`: an image a captured body referred to as `media:FILE`. Names are
/// checked against the shape the log writes (`req_…-req-0.png`), never resolved as paths.
pub async fn media(
    State(state): State<Arc<AppState>>,
    Path(file): Path<String>,
) -> Result<Response, ApiError> {
    let store = store(&state)?;
    let content_type = match file.rsplit_once('.').map(|(_, ext)| ext) {
        Some("png") => "image/png",
        Some("jpeg" | "jpg") => "image/jpeg",
        Some("gif") => "image/gif",
        Some("webp") => "image/webp",
        _ => "application/octet-stream",
    };
    let missing = || {
        ApiError::of(
            ErrorCode::NotFound,
            format!("No media file {file:?} (it may have been removed with its request)."),
        )
    };
    // Plain names only, and never through a link planted in the data folder.
    let bytes = store
        .read_media(&file)
        .await
        .map_err(internal)?
        .ok_or_else(missing)?;
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::HeaderName::from_static("x-content-type-options"),
                HeaderValue::from_static("nosniff"),
            ),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("sandbox"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, max-age=86400"),
            ),
        ],
        bytes,
    )
        .into_response())
}
