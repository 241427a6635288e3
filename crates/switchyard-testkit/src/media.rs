//! The fake's OpenAI media endpoints: speech answers deterministic audio-like bytes in the
//! asked format, sent in several chunks; transcriptions and translations answer text derived
//! from the uploaded file (its name and size, and the model), in the asked format; image edits
//! answer the generation's PNG. Also the small multipart parser behind them and
//! [`Recorded::multipart`](crate::Recorded::multipart).

use std::borrow::Cow;
use std::time::Duration;

use base64::Engine as _;

use crate::openai;
use crate::plan::{Body, End, Endpoint, Response};
use crate::render::json_vec;

/// One field or file of a multipart form the fake received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormPart {
    /// The field name.
    pub name: String,
    /// The file name, for files.
    pub filename: Option<String>,
    /// The part's own Content-Type, when it had one.
    pub content_type: Option<String>,
    /// The part's bytes.
    pub data: Vec<u8>,
}

impl FormPart {
    /// The data as text (lossy).
    #[must_use]
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.data).into_owned()
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Parses a `multipart/form-data` body. The boundary is read from the body's first line, so
/// no header is needed. `None` when the body is not a well-formed form.
#[must_use]
pub fn parse_multipart(body: &[u8]) -> Option<Vec<FormPart>> {
    let first = find(body, b"\r\n")?;
    let delimiter = &body[..first];
    if delimiter.len() < 3 || !delimiter.starts_with(b"--") {
        return None;
    }
    let mut separator = b"\r\n".to_vec();
    separator.extend_from_slice(delimiter);
    let mut rest = &body[first + 2..];
    let mut parts = Vec::new();
    loop {
        let end = find(rest, &separator)?;
        parts.push(parse_part(&rest[..end])?);
        rest = &rest[end + separator.len()..];
        if rest.starts_with(b"--") {
            return Some(parts);
        }
        rest = rest.strip_prefix(b"\r\n")?;
    }
}

fn parse_part(part: &[u8]) -> Option<FormPart> {
    let head_end = find(part, b"\r\n\r\n")?;
    let head = std::str::from_utf8(&part[..head_end]).ok()?;
    let mut name = None;
    let mut filename = None;
    let mut content_type = None;
    for line in head.split("\r\n") {
        let (key, value) = line.split_once(':')?;
        match key.trim().to_ascii_lowercase().as_str() {
            "content-disposition" => {
                for param in value.split(';').skip(1) {
                    let Some((k, v)) = param.split_once('=') else {
                        continue;
                    };
                    let v = v.trim().trim_matches('"').to_owned();
                    match k.trim() {
                        "name" => name = Some(v),
                        "filename" => filename = Some(v),
                        _ => {}
                    }
                }
            }
            "content-type" => content_type = Some(value.trim().to_owned()),
            _ => {}
        }
    }
    Some(FormPart {
        name: name?,
        filename,
        content_type,
        data: part[head_end + 4..].to_vec(),
    })
}

/// The first plain field with this name.
fn field<'a>(parts: &'a [FormPart], name: &str) -> Option<&'a str> {
    parts
        .iter()
        .find(|p| p.name == name && p.filename.is_none())
        .and_then(|p| std::str::from_utf8(&p.data).ok())
}

/// The answer to a media request, or `None` for other endpoints. `Err` is a 400's message.
pub(crate) fn respond(
    endpoint: Endpoint,
    body: &[u8],
    delay: Duration,
) -> Option<Result<Response, String>> {
    Some(match endpoint {
        Endpoint::Speech => speech(body, delay),
        Endpoint::Transcriptions => transcription(body, "Transcribed", "transcribe"),
        Endpoint::Translations => transcription(body, "Translated", "translate"),
        Endpoint::ImageEdits => image_edit(body),
        Endpoint::Chat
        | Endpoint::Embeddings
        | Endpoint::Images
        | Endpoint::Responses
        | Endpoint::Completions
        | Endpoint::Moderations
        | Endpoint::Rerank => return None,
    })
}

fn typed(content_type: &'static str, body: Body) -> Response {
    Response {
        status: 200,
        content_type: Cow::Borrowed(content_type),
        retry_after: None,
        body,
        end: End::Complete,
    }
}

