use chrono::Utc;
use events::{PaymentFailed, StockReleased};
use idempotency::HandlerError;
use outbox::OutboxMessage;
use platform::domain::Amount;
use sqlx::PgConnection;

use crate::domain::ItemId;
use crate::storage;

/// The compensation: gives back what the saga took, once, and emits
/// `StockReleased` so the order service can answer the failure, knowing the
/// stock is already back.
#[tracing::instrument(skip_all, fields(order_id = %event.order_id, saga_id = %event.saga_id))]
pub async fn release(tx: &mut PgConnection, event: PaymentFailed) -> Result<OutboxMessage, HandlerError> {
    let lines = storage::release_reservation(&mut *tx, event.saga_id)
        .await?
        .unwrap_or_default();
    for line in lines {
        let item = ItemId::from_trusted(line.item_id);
        let amount = Amount::try_from(line.quantity)?;
        // The item was there when it was reserved, and items are never
        // deleted: a missing row or an overflow is a fault worth retrying.
        storage::add_stock(&mut *tx, &item, amount)
            .await?
            .ok_or_else(|| format!("item {item} vanished before its stock could be given back"))?;
    }
    let released = StockReleased {
        order_id: event.order_id,
        saga_id: event.saga_id,
        reason: event.reason,
        occurred_at: Utc::now(),
    };
    Ok(events::message(&released))
}
