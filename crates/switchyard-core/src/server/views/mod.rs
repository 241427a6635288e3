//! The admin API's answers as named types: what `/admin/*`, `/statsz`, `/healthz` and `/` send,
//! one struct per shape the UI reads. Building a view is the handler's job; this module holds
//! only the shapes, so that they can be read in one place and turned into the UI's TypeScript
//! types (the `ts` feature, `make types`). No axum here, and no logic beyond plain conversions.
//!
//! These answers were written with `json!` objects, whose keys come out sorted; [`Sorted`] keeps
//! that byte for byte, so a struct lists its fields in whatever order reads best.

pub mod config;
pub mod gateway;
pub mod log;
pub mod mcp;
pub mod routing;
pub mod sessions;

use serde::{Serialize, Serializer};

/// Serialises its value with every object's keys in sorted order, as the admin API always has.
#[derive(Debug, Clone)]
pub struct Sorted<T>(pub T);

impl<T: Serialize> Serialize for Sorted<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serde_json::to_value(&self.0)
            .map_err(serde::ser::Error::custom)?
            .serialize(s)
    }
}

/// `{"object": "list", "data": [...]}`, as OpenAI lists things.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ObjectList<T> {
    #[cfg_attr(feature = "ts", ts(type = "\"list\""))]
    pub object: &'static str,
    pub data: Vec<T>,
}

impl<T> ObjectList<T> {
    pub fn new(data: Vec<T>) -> Self {
        Self {
            object: "list",
            data,
        }
    }
}

/// `{"data": [...]}`: the MCP and assistant lists.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DataList<T> {
    pub data: Vec<T>,
}

#[cfg(all(test, feature = "ts"))]
mod typescript;