/// `POST /v1/audio/speech`: audio-like bytes in `response_format` (mp3 by default), a length
/// that grows with the input, in four chunks; with `stream_format: "sse"`, as
/// `speech.audio.delta` events and a `speech.audio.done`.
fn speech(body: &[u8], delay: Duration) -> Result<Response, String> {
    let req: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| format!("invalid speech request: {e}"))?;
    let input = req
        .get("input")
        .and_then(serde_json::Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or("input: required")?;
    if req.get("voice").is_none() {
        return Err("voice: required".into());
    }
    let format = req
        .get("response_format")
        .and_then(serde_json::Value::as_str)
        .unwrap_or("mp3");
    let (content_type, audio) = speech_audio(format, input.chars().count())?;
    let size = audio.len().div_ceil(4).max(1);
    let chunks: Vec<Vec<u8>> = audio.chunks(size).map(<[u8]>::to_vec).collect();
    if req.get("stream_format").and_then(serde_json::Value::as_str) == Some("sse") {
        let b64 = base64::engine::general_purpose::STANDARD;
        let mut events: Vec<Vec<u8>> = chunks
            .iter()
            .map(|c| {
                let event =
                    serde_json::json!({"type": "speech.audio.delta", "audio": b64.encode(c)});
                sse(&event)
            })
            .collect();
        let tokens = input.split_whitespace().count();
        events.push(sse(&serde_json::json!({
            "type": "speech.audio.done",
            "usage": {"input_tokens": tokens, "output_tokens": audio.len() / 100, "total_tokens": tokens + audio.len() / 100},
        })));
        return Ok(typed(
            "text/event-stream",
            Body::Chunks {
                chunks: events,
                delay,
            },
        ));
    }
    Ok(typed(content_type, Body::Chunks { chunks, delay }))
}

fn sse(event: &serde_json::Value) -> Vec<u8> {
    let mut out = b"data: ".to_vec();
    out.extend_from_slice(&json_vec(event));
    out.extend_from_slice(b"\n\n");
    out
}

/// Deterministic 16-bit mono samples at 24 kHz, 64 per input character.
fn samples(chars: usize) -> Vec<u8> {
    let count = (chars * 64).clamp(256, 64 * 1024);
    (0..count)
        .flat_map(|i| {
            let v = i16::try_from((i * 37) % 4096).unwrap_or(0) - 2048;
            v.to_le_bytes()
        })
        .collect()
}

/// The bytes of a small file in `format` and its Content-Type.
fn speech_audio(format: &str, chars: usize) -> Result<(&'static str, Vec<u8>), String> {
    let pcm = samples(chars);
    let with_magic = |magic: &[u8]| {
        let mut out = magic.to_vec();
        out.extend_from_slice(&pcm);
        out
    };
    Ok(match format {
        "wav" => ("audio/wav", wav(&pcm)),
        "mp3" => {
            // An ID3v2.4 tag with no frames, then MPEG-1 layer III frames (128 kbps, 44.1 kHz).
            let mut out = b"ID3\x04\x00\x00\x00\x00\x00\x00".to_vec();
            for frame in pcm.chunks(413) {
                out.extend_from_slice(&[0xff, 0xfb, 0x90, 0x64]);
                out.extend_from_slice(frame);
            }
            ("audio/mpeg", out)
        }
        "opus" => ("audio/ogg", with_magic(b"OggS\x00\x02")),
        "aac" => ("audio/aac", with_magic(&[0xff, 0xf1, 0x50, 0x80])),
        "flac" => ("audio/flac", with_magic(b"fLaC")),
        "pcm" => ("audio/pcm", pcm),
        other => {
            return Err(format!(
                "response_format: {other:?} is not one of mp3, opus, aac, flac, wav, pcm"
            ));
        }
    })
}

/// A canonical 44-byte WAV header (PCM, mono, 24 kHz, 16-bit) and the samples.
fn wav(pcm: &[u8]) -> Vec<u8> {
    let data = u32::try_from(pcm.len()).unwrap_or(u32::MAX);
    let mut out = Vec::with_capacity(44 + pcm.len());
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&24_000u32.to_le_bytes());
    out.extend_from_slice(&48_000u32.to_le_bytes()); // bytes per second
    out.extend_from_slice(&2u16.to_le_bytes()); // block align
    out.extend_from_slice(&16u16.to_le_bytes()); // bits per sample
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data.to_le_bytes());
    out.extend_from_slice(pcm);
    out
}

