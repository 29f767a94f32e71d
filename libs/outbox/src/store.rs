//! The outbox table's SQL.
use platform::database::DbError;
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use crate::message::OutboxMessage;

/// Writes `message` into the outbox inside the caller's transaction: it is
/// published if and only if that transaction commits. After the commit the
/// caller wakes its relay ([`crate::Wakeup`]). Unless the message brings its
/// own, the row keeps the current span's trace context, so that the event's
/// consumers join the caller's trace.
#[tracing::instrument(skip_all, fields(message_id = %message.message_id, event = %message.event_type))]
pub async fn enqueue(executor: &mut PgConnection, message: &OutboxMessage) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO outbox (message_id, exchange, routing_key, event_type, schema_version, \
                             aggregate_id, payload, traceparent) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(message.message_id)
    .bind(&message.exchange)
    .bind(&message.routing_key)
    .bind(&message.event_type)
    .bind(message.schema_version)
    .bind(&message.aggregate_id)
    .bind(&message.payload)
    .bind(
        message
            .traceparent
            .clone()
            .or_else(platform::telemetry::current_traceparent),
    )
    .execute(executor)
    .await?;
    Ok(())
}

/// How many events wait to be published.
pub async fn pending_count(executor: impl PgExecutor<'_>) -> Result<i64, DbError> {
    Ok(sqlx::query_scalar("SELECT count(*) FROM outbox")
        .fetch_one(executor)
        .await?)
}

/// How many events wait, and the age in seconds of the oldest (0 if none).
pub(crate) async fn backlog(executor: impl PgExecutor<'_>) -> Result<(i64, f64), DbError> {
    Ok(sqlx::query_as(
        "SELECT count(*), coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8 FROM outbox",
    )
    .fetch_one(executor)
    .await?)
}

/// A claimed row: its position (to delete it) and the message.
#[derive(Debug)]
pub(crate) struct StoredMessage {
    pub position: i64,
    pub message: OutboxMessage,
}

type Row = (
    i64,
    Uuid,
    String,
    String,
    String,
    i32,
    String,
    serde_json::Value,
    Option<String>,
);

/// Locks up to `limit` rows, oldest first, each the oldest waiting event of
/// its aggregate (its head): a row with an older row of the same aggregate
/// still in the table is left for a later step, whether that older row is
/// free or locked by another relay. So each aggregate's events go out in
/// order even with several relays, and a relay never waits on another.
///
/// The query walks the primary key from the oldest row and probes
/// `outbox_aggregate_position` once per row: its cost follows the batch, not
/// the table (the claim it replaces grouped the whole outbox every time).
pub(crate) async fn claim(tx: &mut PgConnection, limit: i64) -> Result<Vec<StoredMessage>, DbError> {
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT position, message_id, exchange, routing_key, event_type, schema_version, \
                aggregate_id, payload, traceparent \
         FROM outbox AS head \
         WHERE NOT EXISTS (SELECT 1 FROM outbox AS older \
                           WHERE older.aggregate_id = head.aggregate_id \
                             AND older.position < head.position) \
         ORDER BY position \
         LIMIT $1 \
         FOR UPDATE SKIP LOCKED",
    )
    .bind(limit)
    .fetch_all(tx)
    .await?;
    Ok(rows.into_iter().map(stored_message).collect())
}

fn stored_message(row: Row) -> StoredMessage {
    let (
        position,
        message_id,
        exchange,
        routing_key,
        event_type,
        schema_version,
        aggregate_id,
        payload,
        traceparent,
    ) = row;
    StoredMessage {
        position,
        message: OutboxMessage {
            message_id,
            exchange,
            routing_key,
            event_type,
            schema_version,
            aggregate_id,
            payload,
            traceparent,
        },
    }
}

pub(crate) async fn delete(tx: &mut PgConnection, positions: &[i64]) -> Result<(), DbError> {
    sqlx::query("DELETE FROM outbox WHERE position = ANY($1)")
        .bind(positions)
        .execute(tx)
        .await?;
    Ok(())
}
