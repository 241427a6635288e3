//! HTTP/1.1 by hand over one raw `TcpStream`: request heads via `httparse`, bodies by
//! Content-Length or chunked, response heads and chunk framing, and the socket-level moves the
//! faults need (pause while watching for the client to leave, stall, RST). No routing here.

use std::io;
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Largest request head accepted.
const MAX_HEAD: usize = 64 * 1024;
const MAX_HEADERS: usize = 64;

/// One parsed request.
#[derive(Debug)]
pub(crate) struct Request {
    pub method: String,
    /// Path including the query string.
    pub path: String,
    /// Lowercased names, in arrival order.
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
    pub keep_alive: bool,
}

impl Request {
    /// The path without its query string.
    pub(crate) fn route_path(&self) -> &str {
        self.path
            .split_once('?')
            .map_or(self.path.as_str(), |(p, _)| p)
    }
}

/// Framing of the request body, taken from the head.
enum BodyKind {
    Length(usize),
    Chunked,
}

/// One accepted connection with its read buffer and a reusable output buffer.
pub(crate) struct Conn {
    stream: TcpStream,
    buf: BytesMut,
    /// Scratch space for building responses; cleared by each user.
    pub out: Vec<u8>,
}

impl Conn {
    pub(crate) fn new(stream: TcpStream) -> Self {
        Self {
            stream,
            buf: BytesMut::with_capacity(8 * 1024),
            out: Vec::with_capacity(4 * 1024),
        }
    }

    /// Reads more bytes into the buffer; `Ok(0)` at end of stream.
    async fn fill(&mut self) -> io::Result<usize> {
        if self.buf.capacity() - self.buf.len() < 1024 {
            self.buf.reserve(8 * 1024);
        }
        self.stream.read_buf(&mut self.buf).await
    }

    async fn fill_or_eof(&mut self) -> io::Result<()> {
        if self.fill().await? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        Ok(())
    }

    /// Reads the next request; `Ok(None)` when the client closed between requests.
    pub(crate) async fn read_request(&mut self) -> io::Result<Option<Request>> {
        let (mut req, kind, expect_continue) = loop {
            if !self.buf.is_empty() {
                if let Some(parsed) = parse_head(&mut self.buf)? {
                    break parsed;
                }
                if self.buf.len() > MAX_HEAD {
                    return Err(invalid("request head too large"));
                }
            }
            if self.fill().await? == 0 {
                return if self.buf.is_empty() {
                    Ok(None)
                } else {
                    Err(io::ErrorKind::UnexpectedEof.into())
                };
            }
        };
        if expect_continue && self.buf.is_empty() {
            self.stream
                .write_all(b"HTTP/1.1 100 Continue\r\n\r\n")
                .await?;
        }
        req.body = match kind {
            BodyKind::Length(0) => Bytes::new(),
            BodyKind::Length(len) => {
                while self.buf.len() < len {
                    self.fill_or_eof().await?;
                }
                self.buf.split_to(len).freeze()
            }
            BodyKind::Chunked => self.read_chunked().await?,
        };
        Ok(Some(req))
    }

    async fn read_chunked(&mut self) -> io::Result<Bytes> {
        let mut body = BytesMut::new();
        loop {
            let (consumed, size) = loop {
                match httparse::parse_chunk_size(&self.buf) {
                    Ok(httparse::Status::Complete(found)) => break found,
                    Ok(httparse::Status::Partial) => self.fill_or_eof().await?,
                    Err(_) => return Err(invalid("bad chunk size")),
                }
            };
            self.buf.advance(consumed);
            if size == 0 {
                self.skip_trailers().await?;
                return Ok(body.freeze());
            }
            let size = usize::try_from(size).map_err(|_| invalid("chunk too large"))?;
            while self.buf.len() < size + 2 {
                self.fill_or_eof().await?;
            }
            body.extend_from_slice(&self.buf[..size]);
            self.buf.advance(size + 2);
        }
    }

    /// Skips trailer lines up to and including the empty line that ends a chunked body.
    async fn skip_trailers(&mut self) -> io::Result<()> {
        loop {
            match self.buf.windows(2).position(|w| w == b"\r\n") {
                Some(0) => {
                    self.buf.advance(2);
                    return Ok(());
                }
                Some(pos) => self.buf.advance(pos + 2),
                None => self.fill_or_eof().await?,
            }
        }
    }

    /// Writes and flushes the output buffer, leaving it empty.
    pub(crate) async fn write_out(&mut self) -> io::Result<()> {
        let result = self.stream.write_all(&self.out).await;
        self.out.clear();
        result
    }

    /// Waits `delay` while watching the socket. `false` if the client went away meanwhile.
    pub(crate) async fn pause(&mut self, delay: Duration) -> bool {
        let sleep = tokio::time::sleep(delay);
        tokio::pin!(sleep);
        loop {
            tokio::select! {
                () = &mut sleep => return true,
                read = self.stream.read_buf(&mut self.buf) => match read {
                    Ok(0) | Err(_) => return false,
                    Ok(_) => {}
                },
            }
        }
    }

