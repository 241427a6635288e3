//! Views of the playground's saved chats. `params` and `messages` are the UI's own JSON, kept
//! whole; their TypeScript types are written by hand in the UI.

use serde::Serialize;

use crate::record::utc_timestamp;
use crate::store::{Session as Stored, SessionSummary as StoredSummary};

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename = "SessionView"))]
pub struct Session {
    pub id: String,
    pub title: String,
    pub model: Option<String>,
    pub system: Option<String>,
    #[cfg_attr(feature = "ts", ts(type = "unknown"))]
    pub params: serde_json::Value,
    #[cfg_attr(feature = "ts", ts(type = "unknown"))]
    pub messages: serde_json::Value,
    /// UTC, RFC 3339.
    pub created_at: String,
    pub updated_at: String,
}

impl From<&Stored> for Session {
    fn from(s: &Stored) -> Self {
        Self {
            id: s.id.clone(),
            title: s.title.clone(),
            model: s.model.clone(),
            system: s.system.clone(),
            params: s.params.clone(),
            messages: s.messages.clone(),
            created_at: utc_timestamp(s.created_at),
            updated_at: utc_timestamp(s.updated_at),
        }
    }
}

/// One line of the session list.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SessionSummary {
    pub id: String,
    pub title: String,
    pub model: Option<String>,
    pub message_count: i64,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&StoredSummary> for SessionSummary {
    fn from(s: &StoredSummary) -> Self {
        Self {
            id: s.id.clone(),
            title: s.title.clone(),
            model: s.model.clone(),
            message_count: s.message_count,
            created_at: utc_timestamp(s.created_at),
            updated_at: utc_timestamp(s.updated_at),
        }
    }
}
