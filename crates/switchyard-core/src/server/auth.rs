//! Who may call what, decided once per request before any handler runs: the `Host` allow-list
//! (DNS rebinding), the `Origin` check and CORS (hostile pages), client keys and their roles.
//!
//! Every path has a [`Scope`]; paths not listed below are answered 404 here, before any
//! handler, so a new route outside the known prefixes stays unreachable until someone decides
//! who may call it. Loopback callers need no key unless
//! `access.require_key` is set or the gateway listens beyond loopback. Admin routes always need
//! an admin key, or a same-origin request from the built-in UI on loopback.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;
use crate::access::{ClientKey, KEY_PREFIX, Role, find_key};
use crate::config::Config;
use crate::error::{ApiError, ErrorCode};

/// The caller, as established by [`guard`]; handlers read it from the request extensions.
#[derive(Debug, Clone, Default)]
pub struct Caller {
    /// The client key presented, when it matched one.
    pub key: Option<Arc<ClientKey>>,
}

impl Caller {
    pub fn key_name(&self) -> Option<&str> {
        self.key.as_ref().map(|k| k.name.as_str())
    }

    /// Refuses a model the caller's key may not use.
    pub fn check_model(&self, model: &str) -> Result<(), ApiError> {
        match &self.key {
            Some(key) if !key.allows_model(model) => Err(ApiError::of(ErrorCode::ModelNotAllowed, format!(
                    "The key {:?} may not use the model {model:?}; an admin can add it to the key's model list.",
                    key.name
                ))
            .with_param("model")),
            _ => Ok(()),
        }
    }
}

/// What a path does, for deciding who may call it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// No secrets, no side effects: `/`, `/healthz`, the static UI.
    Public,
    /// The model API; `read` is `GET /v1/models`.
    Model { read: bool },
    /// `/metrics` and `/statsz`: counters, no request content.
    Observability,
    /// `/admin` and everything under it.
    Admin { read: bool },
    /// No route of ours: a 404 (with a hint when `/v1` is missing), whoever asks.
    Unrouted,
}

pub fn scope(method: &Method, path: &str) -> Scope {
    let read = matches!(*method, Method::GET | Method::HEAD);
    match path {
        "/" | "/healthz" => Scope::Public,
        "/metrics" | "/statsz" => Scope::Observability,
        _ if path == "/ui" || path.starts_with("/ui/") => Scope::Public,
        _ if path.starts_with("/v1/") => Scope::Model {
            read: read && (path == "/v1/models" || path.starts_with("/v1/models/")),
        },
        // The built-in MCP server: its tools run models, so it is a model route.
        "/mcp" => Scope::Model { read: false },
        // Rerank where Cohere and Jina clients post it.
        "/rerank" | "/v2/rerank" => Scope::Model { read: false },
        // A provider's own API, with its key: model traffic (the handler checks allow-lists).
        _ if path.starts_with("/proxy/") => Scope::Model { read: false },
        _ if path == "/admin" || path.starts_with("/admin/") => Scope::Admin { read },
        _ => Scope::Unrouted,
    }
}

/// Query parameters that look like credentials: keys belong in headers, where they are not
/// logged by every proxy on the way.
const CREDENTIAL_PARAMS: &[&str] = &[
    "api_key",
    "api-key",
    "apikey",
    "key",
    "token",
    "access_token",
];

