//! Errors at the translation layer, free of any HTTP type: [`UpstreamError`], what went wrong
//! with an upstream, classified by retryability for failover, and [`InvalidRequest`], a
//! client's request that a translation cannot express. The gateway turns both into its own
//! HTTP error (status, `type`, `code`, `param`); that mapping lives in the core, not here.

use std::time::Duration;

/// What went wrong talking to an upstream, classified for failover.
#[derive(Debug, Clone, thiserror::Error)]
pub enum UpstreamError {
    /// Could not connect (refused, DNS, TLS). Nothing reached the upstream.
    #[error("cannot connect: {0}")]
    Connect(String),
    /// The connection broke before a complete answer (reset, EOF, truncated stream).
    #[error("connection lost: {0}")]
    Io(String),
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// The upstream answered with an error status (or an error event inside a stream).
    #[error("{status} {message}")]
    Status {
        status: u16,
        kind: String,
        code: Option<String>,
        param: Option<String>,
        message: String,
        retry_after: Option<Duration>,
    },
    /// The upstream answered something we cannot read.
    #[error("unreadable answer: {0}")]
    Protocol(String),
    /// The request cannot be expressed for this upstream (a client error, never retried).
    #[error("{message}")]
    Unsupported {
        message: String,
        param: Option<String>,
    },
    /// This provider is misconfigured (for example its key's environment variable is unset).
    #[error("{0}")]
    Config(String),
}

impl UpstreamError {
    /// Worth trying again, on this target later or on the next one now.
    pub fn retryable(&self) -> bool {
        match self {
            Self::Connect(_)
            | Self::Io(_)
            | Self::Timeout(_)
            | Self::Protocol(_)
            | Self::Config(_) => true,
            Self::Status { status, .. } => matches!(*status, 408 | 409 | 429) || *status >= 500,
            Self::Unsupported { .. } => false,
        }
    }

    /// Whether this outcome says the upstream is unhealthy (feeds its circuit breaker).
    pub fn counts_against_upstream(&self) -> bool {
        match self {
            Self::Config(_) | Self::Unsupported { .. } => false,
            Self::Status { status, .. } => *status >= 500 || *status == 429,
            _ => true,
        }
    }

    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// A short machine-readable reason for the attempt trail.
    pub fn outcome(&self) -> String {
        match self {
            Self::Connect(_) => "connect_error".into(),
            Self::Io(_) => "connection_lost".into(),
            Self::Timeout(_) => "timeout".into(),
            Self::Status { status, .. } => status.to_string(),
            Self::Protocol(_) => "bad_response".into(),
            Self::Unsupported { .. } => "unsupported".into(),
            Self::Config(_) => "misconfigured".into(),
        }
    }

    pub fn status_code(&self) -> Option<u16> {
        match self {
            Self::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// The OpenAI error `type` an upstream's HTTP status implies when its body names none.
pub fn default_error_type(status: u16) -> &'static str {
    match status {
        400 | 404 | 409 | 413 | 422 => "invalid_request_error",
        401 => "authentication_error",
        403 => "permission_error",
        429 => "rate_limit_error",
        _ => "server_error",
    }
}

/// A client's request that cannot be translated: the gateway answers it as a 400
/// `invalid_request_error` with this message and `param`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct InvalidRequest {
    pub message: String,
    pub param: Option<String>,
}

impl InvalidRequest {
    /// A field with a bad value: the message starts with the field's path, which is the `param`.
    pub fn at(param: impl Into<String>, message: &str) -> Self {
        let param = param.into();
        Self {
            message: format!("{param}: {message}"),
            param: Some(param),
        }
    }
}
