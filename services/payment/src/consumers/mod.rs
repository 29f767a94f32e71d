//! The payment service's part of the checkout saga.
mod stock_reserved;

use events::{Event, StockReserved};
use idempotency::{Handler, HandlerError, IncomingMessage};
use outbox::OutboxMessage;
use sqlx::PgConnection;

/// Handles the payment queue: charges for reservations.
#[derive(Debug, Clone)]
pub struct CheckoutHandler;

impl Handler for CheckoutHandler {
    async fn handle(
        &self,
        tx: &mut PgConnection,
        message: &IncomingMessage,
    ) -> Result<Vec<OutboxMessage>, HandlerError> {
        match message.event_type.as_str() {
            StockReserved::NAME => {
                let event = events::decode(message.schema_version, &message.body)?;
                Ok(vec![stock_reserved::charge(tx, event).await?])
            }
            other => Err(format!("the payment service does not handle {other} events").into()),
        }
    }
}
