//! Integration tests: the real gateway on a port-0 socket in front of the test kit's fake
//! upstreams, driven over HTTP as clients drive it.
#![expect(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test helpers stop the test at the first failed step, with its error"
)]

mod access;
mod admin_config;
mod audio;
mod cancel;
mod chat;
mod connections;
mod doors;
mod embeddings;
mod errors;
mod failover;
mod harness;
mod hostile_data;
mod images;
mod log;
mod mcp;
mod messages;
mod models;
mod providers;
mod proxy;
mod responses;
mod routing;
mod sessions;
mod shutdown;
mod streaming;
mod structured;
mod views;
