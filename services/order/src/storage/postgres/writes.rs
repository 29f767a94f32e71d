use async_trait::async_trait;
use platform::database::DbError;
use platform::domain::{Amount, BatchSize, Quantity};
use sqlx::PgConnection;

use super::orders;
use crate::domain::{ItemId, Order, OrderId, UserId};
use crate::error::OrderError;
use crate::storage::OrderWrites;

/// A request's writes on the connection (or inside the transaction) that
/// `idempotency::http::execute` hands it.
#[derive(Debug)]
pub struct PgWrites<'c> {
    pub conn: &'c mut PgConnection,
}

#[async_trait]
impl OrderWrites for PgWrites<'_> {
    async fn insert_order(&mut self, id: &OrderId, user: &UserId) -> Result<(), OrderError> {
        Ok(orders::insert_order(&mut *self.conn, id, user).await?)
    }

    async fn find_order(&mut self, id: &OrderId) -> Result<Option<Order>, OrderError> {
        Ok(orders::find_order(&mut *self.conn, id).await?)
    }

    async fn append_line(
        &mut self,
        id: &OrderId,
        item: &ItemId,
        quantity: Quantity,
        cost: Amount,
    ) -> Result<Option<i64>, OrderError> {
        match orders::append_line(&mut *self.conn, id, item, quantity, cost).await {
            Err(DbError::OutOfRange) => Err(OrderError::CostOverflow(id.clone())),
            other => Ok(other?),
        }
    }

    async fn batch_init(
        &mut self,
        n: BatchSize,
        n_items: BatchSize,
        n_users: BatchSize,
        total_cost: Amount,
    ) -> Result<u64, OrderError> {
        Ok(orders::batch_init(&mut *self.conn, n, n_items, n_users, total_cost).await?)
    }
}
