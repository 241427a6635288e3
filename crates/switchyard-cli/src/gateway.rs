//! A running gateway over HTTP, for the commands that need what only it knows (`routing`'s
//! live figures, `pools rebuild`'s fresh model lists): where it listens (`--url`, else the
//! config's `listen`) and the key it wants (from `SWITCHYARD_API_KEY`, never argv). Everything
//! else the CLI does edits or reads the config file and needs no gateway.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use serde_json::Value;
use switchyard_core::config::Config;

use crate::logdb::Failure;

/// The environment variable the admin key is read from.
pub const KEY_ENV: &str = "SWITCHYARD_API_KEY";

/// `POST /admin/pools/rebuild` reads every provider's model list: give it time.
const TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Debug, clap::Args)]
pub struct Remote {
    /// The running gateway, e.g. http://127.0.0.1:7137 [default: the config's `listen`]
    #[arg(long, env = "SWITCHYARD_URL")]
    url: Option<String>,
}

impl Remote {
    /// `http://HOST:PORT`, without `/v1` or a final slash.
    pub fn root(&self, config: &Config) -> String {
        match &self.url {
            Some(url) => url.trim_end_matches('/').trim_end_matches("/v1").to_owned(),
            None => {
                let mut addr = config.listen;
                // A gateway listening on every address is reached on loopback.
                match addr.ip() {
                    IpAddr::V4(ip) if ip.is_unspecified() => {
                        addr.set_ip(Ipv4Addr::LOCALHOST.into())
                    }
                    IpAddr::V6(ip) if ip.is_unspecified() => {
                        addr.set_ip(Ipv6Addr::LOCALHOST.into())
                    }
                    _ => {}
                }
                format!("http://{addr}")
            }
        }
    }
}

/// Calls the admin API of the gateway at `root` and returns its JSON answer; an error answer
/// becomes its message, with what to do about a missing or weak key.
pub async fn admin(root: &str, method: reqwest::Method, path: &str) -> Result<Value, Failure> {
    switchyard_core::providers::install_crypto_provider();
    let client = reqwest::Client::builder()
        // A proxy from the environment must never see the admin key or stand in for loopback.
        .no_proxy()
        .timeout(TIMEOUT)
        .build()
        .map_err(|e| Failure::Message(format!("cannot make an HTTP client: {e}")))?;
    let url = format!("{root}{path}");
    let mut request = client.request(method.clone(), &url);
    if let Some(key) = std::env::var(KEY_ENV).ok().filter(|k| !k.trim().is_empty()) {
        request = request.bearer_auth(key.trim());
    }
    let response = request.send().await.map_err(|e| {
        if e.is_connect() {
            Failure::Message(format!(
                "no gateway answers at {root}: start one with `switchyard serve`, or name it with --url"
            ))
        } else {
            Failure::Message(format!("{method} {url}: {e}"))
        }
    })?;
    let status = response.status();
    let body = response
        .bytes()
        .await
        .map_err(|e| Failure::Message(format!("{method} {url}: {e}")))?;
    let json: Option<Value> = serde_json::from_slice(&body).ok();
    if status.is_success() {
        return json.ok_or_else(|| {
            Failure::Message(format!(
                "{method} {url}: the answer is not JSON; is {root} a Switchyard gateway?"
            ))
        });
    }
    let message = json
        .as_ref()
        .and_then(|j| j["error"]["message"].as_str())
        .map_or_else(
            || String::from_utf8_lossy(&body).trim().to_owned(),
            str::to_owned,
        );
    let hint = match status.as_u16() {
        401 => format!(
            "\nexport {KEY_ENV} with an admin key (`switchyard keys create cli --role admin`){}",
            if method == reqwest::Method::GET {
                " or a read-only one"
            } else {
                ""
            }
        ),
        403 if method != reqwest::Method::GET => {
            format!("\n{KEY_ENV} must hold an admin key for this")
        }
        _ => String::new(),
    };
    Err(Failure::Message(format!(
        "{root} answered {status}: {message}{hint}"
    )))
}
