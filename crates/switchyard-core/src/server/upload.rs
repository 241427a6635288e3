//! The multipart doors (`/v1/audio/transcriptions`, `/v1/audio/translations`,
//! `/v1/images/edits`): the form is read whole within `limits.max_upload_bytes`, routed by its
//! `model` field, and sent on to the target as the same form with that field renamed. The
//! upstream's answer is passed back with its own content type. Wire mapping lives in
//! `providers::media`; nothing here knows an upstream's protocol.

use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{FromRequest as _, Multipart, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse as _, Response};

use super::doors::{self, CallerExt};
use super::{AppState, Served, fail, note_target};
use crate::error::{ApiError, ErrorCode, UpstreamError};
use crate::providers::media::{FormPart, MediaEndpoint};
use crate::providers::read_body;
use crate::record::Draft;
use crate::routing::{Needs, failover};

/// What a multipart door needs from its form.
#[derive(Debug, Clone, Copy)]
pub(super) struct Door {
    pub endpoint: MediaEndpoint,
    /// The file field it cannot do without (`file`, `image`), and the param its errors name.
    pub file: &'static str,
    /// Another name the same file may come under (`image[]` for several images).
    pub file_alias: Option<&'static str>,
    /// Text fields it cannot do without (besides `model`).
    pub required: &'static [&'static str],
    /// The answer must be JSON (images); audio answers may be text, SRT or VTT.
    pub json_answer: bool,
}

/// Serves one request on a multipart door.
pub(super) async fn serve(
    state: &AppState,
    caller: CallerExt,
    draft: &Draft,
    req: Request,
    door: Door,
) -> Response {
    match forward(state, &caller, draft, req, door).await {
        Ok(response) => response,
        Err(e) => fail(draft, e),
    }
}

async fn forward(
    state: &AppState,
    caller: &CallerExt,
    draft: &Draft,
    req: Request,
    door: Door,
) -> Result<Response, ApiError> {
    let runtime = state.runtime.load_full();
    let form = read_form(req, runtime.config.limits.max_upload_bytes, door.file).await?;
    draft.update(|d| d.request_body = Some(form.summary()));
    let model = form
        .text("model")
        .filter(|m| !m.is_empty())
        .ok_or_else(|| {
            ApiError::invalid_request("model: required (a form field naming the model)")
                .with_param("model")
        })?
        .to_owned();
    doors::check(caller, draft, &model)?;
    if !form
        .parts
        .iter()
        .any(|p| p.name == door.file || Some(p.name.as_str()) == door.file_alias)
    {
        return Err(ApiError::invalid_request(format!(
            "{}: required (a file field of the multipart form)",
            door.file
        ))
        .with_param(door.file));
    }
    if door.endpoint == MediaEndpoint::ImageEdits
        && let Some(n) = form.text("n")
    {
        // A form field is text: read it as the JSON number it stands for.
        let n = serde_json::from_str(n.trim())
            .unwrap_or_else(|_| serde_json::Value::String(n.to_owned()));
        doors::check_n(Some(&n), doors::MAX_IMAGES)?;
    }
    for field in door.required {
        if form.text(field).is_none_or(str::is_empty) {
            return Err(ApiError::invalid_request(format!("{field}: required")).with_param(*field));
        }
    }
    let route = runtime
        .resolve(&model)
        .ok_or_else(|| ApiError::model_not_found(&model))?;
    let deadline = Instant::now() + runtime.config.timeouts.total;
    let parts = &form.parts;
    let mut ok = failover::execute(
        &route,
        &Needs::default(),
        &runtime.config.retry,
        deadline,
        |t| async move {
            let response = t.provider.post_form(door.endpoint, parts, &t.model).await?;
            let content_type = response.headers().get(header::CONTENT_TYPE).cloned();
            let body = Bytes::from(read_body(response).await?);
            if door.json_answer && serde_json::from_slice::<serde_json::Value>(&body).is_err() {
                return Err(UpstreamError::Protocol("the answer is not JSON".into()));
            }
            Ok((content_type, body))
        },
    )
    .await?;
    note_target(draft, &runtime, &ok);
    let served = Served::new(&mut ok);
    let (content_type, body) = ok.value;
    draft.update(|d| d.response_body = Some(body.clone()));
    let content_type = content_type.unwrap_or_else(|| HeaderValue::from_static("application/json"));
    let mut response =
        (StatusCode::OK, [(header::CONTENT_TYPE, content_type)], body).into_response();
    served.headers(response.headers_mut());
    Ok(response)
}

