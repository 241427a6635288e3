//! Integration tests for the fake upstreams, over real sockets on port 0.

mod anthropic;
mod binary;
mod common;
mod control;
mod embeddings;
mod faults;
mod fixture;
mod ollama;
mod openai;
mod responses;
