//! The checkout saga's SQL on the order database.
use std::collections::HashSet;

use platform::database::DbError;
use sqlx::PgExecutor;
use sqlx::types::Json;
use uuid::Uuid;

use super::orders::OrderRow;

use crate::domain::{Ended, Order, OrderId, OrderState, OrderStatus, SagaEnd, SagaStep, TimelineEntry};

/// If `read` is still the order as stored, makes it `checking_out` under
/// `entry`'s saga, records the saga's first step in the timeline, enters the
/// saga in `running_sagas` and writes `request` (its event) into the outbox:
/// one statement, atomic with no
/// transaction around it, so one round trip. `None` when the order changed
/// since it was read (another checkout started a saga, or a line was added)
/// and nothing was written: the caller decides again on a fresh read.
pub async fn start_saga(
    executor: impl PgExecutor<'_>,
    read: &Order,
    entry: &TimelineEntry,
    request: &outbox::Rows,
) -> Result<Option<Vec<outbox::InsertedRow>>, DbError> {
    let inserted = outbox::query_inserting!(
        outbox::InsertedRow,
        request,
        ["WITH started AS ( \
              UPDATE orders SET status = 'checking_out', saga_id = $10, failure_reason = NULL \
              WHERE id = $9 AND status = $15 AND total_cost = $16 AND items = $17 \
              RETURNING id), "],
        "WHERE EXISTS (SELECT 1 FROM started)",
        [r#", timeline AS (
                INSERT INTO saga_events (order_id, saga_id, service, event, detail, occurred_at)
                SELECT $9, $10, $11, $12, $13, $14 WHERE EXISTS (SELECT 1 FROM started)),
              running AS (
                INSERT INTO running_sagas (saga_id, order_id)
                SELECT $10, $9 WHERE EXISTS (SELECT 1 FROM started))
            SELECT position AS "position!", message_id AS "message_id!", older AS "older!" FROM stored"#],
        &read.order_id,
        entry.saga_id,
        &entry.service,
        &entry.event,
        entry.detail.as_deref() as _,
        entry.at,
        read.status as _,
        read.total_cost,
        Json(&read.items) as _
    )
    .fetch_all(executor)
    .await?;
    Ok((!inserted.is_empty()).then_some(inserted))
}

/// A saga that made no progress for a while, and the order it runs for.
#[derive(Debug)]
pub struct Stalled {
    pub order: Order,
    pub saga_id: Uuid,
}

/// Claims up to `limit` sagas driven last more than `after` ago (the
/// longest stalled first) and marks them driven now, for the caller's
/// transaction: a watchdog on another replica skips them, and they are due
/// again only `after` from now. An entry whose order no longer runs that
/// saga (it ended, or the order was replaced) is dropped.
pub async fn claim_stalled(
    executor: impl PgExecutor<'_>,
    after: std::time::Duration,
    limit: i64,
) -> Result<Vec<Stalled>, DbError> {
    let stalled = sqlx::query!(
        r#"WITH due AS (
             SELECT r.saga_id, r.order_id, EXISTS (
                 SELECT 1 FROM orders o
                 WHERE o.id = r.order_id AND o.saga_id = r.saga_id AND o.status = 'checking_out') AS runs
             FROM running_sagas r
             WHERE r.driven_at < now() - make_interval(secs => $1)
             ORDER BY r.driven_at LIMIT $2
             FOR UPDATE OF r SKIP LOCKED),
         gone AS (DELETE FROM running_sagas WHERE saga_id IN (SELECT saga_id FROM due WHERE NOT runs)),
         driven AS (
             UPDATE running_sagas SET driven_at = now()
             WHERE saga_id IN (SELECT saga_id FROM due WHERE runs)
             RETURNING saga_id, order_id)
         SELECT o.id AS order_id, o.paid, o.items AS "items: Json<Vec<(String, i64)>>", o.user_id,
                o.total_cost, o.status AS "status: OrderStatus", driven.saga_id
         FROM driven JOIN orders o ON o.id = driven.order_id"#,
        after.as_secs_f64(),
        limit
    )
    .fetch_all(executor)
    .await?;
    Ok(stalled
        .into_iter()
        .map(|row| Stalled {
            saga_id: row.saga_id,
            order: Order::from(OrderRow {
                order_id: row.order_id,
                paid: row.paid,
                items: row.items,
                user_id: row.user_id,
                total_cost: row.total_cost,
                status: row.status,
            }),
        })
        .collect())
}

/// Adds `entries` to their orders' timelines.
pub async fn record_entries(
    executor: impl PgExecutor<'_>,
    entries: &[(String, TimelineEntry)],
) -> Result<(), DbError> {
    let column = |f: fn(&(String, TimelineEntry)) -> String| entries.iter().map(f).collect::<Vec<_>>();
    sqlx::query!(
        "INSERT INTO saga_events (order_id, saga_id, service, event, detail, occurred_at) \
         SELECT * FROM unnest($1::text[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::timestamptz[])",
        &column(|(order, _)| order.clone()),
        &entries.iter().map(|(_, e)| e.saga_id).collect::<Vec<_>>(),
        &column(|(_, e)| e.service.clone()),
        &column(|(_, e)| e.event.clone()),
        &entries.iter().map(|(_, e)| e.detail.clone()).collect::<Vec<_>>() as _,
        &entries.iter().map(|(_, e)| e.at).collect::<Vec<_>>()
    )
    .execute(executor)
    .await?;
    Ok(())
}

