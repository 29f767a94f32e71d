use events::Line;
use idempotency::{Lone, Together};
use outbox::Stored;
use platform::database::DbError;
use sqlx::PgExecutor;
use sqlx::types::Json;
use uuid::Uuid;

use crate::domain::Wanted;

/// What stock answered a saga before, if it was asked before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Earlier {
    /// It took the saga's lines (they may have been given back since).
    Reserved,
    /// It refused, for this reason, and took nothing.
    Rejected(String),
}

/// The rows a saga's reservation decides on.
#[derive(Debug, Default)]
pub struct Locked {
    /// The stock of each wanted item that exists.
    pub stock: Vec<(String, i64)>,
    /// The saga's earlier answer: a step asked twice for one saga acts once.
    pub earlier: Option<Earlier>,
}

/// The stock of each of `item_ids` that exists, locked for the transaction
/// in item id order (the order every saga locks in), and what the saga was
/// answered before, in one statement.
#[tracing::instrument(skip(executor))]
pub async fn lock_for_saga(
    executor: impl PgExecutor<'_>,
    saga_id: Uuid,
    item_ids: &[&str],
) -> Result<Locked, DbError> {
    let rows = sqlx::query_as!(
        LockRow,
        r#"WITH locked AS (SELECT id, stock FROM items WHERE id = ANY($1) ORDER BY id FOR UPDATE)
           SELECT id AS "id?", stock AS "stock?", FALSE AS "reserved!", NULL::text AS "rejected?" FROM locked
           UNION ALL SELECT NULL, NULL, TRUE, NULL FROM reservations WHERE saga_id = $2
           UNION ALL SELECT NULL, NULL, FALSE, reason FROM rejections WHERE saga_id = $2"#,
        item_ids as _,
        saga_id
    )
    .fetch_all(executor)
    .await?;
    let mut locked = Locked::default();
    for row in rows {
        match row {
            LockRow {
                id: Some(id),
                stock: Some(stock),
                ..
            } => locked.stock.push((id, stock)),
            LockRow { reserved: true, .. } => locked.earlier = Some(Earlier::Reserved),
            LockRow {
                rejected: Some(reason),
                ..
            } => locked.earlier = Some(Earlier::Rejected(reason)),
            LockRow { .. } => {}
        }
    }
    Ok(locked)
}

/// A row of [`lock_for_saga`]'s answer: an item's stock, or the saga's
/// earlier answer.
struct LockRow {
    id: Option<String>,
    stock: Option<i64>,
    reserved: bool,
    rejected: Option<String>,
}

/// Records why the saga was refused, so that the saga asked again gets the
/// same answer.
#[tracing::instrument(skip(executor))]
pub async fn record_rejection(
    executor: impl PgExecutor<'_>,
    saga_id: Uuid,
    order_id: &str,
    reason: &str,
) -> Result<(), DbError> {
    sqlx::query!(
        "INSERT INTO rejections (saga_id, order_id, reason) VALUES ($1, $2, $3)",
        saga_id,
        order_id,
        reason
    )
    .execute(executor)
    .await?;
    Ok(())
}

/// Takes every wanted line from the stock and records the reservation, in
/// one statement. The caller decided on the rows it locked that the stock
/// suffices; the `CHECK` constraint stays the last line of defence.
#[tracing::instrument(skip(executor, wanted, lines))]
pub async fn take_and_reserve(
    executor: impl PgExecutor<'_>,
    saga_id: Uuid,
    order_id: &str,
    wanted: &Wanted,
    lines: &[Line],
) -> Result<(), DbError> {
    let (ids, quantities): (Vec<&str>, Vec<i64>) =
        wanted.lines.iter().map(|(id, q)| (id.as_str(), *q)).unzip();
    sqlx::query!(
        "WITH taken AS ( \
             UPDATE items SET stock = items.stock - wanted.quantity \
             FROM unnest($3::text[], $4::bigint[]) AS wanted (id, quantity) \
             WHERE items.id = wanted.id) \
         INSERT INTO reservations (saga_id, order_id, lines) VALUES ($1, $2, $5)",
        saga_id,
        order_id,
        ids as _,
        &quantities,
        Json(lines) as _
    )
    .execute(executor)
    .await?;
    Ok(())
}

/// Marks the saga's reservation released and returns its lines, or `None`
/// when there is none or it was released already.
#[tracing::instrument(skip(executor))]
pub async fn release_reservation(
    executor: impl PgExecutor<'_>,
    saga_id: Uuid,
) -> Result<Option<Vec<Line>>, DbError> {
    let lines = sqlx::query_scalar!(
        r#"UPDATE reservations SET released_at = now()
           WHERE saga_id = $1 AND released_at IS NULL RETURNING lines AS "lines: Json<Vec<Line>>""#,
        saga_id
    )
    .fetch_optional(executor)
    .await?;
    Ok(lines.map(|Json(lines)| lines))
}

