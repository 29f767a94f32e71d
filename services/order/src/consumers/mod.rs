//! The order service's part of the checkout saga: the events that end a
//! saga, each recorded in the order's timeline as it ends the saga.
use std::sync::Arc;

use events::{Event, OrderQueueEvent};
use idempotency::{ApplyOnce, Batched, HandlerError, IncomingMessage, Outcome};
use uuid::Uuid;

use crate::domain::{SagaEnd, SagaStep, TimelineEntry};
use crate::storage::OrderStore;
use crate::waiters::Waiters;

/// Applies the order queue's events to the store, each at most once, and
/// tells the waiting checkouts how their sagas ended.
#[derive(Debug, Clone)]
pub struct SagaConsumer {
    pub store: Arc<dyn OrderStore>,
    /// This replica's waiting checkouts.
    pub waiters: Waiters,
}

impl SagaConsumer {
    /// Records the steps, then answers the checkouts waiting here at once
    /// and announces the other ended sagas to the other replicas.
    async fn apply(&self, consumer: &str, steps: &[(Uuid, SagaStep)]) -> Result<Vec<Outcome>, HandlerError> {
        let applied = self.store.apply_steps(consumer, steps).await?;
        let unheard = self.waiters.settle(&applied.ended);
        self.store.announce(&unheard).await;
        Ok(applied.outcomes)
    }
}

impl ApplyOnce for SagaConsumer {
    async fn apply_once(&self, consumer: &str, message: &IncomingMessage) -> Result<Outcome, HandlerError> {
        let step = read(message)?;
        let mut outcomes = self.apply(consumer, &[(message.message_id, step)]).await?;
        Ok(outcomes.pop().unwrap_or(Outcome::Duplicate))
    }

    async fn apply_batch(&self, consumer: &str, batch: &[Batched]) -> Result<Vec<Outcome>, HandlerError> {
        let steps = batch
            .iter()
            .map(|item| Ok((item.message.message_id, read(&item.message)?)))
            .collect::<Result<Vec<_>, HandlerError>>()?;
        self.apply(consumer, &steps).await
    }
}

/// The step an event of the order queue stands for.
pub fn read(message: &IncomingMessage) -> Result<SagaStep, HandlerError> {
    let event = OrderQueueEvent::decode(&message.event_type, message.schema_version, &message.body)?;
    let step = match event {
        OrderQueueEvent::StockRejected(event) => step(event, |e| {
            (
                e.order_id,
                e.saga_id,
                e.occurred_at,
                Some(SagaEnd::Failed(e.reason.clone())),
                Some(e.reason),
            )
        }),
        OrderQueueEvent::PaymentSucceeded(event) => step(event, |e| {
            (
                e.order_id,
                e.saga_id,
                e.occurred_at,
                Some(SagaEnd::Paid),
                Some(format!("charged {}", e.amount)),
            )
        }),
        OrderQueueEvent::StockReleased(event) => step(event, |e| {
            (
                e.order_id,
                e.saga_id,
                e.occurred_at,
                Some(SagaEnd::Failed(e.reason.clone())),
                Some(e.reason),
            )
        }),
    };
    Ok(step)
}

type Fields = (
    String,
    Uuid,
    chrono::DateTime<chrono::Utc>,
    Option<SagaEnd>,
    Option<String>,
);

fn step<E: Event>(event: E, fields: impl FnOnce(E) -> Fields) -> SagaStep {
    let (order_id, saga_id, at, outcome, detail) = fields(event);
    let entry = TimelineEntry {
        saga_id,
        service: E::EXCHANGE.to_owned(),
        event: E::NAME.to_owned(),
        detail,
        at,
    };
    SagaStep {
        order_id,
        entry,
        outcome,
    }
}
