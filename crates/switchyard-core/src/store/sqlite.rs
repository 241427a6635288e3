//! The SQLite backend: WAL, `synchronous = NORMAL` (a commit survives a crash of the process),
//! a busy timeout, one writer connection and a small pool of readers.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{AssertSqlSafe, QueryBuilder, Row, Sqlite};

use super::migrations::MIGRATOR;
use super::writer::PreparedRow;
use super::{
    GroupStats, HistogramBucket, LATENCY_BUCKETS_MS, RequestDetail, RequestFilter, RequestPage,
    RequestSummary, Stats, StoreError, TokenPoint, TrafficDay,
};
use crate::record::{key_at, request_id, request_key};

const SUMMARY_COLUMNS: &str = "r.id, r.started_at, r.method, r.endpoint, r.client, r.key_name, r.requested_model, \
     r.provider, r.model, r.stream, r.status, r.outcome, r.error, r.latency_ms, r.ttft_ms, r.prompt_tokens, \
     r.completion_tokens, r.cached_tokens, r.reasoning_tokens, r.cost_usd";

#[derive(Debug, Clone)]
pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
    path: std::path::PathBuf,
}

fn options(path: &Path) -> Result<SqliteConnectOptions, StoreError> {
    let url = format!("sqlite://{}", path.display());
    Ok(SqliteConnectOptions::from_str(&url)
        .map_err(|e| StoreError::Open {
            path: path.to_owned(),
            message: e.to_string(),
        })?
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(5))
        .foreign_keys(true)
        .pragma("journal_size_limit", "67108864"))
}

impl SqliteStore {
    pub(super) fn reader(&self) -> &SqlitePool {
        &self.reader
    }

