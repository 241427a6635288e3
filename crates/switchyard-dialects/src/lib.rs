//! The dialects Switchyard speaks, and nothing else: the JSON shapes of the OpenAI and Anthropic
//! APIs as clients and upstreams send them. Pure data and pure functions only; no I/O, no async
//! runtime, no HTTP types, so its tests build in seconds.
//!
//! Wire types:
//! - [`openai`]: Chat Completions, Embeddings, Models and error shapes.
//! - [`anthropic`]: the Messages API as the gateway sends it to Anthropic upstreams.
//! - [`messages`]: the Messages API as clients send it to `/v1/messages`.
//! - [`responses`]: the Responses API as clients send it to `/v1/responses`.

pub mod anthropic;
pub mod messages;
pub mod openai;
pub mod responses;
