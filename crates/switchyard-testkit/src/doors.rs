//! The fakes behind the gateway's smaller OpenAI-shaped doors: legacy text completions (whole
//! and streamed, from the scripted reply), moderations (flags from a fixed word list, scores
//! derived from the text) and rerank (relevance from word overlap with the query). Pure
//! rendering, no I/O; every answer is a deterministic function of the request.

use serde_json::{Value, json};

use crate::content::Resolved;
use crate::openai::DONE;
use crate::render::{json_event, json_vec};

/// The text of a legacy `prompt`: a string, or the strings of an array joined by newlines.
pub(crate) fn prompt_text(prompt: &Value) -> String {
    match prompt {
        Value::String(s) => s.clone(),
        Value::Array(items) => items
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

fn completion_id(r: &Resolved<'_>) -> String {
    format!("cmpl-fake{}", r.request_index)
}

fn usage(r: &Resolved<'_>) -> Value {
    json!({
        "prompt_tokens": r.prompt_tokens,
        "completion_tokens": r.completion_tokens,
        "total_tokens": r.prompt_tokens.saturating_add(r.completion_tokens),
    })
}

fn text_completion(r: &Resolved<'_>, id: &str, choices: Value, usage: Option<Value>) -> Value {
    let mut body = json!({
        "id": id, "object": "text_completion", "created": r.created, "model": r.model,
        "choices": choices,
    });
    if let Some(usage) = usage {
        body["usage"] = usage;
    }
    body
}

fn choice(text: &str, finish_reason: Option<&str>) -> Value {
    json!([{"text": text, "index": 0, "logprobs": null, "finish_reason": finish_reason}])
}

/// A whole `text_completion` body.
pub(crate) fn completion_body(r: &Resolved<'_>) -> Vec<u8> {
    let finish = r.finish_reason.unwrap_or("stop");
    let choices = choice(&r.text, Some(finish));
    json_vec(&text_completion(
        r,
        &completion_id(r),
        choices,
        Some(usage(r)),
    ))
}

/// A streamed completion: one chunk per text piece, a finishing chunk, the usage chunk when
/// asked for, and `[DONE]`.
pub(crate) fn completion_events(r: &Resolved<'_>, include_usage: bool) -> Vec<Vec<u8>> {
    let id = completion_id(r);
    let mut events: Vec<Vec<u8>> = r
        .text_pieces()
        .into_iter()
        .map(|piece| json_event(None, &text_completion(r, &id, choice(piece, None), None)))
        .collect();
    let finish = choice("", Some(r.finish_reason.unwrap_or("stop")));
    events.push(json_event(None, &text_completion(r, &id, finish, None)));
    if include_usage {
        let last = text_completion(r, &id, json!([]), Some(usage(r)));
        events.push(json_event(None, &last));
    }
    events.push(DONE.to_vec());
    events
}

/// The words a fake moderation model flags, by category.
pub(crate) const FLAGGED_WORDS: &[(&str, &[&str])] = &[
    ("violence", &["kill", "attack", "bomb"]),
    ("hate", &["hate"]),
    ("harassment", &["idiot", "stupid"]),
    ("self-harm", &["suicide"]),
    ("illicit", &["steal", "drugs"]),
];

const CATEGORIES: &[&str] = &[
    "harassment",
    "harassment/threatening",
    "hate",
    "hate/threatening",
    "illicit",
    "illicit/violent",
    "self-harm",
    "self-harm/instructions",
    "self-harm/intent",
    "sexual",
    "sexual/minors",
    "violence",
    "violence/graphic",
];

fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// One moderation result for a text (and whether images came with it).
fn moderation(text: &str, images: bool) -> Value {
    let found = words(text);
    // Unflagged categories get a small score that still depends on the text.
    let base = f64::from(u32::try_from(text.len() % 97).unwrap_or(0)) / 10_000.0;
    let mut categories = serde_json::Map::new();
    let mut scores = serde_json::Map::new();
    let mut applied = serde_json::Map::new();
    let mut flagged = false;
    for name in CATEGORIES {
        let hit = FLAGGED_WORDS
            .iter()
            .any(|(c, list)| c == name && list.iter().any(|w| found.iter().any(|f| f == w)));
        flagged |= hit;
        categories.insert((*name).into(), Value::Bool(hit));
        scores.insert((*name).into(), json!(if hit { 0.9 } else { base }));
        let mut kinds = vec!["text"];
        if images
            && matches!(
                *name,
                "violence" | "violence/graphic" | "self-harm" | "sexual"
            )
        {
            kinds.push("image");
        }
        applied.insert((*name).into(), json!(kinds));
    }
    json!({
        "flagged": flagged, "categories": categories, "category_scores": scores,
        "category_applied_input_types": applied,
    })
}

/// `POST /v1/moderations`: one result per string, or one for an array of multimodal parts.
pub(crate) fn moderations_body(body: &[u8], request_index: usize) -> Result<Vec<u8>, String> {
    let req: Value =
        serde_json::from_slice(body).map_err(|e| format!("invalid moderations request: {e}"))?;
    let results: Vec<Value> = match &req["input"] {
        Value::String(s) => vec![moderation(s, false)],
        Value::Array(items) if items.iter().all(Value::is_string) && !items.is_empty() => items
            .iter()
            .map(|s| moderation(s.as_str().unwrap_or_default(), false))
            .collect(),
        Value::Array(parts) if !parts.is_empty() => {
            let text: Vec<&str> = parts.iter().filter_map(|p| p["text"].as_str()).collect();
            let images = parts.iter().any(|p| p["type"] == "image_url");
            vec![moderation(&text.join(" "), images)]
        }
        _ => return Err("input: required".into()),
    };
    let model = req["model"].as_str().unwrap_or("omni-moderation-latest");
    Ok(json_vec(&json!({
        "id": format!("modr-fake{request_index}"), "model": model, "results": results,
    })))
}

/// `POST /rerank`: each document scored by the share of the query's words it contains,
/// best first (ties in input order), cut to `top_n`, with the text when `return_documents`.
pub(crate) fn rerank_body(body: &[u8], request_index: usize) -> Result<Vec<u8>, String> {
    let req: Value =
        serde_json::from_slice(body).map_err(|e| format!("invalid rerank request: {e}"))?;
    let query = req["query"].as_str().ok_or("query: required")?;
    let docs = req["documents"]
        .as_array()
        .filter(|d| !d.is_empty())
        .ok_or("documents: required")?;
    let mut wanted = words(query);
    wanted.sort();
    wanted.dedup();
    let texts: Vec<&str> = docs
        .iter()
        .map(|d| {
            d.as_str()
                .or_else(|| d["text"].as_str())
                .unwrap_or_default()
        })
        .collect();
    let mut scored: Vec<(usize, f64)> = texts
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let have = words(text);
            let shared = wanted.iter().filter(|w| have.contains(w)).count();
            let share = if wanted.is_empty() {
                0.0
            } else {
                f64::from(u32::try_from(shared).unwrap_or(0))
                    / f64::from(u32::try_from(wanted.len()).unwrap_or(1))
            };
            (i, share)
        })
        .collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let top_n = req["top_n"]
        .as_u64()
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(scored.len());
    let with_text = req["return_documents"].as_bool().unwrap_or(false);
    let results: Vec<Value> = scored
        .into_iter()
        .take(top_n)
        .map(|(index, score)| {
            let mut r = json!({"index": index, "relevance_score": score});
            if with_text {
                r["document"] = json!({"text": texts.get(index).copied().unwrap_or_default()});
            }
            r
        })
        .collect();
    let tokens: usize = texts.iter().map(|t| words(t).len()).sum::<usize>() + wanted.len();
    Ok(json_vec(&json!({
        "id": format!("rerank-fake{request_index}"),
        "model": req["model"],
        "results": results,
        "usage": {"total_tokens": tokens},
        "meta": {"api_version": {"version": "2"}, "billed_units": {"search_units": 1}},
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moderation_flags_listed_words_only() {
        let body = moderations_body(br#"{"input":["I will kill it","a nice day"]}"#, 0).unwrap();
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["results"][0]["flagged"], true);
        assert_eq!(v["results"][0]["categories"]["violence"], true);
        assert_eq!(v["results"][1]["flagged"], false);
    }

    #[test]
    fn rerank_orders_by_overlap_and_cuts_to_top_n() {
        let body = br#"{"query":"red fox","documents":["a blue whale",{"text":"the red fox"},"red car"],"top_n":2,"return_documents":true}"#;
        let v: Value = serde_json::from_slice(&rerank_body(body, 0).unwrap()).unwrap();
        let results = v["results"].as_array().unwrap();
        assert_eq!(results.len(), 2);
        assert_eq!(results[0]["index"], 1);
        assert_eq!(results[0]["document"]["text"], "the red fox");
        assert_eq!(results[1]["index"], 2);
    }
}
