//! Switchyard's gateway core: configuration, the HTTP server, upstream providers and routing.
//! The wire types and the translations between dialects are in `switchyard_dialects`. It knows
//! nothing of Tauri or of command lines; the CLI and the desktop shell embed it through
//! [`server::Gateway`].

pub mod access;
pub mod capabilities;
pub mod catalog;
pub mod config;
pub mod discovery;
pub mod error;
pub mod files;
pub mod mcp;
pub mod metrics;
pub mod onboarding;
pub mod providers;
pub mod record;
pub mod routing;
pub mod secrets;
pub mod server;
pub mod store;

pub use config::Config;
pub use server::{Gateway, GatewayHandle, UiFiles};
