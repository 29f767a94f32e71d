//! The outbox table's reads for the relay: which rows may go out now.
use crate::message::OutboxMessage;
use crate::store::Stored;
use platform::database::DbError;
use sqlx::{PgConnection, PgExecutor};

/// How many events wait to be published.
pub async fn pending_count(executor: impl PgExecutor<'_>) -> Result<i64, DbError> {
    Ok(sqlx::query_scalar!(r#"SELECT count(*) AS "count!" FROM outbox"#)
        .fetch_one(executor)
        .await?)
}

/// How many events wait, and the age in seconds of the oldest (0 if none).
pub(crate) async fn backlog(executor: impl PgExecutor<'_>) -> Result<(i64, f64), DbError> {
    let backlog = sqlx::query!(
        r#"SELECT count(*) AS "count!",
                  coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8 AS "oldest_age!"
           FROM outbox"#
    )
    .fetch_one(executor)
    .await?;
    Ok((backlog.count, backlog.oldest_age))
}

/// Has PostgreSQL end the caller's transaction, and so release its claim,
/// once it has sat idle for `after`: a relay that hangs while it holds rows
/// holds them no longer than that.
pub(crate) async fn end_if_idle(tx: &mut PgConnection, after: std::time::Duration) -> Result<(), DbError> {
    sqlx::query!(
        "SELECT set_config('idle_in_transaction_session_timeout', $1, true)",
        after.as_millis().to_string()
    )
    .fetch_one(tx)
    .await?;
    Ok(())
}

/// Locks up to `limit` rows committed at least `min_age_secs` ago, oldest
/// first, each the oldest waiting event of its aggregate (its head): a row
/// with an older row of the same aggregate still in the table is left for a
/// later step, whether that older row is free or locked by another relay.
/// So each aggregate's events go out in order even with several relays, and
/// a relay never waits on another.
///
/// The query walks the primary key from the oldest row and probes
/// `outbox_aggregate_position` once per row: its cost follows the batch, not
/// the table.
pub(crate) async fn claim(
    tx: &mut PgConnection,
    limit: i64,
    min_age_secs: f64,
) -> Result<Vec<Stored>, DbError> {
    let rows = sqlx::query!(
        "SELECT position, message_id, exchange, routing_key, event_type, schema_version, \
                aggregate_id, payload, traceparent \
         FROM outbox AS head \
         WHERE created_at <= now() - make_interval(secs => $2) \
           AND NOT EXISTS (SELECT 1 FROM outbox AS older \
                           WHERE older.aggregate_id = head.aggregate_id \
                             AND older.position < head.position) \
         ORDER BY position \
         LIMIT $1 \
         FOR UPDATE SKIP LOCKED",
        limit,
        min_age_secs
    )
    .fetch_all(tx)
    .await?;
    let rows = rows
        .into_iter()
        .map(|row| {
            let message = OutboxMessage {
                message_id: row.message_id,
                exchange: row.exchange,
                routing_key: row.routing_key,
                event_type: row.event_type,
                schema_version: row.schema_version,
                aggregate_id: row.aggregate_id,
                payload: row.payload,
                traceparent: row.traceparent,
            };
            Stored::new(row.position, message)
        })
        .collect();
    Ok(rows)
}
