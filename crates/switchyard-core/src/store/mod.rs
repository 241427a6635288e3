//! The request log's storage: the only module that talks to a database (through sqlx).
//! Callers see [`Store`] and backend-neutral query types; SQLite is the one backend today, and
//! a Postgres one can be added as another [`Backend`] variant without touching callers.

mod media;
mod migrations;
mod responses;
mod sessions;
mod sqlite;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::files as private;

pub use writer::WriterHandle;

use crate::record::{LogCounters, Recorder};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("request log database {path}: {message}")]
    Open { path: PathBuf, message: String },
    #[error("request log query failed: {0}")]
    Query(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        Self::Query(e.to_string())
    }
}

pub use crate::config::LogSettings;

#[derive(Debug, Clone)]
enum Backend {
    Sqlite(sqlite::SqliteStore),
}

/// The request log database. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    backend: Backend,
    data_dir: PathBuf,
}

/// A Response kept for `previous_response_id`: `items` is the whole conversation it ends
/// (Responses input items: the inputs, then its output), `response` the object itself.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredResponse {
    pub id: String,
    pub model: Option<String>,
    /// The name of the client key that made it; `None` without keys.
    pub owner: Option<String>,
    pub items: serde_json::Value,
    pub response: serde_json::Value,
    /// Unix milliseconds.
    pub created_at: i64,
}

