//! The order service's part of the checkout saga: it records every step in
//! the order's timeline and ends the saga on a final event.
use events::{Event, PaymentFailed, PaymentSucceeded, StockRejected, StockReleased, StockReserved};
use idempotency::{Handler, HandlerError, IncomingMessage};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::storage::saga;

/// Handles the order queue.
#[derive(Debug, Clone)]
pub struct SagaHandler;

/// What the order service reads from any saga event.
struct Step {
    order_id: String,
    saga_id: Uuid,
    occurred_at: chrono::DateTime<chrono::Utc>,
    /// `Some(None)`: paid; `Some(Some(reason))`: failed; `None`: not final.
    outcome: Option<Option<String>>,
    detail: Option<String>,
}

impl Handler for SagaHandler {
    async fn handle(&self, tx: &mut PgConnection, message: &IncomingMessage) -> Result<(), HandlerError> {
        let (service, step) = read(message)?;
        saga::record_step(
            &mut *tx,
            &step.order_id,
            step.saga_id,
            service,
            &message.event_type,
            step.detail.as_deref(),
            step.occurred_at,
        )
        .await?;
        if let Some(failure) = step.outcome {
            saga::finish_saga(tx, &step.order_id, step.saga_id, failure.as_deref()).await?;
        }
        Ok(())
    }
}

fn read(message: &IncomingMessage) -> Result<(&'static str, Step), HandlerError> {
    let (version, body) = (message.schema_version, message.body.as_slice());
    let step = match message.event_type.as_str() {
        StockReserved::NAME => step(events::decode::<StockReserved>(version, body)?, |e| {
            (e.order_id, e.saga_id, e.occurred_at, None, None)
        }),
        StockRejected::NAME => step(events::decode::<StockRejected>(version, body)?, |e| {
            (
                e.order_id,
                e.saga_id,
                e.occurred_at,
                Some(Some(e.reason.clone())),
                Some(e.reason),
            )
        }),
        PaymentSucceeded::NAME => step(events::decode::<PaymentSucceeded>(version, body)?, |e| {
            (
                e.order_id,
                e.saga_id,
                e.occurred_at,
                Some(None),
                Some(format!("charged {}", e.amount)),
            )
        }),
        PaymentFailed::NAME => step(events::decode::<PaymentFailed>(version, body)?, |e| {
            (e.order_id, e.saga_id, e.occurred_at, None, Some(e.reason))
        }),
        StockReleased::NAME => step(events::decode::<StockReleased>(version, body)?, |e| {
            (
                e.order_id,
                e.saga_id,
                e.occurred_at,
                Some(Some(e.reason.clone())),
                Some(e.reason),
            )
        }),
        other => return Err(format!("the order service does not handle {other} events").into()),
    };
    Ok(step)
}

type Fields = (
    String,
    Uuid,
    chrono::DateTime<chrono::Utc>,
    Option<Option<String>>,
    Option<String>,
);

fn step<E: Event>(event: E, fields: impl FnOnce(E) -> Fields) -> (&'static str, Step) {
    let (order_id, saga_id, occurred_at, outcome, detail) = fields(event);
    let step = Step {
        order_id,
        saga_id,
        occurred_at,
        outcome,
        detail,
    };
    (E::EXCHANGE, step)
}
