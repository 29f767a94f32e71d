use std::collections::HashSet;
use std::future::Future;

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
/// database: the inbox row and the handler's effect share one transaction.
#[derive(Debug)]
pub struct PgInbox<H> {
    pool: PgPool,
    handler: H,
}

impl<H: Handler> PgInbox<H> {
    pub fn new(pool: PgPool, handler: H) -> Self {
        PgInbox { pool, handler }
    }
}

impl<H: Handler> ApplyOnce for PgInbox<H> {
    async fn apply_once(&self, consumer: &str, message: &IncomingMessage) -> Result<Outcome, HandlerError> {
        let mut tx = self.pool.begin().await?;
        if !crate::inbox::record(&mut tx, consumer, message.message_id).await? {
            return Ok(Outcome::Duplicate);
        }
        self.handler.handle(&mut tx, message).await?;
        tx.commit().await?;
        Ok(Outcome::Applied)
    }

    /// One transaction, one inbox statement and one commit for the whole
    /// batch; a message id seen before (or twice in the batch) is skipped.
    async fn apply_batch(&self, consumer: &str, batch: &[Batched]) -> Result<Vec<Outcome>, HandlerError> {
        let mut tx = self.pool.begin().await?;
        let ids: Vec<_> = batch.iter().map(|item| item.message.message_id).collect();
        let mut fresh: HashSet<_> = crate::inbox::record_all(&mut tx, consumer, &ids)
            .await?
            .into_iter()
            .collect();
        let mut outcomes = Vec::with_capacity(batch.len());
        for item in batch {
            if fresh.remove(&item.message.message_id) {
                let handled = self.handler.handle(&mut tx, &item.message);
                handled.instrument(item.span.clone()).await?;
                outcomes.push(Outcome::Applied);
            } else {
                outcomes.push(Outcome::Duplicate);
            }
        }
        tx.commit().await?;
        Ok(outcomes)
    }
}
