//! Where the `/mcp` image tools may read images from, for a caller that may be hostile: files
//! inside the allowed folders only (the data folder's `images/` and `mcp.image_folders`, checked
//! after `..` and symlinks are resolved, with one answer for "missing" and "not allowed"), and
//! http(s) URLs whose addresses are public, checked on every redirect, at the moment of
//! connecting, unless `mcp.allow_private_urls` says otherwise. Must not contain tool logic.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use reqwest::Url;
use tokio::io::AsyncReadExt as _;

use crate::error::{ApiError, ErrorCode};

/// Images read from a path or URL may be this large.
pub const MAX_IMAGE_BYTES: usize = 20 * 1024 * 1024;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest silence while reading an answer.
const READ_TIMEOUT: Duration = Duration::from_secs(30);
/// The whole fetch, redirects included.
const TOTAL_TIMEOUT: Duration = Duration::from_secs(60);
const MAX_REDIRECTS: usize = 5;

fn refused(message: String, code: ErrorCode) -> ApiError {
    ApiError::of(code, message).with_param("image")
}

fn too_large(what: &str) -> ApiError {
    refused(
        format!("{what} is larger than {} MB", MAX_IMAGE_BYTES / 1024 / 1024),
        ErrorCode::ImageTooLarge,
    )
}

/// Reads an image file named by the caller, if it lies inside one of `roots` once `..` and
/// symlinks are resolved. A missing file, one outside the folders, a folder or a device all get
/// the same answer, so the tool cannot be used to learn which paths exist.
pub async fn read_file(named: &str, roots: &[PathBuf]) -> Result<Vec<u8>, ApiError> {
    let path = if named.starts_with("file:") {
        Url::parse(named).ok().and_then(|u| u.to_file_path().ok())
    } else if let Some(rest) = named.strip_prefix("~/") {
        dirs::home_dir().map(|h| h.join(rest))
    } else {
        Some(PathBuf::from(named))
    };
    let Some(path) = path.filter(|p| p.is_absolute()) else {
        return Err(refused(
            format!("image: {named:?} is not an absolute path, an http(s) URL or a data: URL"),
            ErrorCode::InvalidImage,
        ));
    };
    let not_allowed = || {
        let folders: Vec<String> = roots.iter().map(|r| r.display().to_string()).collect();
        refused(
            format!(
                "image: {named:?} is not a file this gateway may read. Files must be in {} (more folders can be listed in mcp.image_folders), or send an http(s) or data: URL.",
                folders.join(", ")
            ),
            ErrorCode::ImageNotAllowed,
        )
    };
    let Ok(real) = tokio::fs::canonicalize(&path).await else {
        return Err(not_allowed());
    };
    let mut inside = false;
    for root in roots {
        if let Ok(root) = tokio::fs::canonicalize(root).await
            && real.starts_with(&root)
        {
            inside = true;
            break;
        }
    }
    // Only regular files: a FIFO or a device would hang or never end.
    let meta = match tokio::fs::metadata(&real).await {
        Ok(meta) if inside && meta.is_file() => meta,
        _ => return Err(not_allowed()),
    };
    if meta.len() > MAX_IMAGE_BYTES as u64 {
        return Err(too_large(named));
    }
    let file = tokio::fs::File::open(&real)
        .await
        .map_err(|_| not_allowed())?;
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(MAX_IMAGE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .await
        .map_err(|_| not_allowed())?;
    if bytes.len() > MAX_IMAGE_BYTES {
        return Err(too_large(named));
    }
    Ok(bytes)
}

/// Whether an address is one a fetch may reach without `mcp.allow_private_urls`: not loopback,
/// private, link-local (cloud metadata included), shared (CGNAT), unique-local, unspecified,
/// multicast, documentation or otherwise reserved; IPv6 forms that embed an IPv4 address are
/// judged by that address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return public_v4(v4);
            }
            let s = v6.segments();
            let embedded = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
            match s {
                // ::/96: unspecified, loopback and the old IPv4-compatible form.
                [0, 0, 0, 0, 0, 0, _, _] => false,
                // NAT64 (64:ff9b::/96) reaches the IPv4 address it embeds; the local-use /48 is private.
                [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => public_v4(embedded(hi, lo)),
                [0x64, 0xff9b, ..] => false,
                // 6to4 embeds the IPv4 address of its relay.
                [0x2002, hi, lo, ..] => public_v4(embedded(hi, lo)),
                // Teredo and documentation.
                [0x2001, 0, ..] | [0x2001, 0xdb8, ..] => false,
                // Otherwise only global unicast (2000::/3): no unique-local, link-local, multicast.
                [first, ..] => first & 0xe000 == 0x2000,
            }
        }
    }
}

