//! Takes a provider's own key out of what its upstream answers, before any of it reaches a
//! client, the request log or the gateway's log. An upstream (or a proxy in front of it) that
//! echoes the credentials it was sent, in an error message or anywhere else, leaks nothing.
//! Applied once, to every response a provider's client receives ([`Scrubber::response`]), so
//! error bodies, streamed error events and `/proxy` answers are all covered by one mechanism.

use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use futures_util::{Stream, StreamExt as _};
use memchr::memmem::Finder;
use reqwest::header::HeaderValue;

/// What a key is replaced with.
pub const REDACTED: &str = "[redacted]";

/// Keys shorter than this are placeholders that local runtimes ignore (`ollama`, `none`);
/// taking them out of answers would garble text that merely mentions them.
const MIN_KEY_LEN: usize = 12;

/// Replaces one key wherever it appears. Cheap to clone.
#[derive(Clone)]
pub struct Scrubber(Option<Arc<Finder<'static>>>);

impl std::fmt::Debug for Scrubber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Scrubber(***)"
        } else {
            "Scrubber(off)"
        })
    }
}

impl Scrubber {
    /// A scrubber for this key; one that does nothing for no key or a placeholder.
    pub fn new(key: Option<&str>) -> Self {
        Self(
            key.map(str::trim)
                .filter(|k| k.len() >= MIN_KEY_LEN)
                .map(|k| Arc::new(Finder::new(k.as_bytes()).into_owned())),
        )
    }

    fn key_len(&self) -> usize {
        self.0.as_ref().map_or(0, |f| f.needle().len())
    }

    /// `text` with every occurrence of the key replaced; borrowed when there is none.
    pub fn bytes<'a>(&self, text: &'a [u8]) -> std::borrow::Cow<'a, [u8]> {
        let Some(finder) = &self.0 else {
            return text.into();
        };
        let mut found = finder.find_iter(text).peekable();
        if found.peek().is_none() {
            return text.into();
        }
        let mut out = Vec::with_capacity(text.len());
        let mut from = 0;
        for at in found {
            if at < from {
                continue;
            }
            out.extend_from_slice(&text[from..at]);
            out.extend_from_slice(REDACTED.as_bytes());
            from = at + finder.needle().len();
        }
        out.extend_from_slice(&text[from..]);
        out.into()
    }

    /// The response with the key taken out of its headers and its body (streamed as it comes:
    /// only bytes that could begin the key wait for the next piece).
    pub fn response(&self, response: reqwest::Response) -> reqwest::Response {
        if self.0.is_none() {
            return response;
        }
        let mut response = http::Response::<reqwest::Body>::from(response);
        for value in response.headers_mut().values_mut() {
            if let std::borrow::Cow::Owned(clean) = self.bytes(value.as_bytes())
                && let Ok(clean) = HeaderValue::from_bytes(&clean)
            {
                *value = clean;
            }
        }
        let (parts, body) = response.into_parts();
        let body =
            reqwest::Body::wrap_stream(self.stream(http_body_util::BodyDataStream::new(body)));
        reqwest::Response::from(http::Response::from_parts(parts, body))
    }

    /// A byte stream with the key taken out, even when it is split across pieces.
    pub fn stream<E>(
        &self,
        inner: impl Stream<Item = Result<Bytes, E>> + Send + 'static,
    ) -> impl Stream<Item = Result<Bytes, E>> + Send + 'static
    where
        E: Send + 'static,
    {
        let scrubber = self.clone();
        async_stream::stream! {
            let mut inner = std::pin::pin!(inner);
            let mut held = BytesMut::new();
            while let Some(piece) = inner.next().await {
                match piece {
                    Ok(piece) => {
                        // The usual case, a piece with no trace of the key, goes on uncopied.
                        if held.is_empty()
                            && matches!(scrubber.bytes(&piece), std::borrow::Cow::Borrowed(_))
                            && scrubber.partial_key_at_end(&piece) == 0
                        {
                            yield Ok(piece);
                            continue;
                        }
                        held.extend_from_slice(&piece);
                        let clean = match scrubber.bytes(&held) {
                            std::borrow::Cow::Owned(clean) => BytesMut::from(&clean[..]),
                            std::borrow::Cow::Borrowed(_) => std::mem::take(&mut held),
                        };
                        held = clean;
                        let keep = scrubber.partial_key_at_end(&held);
                        let ready = held.split_to(held.len() - keep);
                        if !ready.is_empty() {
                            yield Ok(ready.freeze());
                        }
                    }
                    Err(e) => {
                        if !held.is_empty() {
                            yield Ok(std::mem::take(&mut held).freeze());
                        }
                        yield Err(e);
                        return;
                    }
                }
            }
            if !held.is_empty() {
                yield Ok(held.freeze());
            }
        }
    }

    /// How many bytes at the end of `text` could be the start of the key.
    fn partial_key_at_end(&self, text: &[u8]) -> usize {
        let Some(finder) = &self.0 else {
            return 0;
        };
        let key = finder.needle();
        let longest = (self.key_len() - 1).min(text.len());
        (1..=longest)
            .rev()
            .find(|&n| text[text.len() - n..] == key[..n])
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "sk-live-0123456789abcdef";

    #[test]
    fn keys_are_replaced_and_placeholders_left_alone() {
        let s = Scrubber::new(Some(KEY));
        let text = format!("Incorrect API key provided: {KEY}. Bearer {KEY}");
        assert_eq!(
            &*s.bytes(text.as_bytes()),
            b"Incorrect API key provided: [redacted]. Bearer [redacted]"
        );
        assert!(matches!(
            s.bytes(b"nothing here"),
            std::borrow::Cow::Borrowed(_)
        ));
        let placeholder = Scrubber::new(Some("ollama"));
        assert_eq!(&*placeholder.bytes(b"ollama says hi"), b"ollama says hi");
    }

    #[tokio::test]
    async fn a_key_split_across_pieces_is_still_replaced() {
        let s = Scrubber::new(Some(KEY));
        for cut in 1..KEY.len() {
            let pieces = vec![
                Ok::<_, std::io::Error>(Bytes::from(format!("data: {}", &KEY[..cut]))),
                Ok(Bytes::from(format!("{}\n\n", &KEY[cut..]))),
                Ok(Bytes::from_static(b"data: sk-li")),
            ];
            let out: Vec<Bytes> = s
                .stream(futures_util::stream::iter(pieces))
                .map(|p| p.unwrap())
                .collect()
                .await;
            let all: Vec<u8> = out.concat();
            assert_eq!(all, b"data: [redacted]\n\ndata: sk-li", "cut at {cut}");
            // A finished event is not held back waiting for the next piece.
            assert!(out[0].ends_with(b"\n\n") || out.len() > 2, "cut at {cut}");
        }
    }
}
