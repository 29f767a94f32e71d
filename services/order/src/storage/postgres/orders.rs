use platform::database::DbError;
use platform::domain::{Amount, BatchSize, Quantity};
use sqlx::types::Json;
use sqlx::{PgConnection, PgExecutor};

use crate::domain::{ItemId, Order, OrderId, OrderStatus, UserId};

/// An order as its row holds it, its lines still JSON.
pub(super) struct OrderRow {
    pub order_id: String,
    pub paid: bool,
    pub items: Json<Vec<(String, i64)>>,
    pub user_id: String,
    pub total_cost: i64,
    pub status: OrderStatus,
}

impl From<OrderRow> for Order {
    fn from(row: OrderRow) -> Self {
        Order {
            order_id: row.order_id,
            paid: row.paid,
            items: row.items.0,
            user_id: row.user_id,
            total_cost: row.total_cost,
            status: row.status,
        }
    }
}

#[tracing::instrument(skip(executor))]
pub async fn insert_order(executor: impl PgExecutor<'_>, id: &OrderId, user: &UserId) -> Result<(), DbError> {
    sqlx::query!(
        "INSERT INTO orders (id, user_id) VALUES ($1, $2)",
        id.as_str(),
        user.as_str()
    )
    .execute(executor)
    .await?;
    Ok(())
}

#[tracing::instrument(skip(executor))]
pub async fn find_order(executor: impl PgExecutor<'_>, id: &OrderId) -> Result<Option<Order>, DbError> {
    let order = sqlx::query_as!(
        OrderRow,
        r#"SELECT id AS order_id, paid, items AS "items: Json<Vec<(String, i64)>>", user_id, total_cost,
                  status AS "status: OrderStatus"
           FROM orders WHERE id = $1"#,
        id.as_str()
    )
    .fetch_optional(executor)
    .await?;
    Ok(order.map(Order::from))
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
    let total = sqlx::query_scalar!(
        "UPDATE orders \
         SET items = items || jsonb_build_array(jsonb_build_array($2::text, $3::bigint)), \
             total_cost = total_cost + $4 \
         WHERE id = $1 AND status IN ('open', 'failed') \
         RETURNING total_cost",
        id.as_str(),
        item.as_str(),
        quantity.get(),
        cost.get()
    )
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
///
/// Then analyses the table, in the same transaction: a bulk load is when
/// statistics go stale all at once, and analysed here the table is ready
/// for the load that follows. Left to `platform::vacuum`, the analysis of
/// the 20 000 orders (a burst of 185-340 ms of one core on a 2-core machine,
/// done by each replica in turn) fell in the first seconds of that load.
#[tracing::instrument(skip(conn))]
pub async fn batch_init(
    conn: &mut PgConnection,
    n: BatchSize,
    n_items: BatchSize,
    n_users: BatchSize,
    total_cost: Amount,
) -> Result<u64, DbError> {
    let written = sqlx::query!(
        "INSERT INTO orders (id, user_id, paid, items, total_cost) \
         SELECT i::text, \
                floor(random() * $3::bigint)::bigint::text, \
                FALSE, \
                jsonb_build_array( \
                    jsonb_build_array(floor(random() * $2::bigint)::bigint::text, 1), \
                    jsonb_build_array(floor(random() * $2::bigint)::bigint::text, 1)), \
                $4::bigint \
         FROM generate_series(0, $1::bigint - 1) AS i \
         ON CONFLICT (id) DO UPDATE SET user_id = EXCLUDED.user_id, paid = FALSE, \
             items = EXCLUDED.items, total_cost = EXCLUDED.total_cost, \
             status = 'open', saga_id = NULL, failure_reason = NULL \
         WHERE orders.status <> 'checking_out'",
        n.get(),
        n_items.get(),
        n_users.get(),
        total_cost.get()
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!("ANALYZE orders").execute(conn).await?;
    Ok((n.get() as u64).saturating_sub(written.rows_affected()))
}
