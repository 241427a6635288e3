//! The one error type that reaches clients, [`ApiError`], rendered once in OpenAI's JSON shape,
//! and [`UpstreamError`], which classifies what went wrong upstream by retryability so that
//! failover retries connect errors, timeouts, 5xx and 429 but never a client's own 4xx.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
pub use switchyard_dialects::error::UpstreamError;

/// Lists every target tried and how each ended: `alpha/gpt-4o-mini=503, beta/claude=ok`.
pub const ATTEMPTS_HEADER: &str = "x-switchyard-attempts";

/// One try against one target, as reported to clients (header and error body).
#[derive(Debug, Clone, Serialize)]
pub struct Attempt {
    pub target: String,
    /// `ok`, an HTTP status, or a short reason: `connect_error`, `timeout`, `circuit_open`…
    pub outcome: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    pub elapsed_ms: u64,
}

/// Renders the attempt trail for the `x-switchyard-attempts` header: `target=outcome, …`.
pub fn attempts_header(attempts: &[Attempt]) -> Option<HeaderValue> {
    if attempts.is_empty() {
        return None;
    }
    let text = attempts
        .iter()
        .map(|a| format!("{}={}", a.target, a.outcome))
        .collect::<Vec<_>>()
        .join(", ");
    let visible: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .collect();
    HeaderValue::from_str(&visible).ok()
}

/// An error answered to the client. Cheap to move: the details are behind an `Arc`.
#[derive(Debug, Clone)]
pub struct ApiError(Arc<ApiErrorInner>);

#[derive(Debug)]
pub struct ApiErrorInner {
    pub status: StatusCode,
    pub kind: String,
    pub code: Option<String>,
    pub param: Option<String>,
    pub message: String,
    pub attempts: Vec<Attempt>,
    pub retry_after: Option<Duration>,
}

impl ApiError {
    pub fn new(status: StatusCode, kind: &str, message: impl Into<String>) -> Self {
        Self(Arc::new(ApiErrorInner {
            status,
            kind: kind.to_owned(),
            code: None,
            param: None,
            message: message.into(),
            attempts: Vec::new(),
            retry_after: None,
        }))
    }

    fn edit(mut self, f: impl FnOnce(&mut ApiErrorInner)) -> Self {
        if let Some(inner) = Arc::get_mut(&mut self.0) {
            f(inner);
            self
        } else {
            let old = &*self.0;
            let mut copy = ApiErrorInner {
                status: old.status,
                kind: old.kind.clone(),
                code: old.code.clone(),
                param: old.param.clone(),
                message: old.message.clone(),
                attempts: old.attempts.clone(),
                retry_after: old.retry_after,
            };
            f(&mut copy);
            Self(Arc::new(copy))
        }
    }

    pub fn with_code(self, code: &str) -> Self {
        self.edit(|e| e.code = Some(code.to_owned()))
    }

    pub fn with_param(self, param: impl Into<String>) -> Self {
        let param = param.into();
        self.edit(|e| e.param = Some(param))
    }

    pub fn with_attempts(self, attempts: Vec<Attempt>) -> Self {
        self.edit(|e| e.attempts = attempts)
    }

    pub fn with_retry_after(self, after: Option<Duration>) -> Self {
        self.edit(|e| e.retry_after = after)
    }

    pub fn inner(&self) -> &ApiErrorInner {
        &self.0
    }

    pub fn status(&self) -> StatusCode {
        self.0.status
    }

