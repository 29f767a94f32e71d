use std::collections::HashSet;
use std::future::Future;

use outbox::Handoff;
use platform::database::DbError;
use sqlx::PgPool;
use tracing::Instrument;
use uuid::Uuid;

use super::{Handler, HandlerError, IncomingMessage, Lone, Outcome, Together, WrittenRow};

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

impl<H: Handler> ApplyOnce for PgInbox<H> {
    async fn apply_once(&self, consumer: &str, message: &IncomingMessage) -> Result<Outcome, HandlerError> {
        if self.applied_alone(consumer, message).await {
            return Ok(Outcome::Applied);
        }
        let span = tracing::Span::current();
        let mut outcomes = self.apply_all(consumer, &[(message, &span)]).await?;
        Ok(outcomes.pop().unwrap_or(Outcome::Duplicate))
    }

    async fn apply_batch(&self, consumer: &str, batch: &[Batched]) -> Result<Vec<Outcome>, HandlerError> {
        let messages: Vec<_> = batch.iter().map(|item| (&item.message, &item.span)).collect();
        if self.applied_together(consumer, &messages).await {
            return Ok(vec![Outcome::Applied; messages.len()]);
        }
        self.apply_all(consumer, &messages).await
    }
}

impl<H: Handler> PgInbox<H> {
    /// Whether the handler's one-statement form applied the message. When
    /// it did not, it wrote nothing, and the transactional path decides;
    /// an error (a fault, a message it could not read) is left to that
    /// path too, which classifies and reports it.
    async fn applied_alone(&self, consumer: &str, message: &IncomingMessage) -> bool {
        let lone = Lone { consumer, message };
        self.took(self.handler.handle_alone(&self.pool, lone).await)
    }

    /// Whether the handler's one-statement form for a batch applied every
    /// message of it; as [`Self::applied_alone`], it wrote nothing when it
    /// did not. A batch that repeats a message id is not offered to it.
    async fn applied_together(
        &self,
        consumer: &str,
        messages: &[(&IncomingMessage, &tracing::Span)],
    ) -> bool {
        let ids: HashSet<Uuid> = messages.iter().map(|(message, _)| message.message_id).collect();
        if ids.len() < messages.len() {
            return false;
        }
        let together = Together { consumer, messages };
        self.took(self.handler.handle_together(&self.pool, together).await)
    }

    /// Hands off what a one-statement form wrote; `false` when it wrote
    /// nothing.
    fn took(&self, written: Result<Option<Vec<outbox::Stored>>, HandlerError>) -> bool {
        match written {
            Ok(Some(stored)) => {
                self.hand_off(stored);
                true
            }
            Ok(None) => false,
            Err(error) => {
                tracing::debug!(%error, "a one-statement form failed; applying in a transaction");
                false
            }
        }
    }

    /// Applies the messages once each: first as if none had been applied
    /// before, which is the common case and a round trip cheaper; when one
    /// had been (or that attempt failed), by checking the inbox first.
    async fn apply_all(
        &self,
        consumer: &str,
        messages: &[(&IncomingMessage, &tracing::Span)],
    ) -> Result<Vec<Outcome>, HandlerError> {
        match self.apply_all_unseen(consumer, messages).await {
            Ok(Some(outcomes)) => Ok(outcomes),
            Ok(None) => self.apply_all_checked(consumer, messages).await,
            Err(error) => {
                tracing::debug!(%error, "applying as unseen failed; checking the inbox first");
                self.apply_all_checked(consumer, messages).await
            }
        }
    }

    /// One transaction: every handler, then one statement that records the
    /// message ids in the inbox and writes the events, then the commit.
    /// `None`, with everything rolled back, when a message id was recorded
    /// before (or repeats in the batch): its effect must not be applied
    /// twice.
    async fn apply_all_unseen(
        &self,
        consumer: &str,
        messages: &[(&IncomingMessage, &tracing::Span)],
    ) -> Result<Option<Vec<Outcome>>, HandlerError> {
        let ids: Vec<Uuid> = messages.iter().map(|(message, _)| message.message_id).collect();
        if ids.iter().collect::<HashSet<_>>().len() < ids.len() {
            return Ok(None);
        }
        let mut tx = self.pool.begin().await?;
        let emitted = self.handle_all(&mut tx, messages.iter().copied()).await?;
        let rows = outbox::Rows::new(emitted);
        // Rows with a position are the events written; rows without, the
        // message ids recorded now.
        let written = outbox::query_inserting!(
            WrittenRow,
            rows,
            ["WITH "],
            "",
            [r#", recorded AS (
                     INSERT INTO inbox (consumer, message_id) SELECT $9, unnest($10::uuid[])
                     ON CONFLICT DO NOTHING RETURNING message_id)
                 SELECT position, message_id AS "message_id!", older FROM stored
                 UNION ALL
                 SELECT NULL, message_id, NULL FROM recorded"#],
            consumer,
            &ids
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(DbError::from)?;
        let recorded = written.iter().filter(|row| row.position.is_none()).count();
        if recorded < ids.len() {
            tx.rollback().await.map_err(DbError::from)?;
            return Ok(None);
        }
        tx.commit().await.map_err(DbError::from)?;
        let inserted = written.into_iter().filter_map(WrittenRow::inserted).collect();
        self.hand_off(rows.stored(inserted));
        Ok(Some(vec![Outcome::Applied; messages.len()]))
    }

    /// One transaction, one inbox statement, one outbox statement and one
    /// commit for any number of messages, each handled in its span; a
    /// message id seen before (or twice among them) is skipped, and when
    /// every one is, nothing is committed.
    async fn apply_all_checked(
        &self,
        consumer: &str,
        messages: &[(&IncomingMessage, &tracing::Span)],
    ) -> Result<Vec<Outcome>, HandlerError> {
        let mut tx = self.pool.begin().await?;
        let ids: Vec<_> = messages.iter().map(|(message, _)| message.message_id).collect();
        let fresh = crate::inbox::record_all(&mut tx, consumer, &ids).await?;
        if !fresh.contains(&true) {
            return Ok(vec![Outcome::Duplicate; messages.len()]);
        }
        let unseen = messages.iter().zip(&fresh).filter(|(_, fresh)| **fresh);
        let emitted = self
            .handle_all(&mut tx, unseen.map(|(message, _)| *message))
            .await?;
        let stored = outbox::enqueue_all(&mut tx, emitted).await?;
        tx.commit().await?;
        self.hand_off(stored);
        Ok(fresh.into_iter().map(Outcome::recorded_now).collect())
    }

    /// Runs the handler of each message, in order, each in its span; the
    /// events they emit carry that span's trace.
    async fn handle_all<'m>(
        &self,
        tx: &mut sqlx::PgConnection,
        messages: impl Iterator<Item = (&'m IncomingMessage, &'m tracing::Span)>,
    ) -> Result<Vec<outbox::OutboxMessage>, HandlerError> {
        let mut emitted = Vec::new();
        for (message, span) in messages {
            let events = self.handler.handle(tx, message).instrument(span.clone()).await?;
            emitted.extend(events.into_iter().map(|event| event.traced_by(span)));
        }
        Ok(emitted)
    }
}