pub async fn guard(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let has_body = req.headers().contains_key(header::CONTENT_LENGTH)
        || req.headers().contains_key(header::TRANSFER_ENCODING);
    let mut response = check(state, req, next).await;
    if has_body && response.extensions().get::<Refused>().is_some() {
        // The body was never read, so the connection cannot carry another request: say so,
        // rather than let the client find a closed socket on its next one.
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// Marks the answers of refused requests.
#[derive(Debug, Clone, Copy)]
struct Refused;

fn refused(mut response: Response) -> Response {
    response.extensions_mut().insert(Refused);
    response
}

async fn check(state: Arc<AppState>, mut req: Request, next: Next) -> Response {
    let runtime = state.runtime.load();
    let config = &runtime.config;
    let host = match request_host(&req, config) {
        Ok(host) => host,
        Err(response) => return refused(*response),
    };
    let origin = match check_origin(req.headers(), &host, config) {
        Ok(origin) => origin,
        Err(response) => return refused(*response),
    };
    if req.method() == Method::OPTIONS
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
    {
        // A preflight carries no credentials: answer it before auth, never run a handler.
        return preflight(req.headers(), origin.as_ref());
    }
    let scope = scope(req.method(), req.uri().path());
    if scope == Scope::Unrouted {
        // Nothing to protect and nothing to run: say what the client probably meant.
        return super::middleware::unknown_route(req.method(), req.uri().path(), &host);
    }
    let peer_loopback = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        // In-process callers (tests, the desktop shell's own requests) have no socket.
        .is_none_or(|c| is_loopback_peer(c.0));
    if !peer_loopback && req.uri().path() == "/mcp" {
        return refused(
            ApiError::of(
                ErrorCode::McpLoopbackOnly,
                "The MCP endpoint only answers programs on this machine.",
            )
            .into_response(),
        );
    }
    if let Some(query) = req.uri().query() {
        let has_credential = query.split('&').any(|pair| {
            let name = pair.split('=').next().unwrap_or_default();
            CREDENTIAL_PARAMS
                .iter()
                .any(|c| name.eq_ignore_ascii_case(c))
        });
        if has_credential {
            return refused(unauthorized(
                ErrorCode::InvalidApiKey,
                "Keys are not accepted in the URL; send `Authorization: Bearer KEY` instead.",
            ));
        }
    }
    let token = match presented_token(req.headers()) {
        Ok(token) => token,
        Err(response) => return refused(*response),
    };
    let key = token.as_deref().and_then(|t| find_key(&config.keys, t));
    let keys_required = config.keys_required() || !peer_loopback;
    if let (Some(token), None) = (&token, key) {
        // Clients need *some* key and often send a placeholder ("sk-xxx", "ollama"): that is
        // fine while keys are optional. One of our own keys that does not match is not.
        if keys_required || token.starts_with(KEY_PREFIX) {
            return refused(unauthorized(
                ErrorCode::InvalidApiKey,
                "The key is not valid: it was revoked, mistyped, or belongs to another gateway.",
            ));
        }
    }
    let role = key.map(|k| k.role);
    // Roles are not a ladder: a user key (an app) uses models and never reads the admin API;
    // a read-only key (a dashboard) reads both and changes nothing.
    let allowed = match scope {
        Scope::Public | Scope::Unrouted => Ok(()),
        Scope::Model { read } => need(role, |r| r != Role::ReadOnly || read, !keys_required),
        Scope::Observability => need(role, |_| true, !keys_required),
        Scope::Admin { read } => {
            let ui = !keys_required && peer_loopback && from_own_page(req.headers(), &host);
            need(
                role,
                |r| r == Role::Admin || (read && r == Role::ReadOnly),
                ui,
            )
        }
    };
    if let Err(denied) = allowed {
        return refused(match denied {
            Denied::NoKey => unauthorized(
                ErrorCode::MissingApiKey,
                match scope {
                    Scope::Admin { .. } => {
                        "The admin API needs an admin key (`switchyard keys create NAME --role admin`), sent as `Authorization: Bearer KEY`."
                    }
                    _ => {
                        "This gateway requires a client key: send `Authorization: Bearer KEY` (create one with `switchyard keys create NAME`)."
                    }
                },
            ),
            Denied::Role(have) => ApiError::of(
                ErrorCode::InsufficientRole,
                format!(
                    "This key's role ({have}) does not allow this: {}.",
                    match scope {
                        Scope::Admin { read: true } =>
                            "the admin API needs an admin or read-only key",
                        Scope::Admin { read: false } => "changes need an admin key",
                        _ => "read-only keys can list models but not use them",
                    }
                ),
            )
            .into_response(),
        });
    }
    if matches!(scope, Scope::Model { .. })
        && state.paused.load(std::sync::atomic::Ordering::Relaxed)
    {
        return ApiError::of(
            ErrorCode::GatewayPaused,
            "Switchyard is paused; resume it from the tray menu.",
        )
        .into_response();
    }
    req.extensions_mut().insert(Caller { key: key.cloned() });
    let mut response = next.run(req).await;
    if let Some(origin) = origin {
        cors_headers(response.headers_mut(), &origin);
    }
    response
}

enum Denied {
    NoKey,
    Role(Role),
}

/// A key whose role passes `may`, or no key at all on an `open` route. A key that does not pass
/// is refused even where no key would be let in: it says who the caller is.
fn need(role: Option<Role>, may: impl Fn(Role) -> bool, open: bool) -> Result<(), Denied> {
    match role {
        Some(role) if may(role) => Ok(()),
        Some(role) => Err(Denied::Role(role)),
        None if open => Ok(()),
        None => Err(Denied::NoKey),
    }
}

fn unauthorized(code: ErrorCode, message: &str) -> Response {
    let mut response = ApiError::of(code, message).into_response();
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

fn forbidden(code: ErrorCode, message: String) -> Box<Response> {
    Box::new(ApiError::of(code, message).into_response())
}

fn bad_request(code: ErrorCode, message: &str) -> Box<Response> {
    Box::new(ApiError::of(code, message).into_response())
}

/// The one `Host` the request is addressed to, if it is one we answer to.
fn request_host(req: &Request, config: &Config) -> Result<String, Box<Response>> {
    let mut hosts = req.headers().get_all(header::HOST).iter();
    let header_host = hosts.next();
    if hosts.next().is_some() {
        return Err(bad_request(
            ErrorCode::DuplicateHost,
            "More than one Host header.",
        ));
    }
    let header_host = match header_host.map(HeaderValue::to_str) {
        None => None,
        Some(Ok(h)) => Some(h.to_owned()),
        Some(Err(_)) => {
            return Err(bad_request(
                ErrorCode::BadHost,
                "The Host header is not text.",
            ));
        }
    };
    // Absolute-form request lines and HTTP/2 carry an authority of their own: it must pass too,
    // and agree with Host when both are present.
    let authority = req.uri().authority().map(|a| a.as_str().to_owned());
    let host = match (header_host, authority) {
        (Some(h), Some(a)) if !h.eq_ignore_ascii_case(&a) => {
            return Err(bad_request(
                ErrorCode::HostMismatch,
                "The request's authority and Host header disagree.",
            ));
        }
        (Some(h), _) | (None, Some(h)) => h,
        (None, None) => {
            return Err(bad_request(
                ErrorCode::MissingHost,
                "The request has no Host header.",
            ));
        }
    };
    if host_allowed(&host, config) {
        Ok(host)
    } else {
        Err(forbidden(ErrorCode::HostNotAllowed,
            "This gateway only answers requests addressed to localhost, 127.0.0.1 or [::1] (add other names to access.allowed_hosts)."
                .into(),
        ))
    }
}

/// Splits `name:port` / `[v6]:port`; `None` for anything malformed.
fn host_name(host: &str) -> Option<&str> {
    if let Some(rest) = host.strip_prefix('[') {
        let (name, after) = rest.split_once(']')?;
        return (after.is_empty() || after.strip_prefix(':').is_some_and(valid_port))
            .then_some(name);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if valid_port(port) && !name.contains(':') => Some(name),
        Some(_) => None,
        None => Some(host),
    }
}

fn valid_port(port: &str) -> bool {
    !port.is_empty() && port.len() <= 5 && port.parse::<u16>().is_ok_and(|p| p > 0)
}

pub fn is_loopback_host(host: &str) -> bool {
    let Some(name) = host_name(host) else {
        return false;
    };
    let name = name.to_ascii_lowercase();
    // Only canonical spellings: `127.1`, `2130706433` and `localhost.` are refused, because a
    // resolver other than ours may read them differently.
    name == "localhost"
        || (name.ends_with(".localhost") && !name.ends_with('.'))
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn host_allowed(host: &str, config: &Config) -> bool {
    if is_loopback_host(host) {
        return true;
    }
    let Some(name) = host_name(host) else {
        return false;
    };
    let name = name.to_ascii_lowercase();
    if config.access.allowed_hosts.contains(&name) {
        return true;
    }
    // Beyond loopback every request needs a key, so rebinding gains nothing; still, only
    // addresses, not arbitrary names.
    !config.listen.ip().is_loopback() && name.parse::<std::net::IpAddr>().is_ok()
}

fn is_loopback_peer(addr: SocketAddr) -> bool {
    match addr.ip() {
        std::net::IpAddr::V4(v4) => v4.is_loopback(),
        std::net::IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

/// `Some(origin)` when the request comes from a page allowed to call us cross-origin; `None`
/// when it has no Origin or comes from our own pages. Anything else is refused.
fn check_origin(
    headers: &HeaderMap,
    host: &str,
    config: &Config,
) -> Result<Option<String>, Box<Response>> {
    let mut all = headers.get_all(header::ORIGIN).iter();
    let Some(first) = all.next() else {
        return Ok(None);
    };
    if all.next().is_some() {
        return Err(forbidden(
            ErrorCode::OriginNotAllowed,
            "More than one Origin header.".into(),
        ));
    }
    let origin = first.to_str().unwrap_or_default();
    if is_own_origin(origin, host) {
        return Ok(None);
    }
    if config.access.cors_origins.iter().any(|o| o == origin) {
        return Ok(Some(origin.to_owned()));
    }
    Err(forbidden(
        ErrorCode::OriginNotAllowed,
        format!(
            "Requests from the web page at {:?} are not allowed; add its origin to access.cors_origins to allow it.",
            origin.chars().take(200).collect::<String>()
        ),
    ))
}

/// The page was served by this gateway, at the address the request is addressed to.
fn is_own_origin(origin: &str, host: &str) -> bool {
    origin
        .strip_prefix("http://")
        .is_some_and(|rest| rest.eq_ignore_ascii_case(host))
        && is_loopback_host(host)
}

/// A same-origin request from a page of ours: the browser says so, and cannot be made to lie.
fn from_own_page(headers: &HeaderMap, host: &str) -> bool {
    let origin_ok = headers
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok())
        .is_some_and(|o| is_own_origin(o, host));
    let fetch_site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    origin_ok || fetch_site == Some("same-origin")
}

/// The token from `Authorization: Bearer …` (any case), `x-api-key` or `api-key`.
fn presented_token(headers: &HeaderMap) -> Result<Option<String>, Box<Response>> {
    let mut auth = headers.get_all(header::AUTHORIZATION).iter();
    let first = auth.next();
    if auth.next().is_some() {
        return Err(Box::new(unauthorized(
            ErrorCode::InvalidApiKey,
            "More than one Authorization header.",
        )));
    }
    if let Some(value) = first {
        let text = value.to_str().unwrap_or_default().trim();
        // `Bearer ` with nothing after it reaches us as `Bearer`: no token.
        if text.is_empty() || text.eq_ignore_ascii_case("bearer") {
            return Ok(None);
        }
        let token = match text.split_once(' ') {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
            _ => {
                return Err(Box::new(unauthorized(
                    ErrorCode::InvalidApiKey,
                    "Use `Authorization: Bearer KEY`; other schemes are not accepted.",
                )));
            }
        };
        return Ok((!token.is_empty()).then(|| token.to_owned()));
    }
    for name in ["x-api-key", "api-key"] {
        if let Some(v) = headers.get(name) {
            let token = v.to_str().unwrap_or_default().trim();
            return Ok((!token.is_empty()).then(|| token.to_owned()));
        }
    }
    Ok(None)
}

fn preflight(headers: &HeaderMap, origin: Option<&String>) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    let Some(origin) = origin else {
        // Same-origin pages never need a preflight; answer without granting anything.
        return response;
    };
    let h = response.headers_mut();
    cors_headers(h, origin);
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, POST, PUT, PATCH, DELETE, OPTIONS"),
    );
    if let Some(requested) = headers.get(header::ACCESS_CONTROL_REQUEST_HEADERS) {
        h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, requested.clone());
    }
    h.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("600"),
    );
    if headers
        .get("access-control-request-private-network")
        .is_some_and(|v| v == "true")
    {
        h.insert(
            "access-control-allow-private-network",
            HeaderValue::from_static("true"),
        );
    }
    response
}

fn cors_headers(h: &mut HeaderMap, origin: &str) {
    if let Ok(v) = HeaderValue::from_str(origin) {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
    }
    h.append(header::VARY, HeaderValue::from_static("Origin"));
    h.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static(
            "x-switchyard-request-id, x-switchyard-target, x-switchyard-attempts, retry-after",
        ),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_canonical_loopback_names_pass() {
        for ok in [
            "localhost",
            "localhost:7137",
            "127.0.0.1:7137",
            "[::1]:7137",
            "127.0.0.2",
            "app.localhost",
            "LOCALHOST:7137",
        ] {
            assert!(is_loopback_host(ok), "{ok}");
        }
        for bad in [
            "evil.example",
            "evil.example:7137",
            "192.168.1.2:7137",
            "localhost.evil.com",
            "localhost.",
            "localhost.:7137",
            "127.1",
            "2130706433",
            "0x7f000001",
            "0.0.0.0:7137",
            "127.0.0.1.nip.io",
            "localhost:99999",
            "localhost:",
            "[::1",
            "::1",
            "",
        ] {
            assert!(!is_loopback_host(bad), "{bad}");
        }
    }

    #[test]
    fn paths_outside_the_known_prefixes_are_unrouted() {
        assert_eq!(scope(&Method::GET, "/healthz"), Scope::Public);
        assert_eq!(
            scope(&Method::GET, "/v1/models"),
            Scope::Model { read: true }
        );
        assert_eq!(
            scope(&Method::POST, "/v1/chat/completions"),
            Scope::Model { read: false }
        );
        assert_eq!(
            scope(&Method::GET, "/admin/keys"),
            Scope::Admin { read: true }
        );
        // The built-in MCP server runs models: a user key may call it, a read-only key may not.
        assert_eq!(scope(&Method::POST, "/mcp"), Scope::Model { read: false });
        assert_eq!(scope(&Method::GET, "/mcp"), Scope::Model { read: false });
        assert_eq!(
            scope(&Method::DELETE, "/proxy/openai/files/f1"),
            Scope::Model { read: false }
        );
        // Rerank where the Cohere and Jina clients post it; other /v2 paths stay admin.
        assert_eq!(
            scope(&Method::POST, "/v2/rerank"),
            Scope::Model { read: false }
        );
        assert_eq!(scope(&Method::POST, "/v2/chat"), Scope::Unrouted);
        assert_eq!(scope(&Method::POST, "/chat/completions"), Scope::Unrouted);
        // None of these reaches a handler: the router matches paths exactly.
        for tricky in [
            "/ADMIN/keys",
            "//admin",
            "/%61dmin",
            "/admin;x=y",
            "/adminx",
            "/mcp/",
            "/MCP",
            "/other",
        ] {
            assert_eq!(scope(&Method::GET, tricky), Scope::Unrouted, "{tricky}");
        }
        assert_eq!(scope(&Method::GET, "/admin"), Scope::Admin { read: true });
        assert_eq!(
            scope(&Method::GET, "/v1/../admin/keys"),
            Scope::Model { read: false },
            "the router never matches it, and it is not a read of the model list"
        );
    }

    #[test]
    fn keys_are_read_from_the_usual_headers() {
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("bearer  sk-1 "),
        );
        assert_eq!(presented_token(&h).unwrap().as_deref(), Some("sk-1"));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer "));
        assert_eq!(presented_token(&h).unwrap(), None);
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Basic dXNlcjpwdw=="),
        );
        assert!(presented_token(&h).is_err());
        let mut h = HeaderMap::new();
        h.insert("x-api-key", HeaderValue::from_static("sk-2"));
        assert_eq!(presented_token(&h).unwrap().as_deref(), Some("sk-2"));
    }
}