/// Status and failure reason, read without locking.
pub async fn order_state(executor: impl PgExecutor<'_>, id: &OrderId) -> Result<Option<OrderState>, DbError> {
    let row = sqlx::query_as!(
        OrderState,
        r#"SELECT status AS "status: OrderStatus", failure_reason FROM orders WHERE id = $1"#,
        id.as_str()
    )
    .fetch_optional(executor)
    .await?;
    Ok(row)
}

/// What recording a batch of steps did: for each step, in order, whether
/// its message was fresh (`false`: applied before, or repeated earlier in
/// the batch), and the sagas it ended.
#[derive(Debug, Default)]
pub struct Recorded {
    pub fresh: Vec<bool>,
    pub ended: Vec<Ended>,
}

/// A row of [`record_steps`]'s answer: a message id recorded now, or a saga
/// ended.
#[derive(Debug)]
struct RecordedRow {
    message_id: Option<Uuid>,
    order_id: Option<String>,
    saga_id: Option<Uuid>,
    failure_reason: Option<String>,
}

/// Applies each step whose message `consumer` has not applied before: one
/// statement, so one round trip and atomic with no transaction around it.
/// It records the message ids in the inbox (the `idempotency` crate's
/// table), adds each fresh step to its order's timeline in order, and ends
/// the saga of each fresh final step as paid or failed, if that saga is
/// still the order's running one (and takes it out of `running_sagas`).
///
/// The answer's rows are of two kinds: a message id recorded now, or a saga
/// ended (order, saga, failure reason).
pub async fn record_steps(
    executor: impl PgExecutor<'_>,
    consumer: &str,
    steps: &[(Uuid, SagaStep)],
) -> Result<Recorded, DbError> {
    let column = |f: fn(&SagaStep) -> String| steps.iter().map(|(_, s)| f(s)).collect::<Vec<_>>();
    let rows = sqlx::query_as!(
        RecordedRow,
        r#"WITH step AS (
             SELECT * FROM unnest($2::uuid[], $3::text[], $4::uuid[], $5::text[], $6::text[], $7::text[],
                                  $8::timestamptz[], $9::bool[], $10::text[]) WITH ORDINALITY
                 AS step (message_id, order_id, saga_id, service, event, detail, at, final, failure, n)),
         recorded AS (
             INSERT INTO inbox (consumer, message_id) SELECT DISTINCT $1, message_id FROM step
             ON CONFLICT DO NOTHING RETURNING message_id),
         fresh AS (
             SELECT DISTINCT ON (message_id) step.* FROM step JOIN recorded USING (message_id)
             ORDER BY message_id, n),
         finished AS (
             UPDATE orders SET status = CASE WHEN fresh.failure IS NULL THEN 'paid' ELSE 'failed' END,
                               paid = (fresh.failure IS NULL), failure_reason = fresh.failure
             FROM fresh
             WHERE fresh.final AND orders.id = fresh.order_id AND orders.saga_id = fresh.saga_id
               AND orders.status = 'checking_out'
             RETURNING orders.id, orders.saga_id, orders.failure_reason),
         stopped AS (
             DELETE FROM running_sagas WHERE saga_id IN (SELECT saga_id FROM finished)),
         timeline AS (
             INSERT INTO saga_events (order_id, saga_id, service, event, detail, occurred_at)
             SELECT order_id, saga_id, service, event, detail, at FROM fresh ORDER BY n)
         SELECT message_id AS "message_id?", NULL::text AS "order_id?", NULL::uuid AS "saga_id?",
                NULL::text AS "failure_reason?"
         FROM recorded
         UNION ALL
         SELECT NULL::uuid, id, saga_id, failure_reason FROM finished"#,
        consumer,
        &steps.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
        &column(|s| s.order_id.clone()),
        &steps.iter().map(|(_, s)| s.entry.saga_id).collect::<Vec<_>>(),
        &column(|s| s.entry.service.clone()),
        &column(|s| s.entry.event.clone()),
        &steps
            .iter()
            .map(|(_, s)| s.entry.detail.clone())
            .collect::<Vec<_>>() as _,
        &steps.iter().map(|(_, s)| s.entry.at).collect::<Vec<_>>(),
        &steps.iter().map(|(_, s)| s.outcome.is_some()).collect::<Vec<_>>(),
        &steps
            .iter()
            .map(|(_, s)| s.outcome.as_ref().and_then(SagaEnd::failure))
            .collect::<Vec<_>>() as _
    )
    .fetch_all(executor)
    .await?;
    let mut recorded = HashSet::new();
    let mut ended = Vec::new();
    for row in rows {
        if let Some(message_id) = row.message_id {
            recorded.insert(message_id);
        } else if let (Some(order_id), Some(saga_id)) = (row.order_id, row.saga_id) {
            let end = row.failure_reason.map_or(SagaEnd::Paid, SagaEnd::Failed);
            ended.push(Ended {
                order_id,
                saga_id,
                end,
            });
        }
    }
    let fresh = steps.iter().map(|(id, _)| recorded.remove(id)).collect();
    Ok(Recorded { fresh, ended })
}

pub async fn timeline(executor: impl PgExecutor<'_>, id: &OrderId) -> Result<Vec<TimelineEntry>, DbError> {
    let entries = sqlx::query_as!(
        TimelineEntry,
        "SELECT saga_id, service, event, detail, occurred_at AS at FROM saga_events \
         WHERE order_id = $1 ORDER BY id",
        id.as_str()
    )
    .fetch_all(executor)
    .await?;
    Ok(entries)
}
