use platform::database::DbError;
use platform::domain::{Amount, BatchSize};
use sqlx::{PgConnection, PgExecutor};

use crate::domain::{ItemId, StockLevel};

#[tracing::instrument(skip(executor))]
pub async fn insert_item(executor: impl PgExecutor<'_>, id: &ItemId, price: Amount) -> Result<(), DbError> {
    sqlx::query!(
        "INSERT INTO items (id, stock, price) VALUES ($1, 0, $2)",
        id.as_str(),
        price.get()
    )
    .execute(executor)
    .await?;
    Ok(())
}

#[tracing::instrument(skip(executor))]
pub async fn find_item(executor: impl PgExecutor<'_>, id: &ItemId) -> Result<Option<StockLevel>, DbError> {
    let level = sqlx::query_as!(
        StockLevel,
        "SELECT stock, price FROM items WHERE id = $1",
        id.as_str()
    )
    .fetch_optional(executor)
    .await?;
    Ok(level)
}

/// The new stock, or `None` for an unknown item. Overflow past `i64::MAX` is
/// refused by PostgreSQL as `DbError::OutOfRange`.
#[tracing::instrument(skip(executor))]
pub async fn add_stock(
    executor: impl PgExecutor<'_>,
    id: &ItemId,
    amount: Amount,
) -> Result<Option<i64>, DbError> {
    shift_stock(executor, id, amount.get()).await
}

/// The new stock, or `None` for an unknown item. The row lock serialises
/// concurrent changes and the `items_stock_not_negative` constraint refuses the one
/// that would go below zero.
#[tracing::instrument(skip(executor))]
pub async fn subtract_stock(
    executor: impl PgExecutor<'_>,
    id: &ItemId,
    amount: Amount,
) -> Result<Option<i64>, DbError> {
    // An Amount is at most i64::MAX, so its negation cannot overflow.
    shift_stock(executor, id, -amount.get()).await
}

async fn shift_stock(executor: impl PgExecutor<'_>, id: &ItemId, delta: i64) -> Result<Option<i64>, DbError> {
    let stock = sqlx::query_scalar!(
        "UPDATE items SET stock = stock + $2 WHERE id = $1 RETURNING stock",
        id.as_str(),
        delta
    )
    .fetch_optional(executor)
    .await?;
    Ok(stock)
}

/// Creates or replaces items `"0"` … `"n-1"` in one statement: the rows are
/// generated inside PostgreSQL, so 100 000 of them cost one round trip.
///
/// Then analyses the table, in the same transaction: a bulk load is when
/// statistics go stale all at once, and analysed here the table is ready
/// for the load that follows. Left to `platform::vacuum`, the analysis of
/// the 20 000 items (a burst of 40-95 ms of one core on a 2-core machine) fell
/// in the first seconds of that load.
#[tracing::instrument(skip(conn))]
pub async fn batch_init(
    conn: &mut PgConnection,
    n: BatchSize,
    stock: Amount,
    price: Amount,
) -> Result<(), DbError> {
    sqlx::query!(
        "INSERT INTO items (id, stock, price) \
         SELECT i::text, $2, $3 FROM generate_series(0, $1::bigint - 1) AS i \
         ON CONFLICT (id) DO UPDATE SET stock = EXCLUDED.stock, price = EXCLUDED.price",
        n.get(),
        stock.get(),
        price.get()
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!("ANALYZE items").execute(conn).await?;
    Ok(())
}
