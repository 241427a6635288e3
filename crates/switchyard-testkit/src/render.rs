//! Serialisation helpers shared by the dialect modules: JSON bodies and SSE event framing.

use serde::Serialize;

/// Serialises `value` to JSON bytes.
pub(crate) fn json_vec(value: &impl Serialize) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    push_json(&mut out, value);
    out
}

/// One SSE event: an optional `event:` line, then `data: <json>` and the blank line.
pub(crate) fn json_event(event: Option<&str>, value: &impl Serialize) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    if let Some(name) = event {
        out.extend_from_slice(b"event: ");
        out.extend_from_slice(name.as_bytes());
        out.push(b'\n');
    }
    out.extend_from_slice(b"data: ");
    push_json(&mut out, value);
    out.extend_from_slice(b"\n\n");
    out
}

fn push_json(out: &mut Vec<u8>, value: &impl Serialize) {
    // The types rendered here (derived structs, strings, numbers, `Value`) cannot fail to
    // serialise into a Vec; `null` keeps the output JSON should that ever change.
    if serde_json::to_writer(&mut *out, value).is_err() {
        out.extend_from_slice(b"null");
    }
}
