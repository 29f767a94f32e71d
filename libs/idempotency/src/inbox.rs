//! The inbox: which consumer has applied which message.
use std::collections::HashSet;

use platform::database::DbError;
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

/// Records that `consumer` applies `message_id`, inside the caller's
/// transaction. `false` when it was recorded before: the caller must then
/// skip the effect. A concurrent duplicate waits on the primary key until
/// the first transaction ends, then sees the row.
#[tracing::instrument(skip(tx))]
pub async fn record(tx: &mut PgConnection, consumer: &str, message_id: Uuid) -> Result<bool, DbError> {
    let inserted = sqlx::query!(
        "INSERT INTO inbox (consumer, message_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        consumer,
        message_id
    )
    .execute(tx)
    .await?;
    Ok(inserted.rows_affected() == 1)
}

/// [`record`] for each of `message_ids`, in one statement: for each, in
/// order, `true` when it was recorded now and the caller must apply it,
/// `false` when it was recorded before, or is repeated earlier in the list.
#[tracing::instrument(skip_all, fields(consumer, count = message_ids.len()))]
pub async fn record_all(
    tx: &mut PgConnection,
    consumer: &str,
    message_ids: &[Uuid],
) -> Result<Vec<bool>, DbError> {
    if let [message_id] = message_ids {
        // The single-row form: unpacking an array costs more than it saves.
        return Ok(vec![record(tx, consumer, *message_id).await?]);
    }
    let recorded = sqlx::query_scalar!(
        "INSERT INTO inbox (consumer, message_id) SELECT $1, unnest($2::uuid[]) \
         ON CONFLICT DO NOTHING RETURNING message_id",
        consumer,
        message_ids
    )
    .fetch_all(tx)
    .await?;
    let mut fresh: HashSet<Uuid> = recorded.into_iter().collect();
    Ok(message_ids.iter().map(|id| fresh.remove(id)).collect())
}

/// Deletes records older than `retention_secs`; returns how many.
pub async fn prune(executor: impl PgExecutor<'_>, retention_secs: f64) -> Result<u64, DbError> {
    let deleted = sqlx::query!(
        "DELETE FROM inbox WHERE processed_at < now() - make_interval(secs => $1)",
        retention_secs
    )
    .execute(executor)
    .await?;
    Ok(deleted.rows_affected())
}
