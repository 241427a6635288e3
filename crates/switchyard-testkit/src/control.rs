//! The `/__testkit/*` control endpoints that let out-of-process tests (Python, Node) script a
//! fake: push scripts, set the default, reset, read what was received. Not recorded, and they
//! never take a script from the queue.

use serde::Serialize;

use crate::plan::Response;
use crate::render::json_vec;
use crate::script::Script;
use crate::server::Shared;

/// Answers one control request.
pub(crate) fn handle(shared: &Shared, method: &str, path: &str, body: &[u8]) -> Response {
    match (method, path) {
        ("POST", "/__testkit/script") => match parse_scripts(body) {
            Ok(scripts) => {
                for script in scripts {
                    shared.push(script);
                }
                no_content()
            }
            Err(message) => bad_request(&message),
        },
        ("POST", "/__testkit/default") => match serde_json::from_slice::<Script>(body) {
            Ok(script) => {
                shared.set_default(script);
                no_content()
            }
            Err(e) => bad_request(&format!("invalid script: {e}")),
        },
        ("POST", "/__testkit/reset") => {
            shared.reset();
            no_content()
        }
        ("GET", "/__testkit/requests") => {
            let state = shared.lock();
            let list: Vec<RecordedView<'_>> = state.requests.iter().map(RecordedView::of).collect();
            Response::json(200, json_vec(&list))
        }
        ("GET", "/__testkit/disconnects") => {
            let state = shared.lock();
            let list: Vec<serde_json::Value> = state
                .disconnects
                .iter()
                .map(|d| serde_json::json!({ "request_index": d.request_index }))
                .collect();
            Response::json(200, json_vec(&list))
        }
        _ => Response::json(
            404,
            json_vec(&serde_json::json!({
                "error": format!("unknown control route: {method} {path}")
            })),
        ),
    }
}

/// One script or an array of scripts.
fn parse_scripts(body: &[u8]) -> Result<Vec<Script>, String> {
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| format!("body is not JSON: {e}"))?;
    let result = if value.is_array() {
        serde_json::from_value(value)
    } else {
        serde_json::from_value(value).map(|one| vec![one])
    };
    result.map_err(|e| format!("invalid script: {e}"))
}

fn no_content() -> Response {
    Response::json(204, Vec::new())
}

fn bad_request(message: &str) -> Response {
    Response::json(400, json_vec(&serde_json::json!({ "error": message })))
}

/// A recorded request as the control API shows it.
#[derive(Serialize)]
struct RecordedView<'a> {
    method: &'a str,
    path: &'a str,
    headers: serde_json::Map<String, serde_json::Value>,
    body: serde_json::Value,
    /// Multipart requests: their fields, model and file sizes.
    #[serde(skip_serializing_if = "Option::is_none")]
    multipart: Option<serde_json::Value>,
}

impl<'a> RecordedView<'a> {
    fn of(r: &'a crate::Recorded) -> Self {
        let mut headers = serde_json::Map::new();
        for (name, value) in &r.headers {
            let joined = match headers.get(name).and_then(|v| v.as_str()) {
                Some(previous) => format!("{previous}, {value}"),
                None => value.clone(),
            };
            headers.insert(name.clone(), serde_json::Value::String(joined));
        }
        let body = r.json().unwrap_or_else(|| {
            serde_json::Value::String(String::from_utf8_lossy(&r.body).into_owned())
        });
        Self {
            method: &r.method,
            path: &r.path,
            headers,
            body,
            multipart: crate::media::summary(&r.body),
        }
    }
}
