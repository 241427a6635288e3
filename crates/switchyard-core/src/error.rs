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
    /// Tried as the offline fallback, after every member failed to connect.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub fallback: bool,
}

impl Attempt {
    /// A member left out because it cannot serve the request (`skipped(image)`).
    pub fn skipped(target: &str, why: &str) -> Self {
        Self {
            target: target.to_owned(),
            outcome: format!("skipped({why})"),
            status: None,
            message: None,
            elapsed_ms: 0,
            fallback: false,
        }
    }
}

/// Renders the attempt trail for the `x-switchyard-attempts` header: `target=outcome; …`,
/// led by `strategy=…` for a route that chooses, with `fallback=local` before the local models
/// tried offline.
pub fn attempts_header(strategy: Option<&str>, attempts: &[Attempt]) -> Option<HeaderValue> {
    if attempts.is_empty() {
        return None;
    }
    let mut parts = Vec::with_capacity(attempts.len() + 2);
    if let Some(s) = strategy {
        parts.push(format!("strategy={s}"));
    }
    let mut fell_back = false;
    for a in attempts {
        if a.fallback && !fell_back {
            fell_back = true;
            parts.push("fallback=local".to_owned());
        }
        parts.push(format!("{}={}", a.target, a.outcome));
    }
    let text = parts.join("; ");
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

/// Declares [`ErrorCode`] from one table: each code's status, OpenAI `type` and wire `code`.
macro_rules! error_codes {
    ($($(#[doc = $doc:literal])* $code:ident => ($status:ident, $kind:literal, $wire:expr),)*) => {
        /// Every error the gateway itself answers, each with one status, one OpenAI `type` and
        /// the `code` clients and the UI switch on (`None`: the code is `null`). The UI's
        /// `ErrorCode` type is generated from [`ErrorCode::ALL`]. Errors that come from elsewhere
        /// (an upstream's own status and type, an MCP server's refusal) are passed through with
        /// [`ApiError::passthrough`].
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $($(#[doc = $doc])* $code,)*
        }

        impl ErrorCode {
            pub const ALL: &[ErrorCode] = &[$(Self::$code),*];

            /// The one table: status, OpenAI `type`, and the `code` as sent.
            pub const fn parts(self) -> (StatusCode, &'static str, Option<&'static str>) {
                match self {
                    $(Self::$code => (StatusCode::$status, $kind, $wire),)*
                }
            }
        }
    };
}

error_codes! {
    /// The request is wrong in a way its message names (often with `param`).
    InvalidRequest => (BAD_REQUEST, "invalid_request_error", None),
    /// The body is not the JSON this endpoint takes.
    InvalidJson => (BAD_REQUEST, "invalid_request_error", Some("invalid_json")),
    /// A path the client named escapes where it may point.
    InvalidPath => (BAD_REQUEST, "invalid_request_error", Some("invalid_path")),
    /// An image given by reference is larger than the gateway fetches.
    ImageTooLarge => (BAD_REQUEST, "invalid_request_error", Some("image_too_large")),
    /// An MCP request without the session its `initialize` opened.
    McpSessionRequired => (BAD_REQUEST, "invalid_request_error", Some("mcp_session_required")),
    /// A config change that would not validate; nothing was written.
    InvalidConfig => (BAD_REQUEST, "invalid_request_error", Some("invalid_config")),
    /// The config file was written but the gateway cannot run it.
    ApplyFailed => (BAD_REQUEST, "invalid_request_error", Some("apply_failed")),
    /// More than one `Host` header.
    DuplicateHost => (BAD_REQUEST, "invalid_request_error", Some("duplicate_host")),
    /// A `Host` header that is not text.
    BadHost => (BAD_REQUEST, "invalid_request_error", Some("bad_host")),
    /// The request line's authority and `Host` disagree.
    HostMismatch => (BAD_REQUEST, "invalid_request_error", Some("host_mismatch")),
    /// No `Host` header.
    MissingHost => (BAD_REQUEST, "invalid_request_error", Some("missing_host")),
    /// A key is required and none was sent.
    MissingApiKey => (UNAUTHORIZED, "authentication_error", Some("missing_api_key")),
    /// The key sent is not one of this gateway's, or was sent the wrong way.
    InvalidApiKey => (UNAUTHORIZED, "authentication_error", Some("invalid_api_key")),
    /// Not allowed, for the reason the message gives.
    Forbidden => (FORBIDDEN, "permission_error", None),
    /// The key's role does not reach this endpoint.
    InsufficientRole => (FORBIDDEN, "permission_error", Some("insufficient_role")),
    /// The key's allow-list leaves this model out.
    ModelNotAllowed => (FORBIDDEN, "permission_error", Some("model_not_allowed")),
    /// `/mcp` without a key answers loopback callers only.
    McpLoopbackOnly => (FORBIDDEN, "permission_error", Some("mcp_loopback_only")),
    /// The request is addressed to a host the gateway does not answer to.
    HostNotAllowed => (FORBIDDEN, "permission_error", Some("host_not_allowed")),
    /// A browser page from an origin that may not call the gateway.
    OriginNotAllowed => (FORBIDDEN, "permission_error", Some("origin_not_allowed")),
    /// The named provider, alias, key, server or session does not exist.
    NotFound => (NOT_FOUND, "invalid_request_error", Some("not_found")),
    /// No model, alias or assistant by this name.
    ModelNotFound => (NOT_FOUND, "invalid_request_error", Some("model_not_found")),
    /// No provider by this name (the proxy door).
    ProviderNotFound => (NOT_FOUND, "invalid_request_error", Some("provider_not_found")),
    /// No logged request with this id.
    RequestNotFound => (NOT_FOUND, "invalid_request_error", Some("request_not_found")),
    /// No endpoint at this path.
    UnknownRoute => (NOT_FOUND, "invalid_request_error", Some("unknown_route")),
    /// The MCP session is unknown or has ended.
    McpSessionNotFound => (NOT_FOUND, "invalid_request_error", Some("mcp_session_not_found")),
    /// The path exists but not with this method.
    MethodNotAllowed => (METHOD_NOT_ALLOWED, "invalid_request_error", Some("method_not_allowed")),
    /// The body stopped arriving.
    RequestBodyTimeout => (REQUEST_TIMEOUT, "invalid_request_error", Some("request_body_timeout")),
    /// The name is taken, or the file changed under the edit.
    Conflict => (CONFLICT, "invalid_request_error", Some("conflict")),
    /// The gateway runs without a config file to write to.
    NoConfigFile => (CONFLICT, "invalid_request_error", Some("no_config_file")),
    /// The body is larger than the limit that applies.
    RequestTooLarge => (PAYLOAD_TOO_LARGE, "invalid_request_error", Some("request_too_large")),
    /// The request line is longer than the limit.
    UriTooLong => (URI_TOO_LONG, "invalid_request_error", Some("uri_too_long")),
    /// The body's content type is not one this endpoint reads.
    UnsupportedMediaType => (UNSUPPORTED_MEDIA_TYPE, "invalid_request_error", Some("unsupported_media_type")),
    /// The headers are larger than the limit.
    RequestHeaderFieldsTooLarge => (REQUEST_HEADER_FIELDS_TOO_LARGE, "invalid_request_error", Some("request_header_fields_too_large")),
    /// Something failed inside the gateway; the message says what.
    Internal => (INTERNAL_SERVER_ERROR, "server_error", None),
    /// The provider cannot be called as configured (its key, say).
    ProviderMisconfigured => (INTERNAL_SERVER_ERROR, "server_error", Some("provider_misconfigured")),
    /// The upstream answered something the gateway cannot use.
    UpstreamError => (BAD_GATEWAY, "upstream_error", None),
    /// The upstream could not be reached or broke off.
    UpstreamUnavailable => (BAD_GATEWAY, "upstream_error", Some("upstream_unavailable")),
    /// The provider's model list could not be read.
    DiscoveryFailed => (BAD_GATEWAY, "server_error", Some("discovery_failed")),
    /// Every target's circuit breaker is open.
    CircuitOpen => (SERVICE_UNAVAILABLE, "server_error", Some("circuit_open")),
    /// The gateway is paused.
    GatewayPaused => (SERVICE_UNAVAILABLE, "server_error", Some("gateway_paused")),
    /// The request log is off.
    LogDisabled => (SERVICE_UNAVAILABLE, "server_error", Some("log_disabled")),
    /// An MCP server the request needs is not running.
    McpUnavailable => (SERVICE_UNAVAILABLE, "server_error", Some("mcp_unavailable")),
    /// Every MCP session is busy answering.
    McpSessionsFull => (SERVICE_UNAVAILABLE, "server_error", Some("mcp_sessions_full")),
    /// The gateway runs without a database.
    NoDatabase => (SERVICE_UNAVAILABLE, "server_error", Some("no_database")),
    /// A capability pool no enabled model qualifies for.
    PoolEmpty => (SERVICE_UNAVAILABLE, "server_error", Some("pool_empty")),
    /// Every provider that serves the model is disabled.
    NoEnabledTarget => (SERVICE_UNAVAILABLE, "server_error", Some("no_enabled_target")),
    /// No keychain (or key file) answers.
    SecretStoreUnavailable => (SERVICE_UNAVAILABLE, "server_error", Some("secret_store_unavailable")),
    /// The gateway is stopping.
    ShuttingDown => (SERVICE_UNAVAILABLE, "server_error", Some("shutting_down")),
    /// The connection cap is reached.
    TooManyConnections => (SERVICE_UNAVAILABLE, "server_error", Some("too_many_connections")),
    /// The upstream went quiet past a time limit.
    UpstreamTimeout => (GATEWAY_TIMEOUT, "timeout_error", Some("upstream_timeout")),
    /// No target of the alias or pool can take what the request needs (image input, tools).
    NoCapableTarget => (BAD_REQUEST, "invalid_request_error", Some("no_capable_target")),
    /// The request is longer than every target's context window.
    ContextLengthExceeded => (BAD_REQUEST, "invalid_request_error", Some("context_length_exceeded")),
    /// An image reference that is not an absolute path, an http(s) URL or a data: URL, or not an image.
    InvalidImage => (BAD_REQUEST, "invalid_request_error", Some("invalid_image")),
    /// An image file outside the folders the gateway may read.
    ImageNotAllowed => (BAD_REQUEST, "invalid_request_error", Some("image_not_allowed")),
    /// An image URL on a private or local address.
    ImageUrlNotAllowed => (BAD_REQUEST, "invalid_request_error", Some("image_url_not_allowed")),
    /// An image URL that could not be fetched.
    ImageFetchFailed => (BAD_REQUEST, "invalid_request_error", Some("image_fetch_failed")),
    /// `previous_response_id` names a response this gateway does not keep.
    PreviousResponseNotFound => (BAD_REQUEST, "invalid_request_error", Some("previous_response_not_found")),
    /// The MCP server or tool is switched off.
    Disabled => (CONFLICT, "invalid_request_error", Some("disabled")),
    /// The MCP server failed to start or to answer.
    McpServerError => (BAD_GATEWAY, "server_error", Some("mcp_server_error")),
    /// The MCP server did not answer in time.
    McpTimeout => (GATEWAY_TIMEOUT, "server_error", Some("mcp_timeout")),
}

impl ErrorCode {
    /// The `code` as clients see it (`null` for the general kinds).
    pub const fn wire(self) -> Option<&'static str> {
        self.parts().2
    }
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
    /// The strategy of the route tried, for a route that chooses.
    pub strategy: Option<&'static str>,
    pub retry_after: Option<Duration>,
}

impl ApiError {
    /// An error of the gateway's own, its status and type from [`ErrorCode`]'s table.
    pub fn of(code: ErrorCode, message: impl Into<String>) -> Self {
        let (status, kind, wire) = code.parts();
        Self(Arc::new(ApiErrorInner {
            status,
            kind: kind.to_owned(),
            code: wire.map(str::to_owned),
            param: None,
            message: message.into(),
            attempts: Vec::new(),
            strategy: None,
            retry_after: None,
        }))
    }

    /// An error whose status and type come from elsewhere: an upstream's answer, an MCP
    /// server's refusal, a failure that wraps the last attempt's. Its own `code`, if it had one,
    /// goes on with [`ApiError::with_upstream_code`].
    pub fn passthrough(status: StatusCode, kind: &str, message: impl Into<String>) -> Self {
        Self(Arc::new(ApiErrorInner {
            status,
            kind: kind.to_owned(),
            code: None,
            param: None,
            message: message.into(),
            attempts: Vec::new(),
            strategy: None,
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
                strategy: old.strategy,
                retry_after: old.retry_after,
            };
            f(&mut copy);
            Self(Arc::new(copy))
        }
    }

    pub fn with_upstream_code(self, code: &str) -> Self {
        self.edit(|e| e.code = Some(code.to_owned()))
    }

    pub fn with_param(self, param: impl Into<String>) -> Self {
        let param = param.into();
        self.edit(|e| e.param = Some(param))
    }

    pub fn with_attempts(self, attempts: Vec<Attempt>) -> Self {
        self.edit(|e| e.attempts = attempts)
    }

    pub fn with_strategy(self, strategy: Option<&'static str>) -> Self {
        self.edit(|e| e.strategy = strategy)
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
        Self::of(ErrorCode::InvalidRequest, message)
    }

    pub fn model_not_found(model: &str) -> Self {
        Self::of(
            ErrorCode::ModelNotFound,
            format!(
                "The model {model:?} does not exist here. GET /v1/models lists the models and aliases this gateway serves."
            ),
        )
        .with_param("model")
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::of(ErrorCode::Internal, message)
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

/// The shape errors are answered in, chosen by the door a request came through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// `{"error":{message,type,param,code}}`: every door but Anthropic's.
    OpenAi,
    /// `{"type":"error","error":{type,message}}`: `/v1/messages`, and the model list for
    /// Anthropic clients.
    Anthropic,
}

tokio::task_local! {
    static DIALECT: Dialect;
}

impl Dialect {
    /// Runs `f` (a request's whole handling) with errors answered in this dialect.
    pub async fn scope<F: std::future::Future>(self, f: F) -> F::Output {
        DIALECT.scope(self, f).await
    }

    /// The dialect of the request being served; OpenAI's outside any door.
    pub fn current() -> Self {
        DIALECT.try_with(|d| *d).unwrap_or(Self::OpenAi)
    }
}

impl ApiError {
    /// The body, in the dialect of the door serving this request: rendered once, and the same
    /// bytes go to the client and to the request log.
    pub fn render(&self) -> bytes::Bytes {
        let json = match Dialect::current() {
            Dialect::OpenAi => self.openai_json(),
            Dialect::Anthropic => self.anthropic_json(),
        };
        serde_json::to_vec(&json).unwrap_or_default().into()
    }

    /// The response for this error with a body from [`ApiError::render`].
    pub fn into_response_with(self, body: bytes::Bytes) -> Response {
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
        if let Some(value) = attempts_header(self.0.strategy, &self.0.attempts) {
            headers.insert(ATTEMPTS_HEADER, value);
        }
        if let Some(after) = self.0.retry_after {
            let secs = after.as_secs() + u64::from(after.subsec_nanos() > 0);
            if let Ok(v) = HeaderValue::from_str(&secs.max(1).to_string()) {
                headers.insert(header::RETRY_AFTER, v);
            }
        }
        response
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = self.render();
        self.into_response_with(body)
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
                let mut e = ApiError::passthrough(status, kind, message.clone())
                    .with_retry_after(*retry_after);
                if let Some(code) = code {
                    e = e.with_upstream_code(code);
                }
                if let Some(param) = param {
                    e = e.with_param(param.clone());
                }
                e
            }
            Self::Timeout(_) => {
                ApiError::of(ErrorCode::UpstreamTimeout, format!("{target}: {self}"))
            }
            Self::Connect(_) | Self::Io(_) | Self::Protocol(_) => {
                ApiError::of(ErrorCode::UpstreamUnavailable, format!("{target}: {self}"))
            }
            Self::Unsupported { message, param } => {
                let e = ApiError::invalid_request(format!("{target}: {message}"));
                match param {
                    Some(p) => e.with_param(p.clone()),
                    None => e,
                }
            }
            Self::Config(message) => ApiError::of(
                ErrorCode::ProviderMisconfigured,
                format!("{target}: {message}"),
            ),
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Clients and the UI switch on these strings: each names one code, in snake_case.
    #[test]
    fn every_wire_code_is_unique_and_snake_case() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            if let Some(wire) = code.wire() {
                assert!(seen.insert(wire), "{wire} is used by two codes");
                assert!(
                    wire.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                    "{wire}"
                );
            }
            let (status, kind, _) = code.parts();
            assert!(
                status.is_client_error() || status.is_server_error(),
                "{code:?}"
            );
            assert_eq!(
                status.is_server_error(),
                matches!(kind, "server_error" | "upstream_error" | "timeout_error"),
                "{code:?}: a 5xx is a server-side type and a 4xx a client-side one"
            );
        }
    }

    #[test]
    fn a_code_renders_its_status_type_and_code() {
        let e = ApiError::of(ErrorCode::Conflict, "taken").with_param("name");
        assert_eq!(e.status(), StatusCode::CONFLICT);
        assert_eq!(
            e.openai_json(),
            serde_json::json!({"error": {"message": "taken", "type": "invalid_request_error", "param": "name", "code": "conflict"}})
        );
        let e = ApiError::of(ErrorCode::InvalidRequest, "bad");
        assert_eq!(e.openai_json()["error"]["code"], serde_json::Value::Null);
        assert_eq!(e.anthropic_type(), "invalid_request_error");
        assert_eq!(
            ApiError::of(ErrorCode::UpstreamTimeout, "slow").anthropic_type(),
            "timeout_error"
        );
    }
}