/// The reservation's common case for a message that arrives alone, in one
/// statement with no transaction: locks the wanted rows in item id order,
/// and only when the message is new, the saga was not answered before and
/// every line is covered, takes the lines, records the reservation, records
/// the message in the inbox and writes `events` (its `StockReserved`).
/// Otherwise it writes nothing and answers `None`, and the caller takes the
/// transactional path, which tells those cases apart and records a
/// refusal's reason. The lock waits on a concurrent saga and then reads the
/// row as that saga left it, so the check and the take see the same stock.
#[tracing::instrument(skip(executor, lone, events, wanted, lines))]
pub async fn reserve_alone(
    executor: impl PgExecutor<'_>,
    lone: Lone<'_>,
    events: outbox::Rows,
    saga_id: Uuid,
    order_id: &str,
    wanted: &Wanted,
    lines: &[Line],
) -> Result<Option<Vec<Stored>>, DbError> {
    let (ids, quantities): (Vec<&str>, Vec<i64>) =
        wanted.lines.iter().map(|(id, q)| (id.as_str(), *q)).unzip();
    let answer = idempotency::applied_alone!(
        lone,
        events,
        "wanted AS (SELECT id, quantity FROM unnest($13::text[], $14::bigint[]) AS w (id, quantity)), \
             locked AS (SELECT id, stock FROM items WHERE id = ANY($13) ORDER BY id FOR UPDATE), \
             covered AS ( \
                 SELECT FROM unseen \
                 WHERE NOT EXISTS (SELECT 1 FROM reservations WHERE saga_id = $11) \
                   AND NOT EXISTS (SELECT 1 FROM rejections WHERE saga_id = $11) \
                   AND (SELECT count(*) FROM wanted JOIN locked USING (id) \
                        WHERE locked.stock >= wanted.quantity) = cardinality($13)), \
             taken AS ( \
                 UPDATE items SET stock = items.stock - wanted.quantity FROM wanted \
                 WHERE items.id = wanted.id AND EXISTS (SELECT 1 FROM covered)), \
             applied AS ( \
                 INSERT INTO reservations (saga_id, order_id, lines) \
                 SELECT $11::uuid, $12::text, $15::jsonb FROM covered RETURNING saga_id)",
        saga_id,
        order_id,
        &ids as _,
        &quantities,
        Json(lines) as _
    )
    .fetch_all(executor)
    .await?;
    Ok(Lone::written(events, answer))
}

/// One checkout of a batch as [`reserve_together`] takes it.
#[derive(Debug)]
pub struct Reserving<'a> {
    pub saga_id: Uuid,
    pub order_id: &'a str,
    pub wanted: &'a Wanted,
    pub lines: &'a [Line],
}

/// [`reserve_alone`] for a batch, in one statement with no transaction:
/// locks every wanted row in item id order and, only when none of the
/// messages was seen, none of the sagas was answered before and the stock
/// covers what the whole batch wants of each item, takes every line,
/// records every reservation, records the messages in the inbox and writes
/// `events` (a `StockReserved` each). Otherwise it writes nothing and
/// answers `None`, and the caller takes the transactional path, which
/// decides the checkouts one by one in order. The sagas are distinct (the
/// caller's check): a saga twice in one batch is the transaction's to
/// answer once.
#[tracing::instrument(skip_all, fields(size = checkouts.len()))]
pub async fn reserve_together(
    executor: impl PgExecutor<'_>,
    together: Together<'_>,
    events: outbox::Rows,
    checkouts: &[Reserving<'_>],
) -> Result<Option<Vec<Stored>>, DbError> {
    let saga_ids: Vec<Uuid> = checkouts.iter().map(|c| c.saga_id).collect();
    let order_ids: Vec<&str> = checkouts.iter().map(|c| c.order_id).collect();
    let reserved: Vec<Json<&[Line]>> = checkouts.iter().map(|c| Json(c.lines)).collect();
    let (ids, quantities): (Vec<&str>, Vec<i64>) = checkouts
        .iter()
        .flat_map(|c| c.wanted.lines.iter().map(|(id, q)| (id.as_str(), *q)))
        .unzip();
    let answer = idempotency::applied_together!(
        together,
        events,
        "wanted AS ( \
             SELECT id, sum(quantity)::bigint AS quantity \
             FROM unnest($13::text[], $14::bigint[]) AS w (id, quantity) GROUP BY id), \
         locked AS (SELECT id, stock FROM items WHERE id = ANY($13) ORDER BY id FOR UPDATE), \
         covered AS ( \
             SELECT FROM unseen \
             WHERE NOT EXISTS (SELECT 1 FROM reservations WHERE saga_id = ANY($11)) \
               AND NOT EXISTS (SELECT 1 FROM rejections WHERE saga_id = ANY($11)) \
               AND (SELECT count(*) FROM wanted JOIN locked USING (id) \
                    WHERE locked.stock >= wanted.quantity) = (SELECT count(*) FROM wanted)), \
         taken AS ( \
             UPDATE items SET stock = items.stock - wanted.quantity FROM wanted \
             WHERE items.id = wanted.id AND EXISTS (SELECT 1 FROM covered)), \
         applied AS ( \
             INSERT INTO reservations (saga_id, order_id, lines) \
             SELECT saga_id, order_id, lines \
             FROM unnest($11::uuid[], $12::text[], $15::jsonb[]) AS r (saga_id, order_id, lines) \
             WHERE EXISTS (SELECT 1 FROM covered) RETURNING saga_id)",
        &saga_ids,
        &order_ids as _,
        &ids as _,
        &quantities,
        &reserved as _
    )
    .fetch_all(executor)
    .await?;
    Ok(Together::written(events, answer))
}
