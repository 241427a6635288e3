//! Stored Responses (`/v1/responses` with `store` on): the conversation each one ends, so a
//! later request can continue it by `previous_response_id`, and the Response object itself.

use sqlx::Row as _;
use sqlx::sqlite::SqlitePool;

use super::{StoreError, StoredResponse};

pub async fn get(pool: &SqlitePool, id: &str) -> Result<Option<StoredResponse>, StoreError> {
    let row = sqlx::query(
        "SELECT id, model, owner, items, response, created_at FROM responses WHERE id = ?",
    )
    .bind(id)
    .fetch_optional(pool)
    .await?;
    let Some(r) = row else { return Ok(None) };
    let json = |name: &str| -> Result<serde_json::Value, StoreError> {
        let text: String = r.try_get(name)?;
        Ok(serde_json::from_str(&text).unwrap_or_default())
    };
    Ok(Some(StoredResponse {
        id: r.try_get("id")?,
        model: r.try_get("model")?,
        owner: r.try_get("owner")?,
        items: json("items")?,
        response: json("response")?,
        created_at: r.try_get("created_at")?,
    }))
}

pub async fn put(pool: &SqlitePool, s: &StoredResponse) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT OR REPLACE INTO responses (id, model, owner, items, response, created_at) \
         VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(&s.id)
    .bind(&s.model)
    .bind(&s.owner)
    .bind(s.items.to_string())
    .bind(s.response.to_string())
    .bind(s.created_at)
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn delete(pool: &SqlitePool, id: &str) -> Result<bool, StoreError> {
    let done = sqlx::query("DELETE FROM responses WHERE id = ?")
        .bind(id)
        .execute(pool)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Deletes responses made before `before` (unix ms), as the request log's retention does.
pub async fn purge_before(pool: &SqlitePool, before: i64) -> Result<u64, StoreError> {
    let done = sqlx::query("DELETE FROM responses WHERE created_at < ?")
        .bind(before)
        .execute(pool)
        .await?;
    Ok(done.rows_affected())
}