fn public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    let reserved = a == 0                          // "this network", 0.0.0.0 included
        || a == 10                                 // private
        || a == 127                                // loopback
        || (a == 100 && (b & 0xc0) == 64)          // shared address space (CGNAT)
        || (a == 169 && b == 254)                  // link-local, cloud metadata
        || (a == 172 && (b & 0xf0) == 16)          // private
        || (a == 192 && b == 168)                  // private
        || (a == 192 && b == 0 && (c == 0 || c == 2)) // protocol assignments, documentation
        || (a == 198 && (b & 0xfe) == 18)          // benchmarking
        || (a == 198 && b == 51 && c == 100)       // documentation
        || (a == 203 && b == 0 && c == 113)        // documentation
        || a >= 224; // multicast, reserved, broadcast
    !reserved
}

/// A name that resolved only to addresses a fetch may not reach.
#[derive(Debug, thiserror::Error)]
#[error("{0} resolves only to private or local addresses")]
struct NotPublic(String);

/// Resolves names for the strict client and keeps only public addresses: the connection goes to
/// an address this check passed, so a name cannot be re-pointed between check and connect.
struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found = tokio::net::lookup_host((host.as_str(), 0)).await?;
            let public: Vec<SocketAddr> = found.filter(|a| is_public(a.ip())).collect();
            if public.is_empty() {
                return Err(Box::new(NotPublic(host)) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(public.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The HTTP clients the image tools fetch with, built once: redirects are followed here, not by
/// reqwest, and no proxy is used, so the address checked is the address connected to.
#[derive(Default)]
pub struct Fetcher {
    strict: OnceLock<reqwest::Client>,
    open: OnceLock<reqwest::Client>,
}

impl Fetcher {
    fn client(&self, allow_private: bool) -> Result<&reqwest::Client, ApiError> {
        let cell = if allow_private {
            &self.open
        } else {
            &self.strict
        };
        if let Some(client) = cell.get() {
            return Ok(client);
        }
        crate::providers::install_crypto_provider();
        let mut builder = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(CONNECT_TIMEOUT)
            .read_timeout(READ_TIMEOUT)
            .timeout(TOTAL_TIMEOUT)
            .user_agent(concat!("switchyard/", env!("CARGO_PKG_VERSION")));
        if !allow_private {
            builder = builder.dns_resolver(Arc::new(PublicOnly));
        }
        let client = builder
            .build()
            .map_err(|e| ApiError::internal(format!("cannot build the HTTP client: {e}")))?;
        Ok(cell.get_or_init(|| client))
    }

    /// Fetches an http(s) URL, following up to five redirects, each checked like the first.
    pub async fn fetch(&self, url: &str, allow_private: bool) -> Result<Vec<u8>, ApiError> {
        let client = self.client(allow_private)?;
        fetch_with(client, url, |u| check_url(u, allow_private)).await
    }
}

/// Refuses URLs that are not http(s), carry credentials, or name a non-public address literally
/// (names are checked by [`PublicOnly`] as they are resolved).
fn check_url(url: &Url, allow_private: bool) -> Result<(), ApiError> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(refused(
            format!("image: {} is not an http(s) URL", shown(url)),
            ErrorCode::InvalidImage,
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(refused(
            "image: URLs with a user name or password are not fetched".into(),
            ErrorCode::InvalidImage,
        ));
    }
    let Some(host) = url.host_str() else {
        return Err(refused(
            format!("image: {} has no host", shown(url)),
            ErrorCode::InvalidImage,
        ));
    };
    let literal = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>();
    match literal {
        Ok(ip) if !allow_private && !is_public(ip) => Err(private_refusal(host)),
        _ => Ok(()),
    }
}

/// A URL as errors and the log show it: without its query, fragment and credentials, where
/// signed URLs keep their tokens.
fn shown(url: &Url) -> String {
    let mut shown = url.clone();
    shown.set_query(None);
    shown.set_fragment(None);
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.to_string()
}

fn private_refusal(host: &str) -> ApiError {
    refused(
        format!(
            "image: {host} is a private or local address, which the gateway does not fetch from; set mcp.allow_private_urls = true to allow it"
        ),
        ErrorCode::ImageUrlNotAllowed,
    )
}

/// The fetch loop: `check` runs on the first URL and on every redirect target before it is
/// requested.
async fn fetch_with(
    client: &reqwest::Client,
    url: &str,
    check: impl Fn(&Url) -> Result<(), ApiError>,
) -> Result<Vec<u8>, ApiError> {
    let mut url = Url::parse(url).map_err(|e| {
        refused(
            format!("image: not a valid URL: {e}"),
            ErrorCode::InvalidImage,
        )
    })?;
    for _ in 0..=MAX_REDIRECTS {
        check(&url)?;
        let response = client
            .get(url.clone())
            .send()
            .await
            .map_err(|e| send_error(&url, &e))?;
        let status = response.status();
        if status.is_redirection()
            && let Some(location) = response.headers().get(reqwest::header::LOCATION)
        {
            let next = location
                .to_str()
                .ok()
                .and_then(|l| url.join(l).ok())
                .ok_or_else(|| {
                    refused(
                        format!("image: {} redirected to an invalid location", shown(&url)),
                        ErrorCode::ImageFetchFailed,
                    )
                })?;
            url = next;
            continue;
        }
        if !status.is_success() {
            return Err(refused(
                format!("image: fetching {} answered {status}", shown(&url)),
                ErrorCode::ImageFetchFailed,
            ));
        }
        return read_body(response, &url).await;
    }
    Err(refused(
        format!(
            "image: more than {MAX_REDIRECTS} redirects, the last to {}",
            shown(&url)
        ),
        ErrorCode::ImageFetchFailed,
    ))
}

async fn read_body(mut response: reqwest::Response, url: &Url) -> Result<Vec<u8>, ApiError> {
    if response
        .content_length()
        .is_some_and(|n| n > MAX_IMAGE_BYTES as u64)
    {
        return Err(too_large(&shown(url)));
    }
    let mut out = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| send_error(url, &e))? {
        if out.len() + chunk.len() > MAX_IMAGE_BYTES {
            return Err(too_large(&shown(url)));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

fn send_error(url: &Url, e: &reqwest::Error) -> ApiError {
    let mut source: Option<&dyn std::error::Error> = Some(e);
    while let Some(err) = source {
        if let Some(NotPublic(host)) = err.downcast_ref::<NotPublic>() {
            return private_refusal(host);
        }
        source = err.source();
    }
    let why = if e.is_timeout() {
        "timed out".to_owned()
    } else if e.is_connect() {
        "could not connect".to_owned()
    } else {
        e.to_string()
    };
    refused(
        format!("image: cannot fetch {}: {why}", shown(url)),
        ErrorCode::ImageFetchFailed,
    )
}

/// The folders image files may be read from: the data folder's `images/` (where
/// `generate_image` writes) and the configured ones.
pub fn allowed_folders(data_dir: &Path, configured: &[PathBuf]) -> Vec<PathBuf> {
    std::iter::once(data_dir.join("images"))
        .chain(configured.iter().cloned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_pass() {
        for private in [
            "127.0.0.1",
            "127.255.0.9",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.255",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "192.0.2.10",
            "::",
            "::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "ff02::1",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::",
            "2001:db8::1",
        ] {
            let ip: IpAddr = private.parse().unwrap();
            assert!(!is_public(ip), "{private} must not pass");
        }
        for public in [
            "1.1.1.1",
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "169.253.1.1",
            "2606:4700::1111",
            "::ffff:1.1.1.1",
            "64:ff9b::101:101",
        ] {
            let ip: IpAddr = public.parse().unwrap();
            assert!(is_public(ip), "{public} must pass");
        }
    }

    #[test]
    fn literal_addresses_are_checked_in_every_spelling() {
        for url in [
            "http://127.0.0.1:9/x.png",
            "http://2130706433/x.png",
            "http://0x7f000001/x.png",
            "http://[::1]/x.png",
            "http://[::ffff:7f00:1]/x.png",
            "http://169.254.169.254/latest/meta-data",
        ] {
            let err = check_url(&Url::parse(url).unwrap(), false).unwrap_err();
            assert_eq!(
                err.inner().code.as_deref(),
                Some("image_url_not_allowed"),
                "{url}"
            );
            assert!(check_url(&Url::parse(url).unwrap(), true).is_ok(), "{url}");
        }
        for url in [
            "file:///etc/passwd",
            "ftp://example.com/x.png",
            "http://u:p@example.com/",
        ] {
            assert!(check_url(&Url::parse(url).unwrap(), true).is_err(), "{url}");
        }
        assert!(check_url(&Url::parse("https://example.com/x.png").unwrap(), false).is_ok());
        let signed = Url::parse("https://u:p@cdn.example/a.png?sig=SECRET#f").unwrap();
        assert_eq!(shown(&signed), "https://cdn.example/a.png");
    }

    #[tokio::test]
    async fn names_that_resolve_to_local_addresses_are_refused_before_connecting() {
        use reqwest::dns::Resolve as _;
        let err = PublicOnly
            .resolve("localhost".parse().unwrap())
            .await
            .err()
            .unwrap();
        assert!(err.is::<NotPublic>(), "{err}");
        // Through the client: the refusal names the setting that allows it.
        let fetcher = Fetcher::default();
        let err = fetcher
            .fetch("http://localhost:9/x.png", false)
            .await
            .unwrap_err();
        assert_eq!(
            err.inner().code.as_deref(),
            Some("image_url_not_allowed"),
            "{}",
            err.message()
        );
        assert!(err.message().contains("mcp.allow_private_urls"));
    }

    /// A loopback server answering every request with a redirect to `location`, counting hits.
    async fn redirector(location: String) -> (SocketAddr, Arc<std::sync::atomic::AtomicUsize>) {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let hits = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = hits.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let mut buf = [0u8; 4096];
                let _ = socket.read(&mut buf).await;
                let answer = format!(
                    "HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                );
                let _ = socket.write_all(answer.as_bytes()).await;
            }
        });
        (addr, hits)
    }

    #[tokio::test]
    async fn every_redirect_is_checked_before_it_is_followed() {
        // The second server is where the redirect points; it must never be asked.
        let (inner, inner_hits) = redirector("/nowhere".into()).await;
        let (outer, outer_hits) = redirector(format!("http://{inner}/secret.png")).await;
        let fetcher = Fetcher::default();
        let client = fetcher.client(true).unwrap();
        // Stands in for "a public first hop": only the outer server's address passes.
        let check = |u: &Url| {
            if u.port() == Some(outer.port()) {
                Ok(())
            } else {
                Err(private_refusal(u.host_str().unwrap_or_default()))
            }
        };
        let err = fetch_with(client, &format!("http://{outer}/start.png"), check)
            .await
            .unwrap_err();
        assert_eq!(err.inner().code.as_deref(), Some("image_url_not_allowed"));
        assert_eq!(outer_hits.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert_eq!(inner_hits.load(std::sync::atomic::Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn a_redirect_loop_ends_after_five_hops() {
        let (addr, hits) = redirector("/again".into()).await;
        let fetcher = Fetcher::default();
        let err = fetcher
            .fetch(&format!("http://{addr}/start.png"), true)
            .await
            .unwrap_err();
        assert!(
            err.message().contains("more than 5 redirects"),
            "{}",
            err.message()
        );
        assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 6);
    }
}
