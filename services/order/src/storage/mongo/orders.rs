//! Reading orders, and `batch_init`'s bulk writes.
use mongodb::bson::{self, Document, doc};
use platform::domain::{Amount, BatchSize};

use super::documents::{OrderDocument, StateDocument, TimelineDocument};
use super::setup::Collections;
use crate::domain::{Order, OrderId, OrderState, OrderStatus, TimelineEntry};
use crate::error::OrderError;

/// Orders written per round trip by `batch_init`: about a megabyte.
const BATCH_CHUNK: i64 = 10_000;

/// The order without its timeline, which only the status endpoint reads.
pub fn without_timeline() -> Document {
    doc! { "timeline": 0 }
}

pub fn order_of(document: Option<Document>) -> Result<Option<Order>, OrderError> {
    let Some(document) = document else {
        return Ok(None);
    };
    let order: OrderDocument = bson::from_document(document).map_err(mongodb::error::Error::from)?;
    Ok(Some(order.into()))
}

pub async fn find(collections: &Collections, id: &OrderId) -> Result<Option<Order>, OrderError> {
    let found = collections
        .orders
        .find_one(doc! { "_id": id.as_str() })
        .projection(without_timeline())
        .await?;
    order_of(found)
}

pub async fn order_state(collections: &Collections, id: &OrderId) -> Result<Option<OrderState>, OrderError> {
    let found = collections
        .orders
        .find_one(doc! { "_id": id.as_str() })
        .projection(doc! { "status": 1, "failure_reason": 1 })
        .await?;
    let Some(found) = found else {
        return Ok(None);
    };
    let state: StateDocument = bson::from_document(found).map_err(mongodb::error::Error::from)?;
    Ok(Some(state.into()))
}

pub async fn timeline(collections: &Collections, id: &OrderId) -> Result<Vec<TimelineEntry>, OrderError> {
    let found = collections
        .orders
        .find_one(doc! { "_id": id.as_str() })
        .projection(doc! { "timeline": 1 })
        .await?;
    let Some(lines) = found.and_then(|order| order.get_array("timeline").ok().cloned()) else {
        return Ok(Vec::new());
    };
    lines
        .into_iter()
        .map(|line| {
            let line: TimelineDocument = bson::from_bson(line).map_err(mongodb::error::Error::from)?;
            Ok(line.into())
        })
        .collect()
}

/// Replaces orders `"0"` … `"n-1"` chunk by chunk: each chunk's ids are
/// deleted, then inserted afresh with random users and items. An order
/// being checked out is left as it is; returns how many were. (One whose
/// checkout starts between the two steps makes the insert fail on its id:
/// nothing of it is lost, and `batch_init` answers 503.)
pub async fn replace_batch(
    collections: &Collections,
    n: BatchSize,
    n_items: BatchSize,
    n_users: BatchSize,
    total_cost: Amount,
) -> Result<u64, OrderError> {
    let mut start = 0;
    let mut left = 0;
    while start < n.get() {
        let end = (start + BATCH_CHUNK).min(n.get());
        let ids: Vec<String> = (start..end).map(|i| i.to_string()).collect();
        let busy: Vec<bson::Bson> = collections
            .orders
            .distinct(
                "_id",
                doc! { "_id": { "$in": &ids }, "status": OrderStatus::CheckingOut },
            )
            .await?;
        let busy: std::collections::HashSet<&str> = busy.iter().filter_map(bson::Bson::as_str).collect();
        left += busy.len() as u64;
        let documents = ids
            .iter()
            .filter(|id| !busy.contains(id.as_str()))
            .map(|id| batch_order(id, n_items, n_users, total_cost))
            .collect::<Result<Vec<_>, _>>()
            .map_err(mongodb::error::Error::from)?;
        collections
            .orders
            .delete_many(doc! { "_id": { "$in": &ids }, "status": { "$ne": OrderStatus::CheckingOut } })
            .await?;
        if !documents.is_empty() {
            collections.orders.insert_many(documents).ordered(false).await?;
        }
        start = end;
    }
    Ok(left)
}

fn batch_order(
    id: &str,
    n_items: BatchSize,
    n_users: BatchSize,
    total_cost: Amount,
) -> Result<Document, bson::ser::Error> {
    let pick = |n: BatchSize| fastrand::i64(0..n.get()).to_string();
    let mut order = OrderDocument::new(id, &pick(n_users));
    order.items = vec![(pick(n_items), 1), (pick(n_items), 1)];
    order.total_cost = total_cost.get();
    bson::to_document(&order)
}
