//! The payment service's part of the checkout saga.
mod stock_reserved;

use events::{Event, PaymentQueueEvent, StockReserved};
use idempotency::{Handler, HandlerError, IncomingMessage, Lone, Together};
use outbox::{OutboxMessage, Stored};
use sqlx::{PgConnection, PgPool};

/// Handles the payment queue: charges for reservations.
#[derive(Debug, Clone)]
pub struct CheckoutHandler;

impl Handler for CheckoutHandler {
    async fn handle(
        &self,
        tx: &mut PgConnection,
        message: &IncomingMessage,
    ) -> Result<Vec<OutboxMessage>, HandlerError> {
        match PaymentQueueEvent::decode(&message.event_type, message.schema_version, &message.body)? {
            PaymentQueueEvent::StockReserved(event) => Ok(vec![stock_reserved::charge(tx, event).await?]),
        }
    }

    async fn handle_alone(&self, pool: &PgPool, lone: Lone<'_>) -> Result<Option<Vec<Stored>>, HandlerError> {
        let message = lone.message;
        match message.event_type.as_str() {
            StockReserved::NAME => {
                let event = events::decode(message.schema_version, &message.body)?;
                stock_reserved::charge_alone(pool, lone, event).await
            }
            _ => Ok(None),
        }
    }

    async fn handle_together(
        &self,
        pool: &PgPool,
        together: Together<'_>,
    ) -> Result<Option<Vec<Stored>>, HandlerError> {
        let mut reserved = Vec::with_capacity(together.messages.len());
        for (message, span) in together.messages {
            if message.event_type != StockReserved::NAME {
                return Ok(None);
            }
            let event: StockReserved = events::decode(message.schema_version, &message.body)?;
            reserved.push((event, *span));
        }
        stock_reserved::charge_together(pool, together, reserved).await
    }
}