    pub(super) fn writer(&self) -> &SqlitePool {
        &self.writer
    }

    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        let open_err = |e: sqlx::Error| StoreError::Open {
            path: path.to_owned(),
            message: e.to_string(),
        };
        let opts = options(path)?.create_if_missing(true);
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(opts.clone())
            .await
            .map_err(open_err)?;
        MIGRATOR.run(&writer).await.map_err(|e| StoreError::Open {
            path: path.to_owned(),
            message: format!("cannot migrate: {e}"),
        })?;
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(opts.read_only(true))
            .await
            .map_err(open_err)?;
        Ok(Self {
            writer,
            reader,
            path: path.to_owned(),
        })
    }

    pub async fn open_read_only(path: &Path) -> Result<Self, StoreError> {
        let open_err = |e: sqlx::Error| StoreError::Open {
            path: path.to_owned(),
            message: e.to_string(),
        };
        let reader = SqlitePoolOptions::new()
            .max_connections(2)
            .connect_with(options(path)?.read_only(true))
            .await
            .map_err(open_err)?;
        Ok(Self {
            writer: reader.clone(),
            reader,
            path: path.to_owned(),
        })
    }

    /// Closes the readers first so the writer's last connection can fold the WAL back into the
    /// database file.
    pub async fn close(&self) {
        self.reader.close().await;
        if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&self.writer)
            .await
        {
            tracing::debug!("wal checkpoint at close: {e}");
        }
        self.writer.close().await;
    }

    /// Writes a batch in one transaction with one multi-row INSERT per table: a handful of
    /// round trips to SQLite's thread, whatever the batch size.
    pub async fn insert_batch(&self, rows: &[PreparedRow]) -> Result<(), StoreError> {
        // SQLite allows 32766 bound values per statement: 21 per row keeps chunks well inside.
        const CHUNK: usize = 500;
        let to_i64 = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        let mut tx = self.writer.begin().await?;
        for chunk in rows.chunks(CHUNK) {
            let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
                "INSERT INTO requests (id, started_at, method, endpoint, client, key_name, requested_model, provider, model, \
                 stream, status, outcome, error, latency_ms, ttft_ms, prompt_tokens, completion_tokens, cached_tokens, \
                 reasoning_tokens, cost_usd, attempts, strategy) ",
            );
            q.push_values(chunk, |mut b, row| {
                let r = &row.record;
                let tokens = r.tokens.as_ref();
                b.push_bind(request_key(&r.id).unwrap_or_default())
                    .push_bind(r.started_at_ms)
                    .push_bind(r.method.clone())
                    .push_bind(r.endpoint.clone())
                    .push_bind(r.client.clone())
                    .push_bind(r.key_name.clone())
                    .push_bind(r.requested_model.clone())
                    .push_bind(r.provider.clone())
                    .push_bind(r.model.clone())
                    .push_bind(r.stream)
                    .push_bind(i64::from(r.status))
                    .push_bind(r.outcome.as_str())
                    .push_bind(r.error.clone())
                    .push_bind(r.latency_ms)
                    .push_bind(r.ttft_ms)
                    .push_bind(tokens.map(|t| to_i64(t.prompt)))
                    .push_bind(tokens.map(|t| to_i64(t.completion)))
                    .push_bind(tokens.map(|t| to_i64(t.cached)))
                    .push_bind(tokens.map(|t| to_i64(t.reasoning)))
                    .push_bind(r.cost_usd)
                    .push_bind(serde_json::to_string(&r.attempts).unwrap_or_else(|_| "[]".into()))
                    .push_bind(r.strategy.clone());
            });
            // Not cached: every batch size would be another large prepared statement kept alive.
            q.build().persistent(false).execute(&mut *tx).await?;
            let with_bodies: Vec<&PreparedRow> = chunk
                .iter()
                .filter(|r| {
                    r.request_body.is_some() || r.response_body.is_some() || r.steps.is_some()
                })
                .collect();
            if !with_bodies.is_empty() {
                let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
                    "INSERT INTO request_bodies (id, request_body, response_body, request_truncated, response_truncated, media, steps) ",
                );
                q.push_values(with_bodies, |mut b, row| {
                    b.push_bind(request_key(&row.record.id).unwrap_or_default())
                        .push_bind(row.request_body.clone())
                        .push_bind(row.response_body.clone())
                        .push_bind(row.request_truncated)
                        .push_bind(row.response_truncated)
                        .push_bind(
                            serde_json::to_string(&row.media).unwrap_or_else(|_| "[]".into()),
                        )
                        .push_bind(row.steps.clone().unwrap_or_else(|| "[]".into()));
                });
                // Not cached: every batch size would be another large prepared statement kept alive.
                q.build().persistent(false).execute(&mut *tx).await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn list_requests(&self, f: &RequestFilter) -> Result<RequestPage, StoreError> {
        let limit = i64::from(f.limit.unwrap_or(50).clamp(1, 500));
        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(format!(
            "SELECT {SUMMARY_COLUMNS} FROM requests r WHERE 1 = 1"
        ));
        if let Some(since) = f.since {
            q.push(" AND r.id >= ").push_bind(key_at(since));
        }
        if let Some(until) = f.until {
            q.push(" AND r.id < ").push_bind(key_at(until));
        }
        if let Some(model) = &f.model {
            q.push(" AND (r.requested_model = ")
                .push_bind(model.clone());
            q.push(" OR r.model = ").push_bind(model.clone()).push(")");
        }
        if let Some(provider) = &f.provider {
            q.push(" AND r.provider = ").push_bind(provider.clone());
        }
        if let Some(status) = f.status {
            q.push(" AND r.status = ").push_bind(i64::from(status));
        }
        if let Some(client) = &f.client {
            // A substring of the User-Agent, matched literally.
            let escaped = client
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            q.push(" AND (r.client LIKE ")
                .push_bind(format!("%{escaped}%"));
            q.push(" ESCAPE '\\' OR r.key_name = ")
                .push_bind(client.clone())
                .push(")");
        }
        if let Some(outcome) = &f.outcome {
            q.push(" AND r.outcome = ").push_bind(outcome.clone());
        }
        if let Some(cursor) = &f.cursor {
            let key = request_key(cursor)
                .ok_or_else(|| StoreError::Query(format!("bad cursor {cursor:?}")))?;
            q.push(" AND r.id < ").push_bind(key);
        }
        q.push(" ORDER BY r.id DESC LIMIT ").push_bind(limit + 1);
        let rows = q.build().fetch_all(&self.reader).await?;
        let mut requests: Vec<RequestSummary> =
            rows.iter().map(summary).collect::<Result<_, _>>()?;
        let next_cursor = if requests.len() > usize::try_from(limit).unwrap_or(50) {
            requests.pop();
            requests.last().map(|r| r.id.clone())
        } else {
            None
        };
        Ok(RequestPage {
            requests,
            next_cursor,
        })
    }

    pub async fn get_request(&self, id: &str) -> Result<Option<RequestDetail>, StoreError> {
        let Some(key) = request_key(id) else {
            return Ok(None);
        };
        // Audited: only the constant column list is formatted in.
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {SUMMARY_COLUMNS}, r.attempts, r.strategy, b.request_body, b.response_body, \
             COALESCE(b.request_truncated, 0) AS request_truncated, COALESCE(b.response_truncated, 0) AS response_truncated, \
             COALESCE(b.media, '[]') AS media, COALESCE(b.steps, '[]') AS steps FROM requests r LEFT JOIN request_bodies b ON b.id = r.id WHERE r.id = ?"
        )))
        .bind(key)
        .fetch_optional(&self.reader)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let body = |name: &str| -> Result<Option<serde_json::Value>, StoreError> {
            let text: Option<String> = row.try_get(name)?;
            Ok(text.map(|t| serde_json::from_str(&t).unwrap_or(serde_json::Value::String(t))))
        };
        let attempts: String = row.try_get("attempts")?;
        let media: String = row.try_get("media")?;
        let steps: String = row.try_get("steps")?;
        Ok(Some(RequestDetail {
            steps: serde_json::from_str(&steps).unwrap_or_default(),
            summary: summary(&row)?,
            attempts: serde_json::from_str(&attempts).unwrap_or_default(),
            strategy: row.try_get("strategy")?,
            request_body: body("request_body")?,
            response_body: body("response_body")?,
            request_truncated: row.try_get("request_truncated")?,
            response_truncated: row.try_get("response_truncated")?,
            media: serde_json::from_str(&media).unwrap_or_default(),
        }))
    }

    pub async fn count_requests(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM requests")
            .fetch_one(&self.reader)
            .await?)
    }

    pub async fn traffic_days(
        &self,
        since: i64,
        until: i64,
    ) -> Result<Vec<TrafficDay>, StoreError> {
        let rows = sqlx::query(
            "SELECT date(started_at / 1000, 'unixepoch') AS day, COUNT(*) AS requests, \
             SUM(outcome = 'error') AS errors FROM requests WHERE id >= ? AND id < ? \
             GROUP BY day ORDER BY day",
        )
        .bind(key_at(since))
        .bind(key_at(until))
        .fetch_all(&self.reader)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(TrafficDay {
                    day: r.try_get("day")?,
                    requests: r.try_get("requests")?,
                    errors: r.try_get("errors")?,
                })
            })
            .collect()
    }

    /// Counts, sums and nearest-rank percentiles, grouped by `key` (a column, or NULL for all).
    async fn group_stats(
        &self,
        key: &str,
        since: i64,
        until: i64,
    ) -> Result<Vec<GroupStats>, StoreError> {
        let sql = format!(
            "WITH w AS (SELECT {key} AS k, latency_ms, ttft_ms, outcome, prompt_tokens, completion_tokens, cached_tokens, \
               reasoning_tokens, cost_usd FROM requests WHERE id >= ?1 AND id < ?2), \
             lat AS (SELECT k, latency_ms AS v, ROW_NUMBER() OVER (PARTITION BY k ORDER BY latency_ms) AS rn, \
               COUNT(*) OVER (PARTITION BY k) AS n FROM w), \
             tt AS (SELECT k, ttft_ms AS v, ROW_NUMBER() OVER (PARTITION BY k ORDER BY ttft_ms) AS rn, \
               COUNT(*) OVER (PARTITION BY k) AS n FROM w WHERE ttft_ms IS NOT NULL), \
             lp AS (SELECT k, MIN(CASE WHEN rn * 100 >= n * 50 THEN v END) AS p50, \
               MIN(CASE WHEN rn * 100 >= n * 95 THEN v END) AS p95, MIN(CASE WHEN rn * 100 >= n * 99 THEN v END) AS p99 \
               FROM lat GROUP BY k), \
             tp AS (SELECT k, MIN(CASE WHEN rn * 100 >= n * 50 THEN v END) AS p50, \
               MIN(CASE WHEN rn * 100 >= n * 95 THEN v END) AS p95 FROM tt GROUP BY k) \
             SELECT w.k AS k, COUNT(*) AS requests, SUM(w.outcome = 'error') AS errors, \
               SUM(w.outcome = 'client_closed') AS closed, \
               COALESCE(SUM(w.prompt_tokens), 0) AS prompt, COALESCE(SUM(w.completion_tokens), 0) AS completion, \
               COALESCE(SUM(w.cached_tokens), 0) AS cached, COALESCE(SUM(w.reasoning_tokens), 0) AS reasoning, \
               COALESCE(SUM(w.cost_usd), 0.0) AS cost, \
               (SELECT p50 FROM lp WHERE lp.k IS w.k) AS lat50, (SELECT p95 FROM lp WHERE lp.k IS w.k) AS lat95, \
               (SELECT p99 FROM lp WHERE lp.k IS w.k) AS lat99, (SELECT p50 FROM tp WHERE tp.k IS w.k) AS tt50, \
               (SELECT p95 FROM tp WHERE tp.k IS w.k) AS tt95 \
             FROM w GROUP BY w.k ORDER BY requests DESC"
        );
        // Audited: `key` is a column name or NULL chosen by this module, never input.
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(key_at(since))
            .bind(key_at(until))
            .fetch_all(&self.reader)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(GroupStats {
                    key: r.try_get("k")?,
                    requests: r.try_get("requests")?,
                    errors: r.try_get("errors")?,
                    client_closed: r.try_get("closed")?,
                    latency_p50_ms: r.try_get("lat50")?,
                    latency_p95_ms: r.try_get("lat95")?,
                    latency_p99_ms: r.try_get("lat99")?,
                    ttft_p50_ms: r.try_get("tt50")?,
                    ttft_p95_ms: r.try_get("tt95")?,
                    prompt_tokens: r.try_get("prompt")?,
                    completion_tokens: r.try_get("completion")?,
                    cached_tokens: r.try_get("cached")?,
                    reasoning_tokens: r.try_get("reasoning")?,
                    cost_usd: r.try_get("cost")?,
                })
            })
            .collect()
    }

    pub async fn stats(&self, window: &str, since: i64, until: i64) -> Result<Stats, StoreError> {
        let total = self
            .group_stats("NULL", since, until)
            .await?
            .into_iter()
            .next()
            .unwrap_or_default();
        Ok(Stats {
            window: window.to_owned(),
            since,
            until,
            total,
            by_model: self.group_stats("requested_model", since, until).await?,
            by_provider: self.group_stats("provider", since, until).await?,
        })
    }

    pub async fn latency_histogram(
        &self,
        since: i64,
        until: i64,
    ) -> Result<Vec<HistogramBucket>, StoreError> {
        let mut case = String::from("CASE");
        for (i, le) in LATENCY_BUCKETS_MS.iter().enumerate() {
            case.push_str(&format!(" WHEN latency_ms <= {le} THEN {i}"));
        }
        case.push_str(&format!(" ELSE {} END", LATENCY_BUCKETS_MS.len()));
        // Audited: the CASE is built from the constant bucket bounds.
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {case} AS b, COUNT(*) AS n FROM requests WHERE id >= ? AND id < ? GROUP BY b"
        )))
        .bind(key_at(since))
        .bind(key_at(until))
        .fetch_all(&self.reader)
        .await?;
        let mut buckets: Vec<HistogramBucket> = LATENCY_BUCKETS_MS
            .iter()
            .map(|le| HistogramBucket {
                le_ms: Some(*le),
                count: 0,
            })
            .chain(std::iter::once(HistogramBucket {
                le_ms: None,
                count: 0,
            }))
            .collect();
        for r in &rows {
            let b: i64 = r.try_get("b")?;
            if let Some(bucket) = usize::try_from(b).ok().and_then(|b| buckets.get_mut(b)) {
                bucket.count = r.try_get("n")?;
            }
        }
        Ok(buckets)
    }

    pub async fn token_series(
        &self,
        since: i64,
        until: i64,
        bucket_ms: i64,
    ) -> Result<Vec<TokenPoint>, StoreError> {
        let bucket = bucket_ms.max(60_000);
        let rows = sqlx::query(
            "SELECT (started_at / ?1) * ?1 AS at, COUNT(*) AS n, COALESCE(SUM(prompt_tokens), 0) AS p, \
             COALESCE(SUM(completion_tokens), 0) AS c, COALESCE(SUM(cached_tokens), 0) AS k, \
             COALESCE(SUM(reasoning_tokens), 0) AS r, COALESCE(SUM(cost_usd), 0.0) AS cost \
             FROM requests WHERE id >= ?2 AND id < ?3 GROUP BY at ORDER BY at",
        )
        .bind(bucket)
        .bind(key_at(since))
        .bind(key_at(until))
        .fetch_all(&self.reader)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(TokenPoint {
                    at: r.try_get("at")?,
                    requests: r.try_get("n")?,
                    prompt_tokens: r.try_get("p")?,
                    completion_tokens: r.try_get("c")?,
                    cached_tokens: r.try_get("k")?,
                    reasoning_tokens: r.try_get("r")?,
                    cost_usd: r.try_get("cost")?,
                })
            })
            .collect()
    }

    async fn delete_ids(&self, ids: Vec<i64>) -> Result<u64, StoreError> {
        if ids.is_empty() {
            return Ok(0);
        }
        let mut media_q: QueryBuilder<Sqlite> =
            QueryBuilder::new("SELECT media FROM request_bodies WHERE media != '[]' AND id IN (");
        let mut sep = media_q.separated(", ");
        for id in &ids {
            sep.push_bind(*id);
        }
        media_q.push(")");
        let media: Vec<String> = media_q.build_query_scalar().fetch_all(&self.writer).await?;
        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new("DELETE FROM requests WHERE id IN (");
        let mut sep = q.separated(", ");
        for id in &ids {
            sep.push_bind(*id);
        }
        q.push(")");
        let deleted = q.build().execute(&self.writer).await?.rows_affected();
        let dir = self.path.parent().map(|p| p.join("media"));
        for list in media {
            for file in serde_json::from_str::<Vec<String>>(&list).unwrap_or_default() {
                if let Some(dir) = &dir
                    && !file.contains('/')
                    && !file.contains("..")
                {
                    let _ = std::fs::remove_file(dir.join(file));
                }
            }
        }
        Ok(deleted)
    }

    pub async fn purge_before(&self, before: i64, batch: u32) -> Result<u64, StoreError> {
        let ids: Vec<i64> =
            sqlx::query_scalar("SELECT id FROM requests WHERE id < ? ORDER BY id LIMIT ?")
                .bind(key_at(before))
                .bind(i64::from(batch))
                .fetch_all(&self.writer)
                .await?;
        self.delete_ids(ids).await
    }

    pub async fn purge_to_size(&self, max_bytes: u64, batch: u32) -> Result<u64, StoreError> {
        let used: i64 = sqlx::query_scalar(
            "SELECT (page_count - freelist_count) * page_size FROM pragma_page_count(), pragma_freelist_count(), pragma_page_size()",
        )
        .fetch_one(&self.writer)
        .await?;
        if u64::try_from(used).unwrap_or(0) <= max_bytes {
            return Ok(0);
        }
        let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM requests ORDER BY id LIMIT ?")
            .bind(i64::from(batch))
            .fetch_all(&self.writer)
            .await?;
        self.delete_ids(ids).await
    }

    pub async fn quick_check(&self) -> Result<String, StoreError> {
        Ok(sqlx::query_scalar("PRAGMA quick_check")
            .fetch_one(&self.reader)
            .await?)
    }
}

fn summary(r: &SqliteRow) -> Result<RequestSummary, StoreError> {
    let status: i64 = r.try_get("status")?;
    Ok(RequestSummary {
        id: request_id(r.try_get("id")?),
        started_at: r.try_get("started_at")?,
        method: r.try_get("method")?,
        endpoint: r.try_get("endpoint")?,
        client: r.try_get("client")?,
        key_name: r.try_get("key_name")?,
        requested_model: r.try_get("requested_model")?,
        provider: r.try_get("provider")?,
        model: r.try_get("model")?,
        stream: r.try_get("stream")?,
        status: u16::try_from(status).unwrap_or(0),
        outcome: r.try_get("outcome")?,
        error: r.try_get("error")?,
        latency_ms: r.try_get("latency_ms")?,
        ttft_ms: r.try_get("ttft_ms")?,
        prompt_tokens: r.try_get("prompt_tokens")?,
        completion_tokens: r.try_get("completion_tokens")?,
        cached_tokens: r.try_get("cached_tokens")?,
        reasoning_tokens: r.try_get("reasoning_tokens")?,
        cost_usd: r.try_get("cost_usd")?,
    })
}