/// A playground chat session; `params` and `messages` are the UI's own JSON.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Session {
    pub id: String,
    pub title: String,
    pub model: Option<String>,
    pub system: Option<String>,
    pub params: serde_json::Value,
    pub messages: serde_json::Value,
    /// Unix milliseconds.
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionSummary {
    pub id: String,
    pub title: String,
    pub model: Option<String>,
    pub message_count: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Filters for listing requests; every field optional.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RequestFilter {
    /// Unix ms, inclusive.
    pub since: Option<i64>,
    /// Unix ms, exclusive.
    pub until: Option<i64>,
    pub model: Option<String>,
    pub provider: Option<String>,
    pub status: Option<u16>,
    pub client: Option<String>,
    pub outcome: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

/// One line of the request list.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RequestSummary {
    pub id: String,
    pub started_at: i64,
    pub method: String,
    pub endpoint: String,
    pub client: Option<String>,
    pub key_name: Option<String>,
    pub requested_model: Option<String>,
    pub provider: Option<String>,
    pub model: Option<String>,
    pub stream: bool,
    pub status: u16,
    #[cfg_attr(feature = "ts", ts(type = "\"ok\" | \"error\" | \"client_closed\""))]
    pub outcome: String,
    pub error: Option<String>,
    pub latency_ms: f64,
    pub ttft_ms: Option<f64>,
    pub prompt_tokens: Option<i64>,
    pub completion_tokens: Option<i64>,
    pub cached_tokens: Option<i64>,
    pub reasoning_tokens: Option<i64>,
    pub cost_usd: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RequestPage {
    pub requests: Vec<RequestSummary>,
    /// Pass as `cursor` for the next (older) page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// One request in full: its summary, every attempt, and the captured bodies.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RequestDetail {
    #[serde(flatten)]
    pub summary: RequestSummary,
    #[cfg_attr(feature = "ts", ts(type = "unknown"))]
    pub attempts: serde_json::Value,
    /// The strategy of the alias or pool it went through; `null` for a pinned model.
    pub strategy: Option<String>,
    #[cfg_attr(feature = "ts", ts(type = "unknown"))]
    pub request_body: Option<serde_json::Value>,
    #[cfg_attr(feature = "ts", ts(type = "unknown"))]
    pub response_body: Option<serde_json::Value>,
    pub request_truncated: bool,
    pub response_truncated: bool,
    /// Files under the data folder's `media/` holding images cut out of the bodies.
    pub media: Vec<String>,
    /// The tool loop's steps, in order: model rounds, tool calls and their results.
    #[cfg_attr(feature = "ts", ts(type = "Array<unknown>"))]
    pub steps: Vec<serde_json::Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TrafficDay {
    /// `YYYY-MM-DD`, UTC.
    pub day: String,
    pub requests: i64,
    pub errors: i64,
}

/// Aggregates for one group (a model, a provider, or everything).
#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct GroupStats {
    pub key: Option<String>,
    pub requests: i64,
    pub errors: i64,
    pub client_closed: i64,
    pub latency_p50_ms: Option<f64>,
    pub latency_p95_ms: Option<f64>,
    pub latency_p99_ms: Option<f64>,
    pub ttft_p50_ms: Option<f64>,
    pub ttft_p95_ms: Option<f64>,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub cached_tokens: i64,
    pub reasoning_tokens: i64,
    pub cost_usd: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Stats {
    pub window: String,
    pub since: i64,
    pub until: i64,
    pub total: GroupStats,
    pub by_model: Vec<GroupStats>,
    pub by_provider: Vec<GroupStats>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct HistogramBucket {
    /// Upper bound in ms; `null` for the last, open bucket.
    pub le_ms: Option<f64>,
    pub count: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TokenPoint {
    /// Start of the bucket, unix ms.
    pub at: i64,
    pub requests: i64,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub cached_tokens: i64,
    pub reasoning_tokens: i64,
    pub cost_usd: f64,
}

/// Statistic windows the API and CLI accept.
pub fn parse_window(window: &str) -> Option<Duration> {
    let (n, unit) = window.split_at(window.find(|c: char| !c.is_ascii_digit())?);
    let n: u64 = n.parse().ok().filter(|n| *n > 0)?;
    match unit {
        "m" => Some(Duration::from_secs(n * 60)),
        "h" => Some(Duration::from_secs(n * 3600)),
        "d" => Some(Duration::from_secs(n * 86_400)),
        _ => None,
    }
}

/// Latency histogram bounds in ms.
pub const LATENCY_BUCKETS_MS: &[f64] = &[
    5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0, 10_000.0, 30_000.0,
    60_000.0,
];

impl Store {
    /// Opens (creating if needed) `switchyard.db` in `data_dir` and brings its schema up to date.
    /// The folder, the database (with its `-wal` and `-shm`) and the media are readable by
    /// their owner alone, however they were made before (see `private`).
    pub async fn open(data_dir: &Path) -> Result<Self, StoreError> {
        let failed = |path: &Path, e: std::io::Error| StoreError::Open {
            path: path.to_owned(),
            message: e.to_string(),
        };
        private::dir(data_dir).map_err(|e| failed(data_dir, e))?;
        let db = data_dir.join("switchyard.db");
        private::file(&db).map_err(|e| failed(&db, e))?;
        let companions = ["-wal", "-shm", "-journal"].map(|suffix| {
            let mut name = db.clone().into_os_string();
            name.push(suffix);
            PathBuf::from(name)
        });
        for path in &companions {
            private::tighten(path, 0o600);
        }
        private::tighten_folder(&data_dir.join("media"));
        let backend = Backend::Sqlite(sqlite::SqliteStore::open(&db).await?);
        // SQLite made its -wal and -shm just now, with the database file's mode; make sure.
        for path in &companions {
            private::tighten(path, 0o600);
        }
        Ok(Self {
            backend,
            data_dir: data_dir.to_owned(),
        })
    }

    /// Opens an existing database for reading only (the CLI, beside a running gateway).
    pub async fn open_read_only(data_dir: &Path) -> Result<Self, StoreError> {
        let path = data_dir.join("switchyard.db");
        if !path.exists() {
            return Err(StoreError::Open {
                path,
                message: "no request log yet: the gateway has not served a request".into(),
            });
        }
        let backend = Backend::Sqlite(sqlite::SqliteStore::open_read_only(&path).await?);
        Ok(Self {
            backend,
            data_dir: data_dir.to_owned(),
        })
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// A file of the media folder by its plain name (`None` for any other name, a link, or
    /// anything but a regular file).
    pub async fn read_media(&self, name: &str) -> std::io::Result<Option<Vec<u8>>> {
        media::read(&self.data_dir.join("media"), name).await
    }

    /// Starts the batch writer; returns the recorder that feeds it and its handle.
    pub fn start_writer(&self, settings: LogSettings) -> (Recorder, WriterHandle) {
        let counters = Arc::new(LogCounters::default());
        writer::start(self.clone(), settings, counters)
    }

    pub async fn list_requests(&self, filter: &RequestFilter) -> Result<RequestPage, StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => s.list_requests(filter).await,
        }
    }

    pub async fn get_request(&self, id: &str) -> Result<Option<RequestDetail>, StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => s.get_request(id).await,
        }
    }

    /// Sessions, newest first; `query` matches titles and message text.
    pub async fn list_sessions(
        &self,
        query: Option<&str>,
        limit: u32,
    ) -> Result<Vec<SessionSummary>, StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => sessions::list(s.reader(), query, limit).await,
        }
    }

    pub async fn get_session(&self, id: &str) -> Result<Option<Session>, StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => sessions::get(s.reader(), id).await,
        }
    }

    /// Saves the whole session, creating it or replacing it.
    pub async fn put_session(&self, session: &Session) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => sessions::put(s.writer(), session).await,
        }
    }

    /// A stored Response and the conversation it ends.
    pub async fn get_response(&self, id: &str) -> Result<Option<StoredResponse>, StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => responses::get(s.reader(), id).await,
        }
    }

    pub async fn put_response(&self, response: &StoredResponse) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => responses::put(s.writer(), response).await,
        }
    }

    pub async fn delete_response(&self, id: &str) -> Result<bool, StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => responses::delete(s.writer(), id).await,
        }
    }

    pub async fn delete_session(&self, id: &str) -> Result<bool, StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => sessions::delete(s.writer(), id).await,
        }
    }

    pub async fn count_requests(&self) -> Result<i64, StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => s.count_requests().await,
        }
    }

    pub async fn traffic_days(
        &self,
        since: i64,
        until: i64,
    ) -> Result<Vec<TrafficDay>, StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => s.traffic_days(since, until).await,
        }
    }

    pub async fn stats(&self, window: &str, since: i64, until: i64) -> Result<Stats, StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => s.stats(window, since, until).await,
        }
    }

    pub async fn latency_histogram(
        &self,
        since: i64,
        until: i64,
    ) -> Result<Vec<HistogramBucket>, StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => s.latency_histogram(since, until).await,
        }
    }

    pub async fn token_series(
        &self,
        since: i64,
        until: i64,
        bucket_ms: i64,
    ) -> Result<Vec<TokenPoint>, StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => s.token_series(since, until, bucket_ms).await,
        }
    }

    /// Deletes up to `batch` rows started before `before` (unix ms); returns how many went.
    pub async fn purge_before(&self, before: i64, batch: u32) -> Result<u64, StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => {
                let responses = responses::purge_before(s.writer(), before).await?;
                Ok(s.purge_before(before, batch).await? + responses)
            }
        }
    }

    /// Deletes up to `batch` of the oldest rows while the database is larger than `max_bytes`.
    pub async fn purge_to_size(&self, max_bytes: u64, batch: u32) -> Result<u64, StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => s.purge_to_size(max_bytes, batch).await,
        }
    }

    /// `PRAGMA quick_check` (SQLite): `ok` when the file is sound.
    pub async fn integrity_check(&self) -> Result<String, StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => s.quick_check().await,
        }
    }

    async fn insert_batch(&self, rows: &[writer::PreparedRow]) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => s.insert_batch(rows).await,
        }
    }

    pub async fn close(&self) {
        match &self.backend {
            Backend::Sqlite(s) => s.close().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_window;
    use std::time::Duration;

    #[test]
    fn windows() {
        assert_eq!(parse_window("24h"), Some(Duration::from_secs(86_400)));
        assert_eq!(parse_window("7d"), Some(Duration::from_secs(7 * 86_400)));
        assert_eq!(parse_window("30m"), Some(Duration::from_secs(1800)));
        assert_eq!(parse_window("0h"), None);
        assert_eq!(parse_window("h"), None);
        assert_eq!(parse_window("3w"), None);
    }
}
