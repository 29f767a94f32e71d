use events::Line;
use platform::database::DbError;
use sqlx::PgExecutor;
use sqlx::types::Json;
use uuid::Uuid;

use crate::domain::Wanted;

/// The stock of each of `item_ids` that exists, locked for the transaction
/// in item id order (the order every saga locks in).
#[tracing::instrument(skip(executor))]
pub async fn lock_stock(
    executor: impl PgExecutor<'_>,
    item_ids: &[&str],
) -> Result<Vec<(String, i64)>, DbError> {
    let stock = sqlx::query_as("SELECT id, stock FROM items WHERE id = ANY($1) ORDER BY id FOR UPDATE")
        .bind(item_ids)
        .fetch_all(executor)
        .await?;
    Ok(stock)
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