/// A multipart form, read whole.
#[derive(Debug)]
pub(super) struct Form {
    pub parts: Vec<FormPart>,
}

impl Form {
    /// The first plain (non-file) field with this name, when it is UTF-8.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.parts
            .iter()
            .find(|p| p.name == name && p.file_name.is_none())
            .and_then(|p| std::str::from_utf8(&p.data).ok())
    }

    /// What the request log keeps of the form: its text fields, and each file's name, type and
    /// size (never the file itself).
    fn summary(&self) -> Bytes {
        let mut fields = serde_json::Map::new();
        let mut files = Vec::new();
        for p in &self.parts {
            match (&p.file_name, std::str::from_utf8(&p.data)) {
                (None, Ok(text)) => {
                    fields.insert(p.name.clone(), text.into());
                }
                _ => files.push(serde_json::json!({
                    "field": p.name,
                    "filename": p.file_name,
                    "content_type": p.content_type,
                    "bytes": p.data.len(),
                })),
            }
        }
        let summary = serde_json::json!({"fields": fields, "files": files});
        Bytes::from(serde_json::to_vec(&summary).unwrap_or_default())
    }
}

/// The most fields and files a form may have: OpenAI's forms have a dozen fields and at most 16
/// images; many more only serve to make the gateway work.
const MAX_PARTS: usize = 256;

/// Reads a `multipart/form-data` body of at most `limit` bytes of content; `param` is the file
/// field that errors about the body as a whole name.
pub(super) async fn read_form(
    req: Request,
    limit: usize,
    param: &'static str,
) -> Result<Form, ApiError> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let mime = content_type.split(';').next().unwrap_or_default().trim();
    if !mime.eq_ignore_ascii_case("multipart/form-data") {
        let got = if mime.is_empty() {
            "no Content-Type".to_owned()
        } else {
            format!("Content-Type {mime:?}")
        };
        return Err(ApiError::invalid_request(format!(
            "This endpoint takes a multipart/form-data upload (the `{param}` and its fields), not {got}."
        ))
        .with_param(param));
    }
    // RFC 2046 caps boundaries at 70 characters; longer ones only serve to slow parsers down.
    let boundary = content_type
        .split(';')
        .filter_map(|p| p.trim().split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("boundary"))
        .map(|(_, v)| v.trim().trim_matches('"'));
    if boundary.is_some_and(|b| b.len() > 70) {
        return Err(ApiError::invalid_request(
            "The multipart boundary is longer than 70 characters (RFC 2046).",
        )
        .with_param(param));
    }
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    // The form's framing adds a little to its content: allow for it before reading anything.
    let slack = 64 * 1024;
    if declared.is_some_and(|n| n > u64::try_from(limit.saturating_add(slack)).unwrap_or(u64::MAX))
    {
        return Err(too_large(limit, param));
    }
    let malformed = |e: &dyn std::fmt::Display| {
        ApiError::invalid_request(format!("The multipart body is malformed: {e}."))
            .with_param(param)
    };
    let mut multipart = Multipart::from_request(req, &())
        .await
        .map_err(|e| malformed(&e.body_text()))?;
    let mut parts = Vec::new();
    let mut total = 0usize;
    while let Some(mut field) = multipart
        .next_field()
        .await
        .map_err(|e| malformed(&e.body_text()))?
    {
        if parts.len() == MAX_PARTS {
            return Err(ApiError::invalid_request(format!(
                "The form has more than {MAX_PARTS} parts."
            ))
            .with_param(param));
        }
        let Some(name) = field.name().filter(|n| !n.is_empty()).map(str::to_owned) else {
            return Err(malformed(&"a part has no field name"));
        };
        let file_name = field.file_name().map(str::to_owned);
        let content_type = field.content_type().map(str::to_owned);
        let mut data = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(|e| malformed(&e.body_text()))? {
            total += chunk.len();
            if total > limit {
                return Err(too_large(limit, param));
            }
            data.extend_from_slice(&chunk);
        }
        parts.push(FormPart {
            name,
            file_name,
            content_type,
            data: Bytes::from(data),
        });
    }
    Ok(Form { parts })
}

fn too_large(limit: usize, param: &str) -> ApiError {
    #[expect(
        clippy::cast_precision_loss,
        reason = "a size shown to one decimal place"
    )]
    let mib = limit as f64 / (1024.0 * 1024.0);
    ApiError::of(ErrorCode::RequestTooLarge, format!(
            "The upload is larger than this gateway accepts ({limit} bytes, {mib:.1} MiB). Send a smaller file, or raise `limits.max_upload_bytes` in the gateway's config."
        ))
    .with_param(param)
}
