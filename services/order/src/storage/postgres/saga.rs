//! The checkout saga's SQL on the order database.
use platform::database::DbError;
use sqlx::{PgConnection, PgExecutor};

use uuid::Uuid;

use crate::domain::{Ended, Order, OrderId, SagaEnd, SagaStep, TimelineEntry};

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

/// Makes the order `checking_out` under `entry`'s saga and records the
/// saga's first step in the timeline, in one statement.
pub async fn start_saga(tx: &mut PgConnection, id: &OrderId, entry: &TimelineEntry) -> Result<(), DbError> {
    sqlx::query(
        "WITH started AS ( \
             UPDATE orders SET status = 'checking_out', saga_id = $2, failure_reason = NULL WHERE id = $1) \
         INSERT INTO saga_events (order_id, saga_id, service, event, detail, occurred_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id.as_str())
    .bind(entry.saga_id)
    .bind(&entry.service)
    .bind(&entry.event)
    .bind(&entry.detail)
    .bind(entry.at)
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

/// Records every step in its order's timeline, in their order, and ends
/// the saga of each final one as paid or failed, if that saga is still the
/// order's running one: one statement for the whole batch. Returns the
/// sagas it ended.
pub async fn record_steps(tx: &mut PgConnection, steps: &[&SagaStep]) -> Result<Vec<Ended>, DbError> {
    let column = |f: fn(&SagaStep) -> String| steps.iter().map(|s| f(s)).collect::<Vec<_>>();
    let ended: Vec<(String, Uuid, Option<String>)> = sqlx::query_as(
        "WITH step AS ( \
             SELECT * FROM unnest($1::text[], $2::uuid[], $3::text[], $4::text[], $5::text[], \
                                  $6::timestamptz[], $7::bool[], $8::text[]) WITH ORDINALITY \
                 AS step (order_id, saga_id, service, event, detail, at, final, failure, n)), \
         finished AS ( \
             UPDATE orders SET status = CASE WHEN step.failure IS NULL THEN 'paid' ELSE 'failed' END, \
                               paid = (step.failure IS NULL), failure_reason = step.failure \
             FROM step \
             WHERE step.final AND orders.id = step.order_id AND orders.saga_id = step.saga_id \
               AND orders.status = 'checking_out' \
             RETURNING orders.id, orders.saga_id, orders.failure_reason), \
         timeline AS ( \
             INSERT INTO saga_events (order_id, saga_id, service, event, detail, occurred_at) \
             SELECT order_id, saga_id, service, event, detail, at FROM step ORDER BY n) \
         SELECT id, saga_id, failure_reason FROM finished",
    )
    .bind(column(|s| s.order_id.clone()))
    .bind(steps.iter().map(|s| s.entry.saga_id).collect::<Vec<_>>())
    .bind(column(|s| s.entry.service.clone()))
    .bind(column(|s| s.entry.event.clone()))
    .bind(steps.iter().map(|s| s.entry.detail.clone()).collect::<Vec<_>>())
    .bind(steps.iter().map(|s| s.entry.at).collect::<Vec<_>>())
    .bind(steps.iter().map(|s| s.outcome.is_some()).collect::<Vec<_>>())
    .bind(
        steps
            .iter()
            .map(|s| s.outcome.as_ref().and_then(SagaEnd::failure))
            .collect::<Vec<_>>(),
    )
    .fetch_all(tx)
    .await?;
    let ended = ended.into_iter().map(|(order_id, saga_id, failure)| Ended {
        order_id,
        saga_id,
        end: failure.map_or(SagaEnd::Paid, SagaEnd::Failed),
    });
    Ok(ended.collect())
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
