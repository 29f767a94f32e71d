//! The inbox: which consumer has applied which message.
use platform::database::DbError;
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

/// Records that `consumer` applies `message_id`, inside the caller's
/// transaction. `false` when it was recorded before: the caller must then
/// skip the effect. A concurrent duplicate waits on the primary key until
/// the first transaction ends, then sees the row.
#[tracing::instrument(skip(tx))]
pub async fn record(tx: &mut PgConnection, consumer: &str, message_id: Uuid) -> Result<bool, DbError> {
    let inserted =
        sqlx::query("INSERT INTO inbox (consumer, message_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(consumer)
            .bind(message_id)
            .execute(tx)
            .await?;
    Ok(inserted.rows_affected() == 1)
}

/// Deletes records older than `retention_secs`; returns how many.
pub async fn prune(executor: impl PgExecutor<'_>, retention_secs: f64) -> Result<u64, DbError> {
    let deleted = sqlx::query("DELETE FROM inbox WHERE processed_at < now() - make_interval(secs => $1)")
        .bind(retention_secs)
        .execute(executor)
        .await?;
    Ok(deleted.rows_affected())
}
