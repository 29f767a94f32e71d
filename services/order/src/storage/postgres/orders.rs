use platform::database::DbError;
use platform::domain::{Amount, BatchSize, Quantity};
use sqlx::PgExecutor;

use crate::domain::{ItemId, Order, OrderId, UserId};

#[tracing::instrument(skip(executor))]
pub async fn insert_order(executor: impl PgExecutor<'_>, id: &OrderId, user: &UserId) -> Result<(), DbError> {
    sqlx::query("INSERT INTO orders (id, user_id) VALUES ($1, $2)")
        .bind(id.as_str())
        .bind(user.as_str())
        .execute(executor)
        .await?;
    Ok(())
}

#[tracing::instrument(skip(executor))]
pub async fn find_order(executor: impl PgExecutor<'_>, id: &OrderId) -> Result<Option<Order>, DbError> {
    let order = sqlx::query_as(
        "SELECT id AS order_id, paid, items, user_id, total_cost, status FROM orders WHERE id = $1",
    )
    .bind(id.as_str())
    .fetch_optional(executor)
    .await?;
    Ok(order)
}

/// Appends a line and adds its cost, unless the order is paid or being
/// checked out. Returns the new total, or `None` when no such order exists. A total beyond
/// `i64::MAX` is refused by PostgreSQL as `DbError::OutOfRange`.
#[tracing::instrument(skip(executor))]
pub async fn append_line(
    executor: impl PgExecutor<'_>,
    id: &OrderId,
    item: &ItemId,
    quantity: Quantity,
    cost: Amount,
) -> Result<Option<i64>, DbError> {
    let total = sqlx::query_scalar(
        "UPDATE orders \
         SET items = items || jsonb_build_array(jsonb_build_array($2::text, $3::bigint)), \
             total_cost = total_cost + $4 \
         WHERE id = $1 AND status IN ('open', 'failed') \
         RETURNING total_cost",
    )
    .bind(id.as_str())
    .bind(item.as_str())
    .bind(quantity.get())
    .bind(cost.get())
    .fetch_optional(executor)
    .await?;
    Ok(total)
}

/// Creates or replaces orders `"0"` … `"n-1"` in one statement, each unpaid,
/// for a random user of `0..n_users`, with two random items of `0..n_items`
/// of quantity one: the rows are generated inside PostgreSQL, so 100 000 of
/// them cost one round trip. An order being checked out is left as it is
/// (its saga's last event must find it as the saga left it); returns how
/// many were.
#[tracing::instrument(skip(executor))]
pub async fn batch_init(
    executor: impl PgExecutor<'_>,
    n: BatchSize,
    n_items: BatchSize,
    n_users: BatchSize,
    total_cost: Amount,
) -> Result<u64, DbError> {
    let written = sqlx::query(
        "INSERT INTO orders (id, user_id, paid, items, total_cost) \
         SELECT i::text, \
                floor(random() * $3)::bigint::text, \
                FALSE, \
                jsonb_build_array( \
                    jsonb_build_array(floor(random() * $2)::bigint::text, 1), \
                    jsonb_build_array(floor(random() * $2)::bigint::text, 1)), \
                $4 \
         FROM generate_series(0, $1 - 1) AS i \
         ON CONFLICT (id) DO UPDATE SET user_id = EXCLUDED.user_id, paid = FALSE, \
             items = EXCLUDED.items, total_cost = EXCLUDED.total_cost, \
             status = 'open', saga_id = NULL, failure_reason = NULL \
         WHERE orders.status <> 'checking_out'",
    )
    .bind(n.get())
    .bind(n_items.get())
    .bind(n_users.get())
    .bind(total_cost.get())
    .execute(executor)
    .await?;
    Ok((n.get() as u64).saturating_sub(written.rows_affected()))
}
