//! `POST /v1/audio/speech` (JSON in, audio bytes streamed out as they arrive) and the two
//! multipart audio doors, `/v1/audio/transcriptions` and `/v1/audio/translations`.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::Value;

use super::auth::Caller;
use super::upload::{self, Door};
use super::{AppState, JsonBody, Served, doors, fail, note_target};
use crate::error::ApiError;
use crate::providers::from_reqwest;
use crate::providers::media::MediaEndpoint;
use crate::record::Draft;
use crate::routing::{Needs, failover};

pub async fn speech(
    State(state): State<Arc<AppState>>,
    caller: Option<axum::Extension<Caller>>,
    draft: Draft,
    JsonBody(body): JsonBody<Value>,
) -> Response {
    let result = async {
        let model = doors::required_model(&body)?;
        doors::check(&caller, &draft, &model)?;
        speak(&state, &model, body, &draft).await
    };
    result.await.unwrap_or_else(|e| fail(&draft, e))
}

pub async fn transcriptions(
    State(state): State<Arc<AppState>>,
    caller: Option<axum::Extension<Caller>>,
    draft: Draft,
    req: Request,
) -> Response {
    let door = audio_door(MediaEndpoint::Transcriptions);
    upload::serve(&state, caller, &draft, req, door).await
}

pub async fn translations(
    State(state): State<Arc<AppState>>,
    caller: Option<axum::Extension<Caller>>,
    draft: Draft,
    req: Request,
) -> Response {
    let door = audio_door(MediaEndpoint::Translations);
    upload::serve(&state, caller, &draft, req, door).await
}

fn audio_door(endpoint: MediaEndpoint) -> Door {
    Door {
        endpoint,
        file: "file",
        file_alias: None,
        required: &[],
        json_answer: false,
    }
}

/// Routes the speech request; once a target has sent its first audio bytes the answer is
/// committed, and the rest streams through as it arrives.
async fn speak(
    state: &AppState,
    model: &str,
    body: Value,
    draft: &Draft,
) -> Result<Response, ApiError> {
    if body
        .get("input")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        return Err(
            ApiError::invalid_request("input: required (the text to speak)").with_param("input"),
        );
    }
    if body.get("voice").is_none_or(Value::is_null) {
        return Err(ApiError::invalid_request("voice: required").with_param("voice"));
    }
    let (runtime, route, deadline) = doors::route(state, model)?;
    let body = &body;
    let mut ok = failover::execute(
        &route,
        &Needs::default(),
        &runtime.config.retry,
        deadline,
        |t| async move {
            let mut response = t.provider.audio_speech(body, &t.model).await?;
            // The first bytes decide: a target that fails before them is failed over.
            let first = response.chunk().await.map_err(|e| from_reqwest(&e))?;
            Ok((response, first))
        },
    )
    .await?;
    note_target(draft, &runtime, &ok);
    let served = Served::new(&mut ok);
    let ttft = draft.elapsed_ms();
    draft.update(|d| d.ttft_ms = ttft);
    let (mut upstream, first) = ok.value;
    let content_type = upstream
        .headers()
        .get(header::CONTENT_TYPE)
        .cloned()
        .unwrap_or_else(|| HeaderValue::from_static("application/octet-stream"));
    let kind = content_type.to_str().unwrap_or_default().to_owned();
    let idle = ok.target.provider.timeouts.idle;
    let draft = draft.clone();
    let stream = async_stream::stream! {
        let mut sent = 0usize;
        if let Some(first) = first {
            sent += first.len();
            yield Ok::<Bytes, std::io::Error>(first);
        }
        loop {
            let next = match tokio::time::timeout(idle, upstream.chunk()).await {
                Ok(next) => next.map_err(|e| from_reqwest(&e).to_string()),
                Err(_) => Err(format!("no data for {} ms (timeouts.idle_ms)", idle.as_millis())),
            };
            match next {
                Ok(Some(chunk)) => {
                    sent += chunk.len();
                    yield Ok(chunk);
                }
                Ok(None) => break,
                Err(e) => {
                    draft.update(|d| d.response_body = Some(audio_summary(&kind, sent)));
                    draft.fail_in_body(format!("the upstream's audio broke off after {sent} bytes: {e}"));
                    // Ends the response without its proper end, so the client can tell.
                    yield Err(std::io::Error::other(e));
                    return;
                }
            }
        }
        draft.update(|d| d.response_body = Some(audio_summary(&kind, sent)));
    };
    let mut response = Response::new(Body::from_stream(stream));
    *response.status_mut() = StatusCode::OK;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, content_type);
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    served.headers(headers);
    Ok(response)
}

/// What the request log keeps of an audio answer: its type and size, not the audio.
fn audio_summary(content_type: &str, bytes: usize) -> Bytes {
    let summary = serde_json::json!({"content_type": content_type, "bytes": bytes});
    Bytes::from(serde_json::to_vec(&summary).unwrap_or_default())
}
