//! Request extractors whose rejections are our own errors: JSON bodies checked for content type
//! (415), size (413), syntax (400) and shape (400 with the offending `param`), never axum's
//! plain-text 422.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;

use switchyard_dialects::error::InvalidRequest;

use crate::error::{ApiError, ErrorCode};
use crate::record::Draft;

/// A request a translation cannot express: a 400 `invalid_request_error` naming its `param`.
impl From<InvalidRequest> for ApiError {
    fn from(e: InvalidRequest) -> Self {
        let error = Self::invalid_request(e.message);
        match e.param {
            Some(param) => error.with_param(param),
            None => error,
        }
    }
}

/// A JSON request body of type `T`.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = json_bytes(req, state).await?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// A JSON request body, unparsed: checked for content type and size, and noted in the log.
pub async fn json_bytes<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    check_content_type(req.headers())?;
    let draft = req.extensions().get::<Draft>().cloned();
    let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large()
        } else {
            ApiError::invalid_request(format!("could not read the request body: {rejection}"))
        }
    })?;
    if let Some(draft) = draft {
        draft.update(|d| d.request_body = Some(bytes.clone()));
    }
    Ok(bytes)
}

/// Query parameters of type `T`; a malformed query is a JSON 400, not axum's plain text.
#[derive(Debug)]
pub struct QueryParams<T>(pub T);

impl<S, T> FromRequestParts<S> for QueryParams<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(v)| QueryParams(v))
            .map_err(|e| ApiError::invalid_request(format!("Bad query string: {}", e.body_text())))
    }
}

/// The request's log draft; detached (recording nothing) outside the recording middleware.
impl<S: Send + Sync> FromRequestParts<S> for Draft {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(parts.extensions.get::<Draft>().cloned().unwrap_or_default())
    }
}

pub fn too_large() -> ApiError {
    ApiError::of(
        ErrorCode::RequestTooLarge,
        "The request body is larger than this gateway accepts (limits.max_body_bytes).",
    )
}

fn check_content_type(headers: &axum::http::HeaderMap) -> Result<(), ApiError> {
    let unsupported = |what: String| {
        ApiError::of(
            ErrorCode::UnsupportedMediaType,
            format!(
                "{what}; send the body as JSON with the header \"Content-Type: application/json\"."
            ),
        )
    };
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Err(unsupported("The request has no Content-Type".into()));
    };
    let value = value.to_str().unwrap_or_default().to_ascii_lowercase();
    let mut parts = value.split(';').map(str::trim);
    let mime = parts.next().unwrap_or_default();
    let json =
        mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"));
    if !json {
        return Err(unsupported(format!("Content-Type {mime:?} is not JSON")));
    }
    for param in parts {
        if let Some(charset) = param.strip_prefix("charset=") {
            let charset = charset.trim_matches('"');
            if charset != "utf-8" && charset != "utf8" {
                return Err(unsupported(format!(
                    "charset {charset:?} is not supported (JSON is UTF-8)"
                )));
            }
        }
    }
    Ok(())
}

/// Parses JSON into `T`, naming the path of a value of the wrong type.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::invalid_request(
            "The request body is empty; send a JSON object.",
        ));
    }
    // The fast path: most bodies are fine. Only a failure pays for path tracking.
    if let Ok(value) = serde_json::from_slice::<T>(bytes) {
        return Ok(value);
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize::<_, T>(&mut de).map_err(|e| {
        if e.inner().is_syntax()
            && let Ok(document) = serde_json::from_slice::<serde_json::Value>(bytes)
        {
            // Valid JSON that serde_json's reader still calls a syntax error: an enum (such as
            // `role`) given a number or `null`. Read from the parsed document instead, which
            // reports it as the type error it is.
            return shape_error::<T>(document);
        }
        let path = e.path().to_string();
        json_error(e.inner(), &path)
    })?;
    de.end().map_err(|e| json_error(&e, "."))?;
    Ok(value)
}

