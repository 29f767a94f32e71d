//! The stock service's part of the checkout saga, one file per event.
mod checkout_requested;
mod payment_failed;

use events::{CheckoutRequested, Event, StockQueueEvent};
use idempotency::{Handler, HandlerError, IncomingMessage, Lone, Together};
use outbox::{OutboxMessage, Stored};
use sqlx::{PgConnection, PgPool};

/// Handles the stock queue: reserves for checkouts, releases for failed
/// payments.
#[derive(Debug, Clone)]
pub struct CheckoutHandler;

impl Handler for CheckoutHandler {
    async fn handle(
        &self,
        tx: &mut PgConnection,
        message: &IncomingMessage,
    ) -> Result<Vec<OutboxMessage>, HandlerError> {
        let event = StockQueueEvent::decode(&message.event_type, message.schema_version, &message.body)?;
        let emitted = match event {
            StockQueueEvent::CheckoutRequested(event) => checkout_requested::reserve(tx, event).await?,
            StockQueueEvent::PaymentFailed(event) => payment_failed::release(tx, event).await?,
        };
        Ok(vec![emitted])
    }

    async fn handle_alone(&self, pool: &PgPool, lone: Lone<'_>) -> Result<Option<Vec<Stored>>, HandlerError> {
        let message = lone.message;
        match message.event_type.as_str() {
            CheckoutRequested::NAME => {
                let event = events::decode(message.schema_version, &message.body)?;
                checkout_requested::reserve_alone(pool, lone, event).await
            }
            _ => Ok(None),
        }
    }

    /// A batch of checkouts only: a batch that also releases is applied in
    /// its transaction, in delivery order.
    async fn handle_together(
        &self,
        pool: &PgPool,
        together: Together<'_>,
    ) -> Result<Option<Vec<Stored>>, HandlerError> {
        let mut requested = Vec::with_capacity(together.messages.len());
        for (message, span) in together.messages {
            if message.event_type != CheckoutRequested::NAME {
                return Ok(None);
            }
            let event: CheckoutRequested = events::decode(message.schema_version, &message.body)?;
            requested.push((event, *span));
        }
        checkout_requested::reserve_together(pool, together, requested).await
    }
}