/// Transcriptions and translations: `"{verb} {filename} ({size} bytes) with {model}"` in the
/// asked `response_format` (json by default, text, srt, vtt, verbose_json).
fn transcription(body: &[u8], verb: &str, task: &str) -> Result<Response, String> {
    let parts = parse_multipart(body).ok_or("the body is not a multipart form")?;
    let model = field(&parts, "model").ok_or("model: required")?;
    let file = parts
        .iter()
        .find(|p| p.name == "file")
        .ok_or("file: required")?;
    let name = file.filename.as_deref().unwrap_or("(no name)");
    let text = format!("{verb} {name} ({} bytes) with {model}", file.data.len());
    let full = |content_type, text: String| Ok(typed(content_type, Body::Full(text.into_bytes())));
    match field(&parts, "response_format").unwrap_or("json") {
        "json" => Ok(typed(
            "application/json",
            Body::Full(json_vec(&serde_json::json!({
                "text": text,
                "usage": {"type": "duration", "seconds": 1},
            }))),
        )),
        "text" => full("text/plain; charset=utf-8", format!("{text}\n")),
        "srt" => full(
            "application/x-subrip",
            format!("1\n00:00:00,000 --> 00:00:01,000\n{text}\n\n"),
        ),
        "vtt" => full(
            "text/vtt",
            format!("WEBVTT\n\n00:00:00.000 --> 00:00:01.000\n{text}\n\n"),
        ),
        "verbose_json" => {
            let mut answer = serde_json::json!({
                "task": task,
                "language": field(&parts, "language").unwrap_or("english"),
                "duration": 1.0,
                "text": text,
                "segments": [{"id": 0, "seek": 0, "start": 0.0, "end": 1.0, "text": text,
                    "tokens": [], "temperature": 0.0, "avg_logprob": 0.0,
                    "compression_ratio": 1.0, "no_speech_prob": 0.0}],
            });
            let words = parts
                .iter()
                .any(|p| p.name == "timestamp_granularities[]" && p.data == b"word");
            if words {
                let list: Vec<serde_json::Value> = text
                    .split_whitespace()
                    .enumerate()
                    .map(|(i, w)| {
                        #[expect(clippy::cast_precision_loss, reason = "small word indexes")]
                        let at = i as f64 * 0.1;
                        serde_json::json!({"word": w, "start": at, "end": at + 0.1})
                    })
                    .collect();
                answer["words"] = serde_json::Value::Array(list);
            }
            Ok(typed("application/json", Body::Full(json_vec(&answer))))
        }
        other => Err(format!(
            "response_format: {other:?} is not one of json, text, srt, vtt, verbose_json"
        )),
    }
}

/// `POST /v1/images/edits`: at least one `image` (or `image[]`) and a `prompt`; answered like a
/// generation with `n` and `response_format` from the form.
fn image_edit(body: &[u8]) -> Result<Response, String> {
    let parts = parse_multipart(body).ok_or("the body is not a multipart form")?;
    field(&parts, "model").ok_or("model: required")?;
    if !parts
        .iter()
        .any(|p| p.name == "image" || p.name == "image[]")
    {
        return Err("image: required".into());
    }
    let mut request = serde_json::json!({"prompt": field(&parts, "prompt").unwrap_or_default()});
    if let Some(n) = field(&parts, "n").and_then(|n| n.parse::<u64>().ok()) {
        request["n"] = n.into();
    }
    if let Some(format) = field(&parts, "response_format") {
        request["response_format"] = format.into();
    }
    openai::images_body(&json_vec(&request)).map(|body| typed("application/json", Body::Full(body)))
}

/// What the control API shows of a multipart request: fields, the model, file sizes.
pub(crate) fn summary(body: &[u8]) -> Option<serde_json::Value> {
    let parts = parse_multipart(body)?;
    let mut fields = serde_json::Map::new();
    let mut files = Vec::new();
    for p in &parts {
        match &p.filename {
            None => {
                fields.insert(p.name.clone(), p.text().into());
            }
            Some(name) => files.push(serde_json::json!({
                "field": p.name, "filename": name, "content_type": p.content_type, "size": p.data.len(),
            })),
        }
    }
    Some(serde_json::json!({
        "model": field(&parts, "model"),
        "fields": fields,
        "files": files,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FORM: &[u8] = b"--xyz\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nwhisper-1\r\n--xyz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.wav\"\r\nContent-Type: audio/wav\r\n\r\nRIFF\r\n--x\r\n--xyz--\r\n";

    #[test]
    fn forms_parse_with_their_files_byte_for_byte() {
        let parts = parse_multipart(FORM).unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].text(), "whisper-1");
        assert_eq!(parts[1].filename.as_deref(), Some("a.wav"));
        assert_eq!(parts[1].content_type.as_deref(), Some("audio/wav"));
        assert_eq!(parts[1].data, b"RIFF\r\n--x");
        assert!(parse_multipart(b"{\"model\":\"x\"}").is_none());
    }

    #[test]
    fn wav_speech_has_a_valid_header() {
        let (kind, bytes) = speech_audio("wav", 10).unwrap();
        assert_eq!(kind, "audio/wav");
        assert_eq!(&bytes[..4], b"RIFF");
        assert_eq!(&bytes[8..16], b"WAVEfmt ");
        let data = u32::from_le_bytes([bytes[40], bytes[41], bytes[42], bytes[43]]);
        assert_eq!(data as usize, bytes.len() - 44);
    }
}