    pub fn message(&self) -> &str {
        &self.0.message
    }

    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request_error", message)
    }

    pub fn model_not_found(model: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            format!(
                "The model {model:?} does not exist here. GET /v1/models lists the models and aliases this gateway serves."
            ),
        )
        .with_code("model_not_found")
        .with_param("model")
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "server_error", message)
    }

    /// The JSON body in OpenAI's shape: `{"error":{message,type,param,code}}`, plus the attempt
    /// trail when there was one.
    pub fn openai_json(&self) -> serde_json::Value {
        let e = &*self.0;
        let mut error = serde_json::json!({
            "message": e.message,
            "type": e.kind,
            "param": e.param,
            "code": e.code,
        });
        if !e.attempts.is_empty() {
            error["attempts"] = serde_json::to_value(&e.attempts).unwrap_or_default();
        }
        serde_json::json!({ "error": error })
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.0.status.as_u16(), self.0.message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self.openai_json()).unwrap_or_default();
        let mut response = (
            self.0.status,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            body,
        )
            .into_response();
        let headers = response.headers_mut();
        if let Some(value) = attempts_header(&self.0.attempts) {
            headers.insert(ATTEMPTS_HEADER, value);
        }
        if let Some(after) = self.0.retry_after {
            let secs = after.as_secs() + u64::from(after.subsec_nanos() > 0);
            if let Ok(v) = HeaderValue::from_str(&secs.max(1).to_string()) {
                headers.insert(header::RETRY_AFTER, v);
            }
        }
        // Lets a door that speaks another dialect render the same error its own way.
        response.extensions_mut().insert(self);
        response
    }
}

/// How an upstream's error looks to the client when it is the final one.
pub trait ToApiError {
    fn to_api_error(&self, target: &str) -> ApiError;
}

impl ToApiError for UpstreamError {
    fn to_api_error(&self, target: &str) -> ApiError {
        match self {
            Self::Status {
                status,
                kind,
                code,
                param,
                message,
                retry_after,
            } => {
                let status = StatusCode::from_u16(*status).unwrap_or(StatusCode::BAD_GATEWAY);
                let mut e =
                    ApiError::new(status, kind, message.clone()).with_retry_after(*retry_after);
                if let Some(code) = code {
                    e = e.with_code(code);
                }
                if let Some(param) = param {
                    e = e.with_param(param.clone());
                }
                e
            }
            Self::Timeout(_) => ApiError::new(
                StatusCode::GATEWAY_TIMEOUT,
                "timeout_error",
                format!("{target}: {self}"),
            )
            .with_code("upstream_timeout"),
            Self::Connect(_) | Self::Io(_) | Self::Protocol(_) => ApiError::new(
                StatusCode::BAD_GATEWAY,
                "upstream_error",
                format!("{target}: {self}"),
            )
            .with_code("upstream_unavailable"),
            Self::Unsupported { message, param } => {
                let e = ApiError::invalid_request(format!("{target}: {message}"));
                match param {
                    Some(p) => e.with_param(p.clone()),
                    None => e,
                }
            }
            Self::Config(message) => ApiError::internal(format!("{target}: {message}"))
                .with_code("provider_misconfigured"),
        }
    }
}

/// The error types Anthropic clients switch on (`anthropic-sdk-python` `types/shared/*`).
const ANTHROPIC_TYPES: &[&str] = &[
    "invalid_request_error",
    "authentication_error",
    "billing_error",
    "permission_error",
    "not_found_error",
    "request_too_large",
    "rate_limit_error",
    "api_error",
    "timeout_error",
    "overloaded_error",
];

impl ApiError {
    /// The Anthropic `error.type`: an Anthropic upstream's own type when it gave one (kept in
    /// `code`), otherwise the one Anthropic uses for the status.
    pub fn anthropic_type(&self) -> &str {
        if let Some(code) = self.0.code.as_deref()
            && ANTHROPIC_TYPES.contains(&code)
        {
            return code;
        }
        match self.0.status.as_u16() {
            401 => "authentication_error",
            402 => "billing_error",
            403 => "permission_error",
            404 => "not_found_error",
            413 => "request_too_large",
            429 => "rate_limit_error",
            504 => "timeout_error",
            503 | 529 => "overloaded_error",
            s if s >= 500 => "api_error",
            _ => "invalid_request_error",
        }
    }

    /// The JSON body in Anthropic's shape, `{"type":"error","error":{type,message}}`, for the
    /// `/v1/messages` door; the attempt trail rides along as in the OpenAI shape.
    pub fn anthropic_json(&self) -> serde_json::Value {
        let mut error = serde_json::json!({
            "type": self.anthropic_type(),
            "message": self.0.message,
        });
        if !self.0.attempts.is_empty() {
            error["attempts"] = serde_json::to_value(&self.0.attempts).unwrap_or_default();
        }
        serde_json::json!({ "type": "error", "error": error })
    }
}
