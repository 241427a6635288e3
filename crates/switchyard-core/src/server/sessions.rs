//! `/admin/sessions`: the playground's saved chats. The UI owns the shape of `params` and
//! `messages`; the gateway keeps them whole, lists them newest first and searches their text.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::views::sessions::{Session as SessionView, SessionSummary};
use super::views::{ObjectList, Sorted};
use super::{AppState, JsonBody, QueryParams};
use crate::error::{ApiError, ErrorCode};
use crate::record::now_ms;
use crate::store::{Session, Store};

fn db(state: &AppState) -> Result<&Store, ApiError> {
    state.db.as_ref().ok_or_else(|| {
        ApiError::of(
            ErrorCode::NoDatabase,
            "This gateway runs without a database, so sessions cannot be saved.",
        )
    })
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::internal(e.to_string())
}

fn not_found(id: &str) -> ApiError {
    ApiError::of(ErrorCode::NotFound, format!("There is no session {id:?}."))
}

fn view(s: &Session) -> Sorted<SessionView> {
    Sorted(SessionView::from(s))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    q: Option<String>,
    limit: Option<u32>,
}

pub async fn list(
    State(state): State<Arc<AppState>>,
    QueryParams(p): QueryParams<ListParams>,
) -> Result<Response, ApiError> {
    let limit = p.limit.unwrap_or(100).clamp(1, 1000);
    let rows = db(&state)?
        .list_sessions(p.q.as_deref(), limit)
        .await
        .map_err(internal)?;
    let data = rows.iter().map(SessionSummary::from).collect();
    Ok(Json(Sorted(ObjectList::new(data))).into_response())
}

/// The fields a client may set; anything else is refused, so typos do not vanish silently.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fields {
    title: Option<String>,
    #[serde(default, with = "nullable")]
    model: Option<Option<String>>,
    #[serde(default, with = "nullable")]
    system: Option<Option<String>>,
    params: Option<Value>,
    messages: Option<Value>,
}

/// Tells an absent field (`None`) from an explicit `null` (`Some(None)`).
mod nullable {
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Option<String>>, D::Error> {
        Option::<String>::deserialize(d).map(Some)
    }
}

fn apply(s: &mut Session, f: Fields) -> Result<(), ApiError> {
    let bad = |param: &str, message: &str| {
        ApiError::invalid_request(format!("{param}: {message}")).with_param(param)
    };
    if let Some(title) = f.title {
        let title = title.trim();
        if title.is_empty() || title.chars().count() > 300 {
            return Err(bad("title", "must be 1 to 300 characters"));
        }
        title.clone_into(&mut s.title);
    }
    if let Some(model) = f.model {
        s.model = model;
    }
    if let Some(system) = f.system {
        s.system = system;
    }
    if let Some(params) = f.params {
        if !params.is_object() {
            return Err(bad("params", "must be a JSON object"));
        }
        s.params = params;
    }
    if let Some(messages) = f.messages {
        if !messages.is_array() {
            return Err(bad("messages", "must be a JSON array"));
        }
        s.messages = messages;
    }
    Ok(())
}

/// `ses_` and 16 random hex digits.
fn new_id() -> Result<String, ApiError> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(internal)?;
    Ok(format!("ses_{:016x}", u64::from_be_bytes(bytes)))
}

pub async fn create(
    State(state): State<Arc<AppState>>,
    JsonBody(fields): JsonBody<Fields>,
) -> Result<Response, ApiError> {
    let now = now_ms();
    let mut session = Session {
        id: new_id()?,
        title: "New chat".into(),
        model: None,
        system: None,
        params: json!({}),
        messages: json!([]),
        created_at: now,
        updated_at: now,
    };
    apply(&mut session, fields)?;
    db(&state)?.put_session(&session).await.map_err(internal)?;
    Ok((StatusCode::CREATED, Json(view(&session))).into_response())
}

pub async fn get(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let session = db(&state)?
        .get_session(&id)
        .await
        .map_err(internal)?
        .ok_or_else(|| not_found(&id))?;
    Ok(Json(view(&session)).into_response())
}

pub async fn update(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    JsonBody(fields): JsonBody<Fields>,
) -> Result<Response, ApiError> {
    let db = db(&state)?;
    let mut session = db
        .get_session(&id)
        .await
        .map_err(internal)?
        .ok_or_else(|| not_found(&id))?;
    apply(&mut session, fields)?;
    session.updated_at = now_ms().max(session.updated_at);
    db.put_session(&session).await.map_err(internal)?;
    Ok(Json(view(&session)).into_response())
}

pub async fn delete(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    if db(&state)?.delete_session(&id).await.map_err(internal)? {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(not_found(&id))
    }
}