    /// Never answers; returns once the client has gone away.
    pub(crate) async fn wait_gone(&mut self) {
        loop {
            self.buf.clear();
            match self.stream.read_buf(&mut self.buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    }

    /// Makes the coming close of this connection a TCP RST instead of a FIN.
    pub(crate) fn arm_reset(&self) {
        // SO_LINGER 0 turns close() into an abortive close; if it fails the close is a FIN,
        // which the client sees as an early EOF: still a failure before the response ends.
        let _ignored = socket2::SockRef::from(&self.stream).set_linger(Some(Duration::ZERO));
    }
}

fn invalid(msg: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

/// Parses a complete head off the front of `buf`, or `None` if more bytes are needed.
fn parse_head(buf: &mut BytesMut) -> io::Result<Option<(Request, BodyKind, bool)>> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Request::new(&mut headers);
    let head_len = match parsed.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(_) => return Err(invalid("bad request head")),
    };
    let http11 = parsed.version == Some(1);
    let mut keep_alive = http11;
    let mut kind = BodyKind::Length(0);
    let mut expect_continue = false;
    let mut out_headers = Vec::with_capacity(parsed.headers.len());
    for h in parsed.headers.iter() {
        let name = h.name.to_ascii_lowercase();
        let value = String::from_utf8_lossy(h.value).into_owned();
        match name.as_str() {
            "content-length" => {
                let len = value
                    .trim()
                    .parse()
                    .map_err(|_| invalid("bad content-length"))?;
                if !matches!(kind, BodyKind::Chunked) {
                    kind = BodyKind::Length(len);
                }
            }
            "transfer-encoding" if value.to_ascii_lowercase().contains("chunked") => {
                kind = BodyKind::Chunked;
            }
            "connection" => {
                let v = value.to_ascii_lowercase();
                if v.contains("close") {
                    keep_alive = false;
                } else if v.contains("keep-alive") {
                    keep_alive = true;
                }
            }
            "expect" => expect_continue = value.eq_ignore_ascii_case("100-continue"),
            _ => {}
        }
        out_headers.push((name, value));
    }
    let req = Request {
        method: parsed.method.unwrap_or("GET").to_owned(),
        path: origin_form(parsed.path.unwrap_or("/")).to_owned(),
        headers: out_headers,
        body: Bytes::new(),
        keep_alive,
    };
    buf.advance(head_len);
    Ok(Some((req, kind, expect_continue)))
}

/// The path of an absolute-form target (`http://host/v1/models` → `/v1/models`), as a client
/// talking to us as its HTTP proxy sends it; servers must accept that form (RFC 9112 §3.2.2).
fn origin_form(target: &str) -> &str {
    let Some(rest) = target
        .strip_prefix("http://")
        .or_else(|| target.strip_prefix("https://"))
    else {
        return target;
    };
    rest.find('/').map_or("/", |i| &rest[i..])
}

/// How a response body is framed.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Framing {
    Length(usize),
    Chunked,
    /// No body and no content headers at all (204).
    NoContent,
}

/// Appends a response head to `out`.
pub(crate) fn push_head(
    out: &mut Vec<u8>,
    status: u16,
    content_type: &str,
    framing: Framing,
    extra: &[(&str, &str)],
    close: bool,
) {
    out.extend_from_slice(b"HTTP/1.1 ");
    push_decimal(out, usize::from(status));
    out.push(b' ');
    out.extend_from_slice(reason(status).as_bytes());
    if !matches!(framing, Framing::NoContent) {
        out.extend_from_slice(b"\r\ncontent-type: ");
        out.extend_from_slice(content_type.as_bytes());
    }
    match framing {
        Framing::NoContent => {}
        Framing::Length(len) => {
            out.extend_from_slice(b"\r\ncontent-length: ");
            push_decimal(out, len);
        }
        Framing::Chunked => {
            out.extend_from_slice(b"\r\ntransfer-encoding: chunked\r\ncache-control: no-cache");
        }
    }
    for (name, value) in extra {
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
    }
    if close {
        out.extend_from_slice(b"\r\nconnection: close");
    }
    out.extend_from_slice(b"\r\n\r\n");
}

/// Appends one chunk of a chunked body (nothing for empty data: that would end the body).
pub(crate) fn push_chunk(out: &mut Vec<u8>, data: &[u8]) {
    if data.is_empty() {
        return;
    }
    push_hex(out, data.len());
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
}

/// The chunk that ends a chunked body.
pub(crate) const LAST_CHUNK: &[u8] = b"0\r\n\r\n";

fn reason(status: u16) -> &'static str {
    match status {
        529 => "Overloaded",
        _ => http::StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("Status"),
    }
}

fn push_decimal(out: &mut Vec<u8>, mut n: usize) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

fn push_hex(out: &mut Vec<u8>, mut n: usize) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut digits = [0u8; 16];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = HEX[n % 16];
        n /= 16;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_heads_and_chunks() {
        let mut out = Vec::new();
        push_head(
            &mut out,
            529,
            "application/json",
            Framing::Length(12),
            &[("retry-after", "1")],
            true,
        );
        assert_eq!(
            out,
            b"HTTP/1.1 529 Overloaded\r\ncontent-type: application/json\r\ncontent-length: 12\r\nretry-after: 1\r\nconnection: close\r\n\r\n"
        );
        out.clear();
        push_chunk(&mut out, &[b'x'; 26]);
        assert!(out.starts_with(b"1a\r\nxxx"));
        out.clear();
        push_decimal(&mut out, 0);
        push_decimal(&mut out, 1_234_567);
        assert_eq!(out, b"01234567");
    }

    #[test]
    fn parses_heads_incrementally() -> io::Result<()> {
        let mut buf =
            BytesMut::from(&b"POST /v1/x?a=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n"[..]);
        assert!(parse_head(&mut buf)?.is_none());
        buf.extend_from_slice(b"X-Key: V\r\nConnection: close\r\n\r\nhi");
        let Some((req, kind, _)) = parse_head(&mut buf)? else {
            return Err(invalid("expected a head"));
        };
        assert_eq!(req.path, "/v1/x?a=1");
        assert_eq!(req.route_path(), "/v1/x");
        assert_eq!(req.headers[2], ("x-key".to_owned(), "V".to_owned()));
        assert!(!req.keep_alive);
        assert!(matches!(kind, BodyKind::Length(2)));
        assert_eq!(&buf[..], b"hi");
        Ok(())
    }
}
