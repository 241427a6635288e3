//! Playground sessions in SQLite: whole documents, written at once, listed newest first and
//! searched by title and message text.

use serde_json::Value;
use sqlx::Row as _;
use sqlx::sqlite::SqlitePool;

use super::{Session, SessionSummary, StoreError};

const COLUMNS: &str = "id, title, model, system, params, messages, created_at, updated_at";

pub async fn list(
    pool: &SqlitePool,
    query: Option<&str>,
    limit: u32,
) -> Result<Vec<SessionSummary>, StoreError> {
    let rows = match query.map(str::trim).filter(|q| !q.is_empty()) {
        Some(q) => {
            let pattern = format!(
                "%{}%",
                q.replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_")
            );
            sqlx::query(
                "SELECT id, title, model, message_count, created_at, updated_at FROM sessions \
                 WHERE title LIKE ?1 ESCAPE '\\' OR messages LIKE ?1 ESCAPE '\\' \
                 ORDER BY updated_at DESC LIMIT ?2",
            )
            .bind(pattern)
            .bind(limit)
            .fetch_all(pool)
            .await?
        }
        None => {
            sqlx::query(
                "SELECT id, title, model, message_count, created_at, updated_at FROM sessions \
                 ORDER BY updated_at DESC LIMIT ?1",
            )
            .bind(limit)
            .fetch_all(pool)
            .await?
        }
    };
    rows.iter()
        .map(|r| {
            Ok(SessionSummary {
                id: r.try_get("id")?,
                title: r.try_get("title")?,
                model: r.try_get("model")?,
                message_count: r.try_get("message_count")?,
                created_at: r.try_get("created_at")?,
                updated_at: r.try_get("updated_at")?,
            })
        })
        .collect()
}

pub async fn get(pool: &SqlitePool, id: &str) -> Result<Option<Session>, StoreError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM sessions WHERE id = ?"
    )))
    .bind(id)
    .fetch_optional(pool)
    .await?;
    let Some(r) = row else { return Ok(None) };
    let json = |name: &str, default: Value| -> Result<Value, StoreError> {
        let text: String = r.try_get(name)?;
        Ok(serde_json::from_str(&text).unwrap_or(default))
    };
    Ok(Some(Session {
        id: r.try_get("id")?,
        title: r.try_get("title")?,
        model: r.try_get("model")?,
        system: r.try_get("system")?,
        params: json("params", Value::Object(serde_json::Map::new()))?,
        messages: json("messages", Value::Array(Vec::new()))?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    }))
}

/// Inserts or replaces the whole session.
pub async fn put(pool: &SqlitePool, s: &Session) -> Result<(), StoreError> {
    let count = i64::try_from(s.messages.as_array().map_or(0, Vec::len)).unwrap_or(i64::MAX);
    sqlx::query(
        "INSERT INTO sessions (id, title, model, system, params, messages, message_count, created_at, updated_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) \
         ON CONFLICT(id) DO UPDATE SET title = excluded.title, model = excluded.model, \
         system = excluded.system, params = excluded.params, messages = excluded.messages, \
         message_count = excluded.message_count, updated_at = excluded.updated_at",
    )
    .bind(&s.id)
    .bind(&s.title)
    .bind(&s.model)
    .bind(&s.system)
    .bind(s.params.to_string())
    .bind(s.messages.to_string())
    .bind(count)
    .bind(s.created_at)
    .bind(s.updated_at)
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn delete(pool: &SqlitePool, id: &str) -> Result<bool, StoreError> {
    let done = sqlx::query("DELETE FROM sessions WHERE id = ?")
        .bind(id)
        .execute(pool)
        .await?;
    Ok(done.rows_affected() > 0)
}
