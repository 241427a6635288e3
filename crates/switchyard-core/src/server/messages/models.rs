//! `GET /v1/models` for Anthropic clients (they send `anthropic-version`): Anthropic's list
//! shape and paging (`limit`, `after_id`, `before_id`), chat models only, each under the id a
//! client can send back: the bare upstream id when it routes to that model alone (Claude Code
//! lists only ids starting with `claude`), else `provider/model`, and aliases by name.

use axum::http::HeaderMap;
use axum::response::{IntoResponse as _, Response};
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::routing::Runtime;
use crate::server::auth::Caller;
use switchyard_dialects::openai::ModelCard;

/// Anthropic's SDKs and Claude Code send `anthropic-version` on every request.
pub fn is_anthropic_client(headers: &HeaderMap) -> bool {
    headers.contains_key("anthropic-version")
}

/// The id an Anthropic client should use for a card.
fn client_id(runtime: &Runtime, card: &ModelCard) -> String {
    if let Some(provider) = &card.provider
        && let Some(bare) = card.id.strip_prefix(&format!("{provider}/"))
        && runtime
            .resolve(bare)
            .is_some_and(|r| r.targets.len() == 1 && r.targets[0].label == card.id)
    {
        return bare.to_owned();
    }
    card.id.clone()
}

/// The models this caller may send to `/v1/messages`: (the id it checks against, the entry).
fn entries(runtime: &Runtime, caller: Option<&Caller>) -> Vec<(String, Value)> {
    runtime
        .models
        .data
        .iter()
        .filter(|c| c.assistant.is_none())
        .filter(|c| {
            c.capabilities
                .as_ref()
                .is_none_or(|caps| caps["chat"].as_bool() != Some(false))
        })
        .filter(|c| caller.is_none_or(|k| k.check_model(&c.id).is_ok()))
        .map(|c| {
            let entry = json!({
                "type": "model",
                "id": client_id(runtime, c),
                "display_name": c.display_name,
                "created_at": c.created_at,
            });
            (c.id.clone(), entry)
        })
        .collect()
}

fn param<'q>(query: Option<&'q str>, name: &str) -> Option<&'q str> {
    query?
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn decoded(value: &str) -> String {
    // Ids hold `/` (`%2F` in a query) and little else worth decoding.
    value.replace("%2F", "/").replace("%2f", "/")
}

pub fn list(runtime: &Runtime, caller: Option<&Caller>, query: Option<&str>) -> Response {
    let all = entries(runtime, caller);
    let position = |id: &str| all.iter().position(|(_, e)| e["id"] == id);
    let start = param(query, "after_id")
        .map(decoded)
        .and_then(|id| position(&id))
        .map_or(0, |p| p + 1);
    let end = param(query, "before_id")
        .map(decoded)
        .and_then(|id| position(&id))
        .unwrap_or(all.len())
        .max(start);
    let window = &all[start..end];
    let limit = param(query, "limit")
        .and_then(|l| l.parse::<usize>().ok())
        .filter(|l| *l > 0)
        .unwrap_or(window.len());
    let page = if param(query, "before_id").is_some() {
        &window[window.len().saturating_sub(limit)..]
    } else {
        &window[..limit.min(window.len())]
    };
    let data: Vec<&Value> = page.iter().map(|(_, e)| e).collect();
    axum::Json(json!({
        "data": data,
        "has_more": page.len() < window.len(),
        "first_id": data.first().map(|e| &e["id"]),
        "last_id": data.last().map(|e| &e["id"]),
    }))
    .into_response()
}

pub fn retrieve(runtime: &Runtime, caller: Option<&Caller>, id: &str) -> Response {
    match entries(runtime, caller)
        .into_iter()
        .find(|(label, e)| e["id"] == id || label == id)
    {
        Some((_, mut entry)) => {
            entry["id"] = Value::String(id.to_owned());
            axum::Json(entry).into_response()
        }
        None => ApiError::model_not_found(id).into_response(),
    }
}
