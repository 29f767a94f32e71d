use std::collections::HashSet;
use std::future::Future;

use outbox::{Handoff, OutboxMessage};
use sqlx::PgPool;
use tracing::Instrument;

use super::{Handler, HandlerError, IncomingMessage, Outcome};

/// A message of a batch, with the span it is handled in: the events its
/// handler enqueues carry that span's trace on.
#[derive(Debug)]
pub struct Batched {
    pub message: IncomingMessage,
    pub span: tracing::Span,
}

/// Applies a message's effect at most once, wherever the effect is stored:
/// the message id is recorded with the effect, atomically, so a message seen
/// before is skipped. The consumer acks only after this returns `Ok`.
pub trait ApplyOnce: Send + Sync + 'static {
    /// `consumer` names the inbox the message id is recorded in (the queue).
    fn apply_once<'a>(
        &'a self,
        consumer: &'a str,
        message: &'a IncomingMessage,
    ) -> impl Future<Output = Result<Outcome, HandlerError>> + Send + 'a;

    /// Applies every message of `batch`, in order, all or none: one outcome
    /// per message. On `Err` nothing was applied, and the consumer applies
    /// the messages one at a time, so that a message that cannot be applied
    /// is retried or parked alone. A store that cannot do better applies
    /// them one by one (the default), which is not all-or-none but is safe
    /// all the same: each applied message is recorded, and a retry skips it.
    fn apply_batch<'a>(
        &'a self,
        consumer: &'a str,
        batch: &'a [Batched],
    ) -> impl Future<Output = Result<Vec<Outcome>, HandlerError>> + Send + 'a {
        async move {
            let mut outcomes = Vec::with_capacity(batch.len());
            for item in batch {
                let applied = self.apply_once(consumer, &item.message);
                outcomes.push(applied.instrument(item.span.clone()).await?);
            }
            Ok(outcomes)
        }
    }
}

/// A [`Handler`] applied once through the `inbox` table of a PostgreSQL
/// database: the inbox row, the handler's effect and the events it emits
/// share one transaction.
#[derive(Debug)]
pub struct PgInbox<H> {
    pool: PgPool,
    handler: H,
    /// Where the emitted events go after the commit: the process's relay.
    /// Without one, they wait in the outbox for a relay's sweep.
    handoff: Option<Handoff>,
}

impl<H: Handler> PgInbox<H> {
    pub fn new(pool: PgPool, handler: H) -> Self {
        PgInbox {
            pool,
            handler,
            handoff: None,
        }
    }

    pub fn handing_off_to(mut self, handoff: Handoff) -> Self {
        self.handoff = Some(handoff);
        self
    }

    fn hand_off(&self, stored: Vec<outbox::Stored>) {
        if let Some(handoff) = &self.handoff {
            handoff.committed(stored);
        }
    }
}

/// Events emitted while handling a message carry the trace of the span it
/// was handled in, so that their consumers join that trace.
fn traced(mut events: Vec<OutboxMessage>, span: &tracing::Span) -> Vec<OutboxMessage> {
    for event in &mut events {
        if event.traceparent.is_none() {
            event.traceparent = span.in_scope(platform::telemetry::current_traceparent);
        }
    }
    events
}

impl<H: Handler> ApplyOnce for PgInbox<H> {
    async fn apply_once(&self, consumer: &str, message: &IncomingMessage) -> Result<Outcome, HandlerError> {
        let mut tx = self.pool.begin().await?;
        if !crate::inbox::record(&mut tx, consumer, message.message_id).await? {
            return Ok(Outcome::Duplicate);
        }
        let events = self.handler.handle(&mut tx, message).await?;
        let events = traced(events, &tracing::Span::current());
        let stored = outbox::enqueue_all(&mut tx, events).await?;
        tx.commit().await?;
        self.hand_off(stored);
        Ok(Outcome::Applied)
    }

    /// One transaction, one inbox statement, one outbox statement and one
    /// commit for the whole batch; a message id seen before (or twice in the
    /// batch) is skipped.
    async fn apply_batch(&self, consumer: &str, batch: &[Batched]) -> Result<Vec<Outcome>, HandlerError> {
        let mut tx = self.pool.begin().await?;
        let ids: Vec<_> = batch.iter().map(|item| item.message.message_id).collect();
        let mut fresh: HashSet<_> = crate::inbox::record_all(&mut tx, consumer, &ids)
            .await?
            .into_iter()
            .collect();
        let mut outcomes = Vec::with_capacity(batch.len());
        let mut emitted = Vec::new();
        for item in batch {
            if fresh.remove(&item.message.message_id) {
                let handled = self.handler.handle(&mut tx, &item.message);
                let events = handled.instrument(item.span.clone()).await?;
                emitted.extend(traced(events, &item.span));
                outcomes.push(Outcome::Applied);
            } else {
                outcomes.push(Outcome::Duplicate);
            }
        }
        let stored = outbox::enqueue_all(&mut tx, emitted).await?;
        tx.commit().await?;
        self.hand_off(stored);
        Ok(outcomes)
    }
}
