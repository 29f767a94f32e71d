//! The checkout saga's SQL on the order database.
use platform::database::DbError;
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use crate::domain::{Order, OrderId, TimelineEntry};

/// The channel the order consumer notifies when a saga ends; every order
/// replica listens, so whichever holds the client's request answers it.
pub const OUTCOME_CHANNEL: &str = "checkout_outcome";

/// The order, locked for the transaction.
pub async fn lock_for_checkout(tx: &mut PgConnection, id: &OrderId) -> Result<Option<Order>, DbError> {
    let order = sqlx::query_as(
        "SELECT id AS order_id, paid, items, user_id, total_cost, status FROM orders \
         WHERE id = $1 FOR UPDATE",
    )
    .bind(id.as_str())
    .fetch_optional(tx)
    .await?;
    Ok(order)
}

pub async fn start_saga(tx: &mut PgConnection, id: &OrderId, saga_id: Uuid) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE orders SET status = 'checking_out', saga_id = $2, failure_reason = NULL WHERE id = $1",
    )
    .bind(id.as_str())
    .bind(saga_id)
    .execute(tx)
    .await?;
    Ok(())
}

/// Status and failure reason, read without locking.
pub async fn outcome(
    executor: impl PgExecutor<'_>,
    id: &OrderId,
) -> Result<Option<(String, Option<String>)>, DbError> {
    let row = sqlx::query_as("SELECT status, failure_reason FROM orders WHERE id = $1")
        .bind(id.as_str())
        .fetch_optional(executor)
        .await?;
    Ok(row)
}

/// Ends the saga `saga_id` of the order as paid or failed, if it is still the
/// running one, and notifies every replica.
pub async fn finish_saga(
    tx: &mut PgConnection,
    order_id: &str,
    saga_id: Uuid,
    failure: Option<&str>,
) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE orders SET status = CASE WHEN $3::text IS NULL THEN 'paid' ELSE 'failed' END, \
                           paid = ($3::text IS NULL), failure_reason = $3 \
         WHERE id = $1 AND saga_id = $2 AND status = 'checking_out'",
    )
    .bind(order_id)
    .bind(saga_id)
    .bind(failure)
    .execute(&mut *tx)
    .await?;
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(OUTCOME_CHANNEL)
        .bind(order_id)
        .execute(tx)
        .await?;
    Ok(())
}

pub async fn record_step(
    executor: impl PgExecutor<'_>,
    order_id: &str,
    entry: &TimelineEntry,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO saga_events (order_id, saga_id, service, event, detail, occurred_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(order_id)
    .bind(entry.saga_id)
    .bind(&entry.service)
    .bind(&entry.event)
    .bind(&entry.detail)
    .bind(entry.at)
    .execute(executor)
    .await?;
    Ok(())
}

pub async fn timeline(executor: impl PgExecutor<'_>, id: &OrderId) -> Result<Vec<TimelineEntry>, DbError> {
    let entries = sqlx::query_as(
        "SELECT saga_id, service, event, detail, occurred_at AS at FROM saga_events \
         WHERE order_id = $1 ORDER BY id",
    )
    .bind(id.as_str())
    .fetch_all(executor)
    .await?;
    Ok(entries)
}
