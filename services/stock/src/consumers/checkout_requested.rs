use chrono::Utc;
use events::{CheckoutRequested, StockRejected, StockReserved};
use idempotency::HandlerError;
use outbox::OutboxMessage;
use sqlx::PgConnection;

use crate::domain::Wanted;
use crate::storage;

/// Takes every line of the checkout, or none. The rows are locked first, in
/// item id order (no deadlocks between sagas); the decision is made on what
/// was locked, then applied in one statement: `StockReserved` with the
/// reservation, or `StockRejected` with the reason and nothing taken. Either
/// event commits with the outcome. A database fault is returned as an
/// error, so the message is retried, not refused.
#[tracing::instrument(skip_all, fields(order_id = %event.order_id, saga_id = %event.saga_id))]
pub async fn reserve(tx: &mut PgConnection, event: CheckoutRequested) -> Result<OutboxMessage, HandlerError> {
    let refusal = match Wanted::from_lines(&event.lines) {
        Err(reason) => Some(reason),
        Ok(wanted) => {
            let stock = storage::lock_stock(&mut *tx, &wanted.item_ids()).await?;
            match wanted.shortfall(&stock) {
                Some(refusal) => Some(refusal.to_string()),
                None => {
                    storage::take_and_reserve(
                        &mut *tx,
                        event.saga_id,
                        &event.order_id,
                        &wanted,
                        &event.lines,
                    )
                    .await?;
                    None
                }
            }
        }
    };
    Ok(match refusal {
        Some(reason) => events::message(&StockRejected {
            order_id: event.order_id,
            saga_id: event.saga_id,
            reason,
            occurred_at: Utc::now(),
        }),
        None => events::message(&StockReserved {
            order_id: event.order_id,
            saga_id: event.saga_id,
            user_id: event.user_id,
            total_cost: event.total_cost,
            lines: event.lines,
            occurred_at: Utc::now(),
        }),
    })
}
