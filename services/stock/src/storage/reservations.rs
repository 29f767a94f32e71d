use events::Line;
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
    let rows: Vec<LockRow> = sqlx::query_as(
        "WITH locked AS (SELECT id, stock FROM items WHERE id = ANY($1) ORDER BY id FOR UPDATE) \
         SELECT id, stock, FALSE AS reserved, NULL::text AS rejected FROM locked \
         UNION ALL SELECT NULL, NULL, TRUE, NULL FROM reservations WHERE saga_id = $2 \
         UNION ALL SELECT NULL, NULL, FALSE, reason FROM rejections WHERE saga_id = $2",
    )
    .bind(item_ids)
    .bind(saga_id)
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
#[derive(sqlx::FromRow)]
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
    sqlx::query("INSERT INTO rejections (saga_id, order_id, reason) VALUES ($1, $2, $3)")
        .bind(saga_id)
        .bind(order_id)
        .bind(reason)
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
    sqlx::query(
        "WITH taken AS ( \
             UPDATE items SET stock = items.stock - wanted.quantity \
             FROM unnest($3::text[], $4::bigint[]) AS wanted (id, quantity) \
             WHERE items.id = wanted.id) \
         INSERT INTO reservations (saga_id, order_id, lines) VALUES ($1, $2, $5)",
    )
    .bind(saga_id)
    .bind(order_id)
    .bind(ids)
    .bind(quantities)
    .bind(Json(lines))
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
    let lines: Option<Json<Vec<Line>>> = sqlx::query_scalar(
        "UPDATE reservations SET released_at = now() \
         WHERE saga_id = $1 AND released_at IS NULL RETURNING lines",
    )
    .bind(saga_id)
    .fetch_optional(executor)
    .await?;
    Ok(lines.map(|Json(lines)| lines))
}
