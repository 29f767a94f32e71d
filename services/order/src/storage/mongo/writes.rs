//! A request's writes, in the session (and transaction) of its
//! `Idempotency-Key`.
use async_trait::async_trait;
use mongodb::ClientSession;
use mongodb::bson::{self, doc};
use mongodb::options::ReturnDocument;
use platform::domain::{Amount, BatchSize, Quantity};

use super::documents::OrderDocument;
use super::orders::{self, without_timeline};
use super::setup::Collections;
use crate::domain::{ItemId, Order, OrderId, OrderStatus, UserId};
use crate::error::OrderError;
use crate::storage::OrderWrites;

#[derive(Debug)]
pub struct MongoWrites<'s> {
    pub collections: &'s Collections,
    pub session: &'s mut ClientSession,
}

#[async_trait]
impl OrderWrites for MongoWrites<'_> {
    async fn insert_order(&mut self, id: &OrderId, user: &UserId) -> Result<(), OrderError> {
        let document = bson::to_document(&OrderDocument::new(id.as_str(), user.as_str()))
            .map_err(mongodb::error::Error::from)?;
        self.collections
            .orders
            .insert_one(document)
            .session(&mut *self.session)
            .await?;
        Ok(())
    }

    async fn find_order(&mut self, id: &OrderId) -> Result<Option<Order>, OrderError> {
        let found = self
            .collections
            .orders
            .find_one(doc! { "_id": id.as_str() })
            .projection(without_timeline())
            .session(&mut *self.session)
            .await?;
        orders::order_of(found)
    }

    /// The total's bound is part of the filter, so an overflowing line
    /// changes nothing; the order is read again to tell that apart.
    async fn append_line(
        &mut self,
        id: &OrderId,
        item: &ItemId,
        quantity: Quantity,
        cost: Amount,
    ) -> Result<Option<i64>, OrderError> {
        let filter = doc! {
            "_id": id.as_str(),
            "status": { "$in": [OrderStatus::Open, OrderStatus::Failed] },
            "total_cost": { "$lte": i64::MAX - cost.get() },
        };
        let update = doc! {
            "$push": { "items": [item.as_str(), quantity.get()] },
            "$inc": { "total_cost": cost.get() },
        };
        let updated = self
            .collections
            .orders
            .find_one_and_update(filter, update)
            .return_document(ReturnDocument::After)
            .projection(doc! { "total_cost": 1 })
            .session(&mut *self.session)
            .await?;
        if let Some(total) = updated.and_then(|order| order.get_i64("total_cost").ok()) {
            return Ok(Some(total));
        }
        match self.find_order(id).await? {
            Some(order) if order.status.may_start_checkout() => Err(OrderError::CostOverflow(id.clone())),
            _ => Ok(None),
        }
    }

    /// Outside the transaction: a batch of millions of orders is far beyond
    /// what one transaction may write. Replacing the same ids again is
    /// harmless, so a retried request only redraws its random choices.
    async fn batch_init(
        &mut self,
        n: BatchSize,
        n_items: BatchSize,
        n_users: BatchSize,
        total_cost: Amount,
    ) -> Result<u64, OrderError> {
        orders::replace_batch(self.collections, n, n_items, n_users, total_cost).await
    }
}
