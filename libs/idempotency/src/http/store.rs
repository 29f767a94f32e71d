use platform::database::DbError;
use sqlx::{PgConnection, PgExecutor};

/// An answer stored under a key: the request it answered, its status and
/// JSON body.
#[derive(Debug, Clone)]
pub struct SavedAnswer {
    pub fingerprint: String,
    pub status: i16,
    pub body: serde_json::Value,
}

/// Claims `key` for this request inside the caller's transaction. `false`
/// when the key exists already; a concurrent request with the same key waits
/// here until the first one's transaction ends.
pub(super) async fn claim(tx: &mut PgConnection, key: &str, fingerprint: &str) -> Result<bool, DbError> {
    let inserted = sqlx::query!(
        "INSERT INTO idempotency_keys (key, fingerprint, status, body) VALUES ($1, $2, 0, 'null') \
         ON CONFLICT DO NOTHING",
        key,
        fingerprint
    )
    .execute(tx)
    .await?;
    Ok(inserted.rows_affected() == 1)
}

pub(super) async fn save(
    tx: &mut PgConnection,
    key: &str,
    status: u16,
    body: &serde_json::Value,
) -> Result<(), DbError> {
    sqlx::query!(
        "UPDATE idempotency_keys SET status = $2, body = $3 WHERE key = $1",
        key,
        status as i16,
        body
    )
    .execute(tx)
    .await?;
    Ok(())
}

pub(super) async fn load(executor: impl PgExecutor<'_>, key: &str) -> Result<Option<SavedAnswer>, DbError> {
    let answer = sqlx::query_as!(
        SavedAnswer,
        "SELECT fingerprint, status, body FROM idempotency_keys WHERE key = $1",
        key
    )
    .fetch_optional(executor)
    .await?;
    Ok(answer)
}

/// Deletes keys older than `retention_secs`; returns how many.
pub async fn prune(executor: impl PgExecutor<'_>, retention_secs: f64) -> Result<u64, DbError> {
    let deleted = sqlx::query!(
        "DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(secs => $1)",
        retention_secs
    )
    .execute(executor)
    .await?;
    Ok(deleted.rows_affected())
}
