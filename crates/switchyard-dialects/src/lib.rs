//! The dialects Switchyard speaks, and nothing else: the JSON shapes of the OpenAI and Anthropic
//! APIs as clients and upstreams send them. Pure data and pure functions only; no I/O, no async
//! runtime, no HTTP types, so its tests build in seconds.
//!
//! Wire types:
//! - [`openai`]: Chat Completions, Embeddings, Models and error shapes.
//! - [`anthropic`]: the Messages API as the gateway sends it to Anthropic upstreams.
//! - [`messages`]: the Messages API as clients send it to `/v1/messages`.
//! - [`responses`]: the Responses API as clients send it to `/v1/responses`.
//!
//! Translations, named client dialect → upstream dialect; each goes both ways (the request
//! forward, the answer and its stream back):
//! - [`chat_to_anthropic`]: an OpenAI chat client served by an Anthropic upstream, including
//!   stop sequences, the forced tool that carries structured output, what Anthropic cannot
//!   answer (refused by name) and Anthropic's error types in OpenAI's terms; its stream half is
//!   [`chat_to_anthropic::stream`].
//! - [`anthropic_to_chat`]: an Anthropic Messages client (`/v1/messages`) served by a chat
//!   upstream; its stream half is [`anthropic_to_chat::events`].
//! - [`responses_to_chat`]: a Responses client (`/v1/responses`) served by a chat upstream; its
//!   stream half is [`responses_to_chat::events`].
//!
//! Shared pieces:
//! - [`chunks`]: chat chunks made well-formed (ids, roles, tool-call indices) and assembled.
//! - [`sse`]: the Server-Sent Events decoder for upstream streams.
//! - [`tokens`]: token counts and the one "characters per token" estimate.
//! - [`error`]: [`error::UpstreamError`] and [`error::InvalidRequest`], free of HTTP types.
//!
//! The HTTP side (sending, headers, deadlines, SSE framing of answers to clients) is in
//! `switchyard-core`.

pub mod anthropic_to_chat;
pub mod chat_to_anthropic;
pub mod chunks;
pub mod error;
pub mod responses_to_chat;
pub mod sse;
pub mod tokens;

pub mod anthropic;
pub mod messages;
pub mod openai;
pub mod responses;

#[cfg(test)]
mod tests {
    /// The crate stays free of I/O and HTTP: its dependencies are this list and nothing else.
    /// A new one needs a reason to be here (and no runtime, HTTP, database or MCP crate has one).
    #[test]
    fn depends_on_pure_crates_only() {
        const ALLOWED: &[&str] = &[
            "bytes",
            "fastrand",
            "serde",
            "serde_json",
            "thiserror",
            "tracing",
            // A derive for the UI's generated types, behind the off-by-default `ts` feature.
            "ts-rs",
        ];
        let manifest = include_str!("../Cargo.toml");
        let mut in_dependencies = false;
        for line in manifest.lines().map(str::trim) {
            if line.starts_with('[') {
                in_dependencies = line.ends_with("dependencies]");
                continue;
            }
            if !in_dependencies || line.is_empty() || line.starts_with('#') {
                continue;
            }
            let name = line.split(['.', '=', ' ']).next().unwrap_or_default();
            assert!(
                ALLOWED.contains(&name),
                "switchyard-dialects depends on `{name}`, which is not on its list of pure crates"
            );
        }
    }
}
