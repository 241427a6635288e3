//! A byte-level Server-Sent Events decoder for upstream streams: CR, LF and CRLF line ends,
//! multi-line `data`, comments, a leading BOM, events split anywhere across reads (including
//! inside a UTF-8 code point), and a cap on the size of one event.

use bytes::{Buf, BytesMut};

/// One decoded event. `event` is empty when the upstream sent no `event:` line.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SseEvent {
    pub event: String,
    pub data: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SseError {
    #[error("an event is larger than {0} bytes")]
    TooLarge(usize),
    #[error("the stream is not valid UTF-8")]
    Utf8,
}

#[derive(Debug)]
pub struct SseDecoder {
    buf: BytesMut,
    event: String,
    data: String,
    has_data: bool,
    started: bool,
    /// A CR was the last byte seen; a following LF belongs to it.
    pending_cr: bool,
    max_event: usize,
}

impl SseDecoder {
    pub fn new(max_event: usize) -> Self {
        Self {
            buf: BytesMut::new(),
            event: String::new(),
            data: String::new(),
            has_data: false,
            started: false,
            pending_cr: false,
            max_event,
        }
    }

    /// Feeds bytes and appends every completed event to `out`.
    pub fn feed(&mut self, chunk: &[u8], out: &mut Vec<SseEvent>) -> Result<(), SseError> {
        self.buf.extend_from_slice(chunk);
        loop {
            if self.pending_cr && !self.buf.is_empty() {
                if self.buf[0] == b'\n' {
                    self.buf.advance(1);
                }
                self.pending_cr = false;
            }
            let Some(pos) = self.buf.iter().position(|&b| b == b'\n' || b == b'\r') else {
                break;
            };
            let line = self.buf.split_to(pos);
            let terminator = self.buf[0];
            self.buf.advance(1);
            if terminator == b'\r' {
                if self.buf.first() == Some(&b'\n') {
                    self.buf.advance(1);
                } else if self.buf.is_empty() {
                    self.pending_cr = true;
                }
            }
            let mut line: &[u8] = &line;
            if !self.started {
                self.started = true;
                line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
            }
            let line = std::str::from_utf8(line).map_err(|_| SseError::Utf8)?;
            self.line(line, out);
            if self.data.len() + self.event.len() > self.max_event {
                return Err(SseError::TooLarge(self.max_event));
            }
        }
        if self.buf.len() + self.data.len() > self.max_event {
            return Err(SseError::TooLarge(self.max_event));
        }
        Ok(())
    }

    /// At end of input: an unterminated last event still counts if it carried data.
    pub fn finish(&mut self, out: &mut Vec<SseEvent>) -> Result<(), SseError> {
        if !self.buf.is_empty() {
            let rest = self.buf.split();
            let line = std::str::from_utf8(&rest).map_err(|_| SseError::Utf8)?;
            self.line(line, out);
        }
        self.dispatch(out);
        Ok(())
    }

    fn line(&mut self, line: &str, out: &mut Vec<SseEvent>) {
        if line.is_empty() {
            self.dispatch(out);
            return;
        }
        if line.starts_with(':') {
            return;
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        match field {
            "data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            "event" => {
                self.event.clear();
                self.event.push_str(value);
            }
            _ => {}
        }
    }

    fn dispatch(&mut self, out: &mut Vec<SseEvent>) {
        if self.has_data {
            out.push(SseEvent {
                event: std::mem::take(&mut self.event),
                data: std::mem::take(&mut self.data),
            });
        }
        self.event.clear();
        self.data.clear();
        self.has_data = false;
    }
}

/// The event's name, or the `type` of its data when the upstream sent no `event:` line.
pub fn event_type(event: &SseEvent) -> String {
    if !event.event.is_empty() {
        return event.event.clone();
    }
    serde_json::from_str::<serde_json::Value>(&event.data)
        .ok()
        .and_then(|v| v["type"].as_str().map(str::to_owned))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_in_pieces(input: &[u8], piece: usize) -> Vec<SseEvent> {
        let mut d = SseDecoder::new(1 << 20);
        let mut out = Vec::new();
        for chunk in input.chunks(piece) {
            d.feed(chunk, &mut out).unwrap();
        }
        d.finish(&mut out).unwrap();
        out
    }

    #[test]
    fn decodes_every_line_ending_and_split_point() {
        let input = "\u{feff}: keep-alive\r\nevent: message_start\r\ndata: {\"a\":\"é\"}\r\n\r\ndata: one\rdata: two\r\rdata:[DONE]\n\n";
        for piece in 1..input.len() {
            let events = decode_in_pieces(input.as_bytes(), piece);
            assert_eq!(
                events,
                vec![
                    SseEvent {
                        event: "message_start".into(),
                        data: "{\"a\":\"é\"}".into()
                    },
                    SseEvent {
                        event: String::new(),
                        data: "one\ntwo".into()
                    },
                    SseEvent {
                        event: String::new(),
                        data: "[DONE]".into()
                    },
                ],
                "split every {piece} bytes"
            );
        }
    }

    #[test]
    fn event_without_data_is_not_dispatched_and_trailing_event_counts() {
        let events = decode_in_pieces(b"event: ping\n\ndata: last", 4);
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].data, "last");
    }

    #[test]
    fn refuses_oversized_events() {
        let mut d = SseDecoder::new(16);
        let mut out = Vec::new();
        let err = d.feed(&[b'x'; 64], &mut out).unwrap_err();
        assert_eq!(err, SseError::TooLarge(16));
    }
}
