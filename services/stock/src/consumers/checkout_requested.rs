use chrono::Utc;
use events::{CheckoutRequested, Line, StockRejected, StockReserved};
use idempotency::HandlerError;
use platform::database::DbError;
use platform::domain::Amount;
use sqlx::{Acquire, PgConnection};

use crate::domain::ItemId;
use crate::error::StockError;
use crate::storage;

/// Takes every line of the checkout, or none: a refusal rolls the savepoint
/// back and emits `StockRejected`; success records the reservation and
/// emits `StockReserved`. Either event commits with the outcome. A database
/// fault is returned as an error, so the message is retried, not refused.
#[tracing::instrument(skip_all, fields(order_id = %event.order_id, saga_id = %event.saga_id))]
pub async fn reserve(tx: &mut PgConnection, event: CheckoutRequested) -> Result<(), HandlerError> {
    let mut lines = event.lines.clone();
    // One lock order for every saga: concurrent checkouts cannot deadlock.
    lines.sort_by(|a, b| a.item_id.cmp(&b.item_id));
    let mut attempt = tx.begin().await?;
    match take_all(&mut attempt, &lines).await? {
        Some(reason) => {
            attempt.rollback().await?;
            let rejected = StockRejected {
                order_id: event.order_id,
                saga_id: event.saga_id,
                reason,
                occurred_at: Utc::now(),
            };
            outbox::enqueue(tx, &events::message(&rejected)).await?;
        }
        None => {
            attempt.commit().await?;
            storage::insert_reservation(&mut *tx, event.saga_id, &event.order_id, &lines).await?;
            let reserved = StockReserved {
                order_id: event.order_id,
                saga_id: event.saga_id,
                user_id: event.user_id,
                total_cost: event.total_cost,
                lines: event.lines,
                occurred_at: Utc::now(),
            };
            outbox::enqueue(tx, &events::message(&reserved)).await?;
        }
    }
    Ok(())
}

/// `Some(reason)` when a line cannot be taken; the caller rolls back.
async fn take_all(tx: &mut PgConnection, lines: &[Line]) -> Result<Option<String>, DbError> {
    for line in lines {
        let item = ItemId::from_trusted(line.item_id.clone());
        let Ok(amount) = Amount::try_from(line.quantity) else {
            return Ok(Some(format!(
                "item {item}: quantity {} is negative",
                line.quantity
            )));
        };
        match storage::subtract_stock(&mut *tx, &item, amount).await {
            Ok(Some(_)) => {}
            Ok(None) => return Ok(Some(StockError::ItemNotFound(item).to_string())),
            Err(error) => match StockError::from_stock_change(error, &item, amount) {
                StockError::Database(error) => return Err(error),
                refusal => return Ok(Some(refusal.to_string())),
            },
        }
    }
    Ok(None)
}
