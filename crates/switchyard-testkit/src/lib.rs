//! Test kit for Switchyard: fake OpenAI (chat, Responses, embeddings, images) and Anthropic
//! upstreams on `127.0.0.1:0`, written on raw sockets so every fault (resets, stalls, broken
//! streams) can be scripted exactly.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use switchyard_testkit::{Dialect, FakeUpstream, Reply, Script};
//! let fake = FakeUpstream::start(Dialect::OpenAi).await?;
//! fake.push(Script::Error { status: 429, message: "slow down".into(), retry_after: Some("1".into()), error_type: None });
//! fake.push(Script::Reply(Reply::text("hello")));
//! // point the gateway at fake.base_url() ...
//! # Ok(()) }
//! ```

mod anthropic;
mod content;
mod control;
mod doors;
mod fixture;
mod http;
mod media;
mod ollama;
mod openai;
mod plan;
mod render;
mod responses;
mod script;
mod server;

pub use media::{FormPart, parse_multipart};
pub use script::{Dialect, Reply, Script, ToolCallSpec};
pub use server::{Disconnect, FakeUpstream, Recorded, refused_base_url};