/// The error of reading a valid JSON document as `T`, naming the path of the value at fault.
fn shape_error<T: DeserializeOwned>(document: serde_json::Value) -> ApiError {
    match serde_path_to_error::deserialize::<_, T>(document) {
        Err(e) => json_error(e.inner(), &e.path().to_string()),
        // Not expected (the reader refused it); still a 400, without a param to name.
        Ok(_) => ApiError::invalid_request("The body does not have the shape this endpoint reads."),
    }
}

fn json_error(inner: &serde_json::Error, path: &str) -> ApiError {
    if inner.is_syntax() || inner.is_eof() {
        return ApiError::invalid_request(format!("The body is not valid JSON: {inner}."));
    }
    let text = inner.to_string();
    let message = strip_position(&text);
    let param = if path == "." || path.is_empty() {
        missing_field(message).map(str::to_owned)
    } else {
        Some(path.to_owned())
    };
    match param {
        Some(param) => ApiError::invalid_request(format!("{param}: {message}")).with_param(param),
        None => ApiError::invalid_request(message.to_owned()),
    }
}

fn strip_position(message: &str) -> &str {
    message
        .find(" at line ")
        .map_or(message, |at| &message[..at])
}

fn missing_field(message: &str) -> Option<&str> {
    message.strip_prefix("missing field `")?.split('`').next()
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_dialects::messages::CreateMessage;
    use switchyard_dialects::openai::ChatRequest;

    /// Moved from the wire types' tests (`messages.rs`), which cannot see the server.
    #[test]
    fn message_content_errors_keep_their_path() {
        let e = parse_json::<CreateMessage>(
            br#"{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"image","source":{"type":"base64"}}]}]}"#,
        )
        .unwrap_err();
        let param = e.inner().param.clone().unwrap_or_default();
        assert!(param.starts_with("messages[0].content[1]"), "{param}");
    }

    #[test]
    fn wrong_types_name_their_param() {
        let e = parse_json::<ChatRequest>(
            br#"{"model":"m","messages":[{"role":"robot","content":"x"}]}"#,
        )
        .unwrap_err();
        assert_eq!(e.inner().param.as_deref(), Some("messages[0].role"));
        assert_eq!(e.status(), StatusCode::BAD_REQUEST);
        let e = parse_json::<ChatRequest>(br#"{"model":"m","messages":[],"stream":"yes"}"#)
            .unwrap_err();
        assert_eq!(e.inner().param.as_deref(), Some("stream"));
        let e = parse_json::<ChatRequest>(br#"{"messages":[]}"#).unwrap_err();
        assert_eq!(e.inner().param.as_deref(), Some("model"));
        let e = parse_json::<ChatRequest>(br#"{"model":"m","messages":[],"max_tokens":-1}"#)
            .unwrap_err();
        assert_eq!(e.inner().param.as_deref(), Some("max_tokens"));
    }

    #[test]
    fn valid_json_of_the_wrong_type_is_not_called_invalid_json() {
        for (body, param) in [
            (
                &br#"{"model":"m","messages":[{"role":5,"content":"hi"}]}"#[..],
                "messages[0].role",
            ),
            (
                br#"{"model":"m","messages":[{"role":null,"content":"hi"}]}"#,
                "messages[0].role",
            ),
            (
                br#"{"model":"m","messages":[{"role":"user","content":"hi"}],"n":1e9}"#,
                "n",
            ),
        ] {
            let e = parse_json::<ChatRequest>(body).unwrap_err();
            assert!(!e.message().contains("not valid JSON"), "{}", e.message());
            assert_eq!(e.inner().param.as_deref(), Some(param), "{}", e.message());
            assert!(e.message().starts_with(param), "{}", e.message());
        }
    }

    #[test]
    fn syntax_errors_and_trailing_garbage_are_invalid_json() {
        for body in [
            &b"{\"model\":"[..],
            br#"{"model":"m","messages":[]} x"#,
            br#"{"model":"m",}"#,
            b"\xff\xfe",
        ] {
            let e = parse_json::<ChatRequest>(body).unwrap_err();
            assert!(e.message().contains("not valid JSON"), "{}", e.message());
        }
        let deep = "[".repeat(10_000);
        assert!(parse_json::<serde_json::Value>(deep.as_bytes()).is_err());
    }
}
